import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startTestServer, makeUser, type TestServer, ApiClient } from '../../../test/helpers/server.js';
import { assertError, snapshotAll, userClient, type Res } from '../../../test/helpers/api.js';
import { createAppPassword } from '../identity/commands/credentials.js';
import { exportUser, importUser } from '../portability/index.js';

/** The JSON API of calendars, tasks and contacts; permissions over JSON and DAV; portability round trip. */
const ics = (name: string): string => readFileSync(new URL(`../../../test/fixtures/ical/${name}`, import.meta.url), 'utf8');
const vcf = (name: string): string => readFileSync(new URL(`../../../test/fixtures/vcard/${name}`, import.meta.url), 'utf8');
const TABLES = ['calendar_collections', 'calendar_objects', 'calendar_changes', 'contacts_collections', 'contacts_objects', 'contacts_changes'];

describe('calendar and contacts JSON API', () => {
  let srv: TestServer;
  let alice: { id: string; client: ApiClient };
  let bob: { id: string; client: ApiClient };
  let davAuth = '';
  let work = '';
  let tasks = '';

  /** A raw body (.ics, .vcf) with the session cookie and CSRF token. */
  const upload = async (path: string, body: string, type: string): Promise<Res> => {
    const r = await fetch(`${srv.url}${path}`, { method: 'POST', headers: { cookie: alice.client.cookie, 'x-csrf-token': alice.client.csrf, 'content-type': type }, body });
    return { status: r.status, json: await r.json(), headers: r.headers };
  };

  before(async () => {
    srv = await startTestServer();
    alice = await userClient(srv, 'alice');
    bob = await userClient(srv, 'bob');
    const { password } = await createAppPassword({ platform: srv.bastide.platform, actor: { kind: 'system' } }, { userId: alice.id, name: 'dav', scopes: ['dav'] });
    davAuth = `Basic ${Buffer.from(`alice:${password}`).toString('base64')}`;
  });
  after(() => srv.close());

  test('calendars: defaults on first access, create, rename, and a task list', async () => {
    const list = await alice.client.get('/api/calendars');
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.json.calendars.map((c: { slug: string; components: string[] }) => [c.slug, c.components]),
      [['default', ['VEVENT']], ['tasks', ['VTODO']]],
    );
    tasks = list.json.calendars[1].id;
    const created = await alice.client.post('/api/calendars', { name: 'Work', color: '#ff0000', components: ['VEVENT', 'VTODO'] });
    assert.equal(created.status, 201);
    work = created.json.id;
    assert.match(created.json.davUrl, /^\/dav\/calendars\/alice\/[0-9a-f-]+\/$/);
    const renamed = await alice.client.patch(`/api/calendars/${work}`, { name: 'Travail' });
    assert.equal(renamed.json.name, 'Travail');
    assertError(await alice.client.post('/api/calendars', { name: '' }), 400, 'validation_failed');
    const openapi = await alice.client.get('/api/openapi.json');
    assert.equal(openapi.status, 200);
    for (const path of ['/api/calendars/{id}/events', '/api/calendars/{id}/tasks', '/api/addressbooks/{id}/contacts']) assert.ok(openapi.json.paths[path], `${path} documented`);
    assertError(await alice.client.post('/api/calendars', { name: 'x', components: ['VJOURNAL'] }), 400, 'validation_failed');
  });

  test('events: a weekly meeting in Europe/Paris, listed as occurrences across DST; edits keep other properties', async () => {
    const ev = await alice.client.post(`/api/calendars/${work}/events`, {
      summary: 'Weekly', start: '2026-03-23T10:00', end: '2026-03-23T11:00', timeZone: 'Europe/Paris', rrule: 'FREQ=WEEKLY;COUNT=3', location: 'Room 1',
    });
    assert.equal(ev.status, 201, JSON.stringify(ev.json));
    const occ = await alice.client.get(`/api/calendars/${work}/events?from=2026-03-01T00:00:00Z&to=2026-05-01T00:00:00Z`);
    assert.equal(occ.status, 200);
    assert.deepEqual(
      occ.json.occurrences.map((o: { start: string }) => o.start),
      ['2026-03-23T09:00:00.000Z', '2026-03-30T08:00:00.000Z', '2026-04-06T08:00:00.000Z'],
    );
    assert.equal(occ.json.occurrences[0].location, 'Room 1');
    assert.equal(occ.json.occurrences[0].recurring, true);
    // A CalDAV client adds an attendee; a JSON edit keeps it.
    const obj = await alice.client.get(`/api/calendars/${work}/objects/${ev.json.id}`);
    const withAttendee = obj.json.ics.replace('END:VEVENT', 'ATTENDEE;CN=Bob:mailto:bob@example.org\r\nEND:VEVENT');
    const cal = (await alice.client.get('/api/calendars')).json.calendars.find((c: { id: string }) => c.id === work);
    const put = await fetch(`${srv.url}${cal.davUrl}${encodeURIComponent(`${ev.json.uid}.ics`)}`, { method: 'PUT', headers: { authorization: davAuth, 'if-match': `"${ev.json.etag}"` }, body: withAttendee });
    assert.equal(put.status, 204);
    const stale = await alice.client.put(`/api/calendars/${work}/events/${ev.json.id}`, { summary: 'Weekly (moved)', start: '2026-03-24T10:00', end: '2026-03-24T11:00', timeZone: 'Europe/Paris', etag: ev.json.etag });
    assertError(stale, 412, 'precondition_failed');
    const edited = await alice.client.put(`/api/calendars/${work}/events/${ev.json.id}`, { summary: 'Weekly (moved)', start: '2026-03-24T10:00', end: '2026-03-24T11:00', timeZone: 'Europe/Paris' });
    assert.equal(edited.status, 200, JSON.stringify(edited.json));
    const after = await alice.client.get(`/api/calendars/${work}/objects/${ev.json.id}`);
    assert.match(after.json.ics, /ATTENDEE;CN=Bob:mailto:bob@example.org/);
    assert.match(after.json.ics, /RRULE:FREQ=WEEKLY;COUNT=3/);
    assert.match(after.json.ics, /SEQUENCE:1/);
    const allDay = await alice.client.post(`/api/calendars/${work}/events`, { summary: 'Holiday', start: '2026-04-10', end: '2026-04-11', allDay: true });
    assert.equal(allDay.status, 201);
    const day = await alice.client.get(`/api/calendars/${work}/events?from=2026-04-10T00:00:00Z&to=2026-04-11T00:00:00Z`);
    assert.deepEqual(day.json.occurrences.map((o: { start: string; allDay: boolean }) => [o.start, o.allDay]), [['2026-04-10', true]]);
  });

  test('bad input is a 400 and changes nothing', async () => {
    const before = await snapshotAll(srv.bastide.platform.db, TABLES);
    const cases: Array<[string, unknown]> = [
      [`/api/calendars/${work}/events`, { summary: 'x', start: '2026-03-23T10:00', timeZone: 'Mars/Olympus' }],
      [`/api/calendars/${work}/events`, { summary: 'x', start: 'tomorrow' }],
      [`/api/calendars/${work}/events`, { summary: 'x', start: '2026-03-23T10:00:00Z', rrule: 'FREQ=SOMETIMES' }],
      [`/api/calendars/${work}/events`, { summary: 'x', start: '2026-03-23T10:00:00Z', end: '2026-03-22T10:00:00Z' }],
      [`/api/calendars/${work}/events`, { summary: 'x', start: '2026-03-23T10:00:00Z', extra: 1 }],
      [`/api/calendars/${tasks}/events`, { summary: 'not a task', start: '2026-03-23T10:00:00Z' }],
    ];
    for (const [path, body] of cases) {
      const r = await alice.client.post(path, body);
      assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.json)}`);
    }
    assertError(await alice.client.get(`/api/calendars/${work}/events?from=2026-01-01T00:00:00Z&to=2028-01-01T00:00:00Z`), 400, 'validation_failed');
    assertError(await alice.client.get(`/api/calendars/${work}/events?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z`), 400, 'validation_failed');
    assert.deepEqual(await snapshotAll(srv.bastide.platform.db, TABLES), before);
  });

  test('tasks: due, priority, completion, sub-tasks', async () => {
    const parent = await alice.client.post(`/api/calendars/${tasks}/tasks`, { summary: 'Prepare the council', due: '2026-03-20T17:00:00Z', priority: 1 });
    assert.equal(parent.status, 201);
    const sub = await alice.client.post(`/api/calendars/${tasks}/tasks`, { summary: 'Book the room', parentUid: parent.json.uid });
    assert.equal(sub.status, 201);
    const done = await alice.client.put(`/api/calendars/${tasks}/tasks/${sub.json.id}`, { summary: 'Book the room', status: 'COMPLETED', etag: sub.json.etag });
    assert.equal(done.status, 200);
    const list = await alice.client.get(`/api/calendars/${tasks}/tasks`);
    assert.equal(list.status, 200);
    const byUid = new Map(list.json.tasks.map((o: { uid: string }) => [o.uid, o]));
    const p = byUid.get(parent.json.uid) as { due: string; priority: number };
    const s = byUid.get(sub.json.uid) as { status: string; completed: string; parentUid: string; start: null };
    assert.equal(p.due, '2026-03-20T17:00:00.000Z');
    assert.equal(p.priority, 1);
    assert.equal(s.status, 'COMPLETED');
    assert.ok(s.completed);
    assert.equal(s.parentUid, parent.json.uid);
    assert.equal(s.start, null, 'no DTSTART nor DUE');
    const march = await alice.client.get(`/api/calendars/${tasks}/events?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z`);
    assert.deepEqual(march.json.occurrences.map((o: { uid: string }) => o.uid), [parent.json.uid], 'the dated task in its range');
    const del = await alice.client.request('DELETE', `/api/calendars/${tasks}/objects/${sub.json.id}`, undefined, { 'if-match': '"stale"' });
    assertError(del, 412, 'precondition_failed');
    assert.equal((await alice.client.delete(`/api/calendars/${tasks}/objects/${sub.json.id}`)).status, 204);
  });

  test('.ics import and export', async () => {
    const imp = await upload(`/api/calendars/${work}/import`, ics('weekly-paris.ics'), 'text/calendar');
    assert.equal(imp.status, 200, JSON.stringify(imp.json));
    assert.deepEqual(imp.json, { imported: 1, failed: [] });
    const bad = await upload(`/api/calendars/${work}/import`, 'not a calendar', 'text/calendar');
    assertError(bad, 400, 'invalid_calendar_data');
    const exp = await fetch(`${srv.url}/api/calendars/${work}/export`, { headers: { cookie: alice.client.cookie } });
    assert.equal(exp.status, 200);
    assert.match(exp.headers.get('content-type') ?? '', /text\/calendar/);
    const text = await exp.text();
    assert.match(text, /UID:weekly-paris@bastide.test/);
    assert.match(text, /RECURRENCE-ID;TZID=Europe\/Paris:20260323T100000/);
    assert.match(text, /SUMMARY:Weekly \(moved\)/);
  });

  test('contacts: books, create, edit keeping other vCard properties, import, export', async () => {
    const books = await alice.client.get('/api/addressbooks');
    assert.equal(books.status, 200);
    assert.equal(books.json.addressbooks.length, 1);
    const book = books.json.addressbooks[0];
    const c = await alice.client.post(`/api/addressbooks/${book.id}/contacts`, { fn: 'Camille Durand', givenName: 'Camille', familyName: 'Durand', emails: [{ value: 'camille@example.org', type: 'work' }], phones: [{ value: '+33 1 23 45 67 89' }], org: 'Région' });
    assert.equal(c.status, 201, JSON.stringify(c.json));
    assert.equal(c.json.familyName, 'Durand');
    // A CardDAV client adds a postal address; the JSON edit keeps it.
    const one = await alice.client.get(`/api/addressbooks/${book.id}/contacts/${c.json.id}`);
    const withAdr = one.json.vcard.replace('END:VCARD', 'ADR;TYPE=work:;;1 place Bellecour;Lyon;;69002;France\r\nEND:VCARD');
    const put = await fetch(`${srv.url}${book.davUrl}${encodeURIComponent(`${c.json.uid}.vcf`)}`, { method: 'PUT', headers: { authorization: davAuth }, body: withAdr });
    assert.equal(put.status, 204);
    const edited = await alice.client.put(`/api/addressbooks/${book.id}/contacts/${c.json.id}`, { fn: 'Camille Durand-Petit', title: 'Directrice' });
    assert.equal(edited.status, 200);
    const again = await alice.client.get(`/api/addressbooks/${book.id}/contacts/${c.json.id}`);
    assert.match(again.json.vcard, /ADR;TYPE=work:;;1 place Bellecour;Lyon;;69002;France/);
    assert.equal(again.json.fn, 'Camille Durand-Petit');
    assert.deepEqual(again.json.emails, [{ value: 'camille@example.org', type: 'work' }]);
    const imp = await upload(`/api/addressbooks/${book.id}/import`, vcf('several.vcf') + vcf('no-uid.vcf'), 'text/vcard');
    assert.equal(imp.status, 200);
    assert.equal(imp.json.imported, 2);
    assert.deepEqual(imp.json.failed, [{ uid: '', code: 'invalid_vcard' }]);
    const list = await alice.client.get(`/api/addressbooks/${book.id}/contacts`);
    assert.deepEqual(list.json.contacts.map((x: { fn: string }) => x.fn), ['Camille Durand-Petit', 'First', 'Second']);
    const exp = await fetch(`${srv.url}/api/addressbooks/${book.id}/export`, { headers: { cookie: alice.client.cookie } });
    assert.equal(((await exp.text()).match(/BEGIN:VCARD/g) ?? []).length, 3);
    const found = await alice.client.get('/api/search?q=durand');
    assert.equal(found.status, 200);
    assert.ok(found.json.items.some((i: { type: string; title: string }) => i.type === 'contact' && i.title === 'Camille Durand-Petit'), JSON.stringify(found.json));
    assert.ok(found.json.sources.includes('calendar') && found.json.sources.includes('contacts'));
    const events = await alice.client.get('/api/search?q=weekly');
    assert.ok(events.json.items.some((i: { type: string; title: string }) => i.type === 'event' && i.title === 'Weekly (moved)'), JSON.stringify(events.json));
    const bobs = await bob.client.get('/api/search?q=durand');
    assert.ok(!bobs.json.items.some((i: { type: string }) => i.type === 'contact'), 'bob does not find alice\'s contacts');
    assertError(await alice.client.post(`/api/addressbooks/${book.id}/contacts`, { fn: '' }), 400, 'validation_failed');
  });

  test('permissions: bob gets 404 on alice\'s calendars, objects and books over JSON, and changes nothing', async () => {
    const books = (await alice.client.get('/api/addressbooks')).json.addressbooks;
    const occ = (await alice.client.get(`/api/calendars/${work}/events?from=2026-03-01T00:00:00Z&to=2026-05-01T00:00:00Z`)).json.occurrences;
    const objectId = occ[0].objectId;
    const contact = (await alice.client.get(`/api/addressbooks/${books[0].id}/contacts`)).json.contacts[0].id;
    const before = await snapshotAll(srv.bastide.platform.db, TABLES.filter((t) => !t.endsWith('_collections')));
    const calls: Array<[string, string, unknown?]> = [
      ['GET', `/api/calendars/${work}/events?from=2026-03-01T00:00:00Z&to=2026-05-01T00:00:00Z`],
      ['GET', `/api/calendars/${work}/objects/${objectId}`],
      ['GET', `/api/calendars/${work}/export`],
      ['PATCH', `/api/calendars/${work}`, { name: 'Mine' }],
      ['DELETE', `/api/calendars/${work}`],
      ['POST', `/api/calendars/${work}/events`, { summary: 'x', start: '2026-03-23T10:00:00Z' }],
      ['PUT', `/api/calendars/${work}/events/${objectId}`, { summary: 'x', start: '2026-03-23T10:00:00Z' }],
      ['DELETE', `/api/calendars/${work}/objects/${objectId}`],
      ['GET', `/api/addressbooks/${books[0].id}/contacts`],
      ['GET', `/api/addressbooks/${books[0].id}/contacts/${contact}`],
      ['PUT', `/api/addressbooks/${books[0].id}/contacts/${contact}`, { fn: 'x' }],
      ['DELETE', `/api/addressbooks/${books[0].id}`],
    ];
    for (const [method, path, body] of calls) assertError(await bob.client.request(method, path, body), 404, 'not_found');
    // Bob's own lists do not include alice's collections.
    const bobs = await bob.client.get('/api/calendars');
    assert.ok(!bobs.json.calendars.some((c: { id: string }) => c.id === work));
    assert.deepEqual(await snapshotAll(srv.bastide.platform.db, TABLES.filter((t) => !t.endsWith('_collections'))), before);
    // Anonymous callers are asked to sign in.
    assertError(await new ApiClient(srv.url).get('/api/calendars'), 401, 'unauthenticated');
  });

  test('portability: a user\'s calendars and address books go out as .ics/.vcf and come back without loss', async () => {
    const files = await exportUser(srv.bastide.platform, { kind: 'system' }, alice.id);
    const paths = files.map((f) => f.path);
    assert.ok(paths.includes('calendar/calendars.json'));
    assert.ok(paths.includes('calendar/default.ics'));
    assert.ok(paths.includes('contacts/contacts.vcf'));
    const carol = await makeUser(srv, 'carol');
    const counts = await importUser(srv.bastide.platform, { kind: 'system' }, carol.id, files);
    assert.ok((counts.calendar ?? 0) >= 3, JSON.stringify(counts));
    assert.equal(counts.contacts, 3);
    const carolClient = new ApiClient(srv.url);
    await carolClient.login('carol', 'Correct-Horse-Battery-42');
    const cals = (await carolClient.get('/api/calendars')).json.calendars;
    const travail = cals.find((c: { name: string }) => c.name === 'Travail');
    assert.ok(travail, JSON.stringify(cals));
    assert.equal(travail.color, '#ff0000');
    const occ = await carolClient.get(`/api/calendars/${travail.id}/events?from=2026-03-01T00:00:00Z&to=2026-05-01T00:00:00Z`);
    const weekly = occ.json.occurrences.filter((o: { uid: string }) => o.uid === 'weekly-paris@bastide.test');
    assert.equal(weekly.length, 8, 'overrides and EXDATE survived');
    assert.ok(weekly.some((o: { summary: string }) => o.summary === 'Moved meeting'));
  });
});

describe('recurring events: this one / this and following / all', () => {
  let srv: TestServer;
  let alice: { id: string; client: ApiClient };
  let bob: { id: string; client: ApiClient };
  let cal = '';
  const range = 'from=2026-03-01T00:00:00Z&to=2026-06-01T00:00:00Z';
  type Occ = { objectId: string; uid: string; etag: string; start: string; end: string; summary: string; recurrenceId: string | null; location: string };
  const list = async (): Promise<Occ[]> => (await alice.client.get(`/api/calendars/${cal}/events?${range}`)).json.occurrences;
  const ics = async (objectId: string): Promise<string> => (await alice.client.get(`/api/calendars/${cal}/objects/${objectId}`)).json.ics.replace(/\r\n /g, '');

  before(async () => {
    srv = await startTestServer();
    alice = await userClient(srv, 'alice');
    bob = await userClient(srv, 'bob');
    cal = (await alice.client.post('/api/calendars', { name: 'Team' })).json.id;
  });
  after(() => srv.close());

  test('details: wall times and zone, rule, reminders (other alarms kept), attendees', async () => {
    const ev = await alice.client.post(`/api/calendars/${cal}/events`, { summary: 'Standup', start: '2026-03-23T10:00', end: '2026-03-23T10:30', timeZone: 'Europe/Paris', rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=5', alarms: [{ minutesBefore: 10 }] });
    assert.equal(ev.status, 201, JSON.stringify(ev.json));
    // A client adds an e-mail alarm and an attendee; the form's reminders replace only their own kind.
    const text = (await ics(ev.json.id)).replace('END:VEVENT', 'ATTENDEE;CN=Bob;PARTSTAT=ACCEPTED:mailto:bob@example.org\r\nBEGIN:VALARM\r\nACTION:EMAIL\r\nSUMMARY:x\r\nDESCRIPTION:x\r\nATTENDEE:mailto:a@example.org\r\nTRIGGER:-P1D\r\nEND:VALARM\r\nEND:VEVENT');
    const col = (await alice.client.get('/api/calendars')).json.calendars.find((c: { id: string }) => c.id === cal);
    const dav = await createAppPassword({ platform: srv.bastide.platform, actor: { kind: 'system' } }, { userId: alice.id, name: 'dav', scopes: ['dav'] });
    const put = await fetch(`${srv.url}${col.davUrl}${encodeURIComponent(`${ev.json.uid}.ics`)}`, { method: 'PUT', headers: { authorization: `Basic ${Buffer.from(`alice:${dav.password}`).toString('base64')}` }, body: text });
    assert.equal(put.status, 204);
    const d = await alice.client.get(`/api/calendars/${cal}/events/${ev.json.id}`);
    assert.equal(d.status, 200, JSON.stringify(d.json));
    assert.equal(d.json.start, '2026-03-23T10:00:00');
    assert.equal(d.json.end, '2026-03-23T10:30:00');
    assert.equal(d.json.timeZone, 'Europe/Paris');
    assert.deepEqual(d.json.rrule.split(';').sort(), ['BYDAY=MO', 'COUNT=5', 'FREQ=WEEKLY']);
    assert.deepEqual(d.json.alarms, [{ minutesBefore: 10 }]);
    assert.equal(d.json.otherAlarms, 1);
    assert.deepEqual(d.json.attendees, [{ name: 'Bob', email: 'bob@example.org', partstat: 'ACCEPTED', role: 'REQ-PARTICIPANT' }]);
    const edited = await alice.client.put(`/api/calendars/${cal}/events/${ev.json.id}`, { summary: 'Standup', start: '2026-03-23T10:00', end: '2026-03-23T10:30', timeZone: 'Europe/Paris', alarms: [{ minutesBefore: 5 }, { minutesBefore: 60 }] });
    assert.equal(edited.status, 200);
    const after = await ics(ev.json.id);
    assert.match(after, /TRIGGER:-PT5M/);
    assert.match(after, /TRIGGER:-PT1H/);
    assert.doesNotMatch(after, /TRIGGER:-PT10M/);
    assert.match(after, /ACTION:EMAIL/);
  });

  test('this one: an override with RECURRENCE-ID; the others unchanged; then deleted as an EXDATE', async () => {
    const before = (await list()).filter((o) => o.summary === 'Standup');
    assert.equal(before.length, 5);
    const second = before[1]!;
    assert.equal(second.recurrenceId, '2026-03-30T08:00:00.000Z');
    const r = await alice.client.put(`/api/calendars/${cal}/events/${second.objectId}/occurrence`, {
      recurrenceId: second.recurrenceId, scope: 'this', etag: second.etag,
      event: { summary: 'Standup (late)', start: '2026-03-30T11:00', end: '2026-03-30T11:30', timeZone: 'Europe/Paris', location: 'Room 2' },
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.created, null);
    const text = await ics(second.objectId);
    assert.match(text, /RECURRENCE-ID;TZID=Europe\/Paris:20260330T100000/);
    assert.match(text, /ATTENDEE;CN=Bob/, 'the other properties are kept');
    const now = await list();
    assert.deepEqual(now.map((o) => [o.start, o.summary]), [
      ['2026-03-23T09:00:00.000Z', 'Standup'],
      ['2026-03-30T09:00:00.000Z', 'Standup (late)'],
      ['2026-04-06T08:00:00.000Z', 'Standup'],
      ['2026-04-13T08:00:00.000Z', 'Standup'],
      ['2026-04-20T08:00:00.000Z', 'Standup'],
    ]);
    assert.equal(now[1]!.location, 'Room 2');
    // Editing the same occurrence again edits its override (its recurrence id is unchanged).
    const again = await alice.client.put(`/api/calendars/${cal}/events/${second.objectId}/occurrence`, {
      recurrenceId: now[1]!.recurrenceId, scope: 'this', event: { summary: 'Standup (later)', start: '2026-03-30T12:00', end: '2026-03-30T12:30', timeZone: 'Europe/Paris' },
    });
    assert.equal(again.status, 200);
    assert.equal((await ics(second.objectId)).match(/RECURRENCE-ID/g)?.length, 1);
    // The override's own details.
    const d = await alice.client.get(`/api/calendars/${cal}/events/${second.objectId}?recurrenceId=${encodeURIComponent(now[1]!.recurrenceId!)}`);
    assert.equal(d.json.summary, 'Standup (later)');
    // Deleting it: an EXDATE, the override gone.
    const del = await alice.client.request('DELETE', `/api/calendars/${cal}/events/${second.objectId}/occurrence?recurrenceId=${encodeURIComponent(now[1]!.recurrenceId!)}&scope=this`);
    assert.equal(del.status, 204, JSON.stringify(del.json));
    const t2 = await ics(second.objectId);
    assert.match(t2, /EXDATE;TZID=Europe\/Paris:20260330T100000/);
    assert.doesNotMatch(t2, /RECURRENCE-ID/);
    assert.equal((await list()).length, 4);
  });

  test('this and following: the series ends with UNTIL and a new series (new UID, COUNT continued) starts', async () => {
    const occ = await list();
    const fourth = occ.find((o) => o.start === '2026-04-13T08:00:00.000Z')!;
    const r = await alice.client.put(`/api/calendars/${cal}/events/${fourth.objectId}/occurrence`, {
      recurrenceId: fourth.recurrenceId, scope: 'following',
      event: { summary: 'Standup v2', start: '2026-04-13T09:00', end: '2026-04-13T09:15', timeZone: 'Europe/Paris' },
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.ok(r.json.created);
    const old = await ics(fourth.objectId);
    assert.match(old, /RRULE:FREQ=WEEKLY;.*UNTIL=20260413T075959Z/);
    assert.doesNotMatch(old, /COUNT/);
    const fresh = await ics(r.json.created.id);
    assert.notEqual(r.json.created.uid, fourth.uid);
    assert.match(fresh, /RRULE:FREQ=WEEKLY;COUNT=2;BYDAY=MO/);
    assert.match(fresh, /ATTENDEE;CN=Bob/, 'the new series keeps the other properties');
    assert.match(fresh, /ACTION:EMAIL/);
    assert.doesNotMatch(fresh, /EXDATE/, 'the past exception stays with the past series');
    assert.deepEqual((await list()).map((o) => [o.start, o.summary]), [
      ['2026-03-23T09:00:00.000Z', 'Standup'],
      ['2026-04-06T08:00:00.000Z', 'Standup'],
      ['2026-04-13T07:00:00.000Z', 'Standup v2'],
      ['2026-04-20T07:00:00.000Z', 'Standup v2'],
    ]);
    // Deleting "this and following" from the second occurrence of the old series; from the first of the new one deletes it.
    const del = await alice.client.request('DELETE', `/api/calendars/${cal}/events/${fourth.objectId}/occurrence?recurrenceId=${encodeURIComponent('2026-04-06T08:00:00.000Z')}&scope=following`);
    assert.equal(del.status, 204, JSON.stringify(del.json));
    const delNew = await alice.client.request('DELETE', `/api/calendars/${cal}/events/${r.json.created.id}/occurrence?recurrenceId=${encodeURIComponent('2026-04-13T07:00:00.000Z')}&scope=following`);
    assert.equal(delNew.status, 204);
    assert.deepEqual((await list()).map((o) => o.start), ['2026-03-23T09:00:00.000Z']);
  });

  test('all: moving the master moves its exceptions too; all-day series work by date', async () => {
    const ev = await alice.client.post(`/api/calendars/${cal}/events`, { summary: 'Daily', start: '2026-05-04T08:00', end: '2026-05-04T08:30', timeZone: 'America/New_York', rrule: 'FREQ=DAILY;COUNT=4' });
    const occ = (await list()).filter((o) => o.uid === ev.json.uid);
    await alice.client.put(`/api/calendars/${cal}/events/${ev.json.id}/occurrence`, { recurrenceId: occ[1]!.recurrenceId, scope: 'this', event: { summary: 'Daily (moved)', start: '2026-05-05T15:00', end: '2026-05-05T15:30', timeZone: 'America/New_York' } });
    await alice.client.request('DELETE', `/api/calendars/${cal}/events/${ev.json.id}/occurrence?recurrenceId=${encodeURIComponent(occ[2]!.recurrenceId!)}&scope=this`);
    const moved = await alice.client.put(`/api/calendars/${cal}/events/${ev.json.id}`, { summary: 'Daily', start: '2026-05-04T09:00', end: '2026-05-04T09:30', timeZone: 'America/New_York' });
    assert.equal(moved.status, 200);
    assert.deepEqual((await list()).filter((o) => o.uid === ev.json.uid).map((o) => [o.start, o.summary]), [
      ['2026-05-04T13:00:00.000Z', 'Daily'],
      ['2026-05-05T19:00:00.000Z', 'Daily (moved)'],
      ['2026-05-07T13:00:00.000Z', 'Daily'],
    ]);
    const holiday = await alice.client.post(`/api/calendars/${cal}/events`, { summary: 'Leave', start: '2026-05-11', end: '2026-05-12', allDay: true, rrule: 'FREQ=DAILY;COUNT=3' });
    const r = await alice.client.put(`/api/calendars/${cal}/events/${holiday.json.id}/occurrence`, { recurrenceId: '2026-05-12', scope: 'following', event: { summary: 'Leave (half)', start: '2026-05-12', end: '2026-05-13', allDay: true } });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.match(await ics(holiday.json.id), /UNTIL=20260511/);
    assert.deepEqual((await list()).filter((o) => o.summary.startsWith('Leave')).map((o) => [o.start, o.summary]), [
      ['2026-05-11', 'Leave'], ['2026-05-12', 'Leave (half)'], ['2026-05-13', 'Leave (half)'],
    ]);
  });

  test('bad input is a 4xx that changes nothing; bob cannot touch alice\'s occurrences', async () => {
    const TABLES2 = ['calendar_objects', 'calendar_changes'];
    const before = await snapshotAll(srv.bastide.platform.db, TABLES2);
    const single = await alice.client.post(`/api/calendars/${cal}/events`, { summary: 'Once', start: '2026-05-20T10:00:00Z' });
    const after1 = await snapshotAll(srv.bastide.platform.db, TABLES2);
    const daily = (await list()).find((o) => o.summary === 'Daily')!;
    const ev = { summary: 'x', start: '2026-05-04T09:00', timeZone: 'America/New_York' };
    const base = `/api/calendars/${cal}/events/${daily.objectId}/occurrence`;
    assertError(await alice.client.put(base, { recurrenceId: 'yesterday', scope: 'this', event: ev }), 400, 'validation_failed');
    assertError(await alice.client.put(base, { recurrenceId: daily.recurrenceId, scope: 'sometimes', event: ev }), 400, 'validation_failed');
    assertError(await alice.client.put(base, { recurrenceId: daily.recurrenceId, scope: 'this', event: { ...ev, rrule: 'FREQ=DAILY' } }), 400, 'validation_failed');
    assertError(await alice.client.put(base, { recurrenceId: '2026-05-04T13:30:00Z', scope: 'this', event: ev }), 404, 'not_found');
    assertError(await alice.client.put(base, { recurrenceId: daily.recurrenceId, scope: 'this', event: ev, etag: 'stale' }), 412, 'precondition_failed');
    assertError(await alice.client.put(`/api/calendars/${cal}/events/${single.json.id}/occurrence`, { recurrenceId: '2026-05-20T10:00:00Z', scope: 'this', event: ev }), 409, 'conflict');
    assertError(await alice.client.request('DELETE', `${base}?recurrenceId=nope&scope=this`), 400, 'validation_failed');
    assertError(await alice.client.get(`/api/calendars/${cal}/events/nope`), 404, 'not_found');
    assertError(await bob.client.put(base, { recurrenceId: daily.recurrenceId, scope: 'this', event: ev }), 404, 'not_found');
    assertError(await bob.client.request('DELETE', `${base}?recurrenceId=${encodeURIComponent(daily.recurrenceId!)}&scope=following`), 404, 'not_found');
    assertError(await bob.client.get(`/api/calendars/${cal}/events/${daily.objectId}`), 404, 'not_found');
    assert.notDeepEqual(before, after1);
    assert.deepEqual(await snapshotAll(srv.bastide.platform.db, TABLES2), after1);
  });
});
