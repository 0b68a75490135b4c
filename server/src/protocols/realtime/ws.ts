import type { WebSocket } from 'ws';
import type { App, Platform } from '../../platform/module.js';
import type { BusEvent } from '../../platform/bus/types.js';

/**
 * The realtime socket: one WebSocket per browser tab at /api/realtime. It fans out bus events to the
 * connections whose user is in the event's audience (user ids, '*' for everyone signed in, 'role:admin').
 * Payloads carry ids only; the client re-reads through the API, so permissions are checked there.
 *
 * Frames, server → client: {type:'hello', connectionId, node}, {type:'event', seq, topic, data}, {type:'pong'}.
 * Client → server: {type:'ping'}. Heartbeat: a WebSocket ping every 30 s; no pong by the next → closed.
 * Back-pressure: a client more than 1 MiB behind is closed with 1013 and resyncs on reconnect.
 */
interface Conn {
  id: number;
  userId: string;
  isAdmin: boolean;
  sessionId: string | undefined;
  socket: WebSocket;
  alive: boolean;
}

const MAX_BUFFERED = 1024 * 1024;

export function realtimeRoutes(app: App, platform: Platform): { close(): void; connections(): number } {
  const conns = new Set<Conn>();
  let nextId = 1;
  const allowedOrigin = new URL(platform.config.baseUrl).origin;

  const unsubscribe = platform.bus.subscribe((e: BusEvent) => {
    if (e.topic === 'identity.session.ended') {
      for (const c of conns) if (c.sessionId && c.sessionId === e.data.sessionId) c.socket.close(4001, 'session ended');
    }
    if (e.topic === 'identity.user.updated' || e.topic === 'identity.user.deleted') {
      const userId = e.data.userId as string;
      if ([...conns].some((c) => c.userId === userId)) {
        void platform.db
          .selectFrom('users')
          .select(['disabled'])
          .where('id', '=', userId)
          .executeTakeFirst()
          .then((u) => {
            if (!u || u.disabled === 1) for (const c of conns) if (c.userId === userId) c.socket.close(4001, 'account disabled');
          })
          .catch(() => undefined);
      }
    }
    if (e.audience.length === 0) return;
    const frame = JSON.stringify({ type: 'event', seq: e.seq, topic: e.topic, data: e.data });
    for (const c of conns) {
      const match = e.audience.includes('*') || e.audience.includes(c.userId) || (c.isAdmin && e.audience.includes('role:admin'));
      if (!match) continue;
      if (c.socket.bufferedAmount > MAX_BUFFERED) {
        c.socket.close(1013, 'too far behind');
        continue;
      }
      c.socket.send(frame);
    }
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
    const conn: Conn = { id: nextId++, userId: req.actor.userId, isAdmin: req.actor.isAdmin, sessionId: req.actor.sessionId, socket, alive: true };
    conns.add(conn);
    socket.on('pong', () => (conn.alive = true));
    socket.on('message', (raw: Buffer, isBinary: boolean) => {
      conn.alive = true;
      if (isBinary || raw.length > 1024) return;
      try {
        const msg = JSON.parse(raw.toString('utf8')) as { type?: unknown };
        if (msg.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
      } catch {
        // not JSON: ignored, like any frame the protocol does not define
      }
    });
    socket.on('close', () => conns.delete(conn));
    socket.on('error', () => conns.delete(conn));
    socket.send(JSON.stringify({ type: 'hello', connectionId: conn.id, node: platform.nodeId }));
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

