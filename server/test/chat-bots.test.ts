import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type ApiClient, type TestServer } from './helpers/server.js';
import { adminClient, assertError, raw, userClient } from './helpers/api.js';

/**
 * Bot accounts: administrators create them (token shown once), channel managers add them, the token
 * reads and posts in those channels only; revocation and removal take effect at once.
 */
type U = { id: string; login: string; client: ApiClient };

describe('chat bots', () => {
  let srv: TestServer;
  let root: U;
  let ana: U;
  let ben: U;
  let channelId = '';
  let otherId = '';
  let botId = '';
  let token = '';

  before(async () => {
    srv = await startTestServer();
    root = await adminClient(srv, 'root');
    [ana, ben] = await Promise.all([userClient(srv, 'ana'), userClient(srv, 'ben')]);
    channelId = (await ana.client.post('/api/chat/channels', { kind: 'org', name: 'ops', visibility: 'private' })).json.channel.id;
    otherId = (await ben.client.post('/api/chat/channels', { kind: 'org', name: 'ben-private', visibility: 'private' })).json.channel.id;
  });
  after(() => srv.close());

  const asBot = (method: string, path: string, body?: unknown, t = token) =>
    raw(srv.url, method, path, { headers: { authorization: `Bearer ${t}` }, ...(body !== undefined ? { json: body } : {}) });

  test('administrators create bots; others cannot', async () => {
    assertError(await ana.client.post('/api/chat/bots', { name: 'Deploy bot' }), 403, 'forbidden');
    assertError(await root.client.post('/api/chat/bots', { name: 'x', iconEmoji: 'rocket' }), 400, 'validation_failed');
    const r = await root.client.post('/api/chat/bots', { name: 'Deploy bot', iconEmoji: ':rocket:', description: 'Posts deployments' });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    botId = r.json.bot.id;
    token = r.json.token;
    assert.match(token, /^bstbot_[A-Za-z0-9_-]{32}$/);
    assert.ok(!JSON.stringify((await root.client.get('/api/chat/bots')).json).includes(token), 'the token is shown once');
  });

  test('a bot reaches only the channels a manager added it to', async () => {
    assertError(await asBot('GET', `/api/chat/bot/channels/${channelId}/messages`), 404, 'not_found');
    assertError(await asBot('POST', `/api/chat/bot/channels/${channelId}/messages`, { text: 'hi' }), 404, 'not_found');
    assertError(await asBot('GET', '/api/chat/bot/channels', undefined, 'bstbot_' + 'x'.repeat(32)), 401, 'unauthenticated');
    assertError(await raw(srv.url, 'GET', '/api/chat/bot/channels'), 401, 'unauthenticated');
    assertError(await ben.client.put(`/api/chat/channels/${channelId}/bots/${botId}`), 404, 'not_found');
    assert.equal((await ana.client.put(`/api/chat/channels/${channelId}/bots/${botId}`)).status, 204);
    assert.deepEqual((await asBot('GET', '/api/chat/bot/channels')).json.items.map((c: { name: string }) => c.name), ['ops']);
    assertError(await asBot('GET', `/api/chat/bot/channels/${otherId}/messages`), 404, 'not_found');

    assert.equal((await ana.client.post(`/api/chat/channels/${channelId}/messages`, { text: 'deploy please' })).status, 201);
    const history = await asBot('GET', `/api/chat/bot/channels/${channelId}/messages`);
    assert.equal(history.status, 200);
    assert.deepEqual(history.json.items.map((m: { text: string }) => m.text), ['deploy please']);
    const root1 = history.json.items[0].id as string;
    const posted = await asBot('POST', `/api/chat/bot/channels/${channelId}/messages`, { text: 'Deployed v1.2 :rocket:', rootId: root1 });
    assert.equal(posted.status, 201, JSON.stringify(posted.json));
    assert.deepEqual(posted.json.message.bot, { name: 'Deploy bot', iconEmoji: ':rocket:' });
    assert.equal(posted.json.message.rootId, root1);
    const after1 = await asBot('GET', `/api/chat/bot/channels/${channelId}/messages?after=${root1}`);
    assert.deepEqual(after1.json.items.map((m: { text: string }) => m.text), ['Deployed v1.2 :rocket:']);
    assertError(await asBot('POST', `/api/chat/bot/channels/${channelId}/messages`, { text: '   ' }), 400, 'validation_failed');
    assert.equal((await ben.client.get('/api/chat/channels/' + channelId + '/bots')).status, 404);
    assert.equal((await ana.client.get('/api/chat/channels/' + channelId + '/bots')).json.items[0].name, 'Deploy bot');
  });

  test('removal from a channel, token rotation and revocation take effect at once', async () => {
    assert.equal((await ana.client.delete(`/api/chat/channels/${channelId}/bots/${botId}`)).status, 204);
    assertError(await asBot('POST', `/api/chat/bot/channels/${channelId}/messages`, { text: 'still here?' }), 404, 'not_found');
    assert.equal((await ana.client.put(`/api/chat/channels/${channelId}/bots/${botId}`)).status, 204);
    const rotated = await root.client.post(`/api/chat/bots/${botId}/token`);
    assert.equal(rotated.status, 200);
    assertError(await asBot('GET', '/api/chat/bot/channels'), 401, 'unauthenticated');
    token = rotated.json.token;
    assert.equal((await asBot('GET', '/api/chat/bot/channels')).status, 200);
    assertError(await ana.client.delete(`/api/chat/bots/${botId}`), 403, 'forbidden');
    assert.equal((await root.client.delete(`/api/chat/bots/${botId}`)).status, 204);
    assertError(await asBot('GET', '/api/chat/bot/channels'), 401, 'unauthenticated');
    const audit = await root.client.get('/api/admin/audit?action=chat.bot.revoked');
    assert.equal(audit.json.items.length, 1);
  });
});
