import type { BusEvent, BusHandler, EventBus } from './types.js';

/** The logger shape the platform takes (pino-compatible). */
export interface BusLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  info?(obj: object, msg?: string): void;
}

/** Used when no logger is given: problems still reach stderr. */
export const stderrLogger: BusLogger = {
  warn: (obj, msg) => console.warn(msg ?? '', obj),
  error: (obj, msg) => console.error(msg ?? '', obj),
};

/**
 * Calls every handler with the event. A handler that throws (or returns a rejected promise) is logged and
 * never stops delivery to the others nor fails the publisher.
 */
export function deliver(handlers: Iterable<BusHandler>, event: BusEvent, log: BusLogger): void {
  for (const handler of [...handlers]) {
    try {
      const result = handler(event) as unknown;
      if (result && typeof (result as PromiseLike<unknown>).then === 'function') {
        Promise.resolve(result).catch((err: unknown) => {
          log.error({ err, topic: event.topic, seq: event.seq }, 'event handler failed');
        });
      }
    } catch (err) {
      log.error({ err, topic: event.topic, seq: event.seq }, 'event handler failed');
    }
  }
}

/** In-process fan-out: the default bus for a single node (SQLite). */
export class MemoryBus implements EventBus {
  private readonly handlers = new Set<BusHandler>();
  private closed = false;

  constructor(private readonly log: BusLogger = stderrLogger) {}

  async publish(event: BusEvent): Promise<void> {
    if (this.closed) throw new Error('event bus is closed');
    deliver(this.handlers, event, this.log);
  }

  subscribe(handler: BusHandler): () => void {
    // Wrap so the same function subscribed twice is delivered twice and unsubscribes independently.
    const entry: BusHandler = (event) => handler(event);
    this.handlers.add(entry);
    return () => {
      this.handlers.delete(entry);
    };
  }

  /** Number of current subscribers (diagnostics). */
  get size(): number {
    return this.handlers.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.handlers.clear();
  }
}
