import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startTestServer, type ApiClient, type TestServer } from './helpers/server.js';
import { eventually, userClient, WsClient, type Frame } from './helpers/api.js';

/**
 * Chat on the realtime socket: only members receive a channel's events (also after removal, and in a
 * resume replay), resume after a dropped socket delivers exactly what was missed (no gap, no duplicate),
 * typing and presence signals, client frame limits. SQLite, or PostgreSQL with BASTIDE_TEST_ENGINE=postgres.
 */
type U = { id: string; login: string; client: ApiClient };

describe('chat realtime', () => {
  let srv: TestServer;
  let ana: U;
  let ben: U;
  let cid: U;
  const open: WsClient[] = [];

  before(async () => {
    srv = await startTestServer();
    [ana, ben, cid] = await Promise.all([userClient(srv, 'ana'), userClient(srv, 'ben'), userClient(srv, 'cid')]);
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });
  after(() => srv.close());

  function connect(u: U, since?: number | string): WsClient {
    const url = srv.url.replace(/^http/, 'ws') + '/api/realtime' + (since !== undefined ? `?since=${since}` : '');
    const s = new WsClient(new WebSocket(url, { headers: { cookie: u.client.cookie }, origin: srv.url }));
    open.push(s);
    return s;
  }
  async function ready(u: U, since?: number): Promise<{ s: WsClient; hello: Frame }> {
    const s = connect(u, since);
    const hello = await s.next((f) => f.type === 'hello', 5000, 'hello');
    return { s, hello };
  }
  async function channel(owner: U, name: string, visibility: 'public' | 'private', members: U[] = []): Promise<string> {
    const r = await owner.client.post('/api/chat/channels', { kind: 'org', name, visibility });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    for (const m of members) assert.equal((await owner.client.put(`/api/chat/channels/${r.json.channel.id}/members/${m.id}`, { role: 'member' })).status, 204);
    return r.json.channel.id as string;
  }
  async function post(u: U, channelId: string, text: string, rootId?: string): Promise<string> {
    const r = await u.client.post(`/api/chat/channels/${channelId}/messages`, { text, ...(rootId ? { rootId } : {}) });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    return r.json.message.id as string;
  }
  const chatEvents = (s: WsClient): Frame[] => s.frames.filter((f) => f.type === 'event' && String(f.topic).startsWith('chat.'));

  test('members receive channel events; outsiders nothing; a removed member nothing more', async () => {
    const id = await channel(ana, 'rt-private', 'private', [ben]);
    const [a, b, c] = [await ready(ana), await ready(ben), await ready(cid)];
    const m1 = await post(ana, id, 'hello');
    const ev = await b.s.event('chat.message.created', 5000, (f) => f.data.messageId === m1);
    assert.deepEqual(ev.data, { channelId: id, messageId: m1, rootId: null, mentions: 0 });
    await a.s.event('chat.message.created', 5000, (f) => f.data.messageId === m1);
    assert.equal((await ben.client.post(`/api/chat/messages/${m1}/reactions`, { emoji: '🎉' })).status, 200);
    await a.s.event('chat.reaction.changed');
    await c.s.sync();
    assert.deepEqual(chatEvents(c.s), [], 'the outsider received nothing');

    assert.equal((await ana.client.delete(`/api/chat/channels/${id}/members/${ben.id}`)).status, 204);
    const removed = await b.s.event('chat.member.removed');
    assert.deepEqual(removed.data, { channelId: id, userId: ben.id });
    const m2 = await post(ana, id, 'after removal');
    await a.s.event('chat.message.created', 5000, (f) => f.data.messageId === m2);
    await b.s.sync();
    await c.s.sync();
    assert.deepEqual(chatEvents(b.s), [], 'the removed member received nothing more');
    assert.deepEqual(chatEvents(c.s), []);
    // Nor in a replay of everything since before the removal.
    const r = await ready(ben, removed.seq);
    await r.s.next((f) => f.type === 'resumed');
    assert.deepEqual(chatEvents(r.s), []);
  });

  test('resume after a dropped socket: exactly the missed events, in order, then live ones, each once', async () => {
    const id = await channel(ana, 'rt-resume', 'public', []);
    assert.equal((await ben.client.post(`/api/chat/channels/${id}/join`)).status, 200);
    const hidden = await channel(cid, 'rt-hidden', 'private');
    const first = await ready(ben);
    const m0 = await post(ana, id, 'seen before the drop');
    const seen = await first.s.event('chat.message.created', 5000, (f) => f.data.messageId === m0);
    first.s.close();
    await first.s.waitClose();
    // Missed while offline: three messages and an edit in Ben's channel, noise elsewhere.
    const missed: string[] = [];
    for (let i = 0; i < 3; i++) {
      missed.push(await post(ana, id, `missed ${i}`));
      await post(cid, hidden, `not for ben ${i}`);
    }
    assert.equal((await ana.client.patch(`/api/chat/messages/${missed[0]}`, { text: 'missed 0 (edited)' })).status, 200);
    const again = connect(ben, seen.seq);
    const log = record(again);
    const hello = await again.next((f) => f.type === 'hello');
    const resumed = await again.next((f) => f.type === 'resumed', 5000, 'resumed');
    assert.equal(resumed.since, seen.seq);
    assert.ok(resumed.seq >= hello.seq);
    const live = await post(ana, id, 'live after resume');
    await again.event('chat.message.created', 5000, (f) => f.data.messageId === live);
    await again.sync();
    assert.equal(log[0]!.type, 'hello');
    const resumedAt = log.findIndex((f) => f.type === 'resumed');
    const replayed = log.slice(1, resumedAt);
    assert.ok(replayed.every((f) => f.type === 'event'));
    assert.deepEqual(replayed.filter((f) => f.topic === 'chat.message.created').map((f) => f.data.messageId), missed);
    assert.equal(resumed.replayed, replayed.length);
    const all = log.filter((f) => f.type === 'event');
    assert.deepEqual(all.filter((f) => f.topic === 'chat.message.created').map((f) => f.data.messageId), [...missed, live]);
    assert.equal(all.filter((f) => f.topic === 'chat.message.updated').length, 1);
    const seqs = all.map((f) => f.seq as number);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'in seq order');
    assert.equal(new Set(seqs).size, seqs.length, 'no duplicate');
    assert.ok(seqs.every((q) => q > seen.seq));
    assert.ok(!all.some((f) => f.data.channelId === hidden), 'nothing of a channel Ben is not in');
  });

  /** Every frame the socket receives, in order (WsClient.next consumes its own queue). */
  function record(s: WsClient): Frame[] {
    const log: Frame[] = [];
    s.socket.on('message', (d: WebSocket.RawData) => log.push(JSON.parse(d.toString()) as Frame));
    return log;
  }

  test('replay and live never overlap: events committed while the replay runs arrive once', async () => {
    const id = await channel(ana, 'rt-race', 'public');
    assert.equal((await ben.client.post(`/api/chat/channels/${id}/join`)).status, 200);
    const { hello } = await ready(ben);
    const posted: string[] = [];
    const s = connect(ben, hello.seq);
    const log = record(s);
    // Post while the resume is being served.
    const posting = (async () => {
      for (let i = 0; i < 8; i++) posted.push(await post(ana, id, `race ${i}`));
    })();
    await s.next((f) => f.type === 'resumed', 5000, 'resumed');
    await posting;
    await eventually(async () => log.filter((f) => f.topic === 'chat.message.created').length >= posted.length, 5000, 'all messages');
    await s.sync();
    assert.deepEqual(log.filter((f) => f.topic === 'chat.message.created').map((f) => f.data.messageId), posted);
    const seqs = log.filter((f) => f.type === 'event').map((f) => f.seq as number);
    assert.equal(new Set(seqs).size, seqs.length, 'no duplicate');
  });

  test('state replay: applying the pushed events to a stale snapshot gives what a fresh fetch gives', async () => {
    const id = await channel(ana, 'rt-replay', 'public');
    assert.equal((await ben.client.post(`/api/chat/channels/${id}/join`)).status, 200);
    const keep = await post(ana, id, 'before the snapshot');
    const { s } = await ready(ben);
    const log = record(s);
    // Ben's stale snapshot: his channel and its messages.
    const chan = new Map<string, any>([[id, (await ben.client.get(`/api/chat/channels/${id}`)).json.channel]]);
    const msgs = new Map<string, any>((await ben.client.get(`/api/chat/channels/${id}/messages?limit=200`)).json.items.map((m: any) => [m.id, m]));
    // Activity by others (and by Ben in another tab): posts, an edit, reactions, a pin, a thread, a deletion, a rename, a read marker.
    const m1 = await post(ana, id, 'hello @ben');
    const m2 = await post(ana, id, 'to be deleted');
    assert.equal((await ana.client.patch(`/api/chat/messages/${keep}`, { text: 'before the snapshot (edited)' })).status, 200);
    assert.equal((await ana.client.post(`/api/chat/messages/${m1}/reactions`, { emoji: '👀' })).status, 200);
    assert.equal((await ana.client.put(`/api/chat/messages/${keep}/pin`)).status, 204);
    await post(ana, id, 'a reply', m1);
    assert.equal((await ana.client.delete(`/api/chat/messages/${m2}`)).status, 204);
    assert.equal((await ana.client.patch(`/api/chat/channels/${id}`, { name: 'rt-replay-renamed', topic: 'new topic' })).status, 200);
    assert.equal((await ben.client.post(`/api/chat/channels/${id}/read`, { messageId: m1 })).status, 204);
    const last = await post(ana, id, 'last');
    await s.event('chat.message.created', 5000, (f) => f.data.messageId === last);
    await s.sync();
    // Apply: payloads carry ids; the client re-reads what they name.
    const events = log.filter((f) => f.type === 'event');
    assert.ok(events.length >= 10, `events: ${events.map((e) => e.topic).join(', ')}`);
    for (const e of events) {
      const d = e.data as { channelId?: string; messageId?: string; rootId?: string | null };
      if (d.channelId !== id) continue;
      chan.set(id, (await ben.client.get(`/api/chat/channels/${id}`)).json.channel);
      for (const mid of [d.messageId, d.rootId]) {
        if (!mid) continue;
        const m = (await ben.client.get(`/api/chat/messages/${mid}`)).json.message;
        if (m.rootId === null) msgs.set(m.id, m);
      }
    }
    const fresh = (await ben.client.get(`/api/chat/channels/${id}/messages?limit=200`)).json.items;
    assert.deepEqual([...msgs.values()].sort((x, y) => (x.id < y.id ? -1 : 1)), fresh);
    assert.deepEqual(chan.get(id), (await ben.client.get('/api/chat/channels')).json.items.find((c: any) => c.id === id));
  });

  test('resume that cannot be served exactly answers resync', async () => {
    const { hello } = await ready(ben);
    const future = connect(ben, hello.seq + 1000);
    await future.next((f) => f.type === 'hello');
    assert.equal((await future.next((f) => f.type === 'resync')).reason, 'unknown_seq');
    // The outbox was pruned past the client's seq.
    const oldest = await srv.bastide.platform.db.selectFrom('outbox').select('seq').orderBy('seq').limit(1).executeTakeFirstOrThrow();
    await srv.bastide.platform.db.deleteFrom('outbox').where('seq', '=', oldest.seq).execute();
    const stale = connect(ben, Number(oldest.seq));
    assert.equal((await stale.next((f) => f.type === 'resync')).reason, 'too_old');
    // Live events still flow after a resync.
    const id = await channel(ben, 'rt-after-resync', 'private');
    await stale.event('chat.channel.created', 5000, (f) => f.data.channelId === id);
    // A malformed since closes the socket with 4000.
    const bad = connect(ben, 'abc');
    assert.equal((await bad.waitClose()).code, 4000);
  });

  test('typing reaches the other members only; non-members are refused; frames are rate-limited', async () => {
    const id = await channel(ana, 'rt-typing', 'private', [ben]);
    const [a, b, c] = [await ready(ana), await ready(ben), await ready(cid)];
    b.s.socket.send(JSON.stringify({ type: 'typing', channelId: id }));
    const sig = await a.s.next((f) => f.type === 'signal' && f.topic === 'chat.typing');
    assert.deepEqual(sig.data, { channelId: id, userId: ben.id });
    c.s.socket.send(JSON.stringify({ type: 'typing', channelId: id }));
    const err = await c.s.next((f) => f.type === 'error');
    assert.equal(err.code, 'forbidden');
    c.s.socket.send(JSON.stringify({ type: 'typing', channelId: 'nope' }));
    assert.equal((await c.s.next((f) => f.type === 'error')).code, 'bad_request');
    await a.s.sync();
    assert.equal(a.s.frames.filter((f) => f.type === 'signal' && f.topic === 'chat.typing').length, 0, 'only ben typed');
    // A flood of frames from one socket: limited, the socket stays open, others are unaffected.
    for (let i = 0; i < 100; i++) c.s.socket.send(JSON.stringify({ type: 'typing', channelId: id }));
    await c.s.next((f) => f.type === 'error' && f.code === 'rate_limited');
    await c.s.sync();
    assert.equal(c.s.closed, undefined);
    await new Promise((r) => setTimeout(r, 2100));
    b.s.socket.send(JSON.stringify({ type: 'typing', channelId: id }));
    await a.s.next((f) => f.type === 'signal' && f.topic === 'chat.typing');
  });

  test('presence: status changes reach others; the API answers it; offline after the last socket closes', async () => {
    const a = await ready(ana);
    const b = await ready(ben);
    b.s.socket.send(JSON.stringify({ type: 'presence', status: 'dnd' }));
    const sig = await a.s.next((f) => f.type === 'signal' && f.topic === 'chat.presence' && f.data.users.some((x: any) => x.userId === ben.id && x.status === 'dnd'));
    assert.ok(sig);
    const p = await ana.client.get(`/api/chat/presence?userIds=${ben.id},${cid.id}`);
    assert.deepEqual(p.json.items, [
      { userId: ben.id, status: 'dnd' },
      { userId: cid.id, status: 'offline' },
    ]);
    b.s.socket.send(JSON.stringify({ type: 'presence', status: 'invisible' }));
    assert.equal((await b.s.next((f) => f.type === 'error')).code, 'bad_request');
    b.s.close();
    await a.s.next((f) => f.type === 'signal' && f.topic === 'chat.presence' && f.data.users.some((x: any) => x.userId === ben.id && x.status === 'offline'));
    await eventually(async () => (await ana.client.get(`/api/chat/presence?userIds=${ben.id}`)).json.items[0].status === 'offline', 5000, 'offline');
  });
});
