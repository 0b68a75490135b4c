import assert from 'node:assert/strict';
import { sql } from 'kysely';
import WebSocket from 'ws';
import type { Db } from '../../src/platform/db/index.js';
import { ApiClient, DEFAULT_PASSWORD, makeUser, type TestServer } from './server.js';

/**
 * Small helpers shared by the integration tests: error assertions, table snapshots (to prove that a
 * refused request changed nothing), HTTP Basic / Bearer headers and a WebSocket client with a frame queue.
 */

export interface Res {
  status: number;
  json: any;
  headers: Headers;
}

/** The answer is the catalog error `code` with `status`, in the documented shape. */
export function assertError(res: Res, status: number, code?: string): void {
  assert.equal(res.status, status, `expected ${status}${code ? ` ${code}` : ''}, got ${res.status} ${JSON.stringify(res.json)}`);
  assertErrorShape(res);
  if (code) assert.equal(res.json.error.code, code, JSON.stringify(res.json));
}

/** `{error: {code, message, details?}}` and nothing else. */
export function assertErrorShape(res: Res): void {
  assert.ok(res.json && typeof res.json === 'object' && !Array.isArray(res.json), `error body is not an object: ${String(res.json)}`);
  assert.deepEqual(Object.keys(res.json), ['error'], JSON.stringify(res.json));
  assert.equal(typeof res.json.error.code, 'string');
  assert.match(res.json.error.code, /^[a-z_]+$/);
  assert.equal(typeof res.json.error.message, 'string');
  assert.ok(res.json.error.message.length > 0);
  for (const k of Object.keys(res.json.error)) assert.ok(['code', 'message', 'details'].includes(k), `unexpected key ${k}`);
}

/** Every row of `table`, in a stable order, as JSON: compare before and after a refused request. */
export async function snapshot(db: Db, table: string, omit: string[] = []): Promise<string> {
  const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db);
  return JSON.stringify(
    rows.rows
      .map((r) => {
        const copy: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(r)) if (!omit.includes(k)) copy[k] = typeof v === 'bigint' ? Number(v) : v;
        return JSON.stringify(copy);
      })
      .sort(),
  );
}

/** Snapshots of several tables at once. */
export async function snapshotAll(db: Db, tables: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of tables) out[t] = await snapshot(db, t);
  return out;
}

export async function countRows(db: Db, table: string): Promise<number> {
  const r = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(db);
  return Number(r.rows[0]!.n);
}

export function basicAuth(login: string, password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}` };
}

export function bearerAuth(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** A raw request with no cookie jar (for Basic / Bearer / odd bodies). */
export async function raw(
  base: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer | Uint8Array; json?: unknown } = {},
): Promise<Res> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let body: string | Uint8Array | undefined;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['content-type'] ??= 'application/json';
  } else if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : new Uint8Array(opts.body);
  }
  const res = await fetch(base + path, { method, headers, body: body as string | undefined });
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

/** An administrator (created through the command, as the CLI does) signed in with a fresh client. */
export async function adminClient(srv: TestServer, login = 'admin'): Promise<{ id: string; login: string; client: ApiClient }> {
  const u = await makeUser(srv, login, { admin: true });
  const client = new ApiClient(srv.url);
  await client.login(login, DEFAULT_PASSWORD);
  return { id: u.id, login, client };
}

/** A user created through the command and signed in with a fresh client. */
export async function userClient(srv: TestServer, login: string, opts: { admin?: boolean } = {}): Promise<{ id: string; login: string; client: ApiClient }> {
  const u = await makeUser(srv, login, opts);
  const client = new ApiClient(srv.url);
  await client.login(login, DEFAULT_PASSWORD);
  return { id: u.id, login, client };
}

/** A sortable id that exists nowhere. */
export const MISSING_ID = '01J0000000000000000000000Z';

export interface Frame {
  type: string;
  [k: string]: any;
}

/** A WebSocket client that queues frames so tests can wait for the one they expect. */
export class WsClient {
  readonly frames: Frame[] = [];
  private waiters: Array<() => void> = [];
  closed: { code: number; reason: string } | undefined;
  private closeWaiters: Array<() => void> = [];

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data: WebSocket.RawData) => {
      try {
        this.frames.push(JSON.parse(data.toString()) as Frame);
      } catch {
        this.frames.push({ type: 'unparsable', raw: data.toString() });
      }
      this.wake();
    });
    socket.on('close', (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
      for (const w of this.closeWaiters.splice(0)) w();
    });
    socket.on('error', () => undefined);
  }

  static connect(base: string, opts: { cookie?: string; origin?: string; headers?: Record<string, string> } = {}): WsClient {
    const url = base.replace(/^http/, 'ws') + '/api/realtime';
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.cookie) headers.cookie = opts.cookie;
    return new WsClient(new WebSocket(url, { headers, ...(opts.origin ? { origin: opts.origin } : {}) }));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits for (and returns) the first queued frame matching `pred`, removing it and the frames before it. */
  async next(pred: (f: Frame) => boolean, timeoutMs = 5000, what = 'frame'): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.frames.findIndex(pred);
      if (i >= 0) return this.frames.splice(0, i + 1)[i]!;
      if (this.closed) throw new Error(`socket closed (${this.closed.code} ${this.closed.reason}) while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  event(topic: string, timeoutMs = 5000, extra: (f: Frame) => boolean = () => true): Promise<Frame> {
    return this.next((f) => f.type === 'event' && f.topic === topic && extra(f), timeoutMs, `event ${topic}`);
  }

  /** Resolves with the close code (waits up to timeoutMs). */
  async waitClose(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    if (this.closed) return this.closed;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('socket did not close')), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
    return this.closed!;
  }

  /** Sends a ping frame and waits for the pong: every event sent before it has arrived by then. */
  async sync(): Promise<void> {
    this.socket.send(JSON.stringify({ type: 'ping' }));
    await this.next((f) => f.type === 'pong', 5000, 'pong');
  }

  close(): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) this.socket.terminate();
  }
}

/** Polls `fn` until it returns a truthy value (or throws after timeoutMs). */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A small deterministic PRNG (mulberry32) for seeded fuzzing. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
