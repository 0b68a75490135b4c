import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isAppError } from '../../errors.js';
import { createTestStorage, engines } from '../../../test/helpers/db.js';
import { openDb, type OpenedDb } from '../db/index.js';
import { migrate } from '../db/migrate.js';
import { platformMigrations } from '../migrations.js';
import { FsBlobStore } from './fs.js';
import { addRef, collectGarbage, refCount, releaseRef, trackUpload } from './refs.js';

const HOUR = 3600 * 1000;
const T0 = Date.UTC(2026, 0, 1);

async function withStorage(engine: 'sqlite' | 'postgres', fn: (o: OpenedDb, store: FsBlobStore) => Promise<void>): Promise<void> {
  const storage = await createTestStorage(engine);
  const opened = openDb({ dataDir: storage.dataDir, databaseUrl: storage.databaseUrl, poolSize: 3 });
  try {
    await migrate(opened.db, opened.engine, [{ module: 'platform', migrations: platformMigrations }]);
    await fn(opened, new FsBlobStore(join(storage.dataDir, 'blobs')));
  } finally {
    await opened.close();
    await storage.cleanup();
  }
}

for (const engine of await engines()) {
  describe(`blob references (${engine})`, () => {
    test('addRef / releaseRef count references; GC deletes only after the grace period', async () => {
      await withStorage(engine, async ({ db }, store) => {
        const a = await store.put(Buffer.from('blob a'));
        const b = await store.put(Buffer.from('blob b'));
        await db.transaction().execute(async (trx) => {
          await addRef(trx, a, T0);
          await addRef(trx, a, T0);
          await addRef(trx, b, T0);
        });
        assert.equal(await refCount(db, a.sha256), 2);
        assert.equal(await db.transaction().execute((trx) => releaseRef(trx, a.sha256, T0 + HOUR)), 1);
        assert.equal(await releaseRef(db, b.sha256, T0 + HOUR), 0);
        assert.equal(await releaseRef(db, a.sha256, T0 + 2 * HOUR), 0);

        const row = await db.selectFrom('blobs').selectAll().where('sha256', '=', a.sha256).executeTakeFirstOrThrow();
        assert.deepEqual(row, { sha256: a.sha256, size: a.size, refcount: 0, created_at: T0, unreferenced_since: T0 + 2 * HOUR });

        // Within the grace period: nothing collected.
        let r = await collectGarbage(db, store, { olderThanMs: 24 * HOUR, now: T0 + 20 * HOUR });
        assert.deepEqual(r, { deleted: 0, bytes: 0, failed: 0 });
        assert.ok(await store.stat(a.sha256));

        // b's grace period (since T0+1h) is over at T0+25h; a's (since T0+2h) is not.
        r = await collectGarbage(db, store, { olderThanMs: 24 * HOUR, now: T0 + 25 * HOUR });
        assert.deepEqual(r, { deleted: 1, bytes: b.size, failed: 0 });
        assert.equal(await store.stat(b.sha256), null);
        assert.equal(await refCount(db, b.sha256), null);
        assert.ok(await store.stat(a.sha256));

        r = await collectGarbage(db, store, { olderThanMs: 24 * HOUR, now: T0 + 26 * HOUR });
        assert.deepEqual(r, { deleted: 1, bytes: a.size, failed: 0 });
        assert.equal(await store.stat(a.sha256), null);
      });
    });

    test('a blob referenced again before GC survives', async () => {
      await withStorage(engine, async ({ db }, store) => {
        const a = await store.put(Buffer.from('revived'));
        await addRef(db, a, T0);
        await releaseRef(db, a.sha256, T0);
        await addRef(db, a, T0 + HOUR);
        const row = await db.selectFrom('blobs').selectAll().where('sha256', '=', a.sha256).executeTakeFirstOrThrow();
        assert.equal(row.refcount, 1);
        assert.equal(row.unreferenced_since, null);
        const r = await collectGarbage(db, store, { olderThanMs: HOUR, now: T0 + 100 * HOUR });
        assert.equal(r.deleted, 0);
        assert.ok(await store.stat(a.sha256));
      });
    });

    test('references added in a rolled-back transaction do not count', async () => {
      await withStorage(engine, async ({ db }, store) => {
        const a = await store.put(Buffer.from('rolled back'));
        await trackUpload(db, a, T0);
        await assert.rejects(
          db.transaction().execute(async (trx) => {
            await addRef(trx, a, T0);
            throw new Error('rollback');
          }),
          /rollback/,
        );
        assert.equal(await refCount(db, a.sha256), 0);
        // The upload was tracked, so the orphan is collected after the grace period.
        const r = await collectGarbage(db, store, { olderThanMs: HOUR, now: T0 + 2 * HOUR });
        assert.equal(r.deleted, 1);
        assert.equal(await store.stat(a.sha256), null);
      });
    });

    test('releasing a blob with no reference is an error', async () => {
      await withStorage(engine, async ({ db }, store) => {
        const a = await store.put(Buffer.from('once'));
        await assert.rejects(releaseRef(db, a.sha256, T0), (e: unknown) => isAppError(e) && e.code === 'not_found');
        await addRef(db, a, T0);
        await releaseRef(db, a.sha256, T0);
        await assert.rejects(releaseRef(db, a.sha256, T0), (e: unknown) => isAppError(e) && e.code === 'not_found');
        assert.equal(await refCount(db, a.sha256), 0);
      });
    });

    test('GC works through more candidates than one batch', async () => {
      await withStorage(engine, async ({ db }, store) => {
        const infos = [];
        for (let i = 0; i < 7; i++) infos.push(await store.put(Buffer.from(`blob ${i}`)));
        for (const info of infos) await trackUpload(db, info, T0);
        const r = await collectGarbage(db, store, { olderThanMs: HOUR, now: T0 + 2 * HOUR, batchSize: 3 });
        assert.equal(r.deleted, 7);
        for (const info of infos) assert.equal(await store.stat(info.sha256), null);
        assert.equal((await db.selectFrom('blobs').select('sha256').execute()).length, 0);
      });
    });
  });
}
