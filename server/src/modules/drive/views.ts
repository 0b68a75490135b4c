import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import { AppError } from '../../errors.js';
import type { DbOrTx } from '../../platform/db/index.js';
import type { Migration } from '../../platform/db/migrate.js';
import type { App, BastideModule, Platform } from '../../platform/module.js';
import { requireUser } from '../../platform/policy.js';
import { authorizeRead, copyNode, quota, resolvePath, type DriveContext, type NodeRow, type Owner } from './commands.js';
import { driveTarget, DriveRefT } from './access.js';
import { cleanPath } from './names.js';

/**
 * The drive's personal views: favourites (starred files and folders), recent files (changed or opened),
 * name search inside one drive, the storage quota, and copy. Every route resolves its drive with
 * driveTarget and asks the policy before reading; the favourites and recent lists re-check each node's
 * read permission when listed, so a node that became unreachable simply drops out.
 */
export interface DriveFavouritesTable {
  user_id: string;
  node_id: string;
  created_at: number;
}
export interface DriveRecentTable {
  user_id: string;
  node_id: string;
  used_at: number;
}

declare module '../../platform/db/schema.js' {
  interface Database {
    drive_favourites: DriveFavouritesTable;
    drive_recent: DriveRecentTable;
  }
}

export const viewsMigrations: Migration[] = [
  {
    id: '0003_favourites',
    async up(db) {
      await db.schema
        .createTable('drive_favourites')
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('node_id', 'text', (c) => c.notNull().references('drive_nodes.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('drive_favourites_pk', ['user_id', 'node_id'])
        .execute();
      await db.schema.createIndex('drive_favourites_node').on('drive_favourites').columns(['node_id']).execute();
      await db.schema
        .createTable('drive_recent')
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('node_id', 'text', (c) => c.notNull().references('drive_nodes.id').onDelete('cascade'))
        .addColumn('used_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('drive_recent_pk', ['user_id', 'node_id'])
        .execute();
      await db.schema.createIndex('drive_recent_user').on('drive_recent').columns(['user_id', 'used_at']).execute();
      await db.schema.createIndex('drive_recent_node').on('drive_recent').columns(['node_id']).execute();
    },
  },
];

const strict = { additionalProperties: false } as const;
const PathT = Type.String({ minLength: 1, maxLength: 4096 });
const DriveQuery = Type.Object({ drive: Type.Optional(DriveRefT) }, strict);
const Located = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.Union([Type.Literal('file'), Type.Literal('folder')]),
  size: Type.Number(),
  contentType: Type.String(),
  updatedAt: Type.Number(),
  etag: Type.String(),
  /** The drive it lives in ('me', 'space:<id>'). */
  drive: Type.String(),
  /** Its full path in that drive ("/a/b.txt"). */
  path: Type.String(),
  /** The folder that holds it ("/a"). */
  folder: Type.String(),
});
type LocatedItem = typeof Located.static;

/** How many favourites and recent entries a user keeps (the oldest recent entries are dropped). */
const MAX_FAVOURITES = 500;
const MAX_RECENT = 50;
const KEEP_RECENT = 200;
const SEARCH_PAGE_MAX = 100;

/** "/a/b" → ['a', 'b']; every segment cleaned ('..', NUL, '' refused). */
function parsePath(path: string): string[] {
  if (!path.startsWith('/')) throw new AppError('invalid_name', { name: path.slice(0, 300) });
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(1, -1) : path.slice(1);
  return trimmed === '' ? [] : cleanPath(trimmed.split('/'));
}

/** Lower case, without accents or other combining marks: "Éléphant" and "elephant" meet. */
export function foldName(s: string): string {
  return s.normalize('NFKD').replace(/\p{M}/gu, '').toLocaleLowerCase('en').normalize('NFC');
}

function driveRefOf(node: NodeRow, userId: string): string | null {
  if (node.owner_type === 'user') return node.owner_id === userId ? 'me' : null;
  if (node.owner_type === 'space') return `space:${node.owner_id}`;
  return null;
}

/** The node's full path when it and every ancestor are live; null when it is in (or under) the trash. */
async function livePath(db: DbOrTx, node: NodeRow): Promise<string | null> {
  if (node.deleted_at !== null) return null;
  const names = [node.name];
  let parentId = node.parent_id;
  for (let depth = 0; parentId !== null; depth++) {
    if (depth > 64) return null;
    const p = await db.selectFrom('drive_nodes').select(['name', 'parent_id', 'deleted_at']).where('id', '=', parentId).executeTakeFirst();
    if (!p || p.deleted_at !== null) return null;
    names.unshift(p.name);
    parentId = p.parent_id;
  }
  return `/${names.join('/')}`;
}

function located(n: NodeRow, drive: string, path: string): LocatedItem {
  return {
    id: n.id,
    name: n.name,
    kind: n.kind === 'folder' ? 'folder' : 'file',
    size: Number(n.size),
    contentType: n.kind === 'folder' ? '' : n.content_type,
    updatedAt: Number(n.updated_at),
    etag: n.etag,
    drive,
    path,
    folder: path.slice(0, path.lastIndexOf('/')) || '/',
  };
}

/** The nodes of `ids` the actor may still read, with where they are (unreachable ones are left out). */
async function visible(platform: Platform, ctxActor: DriveContext, ids: string[]): Promise<Map<string, LocatedItem>> {
  const me = requireUser(ctxActor.actor);
  const out = new Map<string, LocatedItem>();
  if (ids.length === 0) return out;
  const rows = await platform.db.selectFrom('drive_nodes').selectAll().where('id', 'in', ids).execute();
  for (const n of rows) {
    const drive = driveRefOf(n, me.userId);
    if (drive === null) continue;
    if (!(await platform.policy.can(ctxActor.actor, 'read', { type: 'drive-node', ownerType: n.owner_type, ownerId: n.owner_id }))) continue;
    const path = await livePath(platform.db, n);
    if (path !== null) out.set(n.id, located(n, drive, path));
  }
  return out;
}

/** The node at `path` in the addressed drive, after the read check; 404 for the root or when absent. */
async function nodeAt(platform: Platform, ctx: DriveContext, owner: Owner, path: string): Promise<NodeRow> {
  const segments = parsePath(path);
  await authorizeRead(ctx, owner);
  const node = await resolvePath(platform.db, owner, segments);
  if (node === null || node === 'root') throw new AppError('not_found');
  return node;
}

/** Touches per user since this process last trimmed their list (trimming is not needed on every touch). */
const touchesSinceTrim = new Map<string, number>();
const TRIM_EVERY = 32;

/**
 * Records that the user opened or changed a file. The list keeps about the newest KEEP_RECENT per
 * user: it is trimmed on a user's first touch in this process and every TRIM_EVERY touches after
 * (a desktop client syncing a thousand files would otherwise trim a thousand times).
 */
export async function touchRecent(db: DbOrTx, userId: string, nodeId: string, now: number): Promise<void> {
  await db
    .insertInto('drive_recent')
    .values({ user_id: userId, node_id: nodeId, used_at: now })
    .onConflict((oc) => oc.columns(['user_id', 'node_id']).doUpdateSet({ used_at: sql<number>`case when drive_recent.used_at > ${now} then drive_recent.used_at else ${now} end` }))
    .execute();
  const n = touchesSinceTrim.get(userId);
  if (n !== undefined && n + 1 < TRIM_EVERY) {
    touchesSinceTrim.set(userId, n + 1);
    return;
  }
  if (touchesSinceTrim.size > 10_000) touchesSinceTrim.clear();
  touchesSinceTrim.set(userId, 0);
  const old = await db.selectFrom('drive_recent').select('used_at').where('user_id', '=', userId).orderBy('used_at', 'desc').offset(KEEP_RECENT).limit(1).executeTakeFirst();
  if (old) await db.deleteFrom('drive_recent').where('user_id', '=', userId).where('used_at', '<=', Number(old.used_at)).execute();
}

/** The commands speak WebDAV's statuses in places; the JSON API answers with its own codes. */
async function mapped<T>(fn: () => Promise<T>): Promise<T> {
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

export async function viewsRoutes(app: App, platform: Platform): Promise<void> {
  const tags = ['drive'];

  // ---- favourites ----
  app.get('/drive/favourites', { schema: { tags, response: { 200: Type.Object({ items: Type.Array(Located) }) } } }, async (req) => {
    const me = requireUser(req.actor);
    const rows = await platform.db.selectFrom('drive_favourites').select(['node_id']).where('user_id', '=', me.userId).orderBy('created_at', 'desc').limit(MAX_FAVOURITES).execute();
    const found = await visible(platform, { platform, actor: req.actor }, rows.map((r) => r.node_id));
    return { items: rows.flatMap((r) => found.get(r.node_id) ?? []) };
  });

  app.post(
    '/drive/favourites',
    { schema: { tags, querystring: DriveQuery, body: Type.Object({ path: PathT }, strict), response: { 200: Type.Object({ item: Located }) } } },
    async (req) => {
      const me = requireUser(req.actor);
      const { ctx, owner } = await driveTarget(req, platform, req.query.drive);
      const node = await nodeAt(platform, ctx, owner, req.body.path);
      const count = await platform.db.selectFrom('drive_favourites').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', me.userId).executeTakeFirstOrThrow();
      if (Number(count.n) >= MAX_FAVOURITES) throw new AppError('conflict', { reason: 'too_many_favourites', max: MAX_FAVOURITES });
      await platform.db
        .insertInto('drive_favourites')
        .values({ user_id: me.userId, node_id: node.id, created_at: platform.clock.now() })
        .onConflict((oc) => oc.columns(['user_id', 'node_id']).doNothing())
        .execute();
      const path = await livePath(platform.db, node);
      return { item: located(node, req.query.drive ?? 'me', path ?? '/') };
    },
  );

  /** Unstars by node id: only the caller's own row can go, so nothing about other users leaks. */
  app.delete('/drive/favourites/:id', { schema: { tags, params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, strict) } }, async (req, reply) => {
    const me = requireUser(req.actor);
    const res = await platform.db.deleteFrom('drive_favourites').where('user_id', '=', me.userId).where('node_id', '=', req.params.id).executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) throw new AppError('not_found');
    return reply.status(204).send();
  });

  // ---- recent ----
  app.get('/drive/recent', { schema: { tags, response: { 200: Type.Object({ items: Type.Array(Located) }) } } }, async (req) => {
    const me = requireUser(req.actor);
    const rows = await platform.db.selectFrom('drive_recent').select(['node_id']).where('user_id', '=', me.userId).orderBy('used_at', 'desc').limit(MAX_RECENT * 2).execute();
    const found = await visible(platform, { platform, actor: req.actor }, rows.map((r) => r.node_id));
    return { items: rows.flatMap((r) => found.get(r.node_id) ?? []).filter((i) => i.kind === 'file').slice(0, MAX_RECENT) };
  });

  app.post('/drive/recent', { schema: { tags, querystring: DriveQuery, body: Type.Object({ path: PathT }, strict) } }, async (req, reply) => {
    const me = requireUser(req.actor);
    const { ctx, owner } = await driveTarget(req, platform, req.query.drive);
    const node = await nodeAt(platform, ctx, owner, req.body.path);
    if (node.kind !== 'file') throw new AppError('conflict', { reason: 'is_folder' });
    await touchRecent(platform.db, me.userId, node.id, platform.clock.now());
    return reply.status(204).send();
  });

  // ---- search by name ----
  const SearchQuery = Type.Object(
    {
      drive: Type.Optional(DriveRefT),
      q: Type.String({ minLength: 1, maxLength: 200 }),
      offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: SEARCH_PAGE_MAX })),
    },
    strict,
  );
  app.get(
    '/drive/search',
    { schema: { tags, querystring: SearchQuery, response: { 200: Type.Object({ items: Type.Array(Located), total: Type.Integer(), nextOffset: Type.Union([Type.Integer(), Type.Null()]) }) } } },
    async (req) => {
      const { ctx, owner } = await driveTarget(req, platform, req.query.drive);
      await authorizeRead(ctx, owner);
      const needle = foldName(req.query.q.trim());
      if (needle === '') throw new AppError('validation_failed', { fields: [{ path: '/q', message: 'empty' }] });
      const offset = req.query.offset ?? 0;
      const limit = req.query.limit ?? 50;
      // The drive's live nodes, once: names are folded here (accents and case), and folder paths come from
      // the same map. A node whose parent is not in it sits under a trashed folder and is left out.
      const rows = await platform.db
        .selectFrom('drive_nodes')
        .selectAll()
        .where('owner_type', '=', owner.type)
        .where('owner_id', '=', owner.id)
        .where('deleted_at', 'is', null)
        .execute();
      const byId = new Map(rows.map((r) => [r.id, r]));
      const pathCache = new Map<string, string | null>();
      const pathOf = (n: NodeRow, depth = 0): string | null => {
        const hit = pathCache.get(n.id);
        if (hit !== undefined) return hit;
        let p: string | null;
        if (n.parent_id === null) p = `/${n.name}`;
        else {
          const parent = byId.get(n.parent_id);
          const pp = parent && depth < 64 ? pathOf(parent, depth + 1) : null;
          p = pp === null ? null : `${pp}/${n.name}`;
        }
        pathCache.set(n.id, p);
        return p;
      };
      const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
      const hits: Array<{ node: NodeRow; path: string; starts: boolean }> = [];
      for (const n of rows) {
        const folded = foldName(n.name);
        const at = folded.indexOf(needle);
        if (at < 0) continue;
        const path = pathOf(n);
        if (path !== null) hits.push({ node: n, path, starts: at === 0 });
      }
      // Names that start with the query first, then folders, then by name.
      hits.sort((a, b) => Number(b.starts) - Number(a.starts) || (a.node.kind === b.node.kind ? 0 : a.node.kind === 'folder' ? -1 : 1) || collator.compare(a.node.name, b.node.name) || a.path.localeCompare(b.path));
      const page = hits.slice(offset, offset + limit);
      const drive = req.query.drive ?? 'me';
      return { items: page.map((h) => located(h.node, drive, h.path)), total: hits.length, nextOffset: offset + limit < hits.length ? offset + limit : null };
    },
  );

  // ---- quota ----
  app.get('/drive/quota', { schema: { tags, querystring: DriveQuery, response: { 200: Type.Object({ used: Type.Number(), available: Type.Number(), total: Type.Number() }) } } }, async (req) => {
    const { ctx, owner } = await driveTarget(req, platform, req.query.drive);
    await authorizeRead(ctx, owner);
    const q = await quota(platform, platform.db, owner);
    return { used: q.used, available: q.available, total: q.limit };
  });

  // ---- copy ----
  app.post(
    '/drive/copy',
    { schema: { tags, querystring: DriveQuery, body: Type.Object({ from: PathT, to: PathT }, strict), response: { 201: Type.Object({ item: Located }) } } },
    async (req, reply) => {
      const { ctx, owner } = await driveTarget(req, platform, req.query.drive);
      const from = parsePath(req.body.from);
      const to = parsePath(req.body.to);
      if (from.length === 0 || to.length === 0) throw new AppError('forbidden', { reason: 'root' });
      await mapped(() => copyNode(ctx, owner, from, to, { overwrite: false }));
      const node = await resolvePath(platform.db, owner, to);
      if (node === null || node === 'root') throw new AppError('not_found');
      return reply.status(201).send({ item: located(node, req.query.drive ?? 'me', `/${to.join('/')}`) });
    },
  );
}

/**
 * Files a user changes in their own drive join their recent list (space drives: the events do not say who
 * changed a file, so only opening records it there). Idempotent: the newest time wins.
 */
export const viewsEvents: NonNullable<BastideModule['events']> = [
  {
    topic: /^drive\.node\.(created|updated)$/,
    async handle(event, platform) {
      const { ownerType, ownerId, id } = event.data as { ownerType?: unknown; ownerId?: unknown; id?: unknown };
      if (ownerType !== 'user' || typeof ownerId !== 'string' || typeof id !== 'string') return;
      const node = await platform.db.selectFrom('drive_nodes').select(['kind', 'owner_id', 'deleted_at']).where('id', '=', id).executeTakeFirst();
      if (!node || node.kind !== 'file' || node.owner_id !== ownerId || node.deleted_at !== null) return;
      try {
        await touchRecent(platform.db, ownerId, id, event.at);
      } catch (e) {
        // Purged between the read and the write (foreign key): nothing to remember.
        const still = await platform.db.selectFrom('drive_nodes').select('id').where('id', '=', id).executeTakeFirst();
        if (still) throw e;
      }
    },
  },
];
