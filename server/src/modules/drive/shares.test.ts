import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type ApiClient, type TestServer } from '../../../test/helpers/server.js';
import { assertError, eventually, raw, snapshotAll, userClient } from '../../../test/helpers/api.js';
import { createAppPassword } from '../identity/commands/credentials.js';

/**
 * Sharing, public links, space drives and versions — and the permission matrix: nobody reaches a file or
 * folder they were not given, through the JSON API, WebDAV or a link, including after revocation and after
 * removal from a group or a space.
 */
describe('drive sharing', () => {
  let srv: TestServer;
  let alice: ApiClient;
  let bob: ApiClient;
  let carol: ApiClient;
  let dave: ApiClient;
  let admin: ApiClient;
  const ids: Record<string, string> = {};
  const davAuth: Record<string, string> = {};

  before(async () => {
    srv = await startTestServer();
    const clients: Record<string, ApiClient> = {};
    for (const login of ['alice', 'bob', 'carol', 'dave']) {
      const u = await userClient(srv, login);
      ids[login] = u.id;
      clients[login] = u.client;
      const { password } = await createAppPassword({ platform: srv.bastide.platform, actor: { kind: 'system' } }, { userId: u.id, name: 'dav', scopes: ['dav'] });
      davAuth[login] = `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;
    }
    ({ alice, bob, carol, dave } = clients as Record<'alice' | 'bob' | 'carol' | 'dave', ApiClient>);
    admin = (await userClient(srv, 'root', { admin: true })).client;
  });
  after(() => srv.close());

  const q = (p: string, drive?: string) => `?path=${encodeURIComponent(p)}${drive ? `&drive=${encodeURIComponent(drive)}` : ''}`;
  const upload = (c: ApiClient, path: string, body: string, drive?: string) =>
    raw(srv.url, 'PUT', `/api/drive/content${q(path, drive)}`, { body, headers: { cookie: c.cookie, 'x-csrf-token': c.csrf, 'content-type': 'text/plain' } });
  const download = async (c: ApiClient | null, url: string) => {
    const r = await fetch(`${srv.url}${url}`, { headers: c ? { cookie: c.cookie } : {} });
    return { status: r.status, text: await r.text(), headers: r.headers };
  };
  const names = async (c: ApiClient, p: string, drive?: string) => {
    const r = await c.get(`/api/drive/items${q(p, drive)}`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return (r.json.items as { name: string }[]).map((i) => i.name);
  };
  const dav = (login: string, method: string, path: string) => fetch(`${srv.url}${path}`, { method, headers: { authorization: davAuth[login]!, depth: '1' } });
  const tables = ['drive_nodes', 'drive_shares', 'drive_links', 'drive_versions'];

  test('a read share: the recipient lists and downloads, and can do nothing else; others see nothing', async () => {
    assert.equal((await alice.post('/api/drive/folders', { path: '/', name: 'Projets' })).status, 201);
    assert.equal((await upload(alice, '/Projets/plan.txt', 'le plan')).status, 201);
    assert.equal((await upload(alice, '/secret.txt', 'à moi seule')).status, 201);
    const created = await alice.post('/api/drive/shares', { path: '/Projets', granteeType: 'user', granteeId: ids.bob, permission: 'read' });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const shareId = created.json.id as string;
    const drive = `share:${shareId}`;

    const mine = await bob.get('/api/drive/shared-with-me');
    assert.equal(mine.status, 200);
    assert.deepEqual(mine.json.items.map((i: { item: { name: string }; permission: string; ownerName: string; drive: string }) => [i.item.name, i.permission, i.drive]), [['Projets', 'read', drive]]);
    assert.deepEqual(await names(bob, '/', drive), ['plan.txt']);
    assert.equal((await download(bob, `/api/drive/content${q('/plan.txt', drive)}`)).text, 'le plan');
    // Bob is told, in his language, with a link to the "shared with me" view.
    const note = await eventually(async () => ((await bob.get('/api/notifications')).json.items as { type: string; body: string; link: string }[]).find((n) => n.type === 'drive.shared'), 5000, 'share notification');
    assert.match(note.body, /Projets/);
    assert.equal(note.link, '/drive?view=shared');

    const before = await snapshotAll(srv.bastide.platform.db, tables);
    assertError(await upload(bob, '/new.txt', 'x', drive), 403, 'forbidden');
    assertError(await upload(bob, '/plan.txt', 'overwritten', drive), 403, 'forbidden');
    assertError(await bob.delete(`/api/drive/items${q('/plan.txt', drive)}`), 403, 'forbidden');
    assertError(await bob.post(`/api/drive/move?drive=${drive}`, { from: '/plan.txt', to: '/moved.txt' }), 403, 'forbidden');
    assertError(await bob.post(`/api/drive/folders?drive=${drive}`, { path: '/', name: 'F' }), 403, 'forbidden');
    // No way out of the shared folder, no reshare, no trash of the owner.
    assertError(await bob.get(`/api/drive/items${q('/../', drive)}`), 400);
    assertError(await bob.post(`/api/drive/shares?drive=${drive}`, { path: '/plan.txt', granteeType: 'user', granteeId: ids.carol, permission: 'read' }), 403, 'forbidden');
    assertError(await bob.post(`/api/drive/links?drive=${drive}`, { path: '/plan.txt', mode: 'read' }), 403, 'forbidden');
    assertError(await bob.get(`/api/drive/trash?drive=${drive}`), 403, 'forbidden');
    assert.deepEqual(await snapshotAll(srv.bastide.platform.db, tables), before);

    // Others: the share does not exist for them; alice's own drive is not theirs.
    for (const c of [carol, dave, admin]) {
      assertError(await c.get(`/api/drive/items${q('/', drive)}`), 404, 'not_found');
      assert.equal((await download(c, `/api/drive/content${q('/plan.txt', drive)}`)).status, 404);
      assert.deepEqual((await c.get('/api/drive/shared-with-me')).json.items, []);
    }
    assertError(await bob.get(`/api/drive/shares${q('/Projets', drive)}`), 403);
    // WebDAV: bob's tree is his own; alice's paths do not exist for him.
    assert.equal((await dav('bob', 'GET', '/dav/files/alice/secret.txt')).status, 404);
    assert.equal((await dav('bob', 'PROPFIND', '/dav/files/alice/')).status, 404);
  });

  test('write share, then revocation takes effect at once', async () => {
    const s = await alice.post('/api/drive/shares', { path: '/Projets', granteeType: 'user', granteeId: ids.bob, permission: 'write' });
    assert.equal(s.status, 201);
    const drive = `share:${s.json.id}`;
    assert.equal((await upload(bob, '/de-bob.txt', 'écrit par bob', drive)).status, 201);
    assert.deepEqual((await names(alice, '/Projets')).sort(), ['de-bob.txt', 'plan.txt']);
    // What bob deletes goes to alice's trash (her drive, her trash).
    assert.equal((await bob.delete(`/api/drive/items${q('/de-bob.txt', drive)}`)).status, 204);
    assert.deepEqual(((await alice.get('/api/drive/trash')).json.items as { name: string }[]).map((i) => i.name), ['de-bob.txt']);
    const list = await alice.get(`/api/drive/shares${q('/Projets')}`);
    assert.equal(list.status, 200);
    assert.equal(list.json.shares.length, 1);
    assert.equal(list.json.shares[0].granteeName.length > 0, true);
    // Over WebDAV at /dav/shares/<id>/: the same folder, and locks agree with the owner's paths.
    const davShare = `/dav/shares/${s.json.id}`;
    const pf = await dav('bob', 'PROPFIND', `${davShare}/`);
    assert.equal(pf.status, 207);
    assert.match(await pf.text(), new RegExp(`<D:href>${davShare}/plan.txt</D:href>`));
    const put = await fetch(`${srv.url}${davShare}/par-dav.txt`, { method: 'PUT', body: 'bob via dav', headers: { authorization: davAuth.bob! } });
    assert.equal(put.status, 201);
    const lockBody = '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>';
    const lock = await fetch(`${srv.url}${davShare}/plan.txt`, { method: 'LOCK', body: lockBody, headers: { authorization: davAuth.bob!, 'content-type': 'application/xml' } });
    assert.equal(lock.status, 200);
    const lockToken = lock.headers.get('lock-token')!;
    assert.match(await lock.text(), new RegExp(`<D:lockroot><D:href>${davShare}/plan.txt</D:href>`));
    const blocked = await fetch(`${srv.url}/dav/files/alice/Projets/plan.txt`, { method: 'PUT', body: 'alice overwrites', headers: { authorization: davAuth.alice! } });
    assert.equal(blocked.status, 423);
    const aliceSees = await (await fetch(`${srv.url}/dav/files/alice/Projets/plan.txt`, { method: 'PROPFIND', headers: { authorization: davAuth.alice!, depth: '0' } })).text();
    assert.match(aliceSees, /<D:lockroot><D:href>\/dav\/files\/alice\/Projets\/plan.txt<\/D:href>/);
    const unlock = await fetch(`${srv.url}${davShare}/plan.txt`, { method: 'UNLOCK', headers: { authorization: davAuth.bob!, 'lock-token': lockToken } });
    assert.equal(unlock.status, 204);
    assert.equal((await dav('carol', 'PROPFIND', `${davShare}/`)).status, 404);
    assert.equal((await fetch(`${srv.url}${davShare}/../../files/alice/secret.txt`, { headers: { authorization: davAuth.bob! } })).status, 404);
    assert.equal((await alice.delete(`/api/drive/shares/${s.json.id}`)).status, 204);
    assertError(await bob.get(`/api/drive/items${q('/', drive)}`), 404, 'not_found');
    assert.equal((await dav('bob', 'PROPFIND', `${davShare}/`)).status, 404);
    assertError(await upload(bob, '/late.txt', 'too late', drive), 404, 'not_found');
    assert.deepEqual((await bob.get('/api/drive/shared-with-me')).json.items, []);
    // Another user cannot revoke alice's shares.
    const again = await alice.post('/api/drive/shares', { path: '/Projets', granteeType: 'user', granteeId: ids.bob, permission: 'read' });
    assertError(await carol.delete(`/api/drive/shares/${again.json.id}`), 404, 'not_found');
    assertError(await bob.delete(`/api/drive/shares/${again.json.id}`), 404, 'not_found');
    assert.equal((await alice.delete(`/api/drive/shares/${again.json.id}`)).status, 204);
  });

  test('group and space shares follow membership; trashing the folder hides the share', async () => {
    const g = await admin.post('/api/admin/groups', { name: 'Compta' });
    assert.equal(g.status, 201, JSON.stringify(g.json));
    const groupId = g.json.group.id as string;
    assert.equal((await admin.put(`/api/admin/groups/${groupId}/members/${ids.carol}`)).status, 204);
    const s = await alice.post('/api/drive/shares', { path: '/Projets/plan.txt', granteeType: 'group', granteeId: groupId, permission: 'read' });
    assert.equal(s.status, 201);
    const drive = `share:${s.json.id}`;
    // A shared file: its path in the share is '/'.
    assert.equal((await download(carol, `/api/drive/content${q('/', drive)}`)).text, 'le plan');
    assertError(await dave.get(`/api/drive/content${q('/', drive)}`), 404);
    assert.equal((await admin.delete(`/api/admin/groups/${groupId}/members/${ids.carol}`)).status, 204);
    assertError(await carol.get(`/api/drive/content${q('/', drive)}`), 404, 'not_found');

    const sp = await dave.post('/api/spaces', { name: 'Équipe', visibility: 'secret' });
    assert.equal(sp.status, 201);
    const spaceId = sp.json.space.id as string;
    assert.equal((await dave.put(`/api/spaces/${spaceId}/members/${ids.carol}`, { role: 'member' })).status, 204);
    const s2 = await alice.post('/api/drive/shares', { path: '/Projets', granteeType: 'space', granteeId: spaceId, permission: 'read' });
    assertError(await alice.post('/api/drive/shares', { path: '/Projets', granteeType: 'space', granteeId: 'nope', permission: 'read' }), 400, 'validation_failed');
    assert.equal(s2.status, 201);
    const d2 = `share:${s2.json.id}`;
    assert.deepEqual(await names(carol, '/', d2), ['par-dav.txt', 'plan.txt']);
    assert.deepEqual(await names(dave, '/', d2), ['par-dav.txt', 'plan.txt']);
    assert.equal((await dave.delete(`/api/spaces/${spaceId}/members/${ids.carol}`)).status, 204);
    assertError(await carol.get(`/api/drive/items${q('/', d2)}`), 404);
    // Trashing the shared folder (or a folder above it) cuts the share; restoring brings it back.
    assert.equal((await alice.delete(`/api/drive/items${q('/Projets')}`)).status, 204);
    assertError(await dave.get(`/api/drive/items${q('/', d2)}`), 404);
    assert.deepEqual((await dave.get('/api/drive/shared-with-me')).json.items, []);
    const t = ((await alice.get('/api/drive/trash')).json.items as { id: string; name: string }[]).find((i) => i.name === 'Projets')!;
    assert.equal((await alice.post(`/api/drive/trash/${t.id}/restore`)).status, 200);
    assert.deepEqual(await names(dave, '/', d2), ['par-dav.txt', 'plan.txt']);
  });

  test("a space's drive: members read and write, guests read and write, outsiders see nothing", async () => {
    const sp = await carol.post('/api/spaces', { name: 'Atelier', visibility: 'open' });
    const spaceId = sp.json.space.id as string;
    const drive = `space:${spaceId}`;
    assert.equal((await carol.post(`/api/drive/folders?drive=${drive}`, { path: '/', name: 'Commun' })).status, 201);
    assert.equal((await upload(carol, '/Commun/notes.md', '# Notes', drive)).status, 201);
    assert.equal((await carol.put(`/api/spaces/${spaceId}/members/${ids.dave}`, { role: 'guest' })).status, 204);
    assert.deepEqual(await names(dave, '/Commun', drive), ['notes.md']);
    assert.equal((await upload(dave, '/Commun/invité.txt', 'bonjour', drive)).status, 201);
    // Guests do not share or manage the trash.
    assertError(await dave.post(`/api/drive/links?drive=${drive}`, { path: '/Commun', mode: 'read' }), 403);
    assertError(await dave.get(`/api/drive/trash?drive=${drive}`), 403);
    for (const c of [alice, bob, admin]) assertError(await c.get(`/api/drive/items${q('/', drive)}`), 404, 'not_found');
    // The same drive over WebDAV at /dav/spaces/<id>/, for members only.
    const davBase = `/dav/spaces/${spaceId}`;
    const pf = await dav('dave', 'PROPFIND', `${davBase}/Commun/`);
    assert.equal(pf.status, 207);
    const xml = await pf.text();
    assert.match(xml, new RegExp(`<D:href>${davBase}/Commun/notes.md</D:href>`));
    const davPut = await fetch(`${srv.url}${davBase}/Commun/par-dav.txt`, { method: 'PUT', body: 'via WebDAV', headers: { authorization: davAuth.dave! } });
    assert.equal(davPut.status, 201);
    const mv = await fetch(`${srv.url}${davBase}/Commun/par-dav.txt`, { method: 'MOVE', headers: { authorization: davAuth.dave!, destination: `${srv.url}${davBase}/déplacé.txt` } });
    assert.equal(mv.status, 201);
    assert.deepEqual((await names(carol, '/', drive)).sort(), ['Commun', 'déplacé.txt']);
    const lockBody = '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>';
    const lock = await fetch(`${srv.url}${davBase}/déplacé.txt`, { method: 'LOCK', body: lockBody, headers: { authorization: davAuth.dave!, 'content-type': 'application/xml' } });
    assert.equal(lock.status, 200);
    const unlock = await fetch(`${srv.url}${davBase}/déplacé.txt`, { method: 'UNLOCK', headers: { authorization: davAuth.dave!, 'lock-token': lock.headers.get('lock-token')! } });
    assert.equal(unlock.status, 204);
    // A destination in another drive is refused (502, as RFC 4918 says for another server).
    const out = await fetch(`${srv.url}${davBase}/déplacé.txt`, { method: 'COPY', headers: { authorization: davAuth.dave!, destination: `${srv.url}/dav/files/dave/volé.txt` } });
    assert.equal(out.status, 502);
    for (const who of ['alice', 'bob']) {
      assert.equal((await dav(who, 'PROPFIND', `${davBase}/`)).status, 404);
      assert.equal((await dav(who, 'GET', `${davBase}/Commun/notes.md`)).status, 404);
    }
    assert.equal((await carol.delete(`/api/spaces/${spaceId}/members/${ids.dave}`)).status, 204);
    assertError(await dave.get(`/api/drive/items${q('/', drive)}`), 404);
    // The space's own quota: the file counts there, not in carol's drive.
    const mine = await srv.bastide.platform.db.selectFrom('drive_nodes').select('owner_type').where('name', '=', 'invité.txt').executeTakeFirstOrThrow();
    assert.equal(mine.owner_type, 'space');
  });

  test('a public link with a password, an expiry and a download limit', async () => {
    assert.equal((await upload(alice, '/rapport.pdf', '%PDF-1.4 le rapport')).status, 201);
    const created = await alice.post('/api/drive/links', { path: '/rapport.pdf', mode: 'read', password: 'sésame ouvre-toi', maxDownloads: 2, expiresAt: Date.now() + 3600_000 });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const link = created.json.link as { id: string; url: string; hasPassword: boolean; downloads: number };
    assert.equal(link.hasPassword, true);
    const token = link.url.split('/s/')[1]!;
    const base = `/api/public/links/${token}`;
    // Locked until the password is given; a wrong password is refused and counted.
    assertError(await raw(srv.url, 'GET', base), 401, 'link_locked');
    assert.equal((await download(null, `${base}/content`)).status, 401);
    assertError(await raw(srv.url, 'POST', `${base}/unlock`, { json: { password: 'non' } }), 403, 'link_password_wrong');
    const ok = await raw(srv.url, 'POST', `${base}/unlock`, { json: { password: 'sésame ouvre-toi' } });
    assert.equal(ok.status, 204);
    const cookie = ok.headers.get('set-cookie')!.split(';')[0]!;
    const info = await raw(srv.url, 'GET', base, { headers: { cookie } });
    assert.equal(info.status, 200);
    assert.equal(info.json.name, 'rapport.pdf');
    assert.equal(info.json.downloadsLeft, 2);
    const get = async () => fetch(`${srv.url}${base}/content`, { headers: { cookie } });
    const first = await get();
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('content-disposition')?.startsWith('attachment'), true);
    assert.equal(first.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(await first.text(), '%PDF-1.4 le rapport');
    // A resumed download (Range not from 0) does not count again.
    const part = await fetch(`${srv.url}${base}/content`, { headers: { cookie, range: 'bytes=5-' } });
    assert.equal(part.status, 206);
    assert.equal((await get()).status, 200);
    assertError(await raw(srv.url, 'GET', base, { headers: { cookie } }), 410, 'link_unavailable');
    assert.equal((await get()).status, 410);
    // The owner sees the count, raises the limit, then revokes: gone at once.
    assert.equal((await alice.patch(`/api/drive/links/${link.id}`, { maxDownloads: 10 })).status, 200);
    assert.equal((await get()).status, 200);
    assertError(await bob.delete(`/api/drive/links/${link.id}`), 404);
    assert.equal((await alice.delete(`/api/drive/links/${link.id}`)).status, 204);
    assert.equal((await get()).status, 404);
    // Changing the password invalidates the unlocked cookie.
    const l2 = (await alice.post('/api/drive/links', { path: '/rapport.pdf', mode: 'read', password: 'un' })).json.link;
    const b2 = `/api/public/links/${l2.url.split('/s/')[1]}`;
    const c2 = (await raw(srv.url, 'POST', `${b2}/unlock`, { json: { password: 'un' } })).headers.get('set-cookie')!.split(';')[0]!;
    assert.equal((await raw(srv.url, 'GET', b2, { headers: { cookie: c2 } })).status, 200);
    assert.equal((await alice.patch(`/api/drive/links/${l2.id}`, { password: 'deux' })).status, 200);
    assertError(await raw(srv.url, 'GET', b2, { headers: { cookie: c2 } }), 401, 'link_locked');
    // Expired links are refused; expiry in the past cannot be set.
    assertError(await alice.post('/api/drive/links', { path: '/rapport.pdf', mode: 'read', expiresAt: 1000 }), 400, 'validation_failed');
    assertError(await raw(srv.url, 'GET', '/api/public/links/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), 404, 'not_found');
    assertError(await raw(srv.url, 'GET', '/api/public/links/bad%2F..%2Ftoken'), 400);
  });

  test('a file-drop link takes new files only and shows nothing', async () => {
    assert.equal((await alice.post('/api/drive/folders', { path: '/', name: 'Dépôt' })).status, 201);
    assert.equal((await upload(alice, '/Dépôt/déjà là.txt', 'privé')).status, 201);
    assertError(await alice.post('/api/drive/links', { path: '/rapport.pdf', mode: 'drop' }), 400, 'validation_failed');
    const l = (await alice.post('/api/drive/links', { path: '/Dépôt', mode: 'drop' })).json.link;
    const base = `/api/public/links/${l.url.split('/s/')[1]}`;
    const put = (name: string, body: string) => raw(srv.url, 'PUT', `${base}/files?name=${encodeURIComponent(name)}`, { body, headers: { 'content-type': 'text/plain' } });
    const r1 = await put('facture.txt', 'un');
    assert.equal(r1.status, 201, JSON.stringify(r1.json));
    const r2 = await put('facture.txt', 'deux');
    assert.equal(r2.json.name, 'facture (2).txt');
    // Nothing is overwritten, even a file that was already there.
    assert.equal((await put('déjà là.txt', 'écrasé ?')).json.name, 'déjà là (2).txt');
    assert.equal((await download(alice, `/api/drive/content${q('/Dépôt/déjà là.txt')}`)).text, 'privé');
    assertError(await raw(srv.url, 'GET', `${base}/items`), 403);
    assert.equal((await download(null, `${base}/content?path=${encodeURIComponent('/déjà là.txt')}`)).status, 403);
    assertError(await put('../évasion.txt', 'x'), 400, 'invalid_name');
    assertError(await put('a/b.txt', 'x'), 400, 'invalid_name');
    assert.deepEqual((await names(alice, '/Dépôt')).sort(), ['déjà là (2).txt', 'déjà là.txt', 'facture (2).txt', 'facture.txt']);
    assertError(await raw(srv.url, 'GET', `${base}/zip`), 403);
    // A read link of the same folder downloads it whole as a zip (one download counted).
    const rl = (await alice.post('/api/drive/links', { path: '/Dépôt', mode: 'read', maxDownloads: 1 })).json.link;
    const rb = `/api/public/links/${rl.url.split('/s/')[1]}`;
    const zip = await fetch(`${srv.url}${rb}/zip`);
    assert.equal(zip.status, 200);
    assert.equal(zip.headers.get('content-type'), 'application/zip');
    assert.match(zip.headers.get('content-disposition') ?? '', /^attachment;/);
    const bytes = Buffer.from(await zip.arrayBuffer());
    assert.equal(bytes.subarray(0, 4).toString('hex'), '504b0304');
    assert.ok(bytes.includes(Buffer.from('facture (2).txt')));
    assert.equal((await fetch(`${srv.url}${rb}/zip`)).status, 410);
  });

  test('versions: each overwrite keeps the previous content; download and restore one', async () => {
    for (const v of ['v1', 'v2', 'v3']) assert.ok([200, 201].includes((await upload(alice, '/journal.txt', v)).status));
    const list = await alice.get(`/api/drive/versions${q('/journal.txt')}`);
    assert.equal(list.status, 200);
    assert.equal(list.json.versions.length, 2);
    const [v2, v1] = list.json.versions as { id: string; size: number; author: { displayName: string } | null }[];
    assert.equal(v1!.author?.displayName.length ? true : false, true);
    assert.equal((await download(alice, `/api/drive/versions/${v1!.id}/content${q('/journal.txt')}`)).text, 'v1');
    assert.equal((await download(alice, `/api/drive/versions/${v2!.id}/content${q('/journal.txt')}`)).text, 'v2');
    // Others cannot list or read them, even knowing the id.
    assertError(await bob.get(`/api/drive/versions${q('/journal.txt')}`), 404);
    assert.equal((await download(bob, `/api/drive/versions/${v1!.id}/content${q('/journal.txt')}`)).status, 404);
    const restored = await alice.post(`/api/drive/versions/${v1!.id}/restore${q('/journal.txt')}`);
    assert.equal(restored.status, 200);
    assert.equal((await download(alice, `/api/drive/content${q('/journal.txt')}`)).text, 'v1');
    // v3 (what was current) is now a version in turn.
    const after = (await alice.get(`/api/drive/versions${q('/journal.txt')}`)).json.versions as { id: string }[];
    assert.equal(after.length, 3);
    assert.equal((await download(alice, `/api/drive/versions/${after[0]!.id}/content${q('/journal.txt')}`)).text, 'v3');
    // WebDAV overwrites keep versions too.
    const put = await fetch(`${srv.url}/dav/files/alice/journal.txt`, { method: 'PUT', body: 'v4', headers: { authorization: davAuth.alice! } });
    assert.equal(put.status, 204);
    assert.equal(((await alice.get(`/api/drive/versions${q('/journal.txt')}`)).json.versions as unknown[]).length, 4);
    assertError(await alice.post(`/api/drive/versions/${v1!.id}/restore${q('/rapport.pdf')}`), 404);
  });

  test('quotas: an administrator sets one per user; beyond it uploads are refused and old versions give way', async () => {
    const path = `/api/admin/drive/quota?ownerType=user&ownerId=${ids.bob}`;
    assertError(await bob.get(path), 403, 'forbidden');
    assertError(await bob.put(path, { bytes: 10 ** 12 }), 403, 'forbidden');
    assertError(await admin.put('/api/admin/drive/quota?ownerType=user&ownerId=01J0000000000000000000000Z', { bytes: 100 }), 404);
    assertError(await admin.put(path, { bytes: -1 }), 400);
    const set = await admin.put(path, { bytes: 100 });
    assert.equal(set.status, 200, JSON.stringify(set.json));
    assert.deepEqual(set.json, { used: 0, limit: 100, custom: true });
    assert.equal((await bob.get('/api/drive/quota')).json.total ?? (await bob.get('/api/drive/quota')).json.limit, 100);
    assert.equal((await upload(bob, '/a.txt', 'x'.repeat(60))).status, 201);
    assertError(await upload(bob, '/b.txt', 'y'.repeat(60)), 507, 'quota_exceeded');
    // Overwriting near the limit: the previous content would be a version; it gives way instead of refusing.
    assert.equal((await upload(bob, '/a.txt', 'z'.repeat(70))).status, 200);
    assert.equal(((await bob.get(`/api/drive/versions${q('/a.txt')}`)).json.versions as unknown[]).length, 0);
    assert.equal((await admin.put(path, { bytes: null })).json.custom, false);
    assert.equal((await upload(bob, '/b.txt', 'y'.repeat(60))).status, 201);
  });
});
