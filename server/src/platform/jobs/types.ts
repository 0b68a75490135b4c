import type { Tx } from '../db/index.js';

export interface JobContext {
  jobId: string;
  attempt: number;
  /** Aborted when the process shuts down; long handlers should stop early. */
  signal: AbortSignal;
}

export type JobHandler = (payload: Record<string, unknown>, ctx: JobContext) => Promise<void>;

export interface JobOptions {
  maxAttempts?: number;
  /** First retry delay in ms; doubles each attempt (with jitter), capped by maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * A durable queue in SQL. Jobs survive restarts; a failed job is retried with exponential backoff until
 * maxAttempts, then kept as 'failed' for an operator to see. Claiming uses FOR UPDATE SKIP LOCKED on
 * PostgreSQL so several nodes share the work; SQLite has one writer.
 */
export interface JobQueue {
  register(name: string, handler: JobHandler, options?: JobOptions): void;
  /** Enqueue, inside the caller's transaction when given (the job exists only if it commits). */
  enqueue(name: string, payload: Record<string, unknown>, options?: { runAt?: number; trx?: Tx; maxAttempts?: number }): Promise<string>;
  /** Start polling (only on nodes with the 'jobs' role). */
  start(): void;
  /** Stop taking jobs and wait for running ones (up to graceMs), then abort them. */
  stop(graceMs?: number): Promise<void>;
  /** Run every due job now, once (tests and CLI). Returns how many ran. */
  runDue(): Promise<number>;
}
