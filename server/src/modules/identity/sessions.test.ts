import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../platform/clock.js';
import { ApiClient, DEFAULT_PASSWORD, makeUser, startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { adminClient, assertError, countRows, MISSING_ID, snapshot } from '../../../test/helpers/api.js';

/** Sessions: listing, signing out elsewhere, and every event that must end them. */
describe('sessions', () => {
  let srv: TestServer;
  const clock = new ManualClock(Date.UTC(2026, 4, 1));
  let admin: ApiClient;
  let sam: { id: string };
  let password = DEFAULT_PASSWORD;

  before(async () => {
    srv = await startTestServer({ clock });
    admin = (await adminClient(srv)).client;
    sam = await makeUser(srv, 'sam');
    await makeUser(srv, 'eve');
  });
  after(() => srv.close());

  async function signIn(login = 'sam', ua = 'test-agent'): Promise<ApiClient> {
    const c = new ApiClient(srv.url);
    const r = await c.request('POST', '/api/auth/login', { login, password: login === 'sam' ? password : DEFAULT_PASSWORD }, { 'user-agent': ua });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    await c.refreshSession();
    return c;
  }
  const alive = async (c: ApiClient) => (await c.get('/api/session')).status === 200;

  test('list my sessions, with the current one marked; sign out another one', async () => {
    const a = await signIn('sam', 'Firefox on a laptop');
    const b = await signIn('sam', 'Phone');
    const list = await a.get('/api/me/sessions');
    assert.equal(list.status, 200);
    assert.equal(list.json.items.length, 2);
    const current = list.json.items.filter((s: any) => s.current);
    assert.equal(current.length, 1);
    assert.equal(current[0].userAgent, 'Firefox on a laptop');
    assert.equal(current[0].ip, '127.0.0.1');
    const phone = list.json.items.find((s: any) => !s.current);
    assert.equal(phone.userAgent, 'Phone');
    // Nobody else can end it (nor learn that it exists).
    const eve = await signIn('eve');
    assertError(await eve.delete(`/api/me/sessions/${phone.id}`), 404, 'not_found');
    assertError(await a.delete(`/api/me/sessions/${MISSING_ID}`), 404, 'not_found');
    assert.ok(await alive(b), 'await alive(b)');
    assert.equal((await a.delete(`/api/me/sessions/${phone.id}`)).status, 204);
    assert.equal(await alive(b), false, 'the other session stops working at once');
    assert.ok(await alive(a), 'await alive(a)');
    assert.equal((await a.get('/api/me/sessions')).json.items.length, 1);
    // Logging out ends the session row too.
    assert.equal((await a.post('/api/auth/logout')).status, 204);
    assert.equal(await alive(a), false);
    assert.equal((await eve.post('/api/auth/logout')).status, 204);
    assert.equal(await countRows(srv.bastide.platform.db, 'sessions'), 1, 'only the administrator is left');
  });

  test('a forged or truncated cookie is nobody', async () => {
    const a = await signIn();
    const good = a.cookie;
    for (const bad of [`${good}x`, good.slice(0, -3), 'bastide_session=', `bastide_session=${'a'.repeat(500)}`]) {
      a.cookie = bad;
      assert.equal(await alive(a), false, bad);
    }
    a.cookie = good;
    assert.ok(await alive(a), 'await alive(a)');
    await a.post('/api/auth/logout');
  });

  test('changing my password ends my other sessions, not this one', async () => {
    const a = await signIn();
    const b = await signIn();
    assertError(await a.post('/api/me/password', { currentPassword: 'wrong-current-pw', newPassword: 'Brand-New-Password-1' }), 401, 'invalid_credentials');
    const weak = await a.post('/api/me/password', { currentPassword: password, newPassword: 'short' });
    assertError(weak, 400, 'password_policy');
    assert.ok(weak.json.error.details.rules.includes('min_length:12'), 'weak.json.error.details.rules.includes(\'min_length:12\')');
    const personal = await a.post('/api/me/password', { currentPassword: password, newPassword: 'sam-is-my-name-123' });
    assertError(personal, 400, 'password_policy');
    assert.ok(personal.json.error.details.rules.includes('contains_personal_info'), 'personal.json.error.details.rules.includes(\'contains_personal_info\')');
    assert.ok(await alive(b), 'refused changes end nothing');
    assert.equal((await a.post('/api/me/password', { currentPassword: password, newPassword: 'Brand-New-Password-1' })).status, 204);
    assert.equal(await alive(b), false);
    assert.ok(await alive(a), 'await alive(a)');
    password = 'Brand-New-Password-1';
    const old = await new ApiClient(srv.url).post('/api/auth/login', { login: 'sam', password: DEFAULT_PASSWORD });
    assertError(old, 401, 'invalid_credentials');
    await signIn();
  });

  test("an administrator's password reset ends all of the user's sessions; the temporary password works", async () => {
    const a = await signIn();
    const b = await signIn();
    const r = await admin.post(`/api/admin/users/${sam.id}/reset-password`, {});
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(typeof r.json.temporaryPassword, 'string');
    assert.ok(r.json.temporaryPassword.length >= 12, 'r.json.temporaryPassword.length >= 12');
    assert.equal(await alive(a), false);
    assert.equal(await alive(b), false);
    password = r.json.temporaryPassword;
    const c = await signIn();
    assert.ok(await alive(c), 'await alive(c)');
    // With a chosen password: nothing is returned, the policy applies.
    assertError(await admin.post(`/api/admin/users/${sam.id}/reset-password`, { password: 'short' }), 400, 'password_policy');
    assert.ok(await alive(c), 'await alive(c)');
    const r2 = await admin.post(`/api/admin/users/${sam.id}/reset-password`, { password: 'Chosen-By-Admin-99' });
    assert.deepEqual(r2.json, {});
    assert.equal(await alive(c), false);
    password = 'Chosen-By-Admin-99';
    const audit = await admin.get('/api/admin/audit?action=identity.user.password_reset');
    assert.equal(audit.json.items.filter((e: any) => e.targetId === sam.id).length, 2);
  });

  test('disabling a user ends their sessions and refuses new ones; enabling lets them back', async () => {
    const a = await signIn();
    const r = await admin.patch(`/api/admin/users/${sam.id}`, { disabled: true });
    assert.equal(r.status, 200);
    assert.equal(r.json.user.disabled, true);
    assert.equal(await alive(a), false);
    assert.equal((await srv.bastide.platform.db.selectFrom('sessions').select('id').where('user_id', '=', sam.id).execute()).length, 0);
    assertError(await new ApiClient(srv.url).post('/api/auth/login', { login: 'sam', password }), 401, 'invalid_credentials');
    // A disabled user is not in the directory.
    const dir = await admin.get('/api/directory/users?q=sam');
    assert.equal(dir.json.items.length, 0);
    assert.equal((await admin.patch(`/api/admin/users/${sam.id}`, { disabled: false })).status, 200);
    assert.ok(await alive(await signIn()), 'await alive(await signIn())');
  });

  test('an idle session ends after sessionIdleHours; activity keeps it alive', async () => {
    const a = await signIn();
    const b = await signIn();
    const idleMs = srv.config.sessionIdleHours * 3600_000;
    clock.advance(idleMs - 60_000);
    assert.ok(await alive(a), 'used just before the end: extended');
    clock.advance(120_000);
    assert.equal(await alive(b), false, 'unused: ended');
    assert.ok(await alive(a), 'await alive(a)');
  });

  test('a refused session change changes nothing', async () => {
    const a = await signIn();
    const before = await snapshot(srv.bastide.platform.db, 'sessions');
    assertError(await a.delete('/api/me/sessions/not-an-id'), 400, 'validation_failed');
    const saved = a.csrf;
    a.csrf = '';
    const own = (await a.get('/api/me/sessions')).json.items[0].id;
    assertError(await a.delete(`/api/me/sessions/${own}`), 403, 'csrf_failed');
    a.csrf = saved;
    assert.equal(await snapshot(srv.bastide.platform.db, 'sessions'), before);
  });
});
