import { sql } from 'kysely';
import { AppError } from '../../../errors.js';
import { newId } from '../../../platform/ids.js';
import { requireUser } from '../../../platform/policy.js';
import type { Tx } from '../../../platform/db/index.js';
import type { Emit } from '../../../platform/module.js';
import { checkPasswordPolicy, generatePassword, hashPassword, verifyPassword } from '../secrets.js';
import { uniqueViolation, users, type UserRow } from '../repo.js';
import { ADMINS, EMAIL_RE, LOGIN_RE, type CommandContext } from './context.js';

export interface CreateUserInput {
  login: string;
  displayName: string;
  email?: string | null | undefined;
  password?: string | undefined;
  isAdmin?: boolean | undefined;
  language?: 'fr' | 'en' | null | undefined;
}

function cleanLogin(login: string): string {
  const l = login.trim().toLowerCase();
  if (!LOGIN_RE.test(l)) {
    throw new AppError('validation_failed', { fields: [{ path: '/login', message: 'letters, digits, dot, dash or underscore; 2 to 63 characters' }] });
  }
  return l;
}

function cleanEmail(email: string | null | undefined): string | null {
  if (email === undefined || email === null || email.trim() === '') return null;
  const e = email.trim().toLowerCase();
  if (!EMAIL_RE.test(e) || e.length > 254) throw new AppError('validation_failed', { fields: [{ path: '/email', message: 'not an e-mail address' }] });
  return e;
}

function cleanName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const n = name.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  if (!n) throw new AppError('validation_failed', { fields: [{ path: '/displayName', message: 'required' }] });
  return n.slice(0, 200);
}

/** Maps a unique violation on users (a race past assertUnique) to login_taken / email_taken. */
function takenError(e: unknown): unknown {
  const which = uniqueViolation(e);
  if (which === null) return e;
  return new AppError(/email/.test(which) ? 'email_taken' : 'login_taken');
}

/**
 * On PostgreSQL, serialises the changes that could remove the last active administrator (two of them
 * demoting each other at once would otherwise both see the other one still there). SQLite transactions
 * are serialised already.
 */
async function lockAdmins(trx: Tx, engine: string): Promise<void> {
  if (engine === 'postgres') await sql`select pg_advisory_xact_lock(4242003)`.execute(trx);
}

async function assertUnique(trx: Tx, login: string | null, email: string | null, exceptId?: string): Promise<void> {
  if (login) {
    const u = await users.byLogin(trx, login);
    if (u && u.id !== exceptId) throw new AppError('login_taken');
  }
  if (email) {
    const u = await users.byEmail(trx, email);
    if (u && u.id !== exceptId) throw new AppError('email_taken');
  }
}

/**
 * Creates a user. Administrators (and the system: CLI, setup) may. Without a password, one is generated
 * and returned once so the administrator can hand it over.
 */
export async function createUser(
  ctx: CommandContext,
  input: CreateUserInput,
  within?: { trx: Tx; emit: Emit },
): Promise<{ user: UserRow; temporaryPassword?: string }> {
  const { platform } = ctx;
  await platform.policy.authorize(ctx.actor, 'create', { type: 'user' });
  const login = cleanLogin(input.login);
  const email = cleanEmail(input.email);
  const displayName = cleanName(input.displayName);
  let temporaryPassword: string | undefined;
  let password = input.password;
  if (password === undefined || password === '') {
    temporaryPassword = generatePassword();
    password = temporaryPassword;
  } else {
    checkPasswordPolicy(password, { minLength: platform.config.passwordMinLength }, [login, displayName]);
  }
  const passwordHash = await hashPassword(password);
  const now = platform.clock.now();
  const row: UserRow = {
    id: newId(now),
    login,
    display_name: displayName,
    email,
    password_hash: passwordHash,
    is_admin: input.isAdmin ? 1 : 0,
    disabled: 0,
    language: input.language ?? null,
    theme: 'system',
    totp_secret: null,
    totp_pending_secret: null,
    totp_last_step: null,
    created_at: now,
    updated_at: now,
    last_login_at: null,
    password_changed_at: now,
  };
  const work = async (trx: Tx, emit: Emit): Promise<void> => {
    await assertUnique(trx, login, email);
    await trx
      .insertInto('users')
      .values(row)
      .execute()
      .catch((e: unknown) => {
        throw takenError(e);
      });
    await platform.audit.record(trx, {
      actor: ctx.actor,
      action: 'identity.user.created',
      targetType: 'user',
      targetId: row.id,
      ip: ctx.ip,
      details: { login, isAdmin: row.is_admin === 1 },
    });
    await emit('identity.user.created', { userId: row.id }, [row.id, ADMINS]);
  };
  if (within) await work(within.trx, within.emit);
  else await platform.transaction(work);
  return temporaryPassword ? { user: row, temporaryPassword } : { user: row };
}

async function loadOrNotFound(ctx: CommandContext, id: string): Promise<UserRow> {
  const u = await users.byId(ctx.platform.db, id);
  if (!u) throw new AppError('not_found');
  return u;
}

export async function updateUser(
  ctx: CommandContext,
  id: string,
  patch: { displayName?: string | undefined; email?: string | null | undefined; isAdmin?: boolean | undefined; disabled?: boolean | undefined },
): Promise<UserRow> {
  const { platform } = ctx;
  // Authorize first: who may not administer users does not learn which ids exist.
  await platform.policy.authorize(ctx.actor, 'administer', { type: 'user', id });
  const before = await loadOrNotFound(ctx, id);
  const changes: Partial<UserRow> = {};
  if (patch.displayName !== undefined) changes.display_name = cleanName(patch.displayName);
  if (patch.email !== undefined) changes.email = cleanEmail(patch.email);
  if (patch.isAdmin !== undefined) changes.is_admin = patch.isAdmin ? 1 : 0;
  if (patch.disabled !== undefined) changes.disabled = patch.disabled ? 1 : 0;
  const now = platform.clock.now();
  return platform.transaction(async (trx, emit) => {
    if (changes.email) await assertUnique(trx, null, changes.email, id);
    const losesAdmin = (changes.is_admin === 0 || changes.disabled === 1) && before.is_admin === 1 && before.disabled === 0;
    if (losesAdmin) await lockAdmins(trx, platform.engine);
    if (losesAdmin && (await users.countActiveAdmins(trx, id)) === 0) throw new AppError('last_admin');
    await trx
      .updateTable('users')
      .set({ ...changes, updated_at: now })
      .where('id', '=', id)
      .execute()
      .catch((e: unknown) => {
        throw takenError(e);
      });
    if (changes.disabled === 1) await trx.deleteFrom('sessions').where('user_id', '=', id).execute();
    const changed = Object.keys(changes).filter((k) => changes[k as keyof UserRow] !== before[k as keyof UserRow]);
    let action = 'identity.user.updated';
    if (changes.disabled !== undefined && changes.disabled !== before.disabled) action = changes.disabled ? 'identity.user.disabled' : 'identity.user.enabled';
    await platform.audit.record(trx, { actor: ctx.actor, action, targetType: 'user', targetId: id, ip: ctx.ip, details: { login: before.login, changed } });
    await emit('identity.user.updated', { userId: id }, [id, ADMINS]);
    return (await users.byId(trx, id))!;
  });
}

export async function deleteUser(ctx: CommandContext, id: string): Promise<void> {
  const { platform } = ctx;
  await platform.policy.authorize(ctx.actor, 'delete', { type: 'user', id });
  const before = await loadOrNotFound(ctx, id);
  await platform.transaction(async (trx, emit) => {
    if (before.is_admin === 1 && before.disabled === 0) await lockAdmins(trx, platform.engine);
    if (before.is_admin === 1 && before.disabled === 0 && (await users.countActiveAdmins(trx, id)) === 0) throw new AppError('last_admin');
    await trx.deleteFrom('users').where('id', '=', id).execute();
    await platform.audit.record(trx, { actor: ctx.actor, action: 'identity.user.deleted', targetType: 'user', targetId: id, ip: ctx.ip, details: { login: before.login } });
    await emit('identity.user.deleted', { userId: id }, [ADMINS]);
  });
}

/** An administrator sets a new password (or has one generated); the user's sessions end. */
export async function resetPassword(ctx: CommandContext, id: string, password?: string): Promise<{ temporaryPassword?: string }> {
  const { platform } = ctx;
  await platform.policy.authorize(ctx.actor, 'administer', { type: 'user', id });
  const user = await loadOrNotFound(ctx, id);
  let temporaryPassword: string | undefined;
  if (!password) {
    temporaryPassword = generatePassword();
    password = temporaryPassword;
  } else {
    checkPasswordPolicy(password, { minLength: platform.config.passwordMinLength }, [user.login, user.display_name]);
  }
  const hash = await hashPassword(password);
  const now = platform.clock.now();
  await platform.transaction(async (trx, emit) => {
    await trx.updateTable('users').set({ password_hash: hash, password_changed_at: now, updated_at: now }).where('id', '=', id).execute();
    await trx.deleteFrom('sessions').where('user_id', '=', id).execute();
    await trx
      .deleteFrom('login_throttle')
      .where((eb) => eb.or([eb('key', '=', `login:${user.login}`), eb('key', 'like', `pair:${user.login}|%`)]))
      .execute();
    await platform.audit.record(trx, { actor: ctx.actor, action: 'identity.user.password_reset', targetType: 'user', targetId: id, ip: ctx.ip, details: { login: user.login } });
    await emit('identity.user.updated', { userId: id }, [id, ADMINS]);
  });
  return temporaryPassword ? { temporaryPassword } : {};
}

export async function updateProfile(
  ctx: CommandContext,
  patch: { displayName?: string | undefined; email?: string | null | undefined; language?: 'fr' | 'en' | null | undefined; theme?: 'system' | 'light' | 'dark' | undefined },
): Promise<UserRow> {
  const { platform } = ctx;
  const me = requireUser(ctx.actor);
  await platform.policy.authorize(ctx.actor, 'update-profile', { type: 'user', id: me.userId });
  const changes: Partial<UserRow> = {};
  if (patch.displayName !== undefined) changes.display_name = cleanName(patch.displayName);
  if (patch.email !== undefined) changes.email = cleanEmail(patch.email);
  if (patch.language !== undefined) changes.language = patch.language;
  if (patch.theme !== undefined) changes.theme = patch.theme;
  const now = platform.clock.now();
  return platform.transaction(async (trx, emit) => {
    if (changes.email) await assertUnique(trx, null, changes.email, me.userId);
    await trx
      .updateTable('users')
      .set({ ...changes, updated_at: now })
      .where('id', '=', me.userId)
      .execute()
      .catch((e: unknown) => {
        throw takenError(e);
      });
    await platform.audit.record(trx, { actor: ctx.actor, action: 'identity.profile.updated', targetType: 'user', targetId: me.userId, ip: ctx.ip, details: { changed: Object.keys(changes) } });
    await emit('identity.user.updated', { userId: me.userId }, [me.userId, ADMINS]);
    return (await users.byId(trx, me.userId))!;
  });
}

/** The user changes their own password; their other sessions end. */
export async function changePassword(ctx: CommandContext, currentPassword: string, newPassword: string): Promise<void> {
  const { platform } = ctx;
  const me = requireUser(ctx.actor);
  await platform.policy.authorize(ctx.actor, 'manage-credentials', { type: 'user', id: me.userId });
  const user = await loadOrNotFound(ctx, me.userId);
  if (!(await verifyPassword(user.password_hash, currentPassword))) throw new AppError('invalid_credentials');
  checkPasswordPolicy(newPassword, { minLength: platform.config.passwordMinLength }, [user.login, user.display_name]);
  const hash = await hashPassword(newPassword);
  const now = platform.clock.now();
  await platform.transaction(async (trx, emit) => {
    await trx.updateTable('users').set({ password_hash: hash, password_changed_at: now, updated_at: now }).where('id', '=', me.userId).execute();
    let q = trx.deleteFrom('sessions').where('user_id', '=', me.userId);
    if (me.sessionId) q = q.where('id', '!=', me.sessionId);
    await q.execute();
    await platform.audit.record(trx, { actor: ctx.actor, action: 'identity.password.changed', targetType: 'user', targetId: me.userId, ip: ctx.ip });
    await emit('identity.user.updated', { userId: me.userId }, [me.userId]);
  });
}
