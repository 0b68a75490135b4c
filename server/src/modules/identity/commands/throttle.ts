import { sql } from 'kysely';
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

/**
 * Counts one attempt under each key; returns whether a key is now locked (count reached its limit) and
 * whether one is past its limit (the attempt must not even be checked). Each key is counted by one atomic
 * upsert, so attempts sent at the same moment are all counted.
 */
export async function recordFailure(platform: Platform, keys: string[]): Promise<boolean> {
  return (await countAttempt(platform, keys)).locked;
}

export async function countAttempt(platform: Platform, keys: string[]): Promise<{ locked: boolean; exceeded: boolean }> {
  const now = platform.clock.now();
  const { loginMaxAttempts: max, loginLockoutSeconds } = platform.config;
  const window = loginLockoutSeconds * 1000;
  let locked = false;
  let exceeded = false;
  for (const key of keys) {
    const limit = limitFor(key, max);
    const inWindow = sql`login_throttle.window_start > ${now - window}`;
    const failures = sql<number>`case when ${inWindow} then login_throttle.failures + 1 else 1 end`;
    const row = await platform.db
      .insertInto('login_throttle')
      .values({ key, failures: 1, window_start: now, locked_until: limit <= 1 ? now + window : null })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          failures,
          window_start: sql<number>`case when ${inWindow} then login_throttle.window_start else cast(${now} as bigint) end`,
          locked_until: sql<number | null>`case when ${failures} >= ${limit} then cast(${now + window} as bigint) else null end`,
        }),
      )
      .returning(['locked_until', 'failures'])
      .executeTakeFirstOrThrow();
    if (row.locked_until !== null) locked = true;
    if (row.failures > limit) exceeded = true;
  }
  return { locked, exceeded };
}

/**
 * Gives back an attempt counted by countAttempt (the password was right but a second step is pending):
 * the failures before it still count, and so will the second step's.
 */
export async function releaseAttempt(platform: Platform, keys: string[]): Promise<void> {
  const { loginMaxAttempts: max } = platform.config;
  for (const key of keys) {
    const limit = limitFor(key, max);
    await platform.db
      .updateTable('login_throttle')
      .set({
        failures: sql<number>`case when failures > 0 then failures - 1 else 0 end`,
        locked_until: sql<number | null>`case when failures - 1 >= ${limit} then locked_until else null end`,
      })
      .where('key', '=', key)
      .execute();
  }
}

/** After a successful sign-in: the account's own counters start again (the address's do not). */
export async function clearFailures(platform: Platform, login: string, ip: string | undefined): Promise<void> {
  const l = login.trim().toLowerCase();
  const keys = [`login:${l}`, ...(ip ? [`pair:${l}|${ip}`] : [])];
  await platform.db.deleteFrom('login_throttle').where('key', 'in', keys).execute();
}
