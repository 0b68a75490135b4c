import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, DEFAULT_PASSWORD, startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { basicAuth, bearerAuth, userClient, WsClient } from '../../../test/helpers/api.js';

/** The realtime socket: who may connect, who receives which event, and when the socket is closed. */
describe('realtime', () => {
  let srv: TestServer;
  type U = { id: string; client: ApiClient };
  let admin: U;
  let rita: U;
  let sven: U;
  const open: WsClient[] = [];

  before(async () => {
    srv = await startTestServer();
    [admin, rita, sven] = await Promise.all([userClient(srv, 'admin', { admin: true }), userClient(srv, 'rita'), userClient(srv, 'sven')]);
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });
  after(() => srv.close());

  async function connect(cookie: string, opts: { origin?: string; headers?: Record<string, string> } = {}): Promise<WsClient> {
    const s = WsClient.connect(srv.url, { cookie, origin: opts.origin ?? srv.url, ...(opts.headers ? { headers: opts.headers } : {}) });
    open.push(s);
    return s;
  }

  test('a signed-in browser connects and receives hello; ping gets pong', async () => {
    const s = await connect(rita.client.cookie);
    const hello = await s.next((f) => f.type === 'hello', 5000, 'hello');
    assert.equal(typeof hello.connectionId, 'number');
    assert.equal(hello.node, srv.bastide.platform.nodeId);
    await s.sync();
    // Frames the protocol does not define are ignored, the socket stays open.
    s.socket.send('not json');
    s.socket.send(JSON.stringify({ type: 'subscribe', topic: '*' }));
    s.socket.send(Buffer.from([1, 2, 3]));
    await s.sync();
    assert.equal(s.closed, undefined);
  });

  test("an administrator's rename reaches that user's socket, not another user's", async () => {
    const r = await connect(rita.client.cookie);
    const sv = await connect(sven.client.cookie);
    const ad = await connect(admin.client.cookie);
    await Promise.all([r, sv, ad].map((s) => s.next((f) => f.type === 'hello')));
    const res = await admin.client.patch(`/api/admin/users/${rita.id}`, { displayName: 'Rita R.' });
    assert.equal(res.status, 200);
    const ev = await r.event('identity.user.updated');
    assert.deepEqual(ev.data, { userId: rita.id });
    assert.equal(typeof ev.seq, 'number');
    // Administrators' apps see it too (audience role:admin).
    assert.deepEqual((await ad.event('identity.user.updated')).data, { userId: rita.id });
    // Sven's socket got nothing: by the time his pong arrives, any earlier event would have too.
    await sv.sync();
    assert.deepEqual(sv.frames.filter((f) => f.type === 'event'), []);
    // Carries ids only: no name, no e-mail.
    assert.ok(!JSON.stringify(ev).includes('Rita R.'), '!JSON.stringify(ev).includes(\'Rita R.\')');
  });

  test('events arrive in order with increasing seq', async () => {
    const r = await connect(rita.client.cookie);
    await r.next((f) => f.type === 'hello');
    for (let i = 0; i < 5; i++) await admin.client.patch(`/api/admin/users/${rita.id}`, { displayName: `Rita ${i}` });
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) seqs.push((await r.event('identity.user.updated')).seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    assert.equal(new Set(seqs).size, 5);
  });

  test('logging out closes the socket of that session (4001), not the others', async () => {
    const c2 = (await userClient(srv, 'rita2')).client;
    const mine = await connect(c2.cookie);
    const other = await connect(rita.client.cookie);
    await Promise.all([mine, other].map((s) => s.next((f) => f.type === 'hello')));
    assert.equal((await c2.post('/api/auth/logout')).status, 204);
    const closed = await mine.waitClose();
    assert.equal(closed.code, 4001);
    await other.sync();
    assert.equal(other.closed, undefined);
  });

  test('ending a session from the session list closes its socket', async () => {
    const second = (await userClient(srv, 'sam')).client;
    const samAgain = new ApiClient(srv.url);
    await samAgain.login('sam', DEFAULT_PASSWORD);
    const s = await connect(samAgain.cookie);
    await s.next((f) => f.type === 'hello');
    const list = await second.get('/api/me/sessions');
    const target = list.json.items.find((x: any) => !x.current);
    assert.equal((await second.delete(`/api/me/sessions/${target.id}`)).status, 204);
    assert.equal((await s.waitClose()).code, 4001);
  });

  test('disabling a user closes their sockets', async () => {
    const u = await userClient(srv, 'dina');
    const s = await connect(u.client.cookie);
    await s.next((f) => f.type === 'hello');
    assert.equal((await admin.client.patch(`/api/admin/users/${u.id}`, { disabled: true })).status, 200);
    assert.equal((await s.waitClose()).code, 4001);
  });

  test('a foreign Origin is refused (4003)', async () => {
    for (const origin of ['https://evil.example', 'http://localhost:1', 'null']) {
      const s = await connect(rita.client.cookie, { origin });
      assert.equal((await s.waitClose()).code, 4003, origin);
      assert.equal(s.frames.length, 0, 'no hello');
    }
  });

  test('anonymous, a forged cookie and an app password are refused (4001); a token is accepted', async () => {
    for (const cookie of ['', 'bastide_session=forged-session-token']) {
      const s = await connect(cookie);
      assert.equal((await s.waitClose()).code, 4001, cookie);
      assert.equal(s.frames.length, 0);
    }
    const ap = await rita.client.post('/api/me/app-passwords', { name: 'dav', scopes: ['dav', 'api'] });
    const viaAp = await connect('', { headers: basicAuth('rita', ap.json.password) });
    assert.equal((await viaAp.waitClose()).code, 4001);
    const tok = await rita.client.post('/api/me/tokens', { name: 'ws' });
    const viaToken = await connect('', { headers: bearerAuth(tok.json.token) });
    await viaToken.next((f) => f.type === 'hello');
    await admin.client.patch(`/api/admin/users/${rita.id}`, { displayName: 'Rita via token' });
    assert.deepEqual((await viaToken.event('identity.user.updated')).data, { userId: rita.id });
  });

  test('a notification reaches its user as notifications.changed', async () => {
    const s = await connect(sven.client.cookie);
    await s.next((f) => f.type === 'hello');
    const g = await admin.client.post('/api/admin/groups', { name: 'Realtime' });
    await admin.client.put(`/api/admin/groups/${g.json.group.id}/members/${sven.id}`);
    assert.deepEqual((await s.event('identity.group.member_added')).data, { groupId: g.json.group.id, userId: sven.id });
    assert.deepEqual((await s.event('notifications.changed')).data, { userId: sven.id });
    assert.equal((await sven.client.get('/api/notifications')).json.unread, 1);
  });

  test('closing the server closes the sockets (1001)', async () => {
    const other = await startTestServer();
    try {
      const u = await userClient(other, 'zoe');
      const s = WsClient.connect(other.url, { cookie: u.client.cookie, origin: other.url });
      await s.next((f) => f.type === 'hello');
      const closing = other.close();
      assert.equal((await s.waitClose()).code, 1001);
      await closing;
    } catch (e) {
      await other.close().catch(() => undefined);
      throw e;
    }
  });
});
