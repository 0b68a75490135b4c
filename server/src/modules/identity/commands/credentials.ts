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

type VerifiedAppPassword = { user: UserRow; scopes: string[]; id: string };

/**
 * Protocol clients (a sync client, a mail client) send their app password with every request. The
 * answer is kept a few seconds, and forgotten the moment something that changes it commits — an app
 * password created or revoked (identity.credentials.changed), the user updated (disabled, password
 * reset) or deleted — on this node after commit and on the others by the bus, or everything when the
 * bus may have missed events. A lookup that raced with such a change is not kept (generation check).
 */
class AppPasswordCache {
  private entries = new Map<string, { value: VerifiedAppPassword; at: number }>();
  generation = 0;
  static readonly TTL_MS = 5000;
  static readonly MAX_ENTRIES = 10_000;

  constructor(private readonly now: () => number) {}

  get(key: string): VerifiedAppPassword | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (this.now() - hit.at > AppPasswordCache.TTL_MS) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.value;
  }

  set(key: string, value: VerifiedAppPassword, generation: number): void {
    if (generation !== this.generation) return;
    if (this.entries.size >= AppPasswordCache.MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, at: this.now() });
  }

  forgetUser(userId: string): void {
    this.generation++;
    for (const [k, v] of this.entries) if (v.value.user.id === userId) this.entries.delete(k);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }

  apply(e: { topic: string; data: Record<string, unknown> }): void {
    const userId = e.data.userId;
    if (typeof userId !== 'string') return;
    if (e.topic === 'identity.credentials.changed' || e.topic === 'identity.user.updated' || e.topic === 'identity.user.deleted') this.forgetUser(userId);
  }
}

const appPasswordCaches = new WeakMap<Platform, AppPasswordCache>();

function appPasswordCache(platform: Platform): AppPasswordCache {
  let c = appPasswordCaches.get(platform);
  if (!c) {
    const cache = new AppPasswordCache(() => platform.clock.now());
    platform.onCommit((events) => {
      for (const e of events) cache.apply(e);
    });
    platform.bus.subscribe((e) => cache.apply(e));
    platform.onBusResync(() => cache.clear());
    appPasswordCaches.set(platform, cache);
    c = cache;
  }
  return c;
}

/**
 * Protocol login (DAV, IMAP, SMTP): `login` is the user's login or e-mail, `password` an app password.
 * Returns the user and the password's scopes, and records its last use; null when anything is wrong.
 */
export async function verifyAppPassword(platform: Platform, login: string, password: string): Promise<VerifiedAppPassword | null> {
  if (login.length > 320 || password.length > 200) return null;
  const secretHash = sha256(normalizeAppPassword(password));
  const cache = appPasswordCache(platform);
  const key = sha256(`${login.toLowerCase()}\0${secretHash}`);
  const hit = cache.get(key);
  if (hit) return hit;
  const generation = cache.generation;
  const row = await platform.db.selectFrom('app_passwords').selectAll().where('secret_hash', '=', secretHash).executeTakeFirst();
  if (!row) return null;
  const user = login.includes('@') ? await users.byEmail(platform.db, login) : await users.byLogin(platform.db, login);
  if (!user || user.id !== row.user_id || user.disabled === 1) return null;
  const now = platform.clock.now();
  if (row.last_used_at === null || now - Number(row.last_used_at) > 60_000) {
    await platform.db.updateTable('app_passwords').set({ last_used_at: now }).where('id', '=', row.id).execute();
  }
  const found = { user, scopes: JSON.parse(row.scopes) as string[], id: row.id };
  cache.set(key, found, generation);
  return found;
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
