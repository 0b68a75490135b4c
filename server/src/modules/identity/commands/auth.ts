import { AppError } from '../../../errors.js';
import { newId, randomToken } from '../../../platform/ids.js';
import type { Platform } from '../../../platform/module.js';
import { normalizeCode, safeEqual, sha256, verifyPassword } from '../secrets.js';
import { settings, users, type UserRow } from '../repo.js';
import { checkTotp } from '../totp.js';
import { assertNotLocked, clearFailures, countAttempt, recordFailure, releaseAttempt, throttleKeys } from './throttle.js';
import { createSession, type NewSession } from './sessions.js';
import { createUser } from './users.js';

const MFA_TTL_MS = 5 * 60_000;
const MFA_MAX_ATTEMPTS = 5;
const SETUP_KEY = 'setup_token_hash';

interface Meta {
  ip?: string | undefined;
  userAgent?: string | undefined;
}

export type LoginOutcome = { status: 'ok'; user: UserRow; session: NewSession } | { status: 'mfa_required'; mfaToken: string };

/**
 * Password login. Wrong login, wrong password and disabled account all answer invalid_credentials in the
 * same time; repeated failures lock the account name (and, more loosely, the address) for a while.
 */
export async function login(platform: Platform, loginOrEmail: string, password: string, meta: Meta): Promise<LoginOutcome> {
  const id = loginOrEmail.trim();
  const user = id.length > 320 ? undefined : id.includes('@') ? await users.byEmail(platform.db, id) : await users.byLogin(platform.db, id);
  // Count by account whichever identifier was typed (login or e-mail); by what was typed when none matches.
  const keys = throttleKeys(user?.login ?? id.slice(0, 320), meta.ip);
  await assertNotLocked(platform, keys);
  // The attempt is counted against the account before the password is checked (and uncounted on
  // success), so a burst of parallel guesses cannot all slip in before the first failure is recorded.
  const accountKeys = keys.filter((k) => !k.startsWith('ip:'));
  const reserved = await countAttempt(platform, accountKeys);
  if (reserved.exceeded) throw new AppError('too_many_attempts', { retryAfterSeconds: platform.config.loginLockoutSeconds });
  const ok = password.length <= 1024 && (await verifyPassword(user?.password_hash ?? null, password));
  if (!user || !ok || user.disabled === 1) {
    const locked = (await recordFailure(platform, keys.filter((k) => k.startsWith('ip:')))) || reserved.locked;
    await platform.audit.recordNow({
      actor: null,
      action: locked ? 'identity.login.locked' : 'identity.login.failed',
      targetType: user ? 'user' : undefined,
      targetId: user?.id,
      ip: meta.ip,
      details: { login: id.slice(0, 100), reason: !user ? 'unknown_login' : user.disabled === 1 ? 'disabled' : 'bad_password' },
    });
    if (locked) throw new AppError('too_many_attempts', { retryAfterSeconds: platform.config.loginLockoutSeconds });
    throw new AppError('invalid_credentials');
  }
  if (user.totp_secret) {
    await releaseAttempt(platform, accountKeys);
    const mfaToken = randomToken(32);
    const now = platform.clock.now();
    await platform.db
      .insertInto('mfa_challenges')
      .values({ id: newId(now), user_id: user.id, token_hash: sha256(mfaToken), expires_at: now + MFA_TTL_MS, attempts: 0 })
      .execute();
    await platform.db.deleteFrom('mfa_challenges').where('expires_at', '<', now).execute();
    return { status: 'mfa_required', mfaToken };
  }
  await clearFailures(platform, user.login, meta.ip);
  const session = await createSession(platform, user, meta);
  await platform.audit.recordNow({ actor: { kind: 'user', userId: user.id, login: user.login }, action: 'identity.login.succeeded', targetType: 'user', targetId: user.id, ip: meta.ip, details: { mfa: false } });
  return { status: 'ok', user, session };
}

/** Second step: a TOTP code (never the same one twice) or an unused recovery code. */
export async function loginMfa(platform: Platform, mfaToken: string, code: string, meta: Meta): Promise<{ user: UserRow; session: NewSession }> {
  const now = platform.clock.now();
  const challenge = await platform.db.selectFrom('mfa_challenges').selectAll().where('token_hash', '=', sha256(mfaToken)).executeTakeFirst();
  if (!challenge || Number(challenge.expires_at) < now || challenge.attempts >= MFA_MAX_ATTEMPTS) {
    if (challenge) await platform.db.deleteFrom('mfa_challenges').where('id', '=', challenge.id).execute();
    throw new AppError('mfa_token_expired');
  }
  const user = await users.byId(platform.db, challenge.user_id);
  if (!user || user.disabled === 1 || !user.totp_secret) throw new AppError('mfa_token_expired');
  await assertNotLocked(platform, throttleKeys(user.login, meta.ip));
  // Take the attempt before checking the code (atomically): parallel guesses on one challenge are capped.
  const took = await platform.db
    .updateTable('mfa_challenges')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('id', '=', challenge.id)
    .where('attempts', '<', MFA_MAX_ATTEMPTS)
    .executeTakeFirst();
  if (Number(took.numUpdatedRows) !== 1) throw new AppError('mfa_token_expired');
  let usedRecovery = false;
  const step = checkTotp(user.totp_secret, code, now, user.totp_last_step === null ? null : Number(user.totp_last_step));
  let ok = step !== null;
  if (ok) {
    // Guarded update: of two concurrent logins with the same code, only one moves the step forward.
    const r = await platform.db
      .updateTable('users')
      .set({ totp_last_step: step })
      .where('id', '=', user.id)
      .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step!)]))
      .executeTakeFirst();
    ok = Number(r.numUpdatedRows) === 1;
  } else {
    const normalized = normalizeCode(code);
    if (/^[a-z0-9]{10}$/.test(normalized)) {
      const codes = await platform.db.selectFrom('recovery_codes').selectAll().where('user_id', '=', user.id).where('used_at', 'is', null).execute();
      const hit = codes.find((c) => safeEqual(c.code_hash, sha256(normalized)));
      if (hit) {
        const r = await platform.db.updateTable('recovery_codes').set({ used_at: now }).where('id', '=', hit.id).where('used_at', 'is', null).executeTakeFirst();
        ok = Number(r.numUpdatedRows) === 1;
        usedRecovery = ok;
      }
    }
  }
  if (!ok) {
    const locked = await recordFailure(platform, throttleKeys(user.login, meta.ip));
    await platform.audit.recordNow({ actor: null, action: 'identity.login.mfa_failed', targetType: 'user', targetId: user.id, ip: meta.ip, details: { login: user.login, locked } });
    if (locked) throw new AppError('too_many_attempts', { retryAfterSeconds: platform.config.loginLockoutSeconds });
    throw new AppError('invalid_mfa_code');
  }
  await platform.db.deleteFrom('mfa_challenges').where('id', '=', challenge.id).execute();
  await clearFailures(platform, user.login, meta.ip);
  const session = await createSession(platform, user, meta);
  await platform.audit.recordNow({
    actor: { kind: 'user', userId: user.id, login: user.login },
    action: 'identity.login.succeeded',
    targetType: 'user',
    targetId: user.id,
    ip: meta.ip,
    details: { mfa: true, recoveryCode: usedRecovery },
  });
  return { user, session };
}

/** First run: while no user exists, a one-time setup token (printed at start) lets someone create the administrator. */
export async function needsSetup(platform: Platform): Promise<boolean> {
  return (await users.count(platform.db)) === 0;
}

/** Issues a fresh setup token (replacing any earlier one) when no user exists; returns it, or null. */
export async function issueSetupToken(platform: Platform): Promise<string | null> {
  if (!(await needsSetup(platform))) {
    await settings.delete(platform.db, SETUP_KEY);
    return null;
  }
  const token = randomToken(24);
  await settings.set(platform.db, SETUP_KEY, sha256(token), platform.clock.now());
  return token;
}

export async function completeSetup(
  platform: Platform,
  input: { token: string; login: string; displayName: string; email?: string | undefined; password: string; language?: 'fr' | 'en' | undefined },
  meta: Meta,
): Promise<{ user: UserRow; session: NewSession }> {
  const user = await platform.transaction(async (trx, emit) => {
    // Claim the token first: the delete locks its row, so of several attempts at once only one goes on
    // (the others find it gone once the first commits).
    const claimed = await trx.deleteFrom('settings').where('key', '=', SETUP_KEY).where('value', '=', sha256(input.token)).executeTakeFirst();
    if ((await users.count(trx)) > 0) throw new AppError('setup_done');
    if (Number(claimed.numDeletedRows) !== 1) throw new AppError('setup_token_invalid');
    const { user: created } = await createUser(
      { platform, actor: { kind: 'system' }, ip: meta.ip },
      { login: input.login, displayName: input.displayName, email: input.email, password: input.password, isAdmin: true, language: input.language ?? null },
      { trx, emit },
    );
    await platform.audit.record(trx, { actor: null, action: 'identity.setup.completed', targetType: 'user', targetId: created.id, ip: meta.ip, details: { login: created.login } });
    return created;
  });
  const session = await createSession(platform, user, meta);
  return { user, session };
}
