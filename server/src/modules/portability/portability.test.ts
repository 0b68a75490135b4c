import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, DEFAULT_PASSWORD, makeUser, startTestServer } from '../../../test/helpers/server.js';
import { unzipFiles, zipFiles } from './zip.js';
import type { Readable } from 'node:stream';

async function streamToBuffer(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('export my data as a zip, change it, import it back', async () => {
  const srv = await startTestServer();
  try {
    await makeUser(srv, 'carol');
    const c = new ApiClient(srv.url);
    await c.login('carol', DEFAULT_PASSWORD);
    await c.patch('/api/me', { displayName: 'Carol Original', language: 'fr', theme: 'dark' });
    const res = await fetch(`${srv.url}/api/me/export`, { headers: { cookie: c.cookie } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/zip');
    assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename="bastide-carol-\d{4}-\d{2}-\d{2}\.zip"$/);
    const zip = Buffer.from(await res.arrayBuffer());
    const files = await unzipFiles(zip);
    const manifest = JSON.parse(files.find((f) => f.path === 'manifest.json')!.content.toString());
    assert.equal(manifest.format, 'bastide.export/1');
    assert.equal(manifest.login, 'carol');
    const profile = JSON.parse(files.find((f) => f.path === 'identity/profile.json')!.content.toString());
    assert.equal(profile.displayName, 'Carol Original');

    await c.patch('/api/me', { displayName: 'Carol Changed', language: 'en', theme: 'light' });
    const imp = await fetch(`${srv.url}/api/me/import`, {
      method: 'POST',
      headers: { cookie: c.cookie, 'x-csrf-token': c.csrf, 'content-type': 'application/zip' },
      body: zip,
    });
    assert.equal(imp.status, 200);
    // Every module with a `portability` part answers; only the profile had something to bring back.
    const imported = (await imp.json()).imported as Record<string, number>;
    assert.equal(imported.identity, 1);
    assert.ok(['drive', 'calendar', 'contacts'].every((m) => imported[m] === 0), JSON.stringify(imported));
    const me = (await c.get('/api/session')).json.user;
    assert.equal(me.displayName, 'Carol Original');
    assert.equal(me.language, 'fr');
    assert.equal(me.theme, 'dark');

    // Garbage and foreign archives are refused with a 4xx and change nothing.
    const bad = await fetch(`${srv.url}/api/me/import`, {
      method: 'POST',
      headers: { cookie: c.cookie, 'x-csrf-token': c.csrf, 'content-type': 'application/zip' },
      body: Buffer.from('not a zip at all'),
    });
    assert.equal(bad.status, 400);
    const foreign = await streamToBuffer(zipFiles([{ path: 'identity/profile.json', content: '{"displayName":"Evil"}' }]));
    const bad2 = await fetch(`${srv.url}/api/me/import`, {
      method: 'POST',
      headers: { cookie: c.cookie, 'x-csrf-token': c.csrf, 'content-type': 'application/zip' },
      body: new Uint8Array(foreign),
    });
    assert.equal(bad2.status, 400);
    assert.equal((await c.get('/api/session')).json.user.displayName, 'Carol Original');
    // Anonymous export is refused.
    assert.equal((await fetch(`${srv.url}/api/me/export`)).status, 401);
  } finally {
    await srv.close();
  }
});

test('zip reader bounds entries and sizes', async () => {
  const many = await streamToBuffer(zipFiles(Array.from({ length: 20 }, (_, i) => ({ path: `f${i}.txt`, content: 'x' }))));
  await assert.rejects(unzipFiles(many, { maxEntries: 10, maxEntryBytes: 1000, maxTotalBytes: 1000 }), /zip|request/i);
  const big = await streamToBuffer(zipFiles([{ path: 'big.txt', content: Buffer.alloc(1_000_000) }]));
  await assert.rejects(unzipFiles(big, { maxEntries: 10, maxEntryBytes: 1000, maxTotalBytes: 1000 }));
  assert.equal((await unzipFiles(big)).length, 1);
});

test('unified search finds people and says which modules answered', async () => {
  const srv = await startTestServer();
  try {
    await makeUser(srv, 'dora');
    await makeUser(srv, 'edgar');
    const c = new ApiClient(srv.url);
    await c.login('dora', DEFAULT_PASSWORD);
    const r = await c.get('/api/search?q=edg');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.items.map((i: { title: string }) => i.title), ['EDGAR']);
    assert.ok(r.json.sources.includes('identity'));
    assert.equal((await c.get('/api/search?q=')).status, 400);
    assert.equal((await new ApiClient(srv.url).get('/api/search?q=edg')).status, 401);
  } finally {
    await srv.close();
  }
});
