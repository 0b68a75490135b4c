import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startTestServer, makeUser, type TestServer } from '../../../../test/helpers/server.js';
import { snapshotAll } from '../../../../test/helpers/api.js';
import { createAppPassword } from '../../../modules/identity/commands/credentials.js';

/** CalDAV over real HTTP against a started server: discovery, collections, objects, reports, errors. */
const FIX = new URL('../../../../test/fixtures/ical/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIX), 'utf8');
const basic = (login: string, password: string): string => `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;
const TABLES = ['calendar_collections', 'calendar_objects', 'calendar_changes'];

const event = (uid: string, extra = '', start = '20260310T090000Z', end = '20260310T100000Z'): string =>
  `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:${start}\r\nDTEND:${end}\r\nSUMMARY:Event ${uid}\r\n${extra}END:VEVENT\r\nEND:VCALENDAR\r\n`;

describe('CalDAV', () => {
  let srv: TestServer;
  let auth = '';
  let bobAuth = '';
  const req = (method: string, path: string, init: { headers?: Record<string, string>; body?: string; auth?: string | null } = {}): Promise<Response> =>
    fetch(`${srv.url}${path}`, {
      method,
      headers: { ...(init.auth === null ? {} : { authorization: init.auth ?? auth }), ...init.headers },
      body: init.body ?? null,
      redirect: 'manual',
    });
  const report = (path: string, body: string, depth = '1'): Promise<Response> => req('REPORT', path, { headers: { depth, 'content-type': 'application/xml' }, body });
  const home = '/dav/calendars/alice/';

  before(async () => {
    srv = await startTestServer();
    const alice = await makeUser(srv, 'alice');
    const bob = await makeUser(srv, 'bob');
    const pw = async (id: string): Promise<string> => (await createAppPassword({ platform: srv.bastide.platform, actor: { kind: 'system' } }, { userId: id, name: 'dav', scopes: ['dav'] })).password;
    auth = basic('alice', await pw(alice.id));
    bobAuth = basic('bob', await pw(bob.id));
  });
  after(() => srv.close());

  test('OPTIONS announces calendar-access, addressbook and extended-mkcol; well-known redirects', async () => {
    const o = await req('OPTIONS', home, { auth: null });
    assert.equal(o.status, 200);
    assert.match(o.headers.get('dav') ?? '', /calendar-access/);
    assert.match(o.headers.get('dav') ?? '', /extended-mkcol/);
    assert.match(o.headers.get('allow') ?? '', /MKCALENDAR/);
    const w = await req('PROPFIND', '/.well-known/caldav');
    assert.equal(w.status, 301);
    assert.equal(w.headers.get('location'), '/dav/principals/alice/');
    const anon = await req('GET', '/.well-known/carddav', { auth: null });
    assert.equal(anon.status, 301);
    assert.equal(anon.headers.get('location'), '/dav/principals/');
    const unauth = await req('PROPFIND', home, { auth: null });
    assert.equal(unauth.status, 401);
    assert.match(unauth.headers.get('www-authenticate') ?? '', /Basic/);
  });

  test('discovery: current-user-principal, homes, address set; the drive keeps /dav/files', async () => {
    const body = '<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:prop><D:current-user-principal/><C:calendar-home-set/><CR:addressbook-home-set/><C:calendar-user-address-set/><D:displayname/></D:prop></D:propfind>';
    const root = await req('PROPFIND', '/dav/principals/', { headers: { depth: '0' }, body });
    assert.equal(root.status, 207);
    assert.match(await root.text(), /<D:current-user-principal><D:href>\/dav\/principals\/alice\/<\/D:href>/);
    const p = await req('PROPFIND', '/dav/principals/alice/', { headers: { depth: '0' }, body });
    const text = await p.text();
    assert.equal(p.status, 207);
    assert.match(text, /<C:calendar-home-set><D:href>\/dav\/calendars\/alice\/<\/D:href>/);
    assert.match(text, /<CR:addressbook-home-set><D:href>\/dav\/addressbooks\/alice\/<\/D:href>/);
    assert.match(text, /mailto:alice@example.org/);
    assert.match(text, /<D:displayname>ALICE<\/D:displayname>/);
    // find-my-way routes /dav/files/ to the drive and /dav/calendars/ here.
    const files = await req('PROPFIND', '/dav/files/alice/', { headers: { depth: '0' } });
    assert.equal(files.status, 207);
    assert.doesNotMatch(await files.text(), /calendar/);
  });

  test('home lists the default calendar and task list with their properties', async () => {
    const r = await req('PROPFIND', home, {
      headers: { depth: '1' },
      body: '<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/"><D:prop><D:resourcetype/><D:displayname/><C:supported-calendar-component-set/><CS:getctag/><D:sync-token/><D:supported-report-set/><D:current-user-privilege-set/></D:prop></D:propfind>',
    });
    assert.equal(r.status, 207);
    const t = await r.text();
    assert.match(t, /<D:href>\/dav\/calendars\/alice\/default\/<\/D:href>/);
    assert.match(t, /<D:href>\/dav\/calendars\/alice\/tasks\/<\/D:href>[\s\S]*<C:comp name="VTODO"\/>/);
    assert.match(t, /<D:collection\/><C:calendar\/>/);
    assert.match(t, /<CS:getctag>urn:bastide:sync:/);
    assert.match(t, /<C:calendar-query\/>/);
    const inf = await req('PROPFIND', home, { headers: { depth: 'infinity' } });
    assert.equal(inf.status, 403);
    assert.match(await inf.text(), /propfind-finite-depth/);
  });

  test('MKCALENDAR with properties, extended MKCOL, PROPPATCH, DELETE', async () => {
    const mk = await req('MKCALENDAR', `${home}work/`, {
      body: '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop><D:displayname>Work</D:displayname><C:calendar-description>Job</C:calendar-description><A:calendar-color>#FF0000FF</A:calendar-color><C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>',
    });
    assert.equal(mk.status, 201);
    const again = await req('MKCALENDAR', `${home}work/`);
    assert.equal(again.status, 405);
    const col = await req('MKCOL', `${home}list/`, {
      body: '<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:resourcetype><D:collection/><C:calendar/></D:resourcetype><D:displayname>List</D:displayname><C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set></D:prop></D:set></D:mkcol>',
    });
    assert.equal(col.status, 201);
    const plain = await req('MKCOL', `${home}plain/`);
    assert.equal(plain.status, 403);
    const pp = await req('PROPPATCH', `${home}work/`, {
      body: '<D:propertyupdate xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop><D:displayname>Travail</D:displayname><A:calendar-order>3</A:calendar-order></D:prop></D:set></D:propertyupdate>',
    });
    assert.equal(pp.status, 207);
    const pf = await req('PROPFIND', `${home}work/`, {
      headers: { depth: '0' },
      body: '<D:propfind xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:displayname/><A:calendar-color/><A:calendar-order/><C:calendar-description/></D:prop></D:propfind>',
    });
    const t = await pf.text();
    assert.match(t, /<D:displayname>Travail<\/D:displayname>/);
    assert.match(t, /<A:calendar-color>#FF0000FF<\/A:calendar-color>/);
    assert.match(t, /<A:calendar-order>3<\/A:calendar-order>/);
    assert.match(t, /<C:calendar-description>Job<\/C:calendar-description>/);
    const bad = await req('PROPPATCH', `${home}work/`, { body: '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:getetag>x</D:getetag><D:displayname>No</D:displayname></D:prop></D:set></D:propertyupdate>' });
    const bt = await bad.text();
    assert.match(bt, /403 Forbidden/);
    assert.match(bt, /424 Failed Dependency/);
    assert.equal((await req('DELETE', `${home}list/`)).status, 204);
    assert.equal((await req('PROPFIND', `${home}list/`, { headers: { depth: '0' } })).status, 404);
  });

  test('PUT/GET/DELETE with ETags, If-Match, If-None-Match, UID uniqueness and component checks', async () => {
    const url = `${home}default/one.ics`;
    const put = await req('PUT', url, { headers: { 'content-type': 'text/calendar', 'if-none-match': '*' }, body: event('one') });
    assert.equal(put.status, 201);
    const etag = put.headers.get('etag')!;
    assert.match(etag, /^"[0-9a-f]+"$/);
    const get = await req('GET', url);
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('etag'), etag);
    assert.match(get.headers.get('content-type') ?? '', /text\/calendar/);
    assert.equal(await get.text(), event('one'));
    assert.equal((await req('PUT', url, { headers: { 'if-none-match': '*' }, body: event('one') })).status, 412);
    assert.equal((await req('PUT', url, { headers: { 'if-match': '"nope"' }, body: event('one', 'LOCATION:x\r\n') })).status, 412);
    const upd = await req('PUT', url, { headers: { 'if-match': etag }, body: event('one', 'LOCATION:Room\r\n') });
    assert.equal(upd.status, 204);
    assert.notEqual(upd.headers.get('etag'), etag);
    const before = await snapshotAll(srv.bastide.platform.db, TABLES);
    const dup = await req('PUT', `${home}default/other.ics`, { body: event('one') });
    assert.equal(dup.status, 403);
    assert.match(await dup.text(), /<C:no-uid-conflict><D:href>one.ics<\/D:href><\/C:no-uid-conflict>/);
    const todo = await req('PUT', `${home}default/todo.ics`, { body: fixture('todo.ics') });
    assert.equal(todo.status, 403);
    assert.match(await todo.text(), /supported-calendar-component/);
    const broken = await req('PUT', `${home}default/broken.ics`, { body: 'BEGIN:VCALENDAR\r\nthis is not ical\r\n' });
    assert.equal(broken.status, 403);
    assert.match(await broken.text(), /<C:valid-calendar-data/);
    const type = await req('PUT', `${home}default/t.ics`, { headers: { 'content-type': 'image/png' }, body: event('t') });
    assert.equal(type.status, 403);
    assert.deepEqual(await snapshotAll(srv.bastide.platform.db, TABLES), before, 'refused writes changed nothing');
    assert.equal((await req('PUT', `${home}tasks/todo.ics`, { body: fixture('todo.ics') })).status, 201);
    assert.equal((await req('PUT', `${home}nowhere/x.ics`, { body: event('x') })).status, 409);
    const head = await req('HEAD', `${home}tasks/todo.ics`);
    assert.equal(head.status, 200);
    assert.ok(head.headers.get('etag'));
    assert.equal((await req('DELETE', url, { headers: { 'if-match': '"nope"' } })).status, 412);
    assert.equal((await req('DELETE', url)).status, 204);
    assert.equal((await req('GET', url)).status, 404);
    assert.equal((await req('DELETE', url)).status, 404);
  });

  test('calendar-query with time-range, recurrence expansion and text-match; multiget; free-busy', async () => {
    await req('MKCALENDAR', `${home}q/`);
    assert.equal((await req('PUT', `${home}q/weekly.ics`, { body: fixture('weekly-paris.ics') })).status, 201);
    assert.equal((await req('PUT', `${home}q/single.ics`, { body: event('single', '', '20260601T120000Z', '20260601T130000Z') })).status, 201);
    assert.equal((await req('PUT', `${home}q/allday.ics`, { body: fixture('allday.ics') })).status, 201);
    const query = (start: string, end: string, expand = false, extra = ''): string =>
      `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data>${expand ? `<C:expand start="${start}" end="${end}"/>` : ''}</C:calendar-data></D:prop>` +
      `<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="${start}" end="${end}"/>${extra}</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`;
    // The weekly meeting (Mondays 10:00 Paris since 2026-03-02, 10 times, one EXDATE, one moved) in the week of 2026-03-30 (after the DST change).
    const r = await report(`${home}q/`, query('20260330T000000Z', '20260406T000000Z', true));
    assert.equal(r.status, 207);
    const t = await r.text();
    assert.match(t, /weekly.ics/);
    assert.doesNotMatch(t, /single.ics/);
    assert.match(t, /DTSTART:20260330T080000Z/, 'summer time: 10:00 Paris is 08:00 UTC');
    assert.match(t, /RECURRENCE-ID:20260330T080000Z/);
    assert.doesNotMatch(t, /RRULE/);
    // The excluded date is not an occurrence.
    const ex = await report(`${home}q/`, query('20260316T000000Z', '20260317T000000Z'));
    assert.doesNotMatch(await ex.text(), /weekly.ics/);
    // Before DST: 10:00 Paris is 09:00 UTC.
    const winter = await report(`${home}q/`, query('20260309T000000Z', '20260310T000000Z', true));
    assert.match(await winter.text(), /DTSTART:20260309T090000Z/);
    // The moved occurrence (2026-03-23 → 2026-03-24 14:00 Paris) is found on its new day only.
    const moved = await report(`${home}q/`, query('20260324T000000Z', '20260325T000000Z', true));
    const mt = await moved.text();
    assert.match(mt, /DTSTART:20260324T130000Z/);
    assert.match(mt, /SUMMARY:Moved meeting/);
    assert.doesNotMatch(await (await report(`${home}q/`, query('20260323T000000Z', '20260324T000000Z'))).text(), /weekly.ics/);
    // text-match and is-not-defined.
    const tm = await report(`${home}q/`, query('20200101T000000Z', '20300101T000000Z', false, '<C:prop-filter name="SUMMARY"><C:text-match>single</C:text-match></C:prop-filter>'));
    const tmt = await tm.text();
    assert.match(tmt, /single.ics/);
    assert.doesNotMatch(tmt, /weekly.ics/);
    const nd = await report(`${home}q/`, '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="TRANSP"><C:is-not-defined/></C:prop-filter></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>');
    const ndt = await nd.text();
    assert.match(ndt, /single.ics/);
    assert.match(ndt, /weekly.ics/);
    assert.doesNotMatch(ndt, /allday.ics/);
    // multiget: found and missing.
    const mg = await report(`${home}q/`, `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop><D:href>${home}q/single.ics</D:href><D:href>${home}q/missing.ics</D:href></C:calendar-multiget>`);
    const mgt = await mg.text();
    assert.match(mgt, /UID:single/);
    assert.match(mgt, /missing.ics<\/D:href><D:status>HTTP\/1.1 404/);
    // free-busy over the week after DST.
    const fb = await report(`${home}q/`, '<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20260330T000000Z" end="20260406T000000Z"/></C:free-busy-query>');
    assert.equal(fb.status, 200);
    const fbt = await fb.text();
    assert.match(fbt, /BEGIN:VFREEBUSY/);
    assert.match(fbt, /FREEBUSY:20260330T080000Z\/20260330T090000Z/);
    // A malformed filter is a 400, an unknown report a 403.
    assert.equal((await report(`${home}q/`, query('garbage', '20300101T000000Z'))).status, 403);
    assert.equal((await report(`${home}q/`, '<D:expand-property xmlns:D="DAV:"/>')).status, 403);
  });

  test('sync-collection: initial, changes, tombstones, invalid token', async () => {
    await req('MKCALENDAR', `${home}sync/`);
    const body = (token: string): string => `<D:sync-collection xmlns:D="DAV:"><D:sync-token>${token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`;
    await req('PUT', `${home}sync/a.ics`, { body: event('a') });
    await req('PUT', `${home}sync/b.ics`, { body: event('b') });
    const first = await report(`${home}sync/`, body(''), '0');
    const ft = await first.text();
    assert.match(ft, /a.ics/);
    assert.match(ft, /b.ics/);
    const token = /<D:sync-token>([^<]+)<\/D:sync-token>/.exec(ft)![1]!;
    const none = await report(`${home}sync/`, body(token), '0');
    const nt = await none.text();
    assert.doesNotMatch(nt, /<D:response>/);
    assert.equal(/<D:sync-token>([^<]+)<\/D:sync-token>/.exec(nt)![1], token);
    await req('PUT', `${home}sync/c.ics`, { body: event('c') });
    await req('DELETE', `${home}sync/a.ics`);
    const next = await (await report(`${home}sync/`, body(token), '0')).text();
    assert.match(next, /c.ics<\/D:href><D:propstat>/);
    assert.match(next, /a.ics<\/D:href><D:status>HTTP\/1.1 404 Not Found/);
    assert.doesNotMatch(next, /b.ics/);
    // Concurrent writers each get their own change number: none is lost for a client syncing from `token`.
    const latest = /<D:sync-token>([^<]+)<\/D:sync-token>/.exec(next)![1]!;
    const puts = await Promise.all(Array.from({ length: 8 }, (_, i) => req('PUT', `${home}sync/p${i}.ics`, { body: event(`p${i}`) })));
    assert.deepEqual(puts.map((r) => r.status), Array(8).fill(201));
    const burst = await (await report(`${home}sync/`, body(latest), '0')).text();
    assert.equal((burst.match(/p\d.ics<\/D:href><D:propstat>/g) ?? []).length, 8);
    assert.equal(Number(/:(\d+)<\/D:sync-token>/.exec(burst)![1]) - Number(/:(\d+)$/.exec(latest)![1]), 8);
    const bad = await report(`${home}sync/`, body('urn:bastide:sync:nope:1'), '0');
    assert.equal(bad.status, 403);
    assert.match(await bad.text(), /<D:valid-sync-token/);
  });

  test('another user gets 404 on everything of alice, and cannot write', async () => {
    const before = await snapshotAll(srv.bastide.platform.db, TABLES);
    for (const [method, path] of [
      ['PROPFIND', home],
      ['PROPFIND', `${home}default/`],
      ['GET', `${home}tasks/todo.ics`],
      ['PUT', `${home}default/x.ics`],
      ['DELETE', `${home}tasks/todo.ics`],
      ['DELETE', `${home}default/`],
      ['MKCALENDAR', `${home}evil/`],
      ['PROPPATCH', `${home}default/`],
      ['REPORT', `${home}default/`],
    ] as const) {
      const r = await req(method, path, { auth: bobAuth, headers: { depth: '0' }, body: method === 'PUT' ? event('x') : method === 'PROPPATCH' ? '<D:propertyupdate xmlns:D="DAV:"/>' : method === 'REPORT' ? '<D:sync-collection xmlns:D="DAV:"/>' : undefined });
      assert.equal(r.status, 404, `${method} ${path}`);
    }
    assert.deepEqual(await snapshotAll(srv.bastide.platform.db, TABLES), before);
    // Alice's principal is in the directory (to invite her), but tells nothing of her calendars.
    const p = await req('PROPFIND', '/dav/principals/alice/', { auth: bobAuth, headers: { depth: '0' }, body: '<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:displayname/><C:calendar-home-set/></D:prop></D:propfind>' });
    assert.equal(p.status, 207);
    assert.doesNotMatch(await p.text(), /\/dav\/calendars\/alice/);
    // A session password or a wrong app password is no DAV credential.
    assert.equal((await req('PROPFIND', home, { auth: basic('alice', 'Correct-Horse-Battery-42') })).status, 401);
  });
});
