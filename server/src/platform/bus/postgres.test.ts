import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createTestStorage, postgresAvailable, type TestStorage } from '../../../test/helpers/db.js';
import type { BusLogger } from './memory.js';
import { PostgresBus } from './postgres.js';
import type { BusEvent } from './types.js';

const quiet: BusLogger = { warn: () => undefined, error: () => undefined };

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const ev = (seq: number, topic = 'test.thing.changed'): BusEvent => ({ seq, topic, data: { id: `t${seq}` }, audience: ['*'], at: 1000 + seq });

describe('PostgresBus', { skip: !(await postgresAvailable()) && 'PostgreSQL unreachable' }, () => {
  let storage: TestStorage;
  let pool: pg.Pool;
  let a: PostgresBus;
  let b: PostgresBus;
  let reconnectsA = 0;

  before(async () => {
    storage = await createTestStorage('postgres');
    pool = new pg.Pool({ connectionString: storage.databaseUrl, max: 3 });
    // Node A from a URL (owns its pool), node B sharing an application pool.
    a = new PostgresBus(storage.databaseUrl!, { log: quiet, reconnectMinMs: 20, reconnectMaxMs: 200, onReconnect: () => reconnectsA++ });
    b = new PostgresBus(pool, { log: quiet, reconnectMinMs: 20, reconnectMaxMs: 200 });
    await Promise.all([a.ready(), b.ready()]);
  });

  after(async () => {
    await a.close();
    await b.close();
    await pool.end();
    await storage.cleanup();
  });

  test('an event published on one node reaches every subscriber on both nodes exactly once', async () => {
    const a1: number[] = [];
    const a2: number[] = [];
    const b1: number[] = [];
    const offs = [a.subscribe((e) => a1.push(e.seq)), a.subscribe((e) => a2.push(e.seq)), b.subscribe((e) => b1.push(e.seq))];
    let last: BusEvent | undefined;
    offs.push(b.subscribe((e) => (last = e)));
    await a.publish(ev(1));
    await b.publish(ev(2));
    await a.publish(ev(3));
    // A sentinel published after the others arrives after them (one listener per node, commit order).
    await b.publish(ev(99, 'test.sentinel'));
    await waitFor(() => a1.includes(99) && a2.includes(99) && b1.includes(99), 'the sentinel');
    assert.deepEqual(a1, [1, 2, 3, 99]);
    assert.deepEqual(a2, [1, 2, 3, 99]);
    assert.deepEqual(b1, [1, 2, 3, 99]);
    assert.deepEqual(last, ev(99, 'test.sentinel'));
    for (const off of offs) off();
  });

  test('payloads of 8000 bytes or more are refused before reaching PostgreSQL', async () => {
    const onA: number[] = [];
    const onB: number[] = [];
    const offs = [a.subscribe((e) => onA.push(e.seq)), b.subscribe((e) => onB.push(e.seq))];
    const big: BusEvent = { ...ev(5), data: { blob: 'x'.repeat(8000) } };
    await assert.rejects(a.publish(big), RangeError);
    await a.publish(ev(6));
    await waitFor(() => onA.includes(6) && onB.includes(6), 'event 6 on both nodes');
    assert.deepEqual(onA, [6]);
    assert.deepEqual(onB, [6]);
    for (const off of offs) off();
  });

  test('a killed listening connection reconnects and keeps its subscribers', async () => {
    const seen: number[] = [];
    const off = a.subscribe((e) => seen.push(e.seq));
    const oldPid = a.listenerPid;
    assert.ok(oldPid);
    const admin = new pg.Client({ connectionString: storage.databaseUrl });
    await admin.connect();
    try {
      const r = await admin.query<{ ok: boolean }>('select pg_terminate_backend($1) as ok', [oldPid]);
      assert.equal(r.rows[0]?.ok, true);
    } finally {
      await admin.end();
    }
    await waitFor(() => a.isListening && a.listenerPid !== undefined && a.listenerPid !== oldPid, 'the listener to reconnect');
    assert.equal(reconnectsA, 1);
    await b.publish(ev(10));
    await a.publish(ev(11));
    await waitFor(() => seen.includes(11), 'event 11 after reconnect');
    assert.deepEqual(seen, [10, 11]);
    off();
  });

  test('malformed notifications on the channel are ignored', async () => {
    const seen: number[] = [];
    const off = a.subscribe((e) => seen.push(e.seq));
    await pool.query(`select pg_notify('bastide_events', 'not json'), pg_notify('bastide_events', '{"seq":"x"}')`);
    await b.publish(ev(20));
    await waitFor(() => seen.includes(20), 'event 20');
    assert.deepEqual(seen, [20]);
    off();
  });

  test('keeps retrying while the server is unreachable; close() stops it', async () => {
    const warnings: object[] = [];
    const c = new PostgresBus('postgres://postgres@127.0.0.1:1/none', {
      log: { warn: (obj) => warnings.push(obj), error: () => undefined },
      reconnectMinMs: 5,
      reconnectMaxMs: 20,
    });
    await waitFor(() => warnings.length >= 3, 'several reconnect attempts');
    assert.equal(c.isListening, false);
    await c.close();
    const n = warnings.length;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(warnings.length, n, 'no attempt after close');
  });

  test('close is idempotent and publish afterwards throws', async () => {
    const c = new PostgresBus(storage.databaseUrl!, { log: quiet });
    await c.ready();
    await c.close();
    await c.close();
    await assert.rejects(c.publish(ev(1)), /closed/);
  });
});
