import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { createTestStorage, postgresAvailable, type TestStorage } from './helpers/db.js';
import { ApiClient, DEFAULT_PASSWORD, makeUser, startTestServer, type TestServer } from './helpers/server.js';
import { WsClient } from './helpers/api.js';

/**
 * Chat across two Bastide nodes on one PostgreSQL database: a message posted through node A reaches a
 * socket on node B; typing from B reaches A; a removal on A stops delivery on B (the membership cache of
 * B is invalidated by the bus); a socket that drops from B resumes on A with exactly what it missed.
 * PostgreSQL only: skipped with a notice when unreachable.
 */
const available = await postgresAvailable();

describe('chat on two nodes (PostgreSQL)', { skip: available ? false : 'PostgreSQL unavailable' }, () => {
  let storage: TestStorage;
  let a: TestServer;
  let b: TestServer;
  let anaOnA: ApiClient;
  let benOnB: ApiClient;
  let ben: { id: string };
  const sockets: WsClient[] = [];

  before(async () => {
    storage = await createTestStorage('postgres');
    a = await startTestServer({ engine: 'postgres', storage });
    b = await startTestServer({ engine: 'postgres', storage });
    await makeUser(a, 'ana');
    ben = await makeUser(a, 'ben');
    anaOnA = new ApiClient(a.url);
    await anaOnA.login('ana', DEFAULT_PASSWORD);
    benOnB = new ApiClient(b.url);
    await benOnB.login('ben', DEFAULT_PASSWORD);
  });
  after(async () => {
    for (const s of sockets) s.close();
    await b?.close();
    await a?.close();
    await storage?.cleanup();
  });

  async function socket(srv: TestServer, client: ApiClient, since?: number): Promise<WsClient> {
    const url = srv.url.replace(/^http/, 'ws') + '/api/realtime' + (since !== undefined ? `?since=${since}` : '');
    const s = new WsClient(new WebSocket(url, { headers: { cookie: client.cookie }, origin: srv.url }));
    sockets.push(s);
    const hello = await s.next((f) => f.type === 'hello');
    assert.equal(hello.node, srv.bastide.platform.nodeId);
    return s;
  }

  test('a message posted through A reaches a member socket on B; typing on B reaches A; removal on A stops B', async () => {
    const c = await anaOnA.post('/api/chat/channels', { kind: 'org', name: 'multi', visibility: 'private' });
    assert.equal(c.status, 201);
    const id = c.json.channel.id as string;
    assert.equal((await anaOnA.put(`/api/chat/channels/${id}/members/${ben.id}`, { role: 'member' })).status, 204);
    const onB = await socket(b, benOnB);
    const onA = await socket(a, anaOnA);
    const m = await anaOnA.post(`/api/chat/channels/${id}/messages`, { text: 'across nodes' });
    assert.equal(m.status, 201);
    const ev = await onB.event('chat.message.created', 10_000, (f) => f.data.messageId === m.json.message.id);
    assert.equal(ev.data.channelId, id);
    // The same message read through B.
    assert.equal((await benOnB.get(`/api/chat/messages/${m.json.message.id}`)).json.message.text, 'across nodes');
    onB.socket.send(JSON.stringify({ type: 'typing', channelId: id }));
    const typing = await onA.next((f) => f.type === 'signal' && f.topic === 'chat.typing', 10_000, 'typing');
    assert.deepEqual(typing.data, { channelId: id, userId: ben.id });

    assert.equal((await anaOnA.delete(`/api/chat/channels/${id}/members/${ben.id}`)).status, 204);
    await onB.event('chat.member.removed', 10_000);
    const m2 = await anaOnA.post(`/api/chat/channels/${id}/messages`, { text: 'not for ben' });
    await onA.event('chat.message.created', 10_000, (f) => f.data.messageId === m2.json.message.id);
    // B has seen the same bus by now (ordered delivery); its cache must not have kept Ben in.
    await new Promise((r) => setTimeout(r, 300));
    await onB.sync();
    assert.equal(onB.frames.filter((f) => f.topic === 'chat.message.created').length, 0);
  });

  test('a socket dropped on B resumes on A with exactly what it missed', async () => {
    const c = await anaOnA.post('/api/chat/channels', { kind: 'org', name: 'multi-resume', visibility: 'public' });
    const id = c.json.channel.id as string;
    assert.equal((await benOnB.post(`/api/chat/channels/${id}/join`)).status, 200);
    const first = await socket(b, benOnB);
    const m0 = await anaOnA.post(`/api/chat/channels/${id}/messages`, { text: 'm0' });
    const seen = await first.event('chat.message.created', 10_000, (f) => f.data.messageId === m0.json.message.id);
    first.close();
    const missed: string[] = [];
    for (let i = 0; i < 4; i++) missed.push((await anaOnA.post(`/api/chat/channels/${id}/messages`, { text: `m${i + 1}` })).json.message.id);
    const benOnA = new ApiClient(a.url);
    benOnA.cookie = benOnB.cookie;
    const again = await socket(a, benOnA, seen.seq);
    const got: string[] = [];
    for (let i = 0; i < missed.length; i++) got.push((await again.event('chat.message.created', 10_000)).data.messageId);
    assert.deepEqual(got, missed);
    await again.next((f) => f.type === 'resumed', 10_000, 'resumed');
    await again.sync();
    assert.equal(again.frames.filter((f) => f.topic === 'chat.message.created').length, 0, 'no duplicate');
  });
});
