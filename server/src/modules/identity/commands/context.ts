import type { Actor } from '../../../platform/policy.js';
import type { Platform } from '../../../platform/module.js';

/** What every identity command receives besides its input. */
export interface CommandContext {
  platform: Platform;
  actor: Actor;
  ip?: string | undefined;
  userAgent?: string | undefined;
}

export const LOGIN_RE = /^[a-z0-9][a-z0-9._-]{1,62}$/;
export const EMAIL_RE = /^[^\s@<>()[\]\\,;:"]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;
/** Audience token for events every administrator's app should see. */
export const ADMINS = 'role:admin';
