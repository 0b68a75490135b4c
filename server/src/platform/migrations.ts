import { blobsMigration } from './blobs/refs.js';
import { outboxMigration } from './bus/outbox.js';
import type { Migration } from './db/migrate.js';
import { jobsMigration } from './jobs/queue.js';

/**
 * The platform's own tables, run as module 'platform' before every feature module:
 * migrate(db, engine, [{ module: 'platform', migrations: platformMigrations }, ...modules]).
 * Forward-only: append new steps with the next number; never edit or reorder a released one.
 */
export const platformMigrations: Migration[] = [
  blobsMigration, // 0001_blobs
  outboxMigration, // 0002_outbox
  jobsMigration, // 0003_jobs
  // 0004_audit: the audit log table goes here.
];
