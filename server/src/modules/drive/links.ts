import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import type { App, Platform } from '../../platform/module.js';
import { safeEqual, verifyPassword } from '../identity/secrets.js';
import { assertFits, authorizeRead, driveAudience, listChildren, putFile, resolvePath, type DriveContext, type NodeRow, type Owner } from './commands.js';
import { sendContent } from './content.js';
import { cleanNodeName, nameKey } from './names.js';
import { Item, itemOf, mapped, parsePath } from './routes.js';
import { unlockProof, type LinkRow } from './shares.js';
import { selectionEntries, sendZip, zipStream } from './transfer.js';

/**
 * Public links, as visitors use them (no account): /api/public/links/<token>. A link is checked on every
 * request — removed, expired, used up, or its password not given: nothing is served. A 'read' link shows
 * its file or folder and lets the visitor download; a 'drop' link only accepts new files and shows
 * nothing of what is there. The web page is /s/<token>.
 */
const strict = { additionalProperties: false } as const;
const tags = ['public links'];
const TokenParams = Type.Object({ token: Type.String({ minLength: 16, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) }, strict);
const PathQuery = Type.Object({ path: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })) }, strict);
const UNLOCK_HOURS = 12;
/** Wrong passwords allowed per link and address before a pause. */
const MAX_FAILURES = 10;
const FAILURE_WINDOW_MS = 15 * 60 * 1000;
const UPLOAD_LIMIT = 2 * 1024 ** 3;

const cookieName = (l: LinkRow): string => `bastide_link_${l.id}`;

export interface OpenLink {
  link: LinkRow;
  owner: Owner;
  ctx: DriveContext;
  root: NodeRow;
}

/** The link of a token, checked: live, unexpired, not used up, unlocked; its node still there. */
export async function openLink(platform: Platform, req: FastifyRequest, token: string): Promise<OpenLink> {
  const link = await platform.db.selectFrom('drive_links').selectAll().where('token', '=', token).executeTakeFirst();
  if (!link) throw new AppError('not_found');
  const now = platform.clock.now();
  if (link.expires_at !== null && Number(link.expires_at) <= now) throw new AppError('link_unavailable', { reason: 'expired' });
  if (link.max_downloads !== null && Number(link.downloads) >= Number(link.max_downloads)) throw new AppError('link_unavailable', { reason: 'used_up' });
  if (link.password_hash !== null) {
    const sent = req.cookies[cookieName(link)];
    if (typeof sent !== 'string' || !safeEqual(sent, unlockProof(link))) throw new AppError('link_locked');
  }
  const owner: Owner = { type: link.owner_type === 'space' ? 'space' : 'user', id: link.owner_id, link: { id: link.id, rootId: link.node_id, mode: link.mode === 'drop' ? 'drop' : 'read', usable: true } };
  const root = await resolvePath(platform.db, owner, []);
  if (root === null || root === 'root') throw new AppError('link_unavailable', { reason: 'gone' });
  return { link, owner, root, ctx: { platform, actor: req.actor, ip: req.ip } };
}

/**
 * Counts one download; refuses when the limit is reached meanwhile (two visitors racing for the last one).
 * The owner's open share dialog hears of it (drive.link.changed).
 */
async function countDownload(platform: Platform, link: LinkRow): Promise<void> {
  await platform.transaction(async (trx, emit) => {
    const res = await trx
      .updateTable('drive_links')
      .set((eb) => ({ downloads: eb('downloads', '+', 1) }))
      .where('id', '=', link.id)
      .where((eb) => eb.or([eb('max_downloads', 'is', null), eb('downloads', '<', eb.ref('max_downloads'))]))
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new AppError('link_unavailable', { reason: 'used_up' });
    const owner: Owner = { type: link.owner_type === 'space' ? 'space' : 'user', id: link.owner_id };
    await emit('drive.link.changed', { linkId: link.id, nodeId: link.node_id, downloaded: true }, await driveAudience(trx, owner));
  });
}

/** A name not taken in the folder: "report.pdf", then "report (2).pdf", ... */
async function freeName(platform: Platform, owner: Owner, folder: NodeRow, wanted: string): Promise<string> {
  const taken = new Set((await listChildren(platform.db, owner, folder.id)).map((n) => n.name_key));
  const dot = wanted.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [wanted.slice(0, dot), wanted.slice(dot)] : [wanted, ''];
  let name = wanted;
  for (let i = 2; taken.has(nameKey(name)); i++) {
    if (i > 10000) throw new AppError('conflict', { reason: 'name_taken' });
    name = cleanNodeName(`${stem} (${i})${ext}`);
  }
  return name;
}

export async function linkRoutes(app: App, platform: Platform): Promise<void> {
  const failures = new Map<string, { count: number; since: number }>();

  const LinkInfo = Type.Object({
    name: Type.String(),
    kind: Type.String(),
    mode: Type.String(),
    size: Type.Number(),
    expiresAt: Type.Union([Type.Number(), Type.Null()]),
    downloadsLeft: Type.Union([Type.Number(), Type.Null()]),
    ownerName: Type.String(),
  });
  app.get('/public/links/:token', { schema: { tags, params: TokenParams, response: { 200: LinkInfo } } }, async (req) => {
    const { link, root } = await openLink(platform, req, req.params.token);
    let ownerName = '';
    if (link.owner_type === 'user') ownerName = (await platform.db.selectFrom('users').select('display_name').where('id', '=', link.owner_id).executeTakeFirst())?.display_name ?? '';
    else ownerName = (await platform.db.selectFrom('spaces').select('name').where('id', '=', link.owner_id).executeTakeFirst())?.name ?? '';
    return {
      name: root.name,
      kind: root.kind,
      mode: link.mode,
      size: link.mode === 'drop' ? 0 : Number(root.size),
      expiresAt: link.expires_at === null ? null : Number(link.expires_at),
      downloadsLeft: link.max_downloads === null ? null : Math.max(0, Number(link.max_downloads) - Number(link.downloads)),
      ownerName,
    };
  });

  app.post('/public/links/:token/unlock', { schema: { tags, params: TokenParams, body: Type.Object({ password: Type.String({ minLength: 1, maxLength: 200 }) }, strict) } }, async (req, reply) => {
    const link = await platform.db.selectFrom('drive_links').selectAll().where('token', '=', req.params.token).executeTakeFirst();
    if (!link) throw new AppError('not_found');
    if (link.password_hash === null) return reply.status(204).send();
    const key = `${link.id}|${req.ip}`;
    const now = platform.clock.now();
    const f = failures.get(key);
    if (f && now - f.since < FAILURE_WINDOW_MS && f.count >= MAX_FAILURES) throw new AppError('too_many_attempts');
    if (!(await verifyPassword(link.password_hash, req.body.password))) {
      const cur = f && now - f.since < FAILURE_WINDOW_MS ? f : { count: 0, since: now };
      cur.count++;
      failures.set(key, cur);
      if (failures.size > 10000) failures.clear();
      throw new AppError('link_password_wrong');
    }
    failures.delete(key);
    void reply.setCookie(cookieName(link), unlockProof(link), {
      path: `/api/public/links/${link.token}`,
      httpOnly: true,
      sameSite: 'lax',
      secure: platform.config.baseUrl.startsWith('https://'),
      maxAge: UNLOCK_HOURS * 3600,
    });
    return reply.status(204).send();
  });

  app.get('/public/links/:token/items', { schema: { tags, params: TokenParams, querystring: PathQuery, response: { 200: Type.Object({ path: Type.String(), items: Type.Array(Item) }) } } }, async (req) => {
    const { link, owner, ctx } = await openLink(platform, req, req.params.token);
    if (link.mode !== 'read') throw new AppError('forbidden', { reason: 'drop_link' });
    await authorizeRead(ctx, owner);
    const segments = parsePath(req.query.path ?? '/');
    const node = await resolvePath(platform.db, owner, segments);
    if (node === null || node === 'root') throw new AppError('not_found');
    if (node.kind !== 'folder') throw new AppError('conflict', { reason: 'not_a_folder' });
    const kids = await listChildren(platform.db, owner, node.id);
    return { path: segments.length ? `/${segments.join('/')}` : '/', items: kids.map(itemOf).sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'folder' ? -1 : 1)) };
  });

  app.get('/public/links/:token/content', { schema: { tags, params: TokenParams, querystring: PathQuery } }, async (req, reply) => {
    const { link, owner, ctx } = await openLink(platform, req, req.params.token);
    if (link.mode !== 'read') throw new AppError('forbidden', { reason: 'drop_link' });
    await authorizeRead(ctx, owner);
    const node = await resolvePath(platform.db, owner, parsePath(req.query.path ?? '/'));
    if (node === null || node === 'root') throw new AppError('not_found');
    if (node.kind !== 'file') throw new AppError('conflict', { reason: 'is_folder' });
    // A download counts once: the request that starts at byte 0 (a resumed download does not count again).
    const range = req.headers.range;
    const fromStart = typeof range !== 'string' || /^bytes=0-/.test(range.trim());
    if (fromStart && req.method === 'GET' && req.headers['if-none-match'] === undefined) await countDownload(platform, link);
    return sendContent(req, reply, platform, node);
  });

  // A folder of a read link (the link's root by default) as a streamed zip; counts as one download.
  app.get('/public/links/:token/zip', { schema: { tags, params: TokenParams, querystring: PathQuery } }, async (req, reply) => {
    const { link, owner, ctx } = await openLink(platform, req, req.params.token);
    if (link.mode !== 'read') throw new AppError('forbidden', { reason: 'drop_link' });
    await authorizeRead(ctx, owner);
    const path = req.query.path ?? '/';
    const node = await resolvePath(platform.db, owner, parsePath(path));
    if (node === null || node === 'root') throw new AppError('not_found');
    if (node.kind !== 'folder') throw new AppError('conflict', { reason: 'not_a_folder' });
    const { entries } = await selectionEntries(platform, owner, [path]);
    await countDownload(platform, link);
    return sendZip(reply, `${node.name}.zip`, zipStream(platform, entries));
  });

  // File drop: new files only, never an overwrite, nothing shown back but what was just received.
  await app.register(async (upload) => {
    upload.removeAllContentTypeParsers();
    upload.addContentTypeParser('*', (_req: FastifyRequest, _payload: unknown, done: (err: Error | null, body?: unknown) => void) => done(null));
    upload.put(
      '/public/links/:token/files',
      { bodyLimit: UPLOAD_LIMIT, schema: { tags, params: TokenParams, querystring: Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }) }, strict), response: { 201: Type.Object({ name: Type.String(), size: Type.Number() }) } } },
      async (req, reply) => {
        const { token } = req.params as typeof TokenParams.static;
        const { link, owner, ctx, root } = await openLink(platform, req, token);
        if (link.mode !== 'drop') throw new AppError('forbidden', { reason: 'not_a_drop_link' });
        if (root.kind !== 'folder') throw new AppError('conflict', { reason: 'not_a_folder' });
        const wanted = cleanNodeName((req.query as { name: string }).name);
        await assertFits(platform, owner, Number(req.headers['content-length'] ?? 0));
        const name = await freeName(platform, owner, root, wanted);
        const ct = req.headers['content-type'];
        const { node } = await mapped(() => putFile(ctx, owner, [name], req.raw, { contentType: typeof ct === 'string' ? ct : undefined, createOnly: true }));
        return reply.status(201).send({ name: node.name, size: Number(node.size) });
      },
    );
  });
}
