/**
 * The realtime socket (/api/realtime): invalidates the matching queries when the server pushes an
 * event; reconnects with exponential backoff and jitter. No polling.
 */
import type { QueryClient } from '@tanstack/react-query';

interface EventMessage {
  type: 'event';
  seq: number;
  topic: string;
  data: unknown;
}

let socket: WebSocket | null = null;
let retryTimer: ReturnType<typeof setTimeout> | null = null;
let keepAlive: ReturnType<typeof setInterval> | null = null;
let attempts = 0;
let running = false;
let everConnected = false;

function url(): string {
  const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${window.location.host}/api/realtime`;
}

/** Which cached queries an event topic makes stale. */
export function invalidateFor(qc: QueryClient, topic: string): void {
  if (topic.startsWith('drive.')) {
    // A file changed (here, in another tab, or through a WebDAV client): the open folder re-reads.
    void qc.invalidateQueries({ queryKey: ['drive'] });
    return;
  }
  if (topic.startsWith('notifications.')) {
    void qc.invalidateQueries({ queryKey: ['notifications'] });
    return;
  }
  if (topic.startsWith('identity.')) {
    const rest = topic.slice('identity.'.length);
    if (rest.startsWith('group')) {
      void qc.invalidateQueries({ queryKey: ['admin', 'groups'] });
      void qc.invalidateQueries({ queryKey: ['admin', 'user'] });
    } else {
      void qc.invalidateQueries({ queryKey: ['session'] });
      void qc.invalidateQueries({ queryKey: ['me'] });
      void qc.invalidateQueries({ queryKey: ['admin'] });
      void qc.invalidateQueries({ queryKey: ['directory'] });
    }
  }
}

function isEvent(v: unknown): v is EventMessage {
  return typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'event' &&
    typeof (v as { topic?: unknown }).topic === 'string';
}

function clearTimers(): void {
  if (retryTimer) clearTimeout(retryTimer);
  if (keepAlive) clearInterval(keepAlive);
  retryTimer = null;
  keepAlive = null;
}

function connect(qc: QueryClient): void {
  if (!running) return;
  let ws: WebSocket;
  try {
    ws = new WebSocket(url());
  } catch {
    schedule(qc);
    return;
  }
  socket = ws;
  ws.onopen = () => {
    attempts = 0;
    // After a reconnection, events may have been missed: refresh what is on screen.
    if (everConnected) void qc.invalidateQueries();
    everConnected = true;
    // Keeps idle proxies from closing the socket; the server answers with a pong.
    keepAlive = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'ping' }));
    }, 45_000);
  };
  ws.onmessage = (e) => {
    let msg: unknown;
    try {
      msg = JSON.parse(String(e.data));
    } catch {
      return;
    }
    if (isEvent(msg)) invalidateFor(qc, msg.topic);
  };
  ws.onclose = () => {
    if (socket === ws) socket = null;
    if (keepAlive) clearInterval(keepAlive);
    keepAlive = null;
    schedule(qc);
  };
  ws.onerror = () => ws.close();
}

function schedule(qc: QueryClient): void {
  if (!running || retryTimer) return;
  const base = Math.min(30_000, 1000 * 2 ** attempts);
  const delay = base / 2 + Math.random() * (base / 2);
  attempts++;
  retryTimer = setTimeout(() => {
    retryTimer = null;
    connect(qc);
  }, delay);
}

export function startRealtime(qc: QueryClient): void {
  if (running) return;
  running = true;
  attempts = 0;
  everConnected = false;
  connect(qc);
}

export function stopRealtime(): void {
  running = false;
  clearTimers();
  if (socket) {
    const s = socket;
    socket = null;
    s.onclose = null;
    s.close();
  }
}
