import type { DbOrTx } from '../../platform/db/index.js';
import { hasScope, type Actor, type Resource, type Rule } from '../../platform/policy.js';
import { spaceResource, type SpaceRole } from '../spaces/index.js';

/**
 * Who may do what in a drive. A drive belongs to a user or a space; a request reaches it as its owner,
 * as a member of the space, or through a share (a node and what is below it, given to a user, a group or
 * a space's members, read or write). Public links are checked in links.ts against the link's own limits.
 *
 * Actions: read, write, create (add a new file only: what a file-drop link allows), delete (to the
 * trash), lock (WebDAV locks, as write), share (create/revoke shares and links), trash (list, restore and purge the trash);
 * read-quota and set-quota are the administrators'.
 */
export interface DriveOwnerRef {
  type: 'user' | 'space';
  id: string;
  /**
   * Set when the drive is reached through a share: the share and the node at its root. `prefix` is the
   * root's path key in the owner's drive ("/a/b"), set by WebDAV, whose locks are kept in owner paths.
   */
  share?: { id: string; rootId: string; prefix?: string } | undefined;
  /** Set when the drive is reached through a public link (checked by links.ts, facts in `linkFacts`). */
  link?: { id: string; rootId: string; mode: 'read' | 'drop'; usable: boolean } | undefined;
}

/** The node paths start at when the drive is reached through a share or a link. */
export function rootOf(owner: DriveOwnerRef): string | null {
  return owner.share?.rootId ?? owner.link?.rootId ?? null;
}

export interface DriveResource extends Resource {
  type: 'drive-node';
  ownerType: 'user' | 'space';
  ownerId: string;
  /** The actor's role in the owning space (space drives, not through a share). */
  spaceRole?: SpaceRole | null;
  spaceArchived?: boolean;
  /** Through a share: whether it is (still) given to the actor, and with which permission. */
  share?: { granted: boolean; permission: 'read' | 'write' };
  /** Through a public link: whether it may be used now (not expired, not exhausted, unlocked), and its mode. */
  link?: { usable: boolean; mode: 'read' | 'drop' };
}

export const driveNodeRule: Rule = (actor, action, r) => {
  const res = r as DriveResource;
  // A public link: anyone holding it, within its limits. Read links read; drop links only add files.
  if (res.link) {
    if (!res.link.usable) return false;
    if (res.link.mode === 'read') return action === 'read';
    return action === 'create';
  }
  if (actor.kind !== 'user') return false;
  // Administrators see and set quotas (never the files), from a session or an API token.
  if (action === 'read-quota' || action === 'set-quota') return actor.isAdmin && actor.via !== 'app-password';
  if (actor.via !== 'session' && !hasScope(actor, 'dav')) return false;
  if (res.share) {
    if (!res.share.granted) return false;
    if (action === 'read') return true;
    if (action === 'write' || action === 'create' || action === 'delete' || action === 'lock') return res.share.permission === 'write';
    return false;
  }
  if (res.ownerType === 'user') return res.ownerId === actor.userId;
  if (res.ownerType === 'space') {
    const role = res.spaceRole ?? null;
    if (role === null) return false;
    if (action === 'read') return true;
    if (res.spaceArchived) return false;
    if (action === 'write' || action === 'create' || action === 'delete' || action === 'lock') return true;
    // Guests work with what is there; members and above share it and manage the trash.
    if (action === 'share' || action === 'trash') return role !== 'guest';
    return false;
  }
  return false;
};

/** Is the share `shareId` on `rootId` of this owner given to the actor (directly, by group, by space)? */
export async function shareGrant(db: DbOrTx, owner: DriveOwnerRef, actor: Actor): Promise<{ granted: boolean; permission: 'read' | 'write' }> {
  const denied = { granted: false, permission: 'read' as const };
  if (!owner.share || actor.kind !== 'user') return denied;
  const s = await db
    .selectFrom('drive_shares')
    .select(['grantee_type', 'grantee_id', 'permission', 'node_id', 'owner_type', 'owner_id'])
    .where('id', '=', owner.share.id)
    .executeTakeFirst();
  if (!s || s.node_id !== owner.share.rootId || s.owner_type !== owner.type || s.owner_id !== owner.id) return denied;
  const permission = s.permission === 'write' ? 'write' : 'read';
  if (s.grantee_type === 'user') return { granted: s.grantee_id === actor.userId, permission };
  if (s.grantee_type === 'group') {
    const m = await db.selectFrom('group_members').select('user_id').where('group_id', '=', s.grantee_id).where('user_id', '=', actor.userId).executeTakeFirst();
    return { granted: m !== undefined, permission };
  }
  if (s.grantee_type === 'space') {
    const m = await db.selectFrom('space_members').select('user_id').where('space_id', '=', s.grantee_id).where('user_id', '=', actor.userId).executeTakeFirst();
    return { granted: m !== undefined, permission };
  }
  return denied;
}

/** Loads the facts the rule needs for one drive. */
export async function driveResource(db: DbOrTx, owner: DriveOwnerRef, actor: Actor): Promise<DriveResource> {
  const base: DriveResource = { type: 'drive-node', ownerType: owner.type, ownerId: owner.id };
  if (owner.link) return { ...base, link: { usable: owner.link.usable, mode: owner.link.mode } };
  if (owner.share) return { ...base, share: await shareGrant(db, owner, actor) };
  if (owner.type === 'space') {
    const s = await spaceResource(db, owner.id, actor);
    return { ...base, spaceRole: s?.role ?? null, spaceArchived: s?.archived ?? true };
  }
  return base;
}
