import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { startTestServer, type ApiClient, type TestServer } from './helpers/server.js';
import { assertError, eventually, userClient } from './helpers/api.js';
import { linksIn, pageMeta } from '../src/modules/chat/previews.js';

/**
 * Link previews: made on the server through the SSRF-safe fetch, stored with the message, images
 * re-encoded and served from Bastide to members only; pages on private addresses get none unless the
 * operator allowed them; links in code are not previewed.
 */
type U = { id: string; login: string; client: ApiClient };

describe('chat link previews', () => {
  let site: Server;
  let siteUrl = '';
  let hits = 0;
  let allowed: TestServer;
  let closed: TestServer;

  before(async () => {
    const png = await sharp({ create: { width: 1200, height: 630, channels: 3, background: '#3355aa' } }).png().toBuffer();
    site = createServer((req, res) => {
      hits++;
      if (req.url === '/article') {
        res.setHeader('content-type', 'text/html; charset=utf-8');
        return res.end(`<!doctype html><html><head><title>Fallback title</title>
          <meta property="og:title" content="Budget 2027 &amp; plans">
          <meta property="og:description" content="What the council decided &lt;script&gt;">
          <meta property="og:site_name" content="Town hall">
          <meta property="og:image" content="/cover.png"></head><body><p>…</p></body></html>`);
      }
      if (req.url === '/cover.png') {
        res.setHeader('content-type', 'image/png');
        return res.end(png);
      }
      if (req.url === '/data.json') {
        res.setHeader('content-type', 'application/json');
        return res.end('{"a":1}');
      }
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    allowed = await startTestServer({ config: { fetchAllow: ['127.0.0.1/32'] } });
    closed = await startTestServer();
  });
  after(async () => {
    await allowed.close();
    await closed.close();
    site.closeAllConnections();
    site.close();
  });

  async function channelWith(srv: TestServer, owner: U, members: U[]): Promise<string> {
    const r = await owner.client.post('/api/chat/channels', { kind: 'org', name: `previews-${Date.now()}`, visibility: 'private' });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    for (const m of members) assert.equal((await owner.client.put(`/api/chat/channels/${r.json.channel.id}/members/${m.id}`, { role: 'member' })).status, 204);
    return r.json.channel.id as string;
  }

  test('links outside code, at most three, distinct; meta read from the head', () => {
    assert.deepEqual(linksIn('see https://a.example/x, and `https://code.example` and\n```\nhttps://block.example\n```\n(https://b.example/y) https://a.example/x'), ['https://a.example/x', 'https://b.example/y']);
    assert.equal(linksIn('https://1.example https://2.example https://3.example https://4.example').length, 3);
    const m = pageMeta('<html><head><title> Plain  title </title><meta name="description" content="D"><meta property="og:image" content="javascript:alert(1)"></head><body><meta property="og:title" content="late"></body></html>', 'https://x.example/p');
    assert.deepEqual(m, { title: 'Plain title', description: 'D', siteName: 'x.example', image: null });
  });

  test('a posted link gets a preview with a re-encoded image, for members only', async () => {
    const [ana, ben, cid] = await Promise.all([userClient(allowed, 'ana'), userClient(allowed, 'ben'), userClient(allowed, 'cid')]);
    const channelId = await channelWith(allowed, ana, [ben]);
    const post = await ana.client.post(`/api/chat/channels/${channelId}/messages`, { text: `Read ${siteUrl}/article and ${siteUrl}/data.json, not \`${siteUrl}/code\`` });
    assert.equal(post.status, 201);
    const id = post.json.message.id as string;
    const msg = await eventually(async () => {
      const m = (await ben.client.get(`/api/chat/messages/${id}`)).json.message;
      return m.previews.length ? m : null;
    }, 15_000, 'the preview');
    assert.deepEqual({ ...msg.previews[0], image: null }, { url: `${siteUrl}/article`, title: 'Budget 2027 & plans', description: 'What the council decided <script>', siteName: 'Town hall', image: null });
    assert.equal(msg.previews.length, 1, 'a JSON document has no preview');
    const img = await fetch(`${allowed.url}${msg.previews[0].image}`, { headers: { cookie: ben.client.cookie } });
    assert.equal(img.status, 200);
    assert.equal(img.headers.get('content-type'), 'image/webp');
    assert.equal(img.headers.get('x-content-type-options'), 'nosniff');
    const meta = await sharp(Buffer.from(await img.arrayBuffer())).metadata();
    assert.equal(meta.format, 'webp');
    assert.equal(meta.width, 480);
    assertError(await cid.client.get(msg.previews[0].image), 404, 'not_found');

    // An edit without links removes the previews at once.
    assert.equal((await ana.client.patch(`/api/chat/messages/${id}`, { text: 'no links any more' })).status, 200);
    assert.deepEqual((await ben.client.get(`/api/chat/messages/${id}`)).json.message.previews, []);
  });

  test('pages on private addresses get no preview when the operator did not allow them (SSRF)', async () => {
    const [dan] = await Promise.all([userClient(closed, 'dan')]);
    const channelId = await channelWith(closed, dan, []);
    const before = hits;
    const post = await dan.client.post(`/api/chat/channels/${channelId}/messages`, { text: `${siteUrl}/article http://169.254.169.254/latest/meta-data/` });
    assert.equal(post.status, 201);
    // The job ran (it is gone from the queue) and made nothing; the site was never contacted.
    await eventually(async () => {
      const left = await closed.bastide.platform.db.selectFrom('jobs').select('status').where('name', '=', 'chat.preview').execute();
      return left.length > 0 && left.every((j) => j.status === 'done' || j.status === 'failed');
    }, 15_000, 'the preview job to finish');
    assert.deepEqual((await dan.client.get(`/api/chat/messages/${post.json.message.id}`)).json.message.previews, []);
    assert.equal(hits, before);
  });
});
