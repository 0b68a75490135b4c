import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type ApiClient, type TestServer } from '../../../test/helpers/server.js';
import { assertError, basicAuth, MISSING_ID, raw, snapshotAll, userClient } from '../../../test/helpers/api.js';

/** Spaces over HTTP: visibility, joining, roles, the last owner, deletion. */
describe('spaces', () => {
  let srv: TestServer;
  type U = { id: string; client: ApiClient };
  let olive: U; // owner
  let max: U; // manager
  let mia: U; // member
  let otto: U; // outsider
  let ada: U; // administrator, in no space
  let secret = '';
  let open = '';
  let request = '';

  before(async () => {
    srv = await startTestServer();
    [olive, max, mia, otto, ada] = await Promise.all([
      userClient(srv, 'olive'),
      userClient(srv, 'max'),
      userClient(srv, 'mia'),
      userClient(srv, 'otto'),
      userClient(srv, 'ada', { admin: true }),
    ]);
  });
  after(() => srv.close());

  const unchanged = async (fn: () => Promise<void>) => {
    const db = srv.bastide.platform.db;
    const before = await snapshotAll(db, ['spaces', 'space_members']);
    await fn();
    assert.deepEqual(await snapshotAll(db, ['spaces', 'space_members']), before);
  };
  const members = async (c: ApiClient, id: string) =>
    Object.fromEntries(((await c.get(`/api/spaces/${id}/members`)).json.items as any[]).map((m) => [m.login, m.role]));

  test('create: the creator is owner', async () => {
    const r = await olive.client.post('/api/spaces', { name: 'Conseil municipal', description: 'Huis clos', visibility: 'secret' });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.equal(r.json.space.myRole, 'owner');
    assert.equal(r.json.space.memberCount, 1);
    assert.equal(r.json.space.visibility, 'secret');
    secret = r.json.space.id;
    open = (await olive.client.post('/api/spaces', { name: 'Fête du village', visibility: 'open' })).json.space.id;
    request = (await olive.client.post('/api/spaces', { name: 'Urbanisme', visibility: 'request' })).json.space.id;
    assertError(await olive.client.post('/api/spaces', { name: 'x', visibility: 'public' }), 400, 'validation_failed');
    assertError(await olive.client.post('/api/spaces', { name: '\u0000\u0001 ', visibility: 'open' }), 400, 'validation_failed');
    assertError(await raw(srv.url, 'POST', '/api/spaces', { json: { name: 'anon', visibility: 'open' } }), 401, 'unauthenticated');
  });

  test('a secret space is invisible (404) to non-members, visible to its members and administrators', async () => {
    await unchanged(async () => {
      assertError(await otto.client.get(`/api/spaces/${secret}`), 404, 'not_found');
      assertError(await otto.client.get(`/api/spaces/${secret}/members`), 404, 'not_found');
      assertError(await otto.client.patch(`/api/spaces/${secret}`, { name: 'Mine' }), 404, 'not_found');
      assertError(await otto.client.delete(`/api/spaces/${secret}`), 404, 'not_found');
      assertError(await otto.client.put(`/api/spaces/${secret}/members/${otto.id}`, { role: 'member' }), 404, 'not_found');
      assertError(await otto.client.delete(`/api/spaces/${secret}/members/${olive.id}`), 404, 'not_found');
      // Same answer as a space that does not exist.
      const missing = await otto.client.get(`/api/spaces/${MISSING_ID}`);
      assert.deepEqual((await otto.client.get(`/api/spaces/${secret}`)).json, missing.json);
    });
    const list = (await otto.client.get('/api/spaces')).json.items.map((s: any) => s.id);
    assert.ok(!list.includes(secret), 'not listed');
    assert.ok(list.includes(open) && list.includes(request), 'open and request spaces are listed');
    assert.equal((await olive.client.get(`/api/spaces/${secret}`)).status, 200);
    const adm = await ada.client.get(`/api/spaces/${secret}`);
    assert.equal(adm.status, 200);
    assert.equal(adm.json.space.myRole, null);
  });

  test('an open space can be joined by oneself as member (only as member); a request space cannot', async () => {
    await unchanged(async () => {
      assertError(await otto.client.put(`/api/spaces/${open}/members/${otto.id}`, { role: 'manager' }), 403, 'forbidden');
      assertError(await otto.client.put(`/api/spaces/${open}/members/${otto.id}`, { role: 'owner' }), 403, 'forbidden');
      assertError(await otto.client.put(`/api/spaces/${open}/members/${mia.id}`, { role: 'member' }), 403, 'forbidden');
      assertError(await otto.client.put(`/api/spaces/${request}/members/${otto.id}`, { role: 'member' }), 403, 'forbidden');
      assertError(await otto.client.get(`/api/spaces/${request}/members`), 403, 'forbidden');
    });
    assert.equal((await otto.client.get(`/api/spaces/${request}`)).status, 200);
    assert.equal((await otto.client.get(`/api/spaces/${open}/members`)).status, 200, 'open spaces show their members');
    assert.equal((await otto.client.put(`/api/spaces/${open}/members/${otto.id}`, { role: 'member' })).status, 204);
    const s = await otto.client.get(`/api/spaces/${open}`);
    assert.equal(s.json.space.myRole, 'member');
    assert.equal(s.json.space.memberCount, 2);
  });

  test('members cannot change roles; managers can, but cannot grant or take away owner', async () => {
    assert.equal((await olive.client.put(`/api/spaces/${open}/members/${max.id}`, { role: 'manager' })).status, 204);
    assert.equal((await olive.client.put(`/api/spaces/${open}/members/${mia.id}`, { role: 'member' })).status, 204);
    assertError(await olive.client.put(`/api/spaces/${open}/members/${MISSING_ID}`, { role: 'member' }), 404, 'not_found');
    await unchanged(async () => {
      assertError(await mia.client.put(`/api/spaces/${open}/members/${otto.id}`, { role: 'guest' }), 403, 'forbidden');
      assertError(await mia.client.put(`/api/spaces/${open}/members/${mia.id}`, { role: 'manager' }), 403, 'forbidden');
      assertError(await mia.client.delete(`/api/spaces/${open}/members/${otto.id}`), 403, 'forbidden');
      assertError(await mia.client.patch(`/api/spaces/${open}`, { name: 'Renamed by a member' }), 403, 'forbidden');
      assertError(await max.client.put(`/api/spaces/${open}/members/${mia.id}`, { role: 'owner' }), 403, 'forbidden');
      assertError(await max.client.put(`/api/spaces/${open}/members/${olive.id}`, { role: 'member' }), 403, 'forbidden');
      assertError(await max.client.delete(`/api/spaces/${open}/members/${olive.id}`), 403, 'forbidden');
      assertError(await max.client.put(`/api/spaces/${open}/members/${mia.id}`, { role: 'admin' }), 400, 'validation_failed');
    });
    assert.equal((await max.client.put(`/api/spaces/${open}/members/${mia.id}`, { role: 'guest' })).status, 204);
    assert.equal((await max.client.delete(`/api/spaces/${open}/members/${otto.id}`)).status, 204);
    const p = await max.client.patch(`/api/spaces/${open}`, { description: 'Le 14 juillet' });
    assert.equal(p.status, 200);
    assert.equal(p.json.space.description, 'Le 14 juillet');
    assert.deepEqual(await members(olive.client, open), { max: 'manager', mia: 'guest', olive: 'owner' });
    // A guest may leave by themselves.
    assert.equal((await mia.client.delete(`/api/spaces/${open}/members/${mia.id}`)).status, 204);
    assertError(await mia.client.delete(`/api/spaces/${open}/members/${mia.id}`), 403, 'forbidden');
  });

  test('the last owner cannot leave or step down (409); with another owner they can', async () => {
    await unchanged(async () => {
      const leave = await olive.client.delete(`/api/spaces/${open}/members/${olive.id}`);
      assertError(leave, 409, 'conflict');
      assert.equal(leave.json.error.details.reason, 'last_owner');
      assertError(await olive.client.put(`/api/spaces/${open}/members/${olive.id}`, { role: 'manager' }), 409, 'conflict');
      // Not even an administrator can leave a space without an owner.
      assertError(await ada.client.put(`/api/spaces/${open}/members/${olive.id}`, { role: 'member' }), 409, 'conflict');
      assertError(await ada.client.delete(`/api/spaces/${open}/members/${olive.id}`), 409, 'conflict');
    });
    assert.equal((await olive.client.put(`/api/spaces/${open}/members/${max.id}`, { role: 'owner' })).status, 204);
    assert.equal((await olive.client.delete(`/api/spaces/${open}/members/${olive.id}`)).status, 204);
    assert.deepEqual(await members(max.client, open), { max: 'owner' });
    assertError(await max.client.put(`/api/spaces/${open}/members/${max.id}`, { role: 'member' }), 409, 'conflict');
  });

  test('archived open spaces cannot be joined', async () => {
    assert.equal((await max.client.patch(`/api/spaces/${open}`, { archived: true })).json.space.archived, true);
    assertError(await otto.client.put(`/api/spaces/${open}/members/${otto.id}`, { role: 'member' }), 403, 'forbidden');
    assert.equal((await max.client.patch(`/api/spaces/${open}`, { archived: false })).status, 200);
  });

  test('an app password does not reach spaces', async () => {
    const ap = await otto.client.post('/api/me/app-passwords', { name: 'dav', scopes: ['dav', 'api'] });
    const h = basicAuth('otto', ap.json.password);
    await unchanged(async () => {
      assertError(await raw(srv.url, 'POST', '/api/spaces', { headers: h, json: { name: 'by app password', visibility: 'open' } }), 403, 'forbidden');
      assertError(await raw(srv.url, 'PUT', `/api/spaces/${open}/members/${otto.id}`, { headers: h, json: { role: 'member' } }), 404, 'not_found');
    });
  });

  test('only owners and administrators delete a space', async () => {
    assert.equal((await max.client.put(`/api/spaces/${open}/members/${mia.id}`, { role: 'manager' })).status, 204);
    await unchanged(async () => {
      assertError(await mia.client.delete(`/api/spaces/${open}`), 403, 'forbidden');
      assertError(await otto.client.delete(`/api/spaces/${open}`), 403, 'forbidden');
      assertError(await otto.client.delete(`/api/spaces/${request}`), 403, 'forbidden');
    });
    assert.equal((await max.client.delete(`/api/spaces/${open}`)).status, 204);
    assertError(await max.client.get(`/api/spaces/${open}`), 404, 'not_found');
    assert.equal((await srv.bastide.platform.db.selectFrom('space_members').select('user_id').where('space_id', '=', open).execute()).length, 0);
    // An administrator who is not a member may delete any space, secret ones included.
    assert.equal((await ada.client.delete(`/api/spaces/${secret}`)).status, 204);
    assertError(await olive.client.get(`/api/spaces/${secret}`), 404, 'not_found');
    const audit = await ada.client.get('/api/admin/audit?action=spaces.space.deleted');
    assert.deepEqual(audit.json.items.map((e: any) => e.targetId).sort(), [open, secret].sort());
  });

  test('two owners leaving (or stepping down) at once leave one owner', async () => {
    for (const mode of ['leave', 'step-down'] as const) {
      const id = (await olive.client.post('/api/spaces', { name: `Race ${mode}`, visibility: 'open' })).json.space.id;
      assert.equal((await olive.client.put(`/api/spaces/${id}/members/${max.id}`, { role: 'owner' })).status, 204);
      const rs = await Promise.all(
        [olive, max].map((u) =>
          mode === 'leave' ? u.client.delete(`/api/spaces/${id}/members/${u.id}`) : u.client.put(`/api/spaces/${id}/members/${u.id}`, { role: 'member' }),
        ),
      );
      assert.deepEqual(rs.map((r) => r.status).sort(), [204, 409], `${mode}: ${JSON.stringify(rs.map((r) => r.json))}`);
      const owners = await srv.bastide.platform.db.selectFrom('space_members').select('user_id').where('space_id', '=', id).where('role', '=', 'owner').execute();
      assert.equal(owners.length, 1, mode);
    }
  });

  test('bad ids and bodies are refused with 400', async () => {
    assertError(await olive.client.get('/api/spaces/not-an-id'), 400, 'validation_failed');
    assertError(await olive.client.put(`/api/spaces/${request}/members/nope`, { role: 'member' }), 400, 'validation_failed');
    assertError(await olive.client.patch(`/api/spaces/${request}`, { owner: 'me' }), 400, 'validation_failed');
    assertError(await olive.client.patch(`/api/spaces/${request}`, { name: 'x'.repeat(121) }), 400, 'validation_failed');
  });
});
