import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { AppError } from '../../errors.js';
import { newId } from '../../platform/ids.js';
import type { Tx } from '../../platform/db/index.js';
import type { Actor, Emit, Platform } from '../../platform/module.js';
import { requireUser, type UserActor } from '../../platform/policy.js';
import { channelResource, type ChannelKind, type ChannelResource, type MentionAll, type Visibility } from './policy.js';
import { channelMemberIds, followThread, getChannel, markChannelRead } from './repo.js';
import { queueOutgoing } from './outgoing.js';
import { linksIn, queuePreviews } from './previews.js';
import { presenceOf } from './realtime.js';

/**
 * Chat commands: each one authorizes through platform.policy, then does its work in one transaction that
 * writes the audit entry (moderation and settings) and the events (audience: the channel's members).
 */
export interface ChatContext {
  platform: Platform;
  actor: Actor;
  ip?: string | undefined;
}

/** Markdown source of one message: at most this many characters. */
export const MAX_MESSAGE_CHARS = 16_000;
export const MAX_DM_PEOPLE = 9;
const DAY = 24 * 3600 * 1000;

export const audienceOf = (channelId: string): string[] => [`chat:${channelId}`];

// ---------------------------------------------------------------------------------------------------
// Rate limit: per user, per node (token bucket). One flooding client is slowed; others are unaffected.

const POST_BURST = 30;
const POST_PER_S = 5;
const buckets = new WeakMap<Platform, Map<string, { tokens: number; at: number }>>();

export function takeToken(platform: Platform, key: string, burst = POST_BURST, perS = POST_PER_S): void {
  let m = buckets.get(platform);
  if (!m) buckets.set(platform, (m = new Map()));
  const now = Date.now();
  const b = m.get(key) ?? { tokens: burst, at: now };
  b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perS);
  b.at = now;
  if (b.tokens < 1) {
    m.set(key, b);
    throw new AppError('rate_limited');
  }
  b.tokens -= 1;
  if (m.size > 50_000) m.clear();
  m.set(key, b);
}

// ---------------------------------------------------------------------------------------------------
// Loading and authorizing

/** Loads the channel and checks `action`; channels one may not see answer 404, not 403. */
export async function authorizeChannel(ctx: ChatContext, channelId: string, action: string): Promise<ChannelResource> {
  const r = await channelResource(ctx.platform.db, channelId, ctx.actor);
  if (!r || !(await ctx.platform.policy.can(ctx.actor, 'see', r))) throw new AppError('not_found');
  await ctx.platform.policy.authorize(ctx.actor, action, r);
  return r;
}

export type MessageRow = NonNullable<Awaited<ReturnType<typeof loadMessage>>>;

export async function loadMessage(db: Platform['db'] | Tx, id: string) {
  return db.selectFrom('chat_messages').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The message and its channel, checking `action` on the channel. */
export async function authorizeMessage(ctx: ChatContext, messageId: string, action: string): Promise<{ msg: MessageRow; channel: ChannelResource }> {
  const msg = await loadMessage(ctx.platform.db, messageId);
  if (!msg) throw new AppError('not_found');
  const channel = await channelResource(ctx.platform.db, msg.channel_id, ctx.actor);
  // A message of a channel one does not read does not exist for them.
  if (!channel || !(await ctx.platform.policy.can(ctx.actor, 'read', channel))) throw new AppError('not_found');
  await ctx.platform.policy.authorize(ctx.actor, action, channel);
  return { msg, channel };
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

export function cleanName(n: string, field = '/name'): string {
  const v = n.replace(CONTROL, '').replace(/\s+/g, ' ').trim().slice(0, 80);
  if (!v) throw new AppError('validation_failed', { fields: [{ path: field, message: 'required' }] });
  return v;
}

/** Message text: control characters (but tab and newlines) removed; not empty; bounded. */
export function cleanText(t: string): string {
  const v = t.replace(/\r\n?/g, '\n').replace(CONTROL, '');
  if (v.trim().length === 0) throw new AppError('validation_failed', { fields: [{ path: '/text', message: 'empty' }] });
  if (v.length > MAX_MESSAGE_CHARS) throw new AppError('payload_too_large', { maxChars: MAX_MESSAGE_CHARS });
  return v;
}

// ---------------------------------------------------------------------------------------------------
// Channels

async function assertNameFree(trx: Tx, kind: ChannelKind, spaceId: string | null, name: string, exceptId?: string): Promise<void> {
  let q = trx
    .selectFrom('chat_channels')
    .select('id')
    .where('kind', '=', kind)
    .where(sql<boolean>`lower(name) = ${name.toLowerCase()}`)
    .where('archived', '=', 0);
  q = spaceId ? q.where('space_id', '=', spaceId) : q.where('space_id', 'is', null);
  if (exceptId) q = q.where('id', '!=', exceptId);
  if (await q.executeTakeFirst()) throw new AppError('name_taken');
}

export async function createChannel(
  ctx: ChatContext,
  input: { kind: 'org' | 'space'; spaceId?: string | undefined; name: string; topic?: string | undefined; visibility: Visibility },
): Promise<string> {
  const me = requireUser(ctx.actor);
  const { platform } = ctx;
  let spaceRole: string | null = null;
  if (input.kind === 'space') {
    if (!input.spaceId) throw new AppError('validation_failed', { fields: [{ path: '/spaceId', message: 'required' }] });
    const s = await platform.db.selectFrom('spaces').select(['id', 'archived']).where('id', '=', input.spaceId).executeTakeFirst();
    const m = s ? await platform.db.selectFrom('space_members').select('role').where('space_id', '=', s.id).where('user_id', '=', me.userId).executeTakeFirst() : undefined;
    if (!s || !m) throw new AppError('not_found');
    spaceRole = m.role;
    if (s.archived === 1) throw new AppError('conflict', { reason: 'space_archived' });
  } else if (input.spaceId) {
    throw new AppError('validation_failed', { fields: [{ path: '/spaceId', message: 'only for space channels' }] });
  }
  await platform.policy.authorize(ctx.actor, 'create', { type: 'chat-channel', kind: input.kind, spaceRole });
  const name = cleanName(input.name);
  const now = platform.clock.now();
  const id = newId(now);
  await platform.transaction(async (trx, emit) => {
    await assertNameFree(trx, input.kind, input.spaceId ?? null, name);
    await trx
      .insertInto('chat_channels')
      .values({
        id,
        kind: input.kind,
        visibility: input.visibility,
        space_id: input.kind === 'space' ? input.spaceId! : null,
        name,
        topic: (input.topic ?? '').replace(CONTROL, '').trim().slice(0, 250),
        archived: 0,
        mention_all: 'all',
        retention_days: null,
        dm_key: null,
        created_by: me.userId,
        created_at: now,
        updated_at: now,
        last_message_id: null,
      })
      .execute();
    // The creator manages it (for public space channels the space's managers do too).
    if (input.kind === 'org' || input.visibility === 'private') {
      await trx.insertInto('chat_members').values({ channel_id: id, user_id: me.userId, role: 'manager', joined_at: now }).execute();
    }
    await platform.audit.record(trx, { actor: ctx.actor, action: 'chat.channel.created', targetType: 'chat-channel', targetId: id, ip: ctx.ip, details: { name, kind: input.kind, visibility: input.visibility, spaceId: input.spaceId ?? null } });
    await emit('chat.channel.created', { channelId: id }, audienceOf(id));
  });
  return id;
}

/** Finds or creates the DM (two people, or oneself) or group DM (three to nine) of exactly these people. */
export async function openDm(ctx: ChatContext, otherIds: string[]): Promise<string> {
  const me = requireUser(ctx.actor);
  const { platform } = ctx;
  const people = [...new Set([me.userId, ...otherIds])].sort();
  if (people.length > MAX_DM_PEOPLE) throw new AppError('validation_failed', { fields: [{ path: '/userIds', message: `at most ${MAX_DM_PEOPLE - 1} people` }] });
  const kind: ChannelKind = people.length <= 2 ? 'dm' : 'group';
  await platform.policy.authorize(ctx.actor, 'create', { type: 'chat-channel', kind });
  const users = await platform.db.selectFrom('users').select(['id', 'disabled']).where('id', 'in', people).execute();
  if (users.length !== people.length || users.some((u) => u.disabled === 1 && u.id !== me.userId)) throw new AppError('not_found');
  const key = people.join(',');
  const now = platform.clock.now();
  return platform.transaction(async (trx, emit) => {
    const existing = await trx.selectFrom('chat_channels').select('id').where('dm_key', '=', key).executeTakeFirst();
    const id = existing?.id ?? newId(now);
    if (!existing) {
      await trx
        .insertInto('chat_channels')
        .values({ id, kind, visibility: 'private', space_id: null, name: '', topic: '', archived: 0, mention_all: kind === 'group' ? 'all' : 'none', retention_days: null, dm_key: key, created_by: me.userId, created_at: now, updated_at: now, last_message_id: null })
        .execute();
    }
    const have = new Set((await trx.selectFrom('chat_members').select('user_id').where('channel_id', '=', id).execute()).map((r) => r.user_id));
    const missing = people.filter((p) => !have.has(p));
    for (const userId of missing) await trx.insertInto('chat_members').values({ channel_id: id, user_id: userId, role: 'member', joined_at: now }).execute();
    if (!existing) await emit('chat.channel.created', { channelId: id }, [...audienceOf(id), ...people]);
    else if (missing.length) await emit('chat.member.added', { channelId: id, userIds: missing }, [...audienceOf(id), ...missing]);
    return id;
  });
}

export async function updateChannel(
  ctx: ChatContext,
  channelId: string,
  patch: { name?: string | undefined; topic?: string | undefined; archived?: boolean | undefined; mentionAll?: MentionAll | undefined; retentionDays?: number | null | undefined },
): Promise<void> {
  const r = await authorizeChannel(ctx, channelId, 'manage');
  const { platform } = ctx;
  if ((r.kind === 'dm' || r.kind === 'group') && (patch.retentionDays !== undefined || patch.mentionAll !== undefined || patch.archived !== undefined)) {
    throw new AppError('validation_failed', { fields: [{ path: '/', message: 'not for direct messages' }] });
  }
  if (r.kind === 'dm' && patch.name !== undefined) throw new AppError('validation_failed', { fields: [{ path: '/name', message: 'not for direct messages' }] });
  if (r.archived && patch.archived !== false && (patch.name !== undefined || patch.topic !== undefined)) throw new AppError('conflict', { reason: 'archived' });
  await platform.transaction(async (trx, emit) => {
    const name = patch.name !== undefined ? cleanName(patch.name) : undefined;
    if (name !== undefined && r.kind !== 'group') await assertNameFree(trx, r.kind, r.spaceId, name, channelId);
    await trx
      .updateTable('chat_channels')
      .set({
        ...(name !== undefined ? { name } : {}),
        ...(patch.topic !== undefined ? { topic: patch.topic.replace(CONTROL, '').trim().slice(0, 250) } : {}),
        ...(patch.archived !== undefined ? { archived: patch.archived ? 1 : 0 } : {}),
        ...(patch.mentionAll !== undefined ? { mention_all: patch.mentionAll } : {}),
        ...(patch.retentionDays !== undefined ? { retention_days: patch.retentionDays } : {}),
        updated_at: platform.clock.now(),
      })
      .where('id', '=', channelId)
      .execute();
    await platform.audit.record(trx, { actor: ctx.actor, action: 'chat.channel.updated', targetType: 'chat-channel', targetId: channelId, ip: ctx.ip, details: { ...patch } });
    await emit('chat.channel.updated', { channelId }, audienceOf(channelId));
  });
}

export async function joinChannel(ctx: ChatContext, channelId: string): Promise<void> {
  const me = requireUser(ctx.actor);
  await authorizeChannel(ctx, channelId, 'join');
  const now = ctx.platform.clock.now();
  await ctx.platform.transaction(async (trx, emit) => {
    await trx.insertInto('chat_members').values({ channel_id: channelId, user_id: me.userId, role: 'member', joined_at: now }).onConflict((oc) => oc.columns(['channel_id', 'user_id']).doNothing()).execute();
    await emit('chat.member.added', { channelId, userIds: [me.userId] }, [...audienceOf(channelId), me.userId]);
  });
}

export async function leaveChannel(ctx: ChatContext, channelId: string): Promise<void> {
  const me = requireUser(ctx.actor);
  const r = await authorizeChannel(ctx, channelId, 'leave');
  await removeMembership(ctx, r, me.userId, false);
}

/** Adds a member (or changes their role) in a channel with explicit membership. */
export async function setMember(ctx: ChatContext, channelId: string, userId: string, role: 'manager' | 'member'): Promise<void> {
  const r = await authorizeChannel(ctx, channelId, 'manage');
  const { platform } = ctx;
  if (r.kind === 'dm' || (r.kind === 'space' && r.visibility === 'public')) throw new AppError('conflict', { reason: 'membership_not_explicit' });
  if (r.kind === 'group' && role === 'manager') throw new AppError('validation_failed', { fields: [{ path: '/role', message: 'group DMs have no managers' }] });
  const user = await platform.db.selectFrom('users').select(['id', 'disabled']).where('id', '=', userId).executeTakeFirst();
  if (!user || user.disabled === 1) throw new AppError('not_found');
  if (r.kind === 'space') {
    const inSpace = await platform.db.selectFrom('space_members').select('user_id').where('space_id', '=', r.spaceId!).where('user_id', '=', userId).executeTakeFirst();
    if (!inSpace) throw new AppError('conflict', { reason: 'not_a_space_member' });
  }
  if (r.kind === 'group') {
    const n = await platform.db.selectFrom('chat_members').select((eb) => eb.fn.countAll<number>().as('n')).where('channel_id', '=', channelId).executeTakeFirstOrThrow();
    if (Number(n.n) >= MAX_DM_PEOPLE) throw new AppError('conflict', { reason: 'group_full' });
  }
  const now = platform.clock.now();
  await platform.transaction(async (trx, emit) => {
    const before = await trx.selectFrom('chat_members').select('role').where('channel_id', '=', channelId).where('user_id', '=', userId).executeTakeFirst();
    await trx
      .insertInto('chat_members')
      .values({ channel_id: channelId, user_id: userId, role, joined_at: now })
      .onConflict((oc) => oc.columns(['channel_id', 'user_id']).doUpdateSet({ role }))
      .execute();
    if (r.kind === 'group') await trx.updateTable('chat_channels').set({ dm_key: null }).where('id', '=', channelId).execute();
    await platform.audit.record(trx, { actor: ctx.actor, action: 'chat.member.set', targetType: 'chat-channel', targetId: channelId, ip: ctx.ip, details: { userId, role, before: before?.role ?? null } });
    await emit(before ? 'chat.member.changed' : 'chat.member.added', { channelId, userIds: [userId] }, [...audienceOf(channelId), userId]);
  });
}

export async function removeMember(ctx: ChatContext, channelId: string, userId: string): Promise<void> {
  const me = requireUser(ctx.actor);
  if (userId === me.userId) return leaveChannel(ctx, channelId);
  const r = await authorizeChannel(ctx, channelId, 'manage');
  if (r.kind === 'dm' || r.kind === 'group' || (r.kind === 'space' && r.visibility === 'public')) throw new AppError('conflict', { reason: 'membership_not_explicit' });
  await removeMembership(ctx, r, userId, true);
}

async function removeMembership(ctx: ChatContext, r: ChannelResource, userId: string, byManager: boolean): Promise<void> {
  const { platform } = ctx;
  await platform.transaction(async (trx, emit) => {
    const row = await trx.selectFrom('chat_members').select('role').where('channel_id', '=', r.id).where('user_id', '=', userId).executeTakeFirst();
    if (!row) throw new AppError('not_found');
    if (row.role === 'manager' && r.kind === 'org') {
      const others = await trx
        .selectFrom('chat_members')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('channel_id', '=', r.id)
        .where('role', '=', 'manager')
        .where('user_id', '!=', userId)
        .executeTakeFirstOrThrow();
      const anyone = await trx.selectFrom('chat_members').select('user_id').where('channel_id', '=', r.id).where('user_id', '!=', userId).limit(1).executeTakeFirst();
      // The last manager of a channel that still has members hands over first.
      if (Number(others.n) === 0 && anyone) throw new AppError('conflict', { reason: 'last_manager' });
    }
    await trx.deleteFrom('chat_members').where('channel_id', '=', r.id).where('user_id', '=', userId).execute();
    await trx.deleteFrom('chat_thread_read').where('channel_id', '=', r.id).where('user_id', '=', userId).execute();
    if (r.kind === 'group') await trx.updateTable('chat_channels').set({ dm_key: null }).where('id', '=', r.id).execute();
    if (byManager) await platform.audit.record(trx, { actor: ctx.actor, action: 'chat.member.removed', targetType: 'chat-channel', targetId: r.id, ip: ctx.ip, details: { userId } });
    // The removed person hears it (to drop the channel), then nothing more of the channel.
    await emit('chat.member.removed', { channelId: r.id, userId }, [...audienceOf(r.id), userId]);
  });
}

// ---------------------------------------------------------------------------------------------------
// Messages

const MENTION = /(^|[^\w@./-])@([a-z0-9][a-z0-9._-]{0,62})/gi;

/** The @logins and @channel/@here/@all of a message, outside code spans and blocks. */
export function parseMentions(text: string): { logins: string[]; all: boolean; here: boolean } {
  const plain = text.replace(/```[\s\S]*?(```|$)/g, ' ').replace(/`[^`\n]*`/g, ' ');
  const logins = new Set<string>();
  let all = false;
  let here = false;
  for (const m of plain.matchAll(MENTION)) {
    const login = m[2]!.replace(/[._-]+$/, '').toLowerCase();
    if (login === 'channel' || login === 'all' || login === 'everyone') all = true;
    else if (login === 'here') here = true;
    else if (login) logins.add(login);
  }
  return { logins: [...logins].slice(0, 100), all, here };
}

async function writeMentions(
  ctx: ChatContext,
  trx: Tx,
  r: ChannelResource,
  messageId: string,
  rootId: string | null,
  authorId: string | null,
  text: string,
): Promise<string[]> {
  const { logins, all, here } = parseMentions(text);
  if (!logins.length && !all && !here) return [];
  const members = new Set(await channelMemberIds(trx, r.id));
  const who = new Set<string>();
  if (all || here) {
    if (!(await ctx.platform.policy.can(ctx.actor, 'mention-all', r))) throw new AppError('forbidden', { reason: 'mention_all_not_allowed' });
    if (all) for (const m of members) who.add(m);
    else {
      const p = await presenceOf(ctx.platform, [...members]);
      for (const [id, st] of p) if (st === 'online') who.add(id);
    }
  }
  if (logins.length) {
    const rows = await trx.selectFrom('users').select(['id', 'login']).where(sql<string>`lower(login)`, 'in', logins).execute();
    for (const u of rows) if (members.has(u.id)) who.add(u.id);
  }
  if (authorId) who.delete(authorId);
  const ids = [...who];
  for (let i = 0; i < ids.length; i += 200) {
    await trx
      .insertInto('chat_mentions')
      .values(ids.slice(i, i + 200).map((userId) => ({ message_id: messageId, user_id: userId, channel_id: r.id, root_id: rootId })))
      .onConflict((oc) => oc.columns(['message_id', 'user_id']).doNothing())
      .execute();
  }
  return ids;
}

export interface PostInput {
  text: string;
  rootId?: string | undefined;
  /** Webhook posts: the hook, and the name/emoji/attachments it gave. */
  hook?: { id: string; username: string | null; iconEmoji: string | null; attachments: unknown[] | null } | undefined;
}

/** Posts a message (or a thread reply when rootId is given). */
export async function postMessage(ctx: ChatContext, channelId: string, input: PostInput): Promise<string> {
  const { platform } = ctx;
  let r: ChannelResource;
  let authorId: string | null = null;
  if (input.hook) {
    // The hook's token was checked by the caller; the channel must still accept posts.
    const c = await channelResource(platform.db, channelId, { kind: 'system' });
    if (!c) throw new AppError('not_found');
    if (c.archived) throw new AppError('conflict', { reason: 'archived' });
    r = c;
  } else {
    const me = requireUser(ctx.actor);
    authorId = me.userId;
    r = await authorizeChannel(ctx, channelId, 'post');
    takeToken(platform, `post:${me.userId}`);
  }
  const text = input.hook && input.text.trim() === '' ? input.text : cleanText(input.text);
  let root: MessageRow | undefined;
  if (input.rootId) {
    root = await loadMessage(platform.db, input.rootId);
    if (!root || root.channel_id !== channelId) throw new AppError('not_found');
    if (root.root_id !== null) throw new AppError('validation_failed', { fields: [{ path: '/rootId', message: 'replies go to the thread root' }] });
    if (root.deleted_at !== null) throw new AppError('conflict', { reason: 'root_deleted' });
  }
  const now = platform.clock.now();
  const id = newId(now);
  await platform.transaction(async (trx, emit) => {
    await trx
      .insertInto('chat_messages')
      .values({
        id,
        channel_id: channelId,
        root_id: root?.id ?? null,
        user_id: authorId,
        hook_id: input.hook?.id ?? null,
        author_name: input.hook?.username ?? null,
        icon_emoji: input.hook?.iconEmoji ?? null,
        body: text,
        attachments: input.hook?.attachments ? JSON.stringify(input.hook.attachments) : null,
        created_at: now,
        edited_at: null,
        deleted_at: null,
        deleted_by: null,
        pinned_at: null,
        pinned_by: null,
        reply_count: 0,
        last_reply_id: null,
        last_reply_at: null,
      })
      .execute();
    const mentioned = await writeMentions(ctx, trx, r, id, root?.id ?? null, authorId, text);
    if (root) {
      await trx
        .updateTable('chat_messages')
        .set({ reply_count: sql<number>`reply_count + 1`, last_reply_id: id, last_reply_at: now })
        .where('id', '=', root.id)
        .execute();
      if (root.user_id) await followThread(trx, root.id, channelId, root.user_id, now, root.user_id === authorId ? id : null);
      if (authorId) await followThread(trx, root.id, channelId, authorId, now, id);
      for (const u of mentioned) await followThread(trx, root.id, channelId, u, now, null);
    } else {
      await trx.updateTable('chat_channels').set({ last_message_id: id }).where('id', '=', channelId).execute();
      if (authorId) await markChannelRead(trx, channelId, authorId, id, now);
    }
    await queuePreviews(platform, trx, id, text);
    // People's messages may call integrations; integrations' own posts never do (no loops).
    if (authorId) await queueOutgoing(platform, trx, channelId, id, text);
    await emit('chat.message.created', { channelId, messageId: id, rootId: root?.id ?? null, mentions: mentioned.length }, audienceOf(channelId));
  });
  return id;
}

export async function editMessage(ctx: ChatContext, messageId: string, text: string): Promise<void> {
  const me = requireUser(ctx.actor);
  const { msg, channel } = await authorizeMessage(ctx, messageId, 'post');
  if (msg.user_id !== me.userId) throw new AppError('forbidden');
  if (msg.deleted_at !== null) throw new AppError('conflict', { reason: 'deleted' });
  const body = cleanText(text);
  takeToken(ctx.platform, `post:${me.userId}`);
  await ctx.platform.transaction(async (trx, emit) => {
    await trx.updateTable('chat_messages').set({ body, edited_at: ctx.platform.clock.now() }).where('id', '=', messageId).execute();
    await trx.deleteFrom('chat_mentions').where('message_id', '=', messageId).execute();
    await writeMentions(ctx, trx, channel, messageId, msg.root_id, me.userId, body);
    // New links get new previews (the job replaces them); no link left, no preview left.
    if (linksIn(body).length === 0) await trx.deleteFrom('chat_link_previews').where('message_id', '=', messageId).execute();
    else await queuePreviews(ctx.platform, trx, messageId, body);
    await emit('chat.message.updated', { channelId: msg.channel_id, messageId, rootId: msg.root_id }, audienceOf(msg.channel_id));
  });
}

/** Deletes a message as a tombstone (its author, or a channel manager/administrator: audited). */
export async function deleteMessage(ctx: ChatContext, messageId: string): Promise<void> {
  const me = requireUser(ctx.actor);
  const msg = await loadMessage(ctx.platform.db, messageId);
  if (!msg) throw new AppError('not_found');
  const channel = await channelResource(ctx.platform.db, msg.channel_id, ctx.actor);
  if (!channel) throw new AppError('not_found');
  const own = msg.user_id === me.userId && channel.member;
  const moderate = await ctx.platform.policy.can(ctx.actor, 'moderate', channel);
  if (!own && !moderate) {
    if (!(await ctx.platform.policy.can(ctx.actor, 'read', channel))) throw new AppError('not_found');
    throw new AppError('forbidden');
  }
  if (msg.deleted_at !== null) return;
  const now = ctx.platform.clock.now();
  await ctx.platform.transaction(async (trx, emit) => {
    await trx
      .updateTable('chat_messages')
      .set({ body: '', attachments: null, author_name: null, icon_emoji: null, deleted_at: now, deleted_by: me.userId, pinned_at: null, pinned_by: null, edited_at: null })
      .where('id', '=', messageId)
      .execute();
    await trx.deleteFrom('chat_reactions').where('message_id', '=', messageId).execute();
    await trx.deleteFrom('chat_mentions').where('message_id', '=', messageId).execute();
    if (msg.root_id) {
      await trx
        .updateTable('chat_messages')
        .set({ reply_count: sql<number>`case when reply_count > 0 then reply_count - 1 else 0 end` })
        .where('id', '=', msg.root_id)
        .execute();
    }
    if (!own) {
      await ctx.platform.audit.record(trx, { actor: ctx.actor, action: 'chat.message.moderated', targetType: 'chat-message', targetId: messageId, ip: ctx.ip, details: { channelId: msg.channel_id, authorId: msg.user_id } });
    }
    await emit('chat.message.deleted', { channelId: msg.channel_id, messageId, rootId: msg.root_id }, audienceOf(msg.channel_id));
  });
}

const EMOJI_SHORTCODE = /^:[a-z0-9_+-]{1,50}:$/;
const EMOJI_UNICODE = /^(?:\p{Extended_Pictographic}|\p{Regional_Indicator}|\p{Emoji_Modifier}|\p{Emoji_Component}|\u200d|\ufe0f)+$/u;

export function validEmoji(e: string): boolean {
  if (EMOJI_SHORTCODE.test(e)) return true;
  return e.length <= 32 && EMOJI_UNICODE.test(e) && /\p{Extended_Pictographic}|\p{Regional_Indicator}/u.test(e);
}

/** Adds the reaction, or removes it when the actor already reacted so. Returns whether it is now on. */
export async function toggleReaction(ctx: ChatContext, messageId: string, emoji: string): Promise<boolean> {
  const me = requireUser(ctx.actor);
  if (!validEmoji(emoji)) throw new AppError('validation_failed', { fields: [{ path: '/emoji', message: 'not an emoji' }] });
  const { msg } = await authorizeMessage(ctx, messageId, 'react');
  if (msg.deleted_at !== null) throw new AppError('conflict', { reason: 'deleted' });
  takeToken(ctx.platform, `react:${me.userId}`, 40, 10);
  return ctx.platform.transaction(async (trx, emit) => {
    const del = await trx.deleteFrom('chat_reactions').where('message_id', '=', messageId).where('user_id', '=', me.userId).where('emoji', '=', emoji).executeTakeFirst();
    const removed = Number(del.numDeletedRows) > 0;
    if (!removed) {
      const distinct = await trx.selectFrom('chat_reactions').select('emoji').distinct().where('message_id', '=', messageId).execute();
      if (distinct.length >= 50 && !distinct.some((d) => d.emoji === emoji)) throw new AppError('conflict', { reason: 'too_many_reactions' });
      await trx.insertInto('chat_reactions').values({ message_id: messageId, user_id: me.userId, emoji, created_at: ctx.platform.clock.now() }).execute();
    }
    await emit('chat.reaction.changed', { channelId: msg.channel_id, messageId, rootId: msg.root_id }, audienceOf(msg.channel_id));
    return !removed;
  });
}

export async function setPinned(ctx: ChatContext, messageId: string, pinned: boolean): Promise<void> {
  const me = requireUser(ctx.actor);
  const { msg } = await authorizeMessage(ctx, messageId, 'pin');
  if (msg.deleted_at !== null) throw new AppError('conflict', { reason: 'deleted' });
  if ((msg.pinned_at !== null) === pinned) return;
  await ctx.platform.transaction(async (trx, emit) => {
    await trx
      .updateTable('chat_messages')
      .set(pinned ? { pinned_at: ctx.platform.clock.now(), pinned_by: me.userId } : { pinned_at: null, pinned_by: null })
      .where('id', '=', messageId)
      .execute();
    await emit('chat.pin.changed', { channelId: msg.channel_id, messageId, pinned }, audienceOf(msg.channel_id));
  });
}

// ---------------------------------------------------------------------------------------------------
// Read state

export async function markRead(ctx: ChatContext, channelId: string, messageId: string): Promise<void> {
  const me = requireUser(ctx.actor);
  await authorizeChannel(ctx, channelId, 'read');
  const msg = await loadMessage(ctx.platform.db, messageId);
  if (!msg || msg.channel_id !== channelId || msg.root_id !== null) throw new AppError('not_found');
  await ctx.platform.transaction(async (trx, emit) => {
    // Other tabs and devices of the same person update their badges.
    if (await markChannelRead(trx, channelId, me.userId, messageId, ctx.platform.clock.now())) await emit('chat.read.changed', { channelId, lastReadId: messageId }, [me.userId]);
  });
}

export async function markThreadRead(ctx: ChatContext, rootId: string, messageId: string): Promise<void> {
  const me = requireUser(ctx.actor);
  const { msg: root } = await authorizeMessage(ctx, rootId, 'read');
  if (root.root_id !== null) throw new AppError('not_found');
  const msg = messageId === rootId ? root : await loadMessage(ctx.platform.db, messageId);
  if (!msg || (msg.id !== rootId && msg.root_id !== rootId)) throw new AppError('not_found');
  await ctx.platform.transaction(async (trx, emit) => {
    await followThread(trx, rootId, root.channel_id, me.userId, ctx.platform.clock.now(), messageId);
    await emit('chat.read.changed', { channelId: root.channel_id, rootId, lastReadId: messageId }, [me.userId]);
  });
}

// ---------------------------------------------------------------------------------------------------
// Incoming webhooks

export const hashToken = (t: string): string => createHash('sha256').update(t).digest('hex');

export async function createHook(ctx: ChatContext, channelId: string, name: string): Promise<{ id: string; token: string }> {
  const me: UserActor = requireUser(ctx.actor);
  const r = await authorizeChannel(ctx, channelId, 'manage');
  if (r.kind === 'dm' || r.kind === 'group') throw new AppError('validation_failed', { fields: [{ path: '/', message: 'not for direct messages' }] });
  const token = `bwh_${randomBytes(24).toString('base64url')}`;
  const now = ctx.platform.clock.now();
  const id = newId(now);
  await ctx.platform.transaction(async (trx) => {
    await trx.insertInto('chat_hooks').values({ id, channel_id: channelId, name: cleanName(name), token_hash: hashToken(token), created_by: me.userId, created_at: now, revoked_at: null }).execute();
    await ctx.platform.audit.record(trx, { actor: ctx.actor, action: 'chat.hook.created', targetType: 'chat-channel', targetId: channelId, ip: ctx.ip, details: { hookId: id, name } });
  });
  return { id, token };
}

export async function revokeHook(ctx: ChatContext, hookId: string): Promise<void> {
  const hook = await ctx.platform.db.selectFrom('chat_hooks').selectAll().where('id', '=', hookId).executeTakeFirst();
  if (!hook || hook.revoked_at !== null) throw new AppError('not_found');
  await authorizeChannel(ctx, hook.channel_id, 'manage');
  await ctx.platform.transaction(async (trx) => {
    await trx.updateTable('chat_hooks').set({ revoked_at: ctx.platform.clock.now() }).where('id', '=', hookId).execute();
    await ctx.platform.audit.record(trx, { actor: ctx.actor, action: 'chat.hook.revoked', targetType: 'chat-channel', targetId: hook.channel_id, ip: ctx.ip, details: { hookId } });
  });
}

// ---------------------------------------------------------------------------------------------------
// Retention

/** Deletes the messages older than each channel's retention (whole threads go with their root). */
export async function applyRetention(platform: Platform): Promise<number> {
  const channels = await platform.db.selectFrom('chat_channels').select(['id', 'retention_days']).where('retention_days', 'is not', null).execute();
  let total = 0;
  const now = platform.clock.now();
  for (const c of channels) {
    const cutoff = now - Number(c.retention_days) * DAY;
    const n = await platform.transaction(async (trx, emit) => {
      // Old replies go one by one; an old root takes its whole thread with it.
      const oldReplies = await trx.selectFrom('chat_messages').select(['id', 'root_id']).where('channel_id', '=', c.id).where('root_id', 'is not', null).where('created_at', '<', cutoff).execute();
      const oldRoots = await trx.selectFrom('chat_messages').select('id').where('channel_id', '=', c.id).where('root_id', 'is', null).where('created_at', '<', cutoff).execute();
      const replies = await trx
        .selectFrom('chat_messages')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('channel_id', '=', c.id)
        .where('root_id', 'in', oldRoots.length ? oldRoots.map((r) => r.id) : [''])
        .where('created_at', '>=', cutoff)
        .executeTakeFirstOrThrow();
      const deleted = oldReplies.length + oldRoots.length + Number(replies.n);
      if (deleted === 0) return 0;
      for (let i = 0; i < oldReplies.length; i += 500) await trx.deleteFrom('chat_messages').where('id', 'in', oldReplies.slice(i, i + 500).map((r) => r.id)).execute();
      for (let i = 0; i < oldRoots.length; i += 500) await trx.deleteFrom('chat_messages').where('id', 'in', oldRoots.slice(i, i + 500).map((r) => r.id)).execute();
      const touched = [...new Set(oldReplies.map((r) => r.root_id!))];
      for (const rootId of touched) {
        const left = await trx.selectFrom('chat_messages').select((eb) => eb.fn.countAll<number>().as('n')).where('root_id', '=', rootId).where('deleted_at', 'is', null).executeTakeFirstOrThrow();
        await trx.updateTable('chat_messages').set({ reply_count: Number(left.n) }).where('id', '=', rootId).execute();
      }
      const last = await trx.selectFrom('chat_messages').select('id').where('channel_id', '=', c.id).where('root_id', 'is', null).orderBy('id', 'desc').limit(1).executeTakeFirst();
      await trx.updateTable('chat_channels').set({ last_message_id: last?.id ?? null }).where('id', '=', c.id).execute();
      await platform.audit.record(trx, { actor: { kind: 'system' }, action: 'chat.retention.applied', targetType: 'chat-channel', targetId: c.id, details: { deleted, retentionDays: Number(c.retention_days) } });
      await emit('chat.channel.pruned', { channelId: c.id, before: cutoff }, audienceOf(c.id));
      return deleted;
    });
    total += n;
  }
  return total;
}

export { getChannel };
export type { Emit };
