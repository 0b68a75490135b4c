import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createTestStorage, engines } from '../../../test/helpers/db.js';
import { openDb, type OpenedDb } from '../db/index.js';
import { migrate } from '../db/migrate.js';
import { platformMigrations } from '../migrations.js';
import { backoffDelay, SqlJobQueue, type QueueLogger, type SqlJobQueueOptions } from './queue.js';
import type { JobContext } from './types.js';

const quiet: QueueLogger = { warn: () => undefined, error: () => undefined };
const T0 = Date.UTC(2026, 0, 1);
const DAY = 24 * 3600 * 1000;

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
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

/** A queue on a movable clock with no jitter (random = 1: the full backoff). */
function manualQueue(o: OpenedDb, opts: SqlJobQueueOptions = {}): { q: SqlJobQueue; clock: { now: number } } {
  const clock = { now: T0 };
  const q = new SqlJobQueue(o.db, o.engine, quiet, { now: () => clock.now, random: () => 1, ...opts });
  return { q, clock };
}

describe('backoffDelay', () => {
  test('doubles per attempt, with equal jitter, capped', () => {
    assert.equal(backoffDelay(1, 1000, 60_000, 1), 1000);
    assert.equal(backoffDelay(2, 1000, 60_000, 1), 2000);
    assert.equal(backoffDelay(3, 1000, 60_000, 1), 4000);
    assert.equal(backoffDelay(3, 1000, 60_000, 0), 2000);
    assert.equal(backoffDelay(20, 1000, 60_000, 1), 60_000);
    assert.equal(backoffDelay(20, 1000, 60_000, 0), 30_000);
    assert.equal(backoffDelay(1, 0, 0, 0.5), 1);
  });
});

for (const engine of await engines()) {
  describe(`SqlJobQueue (${engine})`, () => {
    test('runs a due job once with its payload, then marks it done', async () => {
      await withDb(engine, async (o) => {
        const { q } = manualQueue(o);
        const calls: Array<[Record<string, unknown>, Omit<JobContext, 'signal'>]> = [];
        q.register('test.echo', async (payload, ctx) => {
          calls.push([payload, { jobId: ctx.jobId, attempt: ctx.attempt }]);
        });
        const id = await q.enqueue('test.echo', { to: 'a@example.org', n: 1 });
        assert.equal(await q.runDue(), 1);
        assert.equal(await q.runDue(), 0);
        assert.deepEqual(calls, [[{ to: 'a@example.org', n: 1 }, { jobId: id, attempt: 1 }]]);
        const row = await q.get(id);
        assert.equal(row?.status, 'done');
        assert.equal(row?.attempts, 1);
        assert.equal(row?.locked_by, null);
        assert.equal(row?.locked_until, null);
      });
    });

    test('retries with exponential backoff, then succeeds', async () => {
      await withDb(engine, async (o) => {
        const { q, clock } = manualQueue(o);
        let calls = 0;
        q.register(
          'test.flaky',
          async () => {
            calls++;
            if (calls < 3) throw new Error(`smtp timeout #${calls}`);
          },
          { backoffMs: 1000, maxBackoffMs: 60_000, maxAttempts: 5 },
        );
        const id = await q.enqueue('test.flaky', {});
        assert.equal(await q.runDue(), 1);
        let row = await q.get(id);
        assert.equal(row?.status, 'queued');
        assert.equal(row?.attempts, 1);
        assert.equal(row?.run_at, T0 + 1000);
        assert.equal(row?.last_error, 'smtp timeout #1');

        clock.now = T0 + 999;
        assert.equal(await q.runDue(), 0, 'not due before the backoff');
        clock.now = T0 + 1000;
        assert.equal(await q.runDue(), 1);
        row = await q.get(id);
        assert.equal(row?.run_at, T0 + 1000 + 2000, 'the second delay doubles');
        assert.equal(row?.last_error, 'smtp timeout #2');

        clock.now = T0 + 3000;
        assert.equal(await q.runDue(), 1);
        row = await q.get(id);
        assert.equal(row?.status, 'done');
        assert.equal(row?.attempts, 3);
        assert.equal(row?.last_error, null);
        assert.equal(calls, 3);
      });
    });

    test('fails for good after max attempts, keeping the error', async () => {
      await withDb(engine, async (o) => {
        const { q, clock } = manualQueue(o);
        let calls = 0;
        q.register(
          'test.broken',
          async () => {
            calls++;
            throw new TypeError('recipient domain does not exist');
          },
          { backoffMs: 10 },
        );
        const id = await q.enqueue('test.broken', {}, { maxAttempts: 3 });
        for (let i = 0; i < 10; i++) {
          await q.runDue();
          clock.now += 1000;
        }
        assert.equal(calls, 3);
        const row = await q.get(id);
        assert.equal(row?.status, 'failed');
        assert.equal(row?.attempts, 3);
        assert.equal(row?.last_error, 'TypeError: recipient domain does not exist');
      });
    });

    test('enqueue inside a rolled-back transaction does nothing; inside a committed one it runs', async () => {
      await withDb(engine, async (o) => {
        const { q } = manualQueue(o);
        const ran: string[] = [];
        q.register('test.tx', async (p) => void ran.push(String(p.k)));
        await assert.rejects(
          o.db.transaction().execute(async (trx) => {
            await q.enqueue('test.tx', { k: 'rolled back' }, { trx });
            throw new Error('rollback');
          }),
          /rollback/,
        );
        assert.equal(await q.runDue(), 0);
        assert.equal((await o.db.selectFrom('jobs').selectAll().execute()).length, 0);
        await o.db.transaction().execute(async (trx) => {
          await q.enqueue('test.tx', { k: 'committed' }, { trx });
        });
        assert.equal(await q.runDue(), 1);
        assert.deepEqual(ran, ['committed']);
      });
    });

    test('a job scheduled later waits for its time', async () => {
      await withDb(engine, async (o) => {
        const { q, clock } = manualQueue(o);
        let ran = 0;
        q.register('test.later', async () => void ran++);
        await q.enqueue('test.later', {}, { runAt: T0 + 60_000 });
        assert.equal(await q.runDue(), 0);
        clock.now = T0 + 60_000;
        assert.equal(await q.runDue(), 1);
        assert.equal(ran, 1);
      });
    });

    test('a running job whose lock expired (its node died) is taken again', async () => {
      await withDb(engine, async (o) => {
        const { q, clock } = manualQueue(o);
        const attempts: number[] = [];
        q.register('test.orphan', async (_p, ctx) => void attempts.push(ctx.attempt));
        const id = await q.enqueue('test.orphan', {});
        // Another node claimed it (attempt 1) and died holding the lock until T0 + 10 s.
        await o.db
          .updateTable('jobs')
          .set({ status: 'running', attempts: 1, locked_by: 'dead-node', locked_until: T0 + 10_000 })
          .where('id', '=', id)
          .execute();
        clock.now = T0 + 5000;
        assert.equal(await q.runDue(), 0, 'the lock still holds');
        clock.now = T0 + 10_001;
        assert.equal(await q.runDue(), 1);
        assert.deepEqual(attempts, [2]);
        const row = await q.get(id);
        assert.equal(row?.status, 'done');
      });
    });

    test('an expired lock on the last attempt ends as failed', async () => {
      await withDb(engine, async (o) => {
        const { q, clock } = manualQueue(o);
        let ran = 0;
        q.register('test.last', async () => void ran++);
        const id = await q.enqueue('test.last', {}, { maxAttempts: 2 });
        await o.db
          .updateTable('jobs')
          .set({ status: 'running', attempts: 2, locked_by: 'dead-node', locked_until: T0 + 1 })
          .where('id', '=', id)
          .execute();
        clock.now = T0 + 2;
        assert.equal(await q.runDue(), 1);
        assert.equal(ran, 0);
        const row = await q.get(id);
        assert.equal(row?.status, 'failed');
        assert.match(row?.last_error ?? '', /gave up after 2 attempts/);
      });
    });

    test('an unknown job name is marked failed with a clear error', async () => {
      await withDb(engine, async (o) => {
        const { q } = manualQueue(o, { nodeId: 'node-1' });
        const id = await q.enqueue('test.nobody', {});
        assert.equal(await q.runDue(), 1);
        const row = await q.get(id);
        assert.equal(row?.status, 'failed');
        assert.equal(row?.last_error, 'no handler is registered for job "test.nobody" (node node-1)');
      });
    });

    test('done jobs are deleted after a day; failed ones are kept', async () => {
      await withDb(engine, async (o) => {
        const { q } = manualQueue(o);
        q.register('test.ok', async () => undefined);
        q.register('test.ko', async () => {
          throw new Error('no');
        });
        const done = await q.enqueue('test.ok', {});
        const failed = await q.enqueue('test.ko', {}, { maxAttempts: 1 });
        assert.equal(await q.runDue(), 2);
        assert.equal(await q.purgeDone(T0 + DAY - 1), 0);
        assert.equal(await q.purgeDone(T0 + DAY + 1), 1);
        assert.equal(await q.get(done), undefined);
        assert.equal((await q.get(failed))?.status, 'failed');
      });
    });

    test('start() runs jobs promptly on enqueue; stop() waits for the running handler', async () => {
      await withDb(engine, async (o) => {
        // A long poll interval: only the wake-up on enqueue can run the job quickly.
        const q = new SqlJobQueue(o.db, o.engine, quiet, { pollMs: 60_000 });
        let started = false;
        let finished = false;
        q.register('test.slow', async () => {
          started = true;
          await new Promise((r) => setTimeout(r, 150));
          finished = true;
        });
        q.start();
        const id = await q.enqueue('test.slow', {});
        await waitFor(() => started, 'the handler to start', 2000);
        assert.equal(q.running, 1);
        await q.stop(5000);
        assert.equal(finished, true);
        assert.equal((await q.get(id))?.status, 'done');
        assert.equal(q.running, 0);
      });
    });

    test('stop() aborts handlers still running after the grace period and puts their jobs back', async () => {
      await withDb(engine, async (o) => {
        const q = new SqlJobQueue(o.db, o.engine, quiet, { pollMs: 60_000 });
        let started = false;
        let sawAbort = false;
        q.register('test.stuck', (_p, ctx) => {
          started = true;
          return new Promise<void>((_resolve, reject) => {
            ctx.signal.addEventListener('abort', () => {
              sawAbort = true;
              reject(new Error('aborted'));
            });
          });
        });
        q.start();
        const id = await q.enqueue('test.stuck', {});
        await waitFor(() => started, 'the handler to start', 2000);
        await q.stop(50);
        assert.equal(sawAbort, true);
        const row = await q.get(id);
        assert.equal(row?.status, 'queued');
        assert.equal(row?.attempts, 0, 'an interrupted attempt does not count');
        assert.equal(row?.locked_by, null);
        assert.equal(row?.last_error, 'interrupted by shutdown');
      });
    });

    test('two queues claiming at once never run a job twice', async () => {
      await withDb(engine, async (o, openAnother) => {
        const N = 30;
        const runs = new Map<string, number>();
        const handler = async (_p: Record<string, unknown>, ctx: JobContext): Promise<void> => {
          runs.set(ctx.jobId, (runs.get(ctx.jobId) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 1));
        };
        const other = openAnother();
        const q1 = new SqlJobQueue(o.db, o.engine, quiet, { nodeId: 'n1' });
        const q2 = new SqlJobQueue(other.db, other.engine, quiet, { nodeId: 'n2' });
        q1.register('test.share', handler);
        q2.register('test.share', handler);
        for (let i = 0; i < N; i++) await q1.enqueue('test.share', { i });
        const [a, b] = await Promise.all([q1.runDue(), q2.runDue()]);
        assert.equal(a + b, N);
        assert.equal(runs.size, N);
        assert.ok([...runs.values()].every((n) => n === 1));
        if (engine === 'postgres') assert.ok(a > 0 && b > 0, `both nodes took a share (${a}/${b})`);
      });
    });
  });
}
