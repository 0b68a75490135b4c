import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Db, Engine, Tx } from './db/index.js';
import type { Migration } from './db/migrate.js';
import type { Actor } from './policy.js';

/**
 * The audit log: append-only, each entry hash-chained to the previous one, so that an edit or a deletion
 * anywhere in the past breaks `verify()`. Entries are written inside the transaction of the change they
 * record. Nothing in Bastide updates or deletes rows of this table.
 */
export interface AuditTable {
  seq: number;
  at: number;
  actor_id: string | null;
  actor_login: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  details: string;
  prev_hash: string;
  hash: string;
}

declare module './db/schema.js' {
  interface Database {
    audit_log: AuditTable;
  }
}

export const auditMigrations: Migration[] = [
  {
    id: '0001_audit_log',
    async up(db) {
      await db.schema
        .createTable('audit_log')
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor_id', 'text')
        .addColumn('actor_login', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target_type', 'text')
        .addColumn('target_id', 'text')
        .addColumn('ip', 'text')
        .addColumn('details', 'text', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_log_action').on('audit_log').columns(['action', 'seq']).execute();
    },
  },
];

export interface AuditEntryInput {
  actor: Actor | { kind: 'user'; userId: string; login: string } | null;
  action: string;
  targetType?: string;
  targetId?: string;
  ip?: string | undefined;
  details?: Record<string, unknown>;
}

export interface AuditEntry {
  seq: number;
  at: number;
  actorId: string | null;
  actorLogin: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

const GENESIS = '0'.repeat(64);

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
    .join(',')}}`;
}

function entryHash(prevHash: string, row: Omit<AuditTable, 'prev_hash' | 'hash'>): string {
  return createHash('sha256')
    .update(prevHash)
    .update('\n')
    .update(
      canonical({
        seq: row.seq,
        at: row.at,
        actor_id: row.actor_id,
        actor_login: row.actor_login,
        action: row.action,
        target_type: row.target_type,
        target_id: row.target_id,
        ip: row.ip,
        details: row.details,
      }),
    )
    .digest('hex');
}

export class AuditLog {
  constructor(
    private readonly db: Db,
    private readonly engine: Engine,
    private readonly now: () => number,
  ) {}

  /** Appends an entry inside `trx` (the change's own transaction). */
  async record(trx: Tx, input: AuditEntryInput): Promise<number> {
    if (this.engine === 'postgres') await sql`select pg_advisory_xact_lock(4242002)`.execute(trx);
    const last = await trx.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    const actor = input.actor;
    const row = {
      seq: (last?.seq ?? 0) + 1,
      at: this.now(),
      actor_id: actor && actor.kind === 'user' ? actor.userId : null,
      actor_login: actor && actor.kind === 'user' ? actor.login : actor?.kind === 'system' ? 'system' : null,
      action: input.action,
      target_type: input.targetType ?? null,
      target_id: input.targetId ?? null,
      ip: input.ip ?? null,
      details: canonical(input.details ?? {}),
    };
    const prev = last?.hash ?? GENESIS;
    await trx
      .insertInto('audit_log')
      .values({ ...row, prev_hash: prev, hash: entryHash(prev, row) })
      .execute();
    return row.seq;
  }

  /** Convenience: record in a transaction of its own (for events with no other change, e.g. a failed login). */
  async recordNow(input: AuditEntryInput): Promise<number> {
    return this.db.transaction().execute((trx) => this.record(trx, input));
  }

  async list(opts: { beforeSeq?: number | undefined; limit: number; action?: string | undefined }): Promise<AuditEntry[]> {
    let q = this.db.selectFrom('audit_log').selectAll().orderBy('seq', 'desc').limit(opts.limit);
    if (opts.beforeSeq !== undefined) q = q.where('seq', '<', opts.beforeSeq);
    if (opts.action) q = q.where('action', '=', opts.action);
    const rows = await q.execute();
    return rows.map((r) => ({
      seq: Number(r.seq),
      at: Number(r.at),
      actorId: r.actor_id,
      actorLogin: r.actor_login,
      action: r.action,
      targetType: r.target_type,
      targetId: r.target_id,
      ip: r.ip,
      details: JSON.parse(r.details) as Record<string, unknown>,
    }));
  }

  /** Walks the whole chain in seq order; reports the first entry whose hash or link is wrong. */
  async verify(): Promise<{ ok: boolean; count: number; brokenAt: number | null }> {
    let prev = GENESIS;
    let expectedSeq = 1;
    let count = 0;
    let after = 0;
    for (;;) {
      const rows = await this.db.selectFrom('audit_log').selectAll().where('seq', '>', after).orderBy('seq').limit(1000).execute();
      if (rows.length === 0) break;
      for (const r of rows) {
        const seq = Number(r.seq);
        const row = { ...r, seq, at: Number(r.at) };
        if (seq !== expectedSeq || r.prev_hash !== prev || entryHash(prev, row) !== r.hash) {
          return { ok: false, count, brokenAt: seq };
        }
        prev = r.hash;
        expectedSeq++;
        count++;
        after = seq;
      }
    }
    return { ok: true, count, brokenAt: null };
  }
}
