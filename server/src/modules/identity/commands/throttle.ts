import type { Platform } from '../../../platform/module.js';
import { AppError } from '../../../errors.js';

/**
 * Login throttling: failures are counted per account name (whether it exists or not, so the answer
 * never reveals it) and per client address. Past the configured number within the lockout window, the
 * key is locked for the lockout duration.
 */
export function throttleKeys(login: string, ip: string | undefined): string[] {
  const keys = [`login:${login.trim().toLowerCase()}`];
  if (ip) keys.push(`ip:${ip}`);
  return keys;
}

export async function assertNotLocked(platform: Platform, keys: string[]): Promise<void> {
  const now = platform.clock.now();
  const rows = await platform.db.selectFrom('login_throttle').selectAll().where('key', 'in', keys).execute();
  for (const r of rows) {
    if (r.locked_until !== null && Number(r.locked_until) > now) {
      throw new AppError('too_many_attempts', { retryAfterSeconds: Math.ceil((Number(r.locked_until) - now) / 1000) });
    }
  }
}

/** Records a failure; returns true when this failure locked a key. */
export async function recordFailure(platform: Platform, keys: string[]): Promise<boolean> {
  const now = platform.clock.now();
  const { loginMaxAttempts: max, loginLockoutSeconds } = platform.config;
  // The per-address limit is looser: many people may share one address (a town hall behind one NAT).
  const window = loginLockoutSeconds * 1000;
  let locked = false;
  await platform.db.transaction().execute(async (trx) => {
    for (const key of keys) {
      const limit = key.startsWith('ip:') ? max * 10 : max;
      const row = await trx.selectFrom('login_throttle').selectAll().where('key', '=', key).executeTakeFirst();
      let failures = 1;
      let windowStart = now;
      if (row && now - Number(row.window_start) < window) {
        failures = row.failures + 1;
        windowStart = Number(row.window_start);
      }
      const lockedUntil = failures >= limit ? now + window : null;
      if (lockedUntil) locked = true;
      await trx
        .insertInto('login_throttle')
        .values({ key, failures, window_start: windowStart, locked_until: lockedUntil })
        .onConflict((oc) => oc.column('key').doUpdateSet({ failures, window_start: windowStart, locked_until: lockedUntil }))
        .execute();
    }
  });
  return locked;
}

export async function clearFailures(platform: Platform, login: string): Promise<void> {
  await platform.db.deleteFrom('login_throttle').where('key', '=', `login:${login.trim().toLowerCase()}`).execute();
}
