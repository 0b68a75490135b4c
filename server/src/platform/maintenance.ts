import type { BastideModule, Platform } from './module.js';
import { collectGarbage } from './blobs/refs.js';

/**
 * The platform's own periodic work, as a module of its own: blob garbage collection. Each job
 * re-enqueues itself, so the schedule survives restarts (the job queue is durable).
 */
const BLOB_GC = 'platform.blobs.gc';
const GC_EVERY_MS = 3600_000;
/** A blob unreferenced for this long is deleted (covers uploads whose metadata is still being written). */
export const BLOB_GRACE_MS = 24 * 3600_000;

async function schedule(platform: Platform, name: string, delayMs: number): Promise<void> {
  const pending = await platform.db.selectFrom('jobs').select('id').where('name', '=', name).where('status', 'in', ['queued', 'running']).executeTakeFirst();
  if (!pending) await platform.jobs.enqueue(name, {}, { runAt: platform.clock.now() + delayMs });
}

export const maintenanceModule: BastideModule = {
  name: 'platform',
  jobs: {
    [BLOB_GC]: {
      handler: (platform) => async () => {
        const r = await collectGarbage(platform.db, platform.blobs, { olderThanMs: BLOB_GRACE_MS, now: platform.clock.now(), log: platform.log });
        if (r.deleted || r.failed) platform.log.info(r, 'blob garbage collection');
        await platform.jobs.enqueue(BLOB_GC, {}, { runAt: platform.clock.now() + GC_EVERY_MS });
      },
      options: { maxAttempts: 3 },
    },
  },
  async usage(platform) {
    const r = await platform.db
      .selectFrom('blobs')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.coalesce(eb.fn.sum<number>('size'), eb.lit(0)).as('bytes')])
      .executeTakeFirstOrThrow();
    const failed = await platform.db.selectFrom('jobs').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'failed').executeTakeFirstOrThrow();
    return { blobs: Number(r.n), blob_bytes: Number(r.bytes), jobs_failed: Number(failed.n) };
  },
  async init(platform) {
    await schedule(platform, BLOB_GC, 10 * 60_000);
  },
};
