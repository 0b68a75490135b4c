import type { Platform } from '../../platform/module.js';
import type { BusEvent } from '../../platform/bus/types.js';

/**
 * Resolving a session cookie is the one query every request of the web app pays. This keeps the answer
 * in memory for a few seconds, and forgets it the moment something that changes it commits:
 * - on this node, synchronously after commit (`platform.onCommit`), so a revoked session is refused by
 *   the very next request;
 * - on other nodes, when the same event arrives on the bus (milliseconds on PostgreSQL);
 * - everywhere, when the bus says it may have missed events (`platform.onBusResync`);
 * - and in any case after TTL_MS, a backstop.
 * Events that matter: identity.session.ended (one session), identity.user.updated/deleted (every
 * session of the user: disabled, admin rights changed, password changed or reset).
 */
export interface CachedSession {
  sid: string;
  csrfToken: string;
  expiresAt: number;
  lastSeenAt: number;
  userId: string;
  login: string;
  isAdmin: boolean;
  cachedAt: number;
}

const TTL_MS = 5000;
const MAX_ENTRIES = 10_000;

export class SessionCache {
  private byHash = new Map<string, CachedSession>();

  constructor(private readonly now: () => number) {}

  get(tokenHash: string): CachedSession | undefined {
    const hit = this.byHash.get(tokenHash);
    if (!hit) return undefined;
    if (this.now() - hit.cachedAt > TTL_MS) {
      this.byHash.delete(tokenHash);
      return undefined;
    }
    return hit;
  }

  set(tokenHash: string, entry: CachedSession): void {
    if (this.byHash.size >= MAX_ENTRIES) this.byHash.delete(this.byHash.keys().next().value!);
    this.byHash.set(tokenHash, entry);
  }

  forgetSession(sid: string): void {
    for (const [k, v] of this.byHash) if (v.sid === sid) this.byHash.delete(k);
  }

  forgetUser(userId: string): void {
    for (const [k, v] of this.byHash) if (v.userId === userId) this.byHash.delete(k);
  }

  clear(): void {
    this.byHash.clear();
  }

  apply(e: { topic: string; data: Record<string, unknown> }): void {
    if (e.topic === 'identity.session.ended' && typeof e.data.sessionId === 'string') this.forgetSession(e.data.sessionId);
    else if ((e.topic === 'identity.user.updated' || e.topic === 'identity.user.deleted') && typeof e.data.userId === 'string') this.forgetUser(e.data.userId);
  }

  get size(): number {
    return this.byHash.size;
  }
}

const caches = new WeakMap<Platform, SessionCache>();

/** The cache of this platform instance, wired to its commit hook and bus on first use. */
export function sessionCache(platform: Platform): SessionCache {
  let c = caches.get(platform);
  if (!c) {
    const cache = new SessionCache(() => platform.clock.now());
    platform.onCommit((events) => {
      for (const e of events) cache.apply(e);
    });
    platform.bus.subscribe((e: BusEvent) => cache.apply(e));
    platform.onBusResync(() => cache.clear());
    caches.set(platform, cache);
    c = cache;
  }
  return c;
}
