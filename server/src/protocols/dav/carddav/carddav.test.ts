import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startTestServer, makeUser, type TestServer } from '../../../../test/helpers/server.js';
import { snapshotAll } from '../../../../test/helpers/api.js';
import { createAppPassword } from '../../../modules/identity/commands/credentials.js';

/** CardDAV over real HTTP: discovery, address books, vCards, addressbook-query/multiget, sync, permissions. */
const fixture = (name: string): Buffer => readFileSync(new URL(`../../../../test/fixtures/vcard/${name}`, import.meta.url));
const basic = (login: string, password: string): string => `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;
const TABLES = ['contacts_collections', 'contacts_objects', 'contacts_changes'];

describe('CardDAV', () => {
  let srv: TestServer;
  let auth = '';
  let bobAuth = '';
  const home = '/dav/addressbooks/alice/';
  const req = (method: string, path: string, init: { headers?: Record<string, string>; body?: string | Buffer; auth?: string } = {}): Promise<Response> =>
    fetch(`${srv.url}${path}`, { method, headers: { authorization: init.auth ?? auth, ...init.headers }, body: init.body ? new Uint8Array(Buffer.from(init.body)) : null, redirect: 'manual' });
  const report = (path: string, body: string): Promise<Response> => req('REPORT', path, { headers: { depth: '1', 'content-type': 'application/xml' }, body });

  before(async () => {
    srv = await startTestServer();
    const alice = await makeUser(srv, 'alice');
    const bob = await makeUser(srv, 'bob');
    const pw = async (id: string): Promise<string> => (await createAppPassword({ platform: srv.bastide.platform, actor: { kind: 'system' } }, { userId: id, name: 'dav', scopes: ['dav'] })).password;
    auth = basic('alice', await pw(alice.id));
    bobAuth = basic('bob', await pw(bob.id));
  });
  after(() => srv.close());

  test('well-known, home with the default book, extended MKCOL and plain MKCOL', async () => {
    const w = await req('PROPFIND', '/.well-known/carddav');
    assert.equal(w.status, 301);
    assert.equal(w.headers.get('location'), '/dav/principals/alice/');
    const h = await req('PROPFIND', home, { headers: { depth: '1' }, body: '<D:propfind xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:prop><D:resourcetype/><D:displayname/><CR:supported-address-data/><D:sync-token/></D:prop></D:propfind>' });
    assert.equal(h.status, 207);
    const t = await h.text();
    assert.match(t, /<D:href>\/dav\/addressbooks\/alice\/contacts\/<\/D:href>/);
    assert.match(t, /<D:collection\/><CR:addressbook\/>/);
    assert.match(t, /version="4.0"/);
    const mk = await req('MKCOL', `${home}team/`, {
      body: '<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype><D:displayname>Team</D:displayname><CR:addressbook-description>Colleagues</CR:addressbook-description></D:prop></D:set></D:mkcol>',
    });
    assert.equal(mk.status, 201);
    const wrong = await req('MKCOL', `${home}cal/`, { body: '<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:resourcetype><D:collection/><C:calendar/></D:resourcetype></D:prop></D:set></D:mkcol>' });
    assert.equal(wrong.status, 403);
    assert.match(await wrong.text(), /valid-resourcetype/);
    assert.equal((await req('MKCOL', `${home}plain/`)).status, 201);
    assert.equal((await req('MKCALENDAR', `${home}nope/`)).status, 405);
  });

  test('PUT vCard 3.0 and 4.0, refuse broken ones with valid-address-data, query and multiget', async () => {
    assert.equal((await req('PUT', `${home}team/jean.vcf`, { headers: { 'content-type': 'text/vcard' }, body: fixture('v3-folded.vcf') })).status, 201);
    assert.equal((await req('PUT', `${home}team/zoe.vcf`, { headers: { 'content-type': 'text/vcard; charset=utf-8' }, body: fixture('v4.vcf') })).status, 201);
    const before = await snapshotAll(srv.bastide.platform.db, TABLES);
    for (const name of ['no-uid.vcf', 'latin1.vcf', 'v21.vcf', 'several.vcf']) {
      const r = await req('PUT', `${home}team/${name}`, { body: fixture(name) });
      assert.equal(r.status, 403, name);
      assert.match(await r.text(), /<CR:valid-address-data/, name);
    }
    assert.deepEqual(await snapshotAll(srv.bastide.platform.db, TABLES), before);
    const get = await req('GET', `${home}team/zoe.vcf`);
    assert.equal(get.status, 200);
    assert.match(get.headers.get('content-type') ?? '', /text\/vcard/);
    assert.equal(Buffer.from(await get.arrayBuffer()).toString(), fixture('v4.vcf').toString());
    const q = (filter: string): Promise<Response> =>
      report(`${home}team/`, `<CR:addressbook-query xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><CR:address-data/></D:prop><CR:filter${filter}</CR:filter></CR:addressbook-query>`);
    const byMail = await (await q('><CR:prop-filter name="EMAIL"><CR:text-match collation="i;unicode-casemap" match-type="contains">ZOE@</CR:text-match></CR:prop-filter>')).text();
    assert.match(byMail, /zoe.vcf/);
    assert.doesNotMatch(byMail, /jean.vcf/);
    const starts = await (await q('><CR:prop-filter name="FN"><CR:text-match match-type="starts-with">jean</CR:text-match></CR:prop-filter>')).text();
    assert.match(starts, /jean.vcf/);
    assert.match(starts, /FN:Jean-Édouard/);
    const allof = await (await q(' test="allof"><CR:prop-filter name="FN"><CR:text-match>jean</CR:text-match></CR:prop-filter><CR:prop-filter name="EMAIL"><CR:text-match>zoe</CR:text-match></CR:prop-filter>')).text();
    assert.doesNotMatch(allof, /\.vcf/);
    const notDefined = await (await q('><CR:prop-filter name="ORG"><CR:is-not-defined/></CR:prop-filter>')).text();
    assert.match(notDefined, /zoe.vcf/);
    assert.doesNotMatch(notDefined, /jean.vcf/);
    const badCollation = await q('><CR:prop-filter name="FN"><CR:text-match collation="x-unknown">a</CR:text-match></CR:prop-filter>');
    assert.equal(badCollation.status, 403);
    assert.match(await badCollation.text(), /supported-collation/);
    const limited = await (await report(`${home}team/`, '<CR:addressbook-query xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop><CR:filter/><CR:limit><CR:nresults>1</CR:nresults></CR:limit></CR:addressbook-query>')).text();
    assert.equal((limited.match(/\.vcf<\/D:href>/g) ?? []).length, 1);
    assert.match(limited, /507/);
    const mg = await (await report(`${home}team/`, `<CR:addressbook-multiget xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><CR:address-data/></D:prop><D:href>${home}team/jean.vcf</D:href><D:href>${home}team/gone.vcf</D:href></CR:addressbook-multiget>`)).text();
    assert.match(mg, /UID:v3@bastide.test/);
    assert.match(mg, /gone.vcf<\/D:href><D:status>HTTP\/1.1 404/);
  });

  test('sync-collection on an address book', async () => {
    const body = (token: string): string => `<D:sync-collection xmlns:D="DAV:"><D:sync-token>${token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`;
    const first = await (await report(`${home}team/`, body(''))).text();
    const token = /<D:sync-token>([^<]+)<\/D:sync-token>/.exec(first)![1]!;
    assert.equal((await req('DELETE', `${home}team/jean.vcf`)).status, 204);
    const next = await (await report(`${home}team/`, body(token))).text();
    assert.match(next, /jean.vcf<\/D:href><D:status>HTTP\/1.1 404/);
    assert.doesNotMatch(next, /zoe.vcf/);
  });

  test('another user gets 404 and changes nothing', async () => {
    const before = await snapshotAll(srv.bastide.platform.db, TABLES);
    for (const [method, path] of [
      ['PROPFIND', home],
      ['GET', `${home}team/zoe.vcf`],
      ['PUT', `${home}team/x.vcf`],
      ['DELETE', `${home}team/`],
      ['MKCOL', `${home}evil/`],
    ] as const) {
      const r = await req(method, path, { auth: bobAuth, headers: { depth: '0' }, ...(method === 'PUT' ? { body: fixture('v4.vcf') } : {}) });
      assert.equal(r.status, 404, `${method} ${path}`);
    }
    assert.deepEqual(await snapshotAll(srv.bastide.platform.db, TABLES), before);
  });
});
