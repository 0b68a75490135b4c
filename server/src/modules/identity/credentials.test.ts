import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../platform/clock.js';
import { type ApiClient, DEFAULT_PASSWORD, startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { assertError, basicAuth, bearerAuth, MISSING_ID, raw, snapshot, userClient } from '../../../test/helpers/api.js';

/** App passwords (HTTP Basic, for protocol clients) and personal API tokens (Bearer). */
describe('app passwords and API tokens', () => {
  let srv: TestServer;
  const clock = new ManualClock(Date.UTC(2026, 3, 1));
  let paul: { id: string; client: ApiClient };
  let root: { id: string; client: ApiClient };
  let other: { id: string; client: ApiClient };

  before(async () => {
    srv = await startTestServer({ clock });
    root = await userClient(srv, 'root', { admin: true });
    paul = await userClient(srv, 'paul');
    other = await userClient(srv, 'olga');
  });
  after(() => srv.close());

  const get = (path: string, headers: Record<string, string>) => raw(srv.url, 'GET', path, { headers });
  const send = (method: string, path: string, headers: Record<string, string>, json?: unknown) =>
    raw(srv.url, method, path, { headers, ...(json !== undefined ? { json } : {}) });

  test('an app password is shown once, never listed, and signs in protocol clients with HTTP Basic', async () => {
    const r = await paul.client.post('/api/me/app-passwords', { name: 'Thunderbird', scopes: ['dav', 'mail', 'api'] });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.match(r.json.password, /^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    assert.deepEqual(r.json.item.scopes, ['dav', 'mail', 'api']);
    assert.equal(r.json.item.lastUsedAt, null);
    const list = await paul.client.get('/api/me/app-passwords');
    assert.equal(list.status, 200);
    assert.equal(list.json.items.length, 1);
    assert.deepEqual(Object.keys(list.json.items[0]).sort(), ['createdAt', 'id', 'lastUsedAt', 'name', 'scopes']);
    assert.ok(!JSON.stringify(list.json).includes(r.json.password), '!JSON.stringify(list.json).includes(r.json.password)');
    assert.ok(!JSON.stringify(list.json).includes(r.json.password.replace(/-/g, '')), '!JSON.stringify(list.json).includes(r.json.password.replace(/-/g, \'\'))');
    // It is stored hashed.
    assert.ok(!(await snapshot(srv.bastide.platform.db, 'app_passwords')).includes(r.json.password.replace(/-/g, '')), '!(await snapshot(srv.bastide.platform.db, \'app_passwords\')).includes(r.json.password.re...');

    for (const [login, pw] of [
      ['paul', r.json.password],
      ['paul@example.org', r.json.password],
      ['PAUL', r.json.password.toUpperCase()],
      ['paul', r.json.password.replace(/-/g, ' ')],
    ] as const) {
      const s = await get('/api/session', basicAuth(login, pw));
      assert.equal(s.status, 200, `${login}:${pw} ${JSON.stringify(s.json)}`);
      assert.equal(s.json.user.login, 'paul');
      assert.equal(s.json.csrfToken, null);
    }
    assert.equal((await get('/api/notifications', basicAuth('paul', r.json.password))).status, 200);
    // Wrong login for that password, the account password itself, or garbage: nobody.
    for (const h of [basicAuth('olga', r.json.password), basicAuth('paul', DEFAULT_PASSWORD), basicAuth('paul', ''), { authorization: 'Basic !!!' }, { authorization: 'Basic Zm9v' }]) {
      assertError(await get('/api/session', h), 401, 'unauthenticated');
    }
    await paul.client.post('/api/me/app-passwords', { name: 'other', scopes: ['dav'] });
    const after1 = await paul.client.get('/api/me/app-passwords');
    assert.ok(after1.json.items.find((i: any) => i.name === 'Thunderbird').lastUsedAt !== null, 'after1.json.items.find((i: any) => i.name === \'Thunderbird\').lastUsedAt !== null');
  });

  test('an app password cannot manage credentials, the profile or administration', async () => {
    const made = await root.client.post('/api/me/app-passwords', { name: 'admin-dav', scopes: ['dav', 'mail', 'api'] });
    const h = basicAuth('root', made.json.password);
    const ph = basicAuth('paul', (await paul.client.post('/api/me/app-passwords', { name: 'x', scopes: ['api'] })).json.password);
    const db = srv.bastide.platform.db;
    // (last_used_at moves: using a credential is not changing it)
    const state = async () => ({
      users: await snapshot(db, 'users'),
      ap: await snapshot(db, 'app_passwords', ['last_used_at']),
      tokens: await snapshot(db, 'api_tokens'),
      groups: await snapshot(db, 'groups'),
    });
    const before = await state();
    const forbidden: Array<[string, string, Record<string, string>, unknown?]> = [
      ['GET', '/api/me/app-passwords', ph],
      ['POST', '/api/me/app-passwords', ph, { name: 'more', scopes: ['dav'] }],
      ['GET', '/api/me/tokens', ph],
      ['POST', '/api/me/tokens', ph, { name: 'tok' }],
      ['GET', '/api/me/sessions', ph],
      ['PATCH', '/api/me', ph, { displayName: 'Hacked' }],
      ['POST', '/api/me/password', ph, { currentPassword: DEFAULT_PASSWORD, newPassword: 'A-New-Password-123' }],
      ['POST', '/api/me/totp/setup', ph],
      ['GET', '/api/admin/users', h],
      ['POST', '/api/admin/users', h, { login: 'mallory', displayName: 'M' }],
      ['PATCH', `/api/admin/users/${paul.id}`, h, { isAdmin: true }],
      ['GET', '/api/admin/groups', h],
      ['POST', '/api/admin/groups', h, { name: 'g' }],
      ['GET', '/api/admin/audit', h],
      ['GET', '/api/admin/audit/verify', h],
      ['DELETE', `/api/admin/users/${paul.id}`, h],
      ['POST', `/api/admin/users/${paul.id}/reset-password`, h, {}],
    ];
    for (const [method, path, headers, body] of forbidden) {
      const r = await send(method, path, headers, body);
      assertError(r, 403, 'forbidden');
    }
    assert.deepEqual(await state(), before);
    // It can still read what it is for.
    assert.equal((await get('/api/session', h)).status, 200);
  });

  test('an app password without the api scope does not open the JSON API', async () => {
    const r = await paul.client.post('/api/me/app-passwords', { name: 'caldav only', scopes: ['dav'] });
    assertError(await get('/api/session', basicAuth('paul', r.json.password)), 401, 'unauthenticated');
    assertError(await get('/api/notifications', basicAuth('paul', r.json.password)), 401, 'unauthenticated');
  });

  test('revoking an app password takes effect at once; another user cannot revoke it (404)', async () => {
    const r = await paul.client.post('/api/me/app-passwords', { name: 'to revoke', scopes: ['api'] });
    const h = basicAuth('paul', r.json.password);
    assert.equal((await get('/api/session', h)).status, 200);
    assertError(await other.client.delete(`/api/me/app-passwords/${r.json.item.id}`), 404, 'not_found');
    // Not even an administrator, through /me.
    assertError(await root.client.delete(`/api/me/app-passwords/${r.json.item.id}`), 404, 'not_found');
    assert.equal((await get('/api/session', h)).status, 200);
    assertError(await paul.client.delete(`/api/me/app-passwords/${MISSING_ID}`), 404, 'not_found');
    assertError(await paul.client.delete('/api/me/app-passwords/not-an-id'), 400, 'validation_failed');
    assert.equal((await paul.client.delete(`/api/me/app-passwords/${r.json.item.id}`)).status, 204);
    assertError(await get('/api/session', h), 401, 'unauthenticated');
    assert.ok(!(await paul.client.get('/api/me/app-passwords')).json.items.some((i: any) => i.id === r.json.item.id), '!(await paul.client.get(\'/api/me/app-passwords\')).json.items.some((i: any) => i.id === ...');
    assertError(await paul.client.delete(`/api/me/app-passwords/${r.json.item.id}`), 404, 'not_found');
    const audit = await root.client.get('/api/admin/audit?action=identity.app_password.revoked');
    assert.ok(audit.json.items.some((e: any) => e.details.id === r.json.item.id), 'audit.json.items.some((e: any) => e.details.id === r.json.item.id)');
  });

  test('an app password in use (answer cached) is refused at once when its user is disabled', async () => {
    const olga = await userClient(srv, 'olga2');
    const r = await olga.client.post('/api/me/app-passwords', { name: 'sync', scopes: ['api'] });
    const h = basicAuth('olga2', r.json.password);
    // Used twice: the second answer comes from the cache.
    assert.equal((await get('/api/session', h)).status, 200);
    assert.equal((await get('/api/session', h)).status, 200);
    assert.equal((await root.client.patch(`/api/admin/users/${olga.id}`, { disabled: true })).status, 200);
    assertError(await get('/api/session', h), 401, 'unauthenticated');
    assert.equal((await root.client.patch(`/api/admin/users/${olga.id}`, { disabled: false })).status, 200);
    assert.equal((await get('/api/session', h)).status, 200);
    // A wrong password for the same login is never answered from the cache.
    assertError(await get('/api/session', basicAuth('olga2', `${r.json.password}x`)), 401, 'unauthenticated');
    assertError(await get('/api/session', basicAuth('paul', r.json.password)), 401, 'unauthenticated');
  });

  test('a bearer token works without CSRF, is shown once, and cannot mint tokens', async () => {
    const r = await paul.client.post('/api/me/tokens', { name: 'script', expiresInDays: 1 });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    const token: string = r.json.token;
    assert.match(token, /^bst_/);
    assert.equal(r.json.item.expiresAt, clock.now() + 86400_000);
    const list = await paul.client.get('/api/me/tokens');
    assert.equal(list.json.items.length, 1);
    assert.ok(!JSON.stringify(list.json).includes(token), '!JSON.stringify(list.json).includes(token)');
    assert.ok(!(await snapshot(srv.bastide.platform.db, 'api_tokens')).includes(token), '!(await snapshot(srv.bastide.platform.db, \'api_tokens\')).includes(token)');

    const h = bearerAuth(token);
    const s = await get('/api/session', h);
    assert.equal(s.status, 200);
    assert.equal(s.json.user.login, 'paul');
    assert.equal(s.json.csrfToken, null);
    // A change without any CSRF header.
    const p = await send('PATCH', '/api/me', h, { displayName: 'Paul by token' });
    assert.equal(p.status, 200, JSON.stringify(p.json));
    assert.equal(p.json.user.displayName, 'Paul by token');
    // Tokens cannot create tokens.
    assertError(await send('POST', '/api/me/tokens', h, { name: 'child' }), 403, 'forbidden');
    assert.equal((await paul.client.get('/api/me/tokens')).json.items.length, 1);
    // A malformed or unknown bearer is nobody.
    assertError(await get('/api/session', bearerAuth('bst_unknown-token-value')), 401, 'unauthenticated');
    assertError(await get('/api/session', { authorization: 'Bearer' }), 401, 'unauthenticated');
    // Another user cannot revoke it.
    assertError(await other.client.delete(`/api/me/tokens/${r.json.item.id}`), 404, 'not_found');
    assert.equal((await get('/api/session', h)).status, 200);
    // Expiry.
    clock.advance(86400_000 + 1);
    assertError(await get('/api/session', h), 401, 'unauthenticated');
  });

  test('a revoked token is refused at once', async () => {
    const r = await paul.client.post('/api/me/tokens', { name: 'ci' });
    assert.equal(r.json.item.expiresAt, null);
    const h = bearerAuth(r.json.token);
    assert.equal((await get('/api/session', h)).status, 200);
    // A token may revoke itself (it manages its owner's credentials).
    assert.equal((await send('DELETE', `/api/me/tokens/${r.json.item.id}`, h)).status, 204);
    assertError(await get('/api/session', h), 401, 'unauthenticated');
    assertError(await send('PATCH', '/api/me', h, { displayName: 'x' }), 401, 'unauthenticated');
  });

  test("an administrator's token reaches administration; a disabled user's credentials stop working", async () => {
    const t = await root.client.post('/api/me/tokens', { name: 'admin script' });
    const h = bearerAuth(t.json.token);
    assert.equal((await get('/api/admin/users', h)).status, 200);
    const ap = await paul.client.post('/api/me/app-passwords', { name: 'before disable', scopes: ['api'] });
    const pt = await paul.client.post('/api/me/tokens', { name: 'before disable' });
    const dis = await send('PATCH', `/api/admin/users/${paul.id}`, h, { disabled: true });
    assert.equal(dis.status, 200, JSON.stringify(dis.json));
    assertError(await get('/api/session', basicAuth('paul', ap.json.password)), 401);
    assertError(await get('/api/session', bearerAuth(pt.json.token)), 401);
    assertError(await paul.client.get('/api/session'), 401);
    assert.equal((await send('PATCH', `/api/admin/users/${paul.id}`, h, { disabled: false })).status, 200);
    assert.equal((await get('/api/session', bearerAuth(pt.json.token))).status, 200);
    assert.equal((await get('/api/session', basicAuth('paul', ap.json.password))).status, 200);
  });

  test('names are required; unknown scopes are refused', async () => {
    const before = await snapshot(srv.bastide.platform.db, 'app_passwords');
    assertError(await other.client.post('/api/me/app-passwords', { name: '   ', scopes: ['dav'] }), 400, 'validation_failed');
    assertError(await other.client.post('/api/me/app-passwords', { name: 'x', scopes: [] }), 400, 'validation_failed');
    assertError(await other.client.post('/api/me/app-passwords', { name: 'x', scopes: ['root'] }), 400, 'validation_failed');
    assertError(await other.client.post('/api/me/app-passwords', { name: 'x' }), 400, 'validation_failed');
    assertError(await other.client.post('/api/me/tokens', { name: '' }), 400, 'validation_failed');
    assertError(await other.client.post('/api/me/tokens', { name: 'x', expiresInDays: 0 }), 400, 'validation_failed');
    assert.equal(await snapshot(srv.bastide.platform.db, 'app_passwords'), before);
  });
});
