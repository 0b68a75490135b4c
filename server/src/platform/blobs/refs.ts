import { sql, type Kysely } from 'kysely';
import { AppError } from '../../errors.js';
import type { Db, DbOrTx, Engine } from '../db/index.js';
import type { Migration } from '../db/migrate.js';
import type { BlobInfo, BlobStore } from './types.js';

/** One row per stored blob: how many records point at it, and since when none does. */
export interface BlobsTable {
  sha256: string;
  size: number;
  refcount: number;
  created_at: number;
  /** Set when refcount drops to 0 (or at upload before the first reference); null while referenced. */
  unreferenced_since: number | null;
}

declare module '../db/schema.js' {
  interface Database {
    blobs: BlobsTable;
  }
}

export const blobsMigration: Migration = {
  id: '0001_blobs',
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>, _engine: Engine): Promise<void> {
    await db.schema
      .createTable('blobs')
      .addColumn('sha256', 'text', (c) => c.primaryKey())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('refcount', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('unreferenced_since', 'bigint')
      .execute();
    await db.schema.createIndex('blobs_unreferenced_idx').on('blobs').column('unreferenced_since').execute();
  },
};

/**
 * Records one more reference to a stored blob, inside the caller's transaction (the row is created on the
 * first reference). Call it after `store.put` succeeded.
 */
export async function addRef(trx: DbOrTx, info: BlobInfo, now: number = Date.now()): Promise<void> {
  await trx
    .insertInto('blobs')
    .values({ sha256: info.sha256, size: info.size, refcount: 1, created_at: now, unreferenced_since: null })
    .onConflict((oc) =>
      oc.column('sha256').doUpdateSet({
        refcount: sql<number>`blobs.refcount + 1`,
        unreferenced_since: null,
      }),
    )
    .execute();
}

/**
 * Notes a freshly uploaded blob with no reference yet, outside any transaction, so that an upload whose
 * referencing transaction then rolls back is still garbage-collected. Does nothing when the row exists.
 */
export async function trackUpload(db: DbOrTx, info: BlobInfo, now: number = Date.now()): Promise<void> {
  await db
    .insertInto('blobs')
    .values({ sha256: info.sha256, size: info.size, refcount: 0, created_at: now, unreferenced_since: now })
    .onConflict((oc) => oc.column('sha256').doNothing())
    .execute();
}

/**
 * Drops one reference inside the caller's transaction; at zero the blob starts its grace period.
 * Returns the remaining count. Throws AppError('not_found') when the blob has no reference to release.
 */
export async function releaseRef(trx: DbOrTx, sha256: string, now: number = Date.now()): Promise<number> {
  const row = await trx
    .updateTable('blobs')
    .set({
      refcount: sql<number>`refcount - 1`,
      unreferenced_since: sql<number | null>`case when refcount <= 1 then ${now} else unreferenced_since end`,
    })
    .where('sha256', '=', sha256)
    .where('refcount', '>', 0)
    .returning('refcount')
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', { blob: sha256 }, 'This blob has no reference to release.');
  return Number(row.refcount);
}

/** Current reference count, or null when the blob is unknown. */
export async function refCount(db: DbOrTx, sha256: string): Promise<number | null> {
  const row = await db.selectFrom('blobs').select('refcount').where('sha256', '=', sha256).executeTakeFirst();
  return row ? Number(row.refcount) : null;
}

export interface GcLogger {
  warn(obj: object, msg?: string): void;
}

export interface GcResult {
  deleted: number;
  bytes: number;
  /** Rows removed whose stored object could not be deleted (left as orphans, logged). */
  failed: number;
}

/**
 * Deletes blobs unreferenced for longer than `olderThanMs`: for each, the row is deleted in its own
 * transaction (re-checking refcount = 0, so a concurrent addRef wins and two collectors never both
 * delete), then the stored object. A blob referenced again between the two steps by a new upload of the
 * same bytes could lose its object; the grace period makes that window negligible in practice.
 */
export async function collectGarbage(
  db: Db,
  store: BlobStore,
  opts: { olderThanMs: number; now: number; batchSize?: number; log?: GcLogger },
): Promise<GcResult> {
  const cutoff = opts.now - opts.olderThanMs;
  const batchSize = opts.batchSize ?? 100;
  const result: GcResult = { deleted: 0, bytes: 0, failed: 0 };
  const seen = new Set<string>();
  for (;;) {
    const candidates = await db
      .selectFrom('blobs')
      .select('sha256')
      .where('refcount', '=', 0)
      .where('unreferenced_since', 'is not', null)
      .where('unreferenced_since', '<=', cutoff)
      .orderBy('unreferenced_since')
      .orderBy('sha256')
      .limit(batchSize)
      .execute();
    const fresh = candidates.filter((c) => !seen.has(c.sha256));
    if (fresh.length === 0) break;
    for (const { sha256 } of fresh) {
      seen.add(sha256);
      const removed = await db.transaction().execute((trx) =>
        trx
          .deleteFrom('blobs')
          .where('sha256', '=', sha256)
          .where('refcount', '=', 0)
          .where('unreferenced_since', '<=', cutoff)
          .returning(['sha256', 'size'])
          .executeTakeFirst(),
      );
      if (!removed) continue;
      try {
        await store.delete(sha256);
        result.deleted++;
        result.bytes += Number(removed.size);
      } catch (err) {
        result.failed++;
        opts.log?.warn({ err, blob: sha256 }, 'blob GC: row removed but the stored object could not be deleted');
      }
    }
    if (candidates.length < batchSize) break;
  }
  return result;
}
