import type { FastifyRequest } from 'fastify';
import { verifyAppPassword } from '../../modules/identity/commands/credentials.js';
import type { Platform } from '../../platform/module.js';
import { hasScope, type UserActor } from '../../platform/policy.js';

/** The challenge every DAV endpoint (files, calendars, address books) sends with a 401. */
export const REALM = 'Basic realm="Bastide", charset="UTF-8"';

/**
 * HTTP Basic with an app password that has the 'dav' scope (never a cookie): the actor of a DAV
 * request, or null. Shared by WebDAV, CalDAV and CardDAV.
 */
export async function authenticate(platform: Platform, req: FastifyRequest): Promise<UserActor | null> {
  const h = req.headers.authorization;
  if (typeof h !== 'string' || !/^basic /i.test(h)) return null;
  const decoded = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return null;
  const found = await verifyAppPassword(platform, decoded.slice(0, i), decoded.slice(i + 1));
  if (!found) return null;
  const actor: UserActor = { kind: 'user', userId: found.user.id, login: found.user.login, isAdmin: found.user.is_admin === 1, via: 'app-password', scopes: found.scopes as UserActor['scopes'] };
  return hasScope(actor, 'dav') ? actor : null;
}
