import { hasScope, type Rule } from '../../platform/policy.js';

/**
 * Who may do what with a calendar or an address book (resource facts: ownerType, ownerId, id, and
 * `grant`, the share of that collection reaching the actor, loaded by the store).
 * - The owner: everything, from the web app (session), an API token with the 'api' scope or a protocol
 *   client with a 'dav' app password.
 * - A share (sharing.ts): 'read' reads (private items as busy time, the store redacts them), 'write' also
 *   writes objects. Renaming, deleting, sharing and publishing ('admin') stay the owner's.
 * - A resource's calendar (ownerType 'resource', resources.ts): administrators manage it (not with an app
 *   password); every user reads it as busy time; bookings arrive by scheduling (the system actor).
 * Actions: read, write (objects), admin (properties, delete, share).
 */
export const collectionRule: Rule = (actor, action, r) => {
  if (actor.kind !== 'user') return false;
  if (actor.via !== 'session' && !hasScope(actor, 'dav') && !hasScope(actor, 'api')) return false;
  if (r.ownerType === 'user' && r.ownerId === actor.userId) return true;
  if (r.ownerType === 'resource') {
    if (actor.isAdmin && actor.via !== 'app-password') return true;
    return action === 'read';
  }
  if (r.grant === 'write') return action === 'read' || action === 'write';
  if (r.grant === 'read') return action === 'read';
  return false;
};

/** Resources (rooms, vehicles, equipment): every user lists them to book; administrators manage them. */
export const resourceRule: Rule = (actor, action) => {
  if (actor.kind !== 'user') return false;
  if (actor.via !== 'session' && !hasScope(actor, 'api') && !hasScope(actor, 'dav')) return false;
  if (action === 'read') return true;
  return actor.isAdmin && actor.via !== 'app-password' && ['create', 'update', 'delete'].includes(action);
};
