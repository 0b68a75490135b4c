import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers/server.js';
import { assertError, eventually, raw, snapshotAll, userClient, type Res } from './helpers/api.js';
import type { ApiClient } from './helpers/server.js';
import { createAppPassword } from '../src/modules/identity/commands/credentials.js';

/**
 * RFC 6638 over CalDAV (implicit scheduling on PUT/DELETE, attendee replies by PUT, principal
 * properties, inbox/outbox, outbox free-busy), and calendar sharing: the permission matrix over the JSON
 * API and CalDAV (read, write, group, none; private events as busy time), the mount of a shared calendar
 * in the sharee's CalDAV home, and the public ICS address.
 */
type U = { id: string; login: string; client: ApiClient; auth: string };

const VEVENT = (uid: string, extra: string, summary = 'Planning', start = '20260310T090000Z', end = '20260310T100000Z'): string =>
  `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:${start}\r\nDTEND:${end}\r\nSUMMARY:${summary}\r\n${extra}END:VEVENT\r\nEND:VCALENDAR\r\n`;

describe('CalDAV scheduling and calendar sharing', () => {
  let srv: TestServer;
  let alice: U;
  let bob: U;
  let carol: U;
  let dave: U;
  let admin: U;

  const mk = async (login: string, opts: { admin?: boolean } = {}): Promise<U> => {
    const u = await userClient(srv, login, opts);
    const { password } = await createAppPassword({ platform: srv.bastide.platform, actor: { kind: 'system' } }, { userId: u.id, name: 'dav', scopes: ['dav'] });
    return { ...u, auth: `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}` };
  };
  const dav = (u: U, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Res> =>
    raw(srv.url, method, path, { headers: { authorization: u.auth, ...headers }, ...(body !== undefined ? { body } : {}) });
  const text = async (u: U, path: string): Promise<string> => {
    const r = await fetch(`${srv.url}${path}`, { headers: { authorization: u.auth } });
    assert.equal(r.status, 200, path);
    // Unfolded (RFC 5545 §3.1), so that assertions see whole lines.
    return (await r.text()).replace(/\r\n[ \t]/g, '');
  };
  const calId = async (u: U, slug = 'default'): Promise<string> => (await u.client.get('/api/calendars')).json.calendars.find((c: { slug: string }) => c.slug === slug).id;

  before(async () => {
    srv = await startTestServer();
    alice = await mk('alice');
    bob = await mk('bob');
    carol = await mk('carol');
    dave = await mk('dave');
    admin = await mk('root', { admin: true });
  });
  after(() => srv.close());

  test('principal: scheduling URLs and addresses; home lists inbox and outbox; OPTIONS announces auto-schedule', async () => {
    const p = await dav(alice, 'PROPFIND', '/dav/principals/alice/', '<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:schedule-inbox-URL/><C:schedule-outbox-URL/><C:calendar-user-address-set/></D:prop></D:propfind>', { depth: '0' });
    assert.equal(p.status, 207);
    const body = String(p.json);
    assert.match(body, /schedule-inbox-URL><D:href>\/dav\/calendars\/alice\/inbox\/<\/D:href>/);
    assert.match(body, /schedule-outbox-URL><D:href>\/dav\/calendars\/alice\/outbox\/<\/D:href>/);
    assert.match(body, /mailto:alice@example\.org/);
    const home = String((await dav(alice, 'PROPFIND', '/dav/calendars/alice/', undefined, { depth: '1' })).json);
    assert.match(home, /<C:schedule-inbox\/>/);
    assert.match(home, /<C:schedule-outbox\/>/);
    const opt = await dav(alice, 'OPTIONS', '/dav/calendars/alice/');
    assert.match(opt.headers.get('dav') ?? '', /calendar-auto-schedule/);
    assert.equal((await dav(bob, 'PROPFIND', '/dav/calendars/alice/inbox/', undefined, { depth: '0' })).status, 404);
    assert.equal((await dav(alice, 'MKCALENDAR', '/dav/calendars/alice/inbox/')).status, 405);
  });

  test('other principals: name and addresses only; principal-property-search finds attendees', async () => {
    const other = await dav(alice, 'PROPFIND', '/dav/principals/bob/', '<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:displayname/><C:calendar-user-address-set/><C:calendar-home-set/><C:schedule-inbox-URL/></D:prop></D:propfind>', { depth: '0' });
    assert.equal(other.status, 207);
    const xml = String(other.json);
    assert.match(xml, /<D:displayname>BOB<\/D:displayname>/);
    assert.match(xml, /mailto:bob@example\.org/);
    assert.match(xml, /<D:propstat><D:prop><C:calendar-home-set\/><C:schedule-inbox-URL\/><\/D:prop><D:status>HTTP\/1\.1 404/);
    assert.equal((await dav(alice, 'PROPFIND', '/dav/principals/nobody/', undefined, { depth: '0' })).status, 404);
    const search = await dav(alice, 'REPORT', '/dav/principals/', '<?xml version="1.0"?><D:principal-property-search xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" test="anyof"><D:property-search><D:prop><D:displayname/></D:prop><D:match>bo</D:match></D:property-search><D:property-search><D:prop><C:calendar-user-address-set/></D:prop><D:match>mailto:carol@</D:match></D:property-search><D:prop><D:displayname/><C:calendar-user-address-set/></D:prop></D:principal-property-search>', { depth: '0' });
    assert.equal(search.status, 207);
    const found = [...String(search.json).matchAll(/<D:response><D:href>([^<]+)<\/D:href>/g)].map((m) => m[1]).sort();
    assert.deepEqual(found, ['/dav/principals/bob/', '/dav/principals/carol/']);
    const none = await dav(alice, 'REPORT', '/dav/principals/', '<?xml version="1.0"?><D:principal-property-search xmlns:D="DAV:" test="allof"><D:property-search><D:prop><D:displayname/></D:prop><D:match>bo</D:match></D:property-search><D:property-search><D:prop><D:displayname/></D:prop><D:match>carol</D:match></D:property-search><D:prop><D:displayname/></D:prop></D:principal-property-search>', { depth: '0' });
    assert.doesNotMatch(String(none.json), /principals\/(bob|carol)/);
    assert.equal((await dav(alice, 'REPORT', '/dav/principals/', '<?xml version="1.0"?><D:principal-search-property-set xmlns:D="DAV:"/>')).status, 200);
  });

  test('PUT by the organizer delivers; PUT by the attendee replies; DELETE by the organizer cancels', async () => {
    const put = await dav(alice, 'PUT', '/dav/calendars/alice/default/meet.ics', VEVENT('meet-1', 'ORGANIZER;CN=Alice:mailto:alice@example.org\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.org\r\nATTENDEE;RSVP=TRUE:mailto:BOB@example.org\r\nATTENDEE:mailto:someone@outside.example\r\n'), { 'content-type': 'text/calendar' });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('etag'), null, 'no ETag: the stored object differs (SCHEDULE-STATUS)');
    const stored = await text(alice, '/dav/calendars/alice/default/meet.ics');
    assert.match(stored, /ATTENDEE;RSVP=TRUE;SCHEDULE-STATUS=1\.2;PARTSTAT=NEEDS-ACTION:mailto:BOB@example\.org|ATTENDEE;[^\r\n]*SCHEDULE-STATUS=1\.2[^\r\n]*:mailto:BOB@example\.org/);
    assert.match(stored, /SCHEDULE-STATUS=5\.1[^\r\n]*:mailto:someone@outside\.example/);
    // Bob's client finds the invitation in his calendar and accepts it with a PUT.
    const listing = String((await dav(bob, 'PROPFIND', '/dav/calendars/bob/default/', undefined, { depth: '1' })).json);
    assert.match(listing, /\/dav\/calendars\/bob\/default\/meet-1\.ics/);
    const copy = await text(bob, '/dav/calendars/bob/default/meet-1.ics');
    assert.doesNotMatch(copy, /SCHEDULE-STATUS/);
    const accepted = copy.replace(/(ATTENDEE[^\r\n]*?)PARTSTAT=NEEDS-ACTION([^\r\n]*mailto:BOB@example\.org)/i, '$1PARTSTAT=ACCEPTED$2');
    assert.notEqual(accepted, copy);
    assert.equal((await dav(bob, 'PUT', '/dav/calendars/bob/default/meet-1.ics', accepted, { 'content-type': 'text/calendar' })).status, 204);
    assert.match(await text(alice, '/dav/calendars/alice/default/meet.ics'), /PARTSTAT=ACCEPTED[^\r\n]*:mailto:BOB@example\.org/);
    // The organizer deletes it: bob's copy is cancelled.
    assert.equal((await dav(alice, 'DELETE', '/dav/calendars/alice/default/meet.ics')).status, 204);
    assert.match(await text(bob, '/dav/calendars/bob/default/meet-1.ics'), /STATUS:CANCELLED/);
  });

  test('a client declining one occurrence with a zoned RECURRENCE-ID override reaches the organizer', async () => {
    const series = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:weekly-paris\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Paris:20260323T100000\r\nDTEND;TZID=Europe/Paris:20260323T110000\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\nSUMMARY:Weekly\r\nORGANIZER:mailto:alice@example.org\r\nATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.org\r\nATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:carol@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n';
    assert.equal((await dav(alice, 'PUT', '/dav/calendars/alice/default/weekly.ics', series, { 'content-type': 'text/calendar' })).status, 201);
    const copy = await text(bob, '/dav/calendars/bob/default/weekly-paris.ics');
    // What Thunderbird writes: the series, plus an override for the second week (after the DST change) declined.
    const override = 'BEGIN:VEVENT\r\nUID:weekly-paris\r\nDTSTAMP:20260102T000000Z\r\nRECURRENCE-ID;TZID=Europe/Paris:20260330T100000\r\nDTSTART;TZID=Europe/Paris:20260330T100000\r\nDTEND;TZID=Europe/Paris:20260330T110000\r\nSUMMARY:Weekly\r\nORGANIZER:mailto:alice@example.org\r\nATTENDEE;PARTSTAT=DECLINED:mailto:bob@example.org\r\nATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:carol@example.org\r\nEND:VEVENT\r\n';
    const withOverride = copy.replace('END:VCALENDAR', `${override}END:VCALENDAR`);
    assert.equal((await dav(bob, 'PUT', '/dav/calendars/bob/default/weekly-paris.ics', withOverride, { 'content-type': 'text/calendar' })).status, 204);
    const org = await text(alice, '/dav/calendars/alice/default/weekly.ics');
    assert.match(org, /RECURRENCE-ID:20260330T080000Z/);
    const blocks = org.split('BEGIN:VEVENT').slice(1);
    const over = blocks.find((b) => b.includes('RECURRENCE-ID'))!;
    const master = blocks.find((b) => !b.includes('RECURRENCE-ID'))!;
    assert.match(over, /PARTSTAT=DECLINED[^\r\n]*:mailto:bob@example\.org/);
    assert.match(master, /PARTSTAT=NEEDS-ACTION[^\r\n]*:mailto:bob@example\.org/);
    // Carol's copy shows bob's answer for that week.
    const carolOver = (await text(carol, '/dav/calendars/carol/default/weekly-paris.ics')).split('BEGIN:VEVENT').find((b) => b.includes('RECURRENCE-ID'));
    assert.match(carolOver ?? '', /PARTSTAT=DECLINED[^\r\n]*:mailto:bob@example\.org/);
    assert.equal((await dav(alice, 'DELETE', '/dav/calendars/alice/default/weekly.ics')).status, 204);
  });

  test('attendees by principal URL are delivered; SCHEDULE-AGENT=CLIENT is left to the client', async () => {
    const body = VEVENT('by-principal', `ORGANIZER:${srv.url}/dav/principals/alice/\r\nATTENDEE:${srv.url}/dav/principals/carol/\r\nATTENDEE;SCHEDULE-AGENT=CLIENT:mailto:dave@example.org\r\nATTENDEE:/dav/principals/ghost/\r\n`, 'By URL');
    assert.equal((await dav(alice, 'PUT', '/dav/calendars/alice/default/by-principal.ics', body, { 'content-type': 'text/calendar' })).status, 201);
    assert.match(await text(carol, '/dav/calendars/carol/default/by-principal.ics'), /By URL/);
    assert.equal((await dav(dave, 'GET', '/dav/calendars/dave/default/by-principal.ics')).status, 404);
    const org = await text(alice, '/dav/calendars/alice/default/by-principal.ics');
    assert.match(org, /SCHEDULE-STATUS=3\.7[^\r\n]*:\/dav\/principals\/ghost\//);
    assert.doesNotMatch(org, /SCHEDULE-AGENT=CLIENT;SCHEDULE-STATUS|SCHEDULE-STATUS=[^;:]*;SCHEDULE-AGENT=CLIENT/);
    assert.equal((await dav(alice, 'DELETE', '/dav/calendars/alice/default/by-principal.ics')).status, 204);
  });

  test('outbox POST of a VFREEBUSY request answers each recipient’s busy time', async () => {
    await dav(bob, 'PUT', '/dav/calendars/bob/default/busy.ics', VEVENT('busy-1', 'CLASS:PRIVATE\r\n', 'Doctor', '20260312T140000Z', '20260312T150000Z'), { 'content-type': 'text/calendar' });
    const req = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\nUID:fb-1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260312T000000Z\r\nDTEND:20260313T000000Z\r\nORGANIZER:mailto:alice@example.org\r\nATTENDEE:mailto:bob@example.org\r\nATTENDEE:mailto:nobody@nowhere.example\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n';
    const r = await dav(alice, 'POST', '/dav/calendars/alice/outbox/', req, { 'content-type': 'text/calendar' });
    assert.equal(r.status, 200, String(r.json));
    const xml = String(r.json);
    assert.match(xml, /<C:schedule-response/);
    assert.match(xml, /2\.0;Success/);
    assert.match(xml, /FREEBUSY:20260312T140000Z\/20260312T150000Z/);
    assert.match(xml, /3\.7;Invalid calendar user/);
    assert.doesNotMatch(xml, /Doctor/);
    // Someone else's organizer address, or an event instead of a free-busy request, is refused.
    assert.equal((await dav(carol, 'POST', '/dav/calendars/carol/outbox/', req, { 'content-type': 'text/calendar' })).status, 403);
    assert.equal((await dav(alice, 'POST', '/dav/calendars/alice/outbox/', VEVENT('x', '').replace('VERSION:2.0', 'VERSION:2.0\r\nMETHOD:REQUEST'), { 'content-type': 'text/calendar' })).status, 403);
    assert.equal((await dav(alice, 'POST', '/dav/calendars/alice/outbox/', 'garbage', { 'content-type': 'text/calendar' })).status, 403);
  });

  test('an organizer cannot overwrite or cancel someone else’s event by reusing its UID', async () => {
    const mine = VEVENT('bob-own', 'ORGANIZER:mailto:bob@example.org\r\nATTENDEE:mailto:carol@example.org\r\n', 'Bob’s own');
    assert.equal((await dav(bob, 'PUT', '/dav/calendars/bob/default/own.ics', mine, { 'content-type': 'text/calendar' })).status, 201);
    const before = await text(bob, '/dav/calendars/bob/default/own.ics');
    const forged = VEVENT('bob-own', 'ORGANIZER:mailto:dave@example.org\r\nATTENDEE:mailto:bob@example.org\r\nATTENDEE:mailto:carol@example.org\r\n', 'Hijacked');
    assert.equal((await dav(dave, 'PUT', '/dav/calendars/dave/default/forged.ics', forged, { 'content-type': 'text/calendar' })).status, 201);
    assert.equal(await text(bob, '/dav/calendars/bob/default/own.ics'), before);
    assert.match(await text(dave, '/dav/calendars/dave/default/forged.ics'), /SCHEDULE-STATUS=5\.3[^\r\n]*:mailto:bob@example\.org/);
    assert.doesNotMatch(await text(carol, '/dav/calendars/carol/default/bob-own.ics'), /Hijacked/);
    assert.equal((await dav(dave, 'DELETE', '/dav/calendars/dave/default/forged.ics')).status, 204);
    assert.equal(await text(bob, '/dav/calendars/bob/default/own.ics'), before);
    assert.doesNotMatch(await text(carol, '/dav/calendars/carol/default/bob-own.ics'), /CANCELLED/);
  });

  test('sharing matrix over JSON and CalDAV: read, write, group, nobody; private events as busy time', async () => {
    const cal = await calId(alice);
    await alice.client.post(`/api/calendars/${cal}/events`, { summary: 'Team lunch', start: '2026-03-11T11:00:00Z', end: '2026-03-11T12:00:00Z' });
    assert.equal((await dav(alice, 'PUT', '/dav/calendars/alice/default/secret.ics', VEVENT('secret-1', 'CLASS:PRIVATE\r\nDESCRIPTION:Lawyer about the divorce\r\nLOCATION:Rue X\r\n', 'Lawyer', '20260311T150000Z', '20260311T160000Z'), { 'content-type': 'text/calendar' })).status, 201);
    const tables = ['calendar_shares', 'calendar_objects', 'calendar_collections'];

    // Nothing shared yet: bob sees nothing.
    assertError(await bob.client.get(`/api/calendars/${cal}/events?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z`), 404, 'not_found');
    // Only the owner shares; bad grantees are refused.
    const before = await snapshotAll(srv.bastide.platform.db, tables);
    assertError(await bob.client.post(`/api/calendars/${cal}/shares`, { granteeType: 'user', granteeId: bob.id, permission: 'write' }), 404, 'not_found');
    assertError(await alice.client.post(`/api/calendars/${cal}/shares`, { granteeType: 'user', granteeId: alice.id, permission: 'read' }), 400, 'validation_failed');
    assertError(await alice.client.post(`/api/calendars/${cal}/shares`, { granteeType: 'user', granteeId: 'nobody', permission: 'read' }), 400, 'validation_failed');
    assertError(await alice.client.post(`/api/calendars/${cal}/shares`, { granteeType: 'space', granteeId: bob.id, permission: 'read' }), 400, 'validation_failed');
    assert.deepEqual(await snapshotAll(srv.bastide.platform.db, tables), before);

    const share = await alice.client.post(`/api/calendars/${cal}/shares`, { granteeType: 'user', granteeId: bob.id, permission: 'read' });
    assert.equal(share.status, 201);
    assert.equal(share.json.granteeName, 'BOB');
    const shared = (await bob.client.get('/api/calendars/shared')).json.calendars;
    assert.equal(shared.length, 1);
    assert.equal(shared[0].owner.login, 'alice');
    assert.equal(shared[0].permission, 'read');
    assert.equal(shared[0].davUrl, `/dav/calendars/bob/shared-${cal}/`);
    await eventually(async () => (await bob.client.get('/api/notifications')).json.items.some((n: { type: string }) => n.type === 'calendar.shared'), 5000, 'notification calendar.shared');

    // Read: events listed, the private one as busy time only; no write, no rename, no delete, no share.
    const occ = (await bob.client.get(`/api/calendars/${cal}/events?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z`)).json.occurrences;
    const summaries = occ.map((o: { summary: string }) => o.summary).sort();
    assert.deepEqual(summaries, ['Busy', 'Team lunch']);
    const secret = occ.find((o: { summary: string }) => o.summary === 'Busy');
    assert.equal(secret.description, '');
    assert.equal(secret.location, '');
    assert.doesNotMatch((await bob.client.get(`/api/calendars/${cal}/objects/${secret.objectId}`)).json.ics, /Lawyer|divorce|Rue X/);
    assert.doesNotMatch((await bob.client.get(`/api/calendars/${cal}/export`)).json ?? '', /divorce/);
    const snap = await snapshotAll(srv.bastide.platform.db, tables);
    assertError(await bob.client.post(`/api/calendars/${cal}/events`, { summary: 'x', start: '2026-03-12T10:00:00Z' }), 403, 'forbidden');
    assertError(await bob.client.patch(`/api/calendars/${cal}`, { name: 'Mine' }), 403, 'forbidden');
    assertError(await bob.client.delete(`/api/calendars/${cal}`), 403, 'forbidden');
    assertError(await bob.client.delete(`/api/calendars/${cal}/objects/${secret.objectId}`), 403, 'forbidden');
    assertError(await bob.client.get(`/api/calendars/${cal}/shares`), 403, 'forbidden');
    assertError(await bob.client.post(`/api/calendars/${cal}/public-link`), 403, 'forbidden');
    assert.deepEqual(await snapshotAll(srv.bastide.platform.db, tables), snap);

    // CalDAV: the mount in bob's home, read-only, the private event redacted.
    const home = String((await dav(bob, 'PROPFIND', '/dav/calendars/bob/', undefined, { depth: '1' })).json);
    assert.ok(home.includes(`/dav/calendars/bob/shared-${cal}/`), home);
    assert.match(home, /Calendar \(ALICE\)/);
    const mount = `/dav/calendars/bob/shared-${cal}/`;
    const q = await dav(bob, 'REPORT', mount, '<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>', { depth: '1' });
    assert.equal(q.status, 207);
    assert.match(String(q.json), /Team lunch/);
    assert.doesNotMatch(String(q.json), /Lawyer|divorce/);
    const privs = String((await dav(bob, 'PROPFIND', mount, '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:current-user-privilege-set/></D:prop></D:propfind>', { depth: '0' })).json);
    assert.doesNotMatch(privs, /<D:write\/>/);
    assert.equal((await dav(bob, 'PUT', `${mount}new.ics`, VEVENT('bob-new', ''), { 'content-type': 'text/calendar' })).status, 403);
    assert.equal((await dav(bob, 'PROPFIND', `/dav/calendars/alice/default/`, undefined, { depth: '0' })).status, 404, 'only through the mount');
    assert.equal((await dav(dave, 'PROPFIND', `/dav/calendars/dave/shared-${cal}/`, undefined, { depth: '0' })).status, 404);
    assertError(await dave.client.get(`/api/calendars/${cal}/events?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z`), 404, 'not_found');

    // Write: bob now sees the private event in full and adds one, over JSON and CalDAV; still no rename.
    assert.equal((await alice.client.post(`/api/calendars/${cal}/shares`, { granteeType: 'user', granteeId: bob.id, permission: 'write' })).status, 200);
    const occ2 = (await bob.client.get(`/api/calendars/${cal}/events?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z`)).json.occurrences;
    assert.ok(occ2.some((o: { summary: string }) => o.summary === 'Lawyer'));
    assert.equal((await bob.client.post(`/api/calendars/${cal}/events`, { summary: 'By bob', start: '2026-03-13T10:00:00Z' })).status, 201);
    assert.equal((await dav(bob, 'PUT', `${mount}bob-dav.ics`, VEVENT('bob-dav', '', 'Via DAV'), { 'content-type': 'text/calendar' })).status, 201);
    assert.match(await text(alice, '/dav/calendars/alice/default/bob-dav.ics'), /Via DAV/);
    assertError(await bob.client.patch(`/api/calendars/${cal}`, { name: 'Mine' }), 403, 'forbidden');

    // A group share reaches its members; revoking takes effect at once.
    const g = await admin.client.post('/api/admin/groups', { name: 'Accounting' });
    assert.equal(g.status, 201, JSON.stringify(g.json));
    const groupId = g.json.group?.id ?? g.json.id;
    assert.equal((await admin.client.put(`/api/admin/groups/${groupId}/members/${carol.id}`)).status, 204);
    const gs = await alice.client.post(`/api/calendars/${cal}/shares`, { granteeType: 'group', granteeId: groupId, permission: 'read' });
    assert.equal(gs.status, 201);
    assert.equal((await carol.client.get(`/api/calendars/${cal}/events?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z`)).status, 200);
    const list = (await alice.client.get(`/api/calendars/${cal}/shares`)).json.shares;
    assert.equal(list.length, 2);
    assert.equal((await alice.client.delete(`/api/calendars/${cal}/shares/${gs.json.id}`)).status, 204);
    assertError(await carol.client.get(`/api/calendars/${cal}/events?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z`), 404, 'not_found');
    assertError(await bob.client.delete(`/api/calendars/${cal}/shares/${share.json.id}`), 403, 'forbidden');
  });

  test('public ICS address: readable without account, private events busy only, revocable', async () => {
    const cal = await calId(alice);
    const link = await alice.client.post(`/api/calendars/${cal}/public-link`);
    assert.equal(link.status, 201);
    const path = new URL(link.json.url).pathname;
    const r = await fetch(`${srv.url}${path}`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/calendar/);
    const body = await r.text();
    assert.match(body, /Team lunch/);
    assert.doesNotMatch(body, /Lawyer|divorce/);
    assert.ok((await alice.client.get(`/api/calendars/${cal}/shares`)).json.publicLink);
    // A new link revokes the previous one; deleting revokes it.
    const link2 = await alice.client.post(`/api/calendars/${cal}/public-link`);
    assert.equal((await fetch(`${srv.url}${path}`)).status, 404);
    assert.equal((await alice.client.delete(`/api/calendars/${cal}/public-link`)).status, 204);
    assert.equal((await fetch(`${srv.url}${new URL(link2.json.url).pathname}`)).status, 404);
    assert.equal((await fetch(`${srv.url}/api/public/calendars/short`)).status, 404);
    assertError(await alice.client.delete(`/api/calendars/${cal}/public-link`), 404, 'not_found');
  });

  test('resources: a room invited from a CalDAV client answers; its calendar is busy time for users', async () => {
    const room = await admin.client.post('/api/calendars/resources', { kind: 'room', name: 'Salle Lubéron', capacity: 12 });
    assert.equal(room.status, 201);
    const email = room.json.email as string;
    const put = await dav(alice, 'PUT', '/dav/calendars/alice/default/room1.ics', VEVENT('room-1', `ORGANIZER:mailto:alice@example.org\r\nATTENDEE;CUTYPE=ROOM:mailto:${email}\r\n`, 'Board', '20260320T090000Z', '20260320T100000Z'), { 'content-type': 'text/calendar' });
    assert.equal(put.status, 201);
    assert.match(await text(alice, '/dav/calendars/alice/default/room1.ics'), /PARTSTAT=ACCEPTED/);
    const put2 = await dav(bob, 'PUT', '/dav/calendars/bob/default/room2.ics', VEVENT('room-2', `ORGANIZER:mailto:bob@example.org\r\nATTENDEE;CUTYPE=ROOM:mailto:${email}\r\n`, 'Clash', '20260320T093000Z', '20260320T103000Z'), { 'content-type': 'text/calendar' });
    assert.equal(put2.status, 201);
    assert.match(await text(bob, '/dav/calendars/bob/default/room2.ics'), /PARTSTAT=DECLINED/);
    // Bob subscribes to the room's calendar through a mount: busy time only, read-only.
    const mount = `/dav/calendars/bob/shared-${room.json.calendarId}/`;
    const q = await dav(bob, 'REPORT', mount, '<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>', { depth: '1' });
    assert.equal(q.status, 207);
    assert.match(String(q.json), /SUMMARY:Busy/);
    assert.doesNotMatch(String(q.json), /Board/);
    assert.equal((await dav(bob, 'PUT', `${mount}x.ics`, VEVENT('x-room', ''), { 'content-type': 'text/calendar' })).status, 403);
    // Administrators edit and delete resources; users cannot.
    assertError(await bob.client.patch(`/api/calendars/resources/${room.json.id}`, { name: 'Mine' }), 403, 'forbidden');
    assertError(await bob.client.delete(`/api/calendars/resources/${room.json.id}`), 403, 'forbidden');
    assertError(await admin.client.post('/api/calendars/resources', { kind: 'spaceship', name: 'x' }), 400, 'validation_failed');
    assert.equal((await admin.client.patch(`/api/calendars/resources/${room.json.id}`, { capacity: 14 })).json.capacity, 14);
    assert.equal((await admin.client.delete(`/api/calendars/resources/${room.json.id}`)).status, 204);
    assertError(await admin.client.delete(`/api/calendars/resources/${room.json.id}`), 404, 'not_found');
    assert.equal((await admin.client.get('/api/calendars/resources')).json.resources.length, 0);
  });
});
