import { AppError } from '../../../errors.js';
import { newId } from '../../../platform/ids.js';
import { requireUser } from '../../../platform/policy.js';
import { generateRecoveryCode, normalizeCode, sha256, verifyPassword } from '../secrets.js';
import { users } from '../repo.js';
import { checkTotp, newTotpSecret, otpauthUrl, qrSvg } from '../totp.js';
import type { CommandContext } from './context.js';
import type { Tx } from '../../../platform/db/index.js';

const ISSUER = 'Bastide';

/** Starts enrolment: a new pending secret, shown as a QR code; nothing changes until a code confirms it. */
export async function startTotp(ctx: CommandContext): Promise<{ secret: string; otpauthUrl: string; qrSvg: string }> {
  const me = requireUser(ctx.actor);
  await ctx.platform.policy.authorize(ctx.actor, 'manage-credentials', { type: 'user', id: me.userId });
  const user = await users.byId(ctx.platform.db, me.userId);
  if (!user) throw new AppError('not_found');
  if (user.totp_secret) throw new AppError('totp_already_enabled');
  const secret = newTotpSecret();
  await ctx.platform.db.updateTable('users').set({ totp_pending_secret: secret }).where('id', '=', me.userId).execute();
  const url = otpauthUrl(user.login, ISSUER, secret);
  return { secret, otpauthUrl: url, qrSvg: await qrSvg(url) };
}

async function replaceRecoveryCodes(trx: Tx, userId: string, now: number): Promise<string[]> {
  const codes = Array.from({ length: 10 }, generateRecoveryCode);
  await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  await trx
    .insertInto('recovery_codes')
    .values(codes.map((c) => ({ id: newId(now), user_id: userId, code_hash: sha256(normalizeCode(c)), used_at: null, created_at: now })))
    .execute();
  return codes;
}

export async function enableTotp(ctx: CommandContext, code: string): Promise<{ recoveryCodes: string[] }> {
  const { platform } = ctx;
  const me = requireUser(ctx.actor);
  await platform.policy.authorize(ctx.actor, 'manage-credentials', { type: 'user', id: me.userId });
  const user = await users.byId(platform.db, me.userId);
  if (!user) throw new AppError('not_found');
  if (user.totp_secret) throw new AppError('totp_already_enabled');
  if (!user.totp_pending_secret) throw new AppError('totp_not_started');
  const now = platform.clock.now();
  const step = checkTotp(user.totp_pending_secret, code, now, null);
  if (step === null) throw new AppError('invalid_mfa_code');
  return platform.transaction(async (trx, emit) => {
    await trx
      .updateTable('users')
      .set({ totp_secret: user.totp_pending_secret, totp_pending_secret: null, totp_last_step: step, updated_at: now })
      .where('id', '=', me.userId)
      .execute();
    const recoveryCodes = await replaceRecoveryCodes(trx, me.userId, now);
    await platform.audit.record(trx, { actor: ctx.actor, action: 'identity.totp.enabled', targetType: 'user', targetId: me.userId, ip: ctx.ip });
    await emit('identity.user.updated', { userId: me.userId }, [me.userId]);
    return { recoveryCodes };
  });
}

async function confirmPassword(ctx: CommandContext, password: string): Promise<string> {
  const me = requireUser(ctx.actor);
  // Credentials are managed from a session or a token, never with an app password (even one that knows the password).
  await ctx.platform.policy.authorize(ctx.actor, 'manage-credentials', { type: 'user', id: me.userId });
  const user = await users.byId(ctx.platform.db, me.userId);
  if (!user || !(await verifyPassword(user.password_hash, password))) throw new AppError('invalid_credentials');
  return me.userId;
}

export async function disableTotp(ctx: CommandContext, password: string): Promise<void> {
  const userId = await confirmPassword(ctx, password);
  const now = ctx.platform.clock.now();
  await ctx.platform.transaction(async (trx, emit) => {
    await trx.updateTable('users').set({ totp_secret: null, totp_pending_secret: null, totp_last_step: null, updated_at: now }).where('id', '=', userId).execute();
    await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
    await ctx.platform.audit.record(trx, { actor: ctx.actor, action: 'identity.totp.disabled', targetType: 'user', targetId: userId, ip: ctx.ip });
    await emit('identity.user.updated', { userId }, [userId]);
  });
}

export async function regenerateRecoveryCodes(ctx: CommandContext, password: string): Promise<{ recoveryCodes: string[] }> {
  const userId = await confirmPassword(ctx, password);
  const user = await users.byId(ctx.platform.db, userId);
  if (!user?.totp_secret) throw new AppError('conflict', { reason: 'totp_not_enabled' });
  const now = ctx.platform.clock.now();
  return ctx.platform.transaction(async (trx) => {
    const recoveryCodes = await replaceRecoveryCodes(trx, userId, now);
    await ctx.platform.audit.record(trx, { actor: ctx.actor, action: 'identity.recovery_codes.regenerated', targetType: 'user', targetId: userId, ip: ctx.ip });
    return { recoveryCodes };
  });
}
