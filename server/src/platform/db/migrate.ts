import { sql, type Kysely } from 'kysely';
import type { Engine } from './index.js';

/** One forward-only step. `id` sorts within its module ("0001_init"); the same set runs on both engines. */
export interface Migration {
  id: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  up(db: Kysely<any>, engine: Engine): Promise<void>;
}

export interface ModuleMigrations {
  module: string;
  migrations: Migration[];
}

/**
 * Runs every pending migration, module by module in the given order, each in its own transaction.
 * On PostgreSQL an advisory lock keeps two nodes starting together from migrating twice.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function migrate(db: Kysely<any>, engine: Engine, sets: ModuleMigrations[]): Promise<string[]> {
  await db.schema
    .createTable('bastide_migrations')
    .ifNotExists()
    .addColumn('module', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('applied_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('bastide_migrations_pk', ['module', 'id'])
    .execute();
  const applied: string[] = [];
  const run = async (conn: typeof db): Promise<void> => {
    const done = new Set(
      (await conn.selectFrom('bastide_migrations').select(['module', 'id']).execute()).map(
        (r: { module: string; id: string }) => `${r.module}/${r.id}`,
      ),
    );
    for (const set of sets) {
      const ids = set.migrations.map((m) => m.id);
      if (new Set(ids).size !== ids.length) throw new Error(`duplicate migration id in module ${set.module}`);
      const sorted = [...set.migrations].sort((a, b) => a.id.localeCompare(b.id));
      for (const m of sorted) {
        const key = `${set.module}/${m.id}`;
        if (done.has(key)) continue;
        await conn.transaction().execute(async (trx) => {
          await m.up(trx, engine);
          await trx.insertInto('bastide_migrations').values({ module: set.module, id: m.id, applied_at: Date.now() }).execute();
        });
        applied.push(key);
      }
    }
  };
  if (engine === 'postgres') {
    await db.connection().execute(async (conn) => {
      await sql`select pg_advisory_lock(4242001)`.execute(conn);
      try {
        await run(conn);
      } finally {
        await sql`select pg_advisory_unlock(4242001)`.execute(conn);
      }
    });
  } else {
    await run(db);
  }
  return applied;
}
