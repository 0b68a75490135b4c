import pg from 'pg';
import { deliver, stderrLogger, type BusLogger } from './memory.js';
import type { BusEvent, BusHandler, EventBus } from './types.js';

export const BUS_CHANNEL = 'bastide_events';
/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
export const MAX_NOTIFY_BYTES = 7999;

export interface PostgresBusOptions {
  log?: BusLogger;
  /** First reconnect delay; doubles up to reconnectMaxMs (with jitter). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Called after the listening connection came back: events sent meanwhile were missed; resync. */
  onReconnect?: () => void;
}

/** Serialises an event for NOTIFY; throws when it is too large for PostgreSQL. */
export function encodeEvent(event: BusEvent): string {
  const payload = JSON.stringify({ seq: event.seq, topic: event.topic, data: event.data, audience: event.audience, at: event.at });
  const bytes = Buffer.byteLength(payload, 'utf8');
  if (bytes > MAX_NOTIFY_BYTES) {
    throw new RangeError(`event ${event.topic} is ${bytes} bytes once encoded; bus payloads must stay under 8000 bytes (carry ids, not data)`);
  }
  return payload;
}

function decodeEvent(payload: string): BusEvent | null {
  let v: unknown;
  try {
    v = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.seq !== 'number' || typeof o.topic !== 'string' || typeof o.at !== 'number') return null;
  if (typeof o.data !== 'object' || o.data === null || Array.isArray(o.data)) return null;
  if (!Array.isArray(o.audience) || !o.audience.every((a) => typeof a === 'string')) return null;
  return { seq: o.seq, topic: o.topic, data: o.data as Record<string, unknown>, audience: o.audience as string[], at: o.at };
}

/**
 * Cross-node events over PostgreSQL LISTEN/NOTIFY. One dedicated connection LISTENs on `bastide_events`
 * and hands every notification (this node's own included) to local subscribers once; `publish` runs
 * `pg_notify` on a pooled connection. When the listening connection drops it reconnects with backoff and
 * keeps its subscribers (events sent during the gap are missed: `onReconnect` lets consumers resync).
 */
export class PostgresBus implements EventBus {
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly clientConfig: pg.ClientConfig;
  private readonly handlers = new Set<BusHandler>();
  private readonly log: BusLogger;
  private readonly minDelay: number;
  private readonly maxDelay: number;
  private client: pg.Client | undefined;
  private listening = false;
  private closed = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;
  private waiters: Array<() => void> = [];
  private everConnected = false;

  constructor(
    source: string | pg.Pool,
    private readonly options: PostgresBusOptions = {},
  ) {
    this.log = options.log ?? stderrLogger;
    this.minDelay = options.reconnectMinMs ?? 100;
    this.maxDelay = options.reconnectMaxMs ?? 10_000;
    if (typeof source === 'string') {
      this.pool = new pg.Pool({ connectionString: source, max: 2 });
      this.pool.on('error', () => undefined);
      this.ownsPool = true;
      this.clientConfig = { connectionString: source };
    } else {
      this.pool = source;
      this.ownsPool = false;
      const o = source.options;
      // pg-pool keeps the password as a non-enumerable property: copy it explicitly.
      this.clientConfig = { ...o, password: o.password } as pg.ClientConfig;
    }
    this.connecting = this.connect();
  }

  /** Resolves once the listening connection is up (immediately when it is). */
  ready(): Promise<void> {
    if (this.listening) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error('event bus is closed'));
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** True while the LISTEN connection is established. */
  get isListening(): boolean {
    return this.listening;
  }

  /** Backend process id of the listening connection (diagnostics and tests). */
  get listenerPid(): number | undefined {
    return this.listening ? (this.client as (pg.Client & { processID?: number }) | undefined)?.processID : undefined;
  }

  async publish(event: BusEvent): Promise<void> {
    if (this.closed) throw new Error('event bus is closed');
    const payload = encodeEvent(event);
    await this.pool.query('select pg_notify($1, $2)', [BUS_CHANNEL, payload]);
  }

  subscribe(handler: BusHandler): () => void {
    const entry: BusHandler = (event) => handler(event);
    this.handlers.add(entry);
    return () => {
      this.handlers.delete(entry);
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listening = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.handlers.clear();
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => undefined);
    if (this.ownsPool) await this.pool.end().catch(() => undefined);
    // Anyone awaiting ready() is released; they will find the bus closed.
    for (const w of this.waiters.splice(0)) w();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ ...this.clientConfig, application_name: 'bastide-bus' });
    let dropped = false;
    const onDrop = (err?: unknown): void => {
      if (dropped) return;
      dropped = true;
      this.handleDrop(client, err);
    };
    client.on('error', (err) => onDrop(err));
    client.on('end', () => onDrop());
    client.on('notification', (msg) => {
      if (msg.channel !== BUS_CHANNEL || this.client !== client) return;
      const event = decodeEvent(msg.payload ?? '');
      if (!event) {
        this.log.warn({ payload: (msg.payload ?? '').slice(0, 200) }, 'ignored a malformed bus notification');
        return;
      }
      deliver(this.handlers, event, this.log);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${BUS_CHANNEL}`);
    } catch (err) {
      onDrop(err);
      return;
    }
    if (this.closed || dropped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.listening = true;
    this.attempt = 0;
    const reconnected = this.everConnected;
    this.everConnected = true;
    if (reconnected) {
      this.log.info?.({}, 'event bus listener reconnected');
      try {
        this.options.onReconnect?.();
      } catch (err) {
        this.log.error({ err }, 'event bus onReconnect hook failed');
      }
    }
    for (const w of this.waiters.splice(0)) w();
  }

  private handleDrop(client: pg.Client, err: unknown): void {
    if (this.client === client) {
      this.client = undefined;
      this.listening = false;
    }
    client.removeAllListeners('notification');
    client.end().catch(() => undefined);
    if (this.closed) return;
    const base = Math.min(this.maxDelay, this.minDelay * 2 ** this.attempt);
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    this.attempt++;
    this.log.warn({ err, retryInMs: delay }, 'event bus listener disconnected; reconnecting');
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connecting = this.connect();
    }, delay);
  }
}
