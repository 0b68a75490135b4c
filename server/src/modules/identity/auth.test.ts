import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../platform/clock.js';
import { ApiClient, DEFAULT_PASSWORD, makeUser, startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { adminClient, assertError, raw } from '../../../test/helpers/api.js';

/**
 * Password login: by login or e-mail, one answer for every kind of failure, throttling per account name
 * (existing or not) with Retry-After, audit entries, and the lockout expiring with time.
 */
describe('login and throttling', () => {
  let srv: TestServer;
  let admin: ApiClient;
  const clock = new ManualClock();
  const LOCKOUT = 900;

  before(async () => {
    srv = await startTestServer({ clock, config: { loginMaxAttempts: 3, loginLockoutSeconds: LOCKOUT } });
    admin = (await adminClient(srv)).client;
    await makeUser(srv, 'alice', { email: 'alice@example.org' });
    await makeUser(srv, 'dora');
    await admin.patch(`/api/admin/users/${(await admin.get('/api/admin/users?q=dora')).json.items[0].id}`, { disabled: true });
  });
  after(() => srv.close());

  const attempt = (login: string, password: string) => raw(srv.url, 'POST', '/api/auth/login', { json: { login, password } });

  test('by login (any case) and by e-mail (any case); the cookie then works', async () => {
    for (const id of ['alice', 'ALICE', ' alice ', 'alice@example.org', 'Alice@Example.ORG']) {
      const c = new ApiClient(srv.url);
      const r = await c.post('/api/auth/login', { login: id, password: DEFAULT_PASSWORD });
      assert.equal(r.status, 200, `${id}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.status, 'ok');
      assert.equal(r.json.user.login, 'alice');
      assert.equal(r.json.user.email, 'alice@example.org');
      assert.equal('passwordHash' in r.json.user, false);
      const cookie = r.headers.getSetCookie().find((x) => x.startsWith('bastide_session='))!;
      assert.match(cookie, /HttpOnly/i);
      assert.match(cookie, /SameSite=Lax/i);
      assert.equal((await c.get('/api/session')).json.user.login, 'alice');
    }
  });

  test('wrong password, unknown login and disabled account answer the same 401', async () => {
    const wrong = await attempt('alice', 'not-the-password-at-all');
    const unknown = await attempt('nobody-here', DEFAULT_PASSWORD);
    const disabled = await attempt('dora', DEFAULT_PASSWORD);
    const unknownMail = await attempt('nobody@example.org', DEFAULT_PASSWORD);
    for (const r of [wrong, unknown, disabled, unknownMail]) {
      assertError(r, 401, 'invalid_credentials');
      assert.deepEqual(r.json, wrong.json);
      assert.equal(r.headers.get('set-cookie'), null);
    }
    // Failures are counted: start each following test from a clean window.
    clock.advance(LOCKOUT * 1000 + 1);
  });

  test('after loginMaxAttempts failures: 429 too_many_attempts with Retry-After, even with the right password', async () => {
    assertError(await attempt('alice', 'wrong-1-wrong-1'), 401, 'invalid_credentials');
    assertError(await attempt('alice', 'wrong-2-wrong-2'), 401, 'invalid_credentials');
    const locked = await attempt('alice', 'wrong-3-wrong-3');
    assertError(locked, 429, 'too_many_attempts');
    assert.equal(locked.json.error.details.retryAfterSeconds, LOCKOUT);
    assert.equal(locked.headers.get('retry-after'), String(LOCKOUT));
    clock.advance(100_000);
    const right = await attempt('alice', DEFAULT_PASSWORD);
    assertError(right, 429, 'too_many_attempts');
    assert.equal(right.headers.get('retry-after'), String(LOCKOUT - 100));
    assert.equal(right.json.error.details.retryAfterSeconds, LOCKOUT - 100);
    // The lock is on the account name; different case or spaces are the same name.
    assertError(await attempt(' ALICE ', DEFAULT_PASSWORD), 429, 'too_many_attempts');

    // The lockout ends by itself.
    clock.advance((LOCKOUT - 100) * 1000 + 1);
    const ok = await attempt('alice', DEFAULT_PASSWORD);
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.equal(ok.json.status, 'ok');
  });

  test('a login that does not exist is locked the same way (no enumeration)', async () => {
    clock.advance(LOCKOUT * 1000 + 1);
    const real: Array<Awaited<ReturnType<typeof attempt>>> = [];
    const ghost: Array<Awaited<ReturnType<typeof attempt>>> = [];
    for (let i = 0; i < 4; i++) {
      real.push(await attempt('alice', `wrong-password-${i}`));
      ghost.push(await attempt('ghost', `wrong-password-${i}`));
    }
    for (let i = 0; i < 4; i++) {
      assert.equal(real[i]!.status, ghost[i]!.status, `attempt ${i}`);
      assert.deepEqual(real[i]!.json, ghost[i]!.json, `attempt ${i}`);
      assert.equal(real[i]!.headers.get('retry-after'), ghost[i]!.headers.get('retry-after'));
    }
    assert.deepEqual(
      real.map((r) => r.status),
      [401, 401, 429, 429],
    );
  });

  test('failures and locks are in the audit log', async () => {
    const failed = await admin.get('/api/admin/audit?action=identity.login.failed&limit=200');
    assert.equal(failed.status, 200);
    const reasons = new Set(failed.json.items.map((e: any) => `${e.details.login}:${e.details.reason}`));
    for (const r of ['alice:bad_password', 'nobody-here:unknown_login', 'dora:disabled', 'ghost:unknown_login']) assert.ok(reasons.has(r), r);
    const entry = failed.json.items.find((e: any) => e.details.login === 'alice');
    assert.equal(entry.ip, '127.0.0.1');
    assert.equal(entry.actorId, null);
    assert.equal(entry.targetType, 'user');
    const locked = await admin.get('/api/admin/audit?action=identity.login.locked');
    const lockedLogins = locked.json.items.map((e: any) => e.details.login);
    assert.ok(lockedLogins.includes('alice'), 'lockedLogins.includes(\'alice\')');
    assert.ok(lockedLogins.includes('ghost'), 'lockedLogins.includes(\'ghost\')');
    // An unknown account is not a target: nothing links it to a user.
    const ghostLock = locked.json.items.find((e: any) => e.details.login === 'ghost');
    assert.equal(ghostLock.targetId, null);
    // Successful logins are recorded too.
    const ok = await admin.get('/api/admin/audit?action=identity.login.succeeded');
    assert.ok(ok.json.items.some((e: any) => e.actorLogin === 'alice'), 'ok.json.items.some((e: any) => e.actorLogin === \'alice\')');
    assert.equal((await admin.get('/api/admin/audit/verify')).json.ok, true);
  });

  test('a success clears the failures of that account', async () => {
    clock.advance(LOCKOUT * 1000 + 1);
    assertError(await attempt('alice', 'wrong-a-wrong-a'), 401);
    assertError(await attempt('alice', 'wrong-b-wrong-b'), 401);
    assert.equal((await attempt('alice', DEFAULT_PASSWORD)).status, 200);
    assertError(await attempt('alice', 'wrong-c-wrong-c'), 401);
    assertError(await attempt('alice', 'wrong-d-wrong-d'), 401);
    assert.equal((await attempt('alice', DEFAULT_PASSWORD)).status, 200);
  });

  test('an administrator reset clears the lock', async () => {
    clock.advance(LOCKOUT * 1000 + 1);
    for (let i = 0; i < 3; i++) await attempt('alice', `wrong-${i}-wrong`);
    assertError(await attempt('alice', DEFAULT_PASSWORD), 429, 'too_many_attempts');
    const alice = (await admin.get('/api/admin/users?q=alice')).json.items[0];
    const r = await admin.post(`/api/admin/users/${alice.id}/reset-password`, { password: 'Another-Good-Pass-77' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal((await attempt('alice', 'Another-Good-Pass-77')).status, 200);
  });
});
