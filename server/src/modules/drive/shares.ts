import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { AppError } from '../../errors.js';
import { newId } from '../../platform/ids.js';
import type { DbOrTx } from '../../platform/db/index.js';
import { hashPassword, sha256 } from '../identity/secrets.js';
import { uniqueViolation } from '../identity/repo.js';
import { authorizeAction, driveAudience, resolvePath, type DriveContext, type NodeRow, type Owner } from './commands.js';
import type { DriveLinksTable, DriveSharesTable } from './schema.js';

/**
 * Sharing: a node (and what is below it) given to a user, a group or a space's members, read or write;
 * and public links (read, or upload-only "file drop") with optional password, expiry and download limit.
 * Creating and revoking need the 'share' right on the drive (its owner, a space's members). Every request
 * through a share or link checks it again (policy.ts, links.ts), so a revocation takes effect at once.
 */
export type ShareRow = DriveSharesTable;
export type LinkRow = DriveLinksTable;
export type GranteeType = 'user' | 'group' | 'space';
export type Permission = 'read' | 'write';

const MAX_SHARES_PER_NODE = 500;
const MAX_LINKS_PER_NODE = 50;

/** The node at a path, for sharing: never a whole drive's root, never through someone else's share. */
async function shareableNode(ctx: DriveContext, owner: Owner, segments: string[]): Promise<NodeRow> {
  if (owner.share || owner.link) throw new AppError('forbidden', { reason: 'reshare' });
  await authorizeAction(ctx, owner, 'share');
  if (segments.length === 0) throw new AppError('forbidden', { reason: 'root' });
  const node = await resolvePath(ctx.platform.db, owner, segments);
  if (node === null || node === 'root') throw new AppError('not_found');
  return node;
}

/** The users a grantee stands for (to notify them and refresh their views). */
export async function granteeUsers(db: DbOrTx, type: string, id: string): Promise<string[]> {
  if (type === 'user') return [id];
  if (type === 'group') return (await db.selectFrom('group_members').select('user_id').where('group_id', '=', id).limit(5000).execute()).map((r) => r.user_id);
  if (type === 'space') return (await db.selectFrom('space_members').select('user_id').where('space_id', '=', id).limit(5000).execute()).map((r) => r.user_id);
  return [];
}

async function granteeName(db: DbOrTx, type: string, id: string): Promise<string | null> {
  if (type === 'user') {
    const u = await db.selectFrom('users').select(['display_name', 'disabled']).where('id', '=', id).executeTakeFirst();
    return u && u.disabled === 0 ? u.display_name : null;
  }
  if (type === 'group') return (await db.selectFrom('groups').select('name').where('id', '=', id).executeTakeFirst())?.name ?? null;
  if (type === 'space') return (await db.selectFrom('spaces').select('name').where('id', '=', id).where('archived', '=', 0).executeTakeFirst())?.name ?? null;
  return null;
}

export async function createShare(ctx: DriveContext, owner: Owner, segments: string[], grantee: { type: GranteeType; id: string }, permission: Permission): Promise<ShareRow> {
  const node = await shareableNode(ctx, owner, segments);
  const { platform } = ctx;
  if (grantee.type === 'user' && owner.type === 'user' && grantee.id === owner.id) throw new AppError('validation_failed', { reason: 'share_with_self' });
  if (grantee.type === 'space' && owner.type === 'space' && grantee.id === owner.id) throw new AppError('validation_failed', { reason: 'share_with_owner_space' });
  if ((await granteeName(platform.db, grantee.type, grantee.id)) === null) throw new AppError('validation_failed', { reason: 'unknown_grantee' });
  const now = platform.clock.now();
  return platform.transaction(async (trx, emit) => {
    const count = await trx.selectFrom('drive_shares').select((eb) => eb.fn.countAll<number>().as('n')).where('node_id', '=', node.id).executeTakeFirst();
    if (Number(count?.n ?? 0) >= MAX_SHARES_PER_NODE) throw new AppError('validation_failed', { reason: 'too_many_shares' });
    const existing = await trx.selectFrom('drive_shares').selectAll().where('node_id', '=', node.id).where('grantee_type', '=', grantee.type).where('grantee_id', '=', grantee.id).executeTakeFirst();
    let row: ShareRow;
    if (existing) {
      await trx.updateTable('drive_shares').set({ permission }).where('id', '=', existing.id).execute();
      row = { ...existing, permission };
    } else {
      row = {
        id: newId(now), node_id: node.id, owner_type: owner.type, owner_id: owner.id, grantee_type: grantee.type, grantee_id: grantee.id, permission,
        created_by: ctx.actor.kind === 'user' ? ctx.actor.userId : null, created_at: now,
      };
      try {
        await trx.insertInto('drive_shares').values(row).execute();
      } catch (e) {
        if (uniqueViolation(e) !== null) throw new AppError('conflict', { reason: 'already_shared' });
        throw e;
      }
    }
    await platform.audit.record(trx, {
      actor: ctx.actor, action: existing ? 'drive.share.updated' : 'drive.share.created', targetType: 'drive-node', targetId: node.id, ip: ctx.ip,
      details: { share: row.id, name: node.name, grantee: `${grantee.type}:${grantee.id}`, permission },
    });
    const audience = [...new Set([...(await granteeUsers(trx, grantee.type, grantee.id)), ...(await driveAudience(trx, owner))])];
    await emit('drive.share.changed', { shareId: row.id, nodeId: node.id, name: node.name, kind: node.kind, granteeType: grantee.type, granteeId: grantee.id, created: !existing }, audience);
    return row;
  });
}

/** A share of this drive by id (404 when it belongs elsewhere). */
async function ownShare(ctx: DriveContext, owner: Owner, shareId: string): Promise<ShareRow> {
  if (owner.share || owner.link) throw new AppError('forbidden', { reason: 'reshare' });
  await authorizeAction(ctx, owner, 'share');
  const s = await ctx.platform.db.selectFrom('drive_shares').selectAll().where('id', '=', shareId).where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).executeTakeFirst();
  if (!s) throw new AppError('not_found');
  return s;
}

export async function updateShare(ctx: DriveContext, owner: Owner, shareId: string, permission: Permission): Promise<ShareRow> {
  const s = await ownShare(ctx, owner, shareId);
  return ctx.platform.transaction(async (trx, emit) => {
    await trx.updateTable('drive_shares').set({ permission }).where('id', '=', s.id).execute();
    await ctx.platform.audit.record(trx, { actor: ctx.actor, action: 'drive.share.updated', targetType: 'drive-node', targetId: s.node_id, ip: ctx.ip, details: { share: s.id, permission } });
    await emit('drive.share.changed', { shareId: s.id, nodeId: s.node_id }, await granteeUsers(trx, s.grantee_type, s.grantee_id));
    return { ...s, permission };
  });
}

export async function revokeShare(ctx: DriveContext, owner: Owner, shareId: string): Promise<void> {
  const s = await ownShare(ctx, owner, shareId);
  await ctx.platform.transaction(async (trx, emit) => {
    await trx.deleteFrom('drive_shares').where('id', '=', s.id).execute();
    await ctx.platform.audit.record(trx, { actor: ctx.actor, action: 'drive.share.revoked', targetType: 'drive-node', targetId: s.node_id, ip: ctx.ip, details: { share: s.id, grantee: `${s.grantee_type}:${s.grantee_id}` } });
    await emit('drive.share.changed', { shareId: s.id, nodeId: s.node_id, revoked: true }, await granteeUsers(trx, s.grantee_type, s.grantee_id));
  });
}

export interface ShareView {
  id: string;
  granteeType: string;
  granteeId: string;
  granteeName: string;
  permission: string;
  createdAt: number;
}

/** Shares and links of one node (for its owner's share dialog). */
export async function sharesOf(ctx: DriveContext, owner: Owner, segments: string[]): Promise<{ node: NodeRow; shares: ShareView[]; links: LinkRow[] }> {
  const node = await shareableNode(ctx, owner, segments);
  const db = ctx.platform.db;
  const rows = await db.selectFrom('drive_shares').selectAll().where('node_id', '=', node.id).orderBy('created_at').execute();
  const shares: ShareView[] = [];
  for (const r of rows) {
    shares.push({ id: r.id, granteeType: r.grantee_type, granteeId: r.grantee_id, granteeName: (await granteeName(db, r.grantee_type, r.grantee_id)) ?? '?', permission: r.permission, createdAt: Number(r.created_at) });
  }
  const links = await db.selectFrom('drive_links').selectAll().where('node_id', '=', node.id).orderBy('created_at').execute();
  return { node, shares, links };
}

export interface SharedWithMe {
  shareId: string;
  node: NodeRow;
  permission: string;
  ownerName: string;
  via: string;
  sharedAt: number;
}

/** What others shared with the caller (directly, through a group or a space), live nodes only. */
export async function sharedWithMe(ctx: DriveContext): Promise<SharedWithMe[]> {
  if (ctx.actor.kind !== 'user') throw new AppError('unauthenticated');
  const me = ctx.actor.userId;
  const db = ctx.platform.db;
  const rows = await db
    .selectFrom('drive_shares as s')
    .innerJoin('drive_nodes as n', 'n.id', 's.node_id')
    .selectAll('n')
    .select(['s.id as share_id', 's.permission as share_permission', 's.grantee_type as share_grantee_type', 's.created_at as shared_at', 's.created_by as shared_by'])
    .where('n.deleted_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb.and([eb('s.grantee_type', '=', 'user'), eb('s.grantee_id', '=', me)]),
        eb.and([eb('s.grantee_type', '=', 'group'), eb('s.grantee_id', 'in', db.selectFrom('group_members').select('group_id').where('user_id', '=', me))]),
        eb.and([eb('s.grantee_type', '=', 'space'), eb('s.grantee_id', 'in', db.selectFrom('space_members').select('space_id').where('user_id', '=', me))]),
      ]),
    )
    .where(sql<boolean>`not (n.owner_type = 'user' and n.owner_id = ${me})`)
    .orderBy('s.created_at', 'desc')
    .limit(1000)
    .execute();
  const out: SharedWithMe[] = [];
  for (const r of rows) {
    // The same node reached twice (directly and through a group): show it once, the strongest permission.
    const prior = out.find((o) => o.node.id === r.id);
    if (prior) {
      if (r.share_permission === 'write' && prior.permission !== 'write') Object.assign(prior, { shareId: r.share_id, permission: 'write' });
      continue;
    }
    // A node inside a trashed folder is not reachable: resolvePath through the share says so.
    const owner: Owner = { type: r.owner_type === 'space' ? 'space' : 'user', id: r.owner_id, share: { id: r.share_id, rootId: r.id } };
    if ((await resolvePath(db, owner, [])) === null) continue;
    const { share_id, share_permission, share_grantee_type, shared_at, shared_by, ...node } = r;
    let ownerName = '';
    if (r.owner_type === 'user') ownerName = (await db.selectFrom('users').select('display_name').where('id', '=', r.owner_id).executeTakeFirst())?.display_name ?? '';
    else ownerName = (await db.selectFrom('spaces').select('name').where('id', '=', r.owner_id).executeTakeFirst())?.name ?? '';
    void shared_by;
    out.push({ shareId: share_id, node: node as NodeRow, permission: share_permission, ownerName, via: share_grantee_type, sharedAt: Number(shared_at) });
  }
  return out;
}

// ---- public links ----

export interface LinkOptions {
  mode: 'read' | 'drop';
  password?: string | null | undefined;
  expiresAt?: number | null | undefined;
  maxDownloads?: number | null | undefined;
  label?: string | undefined;
}

export async function createLink(ctx: DriveContext, owner: Owner, segments: string[], opts: LinkOptions): Promise<LinkRow> {
  const node = await shareableNode(ctx, owner, segments);
  const { platform } = ctx;
  if (opts.mode === 'drop' && node.kind !== 'folder') throw new AppError('validation_failed', { reason: 'drop_needs_folder' });
  const now = platform.clock.now();
  if (typeof opts.expiresAt === 'number' && opts.expiresAt <= now) throw new AppError('validation_failed', { reason: 'expiry_in_past' });
  const passwordHash = opts.password ? await hashPassword(opts.password) : null;
  return platform.transaction(async (trx, emit) => {
    const count = await trx.selectFrom('drive_links').select((eb) => eb.fn.countAll<number>().as('n')).where('node_id', '=', node.id).executeTakeFirst();
    if (Number(count?.n ?? 0) >= MAX_LINKS_PER_NODE) throw new AppError('validation_failed', { reason: 'too_many_links' });
    const row: LinkRow = {
      id: newId(now), token: randomBytes(24).toString('base64url'), node_id: node.id, owner_type: owner.type, owner_id: owner.id, mode: opts.mode,
      password_hash: passwordHash, expires_at: opts.expiresAt ?? null, max_downloads: opts.maxDownloads ?? null, downloads: 0, label: (opts.label ?? '').slice(0, 200),
      created_by: ctx.actor.kind === 'user' ? ctx.actor.userId : null, created_at: now,
    };
    await trx.insertInto('drive_links').values(row).execute();
    await platform.audit.record(trx, { actor: ctx.actor, action: 'drive.link.created', targetType: 'drive-node', targetId: node.id, ip: ctx.ip, details: { link: row.id, name: node.name, mode: row.mode, password: passwordHash !== null, expiresAt: row.expires_at, maxDownloads: row.max_downloads } });
    await emit('drive.link.changed', { linkId: row.id, nodeId: node.id }, await driveAudience(trx, owner));
    return row;
  });
}

async function ownLink(ctx: DriveContext, owner: Owner, linkId: string): Promise<LinkRow> {
  if (owner.share || owner.link) throw new AppError('forbidden', { reason: 'reshare' });
  await authorizeAction(ctx, owner, 'share');
  const l = await ctx.platform.db.selectFrom('drive_links').selectAll().where('id', '=', linkId).where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).executeTakeFirst();
  if (!l) throw new AppError('not_found');
  return l;
}

/** Changes a link's limits; `password: null` removes it, undefined keeps it. */
export async function updateLink(ctx: DriveContext, owner: Owner, linkId: string, patch: Partial<LinkOptions>): Promise<LinkRow> {
  const l = await ownLink(ctx, owner, linkId);
  const now = ctx.platform.clock.now();
  if (typeof patch.expiresAt === 'number' && patch.expiresAt <= now) throw new AppError('validation_failed', { reason: 'expiry_in_past' });
  const set: Partial<LinkRow> = {};
  if (patch.password !== undefined) set.password_hash = patch.password ? await hashPassword(patch.password) : null;
  if (patch.expiresAt !== undefined) set.expires_at = patch.expiresAt;
  if (patch.maxDownloads !== undefined) set.max_downloads = patch.maxDownloads;
  if (patch.label !== undefined) set.label = patch.label.slice(0, 200);
  if (Object.keys(set).length === 0) return l;
  return ctx.platform.transaction(async (trx, emit) => {
    await trx.updateTable('drive_links').set(set).where('id', '=', l.id).execute();
    await ctx.platform.audit.record(trx, { actor: ctx.actor, action: 'drive.link.updated', targetType: 'drive-node', targetId: l.node_id, ip: ctx.ip, details: { link: l.id, fields: Object.keys(set) } });
    await emit('drive.link.changed', { linkId: l.id, nodeId: l.node_id }, await driveAudience(trx, owner));
    return { ...l, ...set };
  });
}

export async function revokeLink(ctx: DriveContext, owner: Owner, linkId: string): Promise<void> {
  const l = await ownLink(ctx, owner, linkId);
  await ctx.platform.transaction(async (trx, emit) => {
    await trx.deleteFrom('drive_links').where('id', '=', l.id).execute();
    await ctx.platform.audit.record(trx, { actor: ctx.actor, action: 'drive.link.revoked', targetType: 'drive-node', targetId: l.node_id, ip: ctx.ip, details: { link: l.id } });
    await emit('drive.link.changed', { linkId: l.id, nodeId: l.node_id, revoked: true }, await driveAudience(trx, owner));
  });
}

/** The value of the cookie that proves a visitor gave a link's password (changes with the password). */
export function unlockProof(link: Pick<LinkRow, 'token' | 'password_hash'>): string {
  return sha256(`bastide-link:${link.token}:${link.password_hash ?? ''}`);
}
