import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createTestStorage, engines } from '../../../test/helpers/db.js';
import { openDb, type OpenedDb } from '../db/index.js';
import { migrate } from '../db/migrate.js';
import { platformMigrations } from '../migrations.js';
import { MemoryBus, type BusLogger } from './memory.js';
import { OutboxRelay, writeEvent } from './outbox.js';
import type { BusEvent, EventBus } from './types.js';

const quiet: BusLogger = { warn: () => undefined, error: () => undefined };
const T0 = Date.UTC(2026, 0, 1);
const DAY = 24 * 3600 * 1000;

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function collect(bus: EventBus): BusEvent[] {
  const events: BusEvent[] = [];
  bus.subscribe((e) => events.push(e));
  return events;
}

async function withDb(
  engine: 'sqlite' | 'postgres',
  fn: (o: OpenedDb, openAnother: () => OpenedDb) => Promise<void>,
): Promise<void> {
  const storage = await createTestStorage(engine);
  const opened = openDb({ dataDir: storage.dataDir, databaseUrl: storage.databaseUrl, poolSize: 4 });
  const others: OpenedDb[] = [];
  try {
    await migrate(opened.db, opened.engine, [{ module: 'platform', migrations: platformMigrations }]);
    await fn(opened, () => {
      // Another node: its own pool on PostgreSQL; on SQLite one process owns the file, so share it.
      if (engine === 'sqlite') return opened;
      const o = openDb({ dataDir: storage.dataDir, databaseUrl: storage.databaseUrl, poolSize: 4 });
      others.push(o);
      return o;
    });
  } finally {
    for (const o of others) await o.close();
    await opened.close();
    await storage.cleanup();
  }
}

for (const engine of await engines()) {
  describe(`outbox (${engine})`, () => {
    test('an event written in a rolled-back transaction is never published', async () => {
      await withDb(engine, async ({ db }) => {
        const bus = new MemoryBus(quiet);
        const seen = collect(bus);
        const relay = new OutboxRelay(db, engine, bus, quiet);
        await assert.rejects(
          db.transaction().execute(async (trx) => {
            await writeEvent(trx, { topic: 'test.a', data: { id: 'x' }, audience: ['u1'] }, T0);
            throw new Error('rollback');
          }),
          /rollback/,
        );
        assert.equal(await relay.flush(), 0);
        assert.deepEqual(seen, []);
        assert.equal((await db.selectFrom('outbox').selectAll().execute()).length, 0);
        await relay.stop();
      });
    });

    test('committed events are published once, in seq order, with their fields', async () => {
      await withDb(engine, async ({ db }) => {
        const bus = new MemoryBus(quiet);
        const seen = collect(bus);
        const relay = new OutboxRelay(db, engine, bus, quiet, { batchSize: 2, now: () => T0 + 5 });
        await db.transaction().execute(async (trx) => {
          await writeEvent(trx, { topic: 'test.one', data: { id: '1' }, audience: ['u1', 'u2'] }, T0);
          await writeEvent(trx, { topic: 'test.two', data: { id: '2' } }, T0 + 1);
        });
        await writeEvent(db, { topic: 'test.three', data: { id: '3', n: 3 }, audience: ['*'] }, T0 + 2);
        assert.equal(await relay.flush(), 3);
        assert.equal(await relay.flush(), 0);
        assert.deepEqual(
          seen.map((e) => [e.topic, e.data, e.audience, e.at]),
          [
            ['test.one', { id: '1' }, ['u1', 'u2'], T0],
            ['test.two', { id: '2' }, [], T0 + 1],
            ['test.three', { id: '3', n: 3 }, ['*'], T0 + 2],
          ],
        );
        const seqs = seen.map((e) => e.seq);
        assert.deepEqual([...seqs].sort((x, y) => x - y), seqs);
        assert.equal(new Set(seqs).size, 3);
        const rows = await db.selectFrom('outbox').select(['seq', 'published_at']).orderBy('seq').execute();
        assert.deepEqual(rows.map((r) => r.seq), seqs);
        assert.ok(rows.every((r) => r.published_at === T0 + 5));
        await relay.stop();
      });
    });

    test('kick coalesces into one flush; the periodic sweep catches rows nobody kicked', async () => {
      await withDb(engine, async ({ db }) => {
        const bus = new MemoryBus(quiet);
        const seen = collect(bus);
        const relay = new OutboxRelay(db, engine, bus, quiet, { sweepMs: 20 });
        for (let i = 0; i < 5; i++) await writeEvent(db, { topic: 'test.k', data: { i } }, T0);
        for (let i = 0; i < 5; i++) relay.kick();
        await waitFor(() => seen.length === 5, 'kicked events');
        relay.start();
        await writeEvent(db, { topic: 'test.swept', data: {} }, T0);
        await waitFor(() => seen.length === 6, 'the sweep');
        await relay.stop();
        assert.deepEqual(seen.map((e) => e.topic), ['test.k', 'test.k', 'test.k', 'test.k', 'test.k', 'test.swept']);
        // After stop, kicks do nothing.
        await writeEvent(db, { topic: 'test.late', data: {} }, T0);
        relay.kick();
        await new Promise((r) => setTimeout(r, 30));
        assert.equal(seen.length, 6);
      });
    });

    test('a bus failure leaves rows unpublished, retried in order on the next flush', async () => {
      await withDb(engine, async ({ db }) => {
        const inner = new MemoryBus(quiet);
        const seen = collect(inner);
        let failNext = 1;
        const flaky: EventBus = {
          publish: async (e) => {
            if (e.topic === 'test.b' && failNext-- > 0) throw new Error('bus down');
            await inner.publish(e);
          },
          subscribe: (h) => inner.subscribe(h),
          close: () => inner.close(),
        };
        const relay = new OutboxRelay(db, engine, flaky, quiet);
        for (const topic of ['test.a', 'test.b', 'test.c']) await writeEvent(db, { topic, data: {} }, T0);
        assert.equal(await relay.flush(), 1);
        assert.deepEqual(seen.map((e) => e.topic), ['test.a']);
        assert.equal(await relay.flush(), 2);
        assert.deepEqual(seen.map((e) => e.topic), ['test.a', 'test.b', 'test.c']);
        await relay.stop();
      });
    });

    test('oversized or malformed events are refused at write time', async () => {
      await withDb(engine, async ({ db }) => {
        await assert.rejects(writeEvent(db, { topic: 'test.big', data: { x: 'y'.repeat(8000) } }, T0), RangeError);
        await assert.rejects(writeEvent(db, { topic: '', data: {} }, T0), TypeError);
        await assert.rejects(writeEvent(db, { topic: 'test.arr', data: [] as unknown as Record<string, unknown> }, T0), TypeError);
        assert.equal((await db.selectFrom('outbox').selectAll().execute()).length, 0);
      });
    });

    test('prune deletes published rows older than 7 days only', async () => {
      await withDb(engine, async ({ db }) => {
        let now = T0;
        const relay = new OutboxRelay(db, engine, new MemoryBus(quiet), quiet, { now: () => now });
        await writeEvent(db, { topic: 'test.old', data: {} }, T0);
        await relay.flush(); // published at T0
        now = T0 + 6 * DAY;
        await writeEvent(db, { topic: 'test.recent', data: {} }, now);
        await relay.flush(); // published at T0 + 6 days
        await writeEvent(db, { topic: 'test.unpublished', data: {} }, now);
        assert.equal(await relay.prune(T0 + 8 * DAY), 1);
        const left = await db.selectFrom('outbox').select('topic').orderBy('seq').execute();
        assert.deepEqual(left.map((r) => r.topic), ['test.recent', 'test.unpublished']);
        await relay.stop();
      });
    });

    test('two relays flushing at once never publish a row twice', async () => {
      await withDb(engine, async ({ db }, openAnother) => {
        const bus = new MemoryBus(quiet);
        const seen = collect(bus);
        // A bus that takes a moment on each publish so the two relays overlap.
        const slow: EventBus = {
          publish: async (e) => {
            await new Promise((r) => setTimeout(r, 1));
            await bus.publish(e);
          },
          subscribe: (h) => bus.subscribe(h),
          close: () => bus.close(),
        };
        const N = 120;
        await db.transaction().execute(async (trx) => {
          for (let i = 0; i < N; i++) await writeEvent(trx, { topic: 'test.race', data: { i } }, T0);
        });
        const other = openAnother();
        const r1 = new OutboxRelay(db, engine, slow, quiet, { batchSize: 7 });
        const r2 = new OutboxRelay(other.db, engine, slow, quiet, { batchSize: 7 });
        const [n1, n2] = await Promise.all([r1.flush(), r2.flush()]);
        assert.equal(n1 + n2, N);
        const seqs = seen.map((e) => e.seq);
        assert.equal(seqs.length, N);
        assert.equal(new Set(seqs).size, N);
        if (engine === 'postgres') assert.ok(n1 > 0 && n2 > 0, `both relays took a share (${n1}/${n2})`);
        await Promise.all([r1.stop(), r2.stop()]);
      });
    });
  });
}
