import { Type } from '@sinclair/typebox';
import sharp from 'sharp';
import { AppError } from '../../errors.js';
import { addRef, releaseRef, trackUpload } from '../../platform/blobs/refs.js';
import type { Migration } from '../../platform/db/migrate.js';
import type { App, BastideModule, Platform } from '../../platform/module.js';
import { authorizeRead, resolvePath } from './commands.js';
import { driveTarget, DriveRefT } from './access.js';
import { cleanPath } from './names.js';
import { SNIFF_BYTES, sniff } from './previews.js';

/**
 * Image thumbnails. One thumbnail per source blob (keyed by its SHA-256, so identical files share it),
 * made with sharp: EXIF orientation applied, metadata stripped (sharp keeps none unless asked), at most
 * THUMB_SIZE px on the longer side, WebP. The thumbnail is a blob of its own, referenced once by its row
 * (refs.ts); when the source blob loses its last reference, the next thumbnail job releases it.
 *
 * Made by the durable job `drive.thumbnail`, enqueued when a file is created or replaced; the route makes
 * a missing one at once (same idempotent function) so a first view never waits for the queue.
 */
export interface DriveThumbnailsTable {
  source_sha256: string;
  /** null when the source could not be made into a thumbnail (not an image, too large, broken). */
  thumb_sha256: string | null;
  status: string;
  width: number;
  height: number;
  created_at: number;
}

declare module '../../platform/db/schema.js' {
  interface Database {
    drive_thumbnails: DriveThumbnailsTable;
  }
}

export const thumbnailMigrations: Migration[] = [
  {
    id: '0003_thumbnails',
    async up(db) {
      await db.schema
        .createTable('drive_thumbnails')
        .addColumn('source_sha256', 'text', (c) => c.primaryKey())
        .addColumn('thumb_sha256', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('width', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('height', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
];

export const THUMB_SIZE = 320;
/** Decompression-bomb guard: images with more pixels than this are not decoded. */
export const MAX_INPUT_PIXELS = 40_000_000;
/** Sources larger than this are not read into memory for a thumbnail. */
export const MAX_SOURCE_BYTES = 64 * 1024 * 1024;
export const THUMBNAIL_JOB = 'drive.thumbnail';

type ThumbRow = DriveThumbnailsTable;

async function readBlob(platform: Platform, sha256: string, end?: number): Promise<Buffer> {
  const stream = await platform.blobs.get(sha256, end === undefined ? undefined : { start: 0, end });
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** Renders a thumbnail (throws on input sharp refuses: broken, too many pixels, not a raster image). */
export async function renderThumbnail(input: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error', animated: false })
    .rotate()
    .resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 72 })
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

async function record(platform: Platform, row: ThumbRow, thumbSize = 0): Promise<ThumbRow> {
  const now = platform.clock.now();
  return platform.transaction(async (trx) => {
    const res = await trx.insertInto('drive_thumbnails').values(row).onConflict((oc) => oc.column('source_sha256').doNothing()).executeTakeFirst();
    // Only the writer whose row went in holds the reference (two makers racing add one reference in all).
    if (Number(res.numInsertedOrUpdatedRows ?? 0) === 1 && row.thumb_sha256) await addRef(trx, { sha256: row.thumb_sha256, size: thumbSize }, now);
    return trx.selectFrom('drive_thumbnails').selectAll().where('source_sha256', '=', row.source_sha256).executeTakeFirstOrThrow();
  });
}

/** The thumbnail row of a source blob, made now when missing. Idempotent. */
export async function ensureThumbnail(platform: Platform, source: { sha256: string; size: number; name: string }): Promise<ThumbRow> {
  const existing = await platform.db.selectFrom('drive_thumbnails').selectAll().where('source_sha256', '=', source.sha256).executeTakeFirst();
  if (existing) return existing;
  const now = platform.clock.now();
  const failed: ThumbRow = { source_sha256: source.sha256, thumb_sha256: null, status: 'failed', width: 0, height: 0, created_at: now };
  if (source.size === 0 || source.size > MAX_SOURCE_BYTES) return record(platform, failed);
  const head = await readBlob(platform, source.sha256, Math.min(source.size, SNIFF_BYTES) - 1);
  // Only raster images proven by their magic bytes (never SVG: sharp would render it with librsvg).
  const sniffed = sniff(head, source.name, source.size <= SNIFF_BYTES);
  if (sniffed?.kind !== 'image') return record(platform, failed);
  let thumb: { data: Buffer; width: number; height: number };
  try {
    thumb = await renderThumbnail(await readBlob(platform, source.sha256));
  } catch (e) {
    platform.log.info({ sha256: source.sha256, err: (e as Error).message }, 'no thumbnail for this image');
    return record(platform, failed);
  }
  const info = await platform.blobs.put(thumb.data);
  await trackUpload(platform.db, info, now);
  return record(platform, { source_sha256: source.sha256, thumb_sha256: info.sha256, status: 'ready', width: thumb.width, height: thumb.height, created_at: now }, info.size);
}

/** Releases the thumbnails of sources nothing references any more (bounded batch); how many went. */
export async function releaseOrphanThumbnails(platform: Platform, batch = 100): Promise<number> {
  const rows = await platform.db
    .selectFrom('drive_thumbnails as t')
    .leftJoin('blobs as b', 'b.sha256', 't.source_sha256')
    .select(['t.source_sha256', 't.thumb_sha256'])
    .where((eb) => eb.or([eb('b.sha256', 'is', null), eb('b.refcount', '=', 0)]))
    .limit(batch)
    .execute();
  let n = 0;
  const now = platform.clock.now();
  for (const r of rows) {
    await platform.transaction(async (trx) => {
      const res = await trx.deleteFrom('drive_thumbnails').where('source_sha256', '=', r.source_sha256).executeTakeFirst();
      if (Number(res.numDeletedRows) !== 1) return;
      n++;
      if (r.thumb_sha256) await releaseRef(trx, r.thumb_sha256, now);
    });
  }
  return n;
}

const IMAGE_EXT = /\.(png|jpe?g|gif|webp|avif|tiff?|heic|heif)$/i;
export const isImageLike = (name: string, contentType: string): boolean => contentType.startsWith('image/') || IMAGE_EXT.test(name);

export const thumbnailJobs: NonNullable<BastideModule['jobs']> = {
  [THUMBNAIL_JOB]: {
    handler: (platform) => async (payload) => {
      const sha256 = typeof payload.sha256 === 'string' ? payload.sha256 : '';
      const name = typeof payload.name === 'string' ? payload.name : '';
      const blob = await platform.db.selectFrom('blobs').select(['size', 'refcount']).where('sha256', '=', sha256).executeTakeFirst();
      if (blob && Number(blob.refcount) > 0) await ensureThumbnail(platform, { sha256, size: Number(blob.size), name });
      await releaseOrphanThumbnails(platform);
    },
    options: { maxAttempts: 3 },
  },
};

/** A created or replaced image gets its thumbnail made in the background. */
export const thumbnailEvents: NonNullable<BastideModule['events']> = [
  {
    topic: /^drive\.node\.(created|updated)$/,
    async handle(event, platform) {
      if (!platform.config.roles.includes('jobs')) return;
      const id = event.data.id;
      if (typeof id !== 'string') return;
      const node = await platform.db.selectFrom('drive_nodes').select(['kind', 'name', 'content_type', 'blob_sha256', 'deleted_at']).where('id', '=', id).executeTakeFirst();
      if (!node || node.kind !== 'file' || !node.blob_sha256 || node.deleted_at !== null || !isImageLike(node.name, node.content_type)) return;
      const done = await platform.db.selectFrom('drive_thumbnails').select('status').where('source_sha256', '=', node.blob_sha256).executeTakeFirst();
      if (!done) await platform.jobs.enqueue(THUMBNAIL_JOB, { sha256: node.blob_sha256, name: node.name });
    },
  },
];

const ThumbQuery = Type.Object(
  { drive: Type.Optional(DriveRefT), path: Type.String({ minLength: 1, maxLength: 4096 }), v: Type.Optional(Type.String({ maxLength: 64 })) },
  { additionalProperties: false },
);

export async function thumbnailRoutes(app: App, platform: Platform): Promise<void> {
  app.get('/drive/thumbnail', { schema: { tags: ['drive'], querystring: ThumbQuery } }, async (req, reply) => {
    const { ctx, owner } = await driveTarget(req, platform, req.query.drive);
    const p = req.query.path;
    if (!p.startsWith('/')) throw new AppError('invalid_name', { name: p.slice(0, 300) });
    const trimmed = p.length > 1 && p.endsWith('/') ? p.slice(1, -1) : p.slice(1);
    const segments = trimmed === '' ? [] : cleanPath(trimmed.split('/'));
    await authorizeRead(ctx, owner);
    const node = await resolvePath(platform.db, owner, segments);
    if (node === null) throw new AppError('not_found');
    if (node === 'root' || node.kind !== 'file') throw new AppError('conflict', { reason: 'is_folder' });
    if (!node.blob_sha256) throw new AppError('not_found', { reason: 'no_thumbnail' });
    const row = await ensureThumbnail(platform, { sha256: node.blob_sha256, size: Number(node.size), name: node.name });
    if (row.status !== 'ready' || !row.thumb_sha256) throw new AppError('not_found', { reason: 'no_thumbnail' });
    const etag = `"t-${row.thumb_sha256.slice(0, 32)}"`;
    const headers: Record<string, string> = {
      etag,
      // A URL carrying the file's etag (v=…) names one content for ever; a bare one is revalidated.
      'cache-control': req.query.v === node.etag ? 'private, max-age=31536000, immutable' : 'private, no-cache',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src 'self'",
      'content-disposition': 'inline; filename="thumbnail.webp"',
    };
    if (req.headers['if-none-match'] === etag) return reply.status(304).headers(headers).send();
    const stream = await platform.blobs.get(row.thumb_sha256);
    return reply.status(200).headers({ ...headers, 'content-type': 'image/webp' }).send(stream);
  });
}
