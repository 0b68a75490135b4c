import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import yazl from 'yazl';
import { startTestServer, type ApiClient, type TestServer } from '../../../test/helpers/server.js';
import { assertError, raw, snapshot, userClient } from '../../../test/helpers/api.js';
import yauzl from 'yauzl';
import { DRIVE_EXPORT_FORMAT, type DriveManifest } from './portability.js';

/**
 * Export and import of a whole drive: the zip layout (`drive/` tree as-is, empty folders, the manifest
 * with checksums), the way back into another account and into the same one (suffixes, merged folders,
 * nothing overwritten), plain zips without a manifest, the per-user export of the platform (module
 * contract), space drives, and bad archives refused without changing anything.
 */
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Every entry of a zip held in memory (tests only): name and content; directories end with '/'. */
function unzip(buf: Buffer): Promise<Array<{ name: string; content: Buffer }>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('no zip'));
      const out: Array<{ name: string; content: Buffer }> = [];
      zip.on('error', reject);
      zip.on('end', () => resolve(out));
      zip.on('entry', (e: yauzl.Entry) => {
        if (e.fileName.endsWith('/')) {
          out.push({ name: e.fileName, content: Buffer.alloc(0) });
          return zip.readEntry();
        }
        zip.openReadStream(e, (er, s) => {
          if (er || !s) return reject(er ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          s.on('data', (c: Buffer) => chunks.push(c));
          s.on('error', reject);
          s.on('end', () => {
            out.push({ name: e.fileName, content: Buffer.concat(chunks) });
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

async function makeZip(entries: Array<{ name: string; content?: string | Buffer }>): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const e of entries) {
    if (e.name.endsWith('/')) z.addEmptyDirectory(e.name);
    else z.addBuffer(Buffer.isBuffer(e.content) ? e.content : Buffer.from(e.content ?? ''), e.name);
  }
  z.end();
  const chunks: Buffer[] = [];
  for await (const c of z.outputStream as unknown as Readable) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('drive export and import', () => {
  let srv: TestServer;
  let nina: ApiClient;
  let omar: ApiClient;
  let omarId = '';
  const bin = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 31) % 256));

  const put = async (c: ApiClient, path: string, body: string | Buffer, drive?: string) => {
    const r = await raw(srv.url, 'PUT', `/api/drive/content?path=${encodeURIComponent(path)}${drive ? `&drive=${encodeURIComponent(drive)}` : ''}`, {
      body,
      headers: { cookie: c.cookie, 'x-csrf-token': c.csrf, 'content-type': path.endsWith('.txt') ? 'text/plain' : 'application/octet-stream' },
    });
    assert.ok(r.status === 201 || r.status === 200, JSON.stringify(r.json));
  };
  const folder = async (c: ApiClient, path: string, name: string, drive?: string) => {
    const r = await c.post(`/api/drive/folders${drive ? `?drive=${encodeURIComponent(drive)}` : ''}`, { path, name });
    assert.equal(r.status, 201, JSON.stringify(r.json));
  };
  const exportZip = async (c: ApiClient, drive?: string) => {
    const r = await fetch(`${srv.url}/api/drive/export${drive ? `?drive=${encodeURIComponent(drive)}` : ''}`, { headers: { cookie: c.cookie } });
    assert.equal(r.status, 200);
    return { res: r, body: Buffer.from(await r.arrayBuffer()) };
  };
  const importZip = (c: ApiClient, body: Buffer, drive?: string, type = 'application/zip') =>
    raw(srv.url, 'POST', `/api/drive/import${drive ? `?drive=${encodeURIComponent(drive)}` : ''}`, { body, headers: { cookie: c.cookie, 'x-csrf-token': c.csrf, 'content-type': type } });
  /** Every live node of a drive as "path|kind|sha256" (content read back through the API). */
  const tree = async (c: ApiClient, path = '/', drive?: string): Promise<string[]> => {
    const out: string[] = [];
    const d = drive ? `&drive=${encodeURIComponent(drive)}` : '';
    const l = await c.get(`/api/drive/items?path=${encodeURIComponent(path)}${d}`);
    assert.equal(l.status, 200, JSON.stringify(l.json));
    for (const i of l.json.items as Array<{ name: string; kind: string }>) {
      const p = path === '/' ? `/${i.name}` : `${path}/${i.name}`;
      if (i.kind === 'folder') {
        out.push(`${p}|folder`);
        out.push(...(await tree(c, p, drive)));
      } else {
        const r = await fetch(`${srv.url}/api/drive/content?path=${encodeURIComponent(p)}${d}`, { headers: { cookie: c.cookie } });
        out.push(`${p}|file|${sha(Buffer.from(await r.arrayBuffer()))}`);
      }
    }
    return out.sort();
  };

  before(async () => {
    srv = await startTestServer();
    nina = (await userClient(srv, 'nina')).client;
    const o = await userClient(srv, 'omar');
    omar = o.client;
    omarId = o.id;
    await folder(nina, '/', 'Projets');
    await folder(nina, '/Projets', 'Été 2026');
    await folder(nina, '/Projets', 'vide');
    await put(nina, '/Projets/Été 2026/plan.txt', 'le plan');
    await put(nina, '/Projets/données.bin', bin);
    await put(nina, '/Projets/rien.txt', '');
    await put(nina, '/manifest.json', '{"mine": true}');
    await put(nina, '/racine.txt', 'racine premier jet');
    await put(nina, '/racine.txt', 'racine');
    assert.equal((await nina.post('/api/drive/shares', { path: '/Projets', granteeType: 'user', granteeId: omarId, permission: 'write' })).status, 201);
    assert.equal((await nina.post('/api/drive/links', { path: '/racine.txt', mode: 'read', password: 'secret du lien', maxDownloads: 3 })).status, 201);
  });
  after(() => srv.close());

  test('export: the tree under drive/, empty folders kept, a manifest whose checksums match the content', async () => {
    const { res, body } = await exportZip(nina);
    assert.match(res.headers.get('content-disposition')!, /^attachment; filename="bastide-drive-me-\d{4}-\d{2}-\d{2}\.zip"/);
    assert.equal(Number(res.headers.get('content-length')), body.length);
    const entries = await unzip(body);
    const byName = new Map(entries.map((e) => [e.name, e]));
    for (const n of ['drive/Projets/', 'drive/Projets/Été 2026/', 'drive/Projets/vide/', 'drive/Projets/Été 2026/plan.txt', 'drive/Projets/données.bin', 'drive/Projets/rien.txt', 'drive/racine.txt'])
      assert.ok(byName.has(n), `${n} in the archive`);
    const manifest = JSON.parse(byName.get('drive/manifest.json')!.content.toString()) as DriveManifest;
    assert.equal(manifest.format, DRIVE_EXPORT_FORMAT);
    // Shares and links (never a link's token or password), and versions with their content.
    const shares = manifest.shares as Array<Record<string, unknown>>;
    assert.deepEqual(shares.map((x) => [x.kind, x.path, x.granteeType ?? x.mode, x.permission ?? x.hasPassword]), [['share', '/Projets', 'user', 'write'], ['link', '/racine.txt', 'read', true]]);
    assert.doesNotMatch(JSON.stringify(shares), /secret du lien|token|argon/);
    const versions = manifest.versions as Array<{ path: string; archivePath: string; sha256: string; size: number }>;
    assert.equal(versions.length, 1);
    assert.equal(versions[0]!.path, '/racine.txt');
    assert.equal(byName.get(versions[0]!.archivePath)!.content.toString(), 'racine premier jet');
    assert.equal(versions[0]!.sha256, sha(Buffer.from('racine premier jet')));
    assert.equal(manifest.nodes.length, 8);
    for (const n of manifest.nodes) {
      assert.match(n.id, /^[0-9A-Z]{26}$/);
      assert.ok(!Number.isNaN(Date.parse(n.createdAt)) && !Number.isNaN(Date.parse(n.updatedAt)));
      const entry = byName.get(n.archivePath);
      assert.ok(entry, `${n.archivePath} is in the archive`);
      if (n.kind === 'file') {
        assert.equal(n.size, entry.content.length);
        assert.equal(n.sha256, sha(entry.content));
      }
    }
    // The user's own "manifest.json" is kept, under another archive name the manifest points to.
    const own = manifest.nodes.find((n) => n.path === '/manifest.json')!;
    assert.notEqual(own.archivePath, 'drive/manifest.json');
    assert.equal(byName.get(own.archivePath)!.content.toString(), '{"mine": true}');
    assert.equal(manifest.nodes.find((n) => n.path === '/Projets/données.bin')!.contentType, 'application/octet-stream');
    const audit = await srv.bastide.platform.db.selectFrom('audit_log').select(['action', 'target_id']).where('action', '=', 'drive.exported').execute();
    assert.deepEqual(audit, [{ action: 'drive.exported', target_id: 'me' }]);
  });

  test('import into another drive restores the tree; importing again suffixes files and merges folders', async () => {
    const { body } = await exportZip(nina);
    const original = await tree(nina);
    const r = await importZip(omar, body);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json, { imported: 8, folders: 3, files: 5 });
    assert.deepEqual(await tree(omar), original);
    // Again: nothing overwritten, every file comes back beside the first, folders are not doubled.
    const again = await importZip(omar, body);
    assert.equal(again.status, 200);
    assert.deepEqual(again.json, { imported: 5, folders: 0, files: 5 });
    const after = await tree(omar);
    for (const line of original) assert.ok(after.includes(line), `${line} still there`);
    assert.ok(after.some((l) => l.startsWith('/Projets/Été 2026/plan (2).txt|file|')));
    assert.ok(after.some((l) => l.startsWith('/manifest (2).json|file|')));
    assert.equal(after.filter((l) => l.endsWith('|folder')).length, 3);
  });

  test('a plain zip (no manifest) imports as its tree, empty folders included', async () => {
    const zip = await makeZip([{ name: 'Archives/' }, { name: 'Archives/2019/' }, { name: 'Archives/notes.txt', content: 'notes' }, { name: 'seul.txt', content: 'seul' }, { name: '__MACOSX/._seul.txt', content: 'x' }]);
    const r = await importZip(omar, zip);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json, { imported: 4, folders: 2, files: 2 });
    const t = await tree(omar);
    assert.ok(t.includes('/Archives/2019|folder'));
    assert.ok(t.includes(`/Archives/notes.txt|file|${sha('notes')}`));
    assert.ok(t.includes(`/seul.txt|file|${sha('seul')}`));
    assert.ok(!t.some((l) => l.includes('MACOSX')));
  });

  test('bad archives are refused with a 4xx and change nothing', async () => {
    const before = await snapshot(srv.bastide.platform.db, 'drive_nodes');
    assertError(await importZip(omar, Buffer.from('not a zip at all')), 400, 'bad_request');
    assertError(await importZip(omar, await makeZip([{ name: 'a.txt', content: 'a' }]), undefined, 'text/plain'), 415, 'unsupported_media_type');
    const missing = await makeZip([
      { name: 'drive/manifest.json', content: JSON.stringify({ format: DRIVE_EXPORT_FORMAT, nodes: [{ path: '/a.txt', kind: 'file', archivePath: 'drive/a.txt' }, { path: '/b.txt', kind: 'file', archivePath: 'drive/absent.txt' }] }) },
      { name: 'drive/a.txt', content: 'a' },
    ]);
    assertError(await importZip(omar, missing), 400, 'bad_request');
    assertError(await importZip(omar, await makeZip([{ name: 'drive/manifest.json', content: '{not json' }])), 400, 'bad_request');
    assertError(await importZip(omar, await makeZip([{ name: 'drive/manifest.json', content: JSON.stringify({ format: 'other/1', nodes: [] }) }])), 400, 'bad_request');
    const badName = await makeZip([
      { name: 'drive/manifest.json', content: JSON.stringify({ format: DRIVE_EXPORT_FORMAT, nodes: [{ path: '/ok.txt', kind: 'file', archivePath: 'drive/ok.txt' }, { path: '/bad\u0001.txt', kind: 'file', archivePath: 'drive/ok.txt' }] }) },
      { name: 'drive/ok.txt', content: 'ok' },
    ]);
    assertError(await importZip(omar, badName), 400, 'bad_request');
    assertError(await importZip(omar, await makeZip([{ name: 'a\u0007b.txt', content: 'x' }])), 400, 'bad_request');
    assertError(await importZip(omar, await makeZip([{ name: 'a.txt', content: 'a' }]), 'space:nope'), 404, 'not_found');
    assertError(await raw(srv.url, 'POST', '/api/drive/import', { body: 'x', headers: { 'content-type': 'application/zip' } }), 401, 'unauthenticated');
    assert.equal(await snapshot(srv.bastide.platform.db, 'drive_nodes'), before);
  });

  test('a space drive exports for its members and imports back', async () => {
    const sp = await nina.post('/api/spaces', { name: 'Export équipe', visibility: 'secret' });
    assert.equal(sp.status, 201, JSON.stringify(sp.json));
    const drive = `space:${sp.json.space.id}`;
    await folder(nina, '/', 'Commun', drive);
    await put(nina, '/Commun/charte.txt', 'charte', drive);
    const { body } = await exportZip(nina, drive);
    const manifest = JSON.parse((await unzip(body)).find((e) => e.name === 'drive/manifest.json')!.content.toString()) as DriveManifest;
    assert.deepEqual(manifest.owner, { type: 'space', id: sp.json.space.id });
    assert.deepEqual(manifest.nodes.map((n) => n.path).sort(), ['/Commun', '/Commun/charte.txt']);
    assertError(await raw(srv.url, 'GET', `/api/drive/export?drive=${encodeURIComponent(drive)}`, { headers: { cookie: omar.cookie } }), 404, 'not_found');
    // Into my own drive, the space's tree as it was.
    const r = await importZip(nina, body);
    assert.equal(r.status, 200);
    assert.ok((await tree(nina)).includes(`/Commun/charte.txt|file|${sha('charte')}`));
  });

  test('the per-user export of the platform carries the drive, and its import restores it (module contract)', async () => {
    const paul = (await userClient(srv, 'paul')).client;
    await folder(paul, '/', 'Vide aussi');
    await put(paul, '/Vide aussi/x.txt', 'x');
    const exp = await fetch(`${srv.url}/api/me/export`, { headers: { cookie: paul.cookie } });
    assert.equal(exp.status, 200);
    const zip = Buffer.from(await exp.arrayBuffer());
    const names = (await unzip(zip)).map((e) => e.name);
    assert.ok(names.includes('drive/manifest.json'));
    assert.ok(names.includes('drive/Vide aussi/x.txt'));
    const before = await tree(paul);
    const lea = (await userClient(srv, 'lea')).client;
    const imp = await raw(srv.url, 'POST', '/api/me/import', { body: zip, headers: { cookie: lea.cookie, 'x-csrf-token': lea.csrf, 'content-type': 'application/zip' } });
    assert.equal(imp.status, 200, JSON.stringify(imp.json));
    assert.equal(imp.json.imported.drive, 2);
    assert.deepEqual(await tree(lea), before);
  });
});

describe('drive import and the quota', () => {
  let srv: TestServer;
  let nina: ApiClient;
  before(async () => {
    srv = await startTestServer({ config: { driveQuotaBytes: 1000 } });
    nina = (await userClient(srv, 'nina')).client;
  });
  after(() => srv.close());

  test('an archive whose files do not fit is refused (507) before anything is written', async () => {
    const zip = await makeZip([{ name: 'Dossier/' }, { name: 'Dossier/a.bin', content: Buffer.alloc(600) }, { name: 'b.bin', content: Buffer.alloc(600) }]);
    const before = await snapshot(srv.bastide.platform.db, 'drive_nodes');
    const r = await raw(srv.url, 'POST', '/api/drive/import', { body: zip, headers: { cookie: nina.cookie, 'x-csrf-token': nina.csrf, 'content-type': 'application/zip' } });
    assertError(r, 507, 'quota_exceeded');
    assert.equal(await snapshot(srv.bastide.platform.db, 'drive_nodes'), before);
  });
});
