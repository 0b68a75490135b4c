import { createHash, randomBytes } from 'node:crypto';
import { AppError } from '../../errors.js';
import type { DbOrTx } from '../../platform/db/index.js';
import { newId } from '../../platform/ids.js';
import { uniqueViolation } from '../identity/repo.js';
import type { CalendarSharesTable } from './schema.js';
import { ownerOf, type CollectionRow, type CollectionStore, type StoreContext } from './store.js';

/**
 * Calendar sharing: a calendar given to a user or a group, read (private items as busy time) or write
 * (read and write its objects); and one secret read-only ICS address per calendar (only its SHA-256 is
 * kept; a new one revokes the previous). The store asks `grantOf` on every request, so a revocation takes
 * effect at once. A shared calendar appears in the sharee's CalDAV home as `shared-<calendar id>`.
 */
export type ShareRow = CalendarSharesTable;
export type Permission = 'read' | 'write';
export const MAX_SHARES_PER_CALENDAR = 500;
export const SHARED_PREFIX = 'shared-';

/** The best share of a calendar reaching a user (directly or through one of their groups). */
export async function grantOf(db: DbOrTx, collectionId: string, userId: string): Promise<Permission | null> {
  const rows = await db
    .selectFrom('calendar_shares')
    .select('permission')
    .where('collection_id', '=', collectionId)
    .where((eb) =>
      eb.or([
        eb.and([eb('grantee_type', '=', 'user'), eb('grantee_id', '=', userId)]),
        eb.and([eb('grantee_type', '=', 'group'), eb('grantee_id', 'in', eb.selectFrom('group_members').select('group_id').where('user_id', '=', userId))]),
      ]),
    )
    .execute();
  if (rows.length === 0) return null;
  return rows.some((r) => r.permission === 'write') ? 'write' : 'read';
}

/** The users a calendar is shared with (realtime audience of its changes). */
export async function shareAudience(db: DbOrTx, collectionId: string): Promise<string[]> {
  const shares = await db.selectFrom('calendar_shares').select(['grantee_type', 'grantee_id']).where('collection_id', '=', collectionId).limit(MAX_SHARES_PER_CALENDAR).execute();
  const out = new Set<string>();
  for (const s of shares) for (const u of await granteeUsers(db, s.grantee_type, s.grantee_id)) out.add(u);
  return [...out];
}

/** The users a grantee stands for. */
export async function granteeUsers(db: DbOrTx, type: string, id: string): Promise<string[]> {
  if (type === 'user') return [id];
  if (type === 'group') return (await db.selectFrom('group_members').select('user_id').where('group_id', '=', id).limit(5000).execute()).map((r) => r.user_id);
  return [];
}

export async function granteeName(db: DbOrTx, type: string, id: string): Promise<string | null> {
  if (type === 'user') {
    const u = await db.selectFrom('users').select(['display_name', 'disabled']).where('id', '=', id).executeTakeFirst();
    return u && Number(u.disabled) === 0 ? u.display_name : null;
  }
  if (type === 'group') return (await db.selectFrom('groups').select('name').where('id', '=', id).executeTakeFirst())?.name ?? null;
  return null;
}

/** The calendar of `id` when the actor may share it (its owner; never a resource's or a space's). */
export async function shareable(store: CollectionStore, ctx: StoreContext, id: string): Promise<CollectionRow> {
  const coll = await store.byId(ctx, id);
  await store.authorize(ctx, ownerOf(coll), 'admin', coll.id);
  if (coll.owner_type !== 'user') throw new AppError('forbidden', { reason: 'not_a_personal_calendar' });
  return coll;
}

const actorId = (ctx: StoreContext): string | null => (ctx.actor.kind === 'user' ? ctx.actor.userId : null);

export async function shareCalendar(
  store: CollectionStore,
  ctx: StoreContext,
  id: string,
  grantee: { type: 'user' | 'group'; id: string },
  permission: Permission,
): Promise<{ share: ShareRow; created: boolean }> {
  const coll = await shareable(store, ctx, id);
  const { platform } = ctx;
  if (grantee.type === 'user' && grantee.id === coll.owner_id) throw new AppError('validation_failed', { reason: 'share_with_self' });
  if ((await granteeName(platform.db, grantee.type, grantee.id)) === null) throw new AppError('validation_failed', { reason: 'unknown_grantee' });
  const now = platform.clock.now();
  return platform.transaction(async (trx, emit) => {
    const n = await trx.selectFrom('calendar_shares').select((eb) => eb.fn.countAll<number>().as('n')).where('collection_id', '=', coll.id).executeTakeFirst();
    const existing = await trx.selectFrom('calendar_shares').selectAll().where('collection_id', '=', coll.id).where('grantee_type', '=', grantee.type).where('grantee_id', '=', grantee.id).executeTakeFirst();
    if (!existing && Number(n?.n ?? 0) >= MAX_SHARES_PER_CALENDAR) throw new AppError('validation_failed', { reason: 'too_many_shares' });
    let share: ShareRow;
    if (existing) {
      await trx.updateTable('calendar_shares').set({ permission }).where('id', '=', existing.id).execute();
      share = { ...existing, permission };
    } else {
      share = { id: newId(now), collection_id: coll.id, grantee_type: grantee.type, grantee_id: grantee.id, permission, created_by: actorId(ctx), created_at: now };
      try {
        await trx.insertInto('calendar_shares').values(share).execute();
      } catch (e) {
        if (uniqueViolation(e) !== null) throw new AppError('conflict', { reason: 'already_shared' });
        throw e;
      }
    }
    await platform.audit.record(trx, {
      actor: ctx.actor, action: existing ? 'calendar.share.updated' : 'calendar.share.created', targetType: 'calendar', targetId: coll.id,
      details: { share: share.id, name: coll.display_name, grantee: `${grantee.type}:${grantee.id}`, permission },
    });
    const audience = [...new Set([coll.owner_id, ...(await granteeUsers(trx, grantee.type, grantee.id))])];
    await emit('calendar.share.changed', { collectionId: coll.id, shareId: share.id, granteeType: grantee.type, granteeId: grantee.id, ...(existing ? {} : { created: true }) }, audience);
    return { share, created: !existing };
  });
}

async function ownShare(store: CollectionStore, ctx: StoreContext, id: string, shareId: string): Promise<{ coll: CollectionRow; share: ShareRow }> {
  const coll = await shareable(store, ctx, id);
  const share = await ctx.platform.db.selectFrom('calendar_shares').selectAll().where('id', '=', shareId).where('collection_id', '=', coll.id).executeTakeFirst();
  if (!share) throw new AppError('not_found');
  return { coll, share };
}

export async function updateShare(store: CollectionStore, ctx: StoreContext, id: string, shareId: string, permission: Permission): Promise<ShareRow> {
  const { coll, share } = await ownShare(store, ctx, id, shareId);
  return ctx.platform.transaction(async (trx, emit) => {
    await trx.updateTable('calendar_shares').set({ permission }).where('id', '=', share.id).execute();
    await ctx.platform.audit.record(trx, { actor: ctx.actor, action: 'calendar.share.updated', targetType: 'calendar', targetId: coll.id, details: { share: share.id, permission } });
    await emit('calendar.share.changed', { collectionId: coll.id, shareId: share.id, granteeType: share.grantee_type, granteeId: share.grantee_id }, [coll.owner_id, ...(await granteeUsers(trx, share.grantee_type, share.grantee_id))]);
    return { ...share, permission };
  });
}

export async function revokeShare(store: CollectionStore, ctx: StoreContext, id: string, shareId: string): Promise<void> {
  const { coll, share } = await ownShare(store, ctx, id, shareId);
  await ctx.platform.transaction(async (trx, emit) => {
    await trx.deleteFrom('calendar_shares').where('id', '=', share.id).execute();
    await ctx.platform.audit.record(trx, { actor: ctx.actor, action: 'calendar.share.revoked', targetType: 'calendar', targetId: coll.id, details: { share: share.id, grantee: `${share.grantee_type}:${share.grantee_id}` } });
    await emit('calendar.share.changed', { collectionId: coll.id, shareId: share.id, granteeType: share.grantee_type, granteeId: share.grantee_id, revoked: true }, [coll.owner_id, ...(await granteeUsers(trx, share.grantee_type, share.grantee_id))]);
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

export async function sharesOf(store: CollectionStore, ctx: StoreContext, id: string): Promise<{ shares: ShareView[]; publicLink: { createdAt: number } | null }> {
  const coll = await shareable(store, ctx, id);
  const db = ctx.platform.db;
  const rows = await db.selectFrom('calendar_shares').selectAll().where('collection_id', '=', coll.id).orderBy('created_at').execute();
  const shares: ShareView[] = [];
  for (const r of rows) {
    shares.push({ id: r.id, granteeType: r.grantee_type, granteeId: r.grantee_id, granteeName: (await granteeName(db, r.grantee_type, r.grantee_id)) ?? '?', permission: r.permission, createdAt: Number(r.created_at) });
  }
  const link = await db.selectFrom('calendar_links').select('created_at').where('collection_id', '=', coll.id).executeTakeFirst();
  return { shares, publicLink: link ? { createdAt: Number(link.created_at) } : null };
}

export interface SharedCalendar {
  coll: CollectionRow;
  permission: Permission;
  owner: { id: string; login: string; displayName: string };
}

/** The calendars others shared with a user (directly or through a group), oldest share first. */
export async function sharedWith(db: DbOrTx, userId: string): Promise<SharedCalendar[]> {
  const rows = await db
    .selectFrom('calendar_shares as s')
    .innerJoin('calendar_collections as c', 'c.id', 's.collection_id')
    .innerJoin('users as u', (j) => j.onRef('u.id', '=', 'c.owner_id'))
    .selectAll('c')
    .select(['s.permission as share_permission', 'u.login as owner_login', 'u.display_name as owner_name', 'u.disabled as owner_disabled'])
    .where('c.owner_type', '=', 'user')
    .where('c.owner_id', '!=', userId)
    .where((eb) =>
      eb.or([
        eb.and([eb('s.grantee_type', '=', 'user'), eb('s.grantee_id', '=', userId)]),
        eb.and([eb('s.grantee_type', '=', 'group'), eb('s.grantee_id', 'in', eb.selectFrom('group_members').select('group_id').where('user_id', '=', userId))]),
      ]),
    )
    .orderBy('s.created_at')
    .limit(1000)
    .execute();
  const out = new Map<string, SharedCalendar>();
  for (const r of rows) {
    if (Number(r.owner_disabled) !== 0) continue;
    const { share_permission, owner_login, owner_name, owner_disabled: _d, ...coll } = r;
    const permission: Permission = share_permission === 'write' ? 'write' : 'read';
    const prev = out.get(coll.id);
    if (prev) {
      if (permission === 'write') prev.permission = 'write';
      continue;
    }
    out.set(coll.id, { coll: coll as CollectionRow, permission, owner: { id: coll.owner_id, login: owner_login, displayName: owner_name } });
  }
  return [...out.values()];
}

// -------------------------------------------------------------------------------------- public link

const hashToken = (t: string): string => createHash('sha256').update(t).digest('hex');

export async function createPublicLink(store: CollectionStore, ctx: StoreContext, id: string): Promise<{ token: string; createdAt: number }> {
  const coll = await shareable(store, ctx, id);
  const token = randomBytes(24).toString('base64url');
  const now = ctx.platform.clock.now();
  await ctx.platform.transaction(async (trx, emit) => {
    await trx.deleteFrom('calendar_links').where('collection_id', '=', coll.id).execute();
    await trx.insertInto('calendar_links').values({ collection_id: coll.id, token_hash: hashToken(token), created_by: actorId(ctx), created_at: now }).execute();
    await ctx.platform.audit.record(trx, { actor: ctx.actor, action: 'calendar.link.created', targetType: 'calendar', targetId: coll.id, details: { name: coll.display_name } });
    await emit('calendar.collection.updated', { id: coll.id }, [coll.owner_id]);
  });
  return { token, createdAt: now };
}

export async function revokePublicLink(store: CollectionStore, ctx: StoreContext, id: string): Promise<void> {
  const coll = await shareable(store, ctx, id);
  await ctx.platform.transaction(async (trx, emit) => {
    const r = await trx.deleteFrom('calendar_links').where('collection_id', '=', coll.id).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw new AppError('not_found');
    await ctx.platform.audit.record(trx, { actor: ctx.actor, action: 'calendar.link.revoked', targetType: 'calendar', targetId: coll.id, details: { name: coll.display_name } });
    await emit('calendar.collection.updated', { id: coll.id }, [coll.owner_id]);
  });
}

/** The calendar a public token designates (null when unknown or revoked). */
export async function calendarOfToken(db: DbOrTx, token: string): Promise<CollectionRow | null> {
  if (!/^[A-Za-z0-9_-]{20,64}$/.test(token)) return null;
  const row = await db
    .selectFrom('calendar_links as l')
    .innerJoin('calendar_collections as c', 'c.id', 'l.collection_id')
    .selectAll('c')
    .where('l.token_hash', '=', hashToken(token))
    .executeTakeFirst();
  return row ?? null;
}
