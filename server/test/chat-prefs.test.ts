import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type ApiClient, type TestServer } from './helpers/server.js';
import { assertError, eventually, userClient } from './helpers/api.js';

/** Per-channel notification level and mute: "nothing" and "muted" stop mention notifications, not badges. */
type U = { id: string; login: string; client: ApiClient };

describe('chat notification preferences', () => {
  let srv: TestServer;
  let ana: U;
  let ben: U;
  let cid: U;
  let channelId = '';

  before(async () => {
    srv = await startTestServer();
    [ana, ben, cid] = await Promise.all([userClient(srv, 'ana'), userClient(srv, 'ben'), userClient(srv, 'cid')]);
    const r = await ana.client.post('/api/chat/channels', { kind: 'org', name: 'prefs', visibility: 'private' });
    channelId = r.json.channel.id;
    assert.equal((await ana.client.put(`/api/chat/channels/${channelId}/members/${ben.id}`, { role: 'member' })).status, 204);
  });
  after(() => srv.close());

  const mentionNotes = async () => ((await ben.client.get('/api/notifications')).json.items as Array<{ type: string }>).filter((n) => n.type === 'chat.mention').length;
  const mention = async (text: string) => assert.equal((await ana.client.post(`/api/chat/channels/${channelId}/messages`, { text })).status, 201);
  const channel = async () => ((await ben.client.get('/api/chat/channels')).json.items as Array<Record<string, any>>).find((c) => c.id === channelId)!;

  test('defaults, validation, members only', async () => {
    assert.deepEqual((await channel()).notify, { level: 'mentions', muted: false });
    assertError(await ben.client.put(`/api/chat/channels/${channelId}/notify`, { level: 'loud' }), 400, 'validation_failed');
    assertError(await ben.client.put(`/api/chat/channels/${channelId}/notify`, { muted: true, extra: 1 }), 400, 'validation_failed');
    assertError(await cid.client.put(`/api/chat/channels/${channelId}/notify`, { muted: true }), 404, 'not_found');
  });

  test('"nothing" and "muted" stop mention notifications; the mention badge still counts', async () => {
    await mention('@ben first');
    await eventually(async () => (await mentionNotes()) === 1, 5000, 'the first notification');
    const r = await ben.client.put(`/api/chat/channels/${channelId}/notify`, { level: 'none' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.notify, { level: 'none', muted: false });
    await mention('@ben second');
    assert.equal((await ben.client.put(`/api/chat/channels/${channelId}/notify`, { level: 'all', muted: true })).status, 200);
    await mention('@ben third');
    assert.deepEqual((await channel()).notify, { level: 'all', muted: true });
    assert.equal((await channel()).mentions, 3);
    assert.equal((await ben.client.put(`/api/chat/channels/${channelId}/notify`, { muted: false })).status, 200);
    await mention('@ben fourth');
    await eventually(async () => (await mentionNotes()) === 2, 5000, 'the fourth notification');
    assert.equal(await mentionNotes(), 2, 'the second and third made none');
  });
});
