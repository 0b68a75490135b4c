import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer, ApiClient } from '../../../test/helpers/server.js';
import { assertError, snapshotAll, userClient } from '../../../test/helpers/api.js';
import { createAppPassword } from '../identity/commands/credentials.js';

/** The contacts JSON API's richer fields (addresses, birthday, groups, photo) and the organisation directory. */
const TABLES = ['contacts_collections', 'contacts_objects', 'contacts_changes'];
// A 1×1 PNG.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

describe('contacts: fields, photo, groups and the directory', () => {
  let srv: TestServer;
  let alice: { id: string; client: ApiClient };
  let bob: { id: string; client: ApiClient };
  let gina: { id: string; client: ApiClient };
  let carl: { id: string; client: ApiClient };
  let book = '';

  before(async () => {
    srv = await startTestServer();
    alice = await userClient(srv, 'alice');
    bob = await userClient(srv, 'bob');
    gina = await userClient(srv, 'gina');
    carl = await userClient(srv, 'carl');
    book = (await alice.client.get('/api/addressbooks')).json.addressbooks[0].id;
  });
  after(() => srv.close());

  test('a contact with several e-mails, phones, addresses, a birthday, groups and a photo round-trips', async () => {
    const created = await alice.client.post(`/api/addressbooks/${book}/contacts`, {
      fn: 'Jeanne Martin', givenName: 'Jeanne', familyName: 'Martin', org: 'Mairie', title: 'DGS',
      emails: [{ value: 'jeanne@example.org', type: 'work' }, { value: 'jm@example.net', type: 'home' }],
      phones: [{ value: '+33 1 23 45 67 89', type: 'cell' }],
      addresses: [{ type: 'work', street: '1 place de la Mairie', locality: 'Lyon', postalCode: '69001', country: 'France' }],
      birthday: '1980-02-29', categories: ['Élus', 'Work', 'Work'], photo: { mediaType: 'image/png', data: PNG },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const c = created.json;
    assert.equal(c.emails.length, 2);
    assert.deepEqual(c.addresses, [{ type: 'work', street: '1 place de la Mairie', locality: 'Lyon', region: '', postalCode: '69001', country: 'France' }]);
    assert.equal(c.birthday, '1980-02-29');
    assert.deepEqual(c.categories, ['Élus', 'Work']);
    assert.equal(c.hasPhoto, true);
    const full = await alice.client.get(`/api/addressbooks/${book}/contacts/${c.id}`);
    assert.match(full.json.vcard, /PHOTO;ENCODING=b;TYPE=PNG:/);
    assert.match(full.json.vcard, /CATEGORIES:Élus,Work/);
    assert.match(full.json.vcard, /ADR;TYPE=work:;;1 place de la Mairie;Lyon;;69001;France/);
    const photo = await fetch(`${srv.url}/api/addressbooks/${book}/contacts/${c.id}/photo`, { headers: { cookie: alice.client.cookie } });
    assert.equal(photo.status, 200);
    assert.equal(photo.headers.get('content-type'), 'image/png');
    assert.equal(photo.headers.get('x-content-type-options'), 'nosniff');
    assert.deepEqual(Buffer.from(await photo.arrayBuffer()), Buffer.from(PNG, 'base64'));
    // Bob cannot see it.
    const other = await fetch(`${srv.url}/api/addressbooks/${book}/contacts/${c.id}/photo`, { headers: { cookie: bob.client.cookie } });
    assert.equal(other.status, 404, "another user's book does not exist for Bob");

    // An edit that only changes the title keeps everything else; removing the photo and groups.
    const edited = await alice.client.put(`/api/addressbooks/${book}/contacts/${c.id}`, { fn: 'Jeanne Martin', title: 'Directrice', etag: c.etag });
    assert.equal(edited.status, 200, JSON.stringify(edited.json));
    assert.equal(edited.json.title, 'Directrice');
    assert.equal(edited.json.hasPhoto, true);
    assert.deepEqual(edited.json.categories, ['Élus', 'Work']);
    const removed = await alice.client.put(`/api/addressbooks/${book}/contacts/${c.id}`, { fn: 'Jeanne Martin', photo: null, categories: [], birthday: '' });
    assert.equal(removed.json.hasPhoto, false);
    assert.deepEqual(removed.json.categories, []);
    assert.equal(removed.json.birthday, '');
    assertError(await alice.client.get(`/api/addressbooks/${book}/contacts/${c.id}/photo`), 404, 'not_found');
  });

  test('bad photos, birthdays and fields are refused with a 4xx and change nothing', async () => {
    const before = await snapshotAll(srv.bastide.platform.db, TABLES);
    const post = (body: Record<string, unknown>) => alice.client.post(`/api/addressbooks/${book}/contacts`, { fn: 'X', ...body });
    assertError(await post({ photo: { mediaType: 'image/png', data: Buffer.from('<svg onload=alert(1)>').toString('base64') } }), 400, 'validation_failed');
    assertError(await post({ photo: { mediaType: 'image/svg+xml', data: PNG } }), 400, 'validation_failed');
    assertError(await post({ photo: { mediaType: 'image/png', data: 'not base64!' } }), 400, 'validation_failed');
    assertError(await post({ photo: { mediaType: 'image/jpeg', data: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(300 * 1024)]).toString('base64') } }), 400);
    assertError(await post({ birthday: '2023-02-30' }), 400, 'validation_failed');
    assertError(await post({ birthday: 'yesterday' }), 400, 'validation_failed');
    assertError(await post({ addresses: [{ street: 'x', planet: 'Mars' }] }), 400, 'validation_failed');
    assertError(await post({ categories: [''] }), 400, 'validation_failed');
    assert.deepEqual(await snapshotAll(srv.bastide.platform.db, TABLES), before);
  });

  test('photos and groups from CardDAV clients (vCard 4.0 data: URI, several CATEGORIES lines) are read', async () => {
    const vcf = [
      'BEGIN:VCARD', 'VERSION:4.0', 'UID:four-1', 'FN:Four', `PHOTO:data:image/png;base64,${PNG}`, 'CATEGORIES:A,B', 'CATEGORIES:C', 'BDAY:19700101', 'END:VCARD',
      'BEGIN:VCARD', 'VERSION:3.0', 'UID:three-1', 'FN:Three', 'PHOTO;VALUE=uri:https://example.org/p.jpg', 'BDAY:--0412', 'END:VCARD',
      'BEGIN:VCARD', 'VERSION:2.1', 'UID;X-A=b:urn:uuid:old-1', 'FN:Old', 'END:VCARD', '',
    ].join('\r\n');
    const r = await fetch(`${srv.url}/api/addressbooks/${book}/import`, { method: 'POST', headers: { cookie: alice.client.cookie, 'x-csrf-token': alice.client.csrf, 'content-type': 'text/vcard' }, body: vcf });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { imported: 2, failed: [{ uid: 'urn:uuid:old-1', code: 'invalid_vcard' }] }, 'a refused card is named by its UID');
    const list = (await alice.client.get(`/api/addressbooks/${book}/contacts`)).json.contacts as Array<{ fn: string; hasPhoto: boolean; categories: string[]; birthday: string }>;
    const four = list.find((c) => c.fn === 'Four')!;
    assert.equal(four.hasPhoto, true);
    assert.deepEqual(four.categories, ['A', 'B', 'C']);
    assert.equal(four.birthday, '1970-01-01');
    const three = list.find((c) => c.fn === 'Three')!;
    assert.equal(three.hasPhoto, false, 'a linked photo is not fetched');
    assert.equal(three.birthday, '');
  });

  test('the directory lists every active user with profile fields; guests see only the people of their spaces', async () => {
    const all = await alice.client.get('/api/directory');
    assert.equal(all.status, 200);
    assert.equal(all.json.scope, 'organisation');
    assert.deepEqual(all.json.people.map((p: { login: string }) => p.login), ['alice', 'bob', 'carl', 'gina']);
    assert.deepEqual(Object.keys(all.json.people[0]).sort(), ['displayName', 'email', 'groups', 'id', 'login']);
    assert.equal(all.json.people[1].email, 'bob@example.org');
    const found = await alice.client.get('/api/directory?q=BO');
    assert.deepEqual(found.json.people.map((p: { login: string }) => p.login), ['bob']);
    const page = await alice.client.get('/api/directory?after=bob&limit=1');
    assert.deepEqual(page.json.people.map((p: { login: string }) => p.login), ['carl']);
    assertError(await alice.client.get('/api/directory?limit=0'), 400, 'validation_failed');
    assertError(await alice.client.get('/api/directory?planet=x'), 400, 'validation_failed');
    assertError(await new ApiClient(srv.url).get('/api/directory'), 401, 'unauthenticated');

    // Gina is a guest in Bob's space (and nothing else): she sees Bob and herself only.
    const space = await bob.client.post('/api/spaces', { name: 'Projet', visibility: 'secret' });
    assert.equal(space.status, 201, JSON.stringify(space.json));
    assert.equal((await bob.client.put(`/api/spaces/${space.json.space.id}/members/${gina.id}`, { role: 'guest' })).status, 204);
    const guest = await gina.client.get('/api/directory');
    assert.equal(guest.status, 200);
    assert.equal(guest.json.scope, 'spaces');
    assert.deepEqual(guest.json.people.map((p: { login: string }) => p.login), ['bob', 'gina']);
    // Carl, a member of the space, is not a guest: he sees everyone.
    assert.equal((await bob.client.put(`/api/spaces/${space.json.space.id}/members/${carl.id}`, { role: 'member' })).status, 204);
    assert.equal((await carl.client.get('/api/directory')).json.people.length, 4);
    // A disabled user leaves the directory.
    await srv.bastide.platform.db.updateTable('users').set({ disabled: 1 }).where('id', '=', carl.id).execute();
    assert.deepEqual((await alice.client.get('/api/directory')).json.people.map((p: { login: string }) => p.login), ['alice', 'bob', 'gina']);
  });

  test('the directory is not readable with a DAV-only app password', async () => {
    const { password } = await createAppPassword({ platform: srv.bastide.platform, actor: { kind: 'system' } }, { userId: alice.id, name: 'dav', scopes: ['dav'] });
    const r = await fetch(`${srv.url}/api/directory`, { headers: { authorization: `Basic ${Buffer.from(`alice:${password}`).toString('base64')}` } });
    assert.ok(r.status === 401 || r.status === 403, String(r.status));
  });
});
