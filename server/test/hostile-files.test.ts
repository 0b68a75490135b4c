import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type ApiClient, type TestServer } from './helpers/server.js';
import { raw, userClient } from './helpers/api.js';
import { createAppPassword } from '../src/modules/identity/commands/credentials.js';

/**
 * What users upload never runs in Bastide's origin. Every route that hands out a file's bytes — the JSON
 * download, a share, a version, a public link, WebDAV GET — answers as an attachment, never sniffed, with
 * a CSP sandbox in case a browser renders it anyway. The browser side (nothing runs when each route is
 * opened in Chromium) is e2e/drive-hostile.e2e.ts.
 */
export const HOSTILE: Array<{ name: string; type: string; body: string }> = [
  { name: 'page.html', type: 'text/html', body: '<!doctype html><script>fetch("/hostile-marker?html")</script><h1>hi</h1>' },
  { name: 'image.svg', type: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg" onload="fetch(\'/hostile-marker?svg\')"><script>fetch("/hostile-marker?svg2")</script></svg>' },
  { name: 'report.pdf', type: 'application/pdf', body: '<html><body onload="fetch(\'/hostile-marker?pdf\')"><script>fetch("/hostile-marker?pdf2")</script></body></html>' },
  { name: 'invoice\u202Efdp.exe', type: 'application/octet-stream', body: 'MZ not really a program' },
];

describe('hostile files on every route', () => {
  let srv: TestServer;
  let eve: ApiClient;
  let davAuth = '';

  before(async () => {
    srv = await startTestServer();
    const u = await userClient(srv, 'eve');
    eve = u.client;
    const { password } = await createAppPassword({ platform: srv.bastide.platform, actor: { kind: 'system' } }, { userId: u.id, name: 'dav', scopes: ['dav'] });
    davAuth = `Basic ${Buffer.from(`eve:${password}`).toString('base64')}`;
  });
  after(() => srv.close());

  const q = (p: string) => `?path=${encodeURIComponent(p)}`;

  function assertInert(h: Headers, name: string, route: string): void {
    const cd = h.get('content-disposition') ?? '';
    assert.match(cd, /^attachment;/, `${route} ${name}: ${cd}`);
    // The plain filename is ASCII only: the right-to-left override cannot reorder what the user sees there.
    assert.doesNotMatch(cd.split(';')[1] ?? '', /[^\x20-\x7e]/, `${route}: ${cd}`);
    assert.match(cd, new RegExp(`filename\\*=UTF-8''${encodeURIComponent(name).replace(/[()*']/g, '\\$&')}`), `${route}: ${cd}`);
    assert.equal(h.get('x-content-type-options'), 'nosniff', route);
    assert.match(h.get('content-security-policy') ?? '', /sandbox/, route);
    assert.match(h.get('content-security-policy') ?? '', /default-src 'none'/, route);
  }

  test('download, share, version, public link and WebDAV GET all answer as inert attachments', async () => {
    assert.equal((await eve.post('/api/drive/folders', { path: '/', name: 'box' })).status, 201);
    for (const f of HOSTILE) {
      for (const version of ['old', f.body]) {
        const r = await raw(srv.url, 'PUT', `/api/drive/content${q(`/box/${f.name}`)}`, { body: version, headers: { cookie: eve.cookie, 'x-csrf-token': eve.csrf, 'content-type': f.type } });
        assert.ok(r.status === 201 || r.status === 200, JSON.stringify(r.json));
      }
    }
    const link = (await eve.post('/api/drive/links', { path: '/box', mode: 'read' })).json.link as { url: string };
    const token = link.url.split('/s/')[1]!;
    const other = await userClient(srv, 'victim');
    const share = await eve.post('/api/drive/shares', { path: '/box', granteeType: 'user', granteeId: other.id, permission: 'read' });
    for (const f of HOSTILE) {
      const path = `/box/${f.name}`;
      const versions = (await eve.get(`/api/drive/versions${q(path)}`)).json.versions as { id: string }[];
      const routes: Array<[string, string, Record<string, string>]> = [
        ['download', `/api/drive/content${q(path)}`, { cookie: eve.cookie }],
        ['share', `/api/drive/content${q(`/${f.name}`)}&drive=share:${share.json.id}`, { cookie: other.client.cookie }],
        ['version', `/api/drive/versions/${versions[0]!.id}/content${q(path)}`, { cookie: eve.cookie }],
        ['public link', `/api/public/links/${token}/content${q(`/${f.name}`)}`, {}],
        ['webdav', `/dav/files/eve/box/${encodeURIComponent(f.name)}`, { authorization: davAuth }],
      ];
      for (const [route, url, headers] of routes) {
        const r = await fetch(`${srv.url}${url}`, { headers });
        assert.equal(r.status, 200, `${route} ${f.name}: ${r.status}`);
        assertInert(r.headers, f.name, route);
        await r.arrayBuffer();
      }
    }
  });

  test('hostile names are refused or kept as data, never as paths', async () => {
    const bad = ['..', '.', 'a/b', 'nul\u0000byte', 'tab\tname', 'x'.repeat(256)];
    for (const name of bad) {
      const r = await eve.post('/api/drive/folders', { path: '/', name });
      assert.equal(r.status, 400, `${JSON.stringify(name)} → ${r.status}`);
    }
    // Every Unicode normalisation form of one name is the same name (NFC), so no look-alike duplicates.
    const forms = ['Café', 'Cafe\u0301'];
    assert.equal((await eve.post('/api/drive/folders', { path: '/', name: forms[0] })).status, 201);
    assert.equal((await eve.post('/api/drive/folders', { path: '/', name: forms[1] })).status, 409);
    const names = ((await eve.get(`/api/drive/items${q('/')}`)).json.items as { name: string }[]).map((i) => i.name);
    assert.equal(names.filter((n) => n.normalize('NFC') === 'Café').length, 1);
  });
});
