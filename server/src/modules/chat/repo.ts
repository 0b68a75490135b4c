import { sql } from 'kysely';
import type { DbOrTx } from '../../platform/db/index.js';

/** The chat module's SQL reads. Every function takes the database or the current transaction. */

export type ChannelRow = {
  id: string;
  kind: string;
  visibility: string;
  space_id: string | null;
  name: string;
  topic: string;
  archived: number;
  mention_all: string;
  retention_days: number | null;
  dm_key: string | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  last_message_id: string | null;
};

export async function getChannel(db: DbOrTx, id: string): Promise<ChannelRow | undefined> {
  return db.selectFrom('chat_channels').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The user ids who belong to a channel now (its audience). */
export async function channelMemberIds(db: DbOrTx, channelId: string): Promise<string[]> {
  const c = await db.selectFrom('chat_channels').select(['kind', 'visibility', 'space_id']).where('id', '=', channelId).executeTakeFirst();
  if (!c) return [];
  if (c.kind === 'space' && c.space_id) {
    if (c.visibility === 'public') {
      return (await db.selectFrom('space_members').select('user_id').where('space_id', '=', c.space_id).execute()).map((r) => r.user_id);
    }
    return (
      await db
        .selectFrom('chat_members')
        .innerJoin('space_members', (j) => j.onRef('space_members.user_id', '=', 'chat_members.user_id').on('space_members.space_id', '=', c.space_id))
        .select('chat_members.user_id')
        .where('chat_members.channel_id', '=', channelId)
        .execute()
    ).map((r) => r.user_id);
  }
  return (await db.selectFrom('chat_members').select('user_id').where('channel_id', '=', channelId).execute()).map((r) => r.user_id);
}

/** Ids of every channel the user belongs to (explicit memberships and the public channels of their spaces). */
export async function myChannelIds(db: DbOrTx, userId: string): Promise<string[]> {
  const explicit = await db
    .selectFrom('chat_members')
    .innerJoin('chat_channels', 'chat_channels.id', 'chat_members.channel_id')
    .leftJoin('space_members', (j) => j.onRef('space_members.space_id', '=', 'chat_channels.space_id').on('space_members.user_id', '=', userId))
    .select(['chat_channels.id', 'chat_channels.kind', 'space_members.user_id as spaceMember'])
    .where('chat_members.user_id', '=', userId)
    .execute();
  const ids = explicit.filter((r) => r.kind !== 'space' || r.spaceMember !== null).map((r) => r.id);
  const spacePublic = await db
    .selectFrom('chat_channels')
    .innerJoin('space_members', 'space_members.space_id', 'chat_channels.space_id')
    .select('chat_channels.id')
    .where('space_members.user_id', '=', userId)
    .where('chat_channels.kind', '=', 'space')
    .where('chat_channels.visibility', '=', 'public')
    .execute();
  return [...new Set([...ids, ...spacePublic.map((r) => r.id)])];
}

/** Unread root messages (not one's own, not deleted) after the read marker, per channel. */
export async function unreadCounts(db: DbOrTx, userId: string, channelIds: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (channelIds.length === 0) return out;
  const rows = await db
    .selectFrom('chat_messages as m')
    .leftJoin('chat_read as r', (j) => j.onRef('r.channel_id', '=', 'm.channel_id').on('r.user_id', '=', userId))
    .select(['m.channel_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('m.channel_id', 'in', channelIds)
    .where('m.root_id', 'is', null)
    .where('m.deleted_at', 'is', null)
    .where((eb) => eb.or([eb('m.user_id', 'is', null), eb('m.user_id', '!=', userId)]))
    .where((eb) => eb.or([eb('r.last_read_id', 'is', null), eb('m.id', '>', eb.ref('r.last_read_id'))]))
    .groupBy('m.channel_id')
    .execute();
  for (const r of rows) out.set(r.channel_id, Number(r.n));
  return out;
}

/** Unread mentions of the user (channel messages and thread replies) after the channel's read marker. */
export async function mentionCounts(db: DbOrTx, userId: string, channelIds: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (channelIds.length === 0) return out;
  const rows = await db
    .selectFrom('chat_mentions as x')
    .innerJoin('chat_messages as m', 'm.id', 'x.message_id')
    .leftJoin('chat_read as r', (j) => j.onRef('r.channel_id', '=', 'x.channel_id').on('r.user_id', '=', userId))
    .leftJoin('chat_thread_read as t', (j) => j.onRef('t.root_id', '=', 'x.root_id').on('t.user_id', '=', userId))
    .select(['x.channel_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('x.user_id', '=', userId)
    .where('x.channel_id', 'in', channelIds)
    .where('m.deleted_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb.and([eb('x.root_id', 'is', null), eb.or([eb('r.last_read_id', 'is', null), eb('x.message_id', '>', eb.ref('r.last_read_id'))])]),
        eb.and([eb('x.root_id', 'is not', null), eb.or([eb('t.last_read_id', 'is', null), eb('x.message_id', '>', eb.ref('t.last_read_id'))])]),
      ]),
    )
    .groupBy('x.channel_id')
    .execute();
  for (const r of rows) out.set(r.channel_id, Number(r.n));
  return out;
}

export async function readMarkers(db: DbOrTx, userId: string, channelIds: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (channelIds.length === 0) return out;
  const rows = await db.selectFrom('chat_read').select(['channel_id', 'last_read_id']).where('user_id', '=', userId).where('channel_id', 'in', channelIds).execute();
  for (const r of rows) out.set(r.channel_id, r.last_read_id);
  return out;
}

/** Unread replies of one thread for a user (replies after their thread marker, not their own). */
export async function threadUnread(db: DbOrTx, userId: string, rootId: string, lastReadId: string | null): Promise<number> {
  let q = db
    .selectFrom('chat_messages')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('root_id', '=', rootId)
    .where('deleted_at', 'is', null)
    .where((eb) => eb.or([eb('user_id', 'is', null), eb('user_id', '!=', userId)]));
  if (lastReadId) q = q.where('id', '>', lastReadId);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

/** Follows a thread (root author, repliers, people mentioned in it): keeps their marker if there is one. */
export async function followThread(db: DbOrTx, rootId: string, channelId: string, userId: string, now: number, readUpTo: string | null): Promise<void> {
  await db
    .insertInto('chat_thread_read')
    .values({ root_id: rootId, user_id: userId, channel_id: channelId, last_read_id: readUpTo, updated_at: now })
    .onConflict((oc) =>
      readUpTo
        ? oc.columns(['root_id', 'user_id']).doUpdateSet({
            last_read_id: sql<string>`case when chat_thread_read.last_read_id is null or chat_thread_read.last_read_id < ${readUpTo} then ${readUpTo} else chat_thread_read.last_read_id end`,
            updated_at: now,
          })
        : oc.columns(['root_id', 'user_id']).doNothing(),
    )
    .execute();
}

/** Moves the channel read marker forward only (a stale tab never moves it back). */
export async function markChannelRead(db: DbOrTx, channelId: string, userId: string, messageId: string, now: number): Promise<boolean> {
  const cur = await db.selectFrom('chat_read').select('last_read_id').where('channel_id', '=', channelId).where('user_id', '=', userId).executeTakeFirst();
  if (cur && cur.last_read_id >= messageId) return false;
  await db
    .insertInto('chat_read')
    .values({ channel_id: channelId, user_id: userId, last_read_id: messageId, updated_at: now })
    .onConflict((oc) => oc.columns(['channel_id', 'user_id']).doUpdateSet({ last_read_id: messageId, updated_at: now }))
    .execute();
  return true;
}
