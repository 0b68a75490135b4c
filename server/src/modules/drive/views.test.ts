import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type ApiClient, type TestServer } from '../../../test/helpers/server.js';
import { assertError, eventually, raw, snapshot, userClient } from '../../../test/helpers/api.js';
import { foldName } from './views.js';

/** Favourites, recent files, name search, quota and copy over HTTP, with who-may-see-what. */
describe('drive views', () => {
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
  const upload = (c: ApiClient, path: string, body: string | Buffer) =>
    raw(srv.url, 'PUT', `/api/drive/content${q(path)}`, { body, headers: { cookie: c.cookie, 'x-csrf-token': c.csrf, 'content-type': 'text/plain' } });
  const names = (items: Array<{ name: string }>) => items.map((i) => i.name);

  test('name folding ignores case and accents', () => {
    assert.equal(foldName('Éléphant ROSE'), 'elephant rose');
    assert.equal(foldName('Cafe\u0301'), foldName('Café'));
    assert.equal(foldName('Œuvre'), 'œuvre');
  });

  test('star, list, unstar; a favourite in the trash drops out', async () => {
    assert.equal((await nina.post('/api/drive/folders', { path: '/', name: 'Projets' })).status, 201);
    assert.equal((await upload(nina, '/Projets/budget.txt', 'b')).status, 201);
    assert.equal((await upload(nina, '/notes.txt', 'n')).status, 201);
    const s1 = await nina.post('/api/drive/favourites?drive=me', { path: '/Projets' });
    assert.equal(s1.status, 200, JSON.stringify(s1.json));
    assert.equal(s1.json.item.path, '/Projets');
    const s2 = await nina.post('/api/drive/favourites', { path: '/Projets/budget.txt' });
    assert.equal(s2.status, 200);
    // Starring twice is harmless.
    assert.equal((await nina.post('/api/drive/favourites', { path: '/Projets/budget.txt' })).status, 200);
    const list = (await nina.get('/api/drive/favourites')).json.items;
    assert.deepEqual(names(list).sort(), ['Projets', 'budget.txt']);
    const budget = list.find((i: { name: string }) => i.name === 'budget.txt');
    assert.deepEqual([budget.drive, budget.path, budget.folder, budget.kind], ['me', '/Projets/budget.txt', '/Projets', 'file']);
    // The folder goes to the trash: it and what is inside leave the list; restored, they come back.
    assert.equal((await nina.delete(`/api/drive/items${q('/Projets')}`)).status, 204);
    assert.deepEqual((await nina.get('/api/drive/favourites')).json.items, []);
    const trash = (await nina.get('/api/drive/trash')).json.items;
    assert.equal((await nina.post(`/api/drive/trash/${trash[0].id}/restore`)).status, 200);
    assert.equal((await nina.get('/api/drive/favourites')).json.items.length, 2);
    assert.equal((await nina.delete(`/api/drive/favourites/${budget.id}`)).status, 204);
    assertError(await nina.delete(`/api/drive/favourites/${budget.id}`), 404, 'not_found');
    assert.deepEqual(names((await nina.get('/api/drive/favourites')).json.items), ['Projets']);
  });

  test('nobody stars or sees a node of someone else’s drive', async () => {
    const before = await snapshot(srv.bastide.platform.db, 'drive_favourites');
    // Omar's "me" is his own drive: Nina's path does not exist there.
    assertError(await omar.post('/api/drive/favourites', { path: '/notes.txt' }), 404, 'not_found');
    // Another user's drive cannot be addressed at all.
    assertError(await omar.post('/api/drive/favourites?drive=space:nope', { path: '/notes.txt' }), 404);
    assertError(await omar.post('/api/drive/favourites?drive=user:nina', { path: '/notes.txt' }), 400, 'validation_failed');
    // Unstarring Nina's favourite by its id touches only Omar's (absent) row.
    const ninas = (await nina.get('/api/drive/favourites')).json.items;
    assertError(await omar.delete(`/api/drive/favourites/${ninas[0].id}`), 404, 'not_found');
    assert.equal(await snapshot(srv.bastide.platform.db, 'drive_favourites'), before);
    // A row pointing at Nina's node in Omar's name (as if forged) is not shown to him.
    await srv.bastide.platform.db.insertInto('drive_favourites').values({ user_id: (await omar.get('/api/session')).json.user.id, node_id: ninas[0].id, created_at: 1 }).execute();
    assert.deepEqual((await omar.get('/api/drive/favourites')).json.items, []);
    // Bad input: 4xx, nothing changed.
    assertError(await nina.post('/api/drive/favourites', { path: '/../etc' }), 400, 'invalid_name');
    assertError(await nina.post('/api/drive/favourites', { path: '/' }), 404, 'not_found');
    assertError(await nina.post('/api/drive/favourites', { path: '/x', extra: 1 }), 400, 'validation_failed');
    assertError(await nina.get('/api/drive/search?q='), 400, 'validation_failed');
  });

  test('recent: files I change and files I open, newest first, never someone else’s', async () => {
    assert.equal((await upload(nina, '/recent-a.txt', 'a')).status, 201);
    assert.equal((await upload(nina, '/recent-b.txt', 'b')).status, 201);
    // The change events are consumed after commit.
    const items = await eventually(async () => {
      const r = (await nina.get('/api/drive/recent')).json.items as Array<{ name: string; drive: string }>;
      return r.some((i) => i.name === 'recent-b.txt') && r.some((i) => i.name === 'recent-a.txt') ? r : null;
    });
    assert.ok(items.every((i) => i.drive === 'me'));
    // Opening an older file brings it to the top.
    assert.equal((await nina.post('/api/drive/recent', { path: '/notes.txt' })).status, 204);
    assert.equal((await nina.get('/api/drive/recent')).json.items[0].name, 'notes.txt');
    assertError(await nina.post('/api/drive/recent', { path: '/Projets' }), 409, 'conflict');
    assertError(await omar.post('/api/drive/recent', { path: '/notes.txt' }), 404, 'not_found');
    assert.ok(!names((await omar.get('/api/drive/recent')).json.items).includes('notes.txt'));
  });

  test('search by name: accent- and case-insensitive, with folder paths, paged, own drive only', async () => {
    assert.equal((await nina.post('/api/drive/folders', { path: '/', name: 'Été 2026' })).status, 201);
    for (let i = 1; i <= 12; i++) assert.equal((await upload(nina, `/Été 2026/Photo été ${i}.txt`, `p${i}`)).status, 201);
    assert.equal((await upload(nina, '/ETE-resume.txt', 'r')).status, 201);
    const r = (await nina.get(`/api/drive/search?q=${encodeURIComponent('ete')}&limit=5`)).json;
    assert.equal(r.total, 14);
    assert.equal(r.items.length, 5);
    assert.equal(r.nextOffset, 5);
    // Names starting with the query first (the folder before the file), then the others in numeric order.
    assert.deepEqual(names(r.items), ['Été 2026', 'ETE-resume.txt', 'Photo été 1.txt', 'Photo été 2.txt', 'Photo été 3.txt']);
    assert.equal(r.items[2].folder, '/Été 2026');
    assert.equal(r.items[2].path, '/Été 2026/Photo été 1.txt');
    const last = (await nina.get(`/api/drive/search?q=ETE&offset=10&limit=5`)).json;
    assert.deepEqual(names(last.items), ['Photo été 9.txt', 'Photo été 10.txt', 'Photo été 11.txt', 'Photo été 12.txt']);
    assert.equal(last.nextOffset, null);
    // Omar's search never sees Nina's files; trashed ones drop out.
    assert.equal((await omar.get('/api/drive/search?q=ete')).json.total, 0);
    assert.equal((await nina.delete(`/api/drive/items${q('/Été 2026')}`)).status, 204);
    assert.deepEqual(names((await nina.get('/api/drive/search?q=été')).json.items), ['ETE-resume.txt']);
    assertError(await nina.get('/api/drive/search?q=x&limit=1000'), 400, 'validation_failed');
  });

  test('quota and copy', async () => {
    const before = (await nina.get('/api/drive/quota')).json;
    assert.ok(before.used > 0 && before.total >= before.used && before.available === before.total - before.used, JSON.stringify(before));
    assert.equal((await nina.post('/api/drive/folders', { path: '/', name: 'Copies' })).status, 201);
    const c = await nina.post('/api/drive/copy', { from: '/notes.txt', to: '/Copies/notes.txt' });
    assert.equal(c.status, 201, JSON.stringify(c.json));
    assert.equal(c.json.item.path, '/Copies/notes.txt');
    assert.equal((await nina.get('/api/drive/quota')).json.used, before.used + 1);
    assertError(await nina.post('/api/drive/copy', { from: '/notes.txt', to: '/Copies/notes.txt' }), 409, 'name_taken');
    assertError(await nina.post('/api/drive/copy', { from: '/Copies', to: '/Copies/inner' }), 403, 'forbidden');
    assertError(await nina.post('/api/drive/copy', { from: '/absent', to: '/x' }), 404, 'not_found');
    assertError(await omar.post('/api/drive/copy', { from: '/notes.txt', to: '/stolen.txt' }), 404, 'not_found');
    assert.equal((await omar.get('/api/drive/quota')).json.used, 0);
  });
});
