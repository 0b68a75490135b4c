import type { WebSocket } from 'ws';
import type { App, Platform } from '../../platform/module.js';
import type { BusEvent } from '../../platform/bus/types.js';
import type { UserActor } from '../../platform/policy.js';

/**
 * The realtime socket: one WebSocket per browser tab at /api/realtime. It fans out bus events to the
 * connections whose user is in the event's audience (user ids, '*' for everyone signed in, 'role:admin',
 * or a module audience such as 'chat:<channelId>' resolved to the channel's members at delivery time).
 * Payloads carry ids only; the client re-reads through the API, so permissions are checked there.
 * The whole protocol (frames, seq, resume, back-pressure, heartbeats, signals) is in docs/realtime.md.
 *
 * Frames, server → client: {type:'hello', connectionId, node, seq}, {type:'event', seq, topic, data},
 * {type:'resumed', since, replayed, seq}, {type:'resync', reason}, {type:'signal', topic, data},
 * {type:'error', code}, {type:'pong'}.
 * Client → server: {type:'ping'} and the frames modules register (chat: 'typing', 'presence').
 * Resume: connect with `?since=<seq>` (the last event seq seen): the events after it that the user is in
 * the audience of are replayed from the outbox before live ones, each once; 'resync' when it cannot.
 * Heartbeat: a WebSocket ping every 30 s; no pong by the next → closed.
 * Back-pressure: a client more than 1 MiB behind is closed with 1013 and resumes on reconnect.
 */

/** Resolves a module audience key (the part after the prefix) to the user ids it stands for now. */
export type AudienceResolver = (key: string) => ReadonlySet<string> | Promise<ReadonlySet<string>>;

export interface FrameContext {
  platform: Platform;
  actor: UserActor;
  connectionId: number;
  send(frame: Record<string, unknown>): void;
}

/** Handles a client frame of a type a module registered; errors are answered with {type:'error'}. */
export type FrameHandler = (ctx: FrameContext, frame: Record<string, unknown>) => void | Promise<void>;

export interface RealtimeExtensions {
  /** Audience prefixes (e.g. 'chat:') and their resolvers. */
  audiences: Map<string, AudienceResolver>;
  /** Client frame types (e.g. 'typing') and their handlers. */
  frames: Map<string, FrameHandler>;
  /** Called when a user's connection opens or closes on this node (presence). */
  connectionListeners: Array<(userId: string, open: boolean, userConnections: number) => void>;
}

const extensions = new WeakMap<Platform, RealtimeExtensions>();

/** The registry modules add their audiences and client frames to (in `init`). One per platform. */
export function realtimeExtensions(platform: Platform): RealtimeExtensions {
  let ext = extensions.get(platform);
  if (!ext) {
    ext = { audiences: new Map(), frames: new Map(), connectionListeners: [] };
    extensions.set(platform, ext);
  }
  return ext;
}

interface Conn {
  id: number;
  userId: string;
  isAdmin: boolean;
  sessionId: string | undefined;
  actor: UserActor;
  socket: WebSocket;
  alive: boolean;
  /** Live frames held back while hello and the resume replay are sent; null once live. */
  held: Array<{ seq: number; frame: Frame }> | null;
  /** Seqs sent by the replay: the same event arriving live is not sent twice. */
  replayed: Set<number> | null;
  /** Client frame rate limit (token bucket). */
  tokens: number;
  refilledAt: number;
  warned: boolean;
}

/** A text frame: a string, or its UTF-8 bytes when encoded once for many recipients. */
type Frame = string | Buffer;

const MAX_BUFFERED = 1024 * 1024;
/** Outbox rows a resume may scan; beyond that the client is told to resync (refetch). */
export const MAX_REPLAY_ROWS = 10_000;
const REPLAY_BATCH = 500;
/** Client frames: bursts of 20, 5 per second sustained, per connection. */
const FRAME_BURST = 20;
const FRAME_RATE_PER_S = 5;

/** The TCP socket under a WebSocket (ws keeps it as `_socket`), to cork writes; undefined if absent. */
function rawSocket(ws: WebSocket): { cork(): void; uncork(): void } | undefined {
  const raw = (ws as unknown as { _socket?: { cork?: () => void; uncork?: () => void } })._socket;
  return raw && typeof raw.cork === 'function' && typeof raw.uncork === 'function' ? (raw as { cork(): void; uncork(): void }) : undefined;
}

export function realtimeRoutes(app: App, platform: Platform): { close(): void; connections(): number } {
  const conns = new Set<Conn>();
  /** The same connections by user: delivery looks up its audience instead of testing every socket. */
  const byUser = new Map<string, Set<Conn>>();
  let nextId = 1;
  const allowedOrigin = new URL(platform.config.baseUrl).origin;
  const ext = realtimeExtensions(platform);

  /** Resolves the module audiences of an event: a set of user ids, or null when it has none. */
  function resolve(audience: string[]): ReadonlySet<string> | null | Promise<ReadonlySet<string> | null> {
    const parts: Array<ReadonlySet<string> | Promise<ReadonlySet<string>>> = [];
    for (const a of audience) {
      const colon = a.indexOf(':');
      if (colon <= 0 || a.startsWith('role:')) continue;
      const resolver = ext.audiences.get(a.slice(0, colon + 1));
      if (resolver) parts.push(resolver(a.slice(colon + 1)));
    }
    if (parts.length === 0) return null;
    if (parts.length === 1 && !(parts[0] instanceof Promise)) return parts[0] as ReadonlySet<string>;
    return Promise.all(parts).then((sets) => {
      const all = new Set<string>();
      for (const s of sets) for (const u of s) all.add(u);
      return all;
    });
  }

  /** Whether one connection is in an event's audience (the resume replay asks connection by connection). */
  function matches(c: Conn, audience: string[], resolved: ReadonlySet<string> | null): boolean {
    return audience.includes('*') || audience.includes(c.userId) || (c.isAdmin && audience.includes('role:admin')) || (resolved !== null && resolved.has(c.userId));
  }

  /** The connections an event goes to: its users, admins for role:admin, everyone for '*', and module audiences. */
  function targets(audience: string[], resolved: ReadonlySet<string> | null): Iterable<Conn> {
    if (audience.includes('*')) return conns;
    const out = new Set<Conn>();
    const addUser = (userId: string): void => {
      const cs = byUser.get(userId);
      if (cs) for (const c of cs) out.add(c);
    };
    for (const a of audience) if (!a.includes(':') && a !== '*') addUser(a);
    if (audience.includes('role:admin')) for (const c of conns) if (c.isAdmin) out.add(c);
    if (resolved !== null) {
      // Walk the smaller side: a channel of 10,000 members with 50 of them connected, or the reverse.
      if (resolved.size <= byUser.size) for (const u of resolved) addUser(u);
      else for (const u of byUser.keys()) if (resolved.has(u)) addUser(u);
    }
    return out;
  }

  /**
   * Sockets written to during the current delivery cycle, corked: the frames of a burst of events leave
   * in one write per socket when the cycle ends, not one system call per frame and recipient.
   */
  const corked = new Set<Conn>();
  let delivering = false;

  function send(c: Conn, frame: Frame): boolean {
    if (c.socket.bufferedAmount > MAX_BUFFERED) {
      c.socket.close(1013, 'too far behind');
      return false;
    }
    if (delivering && !corked.has(c)) {
      rawSocket(c.socket)?.cork();
      corked.add(c);
    }
    c.socket.send(frame, { binary: false });
    return true;
  }

  function uncorkAll(): void {
    for (const c of corked) rawSocket(c.socket)?.uncork();
    corked.clear();
  }

  function deliver(e: BusEvent, resolved: ReadonlySet<string> | null): void {
    // Encoded once per broadcast (to UTF-8 bytes), not per recipient.
    let frame: Buffer | undefined;
    for (const c of targets(e.audience, resolved)) {
      if (e.seq === 0) {
        // A signal (typing, presence): not stored, not resumable, never held back.
        if (c.held === null) send(c, (frame ??= Buffer.from(JSON.stringify({ type: 'signal', topic: e.topic, data: e.data }))));
        continue;
      }
      frame ??= Buffer.from(JSON.stringify({ type: 'event', seq: e.seq, topic: e.topic, data: e.data }));
      if (c.held !== null) {
        c.held.push({ seq: e.seq, frame });
        continue;
      }
      if (c.replayed?.delete(e.seq)) continue;
      send(c, frame);
    }
  }

  // Events are delivered in bus order; module audiences may need a database read, so a queue keeps order.
  const queue: BusEvent[] = [];
  let pumping = false;
  async function pump(): Promise<void> {
    pumping = true;
    try {
      while (queue.length > 0) {
        const e = queue.shift()!;
        try {
          const r = resolve(e.audience);
          const audience = r instanceof Promise ? await r : r;
          delivering = true;
          deliver(e, audience);
        } catch (err) {
          platform.log.error({ err, topic: e.topic, seq: e.seq }, 'realtime: delivery failed');
        } finally {
          delivering = false;
        }
        // Frames wait in corked sockets only while more events are already queued.
        if (queue.length === 0) uncorkAll();
      }
    } finally {
      pumping = false;
      uncorkAll();
    }
  }

  const unsubscribe = platform.bus.subscribe((e: BusEvent) => {
    if (e.topic === 'identity.session.ended') {
      for (const c of conns) if (c.sessionId && c.sessionId === e.data.sessionId) c.socket.close(4001, 'session ended');
    }
    if (e.topic === 'identity.user.updated' || e.topic === 'identity.user.deleted') {
      const userId = e.data.userId as string;
      if (byUser.has(userId)) {
        void platform.db
          .selectFrom('users')
          .select(['disabled'])
          .where('id', '=', userId)
          .executeTakeFirst()
          .then((u) => {
            if (!u || u.disabled === 1) for (const c of byUser.get(userId) ?? []) c.socket.close(4001, 'account disabled');
          })
          .catch(() => undefined);
      }
    }
    if (e.audience.length === 0 || conns.size === 0) return;
    queue.push(e);
    if (!pumping) void pump();
  });

  const heartbeat = setInterval(() => {
    for (const c of conns) {
      if (!c.alive) {
        c.socket.terminate();
        continue;
      }
      c.alive = false;
      c.socket.ping();
    }
  }, 30_000);
  heartbeat.unref();

  async function maxSeq(): Promise<number> {
    const r = await platform.db.selectFrom('outbox').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirst();
    return r?.m === null || r?.m === undefined ? 0 : Number(r.m);
  }

  /** Sends the events after `since` the user may see; returns their count, or a resync reason. */
  async function replay(c: Conn, since: number, upTo: number): Promise<{ replayed: number; last: number } | { resync: string }> {
    if (since > upTo) return { resync: 'unknown_seq' };
    if (since > 0) {
      const known = await platform.db.selectFrom('outbox').select('seq').where('seq', '=', since).executeTakeFirst();
      // The row the client saw is gone: the outbox was pruned past it, events may be missing.
      if (!known) return { resync: 'too_old' };
    }
    let cursor = since;
    let scanned = 0;
    let replayed = 0;
    let last = since;
    c.replayed = new Set();
    for (;;) {
      const rows = await platform.db
        .selectFrom('outbox')
        .select(['seq', 'topic', 'data', 'audience'])
        .where('seq', '>', cursor)
        .orderBy('seq')
        .limit(REPLAY_BATCH)
        .execute();
      for (const row of rows) {
        const seq = Number(row.seq);
        cursor = seq;
        let audience: string[];
        let data: Record<string, unknown>;
        try {
          audience = JSON.parse(row.audience) as string[];
          data = JSON.parse(row.data) as Record<string, unknown>;
        } catch {
          continue;
        }
        if (!Array.isArray(audience) || audience.length === 0) continue;
        const r = resolve(audience);
        if (!matches(c, audience, r instanceof Promise ? await r : r)) continue;
        if (c.socket.readyState !== c.socket.OPEN) return { replayed, last };
        if (!send(c, JSON.stringify({ type: 'event', seq, topic: row.topic, data }))) return { replayed, last };
        c.replayed.add(seq);
        replayed++;
        last = seq;
      }
      scanned += rows.length;
      if (rows.length < REPLAY_BATCH) break;
      if (scanned >= MAX_REPLAY_ROWS) return { resync: 'too_many' };
    }
    return { replayed, last };
  }

  /** Hello, then the resume replay, then the live frames held meanwhile (each event once, in order). */
  async function start(c: Conn, since: number | null): Promise<void> {
    const upTo = await maxSeq();
    send(c, JSON.stringify({ type: 'hello', connectionId: c.id, node: platform.nodeId, seq: upTo }));
    if (since !== null) {
      const r = await replay(c, since, upTo);
      if ('resync' in r) {
        c.replayed = null;
        send(c, JSON.stringify({ type: 'resync', reason: r.resync }));
      } else {
        send(c, JSON.stringify({ type: 'resumed', since, replayed: r.replayed, seq: Math.max(r.last, upTo) }));
      }
    }
    const held = c.held ?? [];
    c.held = null;
    for (const h of held) {
      if (c.replayed?.delete(h.seq)) continue;
      if (!send(c, h.frame)) return;
    }
    // Anything the replay sent that has not come live by now was published before this node saw it.
    setTimeout(() => (c.replayed = null), 60_000).unref();
  }

  function allowFrame(c: Conn): boolean {
    const now = Date.now();
    c.tokens = Math.min(FRAME_BURST, c.tokens + ((now - c.refilledAt) / 1000) * FRAME_RATE_PER_S);
    c.refilledAt = now;
    if (c.tokens < 1) return false;
    c.tokens -= 1;
    return true;
  }

  function userConnections(userId: string): number {
    let n = 0;
    for (const c of conns) if (c.userId === userId) n++;
    return n;
  }

  function notifyConnection(userId: string, open: boolean): void {
    const n = userConnections(userId);
    for (const l of ext.connectionListeners) {
      try {
        l(userId, open, n);
      } catch (err) {
        platform.log.error({ err }, 'realtime: connection listener failed');
      }
    }
  }

  app.get('/realtime', { websocket: true, schema: { hide: true } }, (socket, req) => {
    const origin = req.headers.origin;
    const hostOrigin = `${req.protocol}://${req.headers.host ?? ''}`;
    if (origin && origin !== allowedOrigin && origin !== hostOrigin) {
      socket.close(4003, 'origin not allowed');
      return;
    }
    if (req.actor.kind !== 'user' || req.actor.via === 'app-password') {
      socket.close(4001, 'unauthenticated');
      return;
    }
    const rawSince = (req.query as Record<string, unknown> | undefined)?.since;
    let since: number | null = null;
    if (typeof rawSince === 'string' && rawSince !== '') {
      if (!/^\d{1,15}$/.test(rawSince)) {
        socket.close(4000, 'invalid since');
        return;
      }
      since = Number(rawSince);
    }
    const actor = req.actor;
    const conn: Conn = {
      id: nextId++,
      userId: actor.userId,
      isAdmin: actor.isAdmin,
      sessionId: actor.sessionId,
      actor,
      socket,
      alive: true,
      held: [],
      replayed: null,
      tokens: FRAME_BURST,
      refilledAt: Date.now(),
      warned: false,
    };
    conns.add(conn);
    let mine = byUser.get(conn.userId);
    if (!mine) byUser.set(conn.userId, (mine = new Set()));
    mine.add(conn);
    const sendObj = (frame: Record<string, unknown>): void => {
      if (socket.readyState === socket.OPEN) send(conn, JSON.stringify(frame));
    };
    socket.on('pong', () => (conn.alive = true));
    socket.on('message', (raw: Buffer, isBinary: boolean) => {
      conn.alive = true;
      if (isBinary || raw.length > 1024) return;
      let msg: Record<string, unknown>;
      try {
        const parsed = JSON.parse(raw.toString('utf8')) as unknown;
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return;
        msg = parsed as Record<string, unknown>;
      } catch {
        return; // not JSON: ignored, like any frame the protocol does not define
      }
      if (msg.type === 'ping') {
        sendObj({ type: 'pong' });
        return;
      }
      const handler = typeof msg.type === 'string' ? ext.frames.get(msg.type) : undefined;
      if (!handler) return;
      if (!allowFrame(conn)) {
        if (!conn.warned) sendObj({ type: 'error', code: 'rate_limited', frame: msg.type });
        conn.warned = true;
        return;
      }
      conn.warned = false;
      Promise.resolve()
        .then(() => handler({ platform, actor, connectionId: conn.id, send: sendObj }, msg))
        .catch((err: unknown) => {
          const code = typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'internal';
          if (code === 'internal') platform.log.error({ err }, 'realtime: frame handler failed');
          sendObj({ type: 'error', code, frame: msg.type });
        });
    });
    const gone = (): void => {
      if (!conns.delete(conn)) return;
      const mine = byUser.get(conn.userId);
      mine?.delete(conn);
      if (mine?.size === 0) byUser.delete(conn.userId);
      notifyConnection(conn.userId, false);
    };
    socket.on('close', gone);
    socket.on('error', gone);
    notifyConnection(conn.userId, true);
    start(conn, since).catch((err: unknown) => {
      platform.log.error({ err }, 'realtime: start failed');
      socket.close(1011, 'server error');
    });
  });

  return {
    close() {
      unsubscribe();
      clearInterval(heartbeat);
      for (const c of conns) c.socket.close(1001, 'server shutting down');
    },
    connections: () => conns.size,
  };
}
