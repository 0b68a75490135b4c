import type { Platform } from '../../../platform/module.js';
import { AppError } from '../../../errors.js';

/**
 * Login throttling. Failures are counted under three keys, each locked for the lockout duration once it
 * reaches its limit within the window:
 * - `pair:<login>|<address>`: the configured limit (BASTIDE_LOGIN_MAX_ATTEMPTS) — stops guessing from one place;
 * - `login:<login>`: four times the limit from anywhere — stops distributed guessing, while one attacker
 *   alone cannot lock a colleague out (their own pair locks first);
 * - `ip:<address>`: ten times the limit — stops one address spraying many accounts (loose, since a whole
 *   town hall may share one address).
 * Keys are counted whether the account exists or not, so the answers never reveal it.
 */
const FACTOR = { pair: 1, login: 4, ip: 10 } as const;

export function throttleKeys(login: string, ip: string | undefined): string[] {
  const l = login.trim().toLowerCase();
  const keys = [`login:${l}`];
  if (ip) keys.push(`pair:${l}|${ip}`, `ip:${ip}`);
  return keys;
}

function limitFor(key: string, max: number): number {
  const kind = key.slice(0, key.indexOf(':')) as keyof typeof FACTOR;
  return max * (FACTOR[kind] ?? 1);
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
  const window = loginLockoutSeconds * 1000;
  let locked = false;
  await platform.db.transaction().execute(async (trx) => {
    for (const key of keys) {
      const limit = limitFor(key, max);
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

/** After a successful sign-in: the account's own counters start again (the address's do not). */
export async function clearFailures(platform: Platform, login: string, ip: string | undefined): Promise<void> {
  const l = login.trim().toLowerCase();
  const keys = [`login:${l}`, ...(ip ? [`pair:${l}|${ip}`] : [])];
  await platform.db.deleteFrom('login_throttle').where('key', 'in', keys).execute();
}
