import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { createRequire } from 'node:module';
import type pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import type { Database } from './schema.js';

export type Engine = 'sqlite' | 'postgres';
export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Either the database or a transaction: repos take this so callers choose. */
export type DbOrTx = Kysely<Database>;

// The PostgreSQL driver is loaded only when a DATABASE_URL asks for it (saves start time on SQLite).
const require = createRequire(import.meta.url);
let pgModule: typeof pg | undefined;
function loadPg(): typeof pg {
  if (!pgModule) {
    pgModule = require('pg') as typeof pg;
    // PostgreSQL returns int8 and numeric as strings; our integers fit in a double (ms times, sizes).
    pgModule.types.setTypeParser(20, (v: string) => Number(v));
    pgModule.types.setTypeParser(1700, (v: string) => Number(v));
  }
  return pgModule;
}

export interface OpenedDb {
  db: Db;
  engine: Engine;
  /** PostgreSQL pool (for LISTEN/NOTIFY and SKIP LOCKED helpers); undefined on SQLite. */
  pool?: pg.Pool;
  /** The SQLite handle (for checkpoints and backups); undefined on PostgreSQL. */
  sqlite?: SQLite.Database;
  databaseUrl?: string;
  close(): Promise<void>;
}

export function openDb(opts: { dataDir: string; databaseUrl?: string | undefined; poolSize?: number }): OpenedDb {
  if (opts.databaseUrl) {
    const pool = new (loadPg().Pool)({ connectionString: opts.databaseUrl, max: opts.poolSize ?? 10 });
    // An idle client losing its connection must not crash the process.
    pool.on('error', () => undefined);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      engine: 'postgres',
      pool,
      databaseUrl: opts.databaseUrl,
      close: async () => {
        await db.destroy();
      },
    };
  }
  mkdirSync(opts.dataDir, { recursive: true });
  const file = join(opts.dataDir, 'bastide.sqlite');
  const handle = new SQLite(file);
  handle.pragma('journal_mode = WAL');
  handle.pragma('synchronous = NORMAL');
  handle.pragma('foreign_keys = ON');
  handle.pragma('busy_timeout = 5000');
  // SQLite's lower() folds ASCII only; searches must match "Élodie" as well as "élodie".
  handle.function('lower', { deterministic: true }, (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v));
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(handle) }) });
  return {
    db,
    engine: 'sqlite',
    sqlite: handle,
    close: async () => {
      await db.destroy();
    },
  };
}

/**
 * Kysely's SQLite driver prepares every query anew; preparing costs more than running a simple indexed
 * read. This keeps the most recently used prepared statements (bounded: queries with IN lists produce
 * many distinct texts). Kysely runs one query at a time on its single connection and this code never
 * streams results, so a statement is never in use twice at once. SQLite re-prepares a cached statement
 * by itself after a schema change.
 */
const STATEMENT_CACHE_SIZE = 500;
function withStatementCache(handle: SQLite.Database): { close(): void; prepare(sql: string): SQLite.Statement } {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => {
      cache.clear();
      handle.close();
    },
    prepare(text: string) {
      // Write transactions take the write lock at BEGIN: a deferred transaction that reads and then
      // writes fails at once (SQLITE_BUSY_SNAPSHOT) when another process (the CLI) wrote meanwhile,
      // whereas BEGIN IMMEDIATE waits for the lock under busy_timeout.
      const sqlText = text === 'begin' ? 'begin immediate' : text;
      const hit = cache.get(sqlText);
      if (hit) {
        cache.delete(sqlText);
        cache.set(sqlText, hit);
        return hit;
      }
      const stmt = handle.prepare(sqlText);
      cache.set(sqlText, stmt);
      if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      return stmt;
    },
  };
}

/** True when the database answers a trivial query. */
export async function ping(db: Db): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}

/** Case-insensitive "contains" that works the same on both engines. */
export function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`).toLowerCase()}%`;
}
