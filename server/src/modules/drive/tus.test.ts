import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as tus from 'tus-js-client';
import { startTestServer, ApiClient, type TestServer } from '../../../test/helpers/server.js';
import { assertError, raw, userClient, type Res } from '../../../test/helpers/api.js';
import { tempDir } from '../../../test/helpers/db.js';
import { REPO_ROOT } from '../../../test/helpers/cli.js';
import { ManualClock } from '../../platform/clock.js';
import { TUS_CLEANUP_JOB } from './tus.js';

/**
 * Resumable uploads (tus 1.0.0) at /api/drive/uploads/: creation, chunks, resume after a dropped
 * connection, checksums, termination, expiry and its clean-up job, quota, isolation between users,
 * the real tus-js-client, and a real server process killed with SIGKILL in the middle of an upload.
 */
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const meta = (m: Record<string, string>) =>
  Object.entries(m)
    .map(([k, v]) => `${k} ${b64(v)}`)
    .join(',');
/** Deterministic pseudo-random bytes (so a size says what the content is). */
function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function auth(c: ApiClient): Record<string, string> {
  return { cookie: c.cookie, 'x-csrf-token': c.csrf, 'tus-resumable': '1.0.0' };
}

async function create(srv: TestServer, c: ApiClient, length: number, m: Record<string, string>, extra: Record<string, string> = {}, body?: Buffer): Promise<Res> {
  const headers: Record<string, string> = { ...auth(c), 'upload-length': String(length), 'upload-metadata': meta(m), ...extra };
  if (body) headers['content-type'] = 'application/offset+octet-stream';
  return raw(srv.url, 'POST', '/api/drive/uploads', body ? { headers, body } : { headers });
}

function patch(srv: TestServer, c: ApiClient, location: string, offset: number, body: Buffer, extra: Record<string, string> = {}): Promise<Res> {
  return raw(srv.url, 'PATCH', location, { headers: { ...auth(c), 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream', ...extra }, body });
}

async function head(srv: TestServer, c: ApiClient, location: string): Promise<Response> {
  return fetch(srv.url + location, { method: 'HEAD', headers: auth(c) });
}

async function download(srv: TestServer, c: ApiClient, path: string): Promise<Buffer> {
  const r = await fetch(`${srv.url}/api/drive/content?path=${encodeURIComponent(path)}`, { headers: { cookie: c.cookie } });
  assert.equal(r.status, 200);
  return Buffer.from(await r.arrayBuffer());
}

async function names(c: ApiClient, path: string): Promise<string[]> {
  const r = await c.get(`/api/drive/items?path=${encodeURIComponent(path)}`);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.items.map((i: { name: string }) => i.name);
}

describe('tus uploads', () => {
  let srv: TestServer;
  let nina: ApiClient;
  let omar: ApiClient;
  const tusDir = () => join(srv.config.dataDir, 'tus');

  before(async () => {
    srv = await startTestServer();
    nina = (await userClient(srv, 'nina')).client;
    omar = (await userClient(srv, 'omar')).client;
    assert.equal((await nina.post('/api/drive/folders', { path: '/', name: 'Dépôt' })).status, 201);
  });
  after(() => srv.close());

  test('OPTIONS advertises the version and the extensions', async () => {
    const r = await fetch(`${srv.url}/api/drive/uploads`, { method: 'OPTIONS' });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('tus-version'), '1.0.0');
    assert.deepEqual(r.headers.get('tus-extension')!.split(','), ['creation', 'creation-with-upload', 'termination', 'expiration', 'checksum']);
    assert.ok(r.headers.get('tus-checksum-algorithm')!.split(',').includes('sha1'));
  });

  test('a multi-chunk upload lands in the drive with its content and type, answered with the item', async () => {
    const data = bytes(300_000, 2);
    const c = await create(srv, nina, data.length, { filename: 'rapport annuel.pdf', folder: '/Dépôt', filetype: 'application/pdf' });
    assert.equal(c.status, 201, JSON.stringify(c.json));
    assert.equal(c.headers.get('tus-resumable'), '1.0.0');
    const location = c.headers.get('location')!;
    assert.match(location, /^\/api\/drive\/uploads\/[a-f0-9]{32}$/);
    assert.ok(Date.parse(c.headers.get('upload-expires')!) > Date.now());
    const chunks = [data.subarray(0, 100_000), data.subarray(100_000, 250_000), data.subarray(250_000)];
    let offset = 0;
    for (const [i, chunk] of chunks.entries()) {
      const r = await patch(srv, nina, location, offset, chunk);
      offset += chunk.length;
      assert.equal(r.headers.get('upload-offset'), String(offset));
      if (i < chunks.length - 1) {
        assert.equal(r.status, 204);
        // Not in the drive before the last byte.
        assert.deepEqual(await names(nina, '/Dépôt'), []);
      } else {
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.equal(r.json.item.name, 'rapport annuel.pdf');
        assert.equal(r.json.item.size, data.length);
        assert.equal(r.json.item.contentType, 'application/pdf');
      }
    }
    assert.equal(sha(await download(srv, nina, '/Dépôt/rapport annuel.pdf')), sha(data));
    // The partial file is gone; HEAD and GET still tell the (finished) state until expiry.
    const id = location.split('/').at(-1)!;
    assert.ok(!(await readdir(tusDir())).includes(id));
    const h = await head(srv, nina, location);
    assert.equal(h.status, 200);
    assert.equal(h.headers.get('upload-offset'), String(data.length));
    assert.equal(h.headers.get('upload-length'), String(data.length));
    assert.equal(h.headers.get('cache-control'), 'no-store');
    const g = await nina.get(location);
    assert.equal(g.json.item.name, 'rapport annuel.pdf');
    // A late duplicate of the last PATCH at the final offset answers the item again; nothing is written twice.
    const again = await patch(srv, nina, location, data.length, Buffer.alloc(0));
    assert.equal(again.status, 200);
    assert.equal(again.json.item.etag, g.json.item.etag);
  });

  test('creation-with-upload: a small file in one request; an empty file too', async () => {
    const c = await create(srv, nina, 5, { filename: 'note.txt', filetype: 'text/plain' }, {}, Buffer.from('hello'));
    assert.equal(c.status, 201, JSON.stringify(c.json));
    assert.equal(c.headers.get('upload-offset'), '5');
    assert.equal(c.json.item.name, 'note.txt');
    assert.equal((await download(srv, nina, '/note.txt')).toString(), 'hello');
    const e = await create(srv, nina, 0, { filename: 'vide.txt' });
    assert.equal(e.status, 201);
    assert.equal(e.json.item.size, 0);
    // Part of the file with the creation, the rest by PATCH.
    const data = bytes(50_000, 3);
    const p = await create(srv, nina, data.length, { filename: 'part.bin' }, {}, data.subarray(0, 20_000));
    assert.equal(p.status, 201);
    assert.equal(p.headers.get('upload-offset'), '20000');
    assert.equal(p.json, null);
    const r = await patch(srv, nina, p.headers.get('location')!, 20_000, data.subarray(20_000));
    assert.equal(r.status, 200);
    assert.equal(sha(await download(srv, nina, '/part.bin')), sha(data));
  });

  test('the connection drops mid-chunk: HEAD gives the offset of what arrived, PATCH continues', async () => {
    const data = bytes(400_000, 4);
    const c = await create(srv, nina, data.length, { filename: 'coupé.bin', folder: '/Dépôt' });
    const location = c.headers.get('location')!;
    const sent = 150_000;
    // A PATCH that announces the whole file, sends part of it and then loses its connection.
    const req = request(srv.url + location, { method: 'PATCH', headers: { ...auth(nina), 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'content-length': String(data.length) } });
    req.on('error', () => undefined);
    await new Promise<void>((resolve) => req.write(data.subarray(0, sent), () => resolve()));
    // Wait until the server has written what was sent (GET does not disturb the running PATCH).
    for (let i = 0; i < 200 && (await nina.get(location)).json.offset < sent; i++) await new Promise((r) => setTimeout(r, 20));
    req.destroy();
    const h = await head(srv, nina, location);
    assert.equal(h.status, 200);
    const offset = Number(h.headers.get('upload-offset'));
    assert.equal(offset, sent);
    // Resuming at a wrong offset is a 409 that says where to resume.
    const wrong = await patch(srv, nina, location, 0, data.subarray(0, 10));
    assertError(wrong, 409, 'conflict');
    assert.equal(wrong.headers.get('upload-offset'), String(sent));
    assertError(await patch(srv, nina, location, sent + 10, data.subarray(sent + 10)), 409, 'conflict');
    const r = await patch(srv, nina, location, offset, data.subarray(offset));
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(sha(await download(srv, nina, '/Dépôt/coupé.bin')), sha(data));
  });

  test('a client that comes back while its old PATCH still hangs takes over the upload', async () => {
    const data = bytes(200_000, 5);
    const c = await create(srv, nina, data.length, { filename: 'repris.bin' });
    const location = c.headers.get('location')!;
    const req = request(srv.url + location, { method: 'PATCH', headers: { ...auth(nina), 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'content-length': String(data.length) } });
    req.on('error', () => undefined);
    await new Promise<void>((resolve) => req.write(data.subarray(0, 64_000), () => resolve()));
    for (let i = 0; i < 200 && (await nina.get(location)).json.offset < 64_000; i++) await new Promise((r) => setTimeout(r, 20));
    // The old request is still open: HEAD stops it and reports a stable offset.
    const h = await head(srv, nina, location);
    const offset = Number(h.headers.get('upload-offset'));
    assert.equal(offset, 64_000);
    const r = await patch(srv, nina, location, offset, data.subarray(offset));
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(sha(await download(srv, nina, '/repris.bin')), sha(data));
  });

  test('only the creator may inspect, continue or terminate an upload', async () => {
    const c = await create(srv, nina, 10, { filename: 'privé.txt' });
    const location = c.headers.get('location')!;
    assert.equal((await head(srv, omar, location)).status, 404);
    assertError(await patch(srv, omar, location, 0, Buffer.from('0123456789')), 404, 'not_found');
    assertError(await raw(srv.url, 'DELETE', location, { headers: auth(omar) }), 404, 'not_found');
    assertError(await omar.get(location), 404, 'not_found');
    // Nobody signed in: 401.
    assertError(await raw(srv.url, 'PATCH', location, { headers: { 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, body: 'x' }), 401, 'unauthenticated');
    assert.equal((await fetch(srv.url + location, { method: 'HEAD', headers: { 'tus-resumable': '1.0.0' } })).status, 401);
    // Nothing moved: the upload is still at 0 and finishes for its creator, in her drive only.
    assert.equal((await head(srv, nina, location)).headers.get('upload-offset'), '0');
    assert.equal((await patch(srv, nina, location, 0, Buffer.from('0123456789'))).status, 200);
    assert.ok((await names(nina, '/')).includes('privé.txt'));
    assert.ok(!(await names(omar, '/')).includes('privé.txt'));
    // Another user's space (or one that does not exist) is not a target.
    assertError(await create(srv, omar, 1, { filename: 'x', drive: 'space:nope' }), 404, 'not_found');
  });

  test("a space's drive: its members upload there, others do not see it", async () => {
    const sp = await nina.post('/api/spaces', { name: 'Envois communs', visibility: 'secret' });
    assert.equal(sp.status, 201, JSON.stringify(sp.json));
    const drive = `space:${sp.json.space.id}`;
    const c = await create(srv, nina, 7, { filename: 'commun.txt', drive, filetype: 'text/plain' }, {}, Buffer.from('commun!'));
    assert.equal(c.status, 201, JSON.stringify(c.json));
    const l = await nina.get(`/api/drive/items?path=%2F&drive=${encodeURIComponent(drive)}`);
    assert.deepEqual(l.json.items.map((i: { name: string }) => i.name), ['commun.txt']);
    assert.ok(!(await names(nina, '/')).includes('commun.txt'));
    assertError(await create(srv, omar, 1, { filename: 'intrus.txt', drive }), 404, 'not_found');
  });

  test('bad requests are refused with a clear 4xx and create nothing', async () => {
    const before = (await readdir(tusDir())).length;
    const noVersion = await raw(srv.url, 'POST', '/api/drive/uploads', { headers: { cookie: nina.cookie, 'x-csrf-token': nina.csrf, 'upload-length': '1', 'upload-metadata': meta({ filename: 'a' }) } });
    assertError(noVersion, 412, 'precondition_failed');
    assert.equal(noVersion.headers.get('tus-version'), '1.0.0');
    assertError(await create(srv, nina, 1, {}), 400, 'bad_request');
    assertError(await raw(srv.url, 'POST', '/api/drive/uploads', { headers: { ...auth(nina), 'upload-metadata': meta({ filename: 'a' }) } }), 400, 'bad_request');
    assertError(await raw(srv.url, 'POST', '/api/drive/uploads', { headers: { ...auth(nina), 'upload-length': '-1', 'upload-metadata': meta({ filename: 'a' }) } }), 400, 'bad_request');
    assertError(await raw(srv.url, 'POST', '/api/drive/uploads', { headers: { ...auth(nina), 'upload-length': '1', 'upload-defer-length': '1', 'upload-metadata': meta({ filename: 'a' }) } }), 400, 'bad_request');
    assertError(await raw(srv.url, 'POST', '/api/drive/uploads', { headers: { ...auth(nina), 'upload-length': '1', 'upload-metadata': 'filename !!!' } }), 400, 'bad_request');
    assertError(await raw(srv.url, 'POST', '/api/drive/uploads', { headers: { ...auth(nina), 'upload-length': '1', 'upload-metadata': `filename ${b64('a')},filename ${b64('b')}` } }), 400, 'bad_request');
    assertError(await create(srv, nina, 1, { filename: '..' }), 400, 'invalid_name');
    assertError(await create(srv, nina, 1, { filename: 'a/b' }), 400, 'invalid_name');
    assertError(await create(srv, nina, 1, { filename: 'a', folder: '/../etc' }), 400, 'invalid_name');
    assertError(await create(srv, nina, 1, { filename: 'a', folder: '/Absent' }), 409, 'conflict');
    assertError(await create(srv, nina, 1, { filename: 'Dépôt' }), 409, 'conflict');
    assertError(await create(srv, nina, 1, { filename: 'a', drive: 'mars' }), 400, 'bad_request');
    // Without the CSRF token a cookie session cannot create.
    assertError(await raw(srv.url, 'POST', '/api/drive/uploads', { headers: { cookie: nina.cookie, 'tus-resumable': '1.0.0', 'upload-length': '1', 'upload-metadata': meta({ filename: 'a' }) } }), 403, 'csrf_failed');
    assert.equal((await readdir(tusDir())).length, before);
    // PATCH: wrong content type, no offset, past the end, unknown upload.
    const c = await create(srv, nina, 4, { filename: 'quatre.txt' });
    const location = c.headers.get('location')!;
    assertError(await patch(srv, nina, location, 0, Buffer.from('abcd'), { 'content-type': 'application/octet-stream' }), 415, 'unsupported_media_type');
    assertError(await raw(srv.url, 'PATCH', location, { headers: { ...auth(nina), 'content-type': 'application/offset+octet-stream' }, body: 'abcd' }), 400, 'bad_request');
    assertError(await patch(srv, nina, location, 0, Buffer.from('abcdef')), 413, 'payload_too_large');
    assert.equal((await head(srv, nina, location)).headers.get('upload-offset'), '0');
    assertError(await patch(srv, nina, '/api/drive/uploads/0123456789abcdef0123456789abcdef', 0, Buffer.from('abcd')), 404, 'not_found');
    assertError(await patch(srv, nina, '/api/drive/uploads/..%2F..%2Fetc', 0, Buffer.from('abcd')), 400, 'validation_failed');
    assert.equal((await patch(srv, nina, location, 0, Buffer.from('abcd'))).status, 200);
  });

  test('checksums: a mismatching chunk is refused with 460 and not kept; a matching one is', async () => {
    const data = bytes(30_000, 6);
    const c = await create(srv, nina, data.length, { filename: 'vérifié.bin' });
    const location = c.headers.get('location')!;
    const first = data.subarray(0, 10_000);
    const bad = await patch(srv, nina, location, 0, first, { 'upload-checksum': `sha1 ${createHash('sha1').update('autre chose').digest('base64')}` });
    assertError(bad, 460, 'checksum_mismatch');
    assert.equal((await head(srv, nina, location)).headers.get('upload-offset'), '0');
    assertError(await patch(srv, nina, location, 0, first, { 'upload-checksum': `crc32 AAAA` }), 400, 'bad_request');
    const ok = await patch(srv, nina, location, 0, first, { 'upload-checksum': `sha1 ${createHash('sha1').update(first).digest('base64')}` });
    assert.equal(ok.status, 204);
    const rest = data.subarray(10_000);
    const done = await patch(srv, nina, location, 10_000, rest, { 'upload-checksum': `sha256 ${createHash('sha256').update(rest).digest('base64')}` });
    assert.equal(done.status, 200);
    assert.equal(sha(await download(srv, nina, '/vérifié.bin')), sha(data));
  });

  test('termination removes the upload and its bytes', async () => {
    const c = await create(srv, nina, 100, { filename: 'abandon.txt' }, {}, Buffer.alloc(40, 1));
    const location = c.headers.get('location')!;
    const id = location.split('/').at(-1)!;
    assert.ok((await readdir(tusDir())).includes(id));
    const d = await raw(srv.url, 'DELETE', location, { headers: auth(nina) });
    assert.equal(d.status, 204);
    assert.equal((await head(srv, nina, location)).status, 404);
    assert.ok(!(await readdir(tusDir())).some((n) => n.startsWith(id)));
    assert.ok(!(await names(nina, '/')).includes('abandon.txt'));
  });

  test('quota: an upload that cannot fit is refused at creation with quota_exceeded', async () => {
    const before = (await readdir(tusDir())).length;
    const r = await create(srv, nina, 11 * 1024 ** 3, { filename: 'énorme.iso' });
    assertError(r, 507, 'quota_exceeded');
    assert.equal((await readdir(tusDir())).length, before);
  });

  test('bytes all on disk but never put in the drive (the process died in between): HEAD finishes it, once', async () => {
    const data = bytes(20_000, 7);
    const c = await create(srv, nina, data.length, { filename: 'rattrapé.bin', folder: '/Dépôt' }, {}, data.subarray(0, 5_000));
    const location = c.headers.get('location')!;
    // What a PATCH that crashed after writing its last byte leaves behind.
    await appendFile(join(tusDir(), location.split('/').at(-1)!), data.subarray(5_000));
    const h = await head(srv, nina, location);
    assert.equal(h.status, 200);
    assert.equal(h.headers.get('upload-offset'), String(data.length));
    const item = (await nina.get(location)).json.item;
    assert.equal(item.name, 'rattrapé.bin');
    assert.equal(sha(await download(srv, nina, '/Dépôt/rattrapé.bin')), sha(data));
    await head(srv, nina, location);
    const l = await nina.get(`/api/drive/items?path=${encodeURIComponent('/Dépôt')}`);
    const same = l.json.items.filter((i: { name: string }) => i.name === 'rattrapé.bin');
    assert.equal(same.length, 1);
    assert.equal(same[0].etag, item.etag);
  });

  test('the file reached the drive but the upload did not record it (the process died in between): no second write', async () => {
    const data = bytes(12_000, 10);
    const c = await create(srv, nina, data.length, { filename: 'une fois.bin', folder: '/Dépôt' }, {}, data);
    assert.equal(c.status, 201);
    const first = c.json.item;
    const location = c.headers.get('location')!;
    const id = location.split('/').at(-1)!;
    // Put the upload back in the state a crash right after putFile's commit leaves: bytes there, no item.
    const infoPath = join(tusDir(), `${id}.json`);
    const info = JSON.parse(await readFile(infoPath, 'utf8'));
    delete info.item;
    await writeFile(infoPath, JSON.stringify(info));
    await writeFile(join(tusDir(), id), data);
    const h = await head(srv, nina, location);
    assert.equal(h.headers.get('upload-offset'), String(data.length));
    const g = await nina.get(location);
    assert.equal(g.json.item.id, first.id);
    assert.equal(g.json.item.etag, first.etag, 'the file was not written a second time');
    const v = await nina.get(`/api/drive/versions?path=${encodeURIComponent('/Dépôt/une fois.bin')}`);
    assert.equal(v.status, 200, JSON.stringify(v.json));
    assert.deepEqual(v.json.versions, [], 'no version made by a second write');
    assert.ok(!(await readdir(tusDir())).includes(id), 'the partial file is gone');
  });

  test('tus-js-client (Node) uploads in chunks and gets the item', async () => {
    const data = bytes(700_000, 8);
    const progress: number[] = [];
    const body = await new Promise<string>((resolve, reject) => {
      const up = new tus.Upload(data, {
        endpoint: `${srv.url}/api/drive/uploads`,
        chunkSize: 256 * 1024,
        metadata: { filename: 'client tus.bin', folder: '/Dépôt', filetype: 'application/octet-stream' },
        headers: { cookie: nina.cookie, 'x-csrf-token': nina.csrf },
        retryDelays: [],
        onProgress: (sent, total) => progress.push(sent / total),
        onError: reject,
        onSuccess: (payload) => resolve(payload.lastResponse.getBody()),
      });
      up.start();
    });
    assert.equal(JSON.parse(body).item.name, 'client tus.bin');
    assert.equal(progress.at(-1), 1);
    assert.equal(sha(await download(srv, nina, '/Dépôt/client tus.bin')), sha(data));
  });
});

describe('tus quota', () => {
  let srv: TestServer;
  let nina: ApiClient;
  before(async () => {
    srv = await startTestServer({ config: { driveQuotaBytes: 1000 } });
    nina = (await userClient(srv, 'nina')).client;
  });
  after(() => srv.close());

  test('checked at creation, and again when the last byte arrives (two uploads that each fit, not both)', async () => {
    assertError(await create(srv, nina, 1001, { filename: 'trop.bin' }), 507, 'quota_exceeded');
    const a = await create(srv, nina, 600, { filename: 'a.bin' });
    const b = await create(srv, nina, 600, { filename: 'b.bin' });
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.equal((await patch(srv, nina, a.headers.get('location')!, 0, Buffer.alloc(600, 1))).status, 200);
    assertError(await patch(srv, nina, b.headers.get('location')!, 0, Buffer.alloc(600, 2)), 507, 'quota_exceeded');
    // The refused upload is over (its bytes are gone); the drive holds only the first file.
    assert.equal((await head(srv, nina, b.headers.get('location')!)).status, 404);
    assert.deepEqual(await names(nina, '/'), ['a.bin']);
    assert.ok(!(await readdir(join(srv.config.dataDir, 'tus'))).includes(b.headers.get('location')!.split('/').at(-1)!));
  });
});

describe('tus expiry', () => {
  let srv: TestServer;
  let nina: ApiClient;
  const clock = new ManualClock(Date.now());

  before(async () => {
    srv = await startTestServer({ clock });
    nina = (await userClient(srv, 'nina')).client;
  });
  after(() => srv.close());

  test('an upload untouched for 24 h expires (410) and the clean-up job removes its bytes', async () => {
    const tusDir = join(srv.config.dataDir, 'tus');
    const a = await create(srv, nina, 100, { filename: 'a.bin' }, {}, Buffer.alloc(10));
    const b = await create(srv, nina, 100, { filename: 'b.bin' }, {}, Buffer.alloc(10));
    const ida = a.headers.get('location')!.split('/').at(-1)!;
    const idb = b.headers.get('location')!.split('/').at(-1)!;
    const expires = Date.parse(a.headers.get('upload-expires')!);
    assert.ok(expires > clock.now() + 23 * 3600_000 && expires <= clock.now() + 24 * 3600_000);
    // Activity renews: b is patched 12 h later.
    clock.advance(12 * 3600_000);
    assert.equal((await patch(srv, nina, b.headers.get('location')!, 10, Buffer.alloc(10))).status, 204);
    clock.advance(13 * 3600_000);
    assertError(await patch(srv, nina, a.headers.get('location')!, 10, Buffer.alloc(10)), 410, 'upload_expired');
    assert.equal((await head(srv, nina, b.headers.get('location')!)).headers.get('upload-offset'), '20');
    // A partial upload nobody asks about again is removed by the job.
    const c = await create(srv, nina, 100, { filename: 'c.bin' }, {}, Buffer.alloc(10));
    const idc = c.headers.get('location')!.split('/').at(-1)!;
    clock.advance(25 * 3600_000);
    const pending = await srv.bastide.platform.db.selectFrom('jobs').select('id').where('name', '=', TUS_CLEANUP_JOB).where('status', '=', 'queued').execute();
    assert.equal(pending.length, 1);
    assert.ok((await srv.bastide.platform.jobs.runDue()) >= 1);
    const left = await readdir(tusDir);
    for (const id of [ida, idb, idc]) assert.ok(!left.some((n) => n.startsWith(id)), `${id} removed`);
    assertError(await nina.get(c.headers.get('location')!), 404, 'not_found');
  });
});

/**
 * Crash safety: a real server process (SQLite) is killed with SIGKILL while a large PATCH streams in.
 * After a restart on the same data folder, HEAD gives what reached the disk, the rest is sent, and the
 * file arrives whole, exactly once.
 */
describe('tus upload through a kill -9', () => {
  const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/crash-server.ts', import.meta.url));
  const ADMIN_PASSWORD = 'Crash-Boss-Pass-4242';
  const dataDir = tempDir('bastide-tus-crash-');
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  async function startServer(): Promise<{ child: ChildProcess; url: string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }> {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BASTIDE_') && k !== 'DATABASE_URL' && k !== 'NODE_TEST_CONTEXT') env[k] = v;
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
      cwd: REPO_ROOT,
      env: { ...env, NODE_ENV: 'test', BASTIDE_DATA: dataDir, CRASH_ADMIN_PASSWORD: ADMIN_PASSWORD },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const lines = createInterface({ input: child.stdout! });
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 60_000);
      lines.once('line', (line) => {
        clearTimeout(t);
        resolve((JSON.parse(line) as { url: string }).url);
      });
      void exited.then((e) => reject(new Error(`server exited early (${e.code ?? e.signal}): ${stderr}`)));
    });
    return { child, url, exited };
  }

  test('kill -9 during a large PATCH: restart, HEAD, resume, the file arrives whole exactly once', async () => {
    const SIZE = 64 * 1024 * 1024;
    const data = bytes(SIZE, 9);
    const first = await startServer();
    const admin = new ApiClient(first.url);
    await admin.login('admin', ADMIN_PASSWORD);
    const c = await raw(first.url, 'POST', '/api/drive/uploads', {
      headers: { ...auth(admin), 'upload-length': String(SIZE), 'upload-metadata': meta({ filename: 'gros fichier.bin', filetype: 'application/octet-stream' }) },
    });
    assert.equal(c.status, 201, JSON.stringify(c.json));
    const location = c.headers.get('location')!;

    // Stream the whole file in one PATCH; kill the server once a good part of it has been written.
    const req = request(first.url + location, { method: 'PATCH', headers: { ...auth(admin), 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'content-length': String(SIZE) } });
    const failed = new Promise<void>((resolve) => req.on('error', () => resolve()));
    const CHUNK = 1024 * 1024;
    let written = 0;
    let killed = false;
    const watcher = (async () => {
      while (!killed) {
        const s = await admin.get(location).catch(() => null);
        if (s && s.status === 200 && s.json.offset >= SIZE / 4) {
          killed = true;
          first.child.kill('SIGKILL');
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    while (written < SIZE && !killed) {
      const part = data.subarray(written, written + CHUNK);
      written += part.length;
      if (!req.write(part)) {
        await new Promise<void>((resolve) => {
          const go = () => {
            req.off('drain', go).off('close', go);
            resolve();
          };
          req.on('drain', go).on('close', go);
        });
      }
    }
    await watcher;
    await failed;
    assert.equal((await first.exited).signal, 'SIGKILL');

    const second = await startServer();
    try {
      const again = new ApiClient(second.url);
      await again.login('admin', ADMIN_PASSWORD);
      const h = await fetch(second.url + location, { method: 'HEAD', headers: auth(again) });
      assert.equal(h.status, 200);
      const offset = Number(h.headers.get('upload-offset'));
      assert.ok(offset >= SIZE / 4 && offset < SIZE, `resumes at ${offset}`);
      assert.deepEqual(await names(again, '/'), [], 'nothing half-visible in the drive');
      const r = await raw(second.url, 'PATCH', location, {
        headers: { ...auth(again), 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' },
        body: data.subarray(offset),
      });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.item.size, SIZE);
      assert.deepEqual(await names(again, '/'), ['gros fichier.bin']);
      assert.equal(sha(await download({ url: second.url } as TestServer, again, '/gros fichier.bin')), sha(data));
      // Asking again changes nothing.
      assert.equal((await fetch(second.url + location, { method: 'HEAD', headers: auth(again) })).headers.get('upload-offset'), String(SIZE));
      assert.deepEqual(await names(again, '/'), ['gros fichier.bin']);
    } finally {
      second.child.kill('SIGTERM');
      assert.equal((await second.exited).code, 0, 'graceful stop');
    }
  });
});
