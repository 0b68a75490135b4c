import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStorage, postgresAvailable, type TestStorage } from './helpers/db.js';
import { ApiClient, DEFAULT_PASSWORD, makeUser, startTestServer, type TestServer } from './helpers/server.js';
import { eventually, WsClient } from './helpers/api.js';

/**
 * Two Bastide nodes on one PostgreSQL database: a change made through node A reaches a WebSocket on
 * node B (outbox → LISTEN/NOTIFY → fan-out), and consumers running on both nodes act once.
 * PostgreSQL only: skipped with a notice when unreachable, unless BASTIDE_TEST_PG=required.
 */
const available = await postgresAvailable();

describe('two nodes on one PostgreSQL database', { skip: available ? false : 'PostgreSQL unavailable' }, () => {
  let storage: TestStorage;
  let a: TestServer;
  let b: TestServer;
  let adminOnA: ApiClient;
  let bea: { id: string };
  let beaOnB: ApiClient;
  const sockets: WsClient[] = [];

  before(async () => {
    storage = await createTestStorage('postgres');
    a = await startTestServer({ engine: 'postgres', storage });
    b = await startTestServer({ engine: 'postgres', storage });
    await makeUser(a, 'admin', { admin: true });
    bea = await makeUser(a, 'bea');
    adminOnA = new ApiClient(a.url);
    await adminOnA.login('admin', DEFAULT_PASSWORD);
    beaOnB = new ApiClient(b.url);
    await beaOnB.login('bea', DEFAULT_PASSWORD);
  });
  after(async () => {
    for (const s of sockets) s.close();
    await b?.close();
    await a?.close();
    await storage?.cleanup();
  });

  const socketOnB = async (client: ApiClient): Promise<WsClient> => {
    const s = WsClient.connect(b.url, { cookie: client.cookie, origin: b.url });
    sockets.push(s);
    const hello = await s.next((f) => f.type === 'hello');
    assert.equal(hello.node, b.bastide.platform.nodeId, 'connected to node B');
    assert.notEqual(a.bastide.platform.nodeId, b.bastide.platform.nodeId);
    return s;
  };

  test('a session made on one node is valid on the other', async () => {
    const c = new ApiClient(a.url);
    await c.login('bea', DEFAULT_PASSWORD);
    const onB = new ApiClient(b.url);
    onB.cookie = c.cookie;
    onB.csrf = c.csrf;
    const s = await onB.get('/api/session');
    assert.equal(s.status, 200);
    assert.equal(s.json.user.login, 'bea');
    assert.equal((await onB.patch('/api/me', { theme: 'dark' })).status, 200);
    assert.equal((await c.get('/api/session')).json.user.theme, 'dark');
  });

  test('an event caused on node A reaches a socket on node B, and the notification is created once', async () => {
    const s = await socketOnB(beaOnB);
    const g = await adminOnA.post('/api/admin/groups', { name: 'Conseil' });
    assert.equal(g.status, 201);
    assert.equal((await adminOnA.put(`/api/admin/groups/${g.json.group.id}/members/${bea.id}`)).status, 204);
    const added = await s.event('identity.group.member_added', 10_000);
    assert.deepEqual(added.data, { groupId: g.json.group.id, userId: bea.id });
    const changed = await s.event('notifications.changed', 10_000);
    assert.deepEqual(changed.data, { userId: bea.id });
    // Both nodes consumed the event; one notification exists, visible from either node.
    await new Promise((r) => setTimeout(r, 500));
    const rows = await a.bastide.platform.db.selectFrom('notifications').selectAll().where('user_id', '=', bea.id).execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.source_seq, added.seq);
    const fromA = new ApiClient(a.url);
    await fromA.login('bea', DEFAULT_PASSWORD);
    assert.equal((await fromA.get('/api/notifications')).json.unread, 1);
    assert.equal((await beaOnB.get('/api/notifications')).json.items.length, 1);
    // Each event reached the socket once.
    await s.sync();
    const seqs = [added.seq, changed.seq, ...s.frames.filter((f) => f.type === 'event').map((f) => f.seq as number)];
    assert.equal(new Set(seqs).size, seqs.length, `duplicate deliveries: ${JSON.stringify(s.frames)}`);
    assert.equal(s.frames.filter((f) => f.topic === 'notifications.changed').length, 0, 'no second notifications.changed');
  });

  test('many changes on A arrive on B in order, each once', async () => {
    const s = await socketOnB(beaOnB);
    for (let i = 0; i < 10; i++) assert.equal((await adminOnA.patch(`/api/admin/users/${bea.id}`, { displayName: `Bea ${i}` })).status, 200);
    const seqs: number[] = [];
    for (let i = 0; i < 10; i++) seqs.push((await s.event('identity.user.updated', 10_000)).seq);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y));
    assert.equal(new Set(seqs).size, 10);
    await s.sync();
    assert.equal(s.frames.filter((f) => f.topic === 'identity.user.updated').length, 0);
  });

  test('logging out on node A closes the socket of that session on node B', async () => {
    const c = new ApiClient(a.url);
    await c.login('bea', DEFAULT_PASSWORD);
    const s = await socketOnB(c);
    assert.equal((await c.post('/api/auth/logout')).status, 204);
    assert.equal((await s.waitClose(10_000)).code, 4001);
    // And the cookie is dead on both nodes.
    const onB = new ApiClient(b.url);
    onB.cookie = c.cookie;
    assert.equal((await onB.get('/api/session')).status, 401);
  });

  test('disabling a user on node A closes their sockets on node B', async () => {
    const s = await socketOnB(beaOnB);
    assert.equal((await adminOnA.patch(`/api/admin/users/${bea.id}`, { disabled: true })).status, 200);
    assert.equal((await s.waitClose(10_000)).code, 4001);
    await eventually(async () => (await beaOnB.get('/api/session')).status === 401, 5000, 'session refused on B');
  });
});
