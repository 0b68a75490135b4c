/**
 * Client state of the chat that the socket keeps current: the loaded window of each channel's
 * messages (kept sorted by id and de-duplicated by id, so a replayed or doubled event never shows a
 * message twice), typing indicators and presence. Server state that is simply re-read (channel list,
 * threads, members) stays in TanStack Query.
 */
import { useSyncExternalStore } from 'react';
import { ApiError } from '../../app/api';
import { chatApi, type Message, type Presence } from './api';

// ---- a tiny observable ---------------------------------------------------------------------------

type Listener = () => void;
function observable() {
  const listeners = new Set<Listener>();
  return {
    subscribe(l: Listener) {
      listeners.add(l);
      return () => void listeners.delete(l);
    },
    emit() {
      for (const l of listeners) l();
    },
  };
}

// ---- messages of a channel -----------------------------------------------------------------------

export interface ChannelMessages {
  items: Message[];
  hasMoreBefore: boolean;
  hasMoreAfter: boolean;
  status: 'loading' | 'ready' | 'error';
  error: unknown;
  loadingOlder: boolean;
  loadingNewer: boolean;
  /** Bumped when the window was replaced (jump, permalink): the view re-anchors its scroll. */
  generation: number;
}

const PAGE = 50;
const channels = new Map<string, ChannelMessages>();
const channelObs = observable();
/** Channels whose last refresh failed (offline): caught up when the network is back. */
const stale = new Set<string>();

function set(id: string, next: ChannelMessages): void {
  channels.set(id, next);
  channelObs.emit();
}

const EMPTY: ChannelMessages = { items: [], hasMoreBefore: false, hasMoreAfter: false, status: 'loading', error: null, loadingOlder: false, loadingNewer: false, generation: 0 };

export function useChannelMessages(channelId: string): ChannelMessages {
  return useSyncExternalStore(channelObs.subscribe, () => channels.get(channelId) ?? EMPTY);
}

export function channelState(channelId: string): ChannelMessages | undefined {
  return channels.get(channelId);
}

/** Merges messages into a sorted, de-duplicated list (a server copy replaces any older copy). */
export function mergeMessages(list: Message[], incoming: Message[]): Message[] {
  if (incoming.length === 0) return list;
  const byId = new Map(list.map((m) => [m.id, m]));
  for (const m of incoming) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => (a.pending === b.pending ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.pending ? 1 : -1));
}

async function loadWindow(channelId: string, cursor: { around?: string }): Promise<void> {
  const prev = channels.get(channelId);
  set(channelId, { ...(prev ?? EMPTY), status: prev?.items.length ? prev.status : 'loading', error: null });
  try {
    const page = await chatApi.messages(channelId, { ...cursor, limit: PAGE });
    const pending = (channels.get(channelId)?.items ?? []).filter((m) => m.pending);
    set(channelId, {
      ...EMPTY,
      items: mergeMessages(page.items, page.hasMoreAfter ? [] : pending),
      hasMoreBefore: page.hasMoreBefore,
      hasMoreAfter: page.hasMoreAfter,
      status: 'ready',
      generation: (prev?.generation ?? 0) + 1,
    });
    stale.delete(channelId);
  } catch (e) {
    set(channelId, { ...(channels.get(channelId) ?? EMPTY), status: 'error', error: e });
  }
}

/** Loads the latest page (or the page around a message) unless it is already there. */
export function openChannel(channelId: string, around?: string): void {
  const s = channels.get(channelId);
  if (around) {
    if (s?.status === 'ready' && s.items.some((m) => m.id === around)) return;
    void loadWindow(channelId, { around });
    return;
  }
  if (!s || s.status === 'error') void loadWindow(channelId, {});
  else if (stale.has(channelId) || s.status === 'ready') void catchUp(channelId);
}

export function reloadLatest(channelId: string): Promise<void> {
  return loadWindow(channelId, {});
}

export function jumpTo(channelId: string, around: string): Promise<void> {
  return loadWindow(channelId, { around });
}

export async function loadOlder(channelId: string): Promise<number> {
  const s = channels.get(channelId);
  const first = s?.items.find((m) => !m.pending);
  if (!s || s.loadingOlder || !s.hasMoreBefore || !first) return 0;
  set(channelId, { ...s, loadingOlder: true });
  try {
    const page = await chatApi.messages(channelId, { before: first.id, limit: PAGE });
    const cur = channels.get(channelId) ?? s;
    set(channelId, { ...cur, items: mergeMessages(cur.items, page.items), hasMoreBefore: page.hasMoreBefore, loadingOlder: false });
    return page.items.length;
  } catch {
    set(channelId, { ...(channels.get(channelId) ?? s), loadingOlder: false });
    return 0;
  }
}

export async function loadNewer(channelId: string): Promise<void> {
  const s = channels.get(channelId);
  const last = [...(s?.items ?? [])].reverse().find((m) => !m.pending);
  if (!s || s.loadingNewer || !s.hasMoreAfter || !last) return;
  set(channelId, { ...s, loadingNewer: true });
  try {
    const page = await chatApi.messages(channelId, { after: last.id, limit: PAGE });
    const cur = channels.get(channelId) ?? s;
    set(channelId, { ...cur, items: mergeMessages(cur.items, page.items), hasMoreAfter: page.hasMoreAfter, loadingNewer: false });
  } catch {
    set(channelId, { ...(channels.get(channelId) ?? s), loadingNewer: false });
  }
}

/**
 * After a reconnection or an error: fetches what came after the newest message held, and re-reads the
 * latest page (edits, reactions and deletions missed meanwhile). Merging by id: nothing doubles.
 */
export async function catchUp(channelId: string): Promise<void> {
  const s = channels.get(channelId);
  if (!s || s.status !== 'ready' || s.hasMoreAfter) {
    if (s?.status === 'error') await loadWindow(channelId, {});
    return;
  }
  try {
    const latest = await chatApi.messages(channelId, { limit: PAGE });
    let cur = channels.get(channelId) ?? s;
    const lastHeld = [...cur.items].reverse().find((m) => !m.pending);
    // A gap between what is held and the latest page: start again from the latest page.
    if (latest.hasMoreBefore && lastHeld && latest.items[0] && latest.items[0].id > lastHeld.id) {
      const pending = cur.items.filter((m) => m.pending);
      set(channelId, { ...EMPTY, items: mergeMessages(latest.items, pending), hasMoreBefore: true, status: 'ready', generation: cur.generation + 1 });
    } else {
      cur = channels.get(channelId) ?? s;
      set(channelId, { ...cur, items: mergeMessages(cur.items, latest.items) });
    }
    stale.delete(channelId);
  } catch {
    stale.add(channelId);
  }
}

/** Inserts or replaces one message of the loaded window (only where the window reaches the present). */
export function upsertMessage(m: Message): void {
  if (m.rootId) return;
  const s = channels.get(m.channelId);
  if (!s || s.status !== 'ready') return;
  const known = s.items.some((x) => x.id === m.id);
  if (!known) {
    if (s.hasMoreAfter) return;
    const first = s.items.find((x) => !x.pending);
    if (first && m.id < first.id && s.hasMoreBefore) return;
  }
  set(m.channelId, { ...s, items: mergeMessages(s.items, [m]) });
}

export function removeMessage(channelId: string, id: string): void {
  const s = channels.get(channelId);
  if (!s || !s.items.some((m) => m.id === id)) return;
  set(channelId, { ...s, items: s.items.filter((m) => m.id !== id) });
}

/** Shows a message being sent (the user's own, optimistic) at the end of the channel. */
export function addPending(m: Message): void {
  const s = channels.get(m.channelId);
  if (!s || s.hasMoreAfter) return;
  set(m.channelId, { ...s, items: mergeMessages(s.items, [m]) });
}

/** The send finished: the placeholder goes, the server's message (if any) takes its place. */
export function settlePending(channelId: string, tempId: string, real: Message | null): void {
  const s = channels.get(channelId);
  if (!s) return;
  const items = s.items.filter((m) => m.id !== tempId);
  set(channelId, { ...s, items: real && !real.rootId && !s.hasMoreAfter ? mergeMessages(items, [real]) : items });
}

/** Re-reads one message and puts it in place (an edit, a reaction, a pin, a new reply count). */
export async function refreshMessage(channelId: string, id: string): Promise<Message | null> {
  try {
    const m = await chatApi.message(id);
    upsertMessage(m);
    return m;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) removeMessage(channelId, id);
    else stale.add(channelId);
    return null;
  }
}

/** Every channel with a loaded window (caught up after a reconnection). */
export function loadedChannels(): string[] {
  return [...channels.keys()];
}

/** Channels to catch up once the network is back. */
export function staleChannels(): string[] {
  return [...stale];
}

export function forgetChannel(channelId: string): void {
  channels.delete(channelId);
  stale.delete(channelId);
  channelObs.emit();
}

// ---- typing --------------------------------------------------------------------------------------

const typing = new Map<string, Map<string, number>>();
const typingObs = observable();
let typingTimer: ReturnType<typeof setInterval> | null = null;
const TYPING_MS = 6000;

function typingKey(channelId: string, rootId: string | null | undefined): string {
  return `${channelId}/${rootId ?? ''}`;
}

export function noteTyping(channelId: string, userId: string, rootId: string | null | undefined): void {
  const key = typingKey(channelId, rootId);
  const m = new Map(typing.get(key) ?? []);
  m.set(userId, Date.now() + TYPING_MS);
  typing.set(key, m);
  typingObs.emit();
  typingTimer ??= setInterval(sweepTyping, 1000);
}

export function stopTyping(channelId: string, userId: string, rootId: string | null | undefined): void {
  const key = typingKey(channelId, rootId);
  const cur = typing.get(key);
  if (!cur?.has(userId)) return;
  const m = new Map(cur);
  m.delete(userId);
  typing.set(key, m);
  typingObs.emit();
}

function sweepTyping(): void {
  const now = Date.now();
  let changed = false;
  for (const [k, m] of typing) {
    for (const [u, until] of m) {
      if (until <= now) {
        const next = new Map(m);
        next.delete(u);
        typing.set(k, next);
        changed = true;
      }
    }
    if (typing.get(k)?.size === 0) typing.delete(k);
  }
  if (typing.size === 0 && typingTimer) {
    clearInterval(typingTimer);
    typingTimer = null;
  }
  if (changed) typingObs.emit();
}

const NO_TYPING = new Map<string, number>();
export function useTyping(channelId: string, rootId: string | null): ReadonlyMap<string, number> {
  return useSyncExternalStore(typingObs.subscribe, () => typing.get(typingKey(channelId, rootId)) ?? NO_TYPING);
}

// ---- presence ------------------------------------------------------------------------------------

let presence = new Map<string, Presence>();
const presenceObs = observable();
const asked = new Set<string>();
let askTimer: ReturnType<typeof setTimeout> | null = null;
const wanted = new Set<string>();

export function setPresenceOf(items: { userId: string; status: Presence }[]): void {
  if (items.length === 0) return;
  presence = new Map(presence);
  for (const i of items) presence.set(i.userId, i.status);
  presenceObs.emit();
}

/** Asks the server (batched) for the status of people not known yet. */
export function wantPresence(userIds: string[]): void {
  for (const id of userIds) if (!asked.has(id)) wanted.add(id);
  if (wanted.size === 0 || askTimer) return;
  askTimer = setTimeout(() => {
    askTimer = null;
    const ids = [...wanted].slice(0, 200);
    for (const id of ids) {
      wanted.delete(id);
      asked.add(id);
    }
    chatApi.presence(ids).then(setPresenceOf, () => ids.forEach((id) => asked.delete(id)));
  }, 50);
}

/** After a reconnection, statuses may have changed unseen: ask again for everyone shown. */
export function refreshPresence(): void {
  const ids = [...asked];
  asked.clear();
  wantPresence(ids);
}

export function presenceOf(userId: string): Presence | undefined {
  return presence.get(userId);
}

export function usePresenceMap(): ReadonlyMap<string, Presence> {
  return useSyncExternalStore(presenceObs.subscribe, () => presence);
}
