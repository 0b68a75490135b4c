/**
 * The chat side of the realtime socket: applies chat events to what is on screen (re-reading the
 * message by id, as event payloads carry ids only), typing and presence signals, catching up after a
 * reconnection, and browser notifications for mentions and direct messages while the tab is hidden.
 */
import { useEffect, useSyncExternalStore } from 'react';
import type { QueryClient } from '@tanstack/react-query';
import { sendRealtime, subscribeRealtime, type RealtimeFrame } from '../../app/realtime';
import { navigate } from '../../app/router';
import { chatApi, chatKeys, channelTitle, type Channel, type Presence } from './api';
import { catchUp, channelState, loadedChannels, presenceOf, forgetChannel, noteTyping, refreshMessage, refreshPresence, reloadLatest, setPresenceOf, staleChannels, stopTyping } from './store';

type Data = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

// ---- browser notifications (a choice of this device, asked from a settings toggle) -----------------

const NOTIFY_KEY = 'bastide.chat.notify';
const notifyListeners = new Set<() => void>();

export function notificationsSupported(): boolean {
  return typeof window !== 'undefined' && 'Notification' in window;
}

function readNotify(): boolean {
  try {
    return localStorage.getItem(NOTIFY_KEY) === '1' && notificationsSupported() && Notification.permission === 'granted';
  } catch {
    return false;
  }
}

export function useNotifyPref(): boolean {
  return useSyncExternalStore(
    (l) => {
      notifyListeners.add(l);
      return () => notifyListeners.delete(l);
    },
    readNotify,
  );
}

/** Turns browser notifications on (asking the browser's permission) or off; returns the new state. */
export async function setNotifyPref(on: boolean): Promise<boolean> {
  let ok = on;
  if (on) {
    if (!notificationsSupported()) ok = false;
    else if (Notification.permission !== 'granted') ok = (await Notification.requestPermission()) === 'granted';
  }
  try {
    localStorage.setItem(NOTIFY_KEY, ok ? '1' : '0');
  } catch {
    /* ignore */
  }
  for (const l of notifyListeners) l();
  return ok;
}

async function maybeNotify(qc: QueryClient, meId: string, channelId: string, messageId: string, mentions: number): Promise<void> {
  if (!document.hidden || !readNotify()) return;
  // Do not disturb silences the browser; so do a muted channel and the level "nothing".
  if (presenceOf(meId) === 'dnd') return;
  const channel = qc.getQueryData<Channel[]>(chatKeys.channels)?.find((c) => c.id === channelId);
  const direct = channel?.kind === 'dm' || channel?.kind === 'group';
  const level = channel?.notify?.level ?? 'mentions';
  if (channel?.notify?.muted || level === 'none') return;
  // The event says how many people were mentioned, not who: the message says whether it is me.
  if (level !== 'all' && !direct && mentions === 0) return;
  const m = await chatApi.message(messageId).catch(() => null);
  if (!m || m.author?.id === meId || m.deleted) return;
  if (level !== 'all' && !direct && !m.mentionsMe) return;
  const who = m.author?.displayName ?? m.bot?.name ?? '';
  const where = channel ? channelTitle(channel, meId) : '';
  const n = new Notification(direct ? who : `${who} · ${where}`, { body: m.text.slice(0, 200), tag: m.id });
  n.onclick = () => {
    window.focus();
    navigate(`/chat/${channelId}?m=${m.rootId ?? m.id}`);
    n.close();
  };
}

// ---- events --------------------------------------------------------------------------------------

let channelsTimer: ReturnType<typeof setTimeout> | null = null;
function refreshChannels(qc: QueryClient): void {
  if (channelsTimer) return;
  channelsTimer = setTimeout(() => {
    channelsTimer = null;
    void qc.invalidateQueries({ queryKey: chatKeys.channels });
  }, 120);
}

export function applyFrame(qc: QueryClient, meId: string, f: RealtimeFrame): void {
  if (f.type === 'signal') {
    const d = (f.data ?? {}) as Data;
    if (f.topic === 'chat.typing') {
      const channelId = str(d.channelId);
      const userId = str(d.userId);
      if (channelId && userId && userId !== meId) noteTyping(channelId, userId, str(d.rootId));
    } else if (f.topic === 'chat.presence' && Array.isArray(d.users)) {
      setPresenceOf((d.users as { userId?: unknown; status?: unknown }[]).filter((u) => typeof u.userId === 'string' && typeof u.status === 'string') as { userId: string; status: Presence }[]);
    }
    return;
  }
  if (f.type === 'open' || f.type === 'resync') {
    if (f.type === 'resync' || f.reconnect) {
      // Whatever was missed and not replayed: re-read the open windows and the lists.
      void qc.invalidateQueries({ queryKey: chatKeys.all });
      for (const id of loadedChannels()) void catchUp(id);
      refreshPresence();
    }
    return;
  }
  if (f.type !== 'event' || !f.topic.startsWith('chat.')) return;
  const d = (f.data ?? {}) as Data;
  const channelId = str(d.channelId);
  const messageId = str(d.messageId);
  const rootId = str(d.rootId);
  switch (f.topic) {
    case 'chat.message.created':
      if (!channelId || !messageId) return;
      refreshChannels(qc);
      if (rootId) {
        void qc.invalidateQueries({ queryKey: chatKeys.thread(rootId) });
        void qc.invalidateQueries({ queryKey: chatKeys.threads });
        void refreshMessage(channelId, rootId);
      } else if (channelState(channelId)) {
        void refreshMessage(channelId, messageId).then((m) => m?.author && stopTyping(channelId, m.author.id, null));
      }
      void maybeNotify(qc, meId, channelId, messageId, typeof d.mentions === 'number' ? d.mentions : Array.isArray(d.mentions) ? d.mentions.length : 0);
      return;
    case 'chat.message.updated':
    case 'chat.message.deleted':
    case 'chat.reaction.changed':
    case 'chat.pin.changed':
      if (!channelId || !messageId) return;
      if (rootId) {
        void qc.invalidateQueries({ queryKey: chatKeys.thread(rootId) });
        void qc.invalidateQueries({ queryKey: chatKeys.threads });
        if (f.topic === 'chat.message.deleted') void refreshMessage(channelId, rootId);
      } else {
        if (channelState(channelId)) void refreshMessage(channelId, messageId);
        void qc.invalidateQueries({ queryKey: chatKeys.thread(messageId) });
      }
      if (f.topic === 'chat.pin.changed') void qc.invalidateQueries({ queryKey: chatKeys.pins(channelId) });
      if (f.topic === 'chat.message.deleted') refreshChannels(qc);
      return;
    case 'chat.read.changed':
      refreshChannels(qc);
      if (rootId) void qc.invalidateQueries({ queryKey: chatKeys.threads });
      return;
    case 'chat.channel.pruned':
      if (channelId && channelState(channelId)) void reloadLatest(channelId);
      refreshChannels(qc);
      return;
    case 'chat.member.removed':
      if (channelId && str(d.userId) === meId) forgetChannel(channelId);
      if (channelId) void qc.invalidateQueries({ queryKey: chatKeys.members(channelId) });
      refreshChannels(qc);
      return;
    default:
      // channel created/updated, member added/changed
      if (channelId) {
        void qc.invalidateQueries({ queryKey: chatKeys.channel(channelId) });
        void qc.invalidateQueries({ queryKey: chatKeys.members(channelId) });
      }
      refreshChannels(qc);
  }
}

/** Wires the socket to the chat while the chat app is open. */
export function useChatRealtime(qc: QueryClient, meId: string): void {
  useEffect(() => {
    const off = subscribeRealtime((f) => applyFrame(qc, meId, f));
    const online = () => {
      for (const id of staleChannels()) void catchUp(id);
      void qc.invalidateQueries({ queryKey: chatKeys.channels });
    };
    window.addEventListener('online', online);
    return () => {
      off();
      window.removeEventListener('online', online);
    };
  }, [qc, meId]);
}

// ---- typing (outgoing) ---------------------------------------------------------------------------

let lastTypingSent = 0;
let lastTypingKey = '';
/** "I am typing": at most one frame every 3 s per channel/thread. */
export function sendTyping(channelId: string, rootId: string | null): void {
  const key = `${channelId}/${rootId ?? ''}`;
  const now = Date.now();
  if (key === lastTypingKey && now - lastTypingSent < 3000) return;
  lastTypingKey = key;
  lastTypingSent = now;
  sendRealtime(rootId ? { type: 'typing', channelId, rootId } : { type: 'typing', channelId });
}

export function resetTyping(): void {
  lastTypingSent = 0;
}
