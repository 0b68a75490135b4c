import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestServer, type ApiClient, type TestServer } from './helpers/server.js';
import { assertError, eventually, userClient } from './helpers/api.js';

/**
 * Outgoing webhooks: a trigger word sends the message to the integration (Slack/Mattermost payload with
 * its token), whose JSON answer comes back as a post; other messages and the integration's own posts
 * call nothing; only channel managers manage hooks; a removed hook is silent.
 */
type U = { id: string; login: string; client: ApiClient };

describe('chat outgoing webhooks', () => {
  let bot: Server;
  let botUrl = '';
  const calls: Array<Record<string, unknown>> = [];
  let srv: TestServer;
  let ana: U;
  let ben: U;
  let cid: U;
  let channelId = '';

  before(async () => {
    bot = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const payload = JSON.parse(body) as Record<string, unknown>;
        calls.push(payload);
        res.setHeader('content-type', 'application/json');
        // The answer starts with the trigger word too: it must not call the hook again.
        res.end(JSON.stringify({ text: `!ticket ${String(payload.text).split(' ')[1]} is *open*`, username: 'tickets', icon_emoji: ':ticket:' }));
      });
    });
    await new Promise<void>((r) => bot.listen(0, '127.0.0.1', r));
    botUrl = `http://127.0.0.1:${(bot.address() as AddressInfo).port}/hook`;
    srv = await startTestServer({ config: { fetchAllow: ['127.0.0.1/32'] } });
    [ana, ben, cid] = await Promise.all([userClient(srv, 'ana'), userClient(srv, 'ben'), userClient(srv, 'cid')]);
    const r = await ana.client.post('/api/chat/channels', { kind: 'org', name: 'support', visibility: 'private' });
    channelId = r.json.channel.id;
    assert.equal((await ana.client.put(`/api/chat/channels/${channelId}/members/${ben.id}`, { role: 'member' })).status, 204);
  });
  after(async () => {
    await srv.close();
    bot.closeAllConnections();
    bot.close();
  });

  const messages = async () => (await ben.client.get(`/api/chat/channels/${channelId}/messages?limit=100`)).json.items as Array<Record<string, any>>;

  test('only managers add hooks; bad URLs are refused', async () => {
    const body = { name: 'Tickets', url: botUrl, triggers: ['!ticket'] };
    assertError(await ben.client.post(`/api/chat/channels/${channelId}/outgoing-hooks`, body), 403, 'forbidden');
    assertError(await cid.client.post(`/api/chat/channels/${channelId}/outgoing-hooks`, body), 404, 'not_found');
    assertError(await ana.client.post(`/api/chat/channels/${channelId}/outgoing-hooks`, { ...body, url: 'javascript:alert(1)' }), 400, 'validation_failed');
    assertError(await ana.client.post(`/api/chat/channels/${channelId}/outgoing-hooks`, { ...body, url: 'http://user:pw@example.org/' }), 400, 'validation_failed');
    assertError(await ana.client.post(`/api/chat/channels/${channelId}/outgoing-hooks`, { ...body, triggers: [] }), 400, 'validation_failed');
    assertError(await ben.client.get(`/api/chat/channels/${channelId}/outgoing-hooks`), 403, 'forbidden');
  });

  test('a trigger word calls the integration, whose answer is posted; nothing else calls it', async () => {
    const created = await ana.client.post(`/api/chat/channels/${channelId}/outgoing-hooks`, { name: 'Tickets', url: botUrl, triggers: ['!ticket'] });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const token = created.json.item.token as string;
    assert.equal((await ana.client.get(`/api/chat/channels/${channelId}/outgoing-hooks`)).json.items.length, 1);
    assert.equal((await ben.client.post(`/api/chat/channels/${channelId}/messages`, { text: 'no trigger here !ticket' })).status, 201);
    const m = await ben.client.post(`/api/chat/channels/${channelId}/messages`, { text: '!TICKET 42 please' });
    assert.equal(m.status, 201);
    const reply = await eventually(async () => (await messages()).find((x) => x.bot?.name === 'tickets'), 15_000, 'the integration reply');
    assert.equal(reply.text, '!ticket 42 is *open*');
    assert.equal(reply.bot.iconEmoji, ':ticket:');
    assert.equal(calls.length, 1, 'one call: the other message and the reply triggered nothing');
    assert.deepEqual(
      { token: calls[0]!.token, channel_id: calls[0]!.channel_id, channel_name: calls[0]!.channel_name, user_id: calls[0]!.user_id, user_name: calls[0]!.user_name, post_id: calls[0]!.post_id, text: calls[0]!.text, trigger_word: calls[0]!.trigger_word },
      { token, channel_id: channelId, channel_name: 'support', user_id: ben.id, user_name: 'ben', post_id: m.json.message.id, text: '!TICKET 42 please', trigger_word: '!ticket' },
    );
  });

  test('a removed hook calls nothing more; an outsider cannot remove one', async () => {
    const [hook] = (await ana.client.get(`/api/chat/channels/${channelId}/outgoing-hooks`)).json.items;
    assertError(await cid.client.delete(`/api/chat/outgoing-hooks/${hook.id}`), 404, 'not_found');
    assertError(await ben.client.delete(`/api/chat/outgoing-hooks/${hook.id}`), 403, 'forbidden');
    assert.equal((await ana.client.delete(`/api/chat/outgoing-hooks/${hook.id}`)).status, 204);
    const before = calls.length;
    assert.equal((await ben.client.post(`/api/chat/channels/${channelId}/messages`, { text: '!ticket 43' })).status, 201);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(calls.length, before);
    const audit = await srv.bastide.platform.db.selectFrom('audit_log').select('action').where('action', 'like', 'chat.outgoing_hook.%').execute();
    assert.deepEqual(audit.map((a) => a.action).sort(), ['chat.outgoing_hook.created', 'chat.outgoing_hook.revoked']);
  });
});
