import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../src/platform/clock.js';
import { scheduleActive } from '../src/modules/chat/dnd.js';
import { startTestServer, type ApiClient, type TestServer } from './helpers/server.js';
import { assertError, userClient } from './helpers/api.js';

/** Do-not-disturb schedules: wall-clock windows in the person's time zone, across midnight and DST. */
type U = { id: string; login: string; client: ApiClient };

describe('chat do-not-disturb schedule', () => {
  const weeknights = { enabled: true, days: [1, 2, 3, 4, 5], startMin: 19 * 60, endMin: 8 * 60, timeZone: 'Europe/Paris' };

  test('windows over midnight, the day they start on, daylight saving', () => {
    // Monday 2026-03-23 20:00 in Paris (UTC+1) → on; Tuesday 07:59 → on (Monday's window); 08:00 → off.
    assert.equal(scheduleActive(weeknights, Date.parse('2026-03-23T19:00:00Z')), true);
    assert.equal(scheduleActive(weeknights, Date.parse('2026-03-24T06:59:00Z')), true);
    assert.equal(scheduleActive(weeknights, Date.parse('2026-03-24T07:00:00Z')), false);
    // Friday night runs into Saturday morning; Saturday night does not start a window.
    assert.equal(scheduleActive(weeknights, Date.parse('2026-03-28T06:00:00Z')), true);
    assert.equal(scheduleActive(weeknights, Date.parse('2026-03-28T20:00:00Z')), false);
    // Sunday 2026-03-29 is the DST change (UTC+2 after). Monday 07:30 belongs to Sunday night: not listed.
    assert.equal(scheduleActive(weeknights, Date.parse('2026-03-30T05:30:00Z')), false);
    // Tuesday 07:30 in Paris (05:30 UTC, after the change) is Monday's window; 08:30 is not.
    assert.equal(scheduleActive(weeknights, Date.parse('2026-03-31T05:30:00Z')), true);
    assert.equal(scheduleActive(weeknights, Date.parse('2026-03-31T06:30:00Z')), false);
    // Wall-clock in the person's zone: 2026-03-31 12:30 UTC is 08:30 in New York (off) and 14:30 in Paris (off);
    // 2026-03-31 23:30 UTC is 19:30 in New York (on) but 01:30 Wednesday in Paris (on as well, Tuesday's window).
    assert.equal(scheduleActive({ ...weeknights, timeZone: 'America/New_York' }, Date.parse('2026-03-31T12:30:00Z')), false);
    assert.equal(scheduleActive({ ...weeknights, timeZone: 'America/New_York' }, Date.parse('2026-03-31T23:30:00Z')), true);
    assert.equal(scheduleActive({ ...weeknights, timeZone: 'America/New_York' }, Date.parse('2026-03-31T22:30:00Z')), false);
    // A daytime window; disabled or empty schedules never hold.
    const lunch = { enabled: true, days: [0, 1, 2, 3, 4, 5, 6], startMin: 12 * 60, endMin: 13 * 60, timeZone: 'UTC' };
    assert.equal(scheduleActive(lunch, Date.parse('2026-03-30T12:30:00Z')), true);
    assert.equal(scheduleActive({ ...lunch, enabled: false }, Date.parse('2026-03-30T12:30:00Z')), false);
    assert.equal(scheduleActive({ ...lunch, days: [] }, Date.parse('2026-03-30T12:30:00Z')), false);
  });

  describe('through the API', () => {
    let srv: TestServer;
    let ana: U;
    let ben: U;
    const clock = new ManualClock(Date.parse('2026-03-23T19:30:00Z')); // Monday 20:30 in Paris

    before(async () => {
      srv = await startTestServer({ clock });
      [ana, ben] = await Promise.all([userClient(srv, 'ana'), userClient(srv, 'ben')]);
    });
    after(() => srv.close());

    const presence = async () => ((await ben.client.get(`/api/chat/presence?userIds=${ana.id}`)).json.items as Array<{ status: string }>)[0]!.status;

    test('validation; a schedule that holds makes the presence dnd', async () => {
      assert.equal((await ana.client.get('/api/chat/dnd')).json.dnd.enabled, false);
      assertError(await ana.client.put('/api/chat/dnd', { enabled: true, days: [1], start: '25:00', end: '08:00', timeZone: 'Europe/Paris' }), 400, 'validation_failed');
      assertError(await ana.client.put('/api/chat/dnd', { enabled: true, days: [1], start: '19:00', end: '08:00', timeZone: 'Mars/Olympus' }), 400, 'validation_failed');
      assertError(await ana.client.put('/api/chat/dnd', { enabled: true, days: [7], start: '19:00', end: '08:00', timeZone: 'UTC' }), 400, 'validation_failed');
      assert.equal((await ana.client.put('/api/chat/presence', { status: 'online' })).status, 204);
      assert.equal(await presence(), 'online');
      const r = await ana.client.put('/api/chat/dnd', { enabled: true, days: [1, 2, 3, 4, 5], start: '19:00', end: '08:00', timeZone: 'Europe/Paris' });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.dnd.active, true);
      assert.equal(await presence(), 'dnd');
      assert.equal((await ana.client.put('/api/chat/dnd', { ...r.json.dnd, active: undefined, enabled: false })).status, 200);
      assert.equal(await presence(), 'online');
    });
  });
});
