import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, DEFAULT_PASSWORD, startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { assertErrorShape, raw, userClient, type Res } from '../../../test/helpers/api.js';
import { issueSetupToken } from './commands/auth.js';

/**
 * The same request sent several times at once: uniqueness and "at least one administrator" hold, and
 * the losers get a clean 4xx (never a 500 from a constraint). Meaningful on PostgreSQL, where
 * transactions really run side by side; on SQLite they are serialised.
 */
describe('concurrent requests', () => {
  let srv: TestServer;
  let admin: { id: string; client: ApiClient };

  before(async () => {
    srv = await startTestServer();
  });
  after(() => srv.close());

  const statuses = (rs: Res[]) => rs.map((r) => r.status).sort();
  const noServerError = (rs: Res[]) => {
    for (const r of rs) {
      assert.ok(r.status < 500, `${r.status} ${JSON.stringify(r.json)}`);
      if (r.status >= 400) assertErrorShape(r);
    }
  };

  test('first-run setup: one token, several attempts at once, one administrator', async () => {
    const token = (await issueSetupToken(srv.bastide.platform))!;
    assert.ok(token, 'a setup token while no user exists');
    const rs = await Promise.all(
      ['first', 'second', 'third', 'fourth'].map((login) =>
        raw(srv.url, 'POST', '/api/setup', { json: { token, login, displayName: login, password: DEFAULT_PASSWORD, language: 'fr' } }),
      ),
    );
    noServerError(rs);
    assert.equal(rs.filter((r) => r.status === 201).length, 1, JSON.stringify(statuses(rs)));
    assert.ok(rs.filter((r) => r.status !== 201).every((r) => r.json.error.code === 'setup_done' || r.json.error.code === 'setup_token_invalid'), JSON.stringify(rs.map((r) => r.json)));
    const n = await srv.bastide.platform.db.selectFrom('users').select('id').execute();
    assert.equal(n.length, 1);
    const winner = rs.find((r) => r.status === 201)!;
    assert.equal(winner.json.user.isAdmin, true);
    assert.equal(winner.json.user.language, 'fr');
    assert.equal((await raw(srv.url, 'GET', '/api/setup/status')).json.needsSetup, false);
    // The token is spent.
    const again = await raw(srv.url, 'POST', '/api/setup', { json: { token, login: 'late', displayName: 'Late', password: DEFAULT_PASSWORD } });
    assert.equal(again.status, 409);
    assert.equal(again.json.error.code, 'setup_done');
    admin = { id: winner.json.user.id, client: new ApiClient(srv.url) };
    await admin.client.login(winner.json.user.login, DEFAULT_PASSWORD);
  });

  test('the same login created five times at once: one 201, four 409 login_taken', async () => {
    const rs = await Promise.all(Array.from({ length: 5 }, (_, i) => admin.client.post('/api/admin/users', { login: 'twin', displayName: `Twin ${i}`, password: DEFAULT_PASSWORD })));
    noServerError(rs);
    assert.deepEqual(statuses(rs), [201, 409, 409, 409, 409]);
    assert.ok(rs.filter((r) => r.status === 409).every((r) => r.json.error.code === 'login_taken'), 'login_taken');
    const mails = await Promise.all(Array.from({ length: 4 }, (_, i) => admin.client.post('/api/admin/users', { login: `mail${i}`, displayName: 'M', email: 'same@example.org' })));
    noServerError(mails);
    assert.deepEqual(statuses(mails), [201, 409, 409, 409]);
    assert.ok(mails.filter((r) => r.status === 409).every((r) => r.json.error.code === 'email_taken'), 'email_taken');
    const audit = await admin.client.get('/api/admin/audit?action=identity.user.created&limit=200');
    assert.equal(audit.json.items.filter((e: any) => e.details.login === 'twin').length, 1);
  });

  test('the same group name created at once: one 201, the others 409 name_taken', async () => {
    const rs = await Promise.all(['Voirie', 'voirie', 'VOIRIE', 'Voirie '].map((name) => admin.client.post('/api/admin/groups', { name })));
    noServerError(rs);
    assert.deepEqual(statuses(rs), [201, 409, 409, 409]);
    assert.ok(rs.filter((r) => r.status === 409).every((r) => r.json.error.code === 'name_taken'), 'name_taken');
  });

  test('adding the same member at once: 204 for all, one membership, one audit entry', async () => {
    const u = await userClient(srv, 'member');
    const g = (await admin.client.post('/api/admin/groups', { name: 'Parallel' })).json.group.id;
    const rs = await Promise.all(Array.from({ length: 5 }, () => admin.client.put(`/api/admin/groups/${g}/members/${u.id}`)));
    noServerError(rs);
    assert.deepEqual(statuses(rs), [204, 204, 204, 204, 204]);
    assert.equal((await admin.client.get(`/api/admin/groups/${g}/members`)).json.items.length, 1);
    const audit = await admin.client.get('/api/admin/audit?action=identity.group.member_added&limit=200');
    assert.equal(audit.json.items.filter((e: any) => e.targetId === g).length, 1);
  });

  test('failed logins sent at once are all counted: the account locks', async () => {
    await userClient(srv, 'target');
    const max = srv.config.loginMaxAttempts;
    const rs = await Promise.all(Array.from({ length: max * 3 }, (_, i) => raw(srv.url, 'POST', '/api/auth/login', { json: { login: 'target', password: `guess-number-${i}` } })));
    noServerError(rs);
    assert.ok(rs.every((r) => r.status === 401 || r.status === 429), JSON.stringify(statuses(rs)));
    const row = await srv.bastide.platform.db.selectFrom('login_throttle').selectAll().where('key', '=', 'login:target').executeTakeFirstOrThrow();
    assert.ok(row.failures >= max, `${row.failures} failures counted`);
    const right = await raw(srv.url, 'POST', '/api/auth/login', { json: { login: 'target', password: DEFAULT_PASSWORD } });
    assert.equal(right.status, 429, 'locked after a burst of failures');
  });

  test('two administrators demoting each other at once leave one administrator', async () => {
    const other = await userClient(srv, 'second-admin', { admin: true });
    for (let round = 0; round < 3; round++) {
      const rs = await Promise.all([
        admin.client.patch(`/api/admin/users/${other.id}`, { isAdmin: false }),
        other.client.patch(`/api/admin/users/${admin.id}`, { isAdmin: false }),
      ]);
      noServerError(rs);
      const admins = await srv.bastide.platform.db.selectFrom('users').select('id').where('is_admin', '=', 1).where('disabled', '=', 0).execute();
      assert.ok(admins.length >= 1, `round ${round}: ${JSON.stringify(statuses(rs))} left ${admins.length} administrators`);
      // Restore two administrators for the next round (whoever is still one promotes the other).
      const still = admins[0]!.id === admin.id ? admin : other;
      const demoted = still === admin ? other : admin;
      if (admins.length === 1) assert.equal((await still.client.patch(`/api/admin/users/${demoted.id}`, { isAdmin: true })).status, 200);
    }
    // The same with disabling.
    const rs = await Promise.all([
      admin.client.patch(`/api/admin/users/${other.id}`, { disabled: true }),
      other.client.patch(`/api/admin/users/${admin.id}`, { disabled: true }),
    ]);
    noServerError(rs);
    const admins = await srv.bastide.platform.db.selectFrom('users').select('id').where('is_admin', '=', 1).where('disabled', '=', 0).execute();
    assert.ok(admins.length >= 1, `left ${admins.length} active administrators`);
  });
});
