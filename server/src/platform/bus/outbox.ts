import { sql, type Generated, type Kysely } from 'kysely';
import type { Db, DbOrTx, Engine } from '../db/index.js';
import type { Migration } from '../db/migrate.js';
import { stderrLogger, type BusLogger } from './memory.js';
import { MAX_NOTIFY_BYTES } from './postgres.js';
import type { BusEvent, EventBus } from './types.js';

/** Events written in the same transaction as the change, published on the bus after commit. */
export interface OutboxTable {
  seq: Generated<number>;
  topic: string;
  /** JSON object */
  data: string;
  /** JSON array of user ids (or ['*']) */
  audience: string;
  created_at: number;
  published_at: number | null;
}

declare module '../db/schema.js' {
  interface Database {
    outbox: OutboxTable;
  }
}

export const outboxMigration: Migration = {
  id: '0002_outbox',
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>, engine: Engine): Promise<void> {
    const seq = engine === 'postgres' ? sql`seq bigserial primary key` : sql`seq integer primary key autoincrement`;
    await sql`create table outbox (
      ${seq},
      topic text not null,
      data text not null,
      audience text not null,
      created_at bigint not null,
      published_at bigint
    )`.execute(db);
    // The relay reads unpublished rows in order; the prune deletes old published ones.
    await sql`create index outbox_unpublished_idx on outbox (seq) where published_at is null`.execute(db);
    await sql`create index outbox_published_at_idx on outbox (published_at)`.execute(db);
  },
};

export interface OutboxEvent {
  /** e.g. "drive.file.created" */
  topic: string;
  /** Ids and small facts only. */
  data: Record<string, unknown>;
  /** User ids who may see it in realtime, ['*'] for every signed-in user; empty or absent: server-side only. */
  audience?: string[];
}

/** Room left in a NOTIFY payload for the envelope (seq with up to 16 digits, at, keys). */
const ENVELOPE_BYTES = 100;

/**
 * Records an event inside the caller's transaction: it is published only if the transaction commits.
 * Call `relay.kick()` after the commit for prompt delivery (the relay's sweep catches it anyway).
 * Throws before writing when the event could not travel on the bus (too large, not JSON).
 */
export async function writeEvent(trx: DbOrTx, event: OutboxEvent, now: number = Date.now()): Promise<void> {
  if (typeof event.topic !== 'string' || event.topic.length === 0 || event.topic.length > 200) {
    throw new TypeError('event topic must be a non-empty string of at most 200 characters');
  }
  if (typeof event.data !== 'object' || event.data === null || Array.isArray(event.data)) {
    throw new TypeError(`event ${event.topic}: data must be an object`);
  }
  const audience = event.audience ?? [];
  if (!Array.isArray(audience) || !audience.every((a) => typeof a === 'string')) {
    throw new TypeError(`event ${event.topic}: audience must be an array of strings`);
  }
  const data = JSON.stringify(event.data);
  const aud = JSON.stringify(audience);
  const size = Buffer.byteLength(event.topic) + Buffer.byteLength(data) + Buffer.byteLength(aud) + ENVELOPE_BYTES;
  if (size > MAX_NOTIFY_BYTES) {
    throw new RangeError(`event ${event.topic} is too large for the bus (${size} bytes); carry ids, not data`);
  }
  await trx.insertInto('outbox').values({ topic: event.topic, data, audience: aud, created_at: now, published_at: null }).execute();
}

export interface OutboxRelayOptions {
  /** Rows claimed per transaction. Default 100. */
  batchSize?: number;
  /** Periodic sweep for rows nobody kicked (e.g. left by a crash). Default 1000 ms. */
  sweepMs?: number;
  /** Published rows are deleted after this long. Default 7 days. */
  retentionMs?: number;
  /** How often the sweep also prunes. Default 1 hour. */
  pruneEveryMs?: number;
  now?: () => number;
}

type OutboxRow = {
  seq: number;
  topic: string;
  data: string;
  audience: string;
  created_at: number;
};

/**
 * Publishes committed outbox rows on the bus in seq order and marks them published. On PostgreSQL the
 * rows are claimed with FOR UPDATE SKIP LOCKED inside the transaction that marks them, so two nodes never
 * publish the same row; on SQLite one process owns the database and flushes are serialised here.
 * Delivery is at least once across a crash between publish and commit, otherwise exactly once.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly sweepMs: number;
  private readonly retentionMs: number;
  private readonly pruneEveryMs: number;
  private readonly now: () => number;
  private current: Promise<number> | undefined;
  private pending: Promise<number> | undefined;
  private kickTimer: NodeJS.Immediate | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private lastPrune = 0;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly engine: Engine,
    private readonly bus: EventBus,
    private readonly log: BusLogger = stderrLogger,
    options: OutboxRelayOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 100;
    this.sweepMs = options.sweepMs ?? 1000;
    this.retentionMs = options.retentionMs ?? 7 * 24 * 3600 * 1000;
    this.pruneEveryMs = options.pruneEveryMs ?? 3600 * 1000;
    this.now = options.now ?? Date.now;
  }

  /** Schedules a flush soon; many kicks in a row make one flush. */
  kick(): void {
    if (this.stopped || this.kickTimer) return;
    this.kickTimer = setImmediate(() => {
      this.kickTimer = undefined;
      this.flush().catch((err: unknown) => this.log.error({ err }, 'outbox flush failed'));
    });
  }

  /**
   * Publishes every unpublished row now. Returns how many were published. Concurrent calls are coalesced:
   * a call during a flush waits for it and then runs one more pass (rows may have committed meanwhile).
   */
  flush(): Promise<number> {
    if (!this.current) {
      this.current = this.drain().finally(() => {
        this.current = undefined;
      });
      return this.current;
    }
    this.pending ??= this.current
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        this.pending = undefined;
        return this.flush();
      });
    return this.pending;
  }

  /** Starts the periodic sweep (and prune). */
  start(): void {
    if (this.sweepTimer || this.stopped) return;
    this.sweepTimer = setInterval(() => {
      void this.sweep();
    }, this.sweepMs);
    void this.sweep();
  }

  /** Stops the sweep and waits for a running flush. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    if (this.kickTimer) clearImmediate(this.kickTimer);
    this.kickTimer = undefined;
    await this.pending?.catch(() => undefined);
    await this.current?.catch(() => undefined);
  }

  /** Deletes published rows older than the retention. Returns how many. */
  async prune(now: number = this.now()): Promise<number> {
    const res = await this.db
      .deleteFrom('outbox')
      .where('published_at', 'is not', null)
      .where('published_at', '<', now - this.retentionMs)
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  private async sweep(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.flush();
      const now = this.now();
      if (now - this.lastPrune >= this.pruneEveryMs) {
        this.lastPrune = now;
        const n = await this.prune(now);
        if (n > 0) this.log.info?.({ pruned: n }, 'outbox pruned');
      }
    } catch (err) {
      this.log.error({ err }, 'outbox sweep failed');
    }
  }

  private async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const { published, more } = await this.flushBatch();
      total += published;
      // stop() lets a running flush finish its batch but not start another.
      if (!more || this.stopped) break;
    }
    return total;
  }

  private flushBatch(): Promise<{ published: number; more: boolean }> {
    return this.db.transaction().execute(async (trx) => {
      let q = trx
        .selectFrom('outbox')
        .select(['seq', 'topic', 'data', 'audience', 'created_at'])
        .where('published_at', 'is', null)
        .orderBy('seq')
        .limit(this.batchSize);
      if (this.engine === 'postgres') q = q.forUpdate().skipLocked();
      const rows: OutboxRow[] = await q.execute();
      const done: number[] = [];
      let failed = false;
      for (const row of rows) {
        const event = this.toEvent(row);
        if (event) {
          try {
            await this.bus.publish(event);
          } catch (err) {
            // Transient (bus down): keep this row and the following ones for the next pass, in order.
            this.log.error({ err, seq: row.seq, topic: row.topic }, 'outbox: publishing failed; will retry');
            failed = true;
            break;
          }
        }
        done.push(row.seq);
      }
      if (done.length > 0) {
        await trx.updateTable('outbox').set({ published_at: this.now() }).where('seq', 'in', done).execute();
      }
      return { published: done.length, more: !failed && rows.length === this.batchSize };
    });
  }

  private toEvent(row: OutboxRow): BusEvent | null {
    try {
      const data = JSON.parse(row.data) as unknown;
      const audience = JSON.parse(row.audience) as unknown;
      if (typeof data !== 'object' || data === null || !Array.isArray(audience)) throw new Error('bad shape');
      return {
        seq: Number(row.seq),
        topic: row.topic,
        data: data as Record<string, unknown>,
        audience: audience as string[],
        at: Number(row.created_at),
      };
    } catch (err) {
      // A corrupt row can never be published: skip it (marked published) rather than block the outbox.
      this.log.error({ err, seq: row.seq, topic: row.topic }, 'outbox: unreadable row skipped');
      return null;
    }
  }
}
