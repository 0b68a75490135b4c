import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../src/platform/clock.js';
import { applyRetention } from '../src/modules/chat/commands.js';
import { ApiClient, DEFAULT_PASSWORD, startTestServer, type TestServer } from './helpers/server.js';
import { assertError, bearerAuth, countRows, eventually, MISSING_ID, raw, snapshotAll, userClient } from './helpers/api.js';

/**
 * Chat over the JSON API: the permission matrix (org, private, space and DM channels, before and after
 * removal), messages and cursors, threads and unread/mention counts, reactions and pins, moderation with
 * audit, bad input that changes nothing, flood limits, incoming webhooks, bot tokens, search,
 * notifications and retention. Runs on SQLite, or PostgreSQL with BASTIDE_TEST_ENGINE=postgres.
 */
type U = { id: string; login: string; client: ApiClient };
const DAY = 24 * 3600 * 1000;

describe('chat API', () => {
  let srv: TestServer;
  const clock = new ManualClock(Date.now());
  let ana: U;
  let ben: U;
  let cid: U;
  let root: U;

  before(async () => {
    srv = await startTestServer({ clock });
    [ana, ben, cid, root] = await Promise.all([userClient(srv, 'ana'), userClient(srv, 'ben'), userClient(srv, 'cid'), userClient(srv, 'root', { admin: true })]);
  });
  after(() => srv.close());

  const TABLES = ['chat_channels', 'chat_members', 'chat_messages', 'chat_reactions', 'chat_mentions', 'chat_read', 'chat_thread_read', 'chat_hooks'];
  const snap = () => snapshotAll(srv.bastide.platform.db, TABLES);

  async function channel(owner: U, body: Record<string, unknown>): Promise<string> {
    const r = await owner.client.post('/api/chat/channels', body);
    assert.equal(r.status, 201, JSON.stringify(r.json));
    return r.json.channel.id as string;
  }
  async function post(u: U, channelId: string, text: string, rootId?: string): Promise<string> {
    const r = await u.client.post(`/api/chat/channels/${channelId}/messages`, { text, ...(rootId ? { rootId } : {}) });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    return r.json.message.id as string;
  }
  async function mine(u: U, channelId: string): Promise<any> {
    const r = await u.client.get('/api/chat/channels');
    assert.equal(r.status, 200);
    return r.json.items.find((c: any) => c.id === channelId);
  }

  test('public org channel: browse, join, read and post only once a member', async () => {
    const id = await channel(ana, { kind: 'org', name: 'général', visibility: 'public', topic: 'Tout le monde' });
    const browse = await ben.client.get('/api/chat/channels/browse?q=g%C3%A9n');
    assert.equal(browse.status, 200);
    const seen = browse.json.items.find((c: any) => c.id === id);
    assert.ok(seen, 'public channel is listed');
    assert.equal(seen.member, false);
    assert.equal(seen.lastMessageId, null);
    await post(ana, id, 'Bonjour à tous');
    const before = await snap();
    assertError(await ben.client.get(`/api/chat/channels/${id}/messages`), 403, 'forbidden');
    assertError(await ben.client.post(`/api/chat/channels/${id}/messages`, { text: 'hi' }), 403, 'forbidden');
    assert.deepEqual(await snap(), before);
    const joined = await ben.client.post(`/api/chat/channels/${id}/join`);
    assert.equal(joined.status, 200);
    assert.equal(joined.json.channel.member, true);
    assert.equal(joined.json.channel.unread, 1);
    const page = await ben.client.get(`/api/chat/channels/${id}/messages`);
    assert.equal(page.status, 200);
    assert.deepEqual(page.json.items.map((m: any) => m.text), ['Bonjour à tous']);
    assert.equal(page.json.items[0].author.login, 'ana');
    // The same name twice is refused.
    assertError(await cid.client.post('/api/chat/channels', { kind: 'org', name: 'GÉNÉRAL', visibility: 'public' }), 409, 'name_taken');
    // Leaving works; reading stops.
    assert.equal((await ben.client.post(`/api/chat/channels/${id}/leave`)).status, 204);
    assertError(await ben.client.get(`/api/chat/channels/${id}/messages`), 403, 'forbidden');
  });

  test('private channel: invisible to outsiders (404), even by message id; removal cuts access', async () => {
    const id = await channel(ana, { kind: 'org', name: 'direction', visibility: 'private' });
    const msg = await post(ana, id, 'secret plan');
    const before = await snap();
    for (const res of [
      await cid.client.get(`/api/chat/channels/${id}`),
      await cid.client.get(`/api/chat/channels/${id}/messages`),
      await cid.client.post(`/api/chat/channels/${id}/messages`, { text: 'let me in' }),
      await cid.client.post(`/api/chat/channels/${id}/join`),
      await cid.client.get(`/api/chat/messages/${msg}`),
      await cid.client.get(`/api/chat/messages/${msg}/thread`),
      await cid.client.post(`/api/chat/messages/${msg}/reactions`, { emoji: '👍' }),
      await cid.client.patch(`/api/chat/messages/${msg}`, { text: 'edited' }),
      await cid.client.delete(`/api/chat/messages/${msg}`),
      await cid.client.put(`/api/chat/messages/${msg}/pin`),
      await cid.client.post(`/api/chat/channels/${id}/read`, { messageId: msg }),
      await cid.client.put(`/api/chat/channels/${id}/members/${cid.id}`, { role: 'member' }),
    ]) {
      assertError(res, 404, 'not_found');
    }
    assert.ok(!(await cid.client.get('/api/chat/channels/browse')).json.items.some((c: any) => c.id === id));
    assert.deepEqual(await snap(), before);
    // Added by the manager: reads; a plain member cannot add others.
    assert.equal((await ana.client.put(`/api/chat/channels/${id}/members/${ben.id}`, { role: 'member' })).status, 204);
    assert.equal((await ben.client.get(`/api/chat/messages/${msg}`)).status, 200);
    assertError(await ben.client.put(`/api/chat/channels/${id}/members/${cid.id}`, { role: 'member' }), 403, 'forbidden');
    // Removed: nothing any more.
    assert.equal((await ana.client.delete(`/api/chat/channels/${id}/members/${ben.id}`)).status, 204);
    assertError(await ben.client.get(`/api/chat/channels/${id}/messages`), 404, 'not_found');
    assertError(await ben.client.get(`/api/chat/messages/${msg}`), 404, 'not_found');
    assert.ok(!(await ben.client.get('/api/chat/channels')).json.items.some((c: any) => c.id === id));
    // Audit: membership changes by a manager.
    const actions = (await srv.bastide.platform.db.selectFrom('audit_log').select(['action', 'target_id']).where('target_id', '=', id).execute()).map((a) => a.action);
    assert.deepEqual(actions, ['chat.channel.created', 'chat.member.set', 'chat.member.removed']);
    // The last manager cannot leave a channel that still has people.
    assert.equal((await ana.client.put(`/api/chat/channels/${id}/members/${cid.id}`, { role: 'member' })).status, 204);
    assertError(await ana.client.post(`/api/chat/channels/${id}/leave`), 409, 'conflict');
  });

  test('space channels: membership follows the space (public), or space members added (private)', async () => {
    const s = await ana.client.post('/api/spaces', { name: 'Mairie', visibility: 'secret' });
    assert.equal(s.status, 201);
    const spaceId = s.json.space.id as string;
    assert.equal((await ana.client.put(`/api/spaces/${spaceId}/members/${ben.id}`, { role: 'member' })).status, 204);
    assert.equal((await ana.client.put(`/api/spaces/${spaceId}/members/${cid.id}`, { role: 'guest' })).status, 204);
    // A guest cannot create channels; an outsider cannot even find the space.
    assertError(await cid.client.post('/api/chat/channels', { kind: 'space', spaceId, name: 'x', visibility: 'public' }), 403, 'forbidden');
    assertError(await root.client.post('/api/chat/channels', { kind: 'space', spaceId, name: 'x', visibility: 'public' }), 404, 'not_found');
    const pub = await channel(ben, { kind: 'space', spaceId, name: 'équipe', visibility: 'public' });
    const priv = await channel(ana, { kind: 'space', spaceId, name: 'bureau', visibility: 'private' });
    await post(ben, pub, 'hello space');
    // Every space member (guest too) is in the public channel, without joining.
    assert.equal((await mine(cid, pub)).member, true);
    assert.equal((await cid.client.get(`/api/chat/channels/${pub}/messages`)).json.items.length, 1);
    assert.equal(await mine(cid, priv), undefined);
    assertError(await cid.client.get(`/api/chat/channels/${priv}/messages`), 404, 'not_found');
    // Space managers manage space channels; people outside the space cannot be added.
    assertError(await ana.client.put(`/api/chat/channels/${priv}/members/${root.id}`, { role: 'member' }), 409, 'conflict');
    assert.equal((await ana.client.put(`/api/chat/channels/${priv}/members/${cid.id}`, { role: 'member' })).status, 204);
    assert.equal((await cid.client.get(`/api/chat/channels/${priv}/messages`)).status, 200);
    assert.equal((await ana.client.patch(`/api/chat/channels/${pub}`, { topic: 'Sujet' })).status, 200);
    // Leaving the space: out of both channels at once.
    assert.equal((await ana.client.delete(`/api/spaces/${spaceId}/members/${cid.id}`)).status, 204);
    assertError(await cid.client.get(`/api/chat/channels/${pub}/messages`), 404, 'not_found');
    assertError(await cid.client.get(`/api/chat/channels/${priv}/messages`), 404, 'not_found');
    assertError(await cid.client.post(`/api/chat/channels/${pub}/messages`, { text: 'still here?' }), 404, 'not_found');
    // Back in the space: the public channel again, but not the private one (membership was dropped).
    assert.equal((await ana.client.put(`/api/spaces/${spaceId}/members/${cid.id}`, { role: 'member' })).status, 204);
    assert.equal((await cid.client.get(`/api/chat/channels/${pub}/messages`)).status, 200);
    await eventually(async () => (await cid.client.get(`/api/chat/channels/${priv}/messages`)).status === 404, 5000, 'private channel membership dropped');
  });

  test('direct messages: one conversation per set of people; others cannot read it', async () => {
    const a = await ana.client.post('/api/chat/dms', { userIds: [ben.id] });
    assert.equal(a.status, 200);
    assert.equal(a.json.channel.kind, 'dm');
    assert.deepEqual(a.json.channel.people.map((p: any) => p.login), ['ana', 'ben']);
    const b = await ben.client.post('/api/chat/dms', { userIds: [ana.id] });
    assert.equal(b.json.channel.id, a.json.channel.id);
    const dm = a.json.channel.id as string;
    await post(ana, dm, 'psst');
    assert.equal((await mine(ben, dm)).unread, 1);
    assertError(await cid.client.get(`/api/chat/channels/${dm}/messages`), 404, 'not_found');
    assertError(await root.client.get(`/api/chat/channels/${dm}/messages`), 404, 'not_found');
    assertError(await root.client.patch(`/api/chat/channels/${dm}`, { name: 'x' }), 404, 'not_found');
    const g = await cid.client.post('/api/chat/dms', { userIds: [ana.id, ben.id] });
    assert.equal(g.json.channel.kind, 'group');
    assertError(await ana.client.post('/api/chat/dms', { userIds: [MISSING_ID] }), 404, 'not_found');
    assertError(await ana.client.post('/api/chat/dms', { userIds: [] }), 400, 'validation_failed');
  });

  test('history: cursors before/after/around; edit marks edited; delete leaves a tombstone', async () => {
    const id = await channel(ana, { kind: 'org', name: 'history', visibility: 'public' });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await post(ana, id, `m${i}`));
    const last3 = await ana.client.get(`/api/chat/channels/${id}/messages?limit=3`);
    assert.deepEqual(last3.json.items.map((m: any) => m.text), ['m4', 'm5', 'm6']);
    assert.equal(last3.json.hasMoreBefore, true);
    const older = await ana.client.get(`/api/chat/channels/${id}/messages?limit=3&before=${ids[4]}`);
    assert.deepEqual(older.json.items.map((m: any) => m.text), ['m1', 'm2', 'm3']);
    const first = await ana.client.get(`/api/chat/channels/${id}/messages?limit=3&before=${ids[1]}`);
    assert.deepEqual(first.json.items.map((m: any) => m.text), ['m0']);
    assert.equal(first.json.hasMoreBefore, false);
    const newer = await ana.client.get(`/api/chat/channels/${id}/messages?limit=2&after=${ids[2]}`);
    assert.deepEqual(newer.json.items.map((m: any) => m.text), ['m3', 'm4']);
    assert.equal(newer.json.hasMoreAfter, true);
    const around = await ana.client.get(`/api/chat/channels/${id}/messages?limit=4&around=${ids[3]}`);
    assert.deepEqual(around.json.items.map((m: any) => m.text), ['m2', 'm3', 'm4', 'm5']);
    assertError(await ana.client.get(`/api/chat/channels/${id}/messages?before=${ids[1]}&after=${ids[0]}`), 400, 'validation_failed');
    assertError(await ana.client.get(`/api/chat/channels/${id}/messages?before=nope`), 400, 'validation_failed');

    const ed = await ana.client.patch(`/api/chat/messages/${ids[0]}`, { text: 'm0 (fixed)' });
    assert.equal(ed.status, 200);
    assert.equal(ed.json.message.text, 'm0 (fixed)');
    assert.equal(typeof ed.json.message.editedAt, 'number');
    assert.equal((await ben.client.post(`/api/chat/channels/${id}/join`)).status, 200);
    assertError(await ben.client.patch(`/api/chat/messages/${ids[0]}`, { text: 'hijack' }), 403, 'forbidden');
    assertError(await ben.client.delete(`/api/chat/messages/${ids[0]}`), 403, 'forbidden');
    assert.equal((await ana.client.delete(`/api/chat/messages/${ids[1]}`)).status, 204);
    const tomb = (await ben.client.get(`/api/chat/messages/${ids[1]}`)).json.message;
    assert.equal(tomb.deleted, true);
    assert.equal(tomb.text, '');
    // Moderation: an administrator deletes someone else's message; the audit log says so.
    const bens = await post(ben, id, 'spam spam');
    assert.equal((await root.client.delete(`/api/chat/messages/${bens}`)).status, 204);
    const audit = await srv.bastide.platform.db.selectFrom('audit_log').selectAll().where('action', '=', 'chat.message.moderated').where('target_id', '=', bens).execute();
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.actor_login, 'root');
    // Own deletions are not moderation.
    assert.equal((await srv.bastide.platform.db.selectFrom('audit_log').select('seq').where('target_id', '=', ids[1]!).execute()).length, 0);
    // Archived: readable, no new messages or reactions, not joinable; unarchiving reopens it.
    assert.equal((await ana.client.patch(`/api/chat/channels/${id}`, { archived: true })).json.channel.archived, true);
    assertError(await ben.client.post(`/api/chat/channels/${id}/messages`, { text: 'late' }), 403, 'forbidden');
    assertError(await ben.client.post(`/api/chat/messages/${ids[2]}/reactions`, { emoji: '👍' }), 403, 'forbidden');
    assertError(await cid.client.post(`/api/chat/channels/${id}/join`), 403, 'forbidden');
    assert.equal((await ben.client.get(`/api/chat/channels/${id}/messages`)).status, 200);
    assert.equal((await ana.client.patch(`/api/chat/channels/${id}`, { archived: false })).status, 200);
    assert.equal((await ben.client.post(`/api/chat/channels/${id}/messages`, { text: 'back' })).status, 201);
  });

  test('threads: reply counts, per-thread unread, mentions and the threads view', async () => {
    const id = await channel(ana, { kind: 'org', name: 'threads', visibility: 'public' });
    assert.equal((await ben.client.post(`/api/chat/channels/${id}/join`)).status, 200);
    const rootMsg = await post(ana, id, 'Question for @ben: lunch?');
    let c = await mine(ben, id);
    assert.equal(c.unread, 1);
    assert.equal(c.mentions, 1);
    assert.equal((await ben.client.post(`/api/chat/channels/${id}/read`, { messageId: rootMsg })).status, 204);
    c = await mine(ben, id);
    assert.equal(c.unread, 0);
    assert.equal(c.mentions, 0);
    assert.equal(c.lastReadId, rootMsg);
    const r1 = await post(ben, id, 'yes!', rootMsg);
    const r2 = await post(ben, id, 'at noon', rootMsg);
    // Replies do not count in the channel, they count in the thread.
    assert.equal((await mine(ana, id)).unread, 0);
    const th = await ana.client.get(`/api/chat/messages/${rootMsg}/thread`);
    assert.equal(th.status, 200);
    assert.equal(th.json.root.replyCount, 2);
    assert.equal(th.json.root.lastReplyId, r2);
    assert.deepEqual(th.json.items.map((m: any) => m.id), [r1, r2]);
    assert.equal(th.json.unread, 2);
    const threads = await ana.client.get('/api/chat/threads');
    const t = threads.json.items.find((x: any) => x.root.id === rootMsg);
    assert.equal(t.unread, 2);
    assert.equal((await ben.client.get('/api/chat/threads')).json.items.find((x: any) => x.root.id === rootMsg).unread, 0);
    assert.equal((await ana.client.post(`/api/chat/messages/${rootMsg}/thread/read`, { messageId: r1 })).status, 204);
    assert.equal((await ana.client.get('/api/chat/threads')).json.items.find((x: any) => x.root.id === rootMsg).unread, 1);
    // A mention in a thread counts for the channel badge until the thread is read.
    const r3 = await post(ben, id, '@ana see above', rootMsg);
    assert.equal((await mine(ana, id)).mentions, 1);
    assert.equal((await ana.client.post(`/api/chat/messages/${rootMsg}/thread/read`, { messageId: r3 })).status, 204);
    assert.equal((await mine(ana, id)).mentions, 0);
    // Replies to replies are refused; a reply in another channel's thread is not found.
    assertError(await ben.client.post(`/api/chat/channels/${id}/messages`, { text: 'nested', rootId: r1 }), 400, 'validation_failed');
    const other = await channel(ben, { kind: 'org', name: 'other', visibility: 'public' });
    assertError(await ben.client.post(`/api/chat/channels/${other}/messages`, { text: 'x', rootId: rootMsg }), 404, 'not_found');
    // The mention became a notification.
    const notes = await ben.client.get('/api/notifications');
    assert.ok(notes.json.items.some((n: any) => n.type === 'chat.mention' && n.link === `/chat/${id}/${rootMsg}`), JSON.stringify(notes.json.items));
  });

  test('reactions toggle; pins; @channel restricted by the channel setting', async () => {
    const id = await channel(ana, { kind: 'org', name: 'reacts', visibility: 'public' });
    assert.equal((await ben.client.post(`/api/chat/channels/${id}/join`)).status, 200);
    const m = await post(ana, id, 'vote');
    assert.equal((await ben.client.post(`/api/chat/messages/${m}/reactions`, { emoji: '👍' })).json.active, true);
    assert.equal((await ana.client.post(`/api/chat/messages/${m}/reactions`, { emoji: '👍' })).json.active, true);
    assert.equal((await ana.client.post(`/api/chat/messages/${m}/reactions`, { emoji: ':tada:' })).json.active, true);
    let msg = (await ben.client.get(`/api/chat/messages/${m}`)).json.message;
    assert.deepEqual(msg.reactions, [
      { emoji: '👍', count: 2, me: true },
      { emoji: ':tada:', count: 1, me: false },
    ]);
    assert.equal((await ben.client.post(`/api/chat/messages/${m}/reactions`, { emoji: '👍' })).json.active, false);
    msg = (await ben.client.get(`/api/chat/messages/${m}`)).json.message;
    assert.deepEqual(msg.reactions.find((x: any) => x.emoji === '👍'), { emoji: '👍', count: 1, me: false });
    for (const bad of ['hello', '<script>', ':bad emoji:', '1', '']) {
      const r = await ben.client.post(`/api/chat/messages/${m}/reactions`, { emoji: bad });
      assertError(r, 400, 'validation_failed');
    }
    assert.equal((await ben.client.put(`/api/chat/messages/${m}/pin`)).status, 204);
    assert.deepEqual((await ana.client.get(`/api/chat/channels/${id}/pins`)).json.items.map((x: any) => x.id), [m]);
    assert.equal((await ana.client.delete(`/api/chat/messages/${m}/pin`)).status, 204);
    assert.equal((await ana.client.get(`/api/chat/channels/${id}/pins`)).json.items.length, 0);

    // @channel: allowed for members by default; 'managers' restricts it; a manager still may.
    await post(ben, id, '@channel heads up');
    assert.equal((await mine(ana, id)).mentions, 1);
    assertError(await ben.client.patch(`/api/chat/channels/${id}`, { mentionAll: 'managers' }), 403, 'forbidden');
    assert.equal((await ana.client.patch(`/api/chat/channels/${id}`, { mentionAll: 'managers' })).status, 200);
    const before = await snap();
    assertError(await ben.client.post(`/api/chat/channels/${id}/messages`, { text: 'again @here' }), 403, 'forbidden');
    assert.deepEqual(await snap(), before);
    // Inside code it is not a mention.
    await post(ben, id, 'type `@channel` to ping everyone');
    await post(ana, id, '@channel meeting now');
    assert.equal((await mine(ben, id)).mentions, 1);
  });

  test('bad input is refused with a clear 4xx and changes nothing', async () => {
    const id = await channel(ana, { kind: 'org', name: 'bad-input', visibility: 'public' });
    const m = await post(ana, id, 'ok');
    const before = await snap();
    const cases: Array<[Promise<any>, number, string]> = [
      [ana.client.post(`/api/chat/channels/${id}/messages`, { text: 'x'.repeat(16_001) }), 413, 'payload_too_large'],
      [ana.client.post(`/api/chat/channels/${id}/messages`, { text: 'x'.repeat(40_000) }), 400, 'validation_failed'],
      [ana.client.post(`/api/chat/channels/${id}/messages`, { text: '   \n\t ' }), 400, 'validation_failed'],
      [ana.client.post(`/api/chat/channels/${id}/messages`, { text: '\u0000\u0001' }), 400, 'validation_failed'],
      [ana.client.post(`/api/chat/channels/${id}/messages`, { text: 'hi', html: '<b>' }), 400, 'validation_failed'],
      [ana.client.post(`/api/chat/channels/${id}/messages`, { text: 42 }), 400, 'validation_failed'],
      [ana.client.post(`/api/chat/channels/${id}/messages`, '{"text": "unterminated'), 400, 'invalid_json'],
      [ana.client.post(`/api/chat/channels/${id}/messages`, { text: 'x', rootId: MISSING_ID }), 404, 'not_found'],
      [ana.client.post(`/api/chat/channels/${MISSING_ID}/messages`, { text: 'x' }), 404, 'not_found'],
      [ana.client.post('/api/chat/channels/not-an-id/messages', { text: 'x' }), 400, 'validation_failed'],
      [ana.client.patch(`/api/chat/messages/${m}`, { text: '' }), 400, 'validation_failed'],
      [ana.client.patch(`/api/chat/channels/${id}`, {}), 400, 'validation_failed'],
      [ana.client.patch(`/api/chat/channels/${id}`, { retentionDays: 0 }), 400, 'validation_failed'],
      [ana.client.patch(`/api/chat/channels/${id}`, { name: '\u0000' }), 400, 'validation_failed'],
      [ana.client.post('/api/chat/channels', { kind: 'dm', name: 'x', visibility: 'public' }), 400, 'validation_failed'],
      [ana.client.post('/api/chat/channels', { kind: 'space', name: 'x', visibility: 'public' }), 400, 'validation_failed'],
      [ana.client.post(`/api/chat/channels/${id}/read`, { messageId: MISSING_ID }), 404, 'not_found'],
    ];
    for (const [p, status, code] of cases) assertError(await p, status, code);
    assert.deepEqual(await snap(), before);
    // Markup is stored as typed (the client renders Markdown safely), never interpreted here.
    const html = await ana.client.post(`/api/chat/channels/${id}/messages`, { text: '<img src=x onerror=alert(1)> **bold**' });
    assert.equal(html.json.message.text, '<img src=x onerror=alert(1)> **bold**');
  });

  test('a flooding user is rate-limited; another user posts normally meanwhile', async () => {
    const id = await channel(cid, { kind: 'org', name: 'flood', visibility: 'public' });
    assert.equal((await ben.client.post(`/api/chat/channels/${id}/join`)).status, 200);
    // 80 posts at once from one client (a script gone wrong).
    const results = await Promise.all(Array.from({ length: 80 }, (_, i) => cid.client.post(`/api/chat/channels/${id}/messages`, { text: `flood ${i}` })));
    const statuses = results.map((r) => r.status);
    for (const r of results) if (r.status !== 201) assertError(r, 429, 'rate_limited');
    assert.ok(statuses.includes(429), `flood was limited: ${statuses.join(',')}`);
    assert.ok(statuses.filter((s) => s === 201).length >= 30);
    // Ben is unaffected.
    assert.equal((await ben.client.post(`/api/chat/channels/${id}/messages`, { text: 'normal' })).status, 201);
  });

  test('incoming webhooks: Slack-compatible payloads, managers only, token revocable', async () => {
    const id = await channel(ana, { kind: 'org', name: 'alerts', visibility: 'public' });
    assert.equal((await ben.client.post(`/api/chat/channels/${id}/join`)).status, 200);
    assertError(await ben.client.post(`/api/chat/channels/${id}/hooks`, { name: 'Nagios' }), 403, 'forbidden');
    const h = await ana.client.post(`/api/chat/channels/${id}/hooks`, { name: 'Nagios' });
    assert.equal(h.status, 201);
    assert.match(h.json.url, /\/api\/chat\/hooks\/bwh_/);
    const path = `/api/chat/hooks/${h.json.token}`;
    const ok = await raw(srv.url, 'POST', path, {
      json: {
        text: 'Disk full on <https://mon.example.org/host/1|db-1> <!channel>',
        username: 'monitor',
        icon_emoji: ':warning:',
        channel: '#ignored',
        mrkdwn: true,
        attachments: [{ fallback: 'x', color: 'danger', title: 'db-1', title_link: 'javascript:alert(1)', text: 'usage 99%', fields: [{ title: 'Host', value: 'db-1', short: true }] }],
      },
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.json, 'ok');
    const page = await ben.client.get(`/api/chat/channels/${id}/messages`);
    const m = page.json.items.at(-1);
    assert.equal(m.author, null);
    assert.deepEqual(m.bot, { name: 'monitor', iconEmoji: ':warning:' });
    assert.equal(m.text, 'Disk full on [db-1](https://mon.example.org/host/1) @channel');
    assert.deepEqual(m.attachments, [{ fallback: 'x', color: 'danger', title: 'db-1', text: 'usage 99%', fields: [{ title: 'Host', value: 'db-1', short: true }] }]);
    assert.equal(m.mentionsMe, true);
    const before = await snap();
    assertError(await raw(srv.url, 'POST', path, { json: {} }), 400, 'validation_failed');
    assertError(await raw(srv.url, 'POST', path, { json: { text: 'x', attachments: 'nope' } }), 400, 'validation_failed');
    assertError(await raw(srv.url, 'POST', path, { body: 'not json', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
    assertError(await raw(srv.url, 'POST', path, { json: { text: 'y'.repeat(16_001) } }), 413, 'payload_too_large');
    assertError(await raw(srv.url, 'POST', '/api/chat/hooks/bwh_' + 'A'.repeat(32), { json: { text: 'x' } }), 404, 'not_found');
    assertError(await raw(srv.url, 'POST', '/api/chat/hooks/short', { json: { text: 'x' } }), 400, 'validation_failed');
    assert.deepEqual(await snap(), before);
    assert.equal((await ana.client.get(`/api/chat/channels/${id}/hooks`)).json.items.length, 1);
    assert.equal((await ana.client.delete(`/api/chat/hooks/${h.json.id}`)).status, 204);
    assertError(await raw(srv.url, 'POST', path, { json: { text: 'after revoke' } }), 404, 'not_found');
    const audit = (await srv.bastide.platform.db.selectFrom('audit_log').select('action').where('target_id', '=', id).execute()).map((a) => a.action);
    assert.ok(audit.includes('chat.hook.created') && audit.includes('chat.hook.revoked'));
  });

  test('bots use API tokens: a bearer token posts as its user; no token, no access', async () => {
    const id = await channel(ana, { kind: 'org', name: 'bots', visibility: 'private' });
    const t = await ana.client.post('/api/me/tokens', { name: 'release bot' });
    assert.equal(t.status, 201);
    const r = await raw(srv.url, 'POST', `/api/chat/channels/${id}/messages`, { headers: bearerAuth(t.json.token), json: { text: 'v1.2 released' } });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.equal(r.json.message.author.login, 'ana');
    assertError(await raw(srv.url, 'GET', `/api/chat/channels/${id}/messages`), 401, 'unauthenticated');
  });

  test('search finds messages only in channels the person reads', async () => {
    const id = await channel(ana, { kind: 'org', name: 'search-private', visibility: 'private' });
    await post(ana, id, 'the zanzibar contract');
    const a = await ana.client.get('/api/search?q=zanzibar');
    assert.equal(a.status, 200, JSON.stringify(a.json));
    const hits = JSON.stringify(a.json);
    assert.ok(hits.includes('zanzibar'), hits);
    const c = await cid.client.get('/api/search?q=zanzibar');
    assert.ok(!JSON.stringify(c.json).includes('zanzibar'));
  });

  test('retention: messages older than the channel setting are deleted by the job, with an audit entry', async () => {
    const id = await channel(ana, { kind: 'org', name: 'ephemeral', visibility: 'public' });
    const old = await post(ana, id, 'old news');
    await post(ana, id, 'old thread reply', old);
    const keepRoot = await post(ana, id, 'old root, recent reply');
    clock.advance(3 * DAY);
    const recent = await post(ana, id, 'fresh');
    const recentReply = await post(ana, id, 'recent reply', keepRoot);
    assertError(await ben.client.patch(`/api/chat/channels/${id}`, { retentionDays: 2 }), 403, 'forbidden');
    assert.equal((await ana.client.patch(`/api/chat/channels/${id}`, { retentionDays: 2 })).json.channel.retentionDays, 2);
    const before = await countRows(srv.bastide.platform.db, 'chat_messages');
    const deleted = await applyRetention(srv.bastide.platform);
    assert.equal(deleted, 4, 'the old root with its reply, and the old root of the recent reply with that reply');
    assert.equal(await countRows(srv.bastide.platform.db, 'chat_messages'), before - 4);
    const left = (await srv.bastide.platform.db.selectFrom('chat_messages').select('id').where('channel_id', '=', id).execute()).map((r) => r.id);
    assert.deepEqual(left, [recent]);
    assert.ok(!left.includes(recentReply));
    const audit = await srv.bastide.platform.db.selectFrom('audit_log').selectAll().where('action', '=', 'chat.retention.applied').where('target_id', '=', id).execute();
    assert.equal(audit.length, 1);
    // Running again deletes nothing more; the durable job is scheduled.
    assert.equal(await applyRetention(srv.bastide.platform), 0);
    const job = await srv.bastide.platform.db.selectFrom('jobs').select('name').where('name', '=', 'chat.retention').executeTakeFirst();
    assert.ok(job);
    // Sign-in still works after the clock moved (the page above used the existing session).
    const again = new ApiClient(srv.url);
    await again.login('ana', DEFAULT_PASSWORD);
    assert.equal((await again.get(`/api/chat/channels/${id}/messages`)).status, 200);
  });
});
