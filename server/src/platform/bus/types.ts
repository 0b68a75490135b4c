/**
 * Events published after a transaction commits. Payloads carry ids, not data: consumers re-read what
 * they need through the policy layer. `seq` is the outbox sequence: strictly increasing per database.
 */
export interface BusEvent {
  seq: number;
  /** e.g. "identity.user.updated" */
  topic: string;
  /** Ids and small facts only (e.g. { userId }). */
  data: Record<string, unknown>;
  /** Who may see it in realtime: user ids, or ['*'] for every signed-in user; empty means server-side only. */
  audience: string[];
  at: number;
}

export type BusHandler = (event: BusEvent) => void;

export interface EventBus {
  /** Deliver to every subscriber on every node (at most once per node). */
  publish(event: BusEvent): Promise<void>;
  /** Subscribe on this node; returns the unsubscribe function. */
  subscribe(handler: BusHandler): () => void;
  close(): Promise<void>;
}
