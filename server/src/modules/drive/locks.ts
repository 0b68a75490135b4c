import { randomUUID } from 'node:crypto';
import { AppError } from '../../errors.js';
import type { DbOrTx, Tx } from '../../platform/db/index.js';
import type { DriveLocksTable } from './schema.js';
import type { DriveContext, Owner } from './commands.js';
import { driveResource } from './policy.js';

export type LockRow = DriveLocksTable;
export const DEFAULT_LOCK_SECONDS = 3600;
export const MAX_LOCK_SECONDS = 7 * 86400;

/**
 * The owner's unexpired locks (expired ones are removed on the way). Lock paths are kept relative to the
 * owner's root; through a share they are seen relative to the share's root (a depth-infinity lock above
 * it covers the whole share, seen at its root), and locks elsewhere in the owner's drive are not seen.
 */
export async function activeLocks(db: DbOrTx, owner: Owner, now: number): Promise<LockRow[]> {
  await db.deleteFrom('drive_locks').where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).where('expires_at', '<=', now).execute();
  const rows = await db.selectFrom('drive_locks').selectAll().where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).execute();
  const prefix = sharePrefix(owner);
  if (prefix === null) return rows;
  const out: LockRow[] = [];
  for (const l of rows) {
    if (l.path === prefix || l.path.startsWith(`${prefix}/`)) out.push({ ...l, path: l.path.slice(prefix.length) });
    else if (l.depth === 'infinity' && prefix.startsWith(`${l.path}/`)) out.push({ ...l, path: '' });
  }
  return out;
}

/** The share root's path in the owner's drive, for a drive reached through a share; null otherwise. */
function sharePrefix(owner: Owner): string | null {
  if (!owner.share) return null;
  if (owner.share.prefix === undefined) throw new Error('share prefix not resolved');
  return owner.share.prefix;
}

const ownerPath = (owner: Owner, path: string): string => (sharePrefix(owner) ?? '') + path;

/** Locks whose scope includes `path`: on it, or depth-infinity on an ancestor. */
export function covering(locks: LockRow[], path: string): LockRow[] {
  return locks.filter((l) => l.path === path || (l.depth === 'infinity' && path.startsWith(`${l.path}/`)));
}

/** Locks on strict descendants of `path`. */
export function below(locks: LockRow[], path: string): LockRow[] {
  return locks.filter((l) => l.path.startsWith(`${path}/`));
}

export function parentPath(path: string): string | null {
  if (path === '') return null;
  return path.slice(0, path.lastIndexOf('/'));
}

/**
 * The locks a write at `path` must present a token for: the locks covering it, its parent's depth-0
 * lock when its membership changes, and locks below it when a whole subtree is replaced or removed.
 */
export function protecting(locks: LockRow[], path: string, opts: { membership?: boolean; subtree?: boolean }): LockRow[] {
  const out = new Set(covering(locks, path));
  const parent = parentPath(path);
  if (opts.membership && parent !== null) for (const l of locks) if (l.path === parent) out.add(l);
  if (opts.subtree) for (const l of below(locks, path)) out.add(l);
  return [...out];
}

/** Throws `locked` unless every protecting lock's token was submitted by the principal who holds it. */
export function assertMayWrite(locks: LockRow[], tokens: Set<string>, principalId: string): void {
  for (const l of locks) if (!tokens.has(l.token) || l.principal_id !== principalId) throw new AppError('locked', { path: l.path });
}

export function conflicts(locks: LockRow[], path: string, scope: string, depth: string): LockRow[] {
  const relevant = [...covering(locks, path), ...(depth === 'infinity' ? below(locks, path) : [])];
  return relevant.filter((l) => scope === 'exclusive' || l.scope === 'exclusive');
}

export function clampTimeout(requested: number | null): number {
  if (requested === Infinity) return MAX_LOCK_SECONDS;
  if (requested === null || !Number.isFinite(requested) || requested <= 0) return DEFAULT_LOCK_SECONDS;
  return Math.min(Math.floor(requested), MAX_LOCK_SECONDS);
}

export async function insertLock(
  ctx: DriveContext,
  trx: Tx,
  owner: Owner,
  input: { path: string; depth: string; scope: string; ownerXml: string; timeoutSeconds: number },
): Promise<LockRow> {
  if (ctx.actor.kind !== 'user') throw new AppError('unauthenticated');
  await ctx.platform.policy.authorize(ctx.actor, 'lock', await driveResource(trx, owner, ctx.actor));
  const now = ctx.platform.clock.now();
  const row: LockRow = {
    token: `urn:uuid:${randomUUID()}`,
    owner_type: owner.type,
    owner_id: owner.id,
    path: ownerPath(owner, input.path),
    principal_id: ctx.actor.userId,
    depth: input.depth,
    scope: input.scope,
    owner_xml: input.ownerXml.slice(0, 16 * 1024),
    timeout_seconds: input.timeoutSeconds,
    expires_at: now + input.timeoutSeconds * 1000,
    created_at: now,
  };
  await trx.insertInto('drive_locks').values(row).execute();
  return { ...row, path: input.path };
}

export async function refreshLock(db: DbOrTx, token: string, timeoutSeconds: number, now: number): Promise<LockRow> {
  await db.updateTable('drive_locks').set({ timeout_seconds: timeoutSeconds, expires_at: now + timeoutSeconds * 1000 }).where('token', '=', token).execute();
  return db.selectFrom('drive_locks').selectAll().where('token', '=', token).executeTakeFirstOrThrow();
}

export async function removeLock(db: DbOrTx, token: string): Promise<void> {
  await db.deleteFrom('drive_locks').where('token', '=', token).execute();
}

/** Drops the locks on a path and below (the resource was deleted or moved away). */
export async function removeLocksAt(db: DbOrTx, owner: Owner, relative: string): Promise<void> {
  const path = ownerPath(owner, relative);
  const locks = await db.selectFrom('drive_locks').select(['token', 'path']).where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).execute();
  for (const l of locks) if (l.path === path || l.path.startsWith(`${path}/`)) await removeLock(db, l.token);
}
