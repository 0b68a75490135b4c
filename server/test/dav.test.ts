import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { spawn } from 'node:child_process';
import { startTestServer, makeUser, type TestServer } from './helpers/server.js';
import { createAppPassword } from '../src/modules/identity/commands/credentials.js';
import { refCount } from '../src/platform/blobs/refs.js';
import { emptyTrash } from '../src/modules/drive/commands.js';
import type { Scope } from '../src/platform/policy.js';

/** WebDAV over real HTTP: methods, errors, permissions, and the litmus conformance suites. */
async function appPassword(srv: TestServer, userId: string, scopes: Scope[]): Promise<string> {
  const { password } = await createAppPassword({ platform: srv.bastide.platform, actor: { kind: 'system' } }, { userId, name: `dav ${scopes.join(',')}`, scopes });
  return password;
}

const basic = (login: string, password: string): string => `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;

/** A request with the path sent exactly as written (fetch would normalise `..`). */
function rawRequest(url: string, method: string, path: string, auth: string): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, method, path, headers: { authorization: auth } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('WebDAV', () => {
  let srv: TestServer;
  let alice: { id: string; login: string };
  let aliceAuth = '';
  let bobAuth = '';
  let alicePassword = '';
  let dav = '';
  const req = (method: string, path: string, init: { headers?: Record<string, string>; body?: string; auth?: string } = {}): Promise<Response> =>
    fetch(`${dav}${path}`, { method, headers: { authorization: init.auth ?? aliceAuth, ...init.headers }, body: init.body ?? null, redirect: 'manual' });

  before(async () => {
    srv = await startTestServer();
    alice = await makeUser(srv, 'alice');
    const bob = await makeUser(srv, 'bob');
    alicePassword = await appPassword(srv, alice.id, ['dav']);
    aliceAuth = basic('alice', alicePassword);
    bobAuth = basic('bob', await appPassword(srv, bob.id, ['dav']));
    dav = `${srv.url}/dav/files/alice`;
  });
  after(() => srv.close());

  test('OPTIONS announces class 1 and 2; /.well-known/webdav redirects', async () => {
    const o = await req('OPTIONS', '/');
    assert.equal(o.status, 200);
    assert.equal(o.headers.get('dav'), '1, 2');
    assert.match(o.headers.get('allow') ?? '', /PROPFIND/);
    const w = await fetch(`${srv.url}/.well-known/webdav`, { redirect: 'manual', headers: { authorization: aliceAuth } });
    assert.equal(w.status, 301);
    assert.equal(w.headers.get('location'), '/dav/files/alice/');
    const anon = await fetch(`${srv.url}/.well-known/webdav`, { redirect: 'manual' });
    assert.equal(anon.headers.get('location'), '/dav/');
    // /dav/ is never the web app, even for a GET.
    const g = await fetch(`${srv.url}/dav/files/alice/`);
    assert.equal(g.status, 401);
    assert.match(g.headers.get('www-authenticate') ?? '', /Basic realm="Bastide"/);
  });

  test('authentication: app password with the dav scope only, never a session password', async () => {
    const mailOnly = basic('alice', await appPassword(srv, alice.id, ['mail']));
    assert.equal((await req('PROPFIND', '/', { auth: mailOnly, headers: { depth: '0' } })).status, 401);
    assert.equal((await req('PROPFIND', '/', { auth: basic('alice', 'Correct-Horse-Battery-42'), headers: { depth: '0' } })).status, 401);
    assert.equal((await req('PROPFIND', '/', { auth: basic('bob', alicePassword), headers: { depth: '0' } })).status, 401);
    assert.equal((await req('PROPFIND', '/', { headers: { depth: '0' } })).status, 207);
  });

  test('PUT, GET (headers, Range, conditionals), HEAD, overwrite with If-Match', async () => {
    assert.equal((await req('PUT', '/hello.html', { body: '<p>hello world</p>', headers: { 'content-type': 'text/html' } })).status, 201);
    const g = await req('GET', '/hello.html');
    assert.equal(g.status, 200);
    assert.equal(await g.text(), '<p>hello world</p>');
    assert.match(g.headers.get('content-disposition') ?? '', /^attachment/);
    assert.equal(g.headers.get('x-content-type-options'), 'nosniff');
    const etag = g.headers.get('etag')!;
    assert.ok(etag);
    assert.equal((await req('GET', '/hello.html', { headers: { 'if-none-match': etag } })).status, 304);
    assert.equal((await req('GET', '/hello.html', { headers: { 'if-modified-since': g.headers.get('last-modified')! } })).status, 304);
    const r = await req('GET', '/hello.html', { headers: { range: 'bytes=3-7' } });
    assert.equal(r.status, 206);
    assert.equal(await r.text(), 'hello');
    assert.equal(r.headers.get('content-range'), 'bytes 3-7/18');
    assert.equal((await req('GET', '/hello.html', { headers: { range: 'bytes=100-' } })).status, 416);
    const h = await req('HEAD', '/hello.html');
    assert.equal(h.headers.get('content-length'), '18');
    assert.equal((await req('PUT', '/hello.html', { body: 'x', headers: { 'if-match': '"nope"' } })).status, 412);
    assert.equal((await req('PUT', '/hello.html', { body: 'x', headers: { 'if-none-match': '*' } })).status, 412);
    const put = await req('PUT', '/hello.html', { body: 'v2', headers: { 'if-match': etag } });
    assert.equal(put.status, 204);
    assert.notEqual(put.headers.get('etag'), etag);
    assert.equal(await (await req('GET', '/hello.html')).text(), 'v2');
    assert.equal((await req('PUT', '/missing/x.txt', { body: 'x' })).status, 409);
    assert.equal((await req('GET', '/nothing.txt')).status, 404);
  });

  test('MKCOL, PROPFIND depth 0/1, quota properties, Depth infinity refused', async () => {
    assert.equal((await req('MKCOL', '/docs')).status, 201);
    assert.equal((await req('MKCOL', '/docs')).status, 405);
    assert.equal((await req('MKCOL', '/a/b')).status, 409);
    assert.equal((await req('MKCOL', '/withbody', { body: '<x/>', headers: { 'content-type': 'application/xml' } })).status, 415);
    assert.equal((await req('PUT', '/docs/été.txt', { body: 'summer' })).status, 201);
    const pf = await req('PROPFIND', '/docs/', { headers: { depth: '1' } });
    assert.equal(pf.status, 207);
    const xml = await pf.text();
    assert.match(xml, /<D:href>\/dav\/files\/alice\/docs\/<\/D:href>/);
    assert.match(xml, /\/dav\/files\/alice\/docs\/%C3%A9t%C3%A9\.txt/);
    assert.match(xml, /<D:getcontentlength>6<\/D:getcontentlength>/);
    assert.match(xml, /<D:collection\/>/);
    const q = await req('PROPFIND', '/', {
      headers: { depth: '0', 'content-type': 'application/xml' },
      body: '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:quota-used-bytes/><D:quota-available-bytes/><D:nope/></D:prop></D:propfind>',
    });
    const qx = await q.text();
    assert.match(qx, /<D:quota-used-bytes>\d+<\/D:quota-used-bytes>/);
    assert.match(qx, /<D:quota-available-bytes>\d+<\/D:quota-available-bytes>/);
    assert.match(qx, /404 Not Found/);
    const inf = await req('PROPFIND', '/', { headers: { depth: 'infinity' } });
    assert.equal(inf.status, 403);
    assert.match(await inf.text(), /propfind-finite-depth/);
  });

  test('concurrent creations of one name: one wins, the others get a 4xx, never a 500', async () => {
    const mk = await Promise.all(Array.from({ length: 6 }, () => req('MKCOL', '/race')));
    const codes = mk.map((r) => r.status).sort();
    assert.equal(codes.filter((c) => c === 201).length, 1, String(codes));
    assert.ok(codes.every((c) => c === 201 || c === 405 || c === 409), String(codes));
    const put = await Promise.all(Array.from({ length: 6 }, (_, i) => req('PUT', '/race/f.txt', { body: `v${i}` })));
    assert.ok(put.every((r) => r.status === 201 || r.status === 204 || r.status === 409), String(put.map((r) => r.status)));
    const rows = await srv.bastide.platform.db.selectFrom('drive_nodes').select(['id', 'blob_sha256']).where('name', '=', 'f.txt').where('deleted_at', 'is', null).execute();
    assert.equal(rows.length, 1);
    // Overwrites and deletes racing: every blob keeps an exact reference count.
    await Promise.all(Array.from({ length: 6 }, (_, i) => req('PUT', '/race/f.txt', { body: `w${i}` })));
    const del = await Promise.all(Array.from({ length: 4 }, () => req('DELETE', '/race/')));
    assert.equal(del.filter((r) => r.status === 204).length, 1, String(del.map((r) => r.status)));
    assert.ok(del.every((r) => r.status === 204 || r.status === 404 || r.status === 409));
    const db = srv.bastide.platform.db;
    const live = await db.selectFrom('drive_nodes').select(['blob_sha256']).where('deleted_at', 'is', null).where('kind', '=', 'file').execute();
    const expected = new Map<string, number>();
    for (const n of live) if (n.blob_sha256) expected.set(n.blob_sha256, (expected.get(n.blob_sha256) ?? 0) + 1);
    // Overwritten contents are kept as versions, each holding its reference.
    for (const v of await db.selectFrom('drive_versions').select('blob_sha256').execute()) if (v.blob_sha256) expected.set(v.blob_sha256, (expected.get(v.blob_sha256) ?? 0) + 1);
    for (const b of await db.selectFrom('blobs').select(['sha256', 'refcount']).execute()) assert.equal(Number(b.refcount), expected.get(b.sha256) ?? 0, b.sha256);
  });

  test('PROPPATCH sets and removes dead properties; live ones are protected', async () => {
    const body =
      '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:color>blue</Z:color><Z:nested><x xmlns="urn:y">in</x></Z:nested></D:prop></D:set></D:propertyupdate>';
    assert.equal((await req('PROPPATCH', '/hello.html', { body, headers: { 'content-type': 'application/xml' } })).status, 207);
    const got = await (await req('PROPFIND', '/hello.html', { headers: { depth: '0' }, body: '<D:propfind xmlns:D="DAV:"><D:prop><Z:color xmlns:Z="urn:z"/><Z:nested xmlns:Z="urn:z"/></D:prop></D:propfind>' })).text();
    assert.match(got, /<color xmlns="urn:z">blue<\/color>/);
    assert.match(got, /<x xmlns="urn:y">in<\/x>/);
    const prot = await req('PROPPATCH', '/hello.html', { body: '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:getetag>x</D:getetag></D:prop></D:set></D:propertyupdate>' });
    assert.match(await prot.text(), /403 Forbidden/);
    await req('PROPPATCH', '/hello.html', { body: '<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:remove><D:prop><Z:color/></D:prop></D:remove></D:propertyupdate>' });
    const after1 = await (await req('PROPFIND', '/hello.html', { headers: { depth: '0' }, body: '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>' })).text();
    assert.doesNotMatch(after1, /urn:z">blue/);
  });

  test('COPY and MOVE with Overwrite; DELETE moves to the trash, emptying it releases blob references', async () => {
    assert.equal((await req('PUT', '/docs/a.txt', { body: 'shared bytes 123' })).status, 201);
    assert.equal((await req('COPY', '/docs/', { headers: { destination: `${dav}/docs2/` } })).status, 201);
    assert.equal(await (await req('GET', '/docs2/a.txt')).text(), 'shared bytes 123');
    assert.equal((await req('COPY', '/docs/a.txt', { headers: { destination: `${dav}/docs2/a.txt`, overwrite: 'F' } })).status, 412);
    assert.equal((await req('COPY', '/docs/a.txt', { headers: { destination: `${dav}/docs2/a.txt`, overwrite: 'T' } })).status, 204);
    assert.equal((await req('COPY', '/docs/', { headers: { destination: `${dav}/docs/inner/` } })).status, 403);
    assert.equal((await req('MOVE', '/docs2/', { headers: { destination: `${dav}/moved/` } })).status, 201);
    assert.equal((await req('GET', '/docs2/a.txt')).status, 404);
    assert.equal((await req('MOVE', '/moved/a.txt', { headers: { destination: `${dav}/moved/b.txt` } })).status, 201);
    assert.equal((await req('MOVE', '/hello.html', { headers: { destination: `${srv.url}/dav/files/bob/x` } })).status, 502);
    const sha = (await srv.bastide.platform.db.selectFrom('drive_nodes').select('blob_sha256').where('name', '=', 'a.txt').executeTakeFirstOrThrow()).blob_sha256!;
    assert.equal(await refCount(srv.bastide.platform.db, sha), 2);
    assert.equal((await req('DELETE', '/moved/')).status, 204);
    // In the trash the content is kept (and still referenced); emptying the trash releases it.
    assert.equal(await refCount(srv.bastide.platform.db, sha), 2);
    assert.equal((await req('DELETE', '/moved/')).status, 404);
    assert.equal((await req('PROPFIND', '/moved/b.txt', { headers: { depth: '0' } })).status, 404);
    assert.equal(await emptyTrash({ platform: srv.bastide.platform, actor: { kind: 'system' } }, { type: 'user', id: alice.id }), 2); // /race/ and /moved/
    assert.equal(await refCount(srv.bastide.platform.db, sha), 1);
    const audit = await srv.bastide.platform.audit.list({ limit: 20, action: 'drive.node.deleted' });
    assert.ok(audit.length >= 1);
  });

  test('LOCK, 423 without the token, If header, UNLOCK', async () => {
    const lockBody = '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>alice</D:owner></D:lockinfo>';
    const l = await req('LOCK', '/locked.txt', { body: lockBody, headers: { timeout: 'Second-60' } });
    assert.equal(l.status, 201);
    const token = /<(.+)>/.exec(l.headers.get('lock-token') ?? '')![1]!;
    assert.match(await l.text(), /<D:timeout>Second-60<\/D:timeout>/);
    assert.equal((await req('PUT', '/locked.txt', { body: 'x' })).status, 423);
    assert.equal((await req('DELETE', '/locked.txt')).status, 423);
    assert.equal((await req('LOCK', '/locked.txt', { body: lockBody })).status, 423);
    assert.equal((await req('PUT', '/locked.txt', { body: 'x', headers: { if: '(<urn:uuid:00000000-0000-0000-0000-000000000000>)' } })).status, 412);
    assert.equal((await req('PUT', '/locked.txt', { body: 'x', headers: { if: `(<${token}>)` } })).status, 204);
    assert.equal((await req('UNLOCK', '/locked.txt', { headers: { 'lock-token': '<urn:uuid:bogus>' } })).status, 409);
    assert.equal((await req('UNLOCK', '/locked.txt', { headers: { 'lock-token': `<${token}>` } })).status, 204);
    assert.equal((await req('PUT', '/locked.txt', { body: 'y' })).status, 204);
  });

  test('bad input: DOCTYPE/XXE bodies, traversal, encoded slash, NUL, control characters', async () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><D:propfind xmlns:D="DAV:"><D:prop><D:x>&x;</D:x></D:prop></D:propfind>';
    assert.equal((await req('PROPFIND', '/', { body: xxe, headers: { depth: '0' } })).status, 400);
    assert.equal((await req('PROPPATCH', '/locked.txt', { body: xxe })).status, 400);
    assert.equal((await req('PROPFIND', '/', { body: '<D:propfind xmlns:D="DAV:"><D:prop>', headers: { depth: '0' } })).status, 400);
    assert.equal(await rawRequest(srv.url, 'GET', '/dav/files/alice/docs/../../bob/x', aliceAuth), 400);
    assert.equal(await rawRequest(srv.url, 'PUT', '/dav/files/alice/%2e%2e/x', aliceAuth), 400);
    assert.equal((await req('PUT', '/a%2Fb', { body: 'x' })).status, 400);
    assert.equal((await req('PUT', '/a%00b', { body: 'x' })).status, 400);
    assert.equal((await req('PUT', '/a%01b', { body: 'x' })).status, 400);
    assert.equal((await req('PUT', `/${'x'.repeat(256)}`, { body: 'x' })).status, 400);
    assert.equal((await req('PROPFIND', '/', { body: `<a>${'x'.repeat(1024 * 1024 + 10)}</a>`, headers: { depth: '0' } })).status, 413);
  });

  test("permissions: another user's tree is not found, for reads and writes", async () => {
    assert.equal((await req('GET', '/hello.html', { auth: bobAuth })).status, 404);
    assert.equal((await req('PUT', '/evil.txt', { auth: bobAuth, body: 'x' })).status, 404);
    assert.equal((await req('DELETE', '/hello.html', { auth: bobAuth })).status, 404);
    assert.equal((await req('PROPFIND', '/', { auth: bobAuth, headers: { depth: '1' } })).status, 404);
    assert.equal((await req('COPY', '/hello.html', { auth: bobAuth, headers: { destination: `${srv.url}/dav/files/bob/stolen` } })).status, 404);
    // Bob's own tree works, and a destination in Alice's tree is refused.
    assert.equal((await fetch(`${srv.url}/dav/files/bob/mine.txt`, { method: 'PUT', headers: { authorization: bobAuth }, body: 'b' })).status, 201);
    assert.equal((await fetch(`${srv.url}/dav/files/bob/mine.txt`, { method: 'COPY', headers: { authorization: bobAuth, destination: `${dav}/mine.txt` } })).status, 502);
    assert.equal((await req('GET', '/mine.txt')).status, 404);
  });

  test('litmus: basic, copymove, props, locks, http all pass', { timeout: 90_000 }, async (t) => {
    if (!existsSync('/usr/bin/litmus')) {
      if (process.env.BASTIDE_TEST_DAV === 'required') assert.fail('litmus is required (BASTIDE_TEST_DAV=required) but /usr/bin/litmus is missing');
      console.log('# notice: /usr/bin/litmus missing (apt-get install litmus); litmus run skipped');
      t.skip('litmus missing');
      return;
    }
    assert.equal((await req('MKCOL', '/litmus')).status, 201);
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn('/usr/bin/litmus', [`${dav}/litmus/`, 'alice', alicePassword], { cwd: srv.storage.dataDir, env: { ...process.env, TESTS: 'basic copymove props locks http' } });
      let text = '';
      p.stdout.on('data', (c: Buffer) => (text += c.toString()));
      p.stderr.on('data', (c: Buffer) => (text += c.toString()));
      p.on('error', reject);
      p.on('close', () => resolve(text));
    });
    const summaries = new Map<string, { run: number; passed: number; failed: number }>();
    for (const m of out.matchAll(/summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed/g)) {
      summaries.set(m[1]!, { run: Number(m[2]), passed: Number(m[3]), failed: Number(m[4]) });
    }
    for (const suite of ['basic', 'copymove', 'props', 'locks', 'http']) {
      const s = summaries.get(suite);
      assert.ok(s, `litmus suite ${suite} did not run:\n${out}`);
      assert.equal(s.failed, 0, `litmus ${suite}: ${s.failed} failed\n${out}`);
      assert.ok(s.passed > 0);
    }
  });
});
