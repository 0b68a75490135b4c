import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Db, Engine, Tx } from '../db/index.js';
import type { Migration } from '../db/migrate.js';
import { newId } from '../ids.js';
import type { JobHandler, JobOptions, JobQueue } from './types.js';

export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

export interface JobsTable {
  id: string;
  name: string;
  /** JSON object */
  payload: string;
  status: JobStatus;
  /** Attempts started so far (incremented when a node claims the job). */
  attempts: number;
  max_attempts: number;
  run_at: number;
  locked_until: number | null;
  locked_by: string | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

declare module '../db/schema.js' {
  interface Database {
    jobs: JobsTable;
  }
}

export type JobRow = Selectable<JobsTable>;

export const jobsMigration: Migration = {
  id: '0003_jobs',
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>, _engine: Engine): Promise<void> {
    await db.schema
      .createTable('jobs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('max_attempts', 'integer', (c) => c.notNull())
      .addColumn('run_at', 'bigint', (c) => c.notNull())
      .addColumn('locked_until', 'bigint')
      .addColumn('locked_by', 'text')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addCheckConstraint('jobs_status_check', sql`status in ('queued', 'running', 'done', 'failed')`)
      .execute();
    await db.schema.createIndex('jobs_status_run_at_idx').on('jobs').columns(['status', 'run_at']).execute();
  },
};

export interface QueueLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  info?(obj: object, msg?: string): void;
}

export interface SqlJobQueueOptions {
  /** Identifies this node in locked_by. Default host:pid:random. */
  nodeId?: string;
  /** Poll interval when started. Default 500 ms. */
  pollMs?: number;
  /** A claimed job is locked this long, renewed while its handler runs. Default 5 minutes. */
  lockMs?: number;
  /** Handlers running at once on this node. Default 2. */
  concurrency?: number;
  /** 'done' jobs are deleted after this long. Default 1 day. */
  doneRetentionMs?: number;
  /** Defaults for jobs whose handler gives none. */
  defaultMaxAttempts?: number;
  defaultBackoffMs?: number;
  defaultMaxBackoffMs?: number;
  now?: () => number;
  /** Random source in [0, 1) for the backoff jitter (tests pass a constant). */
  random?: () => number;
}

interface Registered {
  handler: JobHandler;
  options: JobOptions;
}

/** Longest error message kept in last_error. */
const MAX_ERROR_CHARS = 2000;

function errorMessage(err: unknown): string {
  const msg = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  return msg.length > MAX_ERROR_CHARS ? `${msg.slice(0, MAX_ERROR_CHARS)}…` : msg;
}

/**
 * Delay before retry number `attempt` (1 = after the first failure): backoffMs doubling per attempt,
 * capped by maxBackoffMs, with "equal jitter" (between half and all of it). At least 1 ms.
 */
export function backoffDelay(attempt: number, backoffMs: number, maxBackoffMs: number, random: number): number {
  const exp = Math.min(maxBackoffMs, backoffMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.round(exp / 2 + (exp / 2) * random));
}

/**
 * The durable job queue in SQL (see JobQueue). A job is claimed by one atomic statement:
 * `update jobs set status = 'running', … where id = (select id … limit 1 [for update skip locked]) returning *`
 * — on PostgreSQL the sub-select's FOR UPDATE SKIP LOCKED lets several nodes share the work without taking
 * the same job; on SQLite the single statement is atomic. A 'running' job whose lock expired (its node died)
 * is claimed again. The lock is renewed while a handler runs.
 */
export class SqlJobQueue implements JobQueue {
  readonly nodeId: string;
  private readonly handlers = new Map<string, Registered>();
  private readonly pollMs: number;
  private readonly lockMs: number;
  private readonly concurrency: number;
  private readonly doneRetentionMs: number;
  private readonly defaults: Required<JobOptions>;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly inFlight = new Map<string, { promise: Promise<void>; controller: AbortController }>();
  private started = false;
  private stopping = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Immediate | undefined;
  private ticking = false;
  private tickAgain = false;
  private tickPromise: Promise<void> | undefined;
  private lastPurge = 0;

  constructor(
    private readonly db: Db,
    private readonly engine: Engine,
    private readonly log: QueueLogger,
    options: SqlJobQueueOptions = {},
  ) {
    this.nodeId = options.nodeId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.pollMs = options.pollMs ?? 500;
    this.lockMs = options.lockMs ?? 5 * 60 * 1000;
    this.concurrency = Math.max(1, options.concurrency ?? 2);
    this.doneRetentionMs = options.doneRetentionMs ?? 24 * 3600 * 1000;
    this.defaults = {
      maxAttempts: options.defaultMaxAttempts ?? 5,
      backoffMs: options.defaultBackoffMs ?? 5000,
      maxBackoffMs: options.defaultMaxBackoffMs ?? 3600 * 1000,
    };
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  register(name: string, handler: JobHandler, options: JobOptions = {}): void {
    if (!name) throw new TypeError('a job needs a name');
    if (this.handlers.has(name)) throw new Error(`a handler for job "${name}" is already registered`);
    this.handlers.set(name, { handler, options });
  }

  async enqueue(
    name: string,
    payload: Record<string, unknown>,
    options: { runAt?: number; trx?: Tx; maxAttempts?: number } = {},
  ): Promise<string> {
    if (!name) throw new TypeError('a job needs a name');
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      throw new TypeError(`job ${name}: payload must be an object`);
    }
    const maxAttempts = options.maxAttempts ?? this.handlers.get(name)?.options.maxAttempts ?? this.defaults.maxAttempts;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`job ${name}: maxAttempts must be ≥ 1`);
    const now = this.now();
    const id = newId(now);
    await (options.trx ?? this.db)
      .insertInto('jobs')
      .values({
        id,
        name,
        payload: JSON.stringify(payload),
        status: 'queued',
        attempts: 0,
        max_attempts: maxAttempts,
        run_at: options.runAt ?? now,
        locked_until: null,
        locked_by: null,
        last_error: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    // Inside a transaction the job becomes visible at commit: the next poll finds it.
    if (!options.trx) this.wake();
    return id;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    this.pollTimer = setInterval(() => this.wake(), this.pollMs);
    this.wake();
  }

  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    this.started = false;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    if (this.wakeTimer) clearImmediate(this.wakeTimer);
    this.wakeTimer = undefined;
    // A poll in progress may be claiming a job: let it finish (it hands back what it claims once stopping).
    await this.tickPromise;
    const running = (): Promise<unknown> => Promise.allSettled([...this.inFlight.values()].map((j) => j.promise));
    if (this.inFlight.size > 0 && !(await settlesWithin(running(), graceMs))) {
      this.log.warn({ jobs: [...this.inFlight.keys()] }, 'jobs still running after the grace period; aborting them');
      for (const job of this.inFlight.values()) job.controller.abort(new Error('shutting down'));
      // Give aborted handlers a moment to unwind and record their outcome; a handler that ignores its
      // signal is left behind: its lock expires and another node takes the job again.
      await settlesWithin(running(), Math.min(1000, Math.max(100, graceMs)));
    }
  }

  async runDue(): Promise<number> {
    const cutoff = this.now();
    let ran = 0;
    for (;;) {
      const job = await this.claim(cutoff);
      if (!job) return ran;
      ran++;
      await this.execute(job, new AbortController());
    }
  }

  /** Deletes 'done' jobs older than the retention. Returns how many. */
  async purgeDone(now: number = this.now()): Promise<number> {
    const res = await this.db
      .deleteFrom('jobs')
      .where('status', '=', 'done')
      .where('updated_at', '<', now - this.doneRetentionMs)
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /** A job's row (tests, admin). */
  async get(id: string): Promise<JobRow | undefined> {
    return this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Number of handlers running on this node. */
  get running(): number {
    return this.inFlight.size;
  }

  private wake(): void {
    if (!this.started || this.stopping || this.wakeTimer) return;
    this.wakeTimer = setImmediate(() => {
      this.wakeTimer = undefined;
      this.tickPromise = this.tick();
    });
  }

  /** Claims due jobs while there is a free slot; each runs in the background. */
  private async tick(): Promise<void> {
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    this.ticking = true;
    try {
      do {
        this.tickAgain = false;
        while (this.started && !this.stopping && this.inFlight.size < this.concurrency) {
          const job = await this.claim(this.now());
          if (!job) break;
          if (this.stopping) {
            // Claimed just as we stopped: hand it straight back.
            await this.release(job, 'interrupted by shutdown before it started');
            break;
          }
          const controller = new AbortController();
          const promise = this.execute(job, controller).finally(() => {
            this.inFlight.delete(job.id);
            this.wake();
          });
          this.inFlight.set(job.id, { promise, controller });
        }
        await this.maybePurge();
      } while (this.tickAgain && this.started && !this.stopping);
    } catch (err) {
      this.log.error({ err }, 'job queue poll failed');
    } finally {
      this.ticking = false;
    }
  }

  private async maybePurge(): Promise<void> {
    const now = this.now();
    if (now - this.lastPurge < 10 * 60 * 1000) return;
    this.lastPurge = now;
    const n = await this.purgeDone(now);
    if (n > 0) this.log.info?.({ purged: n }, 'old done jobs deleted');
  }

  /** Atomically takes the next due job (or one whose lock expired) for this node. */
  private async claim(now: number): Promise<JobRow | undefined> {
    const db = this.db;
    let next = db
      .selectFrom('jobs')
      .select('id')
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'queued'), eb('run_at', '<=', now)]),
          eb.and([eb('status', '=', 'running'), eb('locked_until', '<', now)]),
        ]),
      )
      .orderBy('run_at')
      .orderBy('id')
      .limit(1);
    if (this.engine === 'postgres') next = next.forUpdate().skipLocked();
    return db
      .updateTable('jobs')
      .set({
        status: 'running',
        attempts: sql<number>`attempts + 1`,
        locked_until: now + this.lockMs,
        locked_by: this.nodeId,
        updated_at: now,
      })
      .where('id', '=', next)
      .returningAll()
      .executeTakeFirst();
  }

  private async execute(job: JobRow, controller: AbortController): Promise<void> {
    const attempt = Number(job.attempts);
    const maxAttempts = Number(job.max_attempts);
    const reg = this.handlers.get(job.name);
    if (!reg) {
      await this.finish(job, 'failed', `no handler is registered for job "${job.name}" (node ${this.nodeId})`);
      this.log.error({ jobId: job.id, job: job.name }, 'job failed: unknown job name');
      return;
    }
    if (attempt > maxAttempts) {
      // Only a job retaken after its node died on the last attempt gets here.
      await this.finish(job, 'failed', `gave up after ${maxAttempts} attempts (the last one stopped without finishing)`);
      return;
    }
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(job.payload) as Record<string, unknown>;
    } catch {
      await this.finish(job, 'failed', 'the job payload is not valid JSON');
      return;
    }
    const heartbeat = setInterval(() => {
      this.db
        .updateTable('jobs')
        .set({ locked_until: this.now() + this.lockMs })
        .where('id', '=', job.id)
        .where('locked_by', '=', this.nodeId)
        .where('status', '=', 'running')
        .execute()
        .catch((err: unknown) => this.log.warn({ err, jobId: job.id }, 'could not renew a job lock'));
    }, Math.max(50, Math.floor(this.lockMs / 3)));
    try {
      await reg.handler(payload, { jobId: job.id, attempt, signal: controller.signal });
      clearInterval(heartbeat);
      await this.finish(job, 'done', null);
    } catch (err) {
      clearInterval(heartbeat);
      if (controller.signal.aborted) {
        await this.release(job, 'interrupted by shutdown');
        return;
      }
      const message = errorMessage(err);
      if (attempt >= maxAttempts) {
        this.log.error({ err, jobId: job.id, job: job.name, attempt }, 'job failed for good');
        await this.finish(job, 'failed', message);
      } else {
        const delay = backoffDelay(
          attempt,
          reg.options.backoffMs ?? this.defaults.backoffMs,
          reg.options.maxBackoffMs ?? this.defaults.maxBackoffMs,
          this.random(),
        );
        this.log.warn({ err, jobId: job.id, job: job.name, attempt, retryInMs: delay }, 'job failed; will retry');
        await this.update(job, { status: 'queued', run_at: this.now() + delay, last_error: message });
      }
    }
  }

  private finish(job: JobRow, status: 'done' | 'failed', error: string | null): Promise<void> {
    return this.update(job, { status, last_error: error });
  }

  /** Puts a job back without counting the attempt (shutdown). */
  private release(job: JobRow, reason: string): Promise<void> {
    return this.update(job, {
      status: 'queued',
      run_at: this.now(),
      attempts: Math.max(0, Number(job.attempts) - 1),
      last_error: reason,
    });
  }

  /** Records an outcome if this node still holds the job (a lost lock means another node took it). */
  private async update(
    job: JobRow,
    values: { status: JobStatus; last_error: string | null; run_at?: number; attempts?: number },
  ): Promise<void> {
    try {
      await this.db
        .updateTable('jobs')
        .set({ ...values, locked_until: null, locked_by: null, updated_at: this.now() })
        .where('id', '=', job.id)
        .where('locked_by', '=', this.nodeId)
        .where('status', '=', 'running')
        .execute();
    } catch (err) {
      this.log.error({ err, jobId: job.id }, 'could not record a job outcome');
    }
  }
}

async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
