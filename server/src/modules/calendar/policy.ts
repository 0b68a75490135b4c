import { hasScope, type Rule } from '../../platform/policy.js';

/**
 * Who may do what with a calendar or an address book (resource facts: ownerType, ownerId, id).
 * Today: the owner, from the web app (session), an API token with the 'api' scope or a protocol client
 * with a 'dav' app password. Sharing (per-user/group grants) and space calendars (space roles) add cases
 * here, as facts loaded by the store (e.g. `grants`), without changing any caller.
 * Actions: read, write (objects and properties), admin (delete, share).
 */
export const collectionRule: Rule = (actor, _action, r) => {
  if (actor.kind !== 'user') return false;
  if (actor.via !== 'session' && !hasScope(actor, 'dav') && !hasScope(actor, 'api')) return false;
  return r.ownerType === 'user' && r.ownerId === actor.userId;
};
