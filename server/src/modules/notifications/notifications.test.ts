import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type ApiClient, type TestServer } from '../../../test/helpers/server.js';
import { assertError, eventually, raw, snapshot, userClient } from '../../../test/helpers/api.js';

/** Notifications fed by other modules' events: created once, private, marked read. */
describe('notifications', () => {
  let srv: TestServer;
  type U = { id: string; client: ApiClient };
  let admin: U;
  let nina: U;
  let omar: U;
  let groupId = '';

  before(async () => {
    srv = await startTestServer();
    [admin, nina, omar] = await Promise.all([userClient(srv, 'admin', { admin: true }), userClient(srv, 'nina'), userClient(srv, 'omar')]);
  });
  after(() => srv.close());

  const list = async (c: ApiClient) => (await c.get('/api/notifications')).json;

  test('being added to a group creates a notification for that user only', async () => {
    assert.deepEqual(await list(nina.client), { items: [], unread: 0 });
    groupId = (await admin.client.post('/api/admin/groups', { name: 'Équipe <b>voirie</b>' })).json.group.id;
    assert.equal((await admin.client.put(`/api/admin/groups/${groupId}/members/${nina.id}`)).status, 204);
    const got = await eventually(async () => {
      const l = await list(nina.client);
      return l.items.length > 0 && l;
    }, 5000, "nina's notification");
    assert.equal(got.unread, 1);
    assert.equal(got.items.length, 1);
    const n = got.items[0];
    assert.equal(n.type, 'group.added');
    assert.equal(n.title, 'Added to a group');
    assert.equal(n.body, 'You are now a member of the group “Équipe <b>voirie</b>”.', 'the name is carried verbatim; the web app escapes it');
    assert.equal(n.readAt, null);
    assert.equal(n.link, null);
    assert.equal(typeof n.createdAt, 'number');
    assert.deepEqual(await list(omar.client), { items: [], unread: 0 });
    assert.deepEqual(await list(admin.client), { items: [], unread: 0 });
    assertError(await raw(srv.url, 'GET', '/api/notifications'), 401, 'unauthenticated');
    // Re-adding is idempotent: no second event, no second notification.
    await admin.client.put(`/api/admin/groups/${groupId}/members/${nina.id}`);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal((await list(nina.client)).items.length, 1);
  });

  test('the text follows the language of the reader', async () => {
    assert.equal((await nina.client.patch('/api/me', { language: 'fr' })).status, 200);
    const n = (await list(nina.client)).items[0];
    assert.equal(n.title, 'Ajout à un groupe');
    assert.equal(n.body, 'Vous êtes maintenant membre du groupe « Équipe <b>voirie</b> ».');
    assert.equal((await nina.client.patch('/api/me', { language: null })).status, 200);
  });

  test("nobody marks someone else's notifications read", async () => {
    const id = (await list(nina.client)).items[0].id;
    const before = await snapshot(srv.bastide.platform.db, 'notifications');
    assert.equal((await omar.client.post('/api/notifications/read', { ids: [id] })).status, 204);
    assert.equal((await omar.client.post('/api/notifications/read', {})).status, 204);
    assert.equal(await snapshot(srv.bastide.platform.db, 'notifications'), before);
    assert.equal((await list(nina.client)).unread, 1);
  });

  test('mark read by id, and all at once (with or without a body)', async () => {
    const g2 = (await admin.client.post('/api/admin/groups', { name: 'Bibliothèque' })).json.group.id;
    const g3 = (await admin.client.post('/api/admin/groups', { name: 'Piscine' })).json.group.id;
    await admin.client.put(`/api/admin/groups/${g2}/members/${nina.id}`);
    await admin.client.put(`/api/admin/groups/${g3}/members/${nina.id}`);
    const l = await eventually(async () => {
      const x = await list(nina.client);
      return x.items.length === 3 && x;
    }, 5000, 'three notifications');
    assert.equal(l.unread, 3);
    const newest = l.items[0];
    assert.ok(l.items[0].createdAt >= l.items[1].createdAt, 'newest first');
    assert.equal((await nina.client.post('/api/notifications/read', { ids: [newest.id] })).status, 204);
    const after1 = await list(nina.client);
    assert.equal(after1.unread, 2);
    assert.equal(typeof after1.items.find((i: any) => i.id === newest.id).readAt, 'number');
    assert.equal((await nina.client.post('/api/notifications/read', { ids: [] })).status, 204);
    assert.equal((await list(nina.client)).unread, 2);
    // No body at all: everything.
    const r = await nina.client.post('/api/notifications/read');
    assert.equal(r.status, 204, JSON.stringify(r.json));
    assert.equal((await list(nina.client)).unread, 0);
    assert.equal((await nina.client.post('/api/notifications/read', {})).status, 204);
    assertError(await nina.client.post('/api/notifications/read', { ids: 'all' }), 400, 'validation_failed');
    assertError(await nina.client.post('/api/notifications/read', { ids: [], extra: 1 }), 400, 'validation_failed');
  });

  test('being added to a space by someone else notifies; joining oneself does not', async () => {
    const s = (await omar.client.post('/api/spaces', { name: 'Jardins partagés', visibility: 'open' })).json.space.id;
    assert.equal((await omar.client.put(`/api/spaces/${s}/members/${nina.id}`, { role: 'member' })).status, 204);
    const n = await eventually(async () => (await list(nina.client)).items.find((i: any) => i.type === 'space.added'), 5000, 'space notification');
    assert.equal(n.title, 'Added to a space');
    assert.equal(n.body, 'OMAR added you to the space “Jardins partagés”.');
    assert.equal(n.link, `/spaces/${s}`);
    assert.equal((await admin.client.put(`/api/spaces/${s}/members/${admin.id}`, { role: 'member' })).status, 204);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal((await list(admin.client)).items.length, 0);
  });

  test('a notification belongs to its user: deleting the user deletes them', async () => {
    const before = (await srv.bastide.platform.db.selectFrom('notifications').select('id').where('user_id', '=', nina.id).execute()).length;
    assert.ok(before > 0, 'nina has notifications');
    assert.equal((await admin.client.delete(`/api/admin/users/${nina.id}`)).status, 204);
    assert.equal((await srv.bastide.platform.db.selectFrom('notifications').select('id').where('user_id', '=', nina.id).execute()).length, 0);
  });
});
