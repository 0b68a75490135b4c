import { AppError } from '../../../errors.js';
import { newId, randomToken } from '../../../platform/ids.js';
import type { Platform } from '../../../platform/module.js';
import { requireUser, type Scope } from '../../../platform/policy.js';
import { generateAppPassword, sha256 } from '../secrets.js';
import { users, type UserRow } from '../repo.js';
import type { CommandContext } from './context.js';

export const SCOPES: Scope[] = ['dav', 'mail', 'api'];
const MAX_APP_PASSWORDS = 50;
const MAX_TOKENS = 50;

export interface AppPasswordView {
  id: string;
  name: string;
  scopes: Scope[];
  createdAt: number;
  lastUsedAt: number | null;
}

export interface TokenView {
  id: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  expiresAt: number | null;
}

function normalizeAppPassword(p: string): string {
  return p.trim().toLowerCase().replace(/[\s-]/g, '');
}

export async function listAppPasswords(platform: Platform, userId: string): Promise<AppPasswordView[]> {
  const rows = await platform.db.selectFrom('app_passwords').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    scopes: JSON.parse(r.scopes) as Scope[],
    createdAt: Number(r.created_at),
    lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
  }));
}

/** Creates an app password for the acting user (or, from the CLI, for `userId`); the secret is returned once. */
export async function createAppPassword(
  ctx: CommandContext,
  input: { userId: string; name: string; scopes: Scope[] },
): Promise<{ item: AppPasswordView; password: string }> {
  const { platform } = ctx;
  await platform.policy.authorize(ctx.actor, 'manage-credentials', { type: 'user', id: input.userId });
  const name = input.name.trim();
  if (!name) throw new AppError('validation_failed', { fields: [{ path: '/name', message: 'required' }] });
  const scopes = [...new Set(input.scopes)].filter((s) => SCOPES.includes(s));
  if (scopes.length === 0) throw new AppError('validation_failed', { fields: [{ path: '/scopes', message: 'at least one scope' }] });
  const password = generateAppPassword();
  const now = platform.clock.now();
  const id = newId(now);
  await platform.transaction(async (trx, emit) => {
    const count = await trx
      .selectFrom('app_passwords')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', input.userId)
      .executeTakeFirstOrThrow();
    if (Number(count.n) >= MAX_APP_PASSWORDS) throw new AppError('conflict', { reason: 'too_many_app_passwords', max: MAX_APP_PASSWORDS });
    await trx
      .insertInto('app_passwords')
      .values({ id, user_id: input.userId, name, scopes: JSON.stringify(scopes), secret_hash: sha256(normalizeAppPassword(password)), created_at: now, last_used_at: null })
      .execute();
    await platform.audit.record(trx, { actor: ctx.actor, action: 'identity.app_password.created', targetType: 'user', targetId: input.userId, ip: ctx.ip, details: { id, name, scopes } });
    await emit('identity.credentials.changed', { userId: input.userId }, [input.userId]);
  });
  return { item: { id, name, scopes, createdAt: now, lastUsedAt: null }, password };
}

export async function revokeAppPassword(ctx: CommandContext, id: string): Promise<void> {
  const { platform } = ctx;
  const row = await platform.db.selectFrom('app_passwords').select(['id', 'user_id', 'name']).where('id', '=', id).executeTakeFirst();
  // Someone else's credential is reported as absent, not forbidden: its existence is not theirs to know.
  if (!row || !(await platform.policy.can(ctx.actor, 'manage-credentials', { type: 'user', id: row.user_id }))) throw new AppError('not_found');
  await platform.transaction(async (trx, emit) => {
    await trx.deleteFrom('app_passwords').where('id', '=', id).execute();
    await platform.audit.record(trx, { actor: ctx.actor, action: 'identity.app_password.revoked', targetType: 'user', targetId: row.user_id, ip: ctx.ip, details: { id, name: row.name } });
    await emit('identity.credentials.changed', { userId: row.user_id }, [row.user_id]);
  });
}

/**
 * Protocol login (DAV, IMAP, SMTP): `login` is the user's login or e-mail, `password` an app password.
 * Returns the user and the password's scopes, and records its last use; null when anything is wrong.
 */
export async function verifyAppPassword(platform: Platform, login: string, password: string): Promise<{ user: UserRow; scopes: string[]; id: string } | null> {
  if (login.length > 320 || password.length > 200) return null;
  const row = await platform.db.selectFrom('app_passwords').selectAll().where('secret_hash', '=', sha256(normalizeAppPassword(password))).executeTakeFirst();
  if (!row) return null;
  const user = login.includes('@') ? await users.byEmail(platform.db, login) : await users.byLogin(platform.db, login);
  if (!user || user.id !== row.user_id || user.disabled === 1) return null;
  const now = platform.clock.now();
  if (row.last_used_at === null || now - Number(row.last_used_at) > 60_000) {
    await platform.db.updateTable('app_passwords').set({ last_used_at: now }).where('id', '=', row.id).execute();
  }
  return { user, scopes: JSON.parse(row.scopes) as string[], id: row.id };
}

export async function listTokens(platform: Platform, userId: string): Promise<TokenView[]> {
  const rows = await platform.db.selectFrom('api_tokens').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    createdAt: Number(r.created_at),
    lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
  }));
}

export async function createToken(ctx: CommandContext, input: { name: string; expiresInDays?: number | undefined }): Promise<{ item: TokenView; token: string }> {
  const { platform } = ctx;
  const me = requireUser(ctx.actor);
  // A token cannot mint tokens: only an interactive session can.
  if (me.via !== 'session' && ctx.actor.kind !== 'system') throw new AppError('forbidden');
  const name = input.name.trim();
  if (!name) throw new AppError('validation_failed', { fields: [{ path: '/name', message: 'required' }] });
  const now = platform.clock.now();
  const id = newId(now);
  const token = `bst_${randomToken(32)}`;
  const expiresAt = input.expiresInDays ? now + input.expiresInDays * 86400_000 : null;
  await platform.transaction(async (trx) => {
    const count = await trx.selectFrom('api_tokens').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', me.userId).executeTakeFirstOrThrow();
    if (Number(count.n) >= MAX_TOKENS) throw new AppError('conflict', { reason: 'too_many_tokens', max: MAX_TOKENS });
    await trx.insertInto('api_tokens').values({ id, user_id: me.userId, name, token_hash: sha256(token), created_at: now, last_used_at: null, expires_at: expiresAt }).execute();
    await platform.audit.record(trx, { actor: ctx.actor, action: 'identity.token.created', targetType: 'user', targetId: me.userId, ip: ctx.ip, details: { id, name } });
  });
  return { item: { id, name, createdAt: now, lastUsedAt: null, expiresAt }, token };
}

export async function revokeToken(ctx: CommandContext, id: string): Promise<void> {
  const { platform } = ctx;
  const row = await platform.db.selectFrom('api_tokens').select(['id', 'user_id', 'name']).where('id', '=', id).executeTakeFirst();
  if (!row || !(await platform.policy.can(ctx.actor, 'manage-credentials', { type: 'user', id: row.user_id }))) throw new AppError('not_found');
  await platform.transaction(async (trx) => {
    await trx.deleteFrom('api_tokens').where('id', '=', id).execute();
    await platform.audit.record(trx, { actor: ctx.actor, action: 'identity.token.revoked', targetType: 'user', targetId: row.user_id, ip: ctx.ip, details: { id, name: row.name } });
  });
}
