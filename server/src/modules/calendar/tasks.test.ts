import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer, ApiClient } from '../../../test/helpers/server.js';
import { assertError, MISSING_ID, snapshotAll, userClient } from '../../../test/helpers/api.js';

/** The task items API (/api/tasklists/:id/items): every VTODO field, assignees, order, partial edits. */
const TABLES = ['calendar_collections', 'calendar_objects', 'calendar_changes'];

describe('task items API', () => {
  let srv: TestServer;
  let alice: { id: string; client: ApiClient };
  let bob: { id: string; client: ApiClient };
  let gina: { id: string; client: ApiClient };
  let list = '';
  let events = '';

  before(async () => {
    srv = await startTestServer();
    alice = await userClient(srv, 'alice');
    bob = await userClient(srv, 'bob');
    gina = await userClient(srv, 'gina');
    const cals = (await alice.client.get('/api/calendars')).json.calendars as Array<{ id: string; components: string[] }>;
    list = cals.find((c) => c.components.includes('VTODO'))!.id;
    events = cals.find((c) => !c.components.includes('VTODO'))!.id;
  });
  after(() => srv.close());

  test('create a task with sub-task, assignees and order; list them with every field', async () => {
    const parent = await alice.client.post(`/api/tasklists/${list}/items`, { summary: 'Budget 2027', due: '2026-12-01', priority: 1, assignees: [bob.id], sortOrder: 10 });
    assert.equal(parent.status, 201, JSON.stringify(parent.json));
    assert.equal(parent.json.status, 'NEEDS-ACTION');
    assert.equal(parent.json.due, '2026-12-01');
    assert.equal(parent.json.priority, 1);
    assert.equal(parent.json.sortOrder, 10);
    assert.deepEqual(parent.json.assignees, [{ userId: bob.id, email: 'bob@example.org', name: 'BOB' }]);
    const child = await alice.client.post(`/api/tasklists/${list}/items`, { summary: 'Collect figures', parentUid: parent.json.uid });
    assert.equal(child.status, 201);
    const items = (await alice.client.get(`/api/tasklists/${list}/items`)).json.items as Array<{ summary: string; parentUid: string | null }>;
    assert.equal(items.length, 2);
    assert.equal(items.find((i) => i.summary === 'Collect figures')!.parentUid, parent.json.uid);
    // The same object over the calendar API and its iCalendar text.
    const ics = ((await alice.client.get(`/api/calendars/${list}/objects/${parent.json.id}`)).json.ics as string).replace(/\r\n /g, '');
    assert.match(ics, /ATTENDEE;CN=BOB;X-BASTIDE-USER=[^:]+;PARTSTAT=NEEDS-ACTION:mailto:bob@example.org/);
    assert.match(ics, /X-APPLE-SORT-ORDER:10/);
  });

  test('PATCH changes only what it is given; completing sets 100 %, reopening resets it; stale etag refused', async () => {
    const t = await alice.client.post(`/api/tasklists/${list}/items`, { summary: 'Write report', description: 'Ten pages', priority: 5, assignees: [bob.id] });
    const moved = await alice.client.patch(`/api/tasklists/${list}/items/${t.json.id}`, { status: 'IN-PROCESS', etag: t.json.etag });
    assert.equal(moved.status, 200, JSON.stringify(moved.json));
    assert.equal(moved.json.status, 'IN-PROCESS');
    assert.equal(moved.json.description, 'Ten pages');
    assert.equal(moved.json.priority, 5);
    assert.equal(moved.json.assignees.length, 1);
    assertError(await alice.client.patch(`/api/tasklists/${list}/items/${t.json.id}`, { status: 'COMPLETED', etag: t.json.etag }), 412, 'precondition_failed');
    const done = await alice.client.patch(`/api/tasklists/${list}/items/${t.json.id}`, { status: 'COMPLETED' });
    assert.equal(done.json.percentComplete, 100);
    assert.ok(done.json.completed);
    const reopened = await alice.client.patch(`/api/tasklists/${list}/items/${t.json.id}`, { status: 'NEEDS-ACTION' });
    assert.equal(reopened.json.percentComplete, 0);
    assert.equal(reopened.json.completed, null);
    const cleared = await alice.client.patch(`/api/tasklists/${list}/items/${t.json.id}`, { assignees: [], due: '2026-11-30T09:00:00Z', sortOrder: null, percentComplete: 40 });
    assert.deepEqual(cleared.json.assignees, []);
    assert.equal(cleared.json.due, '2026-11-30T09:00:00.000Z');
    assert.equal(cleared.json.percentComplete, 40);
    assert.equal(cleared.json.summary, 'Write report');
  });

  test('attendees added by another client are kept when Bastide assignees change', async () => {
    const t = await alice.client.post(`/api/tasklists/${list}/items`, { summary: 'External review' });
    const obj = await alice.client.get(`/api/calendars/${list}/objects/${t.json.id}`);
    const withExternal = obj.json.ics.replace('END:VTODO', 'ATTENDEE;CN=Partner:mailto:partner@example.com\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDESCRIPTION:x\r\nEND:VALARM\r\nEND:VTODO');
    const cal = (await alice.client.get('/api/calendars')).json.calendars.find((c: { id: string }) => c.id === list);
    // Write it through the calendar import (same store as CalDAV).
    const r = await fetch(`${srv.url}/api/calendars/${cal.id}/import`, { method: 'POST', headers: { cookie: alice.client.cookie, 'x-csrf-token': alice.client.csrf, 'content-type': 'text/calendar' }, body: withExternal });
    assert.equal(r.status, 200);
    const edited = await alice.client.patch(`/api/tasklists/${list}/items/${t.json.id}`, { assignees: [gina.id] });
    assert.deepEqual(edited.json.assignees.map((a: { name: string }) => a.name).sort(), ['GINA', 'Partner']);
    const ics = (await alice.client.get(`/api/calendars/${list}/objects/${t.json.id}`)).json.ics as string;
    assert.match(ics, /BEGIN:VALARM/);
  });

  test('bad input gets a 4xx and changes nothing; nobody reads or changes a list that is not theirs', async () => {
    const t = (await alice.client.get(`/api/tasklists/${list}/items`)).json.items[0];
    const before = await snapshotAll(srv.bastide.platform.db, TABLES);
    assertError(await alice.client.post(`/api/tasklists/${list}/items`, { summary: '' }), 400, 'validation_failed');
    assertError(await alice.client.post(`/api/tasklists/${list}/items`, { summary: 'x', priority: 12 }), 400, 'validation_failed');
    assertError(await alice.client.post(`/api/tasklists/${list}/items`, { summary: 'x', status: 'DONE' }), 400, 'validation_failed');
    assertError(await alice.client.post(`/api/tasklists/${list}/items`, { summary: 'x', due: 'tomorrow' }), 400, 'validation_failed');
    assertError(await alice.client.post(`/api/tasklists/${list}/items`, { summary: 'x', assignees: [MISSING_ID] }), 400, 'validation_failed');
    assertError(await alice.client.post(`/api/tasklists/${list}/items`, { summary: 'x', colour: 'red' }), 400, 'validation_failed');
    assertError(await alice.client.patch(`/api/tasklists/${list}/items/${t.id}`, { parentUid: t.uid }), 400, 'validation_failed');
    assertError(await alice.client.patch(`/api/tasklists/${list}/items/${MISSING_ID}`, { summary: 'x' }), 404, 'not_found');
    assertError(await alice.client.post(`/api/tasklists/${events}/items`, { summary: 'x' }), 400, 'unsupported_component');
    assertError(await alice.client.get(`/api/tasklists/${events}/items`), 400, 'unsupported_component');
    assertError(await bob.client.get(`/api/tasklists/${list}/items`), 404, 'not_found');
    assertError(await bob.client.post(`/api/tasklists/${list}/items`, { summary: 'intrusion' }), 404, 'not_found');
    assertError(await bob.client.patch(`/api/tasklists/${list}/items/${t.id}`, { summary: 'hijacked' }), 404, 'not_found');
    assertError(await new ApiClient(srv.url).get(`/api/tasklists/${list}/items`), 401, 'unauthenticated');
    assert.deepEqual(await snapshotAll(srv.bastide.platform.db, TABLES), before);
  });

  test('a guest cannot assign people outside their spaces', async () => {
    const space = await bob.client.post('/api/spaces', { name: 'Shared', visibility: 'secret' });
    assert.equal((await bob.client.put(`/api/spaces/${space.json.space.id}/members/${gina.id}`, { role: 'guest' })).status, 204);
    const ginaList = (await gina.client.get('/api/calendars')).json.calendars.find((c: { components: string[] }) => c.components.includes('VTODO')).id;
    assertError(await gina.client.post(`/api/tasklists/${ginaList}/items`, { summary: 'x', assignees: [alice.id] }), 400, 'validation_failed');
    const ok = await gina.client.post(`/api/tasklists/${ginaList}/items`, { summary: 'x', assignees: [bob.id] });
    assert.equal(ok.status, 201);
  });
});
