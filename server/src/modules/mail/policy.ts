import { hasScope, type Rule } from '../../platform/policy.js';

/**
 * Who may use a mailbox (resource type 'mailbox'; facts: ownerType, ownerId, spaceRole).
 * - A user's mailboxes: that user only — from the web app (session), an API token with the 'api' scope,
 *   or a mail client with an app password carrying the 'mail' scope. Administrators get no access to
 *   other people's mail.
 * - A space's shared mailbox (contact@): the space's members read and write it (owner, manager, member;
 *   not guests); creating, renaming and deleting its folders ('admin') needs manager or owner.
 * Actions: read (list, select, fetch, search), write (append, flags, copy into, expunge), admin.
 */
export const mailboxRule: Rule = (actor, action, r) => {
  if (actor.kind !== 'user') return false;
  if (actor.via !== 'session' && !hasScope(actor, 'mail') && !hasScope(actor, 'api')) return false;
  if (r.ownerType === 'user') return r.ownerId === actor.userId;
  if (r.ownerType === 'space') {
    const role = r.spaceRole as string | null | undefined;
    if (action === 'admin') return role === 'owner' || role === 'manager';
    return role === 'owner' || role === 'manager' || role === 'member';
  }
  return false;
};

/** Mail domains and addresses: administrators only (resource type 'mail_admin'). */
export const mailAdminRule: Rule = (actor) => actor.kind === 'user' && actor.isAdmin && actor.via === 'session';
