import type { FastifyRequest } from 'fastify';
import { newId, randomToken } from '../../../platform/ids.js';
import type { Platform, AuthResult } from '../../../platform/module.js';
import type { Scope } from '../../../platform/policy.js';
import { sha256 } from '../secrets.js';
import type { UserRow } from '../repo.js';
import { verifyAppPassword } from './credentials.js';
import { sessionCache } from '../session-cache.js';

export const SESSION_COOKIE = 'bastide_session';
const TOUCH_EVERY_MS = 60_000;

export interface NewSession {
  id: string;
  token: string;
  csrfToken: string;
}

export async function createSession(
  platform: Platform,
  user: UserRow,
  meta: { ip?: string | undefined; userAgent?: string | undefined },
): Promise<NewSession> {
  const now = platform.clock.now();
  const token = randomToken(32);
  const csrfToken = randomToken(24);
  const id = newId(now);
  await platform.transaction(async (trx) => {
    await trx
      .insertInto('sessions')
      .values({
        id,
        user_id: user.id,
        token_hash: sha256(token),
        csrf_token: csrfToken,
        created_at: now,
        last_seen_at: now,
        expires_at: now + platform.config.sessionIdleHours * 3600_000,
        user_agent: meta.userAgent?.slice(0, 300) ?? null,
        ip: meta.ip ?? null,
      })
      .execute();
    await trx.updateTable('users').set({ last_login_at: now }).where('id', '=', user.id).execute();
  });
  return { id, token, csrfToken };
}

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+([A-Za-z0-9._~+/=-]{10,200})$/.exec(h);
  return m?.[1];
}

function basic(req: FastifyRequest): { login: string; password: string } | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=]{4,1000})$/.exec(h);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i <= 0) return undefined;
  return { login: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

/**
 * Resolves who is calling: session cookie, then bearer API token, then HTTP Basic with an app password
 * (for protocol clients). Disabled users, expired sessions and revoked credentials resolve to nobody.
 */
export async function authenticateRequest(req: FastifyRequest, platform: Platform): Promise<AuthResult | null> {
  const now = platform.clock.now();
  const cookieToken = req.cookies[SESSION_COOKIE];
  if (cookieToken && cookieToken.length <= 100) {
    const hash = sha256(cookieToken);
    const cache = sessionCache(platform);
    let s = cache.get(hash);
    if (!s) {
      const row = await platform.db
        .selectFrom('sessions')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .select([
          'sessions.id as sid',
          'sessions.csrf_token',
          'sessions.expires_at',
          'sessions.last_seen_at',
          'users.id as uid',
          'users.login',
          'users.is_admin',
          'users.disabled',
        ])
        .where('sessions.token_hash', '=', hash)
        .executeTakeFirst();
      if (row && row.disabled === 0) {
        s = {
          sid: row.sid,
          csrfToken: row.csrf_token,
          expiresAt: Number(row.expires_at),
          lastSeenAt: Number(row.last_seen_at),
          userId: row.uid,
          login: row.login,
          isAdmin: row.is_admin === 1,
          cachedAt: now,
        };
        cache.set(hash, s);
      }
    }
    if (s && s.expiresAt > now) {
      if (now - s.lastSeenAt > TOUCH_EVERY_MS) {
        s.lastSeenAt = now;
        s.expiresAt = now + platform.config.sessionIdleHours * 3600_000;
        await platform.db.updateTable('sessions').set({ last_seen_at: now, expires_at: s.expiresAt }).where('id', '=', s.sid).execute();
      }
      return {
        actor: { kind: 'user', userId: s.userId, login: s.login, isAdmin: s.isAdmin, via: 'session', scopes: 'all', sessionId: s.sid },
        csrfToken: s.csrfToken,
      };
    }
  }
  const token = bearer(req);
  if (token) {
    const row = await platform.db
      .selectFrom('api_tokens')
      .innerJoin('users', 'users.id', 'api_tokens.user_id')
      .select(['api_tokens.id as tid', 'api_tokens.expires_at', 'api_tokens.last_used_at', 'users.id as uid', 'users.login', 'users.is_admin', 'users.disabled'])
      .where('api_tokens.token_hash', '=', sha256(token))
      .executeTakeFirst();
    if (row && row.disabled === 0 && (row.expires_at === null || Number(row.expires_at) > now)) {
      if (row.last_used_at === null || now - Number(row.last_used_at) > TOUCH_EVERY_MS) {
        await platform.db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', row.tid).execute();
      }
      return { actor: { kind: 'user', userId: row.uid, login: row.login, isAdmin: row.is_admin === 1, via: 'token', scopes: ['api'] } };
    }
    return null;
  }
  const creds = basic(req);
  if (creds) {
    const found = await verifyAppPassword(platform, creds.login, creds.password);
    // This resolves callers of the JSON API: an app password opens it only with the 'api' scope.
    if (found && found.scopes.includes('api')) {
      return {
        actor: { kind: 'user', userId: found.user.id, login: found.user.login, isAdmin: found.user.is_admin === 1, via: 'app-password', scopes: found.scopes as Scope[] },
      };
    }
  }
  return null;
}

export async function endSession(platform: Platform, sessionId: string): Promise<void> {
  await platform.transaction(async (trx, emit) => {
    const s = await trx.selectFrom('sessions').select(['user_id']).where('id', '=', sessionId).executeTakeFirst();
    await trx.deleteFrom('sessions').where('id', '=', sessionId).execute();
    if (s) await emit('identity.session.ended', { sessionId, userId: s.user_id }, [s.user_id]);
  });
}
