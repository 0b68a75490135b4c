import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import type { App, Platform } from '../../platform/module.js';
import { assertFits, authorizeRead, createFolder, deleteNode, emptyTrash, listTrash, purgeNode, restoreNode, listChildren, moveNode, putFile, resolvePath, type NodeRow } from './commands.js';
import { DriveRefT, driveTarget } from './access.js';
import { sendContent } from './content.js';
import { cleanPath } from './names.js';

/**
 * The JSON API of the user's own drive (the web app's Files page): list, create folder, upload
 * (streamed), download, move/rename, delete. Thin routes over the drive commands; the policy is
 * 'drive-node' (owner only), so another user's paths simply do not exist here.
 */
const strict = { additionalProperties: false } as const;
export const PathT = Type.String({ minLength: 1, maxLength: 4096 });
export const Item = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.Union([Type.Literal('file'), Type.Literal('folder')]),
  size: Type.Number(),
  contentType: Type.String(),
  updatedAt: Type.Number(),
  etag: Type.String(),
});
const PathQuery = Type.Object({ path: PathT, drive: Type.Optional(DriveRefT) }, strict);
const DriveQuery = Type.Object({ drive: Type.Optional(DriveRefT) }, strict);
/** Uploads are bounded by the quota; this is only the transport bound. */
const UPLOAD_LIMIT = 2 * 1024 ** 3;

/** "/a/b" → ['a', 'b'] ("/" is the root); every segment is checked ('..', NUL, '' are refused). */
export function parsePath(path: string): string[] {
  if (!path.startsWith('/')) throw new AppError('invalid_name', { name: path.slice(0, 300) });
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(1, -1) : path.slice(1);
  if (trimmed === '') return [];
  return cleanPath(trimmed.split('/'));
}

export function itemOf(n: NodeRow): typeof Item.static {
  return {
    id: n.id,
    name: n.name,
    kind: n.kind === 'folder' ? 'folder' : 'file',
    size: Number(n.size),
    contentType: n.kind === 'folder' ? '' : n.content_type,
    updatedAt: Number(n.updated_at),
    etag: n.etag,
  };
}

/** The commands speak WebDAV's statuses in places; the JSON API answers with its own codes. */
export async function mapped<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof AppError) {
      if (e.code === 'already_exists') throw new AppError('name_taken');
      if (e.code === 'precondition_failed' && e.details?.reason === 'destination_exists') throw new AppError('name_taken');
      if (e.code === 'method_not_allowed') throw new AppError('conflict', e.details);
    }
    throw e;
  }
}

export async function driveRoutes(app: App, platform: Platform): Promise<void> {
  const tags = ['drive'];
  const scope = (req: FastifyRequest) => driveTarget(req, platform, (req.query as { drive?: string } | undefined)?.drive);

  app.get('/drive/items', { schema: { tags, querystring: PathQuery, response: { 200: Type.Object({ path: Type.String(), items: Type.Array(Item) }) } } }, async (req) => {
    const { ctx, owner } = await scope(req);
    const segments = parsePath(req.query.path);
    await authorizeRead(ctx, owner);
    const node = await resolvePath(platform.db, owner, segments);
    if (node === null) throw new AppError('not_found');
    if (node !== 'root' && node.kind !== 'folder') throw new AppError('conflict', { reason: 'not_a_folder' });
    const kids = await listChildren(platform.db, owner, node === 'root' ? null : node.id);
    const items = kids.map(itemOf).sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'folder' ? -1 : 1));
    return { path: segments.length ? `/${segments.join('/')}` : '/', items };
  });

  app.post(
    '/drive/folders',
    { schema: { tags, querystring: DriveQuery, body: Type.Object({ path: PathT, name: Type.String({ minLength: 1, maxLength: 255 }) }, strict), response: { 201: Type.Object({ item: Item }) } } },
    async (req, reply) => {
      const { ctx, owner } = await scope(req);
      const segments = [...parsePath(req.body.path), ...cleanPath([req.body.name])];
      const row = await mapped(() => createFolder(ctx, owner, segments));
      return reply.status(201).send({ item: itemOf(row) });
    },
  );

  app.post('/drive/move', { schema: { tags, querystring: DriveQuery, body: Type.Object({ from: PathT, to: PathT }, strict), response: { 200: Type.Object({ item: Item }) } } }, async (req) => {
    const { ctx, owner } = await scope(req);
    const from = parsePath(req.body.from);
    const to = parsePath(req.body.to);
    if (from.length === 0 || to.length === 0) throw new AppError('forbidden', { reason: 'root' });
    await mapped(() => moveNode(ctx, owner, from, to, { overwrite: false }));
    const node = await resolvePath(platform.db, owner, to);
    if (node === null || node === 'root') throw new AppError('not_found');
    return { item: itemOf(node) };
  });

  app.delete('/drive/items', { schema: { tags, querystring: PathQuery } }, async (req, reply) => {
    const { ctx, owner } = await scope(req);
    const segments = parsePath(req.query.path);
    if (segments.length === 0) throw new AppError('forbidden', { reason: 'root' });
    await mapped(() => deleteNode(ctx, owner, segments));
    return reply.status(204).send();
  });

  const TrashItem = Type.Object({
    id: Type.String(),
    name: Type.String(),
    kind: Type.Union([Type.Literal('file'), Type.Literal('folder')]),
    size: Type.Number(),
    deletedAt: Type.Number(),
    originalPath: Type.String(),
  });
  const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, strict);

  app.get('/drive/trash', { schema: { tags, querystring: DriveQuery, response: { 200: Type.Object({ items: Type.Array(TrashItem) }) } } }, async (req) => {
    const { ctx, owner } = await scope(req);
    const items = await listTrash(ctx, owner);
    return {
      items: items.map(({ node, originalPath }) => ({
        id: node.id,
        name: node.name,
        kind: node.kind === 'folder' ? ('folder' as const) : ('file' as const),
        size: Number(node.size),
        deletedAt: Number(node.deleted_at),
        originalPath,
      })),
    };
  });

  app.post('/drive/trash/:id/restore', { schema: { tags, querystring: DriveQuery, params: IdParams, response: { 200: Type.Object({ item: Item, path: Type.String() }) } } }, async (req) => {
    const { ctx, owner } = await scope(req);
    const node = await restoreNode(ctx, owner, req.params.id);
    // Where it came back (its original folder, or the root when that folder is gone or in the trash).
    let path = `/${node.name}`;
    let parentId = node.parent_id;
    while (parentId !== null) {
      const p = await platform.db.selectFrom('drive_nodes').select(['name', 'parent_id']).where('id', '=', parentId).executeTakeFirst();
      if (!p) break;
      path = `/${p.name}${path}`;
      parentId = p.parent_id;
    }
    return { item: itemOf(node), path };
  });

  app.delete('/drive/trash/:id', { schema: { tags, querystring: DriveQuery, params: IdParams } }, async (req, reply) => {
    const { ctx, owner } = await scope(req);
    await purgeNode(ctx, owner, req.params.id);
    return reply.status(204).send();
  });

  app.delete('/drive/trash', { schema: { tags, querystring: DriveQuery, response: { 200: Type.Object({ purged: Type.Number() }) } } }, async (req) => {
    const { ctx, owner } = await scope(req);
    return { purged: await emptyTrash(ctx, owner) };
  });

  app.get('/drive/content', { schema: { tags, querystring: PathQuery } }, async (req, reply) => {
    const { ctx, owner } = await scope(req);
    const segments = parsePath(req.query.path);
    await authorizeRead(ctx, owner);
    const node = await resolvePath(platform.db, owner, segments);
    if (node === null) throw new AppError('not_found');
    if (node === 'root' || node.kind !== 'file') throw new AppError('conflict', { reason: 'is_folder' });
    return sendContent(req, reply, platform, node);
  });

  // Uploads: the raw body is streamed to the blob store. The catch-all parser lives only in this scope,
  // so the rest of the API keeps accepting JSON only.
  await app.register(async (upload) => {
    upload.removeAllContentTypeParsers();
    upload.addContentTypeParser('*', (_req: FastifyRequest, _payload: unknown, done: (err: Error | null, body?: unknown) => void) => done(null));
    upload.put(
      '/drive/content',
      { bodyLimit: UPLOAD_LIMIT, schema: { tags, querystring: PathQuery, response: { 200: Type.Object({ item: Item }), 201: Type.Object({ item: Item }) } } },
      async (req, reply) => {
        const { ctx, owner } = await scope(req);
        const segments = parsePath((req.query as typeof PathQuery.static).path);
        if (segments.length === 0) throw new AppError('forbidden', { reason: 'root' });
        const length = Number(req.headers['content-length'] ?? 0);
        if (length > 0) {
          const existing = await resolvePath(platform.db, owner, segments);
          await assertFits(platform, owner, length, existing && existing !== 'root' ? Number(existing.size) : 0);
        }
        const ct = req.headers['content-type'];
        const { node, created } = await mapped(() => putFile(ctx, owner, segments, req.raw, { contentType: typeof ct === 'string' ? ct : undefined }));
        return reply.status(created ? 201 : 200).send({ item: itemOf(node) });
      },
    );
  });
}
