import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, DEFAULT_PASSWORD, makeUser, startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { adminClient, assertError, MISSING_ID, raw, snapshotAll, userClient } from '../../../test/helpers/api.js';
import { deleteUser } from './commands/users.js';

/** Administration of users and groups, and who may reach it. */
describe('administration', () => {
  let srv: TestServer;
  let admin: { id: string; client: ApiClient };
  let nora: { id: string; client: ApiClient };

  before(async () => {
    srv = await startTestServer();
    admin = await adminClient(srv);
    nora = await userClient(srv, 'nora');
  });
  after(() => srv.close());

  const tables = ['users', 'groups', 'group_members', 'sessions', 'audit_log'];

  test('create a user: a temporary password is generated, returned once, and works', async () => {
    const r = await admin.client.post('/api/admin/users', { login: 'Bruno.M', displayName: '  Bruno Martin ', email: 'Bruno@Example.org' });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.equal(r.json.user.login, 'bruno.m');
    assert.equal(r.json.user.displayName, 'Bruno Martin');
    assert.equal(r.json.user.email, 'bruno@example.org');
    assert.equal(r.json.user.isAdmin, false);
    assert.equal(r.json.user.disabled, false);
    assert.equal(r.json.user.lastLoginAt, null);
    assert.equal(typeof r.json.temporaryPassword, 'string');
    const c = new ApiClient(srv.url);
    const me = await c.login('bruno.m', r.json.temporaryPassword);
    assert.equal(me.login, 'bruno.m');
    const one = await admin.client.get(`/api/admin/users/${r.json.user.id}`);
    assert.equal(one.status, 200);
    assert.ok(one.json.user.lastLoginAt > 0, 'one.json.user.lastLoginAt > 0');
    assert.deepEqual(one.json.groups, []);
    // With a chosen password, none is returned; the policy applies.
    const withPw = await admin.client.post('/api/admin/users', { login: 'carla', displayName: 'Carla', password: 'Strong-Pass-For-C-1', isAdmin: true });
    assert.equal(withPw.status, 201);
    assert.equal('temporaryPassword' in withPw.json, false);
    assert.equal(withPw.json.user.isAdmin, true);
    await new ApiClient(srv.url).login('carla', 'Strong-Pass-For-C-1');
    const audit = await admin.client.get('/api/admin/audit?action=identity.user.created');
    assert.ok(audit.json.items.some((e: any) => e.targetId === r.json.user.id && e.actorLogin === 'admin'), 'audit.json.items.some((e: any) => e.targetId === r.json.user.id && e.actorLogin === \'ad...');
  });

  test('refused creations change nothing: login_taken, email_taken, bad login, weak password', async () => {
    const db = srv.bastide.platform.db;
    const before = await snapshotAll(db, tables);
    assertError(await admin.client.post('/api/admin/users', { login: 'nora', displayName: 'Other Nora' }), 409, 'login_taken');
    assertError(await admin.client.post('/api/admin/users', { login: 'NORA', displayName: 'Other Nora' }), 409, 'login_taken');
    assertError(await admin.client.post('/api/admin/users', { login: 'nora2', displayName: 'N', email: 'NORA@example.org' }), 409, 'email_taken');
    for (const login of ['a', 'with space', 'émile', '-dash', 'x'.repeat(64), "o'brien", 'a/b']) {
      assertError(await admin.client.post('/api/admin/users', { login, displayName: 'X' }), 400, 'validation_failed');
    }
    assertError(await admin.client.post('/api/admin/users', { login: 'validlogin', displayName: '   ' }), 400, 'validation_failed');
    assertError(await admin.client.post('/api/admin/users', { login: 'validlogin', displayName: 'V', email: 'not-an-email' }), 400, 'validation_failed');
    const weak = await admin.client.post('/api/admin/users', { login: 'validlogin', displayName: 'V', password: 'password' });
    assertError(weak, 400, 'password_policy');
    assert.deepEqual(await snapshotAll(db, tables), before);
  });

  test('edit, disable, enable and delete a user', async () => {
    const u = await admin.client.post('/api/admin/users', { login: 'dave', displayName: 'Dave' });
    const id = u.json.user.id;
    const e = await admin.client.patch(`/api/admin/users/${id}`, { displayName: 'David', email: 'david@example.org', isAdmin: true });
    assert.equal(e.status, 200, JSON.stringify(e.json));
    assert.equal(e.json.user.displayName, 'David');
    assert.equal(e.json.user.email, 'david@example.org');
    assert.equal(e.json.user.isAdmin, true);
    assertError(await admin.client.patch(`/api/admin/users/${id}`, { email: 'nora@example.org' }), 409, 'email_taken');
    const d = await admin.client.patch(`/api/admin/users/${id}`, { disabled: true });
    assert.equal(d.json.user.disabled, true);
    assertError(await raw(srv.url, 'POST', '/api/auth/login', { json: { login: 'dave', password: u.json.temporaryPassword } }), 401, 'invalid_credentials');
    assert.equal((await admin.client.patch(`/api/admin/users/${id}`, { disabled: false })).json.user.disabled, false);
    assert.equal((await raw(srv.url, 'POST', '/api/auth/login', { json: { login: 'dave', password: u.json.temporaryPassword } })).status, 200);
    const actions = (await admin.client.get('/api/admin/audit?limit=200')).json.items.filter((x: any) => x.targetId === id).map((x: any) => x.action);
    for (const a of ['identity.user.created', 'identity.user.updated', 'identity.user.disabled', 'identity.user.enabled', 'identity.login.succeeded']) assert.ok(actions.includes(a), a);
    assert.equal((await admin.client.delete(`/api/admin/users/${id}`)).status, 204);
    assertError(await admin.client.get(`/api/admin/users/${id}`), 404, 'not_found');
    assertError(await admin.client.delete(`/api/admin/users/${id}`), 404, 'not_found');
    assertError(await admin.client.patch(`/api/admin/users/${MISSING_ID}`, { displayName: 'x' }), 404, 'not_found');
    assertError(await raw(srv.url, 'POST', '/api/auth/login', { json: { login: 'dave', password: u.json.temporaryPassword } }), 401, 'invalid_credentials');
    // The login is free again.
    assert.equal((await admin.client.post('/api/admin/users', { login: 'dave', displayName: 'Dave II' })).status, 201);
  });

  test('list and search users, with paging', async () => {
    const all = await admin.client.get('/api/admin/users?limit=200');
    assert.ok(all.json.items.length >= 5, 'all.json.items.length >= 5');
    assert.equal(all.json.nextCursor, null);
    const logins = all.json.items.map((u: any) => u.login);
    assert.deepEqual(logins, [...logins].sort());
    const p1 = await admin.client.get('/api/admin/users?limit=2');
    assert.equal(p1.json.items.length, 2);
    assert.ok(p1.json.nextCursor, 'p1.json.nextCursor');
    const p2 = await admin.client.get(`/api/admin/users?limit=2&cursor=${encodeURIComponent(p1.json.nextCursor)}`);
    assert.deepEqual(p2.json.items.map((u: any) => u.login), logins.slice(2, 4));
    const q = await admin.client.get('/api/admin/users?q=NOR');
    assert.deepEqual(q.json.items.map((u: any) => u.login), ['nora']);
    const none = await admin.client.get(`/api/admin/users?q=${encodeURIComponent('%_\\')}`);
    assert.deepEqual(none.json.items, []);
  });

  test(
    'search ignores case beyond ASCII (Élodie, DUPRÉ)',
    async () => {
      assert.equal((await admin.client.post('/api/admin/users', { login: 'elodie', displayName: 'Élodie Dupré' })).status, 201);
      for (const q of ['Élodie', 'élodie', 'ÉLODIE', 'dupré', 'DUPRÉ']) {
        const r = await admin.client.get(`/api/admin/users?q=${encodeURIComponent(q)}`);
        assert.deepEqual(r.json.items.map((u: any) => u.login), ['elodie'], q);
      }
    },
  );

  test('the last administrator cannot be demoted, disabled or deleted (409 last_admin); nobody deletes themselves', async () => {
    // Two administrators now: admin and carla. Demote carla, then admin is the last one.
    const carla = (await admin.client.get('/api/admin/users?q=carla')).json.items[0];
    const others = (await admin.client.get('/api/admin/users?limit=200')).json.items.filter((u: any) => u.isAdmin && u.id !== admin.id);
    for (const o of others) assert.equal((await admin.client.patch(`/api/admin/users/${o.id}`, { isAdmin: false })).status, 200);
    assert.ok(others.some((o: any) => o.id === carla.id), 'others.some((o: any) => o.id === carla.id)');
    const db = srv.bastide.platform.db;
    const before = await snapshotAll(db, ['users', 'sessions']);
    assertError(await admin.client.patch(`/api/admin/users/${admin.id}`, { isAdmin: false }), 409, 'last_admin');
    assertError(await admin.client.patch(`/api/admin/users/${admin.id}`, { disabled: true }), 409, 'last_admin');
    assertError(await admin.client.delete(`/api/admin/users/${admin.id}`), 403, 'forbidden');
    assert.deepEqual(await snapshotAll(db, ['users', 'sessions']), before);
    // Deleting the last administrator is refused whoever asks (here the system, as the CLI would).
    await assert.rejects(deleteUser({ platform: srv.bastide.platform, actor: { kind: 'system' } }, admin.id), (e: any) => e.code === 'last_admin');
    // With a second administrator, the first may step down.
    assert.equal((await admin.client.patch(`/api/admin/users/${carla.id}`, { isAdmin: true })).status, 200);
    const carlaClient = new ApiClient(srv.url);
    await carlaClient.login('carla', 'Strong-Pass-For-C-1');
    assertError(await carlaClient.delete(`/api/admin/users/${carla.id}`), 403, 'forbidden');
    const step = await admin.client.patch(`/api/admin/users/${admin.id}`, { isAdmin: false });
    assert.equal(step.status, 200);
    // The former administrator's session now has no administration rights.
    assertError(await admin.client.get('/api/admin/users'), 403, 'forbidden');
    assertError(await carlaClient.patch(`/api/admin/users/${carla.id}`, { disabled: true }), 409, 'last_admin');
    assert.equal((await carlaClient.patch(`/api/admin/users/${admin.id}`, { isAdmin: true })).status, 200);
  });

  test('groups: create, rename, name_taken, members, delete', async () => {
    const c = admin.client;
    const g = await c.post('/api/admin/groups', { name: ' Mairie — Accueil ', description: 'Front desk' });
    assert.equal(g.status, 201, JSON.stringify(g.json));
    assert.equal(g.json.group.name, 'Mairie — Accueil');
    assert.equal(g.json.group.memberCount, 0);
    const id = g.json.group.id;
    assertError(await c.post('/api/admin/groups', { name: 'mairie — accueil' }), 409, 'name_taken');
    const g2 = await c.post('/api/admin/groups', { name: 'Services techniques' });
    assertError(await c.patch(`/api/admin/groups/${g2.json.group.id}`, { name: 'MAIRIE — ACCUEIL' }), 409, 'name_taken');
    const renamed = await c.patch(`/api/admin/groups/${id}`, { name: 'Accueil', description: 'Reception' });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.json.group.name, 'Accueil');
    assert.equal(renamed.json.group.description, 'Reception');
    // Members.
    assert.equal((await c.put(`/api/admin/groups/${id}/members/${nora.id}`)).status, 204);
    assert.equal((await c.put(`/api/admin/groups/${id}/members/${nora.id}`)).status, 204, 'idempotent');
    assert.equal((await c.put(`/api/admin/groups/${id}/members/${admin.id}`)).status, 204);
    assertError(await c.put(`/api/admin/groups/${id}/members/${MISSING_ID}`), 404, 'not_found');
    assertError(await c.put(`/api/admin/groups/${MISSING_ID}/members/${nora.id}`), 404, 'not_found');
    const members = await c.get(`/api/admin/groups/${id}/members`);
    assert.deepEqual(members.json.items.map((m: any) => m.login), ['admin', 'nora']);
    const list = await c.get('/api/admin/groups');
    assert.equal(list.json.items.find((x: any) => x.id === id).memberCount, 2);
    assert.deepEqual((await c.get('/api/admin/groups?q=accu')).json.items.map((x: any) => x.id), [id]);
    assert.deepEqual((await c.get(`/api/admin/users/${nora.id}`)).json.groups, [{ id, name: 'Accueil' }]);
    assert.equal((await c.delete(`/api/admin/groups/${id}/members/${admin.id}`)).status, 204);
    assert.deepEqual((await c.get(`/api/admin/groups/${id}/members`)).json.items.map((m: any) => m.login), ['nora']);
    const audit = (await c.get('/api/admin/audit?limit=100')).json.items.filter((e: any) => e.targetId === id).map((e: any) => e.action);
    assert.equal(audit.filter((a: string) => a === 'identity.group.member_added').length, 2, 'the idempotent repeat records nothing');
    assert.ok(audit.includes('identity.group.member_removed'), 'audit.includes(\'identity.group.member_removed\')');
    // Delete.
    assert.equal((await c.delete(`/api/admin/groups/${id}`)).status, 204);
    assertError(await c.get(`/api/admin/groups/${id}`), 404, 'not_found');
    assertError(await c.get(`/api/admin/groups/${id}/members`), 404, 'not_found');
    assert.deepEqual((await c.get(`/api/admin/users/${nora.id}`)).json.groups, []);
    assert.equal((await c.post('/api/admin/groups', { name: 'Accueil' })).status, 201, 'the name is free again');
  });

  test('every /api/admin route: 403 for a user (and for a user token), 401 when anonymous; nothing changes', async () => {
    const db = srv.bastide.platform.db;
    const g = await admin.client.post('/api/admin/groups', { name: 'Guarded' });
    const gid = g.json.group.id;
    await admin.client.put(`/api/admin/groups/${gid}/members/${nora.id}`);
    const token = (await nora.client.post('/api/me/tokens', { name: 'nora script' })).json.token as string;
    const target = admin.id;
    const routes: Array<[string, string, unknown?]> = [];
    for (const id of [target, MISSING_ID]) {
      const gId = id === target ? gid : MISSING_ID;
      routes.push(
        ['GET', `/api/admin/users/${id}`],
        ['PATCH', `/api/admin/users/${id}`, { displayName: 'Pwned' }],
        ['DELETE', `/api/admin/users/${id}`],
        ['POST', `/api/admin/users/${id}/reset-password`, {}],
        ['GET', `/api/admin/groups/${gId}`],
        ['PATCH', `/api/admin/groups/${gId}`, { name: 'Pwned' }],
        ['DELETE', `/api/admin/groups/${gId}`],
        ['GET', `/api/admin/groups/${gId}/members`],
        ['PUT', `/api/admin/groups/${gId}/members/${nora.id}`],
        ['DELETE', `/api/admin/groups/${gId}/members/${nora.id}`],
      );
    }
    routes.push(
      ['GET', '/api/admin/users'],
      ['GET', '/api/admin/users?q=a'],
      ['POST', '/api/admin/users', { login: 'intruder', displayName: 'I', isAdmin: true }],
      ['GET', '/api/admin/groups'],
      ['POST', '/api/admin/groups', { name: 'Intruders' }],
      ['GET', '/api/admin/audit'],
      ['GET', '/api/admin/audit/verify'],
      ['GET', `/api/admin/drive/quota?ownerType=user&ownerId=${target}`],
      ['PUT', `/api/admin/drive/quota?ownerType=user&ownerId=${target}`, { bytes: 1 }],
      ['GET', '/api/admin/mail/domains'],
      ['POST', '/api/admin/mail/domains', { name: 'intruder.example' }],
      ['GET', `/api/admin/mail/domains/${MISSING_ID}/dns`],
      ['DELETE', `/api/admin/mail/domains/${MISSING_ID}`],
      ['GET', '/api/admin/mail/addresses'],
      ['POST', '/api/admin/mail/addresses', { address: 'boss@intruder.example', targetType: 'user', targetId: nora.id }],
      ['DELETE', `/api/admin/mail/addresses/${MISSING_ID}`],
      ['GET', '/api/admin/mail/queue'],
    );
    // Every admin route the OpenAPI document lists is covered.
    const doc = (await raw(srv.url, 'GET', '/api/openapi.json')).json;
    const covered = new Set(routes.map(([m, p]) => `${m} ${p.replace(/\?.*$/, '').replace(/[0-9A-Z]{26}/g, '{}')}`));
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      if (!path.startsWith('/api/admin/')) continue;
      for (const m of Object.keys(ops)) assert.ok(covered.has(`${m.toUpperCase()} ${path.replace(/\{[^}]+\}/g, '{}')}`), `${m} ${path} not covered`);
    }
    const before = await snapshotAll(db, tables);
    for (const [method, path, body] of routes) {
      const asUser = await nora.client.request(method, path, body);
      assertError(asUser, 403, 'forbidden');
      const asToken = await raw(srv.url, method, path, { headers: { authorization: `Bearer ${token}` }, ...(body !== undefined ? { json: body } : {}) });
      assertError(asToken, 403, 'forbidden');
      const anon = await raw(srv.url, method, path, body !== undefined ? { json: body } : {});
      assertError(anon, 401, 'unauthenticated');
    }
    assert.deepEqual(await snapshotAll(db, tables), before);
  });

  test('makeUser-created admin can be signed in by e-mail too', async () => {
    await makeUser(srv, 'admin2', { admin: true, email: 'boss@example.org' });
    const c = new ApiClient(srv.url);
    const me = await c.login('boss@example.org', DEFAULT_PASSWORD);
    assert.equal(me.isAdmin, true);
    assert.equal((await c.get('/api/admin/audit/verify')).json.ok, true);
  });
});
