import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import yazl from 'yazl';
import { AppError } from '../../errors.js';
import type { DbOrTx } from '../../platform/db/index.js';
import type { App, Platform } from '../../platform/module.js';
import { DriveRefT, driveTarget } from './access.js';
import { authorizeAction, authorizeRead, listChildren, quota, resolvePath, type NodeRow, type Owner } from './commands.js';
import { buildDriveExport, importDriveArchive, openZipSource } from './portability.js';
import { parsePath } from './routes.js';

/**
 * Drive transfers over HTTP: a folder or a selection downloaded as one zip, and a whole drive exported
 * or imported as a zip (layout and manifest: portability.ts). Archives are streamed: each file's content
 * is read from the blob store only when its turn comes and flows out under back-pressure, so memory
 * stays flat whatever the size. Entries are stored (not deflated) so the archive's size is known in
 * advance and sent as Content-Length; names are UTF-8 as they are (yazl sets the UTF-8 flag).
 */

/** The most nodes one archive may hold. */
export const MAX_ARCHIVE_NODES = 100_000;
const MAX_DEPTH = 64;

/** One node in an archive: its path in the drive (from the walk's start) and its name in the zip. */
export interface ArchiveEntry {
  node: NodeRow;
  /** Path segments in the drive, relative to the drive's root (or to a share's root). */
  path: string[];
  /** Path in the zip, '/'-separated, without a trailing slash. */
  archivePath: string;
}

/**
 * A name as a zip entry segment: zip paths use '/', and unzip tools treat '\' as a separator and "C:" at
 * the start as a drive; those characters become '_' (the manifest keeps the real name).
 */
export function archiveSegment(name: string, first: boolean): string {
  let s = name.replace(/\\/g, '_');
  if (first && /^[a-zA-Z]:/.test(s)) s = `${s[0]}_${s.slice(2)}`;
  return s;
}

/** Gives `name` a free spelling in `taken` (case-sensitive, as zips are): "a.txt", "a (2).txt", ... */
export function uniqueName(name: string, taken: Set<string>, isFile: boolean): string {
  let candidate = name;
  const dot = isFile ? name.lastIndexOf('.') : -1;
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let i = 2; taken.has(candidate); i++) candidate = `${stem} (${i})${ext}`;
  taken.add(candidate);
  return candidate;
}

/**
 * Walks the live tree below `start` (its children; `start` itself is not listed) breadth-first, giving
 * each node its drive path and a unique archive path under `prefix`.
 */
export async function walkTree(db: DbOrTx, owner: Owner, start: NodeRow | 'root', startPath: string[], prefix: string, taken = new Set<string>(), out: ArchiveEntry[] = []): Promise<ArchiveEntry[]> {
  const queue: Array<{ id: string | null; path: string[]; archive: string; taken: Set<string> }> = [
    { id: start === 'root' ? null : start.id, path: startPath, archive: prefix, taken },
  ];
  while (queue.length > 0) {
    const dir = queue.shift()!;
    if (dir.path.length > MAX_DEPTH) throw new AppError('conflict', { reason: 'too_deep' });
    for (const node of await listChildren(db, owner, dir.id)) {
      if (out.length >= MAX_ARCHIVE_NODES) throw new AppError('payload_too_large', { reason: 'too_many_items', max: MAX_ARCHIVE_NODES });
      const seg = uniqueName(archiveSegment(node.name, dir.archive === ''), dir.taken, node.kind !== 'folder');
      const entry: ArchiveEntry = { node, path: [...dir.path, node.name], archivePath: dir.archive ? `${dir.archive}/${seg}` : seg };
      out.push(entry);
      if (node.kind === 'folder') queue.push({ id: node.id, path: entry.path, archive: entry.archivePath, taken: new Set() });
    }
  }
  return out;
}

/**
 * A zip of `entries` (folders as directory entries, so empty ones are kept) and of `extra` small files,
 * as a stream; `size` is its exact length in bytes. A blob that cannot be read ends the stream with an error.
 */
export function zipStream(platform: Platform, entries: ArchiveEntry[], extra: Array<{ path: string; content: Buffer }> = []): { stream: Readable; size: number } {
  const zip = new yazl.ZipFile();
  for (const { node, archivePath } of entries) {
    const mtime = new Date(Number(node.updated_at));
    if (node.kind === 'folder') zip.addEmptyDirectory(archivePath, { mtime });
    else if (!node.blob_sha256 || Number(node.size) === 0) zip.addBuffer(Buffer.alloc(0), archivePath, { mtime, compress: false });
    else {
      const sha = node.blob_sha256;
      zip.addReadStreamLazy(archivePath, { mtime, compress: false, size: Number(node.size) }, (cb) => {
        platform.blobs.get(sha).then(
          (s) => cb(null, s),
          (e: Error) => cb(e, undefined as unknown as Readable),
        );
      });
    }
  }
  for (const f of extra) zip.addBuffer(f.content, f.path, { mtime: new Date(platform.clock.now()), compress: false });
  let size = -1;
  // Called synchronously here: every entry is stored with a known size (the typings omit the argument).
  const onSize = (n: number): void => {
    size = n;
  };
  zip.end({ forceZip64Format: false, comment: '' }, onSize as unknown as () => void);
  // yazl's output stream is a PassThrough; an error of the zip (a blob gone missing) must end it too.
  const out = zip.outputStream as unknown as PassThrough;
  zip.on('error', (e: Error) => {
    platform.log.error({ err: e }, 'zip stream failed');
    out.destroy(e);
  });
  return { stream: out, size };
}

export function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export function sendZip(reply: FastifyReply, filename: string, zip: { stream: Readable; size: number }): FastifyReply {
  const headers: Record<string, string> = {
    'content-type': 'application/zip',
    'content-disposition': attachment(filename),
    'x-content-type-options': 'nosniff',
    'cache-control': 'private, no-store',
  };
  if (zip.size >= 0) headers['content-length'] = String(zip.size);
  return reply.status(200).headers(headers).send(zip.stream);
}

/** The archive entries for `paths` of a drive: one folder (its content under its name), or a selection. */
export async function selectionEntries(platform: Platform, owner: Owner, paths: string[]): Promise<{ entries: ArchiveEntry[]; filename: string }> {
  const parsed = paths.map(parsePath);
  // A path inside another selected one adds nothing: keep the outermost.
  const keys = parsed.map((p) => p.map((s) => s.normalize('NFC')));
  const kept = parsed.filter((p, i) => !keys.some((q, j) => j !== i && q.length < keys[i]!.length && q.every((s, k) => s === keys[i]![k])) && keys.findIndex((q) => q.join('/') === keys[i]!.join('/')) === i);
  const taken = new Set<string>();
  const entries: ArchiveEntry[] = [];
  let filename = 'drive.zip';
  for (const segments of kept) {
    const node = await resolvePath(platform.db, owner, segments);
    if (node === null) throw new AppError('not_found', { path: `/${segments.join('/')}` });
    if (segments.length === 0) {
      // The whole drive (or the whole share): its content at the top of the archive.
      if (kept.length > 1) throw new AppError('bad_request', { reason: 'the root cannot be part of a selection' });
      await walkTree(platform.db, owner, node, segments, '', taken, entries);
      continue;
    }
    if (node === 'root') throw new AppError('not_found');
    const seg = uniqueName(archiveSegment(node.name, true), taken, node.kind !== 'folder');
    entries.push({ node, path: segments, archivePath: seg });
    if (node.kind === 'folder') await walkTree(platform.db, owner, node, segments, seg, new Set(), entries);
    if (kept.length === 1) filename = `${node.name}.zip`;
  }
  if (kept.length > 1) filename = 'selection.zip';
  return { entries, filename };
}

export async function transferRoutes(app: App, platform: Platform): Promise<void> {
  const tags = ['drive'];
  const strict = { additionalProperties: false } as const;
  const PathT = Type.String({ minLength: 1, maxLength: 4096 });
  const Paths = Type.Array(PathT, { minItems: 1, maxItems: 1000 });

  app.get(
    '/drive/zip',
    {
      schema: {
        tags,
        summary: 'Download a folder, or several items (repeat `path`), as a streamed zip',
        querystring: Type.Object({ drive: Type.Optional(DriveRefT), path: Paths }, strict),
      },
    },
    async (req, reply) => {
      const { ctx, owner } = await driveTarget(req, platform, req.query.drive);
      await authorizeRead(ctx, owner);
      const { entries, filename } = await selectionEntries(platform, owner, req.query.path);
      return sendZip(reply, filename, zipStream(platform, entries));
    },
  );

  app.post(
    '/drive/zip',
    {
      schema: {
        tags,
        summary: 'Download a selection of items as a streamed zip',
        querystring: Type.Object({ drive: Type.Optional(DriveRefT) }, strict),
        body: Type.Object({ paths: Paths }, strict),
      },
    },
    async (req, reply) => {
      const { ctx, owner } = await driveTarget(req, platform, req.query.drive);
      await authorizeRead(ctx, owner);
      const { entries, filename } = await selectionEntries(platform, owner, req.body.paths);
      return sendZip(reply, filename, zipStream(platform, entries));
    },
  );

  app.get(
    '/drive/export',
    { schema: { tags, summary: 'Export a whole drive (mine or a space’s) as a zip with a manifest', querystring: Type.Object({ drive: Type.Optional(DriveRefT) }, strict) } },
    async (req, reply) => {
      const ref = req.query.drive ?? 'me';
      if (ref.startsWith('share:')) throw new AppError('bad_request', { reason: 'export a whole drive: me or space:<id>' });
      const { ctx, owner } = await driveTarget(req, platform, ref);
      await authorizeRead(ctx, owner);
      const exp = await buildDriveExport(platform, owner);
      await platform.audit.recordNow({ actor: req.actor, action: 'drive.exported', targetType: 'drive', targetId: ref, ip: req.ip, details: { nodes: exp.entries.length } });
      const day = new Date(platform.clock.now()).toISOString().slice(0, 10);
      return sendZip(reply, `bastide-drive-${ref.replace(':', '-')}-${day}.zip`, zipStream(platform, exp.entries, [exp.manifestFile]));
    },
  );

  // Import: the zip is streamed to a temporary file of the data folder (bounded by the drive's free
  // space), then read entry by entry; nothing is held in memory whole.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req: FastifyRequest, _payload: unknown, done: (err: Error | null, body?: unknown) => void) => done(null));
    scope.post(
      '/drive/import',
      {
        schema: {
          tags,
          summary: 'Import a drive export (or any zip) into a drive; colliding names get a suffix, nothing is overwritten',
          querystring: Type.Object({ drive: Type.Optional(DriveRefT) }, strict),
          response: { 200: Type.Object({ imported: Type.Integer(), folders: Type.Integer(), files: Type.Integer() }) },
        },
      },
      async (req) => {
        const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (ct !== 'application/zip' && ct !== 'application/x-zip-compressed' && ct !== 'application/octet-stream') throw new AppError('unsupported_media_type', { expected: 'application/zip' });
        const ref = (req.query as { drive?: string }).drive ?? 'me';
        if (ref.startsWith('share:')) throw new AppError('bad_request', { reason: 'import into a whole drive: me or space:<id>' });
        const { ctx, owner } = await driveTarget(req, platform, ref);
        await authorizeAction(ctx, owner, 'write');
        const { available } = await quota(platform, platform.db, owner);
        // The archive holds at most what fits, plus its own structure.
        const limit = available + 64 * 1024 * 1024;
        const declared = Number(req.headers['content-length'] ?? 0);
        if (declared > limit) throw new AppError('quota_exceeded');
        const dir = join(platform.config.dataDir, 'tmp');
        await mkdir(dir, { recursive: true });
        const file = join(dir, `import-${randomBytes(12).toString('hex')}.zip`);
        try {
          let seen = 0;
          const bound = new Transform({
            transform(chunk: Buffer, _e, cb) {
              seen += chunk.length;
              cb(seen > limit ? new AppError('quota_exceeded') : null, chunk);
            },
          });
          try {
            await pipeline(req.raw, bound, createWriteStream(file));
          } catch (e) {
            if (e instanceof AppError) throw e;
            throw new AppError('bad_request', { reason: 'the upload was interrupted' });
          }
          const source = await openZipSource(file);
          try {
            const result = await importDriveArchive(ctx, owner, source);
            await platform.audit.recordNow({ actor: req.actor, action: 'drive.imported', targetType: 'drive', targetId: ref, ip: req.ip, details: result });
            return result;
          } finally {
            source.close();
          }
        } finally {
          await rm(file, { force: true });
        }
      },
    );
  });
}
