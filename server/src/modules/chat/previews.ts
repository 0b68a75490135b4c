import { Parser } from 'htmlparser2';
import sharp from 'sharp';
import { Type, type Static } from '@sinclair/typebox';
import { AppError } from '../../errors.js';
import type { Migration } from '../../platform/db/migrate.js';
import type { DbOrTx, Tx } from '../../platform/db/index.js';
import type { App, Platform } from '../../platform/module.js';
import { safeFetch } from '../../platform/net/safe-fetch.js';
import { audienceOf, authorizeMessage, loadMessage } from './commands.js';

/**
 * Link previews, made on the server: after a message is posted or edited, a job fetches (through
 * safeFetch: public addresses only unless BASTIDE_FETCH_ALLOW says otherwise, 512 KB of HTML, 5 s) the
 * first three links outside code, reads their title, description, site name and image from Open Graph /
 * HTML meta tags, and stores them with the message; the image is fetched the same way, re-encoded by
 * sharp to a small WebP (nothing of the original file survives) and served from Bastide's origin, so a
 * reader's browser never contacts the linked site (no tracking, no mixed content). Browsers see text
 * only: titles and descriptions are plain strings, rendered as text by the app.
 */
export const PREVIEW_JOB = 'chat.preview';
const MAX_LINKS = 3;
const MAX_HTML = 512 * 1024;
const MAX_IMAGE = 5 * 1024 * 1024;
const IMAGE_WIDTH = 480;

declare module '../../platform/db/schema.js' {
  interface Database {
    chat_link_previews: {
      message_id: string;
      position: number;
      url: string;
      title: string;
      description: string;
      site_name: string;
      image: Buffer | null;
      fetched_at: number;
    };
  }
}

export const previewMigrations: Migration[] = [
  {
    id: '0002_link_previews',
    async up(db, engine) {
      await db.schema
        .createTable('chat_link_previews')
        .addColumn('message_id', 'text', (c) => c.notNull().references('chat_messages.id').onDelete('cascade'))
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('site_name', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('image', engine === 'postgres' ? 'bytea' : 'blob')
        .addColumn('fetched_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('chat_link_previews_pk', ['message_id', 'position'])
        .execute();
    },
  },
];

export const PreviewView = Type.Object({ url: Type.String(), title: Type.String(), description: Type.String(), siteName: Type.String(), image: Type.Union([Type.String(), Type.Null()]) });
export type PreviewViewT = Static<typeof PreviewView>;

/** The previews of some messages, in link order. */
export async function previewsOf(db: DbOrTx, messageIds: string[]): Promise<Map<string, PreviewViewT[]>> {
  const out = new Map<string, PreviewViewT[]>();
  if (messageIds.length === 0) return out;
  const rows = await db
    .selectFrom('chat_link_previews')
    .select(['message_id', 'position', 'url', 'title', 'description', 'site_name', (eb) => eb('image', 'is not', null).as('has_image')])
    .where('message_id', 'in', messageIds)
    .orderBy('message_id')
    .orderBy('position')
    .execute();
  for (const r of rows) {
    const list = out.get(r.message_id) ?? [];
    list.push({ url: r.url, title: r.title, description: r.description, siteName: r.site_name, image: r.has_image ? `/api/chat/messages/${r.message_id}/previews/${r.position}/image` : null });
    out.set(r.message_id, list);
  }
  return out;
}

/** Links in a message's Markdown, outside code spans and blocks; at most MAX_LINKS, in order, distinct. */
export function linksIn(markdown: string): string[] {
  const text = markdown.replace(/```[\s\S]*?(```|$)/g, ' ').replace(/`[^`\n]*`/g, ' ');
  const found: string[] = [];
  for (const m of text.matchAll(/\bhttps?:\/\/[^\s<>()[\]"'`]+/gi)) {
    const url = m[0].replace(/[.,;:!?*_~]+$/, '');
    try {
      const u = new URL(url);
      if (!found.includes(u.toString())) found.push(u.toString());
    } catch {
      continue;
    }
    if (found.length >= MAX_LINKS) break;
  }
  return found;
}

export interface PageMeta {
  title: string;
  description: string;
  siteName: string;
  image: string | null;
}

const clean = (s: string, max: number): string =>
  s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, max);

/** Reads Open Graph / Twitter / HTML meta from the head of a page (a streaming parser, bounded input). */
export function pageMeta(html: string, pageUrl: string): PageMeta {
  const meta = new Map<string, string>();
  let title = '';
  let inTitle = false;
  let done = false;
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (done) return;
        if (name === 'title') inTitle = true;
        if (name === 'meta') {
          const key = (attrs.property ?? attrs.name ?? '').toLowerCase();
          if (key && typeof attrs.content === 'string' && !meta.has(key)) meta.set(key, attrs.content);
        }
        if (name === 'body') done = true;
      },
      ontext(t) {
        if (inTitle && title.length < 500) title += t;
      },
      onclosetag(name) {
        if (name === 'title') inTitle = false;
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html.slice(0, MAX_HTML));
  parser.end();
  let image: string | null = null;
  const rawImage = meta.get('og:image') ?? meta.get('og:image:url') ?? meta.get('twitter:image');
  if (rawImage) {
    try {
      const u = new URL(rawImage, pageUrl);
      if (u.protocol === 'https:' || u.protocol === 'http:') image = u.toString();
    } catch {
      image = null;
    }
  }
  return {
    title: clean(meta.get('og:title') ?? meta.get('twitter:title') ?? title, 300),
    description: clean(meta.get('og:description') ?? meta.get('twitter:description') ?? meta.get('description') ?? '', 500),
    siteName: clean(meta.get('og:site_name') ?? new URL(pageUrl).hostname, 100),
    image,
  };
}

async function fetchImage(platform: Platform, url: string): Promise<Buffer | null> {
  try {
    const r = await safeFetch(url, { maxBytes: MAX_IMAGE, timeoutMs: 5000, allow: platform.config.fetchAllow, headers: { accept: 'image/*' } });
    if (r.status !== 200 || r.truncated || !String(r.headers['content-type'] ?? '').startsWith('image/')) return null;
    // Re-encoded: the stored image is ours (no metadata, no script in an SVG, bounded size).
    return await sharp(r.body, { limitInputPixels: 40_000_000, failOn: 'error' }).rotate().resize({ width: IMAGE_WIDTH, withoutEnlargement: true }).webp({ quality: 75 }).toBuffer();
  } catch {
    return null;
  }
}

/** Fetches what can be previewed of one link; null when it is not an HTML page that answered. */
export async function previewOf(platform: Platform, url: string): Promise<(PageMeta & { url: string; imageBytes: Buffer | null }) | null> {
  try {
    const r = await safeFetch(url, { maxBytes: MAX_HTML, timeoutMs: 5000, allow: platform.config.fetchAllow, headers: { accept: 'text/html,application/xhtml+xml' } });
    const type = String(r.headers['content-type'] ?? '');
    if (r.status !== 200 || !/^(text\/html|application\/xhtml\+xml)/i.test(type)) return null;
    const meta = pageMeta(r.body.toString('utf8'), r.url);
    if (!meta.title && !meta.description) return null;
    return { ...meta, url, imageBytes: meta.image ? await fetchImage(platform, meta.image) : null };
  } catch (e) {
    platform.log.debug({ err: e, url }, 'chat: no preview');
    return null;
  }
}

/** Queues the preview job of a message in the transaction that wrote it (when it has links). */
export async function queuePreviews(platform: Platform, trx: Tx, messageId: string, text: string): Promise<void> {
  if (linksIn(text).length > 0) await platform.jobs.enqueue(PREVIEW_JOB, { messageId }, { trx, maxAttempts: 2 });
}

/** The job: fetch, then replace the message's previews (if the message still says the same thing). */
export function previewJob(platform: Platform): (payload: Record<string, unknown>) => Promise<void> {
  return async (payload) => {
    const messageId = String(payload.messageId ?? '');
    const msg = await loadMessage(platform.db, messageId);
    if (!msg || msg.deleted_at !== null) return;
    const links = linksIn(msg.body);
    const previews: Array<NonNullable<Awaited<ReturnType<typeof previewOf>>>> = [];
    for (const url of links) {
      const p = await previewOf(platform, url);
      if (p) previews.push(p);
    }
    await platform.transaction(async (trx, emit) => {
      const now = await trx.selectFrom('chat_messages').select(['body', 'deleted_at']).where('id', '=', messageId).executeTakeFirst();
      if (!now || now.deleted_at !== null || now.body !== msg.body) return; // edited meanwhile: that edit queued its own job
      await trx.deleteFrom('chat_link_previews').where('message_id', '=', messageId).execute();
      let position = 0;
      for (const p of previews) {
        await trx
          .insertInto('chat_link_previews')
          .values({ message_id: messageId, position: position++, url: p.url, title: p.title, description: p.description, site_name: p.siteName, image: p.imageBytes, fetched_at: platform.clock.now() })
          .execute();
      }
      await emit('chat.message.updated', { channelId: msg.channel_id, messageId, rootId: msg.root_id }, audienceOf(msg.channel_id));
    });
  };
}

export function previewRoutes(app: App, platform: Platform): void {
  const Params = Type.Object({ id: Type.String({ pattern: '^[0-9A-HJKMNP-TV-Z]{26}$' }), position: Type.Integer({ minimum: 0, maximum: MAX_LINKS - 1 }) }, { additionalProperties: false });
  app.get<{ Params: Static<typeof Params> }>('/chat/messages/:id/previews/:position/image', { schema: { tags: ['chat'], summary: "A link preview's image (re-encoded WebP)", params: Params } }, async (req, reply) => {
    await authorizeMessage({ platform, actor: req.actor, ip: req.ip }, req.params.id, 'read');
    const row = await platform.db.selectFrom('chat_link_previews').select('image').where('message_id', '=', req.params.id).where('position', '=', req.params.position).executeTakeFirst();
    if (!row?.image) throw new AppError('not_found');
    return reply.type('image/webp').header('x-content-type-options', 'nosniff').header('cache-control', 'private, max-age=86400').header('content-security-policy', "default-src 'none'; sandbox").send(Buffer.from(row.image));
  });
}
