import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { startTestServer, type ApiClient, type TestServer } from './helpers/server.js';
import { adminClient, assertError, raw, userClient } from './helpers/api.js';
import { zipFiles } from '../src/modules/portability/zip.js';

/**
 * Chat reversibility: a Slack workspace export and a Mattermost bulk export come in (authors matched by
 * e-mail or login, threads, reactions, pins, dates kept; people without an account keep their name),
 * a channel goes out as JSON and inert HTML and comes back; only administrators import workspaces,
 * only members export a channel; a broken archive changes nothing.
 */
type U = { id: string; login: string; client: ApiClient };

async function zipOf(files: Array<{ path: string; content: string }>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of zipFiles(files) as Readable) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function unzipNames(buf: Buffer): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      const names: string[] = [];
      zip.on('entry', (e: yauzl.Entry) => {
        names.push(e.fileName);
        zip.readEntry();
      });
      zip.on('end', () => resolve(names));
      zip.readEntry();
    });
  });
}

const ts = (iso: string): string => (Date.parse(iso) / 1000).toFixed(6);

describe('chat import and export', () => {
  let srv: TestServer;
  let admin: U;
  let ben: U;
  let cid: U;

  before(async () => {
    srv = await startTestServer();
    admin = await adminClient(srv, 'ana');
    [ben, cid] = await Promise.all([userClient(srv, 'ben'), userClient(srv, 'cid')]);
  });
  after(() => srv.close());

  const post = (u: U, path: string, body: Buffer, type: string) => raw(srv.url, 'POST', path, { body, headers: { cookie: u.client.cookie, 'x-csrf-token': u.client.csrf, 'content-type': type } });
  const channels = async (u: U) => (await u.client.get('/api/chat/channels')).json.items as Array<{ id: string; name: string; visibility: string; topic: string }>;
  const messages = async (u: U, id: string) => (await u.client.get(`/api/chat/channels/${id}/messages?limit=200`)).json.items as Array<Record<string, any>>;
  const countChannels = async () => Number((await srv.bastide.platform.db.selectFrom('chat_channels').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

  const root = '2024-03-01T09:00:00Z';
  const slack = () =>
    zipOf([
      {
        path: 'users.json',
        content: JSON.stringify([
          { id: 'U1', name: 'benjamin', real_name: 'Ben', profile: { email: 'BEN@example.org' } },
          { id: 'U2', name: 'zoe', real_name: 'Zoé Outside', profile: { email: 'zoe@elsewhere.example' } },
        ]),
      },
      { path: 'channels.json', content: JSON.stringify([{ id: 'C1', name: 'general', members: ['U1', 'U2'], topic: { value: 'Company-wide' } }]) },
      { path: 'groups.json', content: JSON.stringify([{ id: 'G1', name: 'secret-plans', members: ['U1'] }]) },
      {
        path: 'general/2024-03-01.json',
        content: JSON.stringify([
          { type: 'message', user: 'U1', text: 'Hello <!channel>, see <https://example.org|the site>', ts: ts(root), reactions: [{ name: 'thumbsup', users: ['U1', 'U2'], count: 2 }], pinned_to: ['C1'] },
          { type: 'message', user: 'U2', text: 'Thanks <@U1>! <script>alert(1)</script>', ts: ts('2024-03-01T09:05:00Z'), thread_ts: ts(root) },
          { type: 'message', subtype: 'channel_join', user: 'U2', text: '<@U2> has joined', ts: ts('2024-03-01T08:00:00Z') },
          { type: 'message', user: 'U1', text: 'edited later', ts: ts('2024-03-01T10:00:00Z'), edited: { user: 'U1', ts: ts('2024-03-01T10:01:00Z') } },
        ]),
      },
      { path: 'secret-plans/2024-03-02.json', content: JSON.stringify([{ type: 'message', user: 'U1', text: 'psst', ts: ts('2024-03-02T12:00:00Z') }]) },
    ]);

  test('only administrators import a workspace; a broken archive is refused and changes nothing', async () => {
    const before = await countChannels();
    assertError(await post(ben, '/api/chat/import/slack', await slack(), 'application/zip'), 403, 'forbidden');
    assertError(await post(admin, '/api/chat/import/slack', Buffer.from('not a zip'), 'application/zip'), 400);
    assertError(await post(admin, '/api/chat/import/slack', await zipOf([{ path: 'channels.json', content: '[]' }]), 'application/zip'), 400);
    assertError(await post(admin, '/api/chat/import/slack', await zipOf([{ path: 'users.json', content: '[]' }, { path: 'channels.json', content: '{not json' }]), 'application/zip'), 400);
    assertError(await post(admin, '/api/chat/import/mattermost', Buffer.from('{"type":"channel"}\n'), 'application/x-ndjson'), 400);
    assertError(await post(admin, '/api/chat/import/mattermost', Buffer.from('{"type":"version","version":1}\n{"type":"post","post":{"team":"t","channel":"nowhere","user":"ben","message":"x","create_at":1}}\n'), 'application/x-ndjson'), 400);
    assert.equal(await countChannels(), before);
  });

  test('a Slack export: channels, authors by e-mail, outsiders by name, threads, reactions, pins, edits, dates', async () => {
    const r = await post(admin, '/api/chat/import/slack', await slack(), 'application/zip');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json, { channels: 2, messages: 4 });
    const mine = await channels(ben);
    const general = mine.find((c) => c.name === 'general')!;
    assert.ok(general, JSON.stringify(mine));
    assert.equal(general.topic, 'Company-wide');
    assert.equal(general.visibility, 'public');
    assert.equal(mine.find((c) => c.name === 'secret-plans')?.visibility, 'private');
    assert.ok(!(await channels(cid)).some((c) => c.name === 'secret-plans'), 'a private channel stays private');
    const ms = await messages(ben, general.id);
    const top = ms.filter((m) => m.rootId === null);
    assert.deepEqual(top.map((m) => m.text), ['Hello @channel, see [the site](https://example.org)', 'edited later']);
    assert.equal(top[0]!.author.login, 'ben');
    assert.equal(top[0]!.createdAt, Date.parse(root));
    assert.equal(top[0]!.pinned, true);
    assert.equal(top[0]!.replyCount, 1);
    assert.deepEqual(top[0]!.reactions, [{ emoji: ':thumbsup:', count: 1, me: true }], 'Zoé has no account: her reaction is not kept');
    assert.equal(top[1]!.editedAt, Date.parse('2024-03-01T10:01:00Z'));
    const thread = (await ben.client.get(`/api/chat/messages/${top[0]!.id}/thread`)).json;
    const reply = (thread.items ?? thread.replies ?? []).find((m: Record<string, any>) => m.rootId === top[0]!.id);
    assert.ok(reply, JSON.stringify(thread));
    assert.equal(reply.author, null);
    assert.equal(reply.bot.name, 'Zoé Outside');
    assert.equal(reply.text, 'Thanks @ben! <script>alert(1)</script>', 'stored as text; the app renders Markdown safely');
    const audit = await admin.client.get('/api/admin/audit?action=chat.import.applied');
    assert.equal(audit.json.items[0].details.messages, 4);
  });

  test('a Mattermost bulk export (JSONL): channels, posts with replies and reactions', async () => {
    const lines = [
      { type: 'version', version: 1 },
      { type: 'team', team: { name: 'acme', display_name: 'Acme' } },
      { type: 'user', user: { username: 'benny', email: 'ben@example.org' } },
      { type: 'channel', channel: { team: 'acme', name: 'town-square', display_name: 'Town Square', type: 'O', header: 'Everyone' } },
      { type: 'post', post: { team: 'acme', channel: 'town-square', user: 'benny', message: 'From Mattermost', create_at: 1700000000000, reactions: [{ user: 'cid', emoji_name: 'tada', create_at: 1700000001000 }], replies: [{ user: 'someone', message: 'a reply', create_at: 1700000002000 }] } },
      { type: 'direct_channel', direct_channel: { members: ['benny', 'cid'] } },
    ];
    const r = await post(admin, '/api/chat/import/mattermost', Buffer.from(lines.map((l) => JSON.stringify(l)).join('\n')), 'application/x-ndjson');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json, { channels: 1, messages: 2 });
    const ch = (await channels(ben)).find((c) => c.name === 'Town Square')!;
    assert.ok(ch);
    const [m] = (await messages(ben, ch.id)).filter((x) => x.rootId === null);
    assert.equal(m!.author.login, 'ben');
    assert.equal(m!.replyCount, 1);
    assert.deepEqual(m!.reactions.map((x: Record<string, any>) => x.emoji), [':tada:']);
  });

  test('a member exports a channel as JSON, inert HTML or a zip; others cannot; the zip comes back as a new channel', async () => {
    const general = (await channels(ben)).find((c) => c.name === 'general')!;
    const json = await ben.client.get(`/api/chat/channels/${general.id}/export?format=json`);
    assert.equal(json.status, 200);
    assert.equal(json.json.format, 'bastide.chat/1');
    assert.equal(json.json.messages.length, 3);
    assert.ok(json.json.members.includes('ben'));
    const html = await fetch(`${srv.url}/api/chat/channels/${general.id}/export?format=html`, { headers: { cookie: ben.client.cookie } });
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-security-policy') ?? '', /sandbox/);
    assert.equal(html.headers.get('x-content-type-options'), 'nosniff');
    const page = await html.text();
    assert.ok(page.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(!page.includes('<script>'));
    const secret = (await channels(ben)).find((c) => c.name === 'secret-plans')!;
    assertError(await cid.client.get(`/api/chat/channels/${secret.id}/export`), 404, 'not_found');
    assertError(await ben.client.get(`/api/chat/channels/${general.id}/export?format=pdf`), 400, 'validation_failed');

    const zip = Buffer.from(await (await fetch(`${srv.url}/api/chat/channels/${general.id}/export`, { headers: { cookie: ben.client.cookie } })).arrayBuffer());
    assert.deepEqual((await unzipNames(zip)).sort(), ['chat-general.html', 'chat-general.json']);
    const back = await post(admin, '/api/chat/import/bastide', zip, 'application/zip');
    assert.equal(back.status, 200, JSON.stringify(back.json));
    assert.deepEqual(back.json, { channels: 1, messages: 3 });
    const copy = (await channels(ben)).find((c) => c.name === 'general (2)')!;
    assert.ok(copy, 'a name already used gets a suffix');
    assert.deepEqual(
      (await messages(ben, copy.id)).map((m) => [m.text, m.createdAt, m.rootId === null]),
      (await messages(ben, general.id)).map((m) => [m.text, m.createdAt, m.rootId === null]),
    );
  });

  test("a user's archive holds their channels as JSON and HTML", async () => {
    const archive = async (u: U) => unzipNames(Buffer.from(await (await fetch(`${srv.url}/api/me/export`, { headers: { cookie: u.client.cookie } })).arrayBuffer()));
    const names = await archive(ben);
    for (const n of ['general', 'secret-plans', 'town-square']) {
      assert.ok(names.some((x) => new RegExp(`^chat/${n}-\\w+\\.json$`).test(x)), `${n} in ${names.join(', ')}`);
      assert.ok(names.some((x) => new RegExp(`^chat/${n}-\\w+\\.html$`).test(x)), `${n}.html`);
    }
    assert.ok(!(await archive(cid)).some((n) => n.startsWith('chat/')), 'only channels the user belongs to');
  });
});
