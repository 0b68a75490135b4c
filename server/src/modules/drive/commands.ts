import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { sql } from 'kysely';
import { AppError } from '../../errors.js';
import { newId } from '../../platform/ids.js';
import { addRef, releaseRef, trackUpload } from '../../platform/blobs/refs.js';
import type { DbOrTx, Tx } from '../../platform/db/index.js';
import type { Actor, Emit, Platform } from '../../platform/module.js';
import type { DriveNodesTable } from './schema.js';
import { driveResource, rootOf, type DriveOwnerRef } from './policy.js';
import { uniqueViolation } from '../identity/repo.js';
import { cleanNodeName, nameKey } from './names.js';

export type NodeRow = DriveNodesTable;
/** A drive (a user's or a space's), possibly reached through a share (paths then start at its node). */
export type Owner = DriveOwnerRef;
export interface DriveContext {
  platform: Platform;
  actor: Actor;
  ip?: string | undefined;
}
/** Runs inside the command's transaction before it writes (the DAV adapter checks locks and If here). */
export type Guard = (trx: Tx) => Promise<void>;

/** Folders nested deeper than this are refused (keeps recursive walks bounded). */
const MAX_DEPTH = 64;

export const newEtag = (): string => randomBytes(12).toString('hex');

export async function authorizeAction(ctx: DriveContext, owner: Owner, action: string): Promise<void> {
  await ctx.platform.policy.authorize(ctx.actor, action, await driveResource(ctx.platform.db, owner, ctx.actor));
}

/**
 * Children of a folder (null: the drive's root). Spelled as the unique index drive_nodes_name_uq is
 * (owner, coalesce(parent_id, ''), name_key, live rows), so both engines look up through it instead of
 * scanning the owner's whole drive.
 */
const inFolder = (parentId: string | null) => sql<boolean>`coalesce(parent_id, '') = ${parentId ?? ''}`;

function live(db: DbOrTx, owner: Owner) {
  return db.selectFrom('drive_nodes').selectAll().where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).where('deleted_at', 'is', null);
}

/**
 * The node at `segments` ('root' for the empty path of a whole drive), or null when absent. Through a
 * share, paths start at the shared node (the empty path is that node, when it is still there).
 */
export async function resolvePath(db: DbOrTx, owner: Owner, segments: string[]): Promise<NodeRow | 'root' | null> {
  if (segments.length > MAX_DEPTH) return null;
  let parent: string | null = null;
  let node: NodeRow | undefined;
  const rootId = rootOf(owner);
  if (rootId !== null) {
    node = await live(db, owner).where('id', '=', rootId).executeTakeFirst();
    if (!node || (await ancestors(db, owner, node)).trashed) return null;
    parent = node.id;
  }
  for (const seg of segments) {
    if (node && node.kind !== 'folder') return null;
    node = await live(db, owner)
      .where(inFolder(parent))
      .where('name_key', '=', nameKey(seg))
      .executeTakeFirst();
    if (!node) return null;
    parent = node.id;
  }
  return node ?? 'root';
}

/** The columns a listing shows (PROPFIND Depth 1): reading 1,000 rows costs about half of `select *`. */
export const LISTED_COLUMNS = ['id', 'name', 'kind', 'size', 'content_type', 'etag', 'created_at', 'updated_at', 'props'] as const;
export type ListedNode = Pick<NodeRow, (typeof LISTED_COLUMNS)[number]>;

export async function listChildrenForListing(db: DbOrTx, owner: Owner, parentId: string | null): Promise<ListedNode[]> {
  return db
    .selectFrom('drive_nodes')
    .select(LISTED_COLUMNS)
    .where('owner_type', '=', owner.type)
    .where('owner_id', '=', owner.id)
    .where('deleted_at', 'is', null)
    .where(inFolder(parentId))
    .orderBy('name_key')
    .execute();
}

export async function listChildren(db: DbOrTx, owner: Owner, parentId: string | null): Promise<NodeRow[]> {
  return live(db, owner)
    .where(inFolder(parentId))
    .orderBy('name_key')
    .execute();
}

/**
 * Bytes a drive uses: its files, the trash (rows leave only when purged) and the versions kept — one
 * row of drive_usage, which triggers keep in step with every write (usage.ts).
 */
export async function quotaUsed(db: DbOrTx, owner: Owner): Promise<number> {
  const row = await db.selectFrom('drive_usage').select('bytes').where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).executeTakeFirst();
  return Math.max(0, Number(row?.bytes ?? 0));
}

/** The quota of a drive: the administrator's figure for it, else the configured default. */
export async function quotaLimit(platform: Platform, db: DbOrTx, owner: Owner): Promise<number> {
  const q = await db.selectFrom('drive_quotas').select('bytes').where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).executeTakeFirst();
  if (q) return Number(q.bytes);
  return owner.type === 'space' ? platform.config.driveSpaceQuotaBytes : platform.config.driveQuotaBytes;
}

export async function quota(platform: Platform, db: DbOrTx, owner: Owner): Promise<{ used: number; limit: number; available: number }> {
  const [used, limit] = await Promise.all([quotaUsed(db, owner), quotaLimit(platform, db, owner)]);
  return { used, limit, available: Math.max(0, limit - used) };
}

/** Refuses early (before reading a body) a write of `length` bytes replacing `previous` that would not fit. */
export async function assertFits(platform: Platform, owner: Owner, length: number, previous = 0): Promise<void> {
  if (length <= 0) return;
  const { used, limit } = await quota(platform, platform.db, owner);
  if (used + length - previous > limit) throw new AppError('quota_exceeded');
}

/** Resolves the parent folder of a path for a write; 409 when it is missing or a file. */
async function parentFor(db: DbOrTx, owner: Owner, segments: string[]): Promise<string | null> {
  if (segments.length === 0) throw new AppError('forbidden', { reason: 'root' });
  if (segments.length > MAX_DEPTH) throw new AppError('conflict', { reason: 'too_deep' });
  const p = await resolvePath(db, owner, segments.slice(0, -1));
  if (p === null || (p !== 'root' && p.kind !== 'folder')) throw new AppError('conflict', { reason: 'no_parent' });
  return p === 'root' ? null : p.id;
}

/** Who hears of a change in a drive: its user, or the members of its space (shares: see share events). */
export async function driveAudience(db: DbOrTx, owner: Owner): Promise<string[]> {
  if (owner.type === 'user') return [owner.id];
  const rows = await db.selectFrom('space_members').select('user_id').where('space_id', '=', owner.id).limit(5000).execute();
  return rows.map((r) => r.user_id);
}

async function changed(trx: Tx, emit: Emit, owner: Owner, what: string, data: Record<string, unknown>): Promise<void> {
  await emit(`drive.node.${what}`, { ownerType: owner.type, ownerId: owner.id, ...data }, await driveAudience(trx, owner));
}

/** Inserts a node; two writers racing for one name meet the unique index, and the loser gets a 409. */
async function insertNode(trx: Tx, row: NodeRow): Promise<void> {
  try {
    await trx.insertInto('drive_nodes').values(row).execute();
  } catch (e) {
    if (uniqueViolation(e) !== null) throw new AppError('conflict', { reason: 'name_taken' });
    throw e;
  }
}

export async function createFolder(ctx: DriveContext, owner: Owner, segments: string[], guard?: Guard): Promise<NodeRow> {
  await authorizeAction(ctx, owner, 'write');
  const name = cleanNodeName(segments.at(-1) ?? '');
  const now = ctx.platform.clock.now();
  return ctx.platform.transaction(async (trx, emit) => {
    const parentId = await parentFor(trx, owner, segments);
    if (await resolvePath(trx, owner, segments)) throw new AppError('already_exists');
    await guard?.(trx);
    const row: NodeRow = {
      id: newId(now), owner_type: owner.type, owner_id: owner.id, parent_id: parentId, name, name_key: nameKey(name), kind: 'folder', size: 0,
      blob_sha256: null, content_type: '', etag: newEtag(), created_at: now, updated_at: now, deleted_at: null, props: '{}',
    };
    try {
      await insertNode(trx, row);
    } catch (e) {
      // Two MKCOLs raced for the same name: the loser finds it exists (405), as if it had come second.
      if (e instanceof AppError && e.code === 'conflict') throw new AppError('already_exists');
      throw e;
    }
    await changed(trx, emit, owner, 'created', { id: row.id, kind: 'folder' });
    return row;
  });
}

/**
 * Keeps the content a file had before an overwrite as a version (its blob reference moves to the
 * version), then drops the oldest beyond the configured count. Empty content is not kept.
 */
export async function keepVersion(trx: Tx, platform: Platform, owner: Owner, previous: NodeRow, now: number): Promise<void> {
  if (previous.blob_sha256 === null) return;
  if (platform.config.driveVersions === 0) {
    await releaseRef(trx, previous.blob_sha256, now);
    return;
  }
  await trx
    .insertInto('drive_versions')
    .values({
      id: newId(now), node_id: previous.id, owner_type: owner.type, owner_id: owner.id, blob_sha256: previous.blob_sha256, size: Number(previous.size),
      content_type: previous.content_type, etag: previous.etag, author_id: previous.modified_by ?? null, created_at: Number(previous.updated_at), replaced_at: now,
    })
    .execute();
  const extra = await trx.selectFrom('drive_versions').select(['id', 'blob_sha256']).where('node_id', '=', previous.id).orderBy('replaced_at', 'desc').orderBy('id', 'desc').offset(platform.config.driveVersions).limit(1000).execute();
  await dropVersions(trx, extra, now);
}

async function dropVersions(trx: Tx, versions: Array<{ id: string; blob_sha256: string | null }>, now: number): Promise<void> {
  for (const v of versions) {
    const res = await trx.deleteFrom('drive_versions').where('id', '=', v.id).executeTakeFirst();
    if (Number(res.numDeletedRows) === 1 && v.blob_sha256) await releaseRef(trx, v.blob_sha256, now);
  }
}

/**
 * After a write, the drive must fit its quota. Old versions of the file just written give way first
 * (oldest first) — a user near the limit can still save their work; beyond that the write is refused.
 */
async function fitOrDropVersions(trx: Tx, platform: Platform, owner: Owner, nodeId: string | null, now: number): Promise<void> {
  const limit = await quotaLimit(platform, trx, owner);
  let over = (await quotaUsed(trx, owner)) - limit;
  if (over <= 0) return;
  if (nodeId !== null) {
    const versions = await trx.selectFrom('drive_versions').select(['id', 'blob_sha256', 'size']).where('node_id', '=', nodeId).orderBy('replaced_at', 'asc').orderBy('id', 'asc').execute();
    const drop: typeof versions = [];
    for (const v of versions) {
      if (over <= 0) break;
      drop.push(v);
      over -= Number(v.size);
    }
    await dropVersions(trx, drop, now);
  }
  if (over > 0) throw new AppError('quota_exceeded');
}

/**
 * Creates or overwrites a file, streaming `body` to the blob store first; the node points at the blob
 * (addRef) in the same transaction that releases the previous content. `check` sees the existing node.
 */
export async function putFile(
  ctx: DriveContext,
  owner: Owner,
  segments: string[],
  body: Readable | Buffer,
  opts: { contentType?: string | undefined; guard?: Guard | undefined; check?: ((existing: NodeRow | null) => void) | undefined; createOnly?: boolean } = {},
): Promise<{ node: NodeRow; created: boolean }> {
  // createOnly: a new file, never an overwrite (what a file-drop link may do).
  await authorizeAction(ctx, owner, opts.createOnly ? 'create' : 'write');
  const name = cleanNodeName(segments.at(-1) ?? '');
  const { platform } = ctx;
  const info = await platform.blobs.put(body);
  await trackUpload(platform.db, info, platform.clock.now());
  const now = platform.clock.now();
  return platform.transaction(async (trx, emit) => {
    const parentId = await parentFor(trx, owner, segments);
    const existing = (await live(trx, owner).where(inFolder(parentId)).where('name_key', '=', nameKey(name)).executeTakeFirst()) ?? null;
    if (existing && existing.kind === 'folder') throw new AppError('method_not_allowed', { reason: 'is_folder' });
    if (opts.createOnly && existing) throw new AppError('conflict', { reason: 'name_taken' });
    opts.check?.(existing);
    await guard(trx, opts.guard);
    await addRef(trx, info, now);
    const contentType = (opts.contentType ?? '').slice(0, 200) || 'application/octet-stream';
    const author = ctx.actor.kind === 'user' ? ctx.actor.userId : null;
    if (existing) {
      // Guarded by the etag read above: a concurrent writer that got there first makes this one a 409
      // (and the previous content is kept or released exactly once).
      const res = await trx
        .updateTable('drive_nodes')
        .set({ blob_sha256: info.sha256, size: info.size, content_type: contentType, etag: newEtag(), updated_at: now, modified_by: author })
        .where('id', '=', existing.id)
        .where('etag', '=', existing.etag)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) throw new AppError('conflict', { reason: 'concurrent_write' });
      await keepVersion(trx, platform, owner, existing, now);
      await fitOrDropVersions(trx, platform, owner, existing.id, now);
      await changed(trx, emit, owner, 'updated', { id: existing.id });
      const node = await trx.selectFrom('drive_nodes').selectAll().where('id', '=', existing.id).executeTakeFirstOrThrow();
      return { node, created: false };
    }
    const row: NodeRow = {
      id: newId(now), owner_type: owner.type, owner_id: owner.id, parent_id: parentId, name, name_key: nameKey(name), kind: 'file', size: info.size,
      blob_sha256: info.sha256, content_type: contentType, etag: newEtag(), created_at: now, updated_at: now, deleted_at: null, props: '{}', modified_by: author,
    };
    await insertNode(trx, row);
    await fitOrDropVersions(trx, platform, owner, null, now);
    await changed(trx, emit, owner, 'created', { id: row.id, kind: 'file' });
    return { node: row, created: true };
  });
}

async function guard(trx: Tx, g: Guard | undefined): Promise<void> {
  if (g) await g(trx);
}

/**
 * The subtree rooted at `node`, the node first. With `withTrashed`, also the rows in the trash below it
 * (still attached to their parent): what must go when the subtree goes for good.
 */
async function subtree(db: DbOrTx, owner: Owner, node: NodeRow, opts: { withTrashed?: boolean } = {}): Promise<NodeRow[]> {
  const out: NodeRow[] = [node];
  for (let i = 0; i < out.length; i++) {
    const n = out[i]!;
    if (n.kind !== 'folder') continue;
    out.push(
      ...(opts.withTrashed
        ? await db.selectFrom('drive_nodes').selectAll().where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).where('parent_id', '=', n.id).execute()
        : await listChildren(db, owner, n.id)),
    );
  }
  return out;
}

/**
 * Deletes a subtree's rows for good (trashed ones below it too), releasing their blob references; the
 * number of rows removed. Children go before parents (foreign keys). A reference is released only by the
 * transaction whose delete removed the row, so two concurrent deletes of one tree never release a blob twice.
 */
async function purgeTree(trx: Tx, owner: Owner, node: NodeRow, now: number): Promise<number> {
  const nodes = await subtree(trx, owner, node, { withTrashed: true });
  let removed = 0;
  for (const n of [...nodes].reverse()) {
    if (n.kind === 'file') await dropVersions(trx, await trx.selectFrom('drive_versions').select(['id', 'blob_sha256']).where('node_id', '=', n.id).execute(), now);
    const res = await trx.deleteFrom('drive_nodes').where('id', '=', n.id).executeTakeFirst();
    if (Number(res.numDeletedRows) !== 1) continue;
    removed++;
    if (n.blob_sha256) await releaseRef(trx, n.blob_sha256, now);
  }
  return removed;
}

/** Moves a node to the trash: only the node is marked; its subtree stays attached and is unreachable. */
export async function deleteNode(ctx: DriveContext, owner: Owner, segments: string[], g?: Guard): Promise<void> {
  if (segments.length === 0) throw new AppError('forbidden', { reason: 'root' });
  await authorizeAction(ctx, owner, 'delete');
  const now = ctx.platform.clock.now();
  await ctx.platform.transaction(async (trx, emit) => {
    const node = await resolvePath(trx, owner, segments);
    if (node === null) throw new AppError('not_found');
    if (node === 'root') throw new AppError('forbidden', { reason: 'root' });
    await guard(trx, g);
    const res = await trx.updateTable('drive_nodes').set({ deleted_at: now }).where('id', '=', node.id).where('deleted_at', 'is', null).executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new AppError('not_found');
    await ctx.platform.audit.record(trx, { actor: ctx.actor, action: 'drive.node.deleted', targetType: 'drive-node', targetId: node.id, ip: ctx.ip, details: { name: node.name, kind: node.kind, trashed: true } });
    await changed(trx, emit, owner, 'deleted', { id: node.id });
  });
}

export interface TrashItem {
  node: NodeRow;
  originalPath: string;
}

async function nodeById(db: DbOrTx, owner: Owner, id: string): Promise<NodeRow | undefined> {
  return db.selectFrom('drive_nodes').selectAll().where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).where('id', '=', id).executeTakeFirst();
}

/** The ancestors of a node, nearest first; `trashed` when one of them is in the trash. */
async function ancestors(db: DbOrTx, owner: Owner, node: NodeRow): Promise<{ chain: NodeRow[]; trashed: boolean }> {
  const chain: NodeRow[] = [];
  let parentId = node.parent_id;
  while (parentId !== null && chain.length <= MAX_DEPTH) {
    const p = await nodeById(db, owner, parentId);
    if (!p) break;
    chain.push(p);
    parentId = p.parent_id;
  }
  return { chain, trashed: chain.some((p) => p.deleted_at !== null) };
}

/** The names from the drive's root to a live node (its own name last); null when it or a folder above is gone. */
export async function nodePath(db: DbOrTx, owner: Owner, nodeId: string): Promise<string[] | null> {
  const node = await nodeById(db, { type: owner.type, id: owner.id }, nodeId);
  if (!node || node.deleted_at !== null) return null;
  const { chain, trashed } = await ancestors(db, owner, node);
  if (trashed) return null;
  return [...chain.reverse().map((p) => p.name), node.name];
}

/** A trashed node that is not itself inside a trashed folder; 404 otherwise. */
async function trashedNode(db: DbOrTx, owner: Owner, id: string): Promise<NodeRow> {
  const node = await nodeById(db, owner, id);
  if (!node || node.deleted_at === null) throw new AppError('not_found');
  if ((await ancestors(db, owner, node)).trashed) throw new AppError('not_found');
  return node;
}

/** The trash: nodes deleted directly (those inside a trashed folder go and come back with it), newest first. */
export async function listTrash(ctx: DriveContext, owner: Owner): Promise<TrashItem[]> {
  await authorizeAction(ctx, owner, 'trash');
  const rows = await ctx.platform.db
    .selectFrom('drive_nodes')
    .selectAll()
    .where('owner_type', '=', owner.type)
    .where('owner_id', '=', owner.id)
    .where('deleted_at', 'is not', null)
    .orderBy('deleted_at', 'desc')
    .orderBy('name_key')
    .execute();
  const out: TrashItem[] = [];
  for (const node of rows) {
    const { chain, trashed } = await ancestors(ctx.platform.db, owner, node);
    if (trashed) continue;
    out.push({ node, originalPath: `/${chain.reverse().map((p) => p.name).join('/')}` });
  }
  return out;
}

/**
 * Restores a trashed node to its original folder (to the root when that folder is itself in the trash);
 * when the name is taken there meanwhile, the node comes back as "name (restored)".
 */
export async function restoreNode(ctx: DriveContext, owner: Owner, id: string): Promise<NodeRow> {
  await authorizeAction(ctx, owner, 'trash');
  const now = ctx.platform.clock.now();
  return ctx.platform.transaction(async (trx, emit) => {
    const node = await trashedNode(trx, owner, id);
    let parentId = node.parent_id;
    if (parentId !== null) {
      const parent = await nodeById(trx, owner, parentId);
      if (!parent || parent.deleted_at !== null || parent.kind !== 'folder' || (await ancestors(trx, owner, parent)).trashed) parentId = null;
    }
    const taken = async (key: string) =>
      (await live(trx, owner)
        .where(inFolder(parentId))
        .where('name_key', '=', key)
        .executeTakeFirst()) !== undefined;
    let name = node.name;
    for (let i = 1; await taken(nameKey(name)); i++) {
      const dot = node.kind === 'file' ? node.name.lastIndexOf('.') : -1;
      const [stem, ext] = dot > 0 ? [node.name.slice(0, dot), node.name.slice(dot)] : [node.name, ''];
      name = cleanNodeName(`${stem} (restored${i > 1 ? ` ${i}` : ''})${ext}`);
      if (i > 1000) throw new AppError('conflict', { reason: 'name_taken' });
    }
    try {
      await trx.updateTable('drive_nodes').set({ deleted_at: null, parent_id: parentId, name, name_key: nameKey(name), updated_at: now }).where('id', '=', node.id).execute();
    } catch (e) {
      if (uniqueViolation(e) !== null) throw new AppError('conflict', { reason: 'name_taken' });
      throw e;
    }
    await ctx.platform.audit.record(trx, { actor: ctx.actor, action: 'drive.node.restored', targetType: 'drive-node', targetId: node.id, ip: ctx.ip, details: { name, kind: node.kind } });
    await changed(trx, emit, owner, 'created', { id: node.id, kind: node.kind });
    return trx.selectFrom('drive_nodes').selectAll().where('id', '=', node.id).executeTakeFirstOrThrow();
  });
}

/** Deletes one trashed item for good. */
export async function purgeNode(ctx: DriveContext, owner: Owner, id: string): Promise<void> {
  await authorizeAction(ctx, owner, 'trash');
  const now = ctx.platform.clock.now();
  await ctx.platform.transaction(async (trx, emit) => {
    const node = await trashedNode(trx, owner, id);
    const count = await purgeTree(trx, owner, node, now);
    if (count === 0) throw new AppError('not_found');
    await ctx.platform.audit.record(trx, { actor: ctx.actor, action: 'drive.node.purged', targetType: 'drive-node', targetId: node.id, ip: ctx.ip, details: { name: node.name, kind: node.kind, nodes: count } });
    await changed(trx, emit, owner, 'purged', { id: node.id });
  });
}

/** Empties the trash; the number of items purged. */
export async function emptyTrash(ctx: DriveContext, owner: Owner): Promise<number> {
  await authorizeAction(ctx, owner, 'trash');
  const items = await listTrash(ctx, owner);
  const now = ctx.platform.clock.now();
  return ctx.platform.transaction(async (trx, emit) => {
    let nodes = 0;
    for (const { node } of items) nodes += await purgeTree(trx, owner, node, now);
    await ctx.platform.audit.record(trx, { actor: ctx.actor, action: 'drive.trash.emptied', targetType: 'drive-node', ip: ctx.ip, details: { items: items.length, nodes } });
    await changed(trx, emit, owner, 'purged', { count: items.length });
    return items.length;
  });
}

async function prepareDestination(trx: Tx, ctx: DriveContext, owner: Owner, to: string[], overwrite: boolean, now: number): Promise<{ parentId: string | null; replaced: boolean }> {
  const parentId = await parentFor(trx, owner, to);
  const dest = await resolvePath(trx, owner, to);
  if (dest === 'root') throw new AppError('forbidden', { reason: 'root' });
  if (dest && !overwrite) throw new AppError('precondition_failed', { reason: 'destination_exists' });
  if (dest) {
    if ((await purgeTree(trx, owner, dest, now)) === 0) throw new AppError('not_found');
    await ctx.platform.audit.record(trx, { actor: ctx.actor, action: 'drive.node.deleted', targetType: 'drive-node', targetId: dest.id, ip: ctx.ip, details: { name: dest.name, kind: dest.kind, overwritten: true } });
  }
  return { parentId, replaced: dest !== null };
}

function isInside(inner: string[], outer: string[]): boolean {
  return inner.length >= outer.length && outer.every((s, i) => nameKey(s) === nameKey(inner[i]!));
}

/** Copies a node (folders recursively unless depth is 0); Overwrite semantics as in WebDAV. */
export async function copyNode(ctx: DriveContext, owner: Owner, from: string[], to: string[], opts: { overwrite: boolean; shallow?: boolean; guard?: Guard }): Promise<{ created: boolean }> {
  if (from.length === 0 || to.length === 0) throw new AppError('forbidden', { reason: 'root' });
  await authorizeAction(ctx, owner, 'read');
  if (from.length === 0 || to.length === 0) throw new AppError('forbidden', { reason: 'root' });
  await authorizeAction(ctx, owner, 'write');
  const name = cleanNodeName(to.at(-1) ?? '');
  if (isInside(to, from) || isInside(from, to)) throw new AppError('forbidden', { reason: 'same_or_inside' });
  const now = ctx.platform.clock.now();
  return ctx.platform.transaction(async (trx, emit) => {
    const src = await resolvePath(trx, owner, from);
    if (src === null) throw new AppError('not_found');
    if (src === 'root') throw new AppError('forbidden', { reason: 'root' });
    await guard(trx, opts.guard);
    const nodes = opts.shallow ? [src] : await subtree(trx, owner, src);
    const size = nodes.reduce((s, n) => s + Number(n.size), 0);
    const { parentId, replaced } = await prepareDestination(trx, ctx, owner, to, opts.overwrite, now);
    if ((await quotaUsed(trx, owner)) + size > (await quotaLimit(ctx.platform, trx, owner))) throw new AppError('quota_exceeded');
    const ids = new Map<string, string>();
    for (const n of nodes) {
      const id = newId(now);
      ids.set(n.id, id);
      const isRoot = n === src;
      await insertNode(trx, {
        ...n, id, parent_id: isRoot ? parentId : ids.get(n.parent_id!)!, name: isRoot ? name : n.name, name_key: isRoot ? nameKey(name) : n.name_key,
        etag: newEtag(), created_at: now, updated_at: now, deleted_at: null,
      });
      if (n.blob_sha256) await addRef(trx, { sha256: n.blob_sha256, size: Number(n.size) }, now);
    }
    await changed(trx, emit, owner, 'created', { id: ids.get(src.id), kind: src.kind });
    return { created: !replaced };
  });
}

/** Moves or renames a node; Overwrite semantics as in WebDAV. */
export async function moveNode(ctx: DriveContext, owner: Owner, from: string[], to: string[], opts: { overwrite: boolean; guard?: Guard }): Promise<{ created: boolean }> {
  if (from.length === 0 || to.length === 0) throw new AppError('forbidden', { reason: 'root' });
  await authorizeAction(ctx, owner, 'write');
  const name = cleanNodeName(to.at(-1) ?? '');
  if (isInside(to, from) || isInside(from, to)) throw new AppError('forbidden', { reason: 'same_or_inside' });
  const now = ctx.platform.clock.now();
  return ctx.platform.transaction(async (trx, emit) => {
    const src = await resolvePath(trx, owner, from);
    if (src === null) throw new AppError('not_found');
    if (src === 'root') throw new AppError('forbidden', { reason: 'root' });
    await guard(trx, opts.guard);
    const { parentId, replaced } = await prepareDestination(trx, ctx, owner, to, opts.overwrite, now);
    await trx.updateTable('drive_nodes').set({ parent_id: parentId, name, name_key: nameKey(name), updated_at: now }).where('id', '=', src.id).execute();
    await changed(trx, emit, owner, 'moved', { id: src.id });
    return { created: !replaced };
  });
}

export type PropOp = { op: 'set'; name: string; value: string } | { op: 'remove'; name: string };

/** Applies dead-property changes atomically (Clark names, values are inner XML). */
export async function patchProps(ctx: DriveContext, owner: Owner, segments: string[], ops: PropOp[], g?: Guard): Promise<void> {
  if (segments.length === 0) throw new AppError('forbidden', { reason: 'root' });
  await authorizeAction(ctx, owner, 'write');
  await ctx.platform.transaction(async (trx, emit) => {
    const node = await resolvePath(trx, owner, segments);
    if (node === null) throw new AppError('not_found');
    if (node === 'root') throw new AppError('forbidden', { reason: 'root' });
    await guard(trx, g);
    const props = JSON.parse(node.props) as Record<string, string>;
    for (const o of ops) {
      if (o.op === 'set') props[o.name] = o.value;
      else delete props[o.name];
    }
    const text = JSON.stringify(props);
    if (text.length > 1024 * 1024) throw new AppError('payload_too_large');
    await trx.updateTable('drive_nodes').set({ props: text }).where('id', '=', node.id).execute();
    await changed(trx, emit, owner, 'updated', { id: node.id });
  });
}

/** Read access check for adapters that read through resolvePath/listChildren. */
export async function authorizeRead(ctx: DriveContext, owner: Owner): Promise<void> {
  await authorizeAction(ctx, owner, 'read');
}
