import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { startTestServer, type ApiClient, type TestServer } from '../../../test/helpers/server.js';
import { assertError, raw, userClient } from '../../../test/helpers/api.js';
import { archiveSegment, uniqueName } from './transfer.js';

/**
 * Folders and selections downloaded as one streamed zip: structure, content checksums, UTF-8 names with
 * the zip's UTF-8 flag, empty folders kept, attachment headers and the exact Content-Length, and the 4xx
 * answers for bad paths, missing items and other people's drives.
 */
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

interface UnzippedEntry {
  name: string;
  utf8Flag: boolean;
  dir: boolean;
  content: Buffer;
}

/** Every entry of a zip held in memory (tests only), with its content and flags. */
function unzip(buf: Buffer): Promise<UnzippedEntry[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true, decodeStrings: true, validateEntrySizes: true, strictFileNames: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('no zip'));
      const out: UnzippedEntry[] = [];
      zip.on('error', reject);
      zip.on('end', () => resolve(out));
      zip.on('entry', (e: yauzl.Entry) => {
        const utf8Flag = (e.generalPurposeBitFlag & 0x800) !== 0;
        if (e.fileName.endsWith('/')) {
          out.push({ name: e.fileName, utf8Flag, dir: true, content: Buffer.alloc(0) });
          return zip.readEntry();
        }
        zip.openReadStream(e, (er, s) => {
          if (er || !s) return reject(er ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          (s as Readable).on('data', (c: Buffer) => chunks.push(c));
          s.on('error', reject);
          s.on('end', () => {
            out.push({ name: e.fileName, utf8Flag, dir: false, content: Buffer.concat(chunks) });
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

describe('drive zip downloads', () => {
  let srv: TestServer;
  let nina: ApiClient;
  let omar: ApiClient;
  const big = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
  const unicode = 'été ü 日本 🚀.txt';

  const put = async (c: ApiClient, path: string, body: string | Buffer, drive?: string) => {
    const r = await raw(srv.url, 'PUT', `/api/drive/content?path=${encodeURIComponent(path)}${drive ? `&drive=${encodeURIComponent(drive)}` : ''}`, {
      body,
      headers: { cookie: c.cookie, 'x-csrf-token': c.csrf, 'content-type': 'text/plain' },
    });
    assert.ok(r.status === 201 || r.status === 200, JSON.stringify(r.json));
  };
  const folder = async (c: ApiClient, path: string, name: string, drive?: string) => {
    const r = await c.post(`/api/drive/folders${drive ? `?drive=${encodeURIComponent(drive)}` : ''}`, { path, name });
    assert.equal(r.status, 201, JSON.stringify(r.json));
  };
  const zip = (c: ApiClient, query: string) => fetch(`${srv.url}/api/drive/zip?${query}`, { headers: { cookie: c.cookie } });
  const q = (...paths: string[]) => paths.map((p) => `path=${encodeURIComponent(p)}`).join('&');

  before(async () => {
    srv = await startTestServer();
    nina = (await userClient(srv, 'nina')).client;
    omar = (await userClient(srv, 'omar')).client;
    await folder(nina, '/', 'Docs');
    await folder(nina, '/Docs', 'sub');
    await folder(nina, '/Docs', 'vide');
    await folder(nina, '/Docs/vide', 'encore plus vide');
    await put(nina, '/Docs/a.txt', 'alpha');
    await put(nina, '/Docs/empty.txt', '');
    await put(nina, `/Docs/${unicode}`, 'unicode');
    await put(nina, '/Docs/sub/gros.bin', big);
    await put(nina, '/top.txt', 'top');
    await put(nina, '/a\\b.txt', 'backslash');
  });
  after(() => srv.close());

  test('a folder as a zip: its tree under its name, empty folders kept, checksums equal, UTF-8 names flagged', async () => {
    const r = await zip(nina, q('/Docs'));
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/zip');
    assert.equal(r.headers.get('content-disposition'), `attachment; filename="Docs.zip"; filename*=UTF-8''Docs.zip`);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    const body = Buffer.from(await r.arrayBuffer());
    assert.equal(Number(r.headers.get('content-length')), body.length, 'the announced length is exact');
    const entries = await unzip(body);
    const byName = new Map(entries.map((e) => [e.name, e]));
    assert.deepEqual(
      [...byName.keys()].sort(),
      ['Docs/', 'Docs/a.txt', 'Docs/empty.txt', `Docs/${unicode}`, 'Docs/sub/', 'Docs/sub/gros.bin', 'Docs/vide/', 'Docs/vide/encore plus vide/'].sort(),
    );
    for (const e of entries) assert.ok(e.utf8Flag, `${e.name} carries the UTF-8 flag`);
    assert.equal(byName.get('Docs/a.txt')!.content.toString(), 'alpha');
    assert.equal(byName.get('Docs/empty.txt')!.content.length, 0);
    assert.equal(byName.get(`Docs/${unicode}`)!.content.toString(), 'unicode');
    assert.equal(sha(byName.get('Docs/sub/gros.bin')!.content), sha(big));
  });

  test('the whole drive: content at the top; a name with a backslash stays one file', async () => {
    const r = await zip(nina, q('/'));
    assert.equal(r.status, 200);
    const names = (await unzip(Buffer.from(await r.arrayBuffer()))).map((e) => e.name);
    assert.ok(names.includes('Docs/sub/gros.bin'));
    assert.ok(names.includes('top.txt'));
    assert.ok(names.includes('a_b.txt'), names.join(', '));
  });

  test('a selection (GET with several paths, or POST): each item at the top; nested picks counted once', async () => {
    const r = await zip(nina, q('/Docs/a.txt', '/top.txt', '/Docs/sub', '/Docs/sub/gros.bin'));
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-disposition')!, /filename="selection.zip"/);
    const entries = await unzip(Buffer.from(await r.arrayBuffer()));
    assert.deepEqual(entries.map((e) => e.name).sort(), ['a.txt', 'sub/', 'sub/gros.bin', 'top.txt']);
    const p = await fetch(`${srv.url}/api/drive/zip`, {
      method: 'POST',
      headers: { cookie: nina.cookie, 'x-csrf-token': nina.csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ paths: ['/Docs/a.txt', '/top.txt'] }),
    });
    assert.equal(p.status, 200);
    const pe = await unzip(Buffer.from(await p.arrayBuffer()));
    assert.deepEqual(pe.map((e) => [e.name, e.content.toString()]).sort(), [
      ['a.txt', 'alpha'],
      ['top.txt', 'top'],
    ]);
    // Two picks with the same name from different folders do not overwrite each other.
    await put(nina, '/Docs/sub/top.txt', 'other top');
    const dup = await unzip(Buffer.from(await (await zip(nina, q('/top.txt', '/Docs/sub/top.txt'))).arrayBuffer()));
    assert.deepEqual(dup.map((e) => [e.name, e.content.toString()]).sort(), [
      ['top (2).txt', 'other top'],
      ['top.txt', 'top'],
    ]);
  });

  test('bad paths and other drives get a clear 4xx', async () => {
    assertError(await raw(srv.url, 'GET', `/api/drive/zip?${q('/Absent')}`, { headers: { cookie: nina.cookie } }), 404, 'not_found');
    assertError(await raw(srv.url, 'GET', `/api/drive/zip?${q('/Docs', '/Absent')}`, { headers: { cookie: nina.cookie } }), 404, 'not_found');
    assertError(await raw(srv.url, 'GET', `/api/drive/zip?${q('/../etc')}`, { headers: { cookie: nina.cookie } }), 400, 'invalid_name');
    assertError(await raw(srv.url, 'GET', `/api/drive/zip?${q('relative')}`, { headers: { cookie: nina.cookie } }), 400, 'invalid_name');
    assertError(await raw(srv.url, 'GET', '/api/drive/zip', { headers: { cookie: nina.cookie } }), 400, 'validation_failed');
    assertError(await raw(srv.url, 'GET', `/api/drive/zip?${q('/Docs')}&drive=mars`, { headers: { cookie: nina.cookie } }), 400, 'validation_failed');
    assertError(await raw(srv.url, 'GET', `/api/drive/zip?${q('/Docs')}&drive=space:nope`, { headers: { cookie: nina.cookie } }), 404, 'not_found');
    assertError(await omar.post('/api/drive/zip', { paths: [] }), 400, 'validation_failed');
    // Omar's drive has no /Docs; Nina's is not reachable from his session.
    assertError(await raw(srv.url, 'GET', `/api/drive/zip?${q('/Docs')}`, { headers: { cookie: omar.cookie } }), 404, 'not_found');
    assertError(await raw(srv.url, 'GET', `/api/drive/zip?${q('/Docs')}`), 401, 'unauthenticated');
  });

  test('a space drive zips for its members only', async () => {
    const sp = await nina.post('/api/spaces', { name: 'Équipe zip', visibility: 'secret' });
    assert.equal(sp.status, 201, JSON.stringify(sp.json));
    const drive = `space:${sp.json.space.id}`;
    await folder(nina, '/', 'Partagé', drive);
    await put(nina, '/Partagé/plan.txt', 'plan', drive);
    const r = await zip(nina, `${q('/Partagé')}&drive=${encodeURIComponent(drive)}`);
    assert.equal(r.status, 200);
    assert.deepEqual((await unzip(Buffer.from(await r.arrayBuffer()))).map((e) => e.name).sort(), ['Partagé/', 'Partagé/plan.txt']);
    assertError(await raw(srv.url, 'GET', `/api/drive/zip?${q('/Partagé')}&drive=${encodeURIComponent(drive)}`, { headers: { cookie: omar.cookie } }), 404, 'not_found');
  });

  test('a large folder streams: memory does not grow with the archive', async () => {
    const SIZE = 96 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024, 0x5a);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        if (sent >= SIZE) return ctrl.close();
        sent += chunk.length;
        ctrl.enqueue(new Uint8Array(chunk));
      },
    });
    await folder(nina, '/', 'Gros');
    const up = await fetch(`${srv.url}/api/drive/content?path=${encodeURIComponent('/Gros/gros.bin')}`, {
      method: 'PUT',
      headers: { cookie: nina.cookie, 'x-csrf-token': nina.csrf, 'content-type': 'application/octet-stream' },
      body,
      duplex: 'half',
    } as RequestInit);
    assert.equal(up.status, 201);
    const base = process.memoryUsage().rss;
    let peak = base;
    let total = 0;
    const hash = createHash('sha256');
    const r = await zip(nina, q('/Gros'));
    assert.equal(r.status, 200);
    for await (const part of r.body as unknown as AsyncIterable<Uint8Array>) {
      total += part.length;
      hash.update(part);
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    assert.equal(total, Number(r.headers.get('content-length')));
    assert.ok(total > SIZE);
    // Server and client share this process: holding the archive anywhere would show as ~96 MB more.
    assert.ok(peak - base < 48 * 1024 * 1024, `RSS grew by ${Math.round((peak - base) / 1048576)} MB`);
  });

  test('archive names: separators and drive letters neutralised, duplicates suffixed', () => {
    assert.equal(archiveSegment('a\\b', false), 'a_b');
    assert.equal(archiveSegment('C:notes', true), 'C_notes');
    assert.equal(archiveSegment('C:notes', false), 'C:notes');
    const taken = new Set<string>();
    assert.equal(uniqueName('r.txt', taken, true), 'r.txt');
    assert.equal(uniqueName('r.txt', taken, true), 'r (2).txt');
    assert.equal(uniqueName('r.txt', taken, false), 'r.txt (2)');
  });
});
