import { AppError } from '../../errors.js';
import type { BusEvent } from '../../platform/bus/types.js';
import type { Platform } from '../../platform/module.js';
import { realtimeExtensions, type FrameContext } from '../../protocols/realtime/ws.js';
import { onScheduledDnd } from './dnd.js';
import { channelMemberIds } from './repo.js';

/**
 * Chat on the realtime socket: the `chat:<channelId>` audience (the channel's members, resolved at
 * delivery time, so someone removed receives nothing more), typing indicators and presence (signals:
 * fanned out over the bus to every node, never stored in the outbox, not resumable).
 */
export const PRESENCE = ['online', 'away', 'dnd'] as const;
export type PresenceStatus = (typeof PRESENCE)[number] | 'offline';

/** A user whose sockets all closed more than this long ago (and no node touched them since) is offline. */
export const PRESENCE_STALE_MS = 90_000;
const TOUCH_EVERY_MS = 30_000;
const TYPING_EVERY_MS = 2_000;
const PRESENCE_EVERY_MS = 2_000;
const CACHE_TTL_MS = 60_000;
const ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

interface State {
  members: Map<string, { set: ReadonlySet<string>; at: number }>;
  generation: number;
  connected: Map<string, number>;
  lastTyping: Map<string, number>;
  lastPresence: Map<string, number>;
  /** Presence changes waiting for the next batch (one signal per second per node, not one per socket). */
  pendingPresence: Map<string, PresenceStatus>;
  flushTimer?: NodeJS.Timeout | undefined;
  timer?: NodeJS.Timeout;
}

const states = new WeakMap<Platform, State>();

function state(platform: Platform): State {
  let s = states.get(platform);
  if (!s) {
    s = { members: new Map(), generation: 0, connected: new Map(), lastTyping: new Map(), lastPresence: new Map(), pendingPresence: new Map() };
    states.set(platform, s);
  }
  return s;
}

/** Forgets cached memberships (after a membership change here or on another node, or a bus resync). */
export function invalidateMembers(platform: Platform, channelId?: string): void {
  const s = state(platform);
  s.generation++;
  if (channelId) s.members.delete(channelId);
  else s.members.clear();
}

/** Topics after which cached channel memberships may be wrong. */
export const MEMBERSHIP_TOPICS = /^(chat\.channel\.|chat\.member\.|spaces\.member\.|spaces\.space\.deleted|identity\.user\.deleted)/;

export function onMembershipEvent(platform: Platform, topic: string, data: Record<string, unknown>): void {
  if (!MEMBERSHIP_TOPICS.test(topic)) return;
  if (topic.startsWith('chat.') && typeof data.channelId === 'string') invalidateMembers(platform, data.channelId);
  else invalidateMembers(platform);
}

/** The channel's members now (cached for a minute, invalidated by membership events). */
export function channelMembers(platform: Platform, channelId: string): ReadonlySet<string> | Promise<ReadonlySet<string>> {
  const s = state(platform);
  const hit = s.members.get(channelId);
  if (hit && Date.now() - hit.at < CACHE_TTL_MS) return hit.set;
  const gen = s.generation;
  return channelMemberIds(platform.db, channelId).then((ids) => {
    const set = new Set(ids);
    if (s.generation === gen) s.members.set(channelId, { set, at: Date.now() });
    return set;
  });
}

async function publishSignal(platform: Platform, topic: string, data: Record<string, unknown>, audience: string[]): Promise<void> {
  await platform.bus.publish({ seq: 0, topic, data, audience, at: platform.clock.now() });
}

const PRESENCE_BATCH_MS = 1000;
/** Users per presence signal (keeps each under the bus payload limit). */
const PRESENCE_PER_SIGNAL = 100;

/** Queues a presence change; changes are sent in batches: {users: [{userId, status}]}. */
function queuePresence(platform: Platform, userId: string, status: PresenceStatus): void {
  const s = state(platform);
  s.pendingPresence.set(userId, status);
  if (s.flushTimer) return;
  s.flushTimer = setTimeout(() => {
    s.flushTimer = undefined;
    const changes = [...s.pendingPresence].map(([id, st]) => ({ userId: id, status: st }));
    s.pendingPresence.clear();
    void (async () => {
      for (let i = 0; i < changes.length; i += PRESENCE_PER_SIGNAL) {
        await publishSignal(platform, 'chat.presence', { users: changes.slice(i, i + PRESENCE_PER_SIGNAL) }, ['*']);
      }
    })().catch((err: unknown) => platform.log.warn({ err }, 'chat: presence signal failed'));
  }, PRESENCE_BATCH_MS);
  s.flushTimer.unref();
}

async function typing(ctx: FrameContext, frame: Record<string, unknown>): Promise<void> {
  const { channelId, rootId } = frame;
  if (typeof channelId !== 'string' || !ID.test(channelId) || (rootId !== undefined && (typeof rootId !== 'string' || !ID.test(rootId)))) throw new AppError('bad_request');
  const members = await channelMembers(ctx.platform, channelId);
  if (!members.has(ctx.actor.userId)) throw new AppError('forbidden');
  const s = state(ctx.platform);
  const key = `${ctx.actor.userId}:${channelId}`;
  const now = Date.now();
  // Typing is re-sent by clients every few seconds; more often is dropped quietly.
  if (now - (s.lastTyping.get(key) ?? 0) < TYPING_EVERY_MS) return;
  s.lastTyping.set(key, now);
  if (s.lastTyping.size > 10_000) s.lastTyping.clear();
  await publishSignal(ctx.platform, 'chat.typing', { channelId, userId: ctx.actor.userId, ...(rootId ? { rootId } : {}) }, [`chat:${channelId}`]);
}

/** Sets a user's chosen status (online, away, dnd) and tells everyone signed in. */
export async function setPresence(platform: Platform, userId: string, status: (typeof PRESENCE)[number]): Promise<void> {
  const s = state(platform);
  const now = Date.now();
  if (now - (s.lastPresence.get(userId) ?? 0) < PRESENCE_EVERY_MS) throw new AppError('rate_limited');
  s.lastPresence.set(userId, now);
  if (s.lastPresence.size > 10_000) s.lastPresence.clear();
  const at = platform.clock.now();
  await platform.db
    .insertInto('chat_presence')
    .values({ user_id: userId, status, updated_at: at })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ status, updated_at: at }))
    .execute();
  queuePresence(platform, userId, status);
}

async function presenceFrame(ctx: FrameContext, frame: Record<string, unknown>): Promise<void> {
  const status = frame.status;
  if (typeof status !== 'string' || !(PRESENCE as readonly string[]).includes(status)) throw new AppError('bad_request');
  await setPresence(ctx.platform, ctx.actor.userId, status as (typeof PRESENCE)[number]);
}

/** The effective status of users: their chosen one while connected somewhere, else offline. */
export async function presenceOf(platform: Platform, userIds: string[]): Promise<Map<string, PresenceStatus>> {
  const out = new Map<string, PresenceStatus>();
  for (const id of userIds) out.set(id, 'offline');
  if (userIds.length === 0) return out;
  const rows = await platform.db.selectFrom('chat_presence').selectAll().where('user_id', 'in', userIds).execute();
  const now = platform.clock.now();
  const s = state(platform);
  for (const r of rows) {
    const live = (s.connected.get(r.user_id) ?? 0) > 0 || Number(r.updated_at) > now - PRESENCE_STALE_MS;
    if (live && r.status !== 'offline') out.set(r.user_id, r.status as PresenceStatus);
  }
  for (const id of userIds) if (out.get(id) === 'offline' && (s.connected.get(id) ?? 0) > 0) out.set(id, 'online');
  // A do-not-disturb schedule that holds now reads as dnd (for people who are not offline).
  const present = userIds.filter((id) => out.get(id) !== 'offline' && out.get(id) !== 'dnd');
  for (const id of await onScheduledDnd(platform.db, present, now)) out.set(id, 'dnd');
  return out;
}

/** Marks a user seen now (keeping the status they chose). */
async function touch(platform: Platform, userId: string): Promise<void> {
  const now = platform.clock.now();
  await platform.db
    .insertInto('chat_presence')
    .values({ user_id: userId, status: 'online', updated_at: now })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ updated_at: now }))
    .execute();
}

/** Registers the chat audience, the client frames and presence tracking with the realtime socket. */
export function registerRealtime(platform: Platform): void {
  const ext = realtimeExtensions(platform);
  ext.audiences.set('chat:', (channelId) => channelMembers(platform, channelId));
  ext.frames.set('typing', typing);
  ext.frames.set('presence', presenceFrame);
  const s = state(platform);
  ext.connectionListeners.push((userId, open, n) => {
    if (n > 0) s.connected.set(userId, n);
    else s.connected.delete(userId);
    if (open && n === 1) {
      void touch(platform, userId)
        .then(async () => {
          queuePresence(platform, userId, (await presenceOf(platform, [userId])).get(userId) ?? 'online');
        })
        .catch((err: unknown) => platform.log.warn({ err }, 'chat: presence update failed'));
    }
    if (!open && n === 0) {
      void platform.db
        .updateTable('chat_presence')
        .set({ updated_at: 0 })
        .where('user_id', '=', userId)
        .execute()
        .then(() => queuePresence(platform, userId, 'offline'))
        .catch((err: unknown) => platform.log.warn({ err }, 'chat: presence update failed'));
    }
  });
  // Users connected to this node stay "seen" for the other nodes.
  s.timer = setInterval(() => {
    const ids = [...s.connected.keys()];
    void (async () => {
      // Rows exist since the first connection; one statement per 500 users.
      for (let i = 0; i < ids.length; i += 500) {
        await platform.db.updateTable('chat_presence').set({ updated_at: platform.clock.now() }).where('user_id', 'in', ids.slice(i, i + 500)).execute();
      }
    })().catch(() => undefined);
  }, TOUCH_EVERY_MS);
  s.timer.unref();
  platform.onCommit((events) => {
    for (const e of events) onMembershipEvent(platform, e.topic, e.data);
  });
  platform.onBusResync(() => invalidateMembers(platform));
}

export function membershipConsumer(e: BusEvent, platform: Platform): void {
  onMembershipEvent(platform, e.topic, e.data);
}
