import { Type, type Static } from '@sinclair/typebox';
import type { DbOrTx } from '../../platform/db/index.js';
import type { Platform } from '../../platform/module.js';
import type { UserActor } from '../../platform/policy.js';
import { isMember, type ChannelKind, type ChannelResource, type MentionAll, type Visibility } from './policy.js';
import { mentionCounts, readMarkers, unreadCounts, type ChannelRow } from './repo.js';
import { PreviewView, previewsOf } from './previews.js';
import { DEFAULT_NOTIFY, NotifyView, prefsOf } from './prefs.js';
import type { MessageRow } from './commands.js';

/** Response shapes of the chat API (also its OpenAPI documentation). */
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const Person = Type.Object({ id: Type.String(), login: Type.String(), displayName: Type.String() });

export const ChannelView = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('org'), Type.Literal('space'), Type.Literal('dm'), Type.Literal('group')]),
  visibility: Type.Union([Type.Literal('public'), Type.Literal('private')]),
  spaceId: Nullable(Type.String()),
  name: Type.String(),
  topic: Type.String(),
  archived: Type.Boolean(),
  mentionAll: Type.Union([Type.Literal('all'), Type.Literal('managers'), Type.Literal('none')]),
  retentionDays: Nullable(Type.Integer()),
  createdAt: Type.Number(),
  lastMessageId: Nullable(Type.String()),
  member: Type.Boolean(),
  canManage: Type.Boolean(),
  lastReadId: Nullable(Type.String()),
  unread: Type.Integer(),
  mentions: Type.Integer(),
  /** DMs and group DMs: the people in it. */
  people: Type.Optional(Type.Array(Person)),
  /** My notification level and mute for this channel. */
  notify: NotifyView,
});
export type ChannelViewT = Static<typeof ChannelView>;

export const Attachment = Type.Object({
  fallback: Type.Optional(Type.String()),
  color: Type.Optional(Type.String()),
  pretext: Type.Optional(Type.String()),
  title: Type.Optional(Type.String()),
  titleLink: Type.Optional(Type.String()),
  text: Type.Optional(Type.String()),
  fields: Type.Optional(Type.Array(Type.Object({ title: Type.String(), value: Type.String(), short: Type.Boolean() }))),
});
export type AttachmentT = Static<typeof Attachment>;

export const MessageView = Type.Object({
  id: Type.String(),
  channelId: Type.String(),
  rootId: Nullable(Type.String()),
  author: Nullable(Person),
  /** Webhook posts: the name and emoji the integration gave. */
  bot: Nullable(Type.Object({ name: Type.String(), iconEmoji: Nullable(Type.String()) })),
  text: Type.String(),
  attachments: Type.Array(Attachment),
  createdAt: Type.Number(),
  editedAt: Nullable(Type.Number()),
  deleted: Type.Boolean(),
  pinned: Type.Boolean(),
  replyCount: Type.Integer(),
  lastReplyId: Nullable(Type.String()),
  lastReplyAt: Nullable(Type.Number()),
  reactions: Type.Array(Type.Object({ emoji: Type.String(), count: Type.Integer(), me: Type.Boolean() })),
  mentionsMe: Type.Boolean(),
  /** Link previews made by the server (plain text; images served from Bastide). */
  previews: Type.Array(PreviewView),
});
export type MessageViewT = Static<typeof MessageView>;

export async function channelViews(platform: Platform, me: UserActor, rows: ChannelRow[]): Promise<ChannelViewT[]> {
  const db = platform.db;
  const ids = rows.map((r) => r.id);
  const [unread, mentions, markers, notify] = await Promise.all([unreadCounts(db, me.userId, ids), mentionCounts(db, me.userId, ids), readMarkers(db, me.userId, ids), prefsOf(db, me.userId, ids)]);
  const dmIds = rows.filter((r) => r.kind === 'dm' || r.kind === 'group').map((r) => r.id);
  const people = new Map<string, Array<Static<typeof Person>>>();
  if (dmIds.length) {
    const ps = await db
      .selectFrom('chat_members')
      .innerJoin('users', 'users.id', 'chat_members.user_id')
      .select(['chat_members.channel_id', 'users.id', 'users.login', 'users.display_name'])
      .where('chat_members.channel_id', 'in', dmIds)
      .orderBy('users.login')
      .execute();
    for (const p of ps) {
      const list = people.get(p.channel_id) ?? [];
      list.push({ id: p.id, login: p.login, displayName: p.display_name });
      people.set(p.channel_id, list);
    }
  }
  // The caller's relation to every channel at once (not three queries per channel).
  const roles = new Map(
    ids.length ? (await db.selectFrom('chat_members').select(['channel_id', 'role']).where('user_id', '=', me.userId).where('channel_id', 'in', ids).execute()).map((m) => [m.channel_id, m.role]) : [],
  );
  const spaceIds = [...new Set(rows.map((r) => r.space_id).filter((x): x is string => x !== null))];
  const spaceRoles = new Map(
    spaceIds.length ? (await db.selectFrom('space_members').select(['space_id', 'role']).where('user_id', '=', me.userId).where('space_id', 'in', spaceIds).execute()).map((m) => [m.space_id, m.role]) : [],
  );
  const out: ChannelViewT[] = [];
  for (const r of rows) {
    const role = roles.get(r.id) ?? null;
    const spaceRole = r.space_id ? (spaceRoles.get(r.space_id) ?? null) : null;
    const res: ChannelResource = {
      type: 'chat-channel',
      id: r.id,
      kind: r.kind as ChannelKind,
      visibility: r.visibility as Visibility,
      spaceId: r.space_id,
      archived: r.archived === 1,
      mentionAll: r.mention_all as MentionAll,
      member: isMember(r.kind as ChannelKind, r.visibility as Visibility, role, spaceRole),
      role,
      spaceRole,
    };
    const isDm = r.kind === 'dm' || r.kind === 'group';
    out.push({
      id: r.id,
      kind: r.kind as ChannelViewT['kind'],
      visibility: r.visibility as ChannelViewT['visibility'],
      spaceId: r.space_id,
      name: r.name,
      topic: r.topic,
      archived: r.archived === 1,
      mentionAll: r.mention_all as ChannelViewT['mentionAll'],
      retentionDays: r.retention_days === null ? null : Number(r.retention_days),
      createdAt: Number(r.created_at),
      lastMessageId: res.member ? r.last_message_id : null,
      member: res.member,
      canManage: await platform.policy.can(me, 'manage', res),
      lastReadId: markers.get(r.id) ?? null,
      unread: res.member ? (unread.get(r.id) ?? 0) : 0,
      mentions: res.member ? (mentions.get(r.id) ?? 0) : 0,
      ...(isDm ? { people: people.get(r.id) ?? [] } : {}),
      notify: notify.get(r.id) ?? DEFAULT_NOTIFY,
    });
  }
  return out;
}

function parseAttachments(s: string | null): AttachmentT[] {
  if (!s) return [];
  try {
    const v = JSON.parse(s) as unknown;
    return Array.isArray(v) ? (v as AttachmentT[]) : [];
  } catch {
    return [];
  }
}

export async function messageViews(db: DbOrTx, me: UserActor, rows: MessageRow[]): Promise<MessageViewT[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const authorIds = [...new Set(rows.map((r) => r.user_id).filter((u): u is string => u !== null))];
  const [authors, reactions, mine] = await Promise.all([
    authorIds.length ? db.selectFrom('users').select(['id', 'login', 'display_name']).where('id', 'in', authorIds).execute() : Promise.resolve([]),
    db
      .selectFrom('chat_reactions')
      .select(['message_id', 'emoji', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.min('created_at').as('first')])
      .where('message_id', 'in', ids)
      .groupBy(['message_id', 'emoji'])
      .execute(),
    db.selectFrom('chat_reactions').select(['message_id', 'emoji']).where('message_id', 'in', ids).where('user_id', '=', me.userId).execute(),
  ]);
  const previews = await previewsOf(db, ids);
  const mentioned = new Set((await db.selectFrom('chat_mentions').select('message_id').where('message_id', 'in', ids).where('user_id', '=', me.userId).execute()).map((m) => m.message_id));
  const byId = new Map(authors.map((a) => [a.id, { id: a.id, login: a.login, displayName: a.display_name }]));
  const mineSet = new Set(mine.map((m) => `${m.message_id} ${m.emoji}`));
  const rx = new Map<string, Array<{ emoji: string; count: number; me: boolean; first: number }>>();
  for (const r of reactions) {
    const list = rx.get(r.message_id) ?? [];
    list.push({ emoji: r.emoji, count: Number(r.n), me: mineSet.has(`${r.message_id} ${r.emoji}`), first: Number(r.first) });
    rx.set(r.message_id, list);
  }
  return rows.map((r) => ({
    id: r.id,
    channelId: r.channel_id,
    rootId: r.root_id,
    author: r.user_id ? (byId.get(r.user_id) ?? null) : null,
    bot: (r.hook_id !== null || (r.user_id === null && r.author_name !== null)) && r.deleted_at === null ? { name: r.author_name ?? 'webhook', iconEmoji: r.icon_emoji } : null,
    text: r.body,
    attachments: parseAttachments(r.attachments),
    createdAt: Number(r.created_at),
    editedAt: r.edited_at === null ? null : Number(r.edited_at),
    deleted: r.deleted_at !== null,
    pinned: r.pinned_at !== null,
    replyCount: Number(r.reply_count),
    lastReplyId: r.last_reply_id,
    lastReplyAt: r.last_reply_at === null ? null : Number(r.last_reply_at),
    reactions: (rx.get(r.id) ?? []).sort((a, b) => a.first - b.first || b.count - a.count || (a.emoji < b.emoji ? -1 : 1)).map(({ emoji, count, me: m }) => ({ emoji, count, me: m })),
    mentionsMe: mentioned.has(r.id),
    previews: r.deleted_at === null ? (previews.get(r.id) ?? []) : [],
  }));
}
