import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type ApiClient, type TestServer } from '../../../test/helpers/server.js';
import { assertError, raw, snapshot, userClient } from '../../../test/helpers/api.js';

/** The drive's JSON API over HTTP: list, folders, streamed upload, download with ranges, move, delete. */
describe('drive JSON API', () => {
  let srv: TestServer;
  let nina: ApiClient;
  let omar: ApiClient;

  before(async () => {
    srv = await startTestServer();
    nina = (await userClient(srv, 'nina')).client;
    omar = (await userClient(srv, 'omar')).client;
  });
  after(() => srv.close());

  const q = (p: string) => `?path=${encodeURIComponent(p)}`;
  /** A raw upload with the session cookie and the CSRF token. */
  const upload = (c: ApiClient, path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    raw(srv.url, 'PUT', `/api/drive/content${q(path)}`, { body, headers: { cookie: c.cookie, 'x-csrf-token': c.csrf, 'content-type': 'application/octet-stream', ...headers } });
  const download = (c: ApiClient, path: string, headers: Record<string, string> = {}) => fetch(`${srv.url}/api/drive/content${q(path)}`, { headers: { cookie: c.cookie, ...headers } });

  test('an empty drive lists nothing; folders are created and listed first', async () => {
    assert.deepEqual((await nina.get(`/api/drive/items${q('/')}`)).json, { path: '/', items: [] });
    const f = await nina.post('/api/drive/folders', { path: '/', name: 'Rapports' });
    assert.equal(f.status, 201, JSON.stringify(f.json));
    assert.equal(f.json.item.kind, 'folder');
    assert.equal(f.json.item.name, 'Rapports');
    assertError(await nina.post('/api/drive/folders', { path: '/', name: 'Rapports' }), 409, 'name_taken');
    assertError(await nina.post('/api/drive/folders', { path: '/Absent', name: 'x' }), 409, 'conflict');
    assert.equal((await upload(nina, '/a-note.txt', 'hello')).status, 201);
    const l = (await nina.get(`/api/drive/items${q('/')}`)).json;
    assert.deepEqual(
      l.items.map((i: { name: string; kind: string }) => [i.kind, i.name]),
      [
        ['folder', 'Rapports'],
        ['file', 'a-note.txt'],
      ],
    );
    for (const i of l.items) assert.deepEqual(Object.keys(i).sort(), ['contentType', 'etag', 'id', 'kind', 'name', 'size', 'updatedAt']);
  });

  test('upload streams the raw body (any content type), overwrite answers 200', async () => {
    const body = Buffer.alloc(300_000, 7);
    const r = await upload(nina, '/Rapports/données.bin', body, { 'content-type': 'application/json' });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.equal(r.json.item.size, 300_000);
    assert.equal(r.json.item.contentType, 'application/json');
    const again = await upload(nina, '/Rapports/données.bin', 'small', { 'content-type': 'text/plain' });
    assert.equal(again.status, 200);
    assert.equal(again.json.item.size, 5);
    assert.notEqual(again.json.item.etag, r.json.item.etag);
    const l = (await nina.get(`/api/drive/items${q('/Rapports')}`)).json;
    assert.equal(l.path, '/Rapports');
    assert.deepEqual(l.items.map((i: { name: string }) => i.name), ['données.bin']);
    assertError(await upload(nina, '/Rapports', 'x'), 409, 'conflict');
    assertError(await upload(nina, '/Nowhere/x.txt', 'x'), 409, 'conflict');
    // Without the CSRF header a cookie session cannot upload.
    assertError(await raw(srv.url, 'PUT', `/api/drive/content${q('/x.txt')}`, { body: 'x', headers: { cookie: nina.cookie } }), 403, 'csrf_failed');
    // The rest of the API still takes JSON only.
    assertError(await raw(srv.url, 'POST', '/api/drive/folders', { body: 'x', headers: { cookie: nina.cookie, 'x-csrf-token': nina.csrf, 'content-type': 'application/octet-stream' } }), 415);
  });

  test('download: attachment, nosniff, sandbox, ranges', async () => {
    await upload(nina, '/Rapports/lettre.html', '<script>alert(1)</script>', { 'content-type': 'text/html' });
    const r = await download(nina, '/Rapports/lettre.html');
    assert.equal(r.status, 200);
    assert.equal(await r.text(), '<script>alert(1)</script>');
    assert.match(r.headers.get('content-disposition') ?? '', /^attachment; filename="lettre.html"/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.match(r.headers.get('content-security-policy') ?? '', /sandbox/);
    const part = await download(nina, '/Rapports/lettre.html', { range: 'bytes=1-6' });
    assert.equal(part.status, 206);
    assert.equal(await part.text(), 'script');
    assert.equal(part.headers.get('content-range'), 'bytes 1-6/25');
    assert.equal((await download(nina, '/Rapports/lettre.html', { range: 'bytes=100-' })).status, 416);
    const utf = await download(nina, '/Rapports/données.bin');
    assert.match(utf.headers.get('content-disposition') ?? '', /filename\*=UTF-8''donn%C3%A9es\.bin/);
    assert.equal((await download(nina, '/Rapports')).status, 409);
    assert.equal((await download(nina, '/absent.txt')).status, 404);
  });

  test('move and rename; the destination must be free', async () => {
    const r = await nina.post('/api/drive/move', { from: '/a-note.txt', to: '/Rapports/note.txt' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.item.name, 'note.txt');
    assert.equal(await (await download(nina, '/Rapports/note.txt')).text(), 'hello');
    assertError(await nina.post('/api/drive/move', { from: '/Rapports/note.txt', to: '/Rapports/lettre.html' }), 409, 'name_taken');
    assertError(await nina.post('/api/drive/move', { from: '/Rapports', to: '/Rapports/inside' }), 403, 'forbidden');
    assertError(await nina.post('/api/drive/move', { from: '/absent', to: '/b' }), 404, 'not_found');
    assertError(await nina.post('/api/drive/move', { from: '/Rapports', to: '/' }), 403, 'forbidden');
    assert.equal((await nina.post('/api/drive/move', { from: '/Rapports', to: '/Archives' })).status, 200);
    assert.deepEqual((await nina.get(`/api/drive/items${q('/Archives')}`)).json.items.map((i: { name: string }) => i.name).sort(), ['données.bin', 'lettre.html', 'note.txt']);
  });

  test("another user sees none of it (404), and changes nothing", async () => {
    const before = await snapshot(srv.bastide.platform.db, 'drive_nodes');
    assertError(await omar.get(`/api/drive/items${q('/Archives')}`), 404, 'not_found');
    assert.equal((await download(omar, '/Archives/note.txt')).status, 404);
    assertError(await omar.post('/api/drive/move', { from: '/Archives', to: '/Mine' }), 404, 'not_found');
    assertError(await omar.delete(`/api/drive/items${q('/Archives')}`), 404, 'not_found');
    assertError(await omar.post('/api/drive/folders', { path: '/Archives', name: 'x' }), 409, 'conflict');
    assert.deepEqual((await omar.get(`/api/drive/items${q('/')}`)).json.items, []);
    assert.equal(await snapshot(srv.bastide.platform.db, 'drive_nodes'), before);
    assertError(await raw(srv.url, 'GET', `/api/drive/items${q('/')}`), 401, 'unauthenticated');
  });

  test('bad paths and names are refused', async () => {
    for (const p of ['/..', '/Archives/../x', '/a//b', 'relative', '/./x']) assertError(await nina.get(`/api/drive/items${q(p)}`), 400, 'invalid_name');
    assertError(await nina.get(`/api/drive/items?path=/a%00b`), 400, 'bad_request');
    assertError(await nina.get('/api/drive/items'), 400, 'validation_failed');
    assertError(await nina.post('/api/drive/folders', { path: '/', name: '..' }), 400, 'invalid_name');
    assertError(await nina.post('/api/drive/folders', { path: '/', name: 'a/b' }), 400, 'invalid_name');
    assertError(await nina.post('/api/drive/folders', { path: '/', name: 'a\u0000b' }), 400);
    assertError(await nina.post('/api/drive/folders', { path: '/', name: 'x', extra: 1 }), 400, 'validation_failed');
    assertError(await upload(nina, '/../x.txt', 'x'), 400, 'invalid_name');
    assertError(await upload(nina, '/', 'x'), 403, 'forbidden');
    assertError(await nina.post('/api/drive/move', { from: '/Archives', to: '/../x' }), 400, 'invalid_name');
    assertError(await nina.delete(`/api/drive/items${q('/')}`), 403, 'forbidden');
  });

  test('delete moves a folder and everything in it to the trash; emptying it removes them for good', async () => {
    assert.equal((await nina.delete(`/api/drive/items${q('/Archives')}`)).status, 204);
    assertError(await nina.get(`/api/drive/items${q('/Archives')}`), 404, 'not_found');
    assertError(await nina.delete(`/api/drive/items${q('/Archives')}`), 404, 'not_found');
    assert.deepEqual((await nina.get(`/api/drive/items${q('/')}`)).json.items, []);
    assert.deepEqual((await nina.get('/api/drive/trash')).json.items.map((i: { name: string }) => i.name), ['Archives']);
    assert.equal((await nina.delete('/api/drive/trash')).status, 200);
    assert.equal(await snapshot(srv.bastide.platform.db, 'drive_nodes'), '[]');
  });
});
