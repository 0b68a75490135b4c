import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startTestServer, type ApiClient, type TestServer } from '../../../test/helpers/server.js';
import { assertError, raw, snapshot, userClient } from '../../../test/helpers/api.js';
import { createAppPassword } from '../identity/commands/credentials.js';
import { refCount } from '../../platform/blobs/refs.js';

/** The drive's trash: delete moves to the trash, restore, purge, empty; owner only. */
describe('drive trash', () => {
  let srv: TestServer;
  let nina: ApiClient;
  let omar: ApiClient;
  let davAuth = '';

  before(async () => {
    srv = await startTestServer();
    const n = await userClient(srv, 'nina');
    nina = n.client;
    omar = (await userClient(srv, 'omar')).client;
    const { password } = await createAppPassword({ platform: srv.bastide.platform, actor: { kind: 'system' } }, { userId: n.id, name: 'dav', scopes: ['dav'] });
    davAuth = `Basic ${Buffer.from(`nina:${password}`).toString('base64')}`;
  });
  after(() => srv.close());

  const q = (p: string) => `?path=${encodeURIComponent(p)}`;
  const upload = (c: ApiClient, path: string, body: string) =>
    raw(srv.url, 'PUT', `/api/drive/content${q(path)}`, { body, headers: { cookie: c.cookie, 'x-csrf-token': c.csrf, 'content-type': 'text/plain' } });
  const names = async (c: ApiClient, p: string) => ((await c.get(`/api/drive/items${q(p)}`)).json.items as { name: string }[]).map((i) => i.name);
  const dav = (method: string, path: string, headers: Record<string, string> = {}) => fetch(`${srv.url}/dav/files/nina${path}`, { method, headers: { authorization: davAuth, ...headers } });
  const trash = async (c: ApiClient) => (await c.get('/api/drive/trash')).json.items as { id: string; name: string; kind: string; size: number; deletedAt: number; originalPath: string }[];
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');

  test('delete moves to the trash: gone from listings and WebDAV, listed in the trash, restored with its content', async () => {
    assert.equal((await nina.post('/api/drive/folders', { path: '/', name: 'Docs' })).status, 201);
    assert.equal((await nina.post('/api/drive/folders', { path: '/Docs', name: 'Sub' })).status, 201);
    assert.equal((await upload(nina, '/Docs/Sub/plan.txt', 'the trash plan')).status, 201);
    assert.equal((await nina.delete(`/api/drive/items${q('/Docs/Sub')}`)).status, 204);
    assert.deepEqual(await names(nina, '/Docs'), []);
    assertError(await nina.get(`/api/drive/items${q('/Docs/Sub')}`), 404, 'not_found');
    assert.equal((await dav('GET', '/Docs/Sub/plan.txt')).status, 404);
    assert.equal((await dav('PROPFIND', '/Docs/Sub', { depth: '0' })).status, 404);
    assert.equal((await dav('COPY', '/Docs/Sub/plan.txt', { destination: `${srv.url}/dav/files/nina/x.txt` })).status, 404);
    const items = await trash(nina);
    assert.equal(items.length, 1);
    assert.deepEqual({ ...items[0], id: '', deletedAt: 0 }, { id: '', name: 'Sub', kind: 'folder', size: 0, deletedAt: 0, originalPath: '/Docs' });
    assert.ok(items[0]!.deletedAt > 0);
    // The trash still counts toward the quota, and the blob stays referenced.
    assert.equal(await refCount(srv.bastide.platform.db, sha('the trash plan')), 1);
    const r = await nina.post(`/api/drive/trash/${items[0]!.id}/restore`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.path, '/Docs/Sub');
    assert.deepEqual(await names(nina, '/Docs'), ['Sub']);
    const body = await fetch(`${srv.url}/api/drive/content${q('/Docs/Sub/plan.txt')}`, { headers: { cookie: nina.cookie } });
    assert.equal(await body.text(), 'the trash plan');
    assert.equal((await dav('GET', '/Docs/Sub/plan.txt')).status, 200);
    assert.deepEqual(await trash(nina), []);
  });

  test('overwriting a folder that has items in the trash replaces it, and those items go for good', async () => {
    assert.equal((await dav('MKCOL', '/Old')).status, 201);
    assert.equal((await upload(nina, '/Old/gone.txt', 'trashed inside Old')).status, 201);
    assert.equal((await nina.delete(`/api/drive/items${q('/Old/gone.txt')}`)).status, 204);
    assert.equal((await dav('MKCOL', '/New')).status, 201);
    const moved = await dav('MOVE', '/New', { destination: `${srv.url}/dav/files/nina/Old`, overwrite: 'T' });
    assert.equal(moved.status, 204);
    assert.ok(!(await trash(nina)).some((i) => i.name === 'gone.txt'), 'the trashed child left with its folder');
    assert.equal(await refCount(srv.bastide.platform.db, sha('trashed inside Old')), 0);
    assert.equal((await dav('DELETE', '/Old')).status, 204);
    for (const i of await trash(nina)) if (i.name === 'Old') assert.equal((await nina.delete(`/api/drive/trash/${i.id}`)).status, 204);
  });

  test('WebDAV DELETE trashes too; restoring where the name is taken adds " (restored)"; a gone parent restores to the root', async () => {
    assert.equal((await dav('DELETE', '/Docs/Sub/plan.txt')).status, 204);
    assert.equal((await dav('GET', '/Docs/Sub/plan.txt')).status, 404);
    assert.equal((await upload(nina, '/Docs/Sub/plan.txt', 'a new plan')).status, 201);
    const [item] = await trash(nina);
    assert.equal(item!.originalPath, '/Docs/Sub');
    const r = await nina.post(`/api/drive/trash/${item!.id}/restore`);
    assert.equal(r.status, 200);
    assert.equal(r.json.item.name, 'plan (restored).txt');
    assert.deepEqual(await names(nina, '/Docs/Sub'), ['plan (restored).txt', 'plan.txt']);
    // The file goes to the trash, then its folder: restoring the file brings it back at the root.
    assert.equal((await nina.delete(`/api/drive/items${q('/Docs/Sub/plan.txt')}`)).status, 204);
    assert.equal((await nina.delete(`/api/drive/items${q('/Docs/Sub')}`)).status, 204);
    // A trashed item inside a trashed folder goes and comes back with it: only the folder is listed.
    const t = await trash(nina);
    assert.deepEqual(t.map((i) => i.name).sort(), ['Sub']);
    const sub = t[0]!;
    const restored = await nina.post(`/api/drive/trash/${sub.id}/restore`);
    assert.equal(restored.status, 200);
    const [file] = await trash(nina);
    assert.equal(file!.name, 'plan.txt');
    assert.equal((await nina.delete(`/api/drive/items${q('/Docs/Sub')}`)).status, 204);
    assert.deepEqual((await trash(nina)).map((i) => i.name).sort(), ['Sub']);
  });

  test('another user cannot see, restore or purge (404)', async () => {
    const before = await snapshot(srv.bastide.platform.db, 'drive_nodes');
    const [item] = await trash(nina);
    assert.deepEqual(await trash(omar), []);
    assertError(await omar.post(`/api/drive/trash/${item!.id}/restore`), 404, 'not_found');
    assertError(await omar.delete(`/api/drive/trash/${item!.id}`), 404, 'not_found');
    assert.equal((await omar.delete('/api/drive/trash')).status, 200);
    assert.equal(await snapshot(srv.bastide.platform.db, 'drive_nodes'), before);
    assertError(await nina.post('/api/drive/trash/01J0000000000000000000000Z/restore'), 404, 'not_found');
    assertError(await raw(srv.url, 'GET', '/api/drive/trash'), 401, 'unauthenticated');
  });

  test('purge deletes the subtree and releases its blob references; empty trash empties it all; both are audited', async () => {
    const [item] = await trash(nina);
    assert.ok(((await refCount(srv.bastide.platform.db, sha('the trash plan'))) ?? 0) >= 1);
    assert.equal((await nina.delete(`/api/drive/trash/${item!.id}`)).status, 204);
    assert.equal(await refCount(srv.bastide.platform.db, sha('the trash plan')), 0);
    assert.equal(await refCount(srv.bastide.platform.db, sha('a new plan')), 0);
    assert.deepEqual(await trash(nina), []);
    assert.equal((await upload(nina, '/one.txt', 'one')).status, 201);
    assert.equal((await upload(nina, '/Docs/two.txt', 'two')).status, 201);
    assert.equal((await nina.delete(`/api/drive/items${q('/one.txt')}`)).status, 204);
    assert.equal((await nina.delete(`/api/drive/items${q('/Docs')}`)).status, 204);
    const e = await nina.delete('/api/drive/trash');
    assert.equal(e.status, 200);
    assert.equal(e.json.purged, 2);
    assert.equal(await refCount(srv.bastide.platform.db, sha('one')), 0);
    assert.equal(await refCount(srv.bastide.platform.db, sha('two')), 0);
    assert.equal(await snapshot(srv.bastide.platform.db, 'drive_nodes'), '[]');
    const actions = (await srv.bastide.platform.db.selectFrom('audit_log').select('action').execute()).map((r) => r.action);
    assert.ok(actions.includes('drive.node.purged'));
    assert.ok(actions.includes('drive.trash.emptied'));
  });
});
