import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { randomBytes } from 'node:crypto';

/**
 * Test databases. Every test creates its own and drops it afterwards.
 * PostgreSQL: uses PG_TEST_URL (default postgres://postgres@127.0.0.1:5432/postgres) to create a fresh
 * database. When PostgreSQL is unreachable the PostgreSQL variants are skipped with a notice, unless
 * BASTIDE_TEST_PG=required (as in .ci/run), where they fail.
 */
export const PG_ADMIN_URL = process.env.PG_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

let pgAvailable: Promise<boolean> | undefined;
export function postgresAvailable(): Promise<boolean> {
  pgAvailable ??= (async () => {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch {
      if (process.env.BASTIDE_TEST_PG === 'required') {
        throw new Error(`PostgreSQL is required (BASTIDE_TEST_PG=required) but unreachable at ${PG_ADMIN_URL}`);
      }
      console.log(`# notice: PostgreSQL unreachable at ${PG_ADMIN_URL}; PostgreSQL variants skipped`);
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return pgAvailable;
}

export interface TestStorage {
  engine: 'sqlite' | 'postgres';
  dataDir: string;
  databaseUrl?: string;
  cleanup(): Promise<void>;
}

export function tempDir(prefix = 'bastide-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function createTestStorage(engine: 'sqlite' | 'postgres'): Promise<TestStorage> {
  const dataDir = tempDir();
  if (engine === 'sqlite') {
    return { engine, dataDir, cleanup: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const name = `bastide_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    engine,
    dataDir,
    databaseUrl: url.toString(),
    cleanup: async () => {
      rmSync(dataDir, { recursive: true, force: true });
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** The engines to run a contract test on: SQLite always, PostgreSQL when reachable (or required). */
export async function engines(): Promise<Array<'sqlite' | 'postgres'>> {
  return (await postgresAvailable()) ? ['sqlite', 'postgres'] : ['sqlite'];
}
