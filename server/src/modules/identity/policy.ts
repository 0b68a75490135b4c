import type { Rule } from '../../platform/policy.js';

/**
 * Identity rules.
 * - user: anyone signed in may read the directory entry of an active user; a user manages their own
 *   profile and credentials (from an interactive session or an API token, never from an app password);
 *   administrators (session or API token, never an app password) create, administer and delete users
 *   (not themselves, to avoid lock-out by mistake).
 * - group: administrators manage groups; members may read the groups they are in.
 */
export const userRule: Rule = (actor, action, resource) => {
  if (actor.kind !== 'user') return false;
  const self = resource.id === actor.userId;
  switch (action) {
    case 'read-directory':
      return true;
    case 'update-profile':
    case 'manage-credentials':
      return self && actor.via !== 'app-password';
    case 'create':
    case 'administer':
    case 'list':
      return actor.isAdmin && actor.via !== 'app-password';
    case 'delete':
      return actor.isAdmin && actor.via !== 'app-password' && !self;
    default:
      return false;
  }
};

export const groupRule: Rule = (actor, action) => {
  if (actor.kind !== 'user') return false;
  return actor.isAdmin && actor.via !== 'app-password' && ['list', 'read', 'create', 'update', 'delete', 'manage-members'].includes(action);
};

export const auditRule: Rule = (actor, action) => actor.kind === 'user' && actor.isAdmin && actor.via !== 'app-password' && (action === 'read' || action === 'verify');
