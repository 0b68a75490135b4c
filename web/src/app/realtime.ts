/**
 * The realtime socket (/api/realtime): invalidates the matching queries when the server pushes an
 * event; reconnects with exponential backoff and jitter, resuming from the last event seen
 * (`?since=<seq>`, docs/realtime.md) so that nothing missed during the drop is lost, and refetching
 * everything only when the server answers `resync`. No polling.
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
/** The seq of the last event processed (or of `hello`): where a reconnection resumes. */
let lastSeq: number | null = null;

/** What a feature (chat) may listen to: events, signals (typing, presence), connection changes. */
export type RealtimeFrame =
  | { type: 'event'; seq: number; topic: string; data: unknown }
  | { type: 'signal'; topic: string; data: unknown }
  | { type: 'open'; reconnect: boolean }
  | { type: 'resumed' }
  | { type: 'resync' }
  | { type: 'closed' };
const subscribers = new Set<(f: RealtimeFrame) => void>();

/** Listens to the socket's frames; returns the unsubscribe function. */
export function subscribeRealtime(fn: (f: RealtimeFrame) => void): () => void {
  subscribers.add(fn);
  return () => subscribers.delete(fn);
}

function notify(f: RealtimeFrame): void {
  for (const fn of subscribers) {
    try {
      fn(f);
    } catch {
      /* a subscriber's bug must not break the socket */
    }
  }
}

/** Sends a client frame (typing, presence) when the socket is open; false otherwise. */
export function sendRealtime(frame: Record<string, unknown>): boolean {
  if (!socket || socket.readyState !== WebSocket.OPEN) return false;
  socket.send(JSON.stringify(frame));
  return true;
}

/** Whether the socket is connected now. */
export function realtimeConnected(): boolean {
  return socket !== null && socket.readyState === WebSocket.OPEN;
}

function url(): string {
  const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  const since = lastSeq !== null ? `?since=${lastSeq}` : '';
  return `${proto}//${window.location.host}/api/realtime${since}`;
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
  if (topic.startsWith('calendar.')) {
    // An event or calendar changed (here, through a CalDAV client, an invitation or an answer).
    void qc.invalidateQueries({ queryKey: ['calendar'] });
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
    // A reconnection without a resume point (the server restarted before any event): refresh what is
    // on screen. With one, the server replays what was missed, or says `resync`.
    if (everConnected && lastSeq === null) void qc.invalidateQueries();
    notify({ type: 'open', reconnect: everConnected });
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
    if (isEvent(msg)) {
      if (typeof msg.seq === 'number' && (lastSeq === null || msg.seq > lastSeq)) lastSeq = msg.seq;
      invalidateFor(qc, msg.topic);
      notify({ type: 'event', seq: msg.seq, topic: msg.topic, data: msg.data });
      return;
    }
    const m = msg as { type?: unknown; seq?: unknown; topic?: unknown; data?: unknown };
    if (m.type === 'hello' && typeof m.seq === 'number' && lastSeq === null) lastSeq = m.seq;
    else if (m.type === 'resync') {
      void qc.invalidateQueries();
      notify({ type: 'resync' });
    } else if (m.type === 'resumed') notify({ type: 'resumed' });
    else if (m.type === 'signal' && typeof m.topic === 'string') notify({ type: 'signal', topic: m.topic, data: m.data });
  };
  ws.onclose = () => {
    if (socket === ws) socket = null;
    if (keepAlive) clearInterval(keepAlive);
    keepAlive = null;
    notify({ type: 'closed' });
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

/** Back online (the browser says so): reconnect now rather than at the end of the backoff. */
let onOnline: (() => void) | null = null;

export function startRealtime(qc: QueryClient): void {
  if (running) return;
  running = true;
  attempts = 0;
  everConnected = false;
  lastSeq = null;
  onOnline = () => {
    if (!running || socket) return;
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
    attempts = 0;
    connect(qc);
  };
  window.addEventListener('online', onOnline);
  connect(qc);
}

export function stopRealtime(): void {
  running = false;
  clearTimers();
  if (onOnline) window.removeEventListener('online', onOnline);
  onOnline = null;
  if (socket) {
    const s = socket;
    socket = null;
    s.onclose = null;
    s.close();
  }
}
