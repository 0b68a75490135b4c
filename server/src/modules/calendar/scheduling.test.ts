import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer, type ApiClient } from '../../../test/helpers/server.js';
import { assertError, eventually, userClient } from '../../../test/helpers/api.js';
import { setDeliverExternal, type ExternalMessage } from './scheduling.js';

/**
 * Implicit scheduling between Bastide users (RFC 6638) over the JSON API: invitations, per-occurrence
 * answers, updates, removals, cancellations, rooms (auto-accept, decline on conflict), free/busy.
 */
type U = { id: string; client: ApiClient };

describe('calendar scheduling', () => {
  let srv: TestServer;
  let alice: U;
  let bob: U;
  let carol: U;
  let dave: U;
  let admin: U;
  const cal: Record<string, string> = {};
  let eventId = '';
  let roomId = '';

  const defaultCalendar = async (u: U): Promise<string> => {
    const r = await u.client.get('/api/calendars');
    return r.json.calendars.find((c: { slug: string }) => c.slug === 'default').id;
  };
  const events = async (u: U, calId: string, from = '2026-03-01T00:00:00Z', to = '2026-05-01T00:00:00Z') => (await u.client.get(`/api/calendars/${calId}/events?from=${from}&to=${to}`)).json.occurrences as Array<Record<string, any>>;
  const attendees = async (u: U, calId: string, objectId: string, rid?: string) =>
    (await u.client.get(`/api/calendars/${calId}/events/${objectId}/attendees${rid ? `?recurrenceId=${encodeURIComponent(rid)}` : ''}`)).json;
  const copyOf = async (u: U, uid: string): Promise<Record<string, any>> => {
    const o = (await events(u, cal[u.id]!)).find((x) => x.uid === uid);
    assert.ok(o, `a copy of ${uid}`);
    return o;
  };

  before(async () => {
    srv = await startTestServer();
    alice = await userClient(srv, 'alice');
    bob = await userClient(srv, 'bob');
    carol = await userClient(srv, 'carol');
    dave = await userClient(srv, 'dave');
    admin = await userClient(srv, 'root', { admin: true });
    for (const u of [alice, bob, carol, dave]) cal[u.id] = await defaultCalendar(u);
  });
  after(() => srv.close());

  test('the organizer invites two colleagues, an outsider and a room: copies delivered, statuses recorded', async () => {
    const room = await admin.client.post('/api/calendars/resources', { kind: 'room', name: 'Salle Verdon', capacity: 8, location: '2nd floor' });
    assert.equal(room.status, 201);
    roomId = room.json.id;
    assert.match(room.json.email, /^resource-[0-9a-z]{26}@localhost$/);
    assertError(await alice.client.post('/api/calendars/resources', { kind: 'room', name: 'Mine' }), 403, 'forbidden');
    assert.equal((await alice.client.get('/api/calendars/resources')).json.resources[0].name, 'Salle Verdon');

    const ev = await alice.client.post(`/api/calendars/${cal[alice.id]}/events`, { summary: 'Weekly sync', start: '2026-03-23T10:00', end: '2026-03-23T11:00', timeZone: 'Europe/Paris', rrule: 'FREQ=WEEKLY;COUNT=4' });
    assert.equal(ev.status, 201);
    eventId = ev.json.id;
    const set = await alice.client.put(`/api/calendars/${cal[alice.id]}/events/${eventId}/attendees`, {
      attendees: [{ userId: bob.id }, { userId: carol.id, role: 'OPT-PARTICIPANT' }, { email: 'zoe@elsewhere.example', name: 'Zoé' }, { resourceId: roomId }],
    });
    assert.equal(set.status, 200, JSON.stringify(set.json));
    const byName = Object.fromEntries(set.json.attendees.map((a: { name: string }) => [a.name, a]));
    assert.equal(byName.BOB.partstat, 'NEEDS-ACTION');
    assert.equal(byName.BOB.scheduleStatus, '1.2');
    assert.equal(byName.BOB.userId, bob.id);
    assert.equal(byName.CAROL.role, 'OPT-PARTICIPANT');
    assert.equal(byName['Zoé'].scheduleStatus, '5.1');
    assert.equal(byName['Salle Verdon'].partstat, 'ACCEPTED');
    assert.equal(byName['Salle Verdon'].cutype, 'ROOM');
    assert.equal(byName['Salle Verdon'].resourceId, roomId);

    const bobCopy = await copyOf(bob, ev.json.uid);
    assert.ok(bobCopy, 'bob has a copy in his default calendar');
    assert.equal((await events(bob, cal[bob.id]!)).filter((o) => o.uid === ev.json.uid).length, 4);
    const view = await attendees(bob, cal[bob.id]!, bobCopy.objectId);
    assert.equal(view.role, 'attendee');
    assert.equal(view.myPartstat, 'NEEDS-ACTION');
    assert.equal(view.organizer.userId, alice.id);
    assert.ok(view.attendees.every((a: { scheduleStatus: string | null }) => a.scheduleStatus === null), 'no SCHEDULE-STATUS in copies');
    await eventually(async () => (await bob.client.get('/api/notifications')).json.items.some((n: { type: string; body: string }) => n.type === 'calendar.invited' && n.body.includes('Weekly sync')), 5000, 'invitation notice');
    // The room's calendar holds the booking, as busy time for users.
    const roomCal = (await alice.client.get('/api/calendars/resources')).json.resources[0].calendarId;
    const roomEvents = await events(bob, roomCal);
    assert.equal(roomEvents.length, 4);
    assert.equal(roomEvents[0]!.summary, 'Busy');
    assert.equal((await events(admin, roomCal))[0]!.summary, 'Weekly sync');
    assertError(await bob.client.post(`/api/calendars/${roomCal}/events`, { summary: 'squat', start: '2026-03-23T10:00:00Z' }), 403, 'forbidden');
  });

  test('an attendee declines one occurrence: the organizer sees an override with that answer', async () => {
    const orgOcc = (await events(alice, cal[alice.id]!)).filter((o) => o.objectId === eventId);
    const second = orgOcc[1]!.recurrenceId as string;
    const bobCopy = (await events(bob, cal[bob.id]!)).find((o) => o.recurrenceId === second)!;
    const r = await bob.client.post(`/api/calendars/${cal[bob.id]}/events/${bobCopy.objectId}/reply`, { partstat: 'DECLINED', recurrenceId: second });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const orgView = await attendees(alice, cal[alice.id]!, eventId, second);
    assert.equal(orgView.role, 'organizer');
    assert.equal(orgView.attendees.find((a: { userId: string }) => a.userId === bob.id).partstat, 'DECLINED');
    const series = await attendees(alice, cal[alice.id]!, eventId);
    assert.equal(series.attendees.find((a: { userId: string }) => a.userId === bob.id).partstat, 'NEEDS-ACTION');
    // The other occurrences are untouched, and carol's copy shows bob's answer for that occurrence.
    const carolCopy = await copyOf(carol, bobCopy.uid);
    const carolView = await attendees(carol, cal[carol.id]!, carolCopy.objectId, second);
    assert.equal(carolView.attendees.find((a: { userId: string }) => a.userId === bob.id).partstat, 'DECLINED');
    assert.equal(carolView.myPartstat, 'NEEDS-ACTION');
    await eventually(async () => (await alice.client.get('/api/notifications')).json.items.some((n: { type: string }) => n.type === 'calendar.replied'), 5000, 'reply notice');
    // One request gives the calendar view every occurrence's scheduling state.
    const mineInv = (await bob.client.get(`/api/calendars/${cal[bob.id]}/invitations?from=2026-03-01T00:00:00Z&to=2026-05-01T00:00:00Z`)).json.items;
    assert.equal(mineInv.length, 4);
    assert.deepEqual(mineInv.map((i: { myPartstat: string }) => i.myPartstat).sort(), ['DECLINED', 'NEEDS-ACTION', 'NEEDS-ACTION', 'NEEDS-ACTION']);
    assert.equal(mineInv.find((i: { recurrenceId: string }) => i.recurrenceId === second).myPartstat, 'DECLINED');
    assert.equal(mineInv[0].role, 'attendee');
    assert.equal(mineInv[0].organizerName, 'ALICE');
    const orgInv = (await alice.client.get(`/api/calendars/${cal[alice.id]}/invitations?from=2026-03-01T00:00:00Z&to=2026-05-01T00:00:00Z`)).json.items;
    assert.equal(orgInv.find((i: { recurrenceId: string }) => i.recurrenceId === second).declined, 1);
    assert.equal(orgInv[0].role, 'organizer');
    assertError(await dave.client.get(`/api/calendars/${cal[bob.id]}/invitations?from=2026-03-01T00:00:00Z&to=2026-05-01T00:00:00Z`), 404, 'not_found');
    // Carol accepts the series.
    assert.equal((await carol.client.post(`/api/calendars/${cal[carol.id]}/events/${carolCopy.objectId}/reply`, { partstat: 'ACCEPTED' })).status, 200);
    assert.equal((await attendees(alice, cal[alice.id]!, eventId)).attendees.find((a: { userId: string }) => a.userId === carol.id).partstat, 'ACCEPTED');
    // Bob's declined occurrence is not busy time for him; the others are.
    const fb = await alice.client.get(`/api/calendars/freebusy?users=${bob.id},${carol.id}&resources=${roomId}&from=2026-03-01T00:00:00Z&to=2026-05-01T00:00:00Z`);
    assert.equal(fb.status, 200, JSON.stringify(fb.json));
    assert.equal(fb.json.users[0].busy.length, 3);
    assert.equal(fb.json.users[1].busy.length, 4);
    assert.equal(fb.json.users[0].busy[0].type, 'BUSY-TENTATIVE', 'an unanswered invitation');
    assert.equal(fb.json.users[1].busy[0].type, 'BUSY');
    assert.equal(fb.json.resources[0].busy.length, 4);
    assert.deepEqual(Object.keys(fb.json.users[0].busy[0]).sort(), ['end', 'start', 'type']);
  });

  test('bad replies and foreign calendars are refused', async () => {
    const bobCopy = await copyOf(bob, (await events(alice, cal[alice.id]!))[0]!.uid);
    assertError(await alice.client.post(`/api/calendars/${cal[alice.id]}/events/${eventId}/reply`, { partstat: 'ACCEPTED' }), 409, 'not_an_attendee');
    assertError(await bob.client.post(`/api/calendars/${cal[bob.id]}/events/${bobCopy.objectId}/reply`, { partstat: 'MAYBE' }), 400, 'validation_failed');
    assertError(await bob.client.post(`/api/calendars/${cal[bob.id]}/events/${bobCopy.objectId}/reply`, { partstat: 'ACCEPTED', recurrenceId: '2026-03-24T09:00:00.000Z' }), 400, 'validation_failed');
    assertError(await dave.client.post(`/api/calendars/${cal[bob.id]}/events/${bobCopy.objectId}/reply`, { partstat: 'ACCEPTED' }), 404, 'not_found');
    assertError(await bob.client.put(`/api/calendars/${cal[bob.id]}/events/${bobCopy.objectId}/attendees`, { attendees: [] }), 409, 'not_organizer');
    assertError(await dave.client.get(`/api/calendars/${cal[alice.id]}/events/${eventId}/attendees`), 404, 'not_found');
    assertError(await alice.client.put(`/api/calendars/${cal[alice.id]}/events/${eventId}/attendees`, { attendees: [{ userId: 'nobody' }] }), 400, 'validation_failed');
    assertError(await alice.client.get(`/api/calendars/freebusy?users=nobody&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z`), 400, 'validation_failed');
    assertError(await alice.client.get(`/api/calendars/freebusy?users=${bob.id}&from=2026-03-01T00:00:00Z&to=2027-03-02T00:00:00Z`), 400, 'validation_failed');
  });

  test('a room already taken declines; moving the meeting resets answers; removing an attendee cancels their copy', async () => {
    const ev = await dave.client.post(`/api/calendars/${cal[dave.id]}/events`, { summary: 'Clash', start: '2026-03-30T08:30:00Z', end: '2026-03-30T09:30:00Z' });
    const set = await dave.client.put(`/api/calendars/${cal[dave.id]}/events/${ev.json.id}/attendees`, { attendees: [{ resourceId: roomId }] });
    assert.equal(set.json.attendees[0].partstat, 'DECLINED');
    const fb = await dave.client.get(`/api/calendars/freebusy?resources=${roomId}&from=2026-03-30T00:00:00Z&to=2026-03-31T00:00:00Z`);
    assert.equal(fb.json.resources[0].busy.length, 1, 'only the accepted booking');
    // A free slot is accepted.
    const ok = await dave.client.post(`/api/calendars/${cal[dave.id]}/events`, { summary: 'Free slot', start: '2026-03-30T12:00:00Z', end: '2026-03-30T13:00:00Z' });
    assert.equal((await dave.client.put(`/api/calendars/${cal[dave.id]}/events/${ok.json.id}/attendees`, { attendees: [{ resourceId: roomId }] })).json.attendees[0].partstat, 'ACCEPTED');

    // Alice moves the meeting by an hour: everyone must answer again.
    const cur = (await alice.client.get(`/api/calendars/${cal[alice.id]}/objects/${eventId}`)).json;
    const moved = await alice.client.put(`/api/calendars/${cal[alice.id]}/events/${eventId}`, { summary: 'Weekly sync', start: '2026-03-23T14:00', end: '2026-03-23T15:00', timeZone: 'Europe/Paris', rrule: 'FREQ=WEEKLY;COUNT=4', etag: cur.etag });
    assert.equal(moved.status, 200, JSON.stringify(moved.json));
    assert.equal((await attendees(alice, cal[alice.id]!, eventId)).attendees.find((a: { userId: string }) => a.userId === carol.id).partstat, 'NEEDS-ACTION');
    const carolCopy = await copyOf(carol, cur.uid);
    assert.equal(carolCopy.start, '2026-03-23T13:00:00.000Z');
    await eventually(async () => (await carol.client.get('/api/notifications')).json.items.some((n: { type: string }) => n.type === 'calendar.updated'), 5000, 'notification calendar.updated');

    // Carol is removed: her copy is cancelled (never busy), bob keeps his.
    const set2 = await alice.client.put(`/api/calendars/${cal[alice.id]}/events/${eventId}/attendees`, { attendees: [{ userId: bob.id }, { resourceId: roomId }] });
    assert.equal(set2.status, 200);
    assert.equal((await copyOf(carol, cur.uid)).status, 'CANCELLED');
    assert.equal((await copyOf(bob, cur.uid)).status, '');
    const fb2 = await alice.client.get(`/api/calendars/freebusy?users=${carol.id}&from=2026-03-01T00:00:00Z&to=2026-05-01T00:00:00Z`);
    assert.equal(fb2.json.users[0].busy.length, 0);
  });

  test('deleting the event cancels every copy and frees the room', async () => {
    const uid = (await alice.client.get(`/api/calendars/${cal[alice.id]}/objects/${eventId}`)).json.uid;
    assert.equal((await alice.client.delete(`/api/calendars/${cal[alice.id]}/objects/${eventId}`)).status, 204);
    assert.equal((await copyOf(bob, uid)).status, 'CANCELLED');
    const fb = await alice.client.get(`/api/calendars/freebusy?resources=${roomId}&from=2026-03-01T00:00:00Z&to=2026-05-01T00:00:00Z`);
    assert.equal(fb.json.resources[0].busy.length, 1, 'only dave’s free-slot booking is left');
    await eventually(async () => (await bob.client.get('/api/notifications')).json.items.some((n: { type: string }) => n.type === 'calendar.cancelled'), 5000, 'notification calendar.cancelled');
  });

  test('the deliverExternal hook receives iMIP messages for outside attendees', async () => {
    const sent: ExternalMessage[] = [];
    setDeliverExternal(async (_p, msg) => {
      sent.push(msg);
    });
    try {
      const ev = await alice.client.post(`/api/calendars/${cal[alice.id]}/events`, { summary: 'With a partner', start: '2026-04-03T09:00:00Z', end: '2026-04-03T10:00:00Z' });
      const set = await alice.client.put(`/api/calendars/${cal[alice.id]}/events/${ev.json.id}/attendees`, { attendees: [{ email: 'partner@elsewhere.example' }] });
      assert.equal(set.json.attendees[0].scheduleStatus, '1.1');
      assert.equal(sent.length, 1);
      assert.equal(sent[0]!.method, 'REQUEST');
      assert.deepEqual(sent[0]!.to, ['partner@elsewhere.example']);
      assert.equal(sent[0]!.from, 'mailto:alice@example.org');
      assert.match(sent[0]!.ics, /METHOD:REQUEST/);
      await alice.client.put(`/api/calendars/${cal[alice.id]}/events/${ev.json.id}/attendees`, { attendees: [] });
      assert.equal(sent.at(-1)!.method, 'CANCEL');
      assert.match(sent.at(-1)!.ics, /STATUS:CANCELLED/);
    } finally {
      setDeliverExternal(null);
    }
  });

  test('all-day series: declining one day adds a date override on the organizer side', async () => {
    const ev = await alice.client.post(`/api/calendars/${cal[alice.id]}/events`, { summary: 'Offsite', start: '2026-04-06', end: '2026-04-07', allDay: true, rrule: 'FREQ=DAILY;COUNT=3' });
    await alice.client.put(`/api/calendars/${cal[alice.id]}/events/${ev.json.id}/attendees`, { attendees: [{ userId: carol.id }] });
    const copy = (await events(carol, cal[carol.id]!)).find((o) => o.uid === ev.json.uid && o.recurrenceId === '2026-04-07')!;
    assert.ok(copy);
    assert.equal((await carol.client.post(`/api/calendars/${cal[carol.id]}/events/${copy.objectId}/reply`, { partstat: 'DECLINED', recurrenceId: '2026-04-07' })).status, 200);
    const org = (await alice.client.get(`/api/calendars/${cal[alice.id]}/objects/${ev.json.id}`)).json.ics as string;
    assert.match(org, /RECURRENCE-ID;VALUE=DATE:20260407/);
    assert.equal((await attendees(alice, cal[alice.id]!, ev.json.id, '2026-04-07')).attendees[0].partstat, 'DECLINED');
    assert.equal((await attendees(alice, cal[alice.id]!, ev.json.id, '2026-04-08')).attendees[0].partstat, 'NEEDS-ACTION');
    assert.equal((await events(alice, cal[alice.id]!)).filter((o) => o.uid === ev.json.uid).length, 3, 'still three days');
  });

  test('two organizers booking the same room at the same moment: never both accepted', async () => {
    for (let round = 0; round < 5; round++) {
      const day = `2026-05-${String(10 + round).padStart(2, '0')}`;
      const evA = await alice.client.post(`/api/calendars/${cal[alice.id]}/events`, { summary: `Race A${round}`, start: `${day}T09:00:00Z`, end: `${day}T10:00:00Z` });
      const evD = await dave.client.post(`/api/calendars/${cal[dave.id]}/events`, { summary: `Race D${round}`, start: `${day}T09:30:00Z`, end: `${day}T10:30:00Z` });
      const [ra, rd] = await Promise.all([
        alice.client.put(`/api/calendars/${cal[alice.id]}/events/${evA.json.id}/attendees`, { attendees: [{ resourceId: roomId }] }),
        dave.client.put(`/api/calendars/${cal[dave.id]}/events/${evD.json.id}/attendees`, { attendees: [{ resourceId: roomId }] }),
      ]);
      assert.equal(ra.status, 200);
      assert.equal(rd.status, 200);
      const final = [
        (await attendees(alice, cal[alice.id]!, evA.json.id)).attendees[0].partstat,
        (await attendees(dave, cal[dave.id]!, evD.json.id)).attendees[0].partstat,
      ];
      assert.ok(final.filter((p) => p === 'ACCEPTED').length <= 1, `round ${round}: ${final.join(', ')}`);
      const fb = await alice.client.get(`/api/calendars/freebusy?resources=${roomId}&from=${day}T00:00:00Z&to=${day}T23:59:00Z`);
      assert.equal(fb.json.resources[0].busy.length, final.filter((p) => p === 'ACCEPTED').length, `round ${round}: the room holds what was accepted`);
    }
  });

  test('an attendee deleting their copy declines', async () => {
    const ev = await alice.client.post(`/api/calendars/${cal[alice.id]}/events`, { summary: 'Lunch', start: '2026-04-02T11:00:00Z', end: '2026-04-02T12:00:00Z' });
    await alice.client.put(`/api/calendars/${cal[alice.id]}/events/${ev.json.id}/attendees`, { attendees: [{ userId: dave.id }] });
    const copy = await copyOf(dave, ev.json.uid);
    assert.equal((await dave.client.delete(`/api/calendars/${cal[dave.id]}/objects/${copy.objectId}`)).status, 204);
    assert.equal((await attendees(alice, cal[alice.id]!, ev.json.id)).attendees[0].partstat, 'DECLINED');
  });
});
