import { Type } from '@sinclair/typebox';
import type { Migration } from '../../platform/db/migrate.js';
import type { BastideModule, Platform } from '../../platform/module.js';
import type { BusEvent } from '../../platform/bus/types.js';
import { newId } from '../../platform/ids.js';
import { silencedIn } from '../chat/prefs.js';
import { requireUser } from '../../platform/policy.js';

/**
 * Notifications: one list per user, fed by events from other modules (consumers below), rendered in
 * the user's language. Each is tied to the event that caused it (source_seq), so that several nodes
 * consuming the same event write it once.
 */
declare module '../../platform/db/schema.js' {
  interface Database {
    notifications: {
      id: string;
      user_id: string;
      type: string;
      params: string;
      link: string | null;
      source_seq: number;
      created_at: number;
      read_at: number | null;
    };
  }
}

const migrations: Migration[] = [
  {
    id: '0001_notifications',
    async up(db) {
      await db.schema
        .createTable('notifications')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('link', 'text')
        .addColumn('source_seq', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('read_at', 'bigint')
        .addUniqueConstraint('notifications_source', ['user_id', 'source_seq'])
        .execute();
      await db.schema.createIndex('notifications_user').on('notifications').columns(['user_id', 'created_at']).execute();
    },
  },
];

type Lang = 'fr' | 'en';
const TEMPLATES: Record<string, Record<Lang, { title: string; body: string }>> = {
  'group.added': {
    en: { title: 'Added to a group', body: 'You are now a member of the group “{group}”.' },
    fr: { title: 'Ajout à un groupe', body: 'Vous êtes maintenant membre du groupe « {group} ».' },
  },
  'drive.shared': {
    en: { title: 'Shared with you', body: '{by} shared “{name}” with you.' },
    fr: { title: 'Partagé avec vous', body: '{by} a partagé « {name} » avec vous.' },
  },
  'chat.mention': {
    en: { title: 'Mentioned in #{channel}', body: '{by} mentioned you in #{channel}.' },
    fr: { title: 'Mention dans #{channel}', body: '{by} vous a mentionné·e dans #{channel}.' },
  },
  'chat.mention_direct': {
    en: { title: 'Mentioned in a conversation', body: '{by} mentioned you.' },
    fr: { title: 'Mention dans une conversation', body: '{by} vous a mentionné·e.' },
  },
  'calendar.invited': { en: { title: 'Invitation', body: '{by} invited you to “{name}”.' }, fr: { title: 'Invitation', body: '{by} vous invite à « {name} ».' } },
  'calendar.updated': { en: { title: 'Event changed', body: '{by} changed “{name}”.' }, fr: { title: 'Événement modifié', body: '{by} a modifié « {name} ».' } },
  'calendar.cancelled': { en: { title: 'Event cancelled', body: '{by} cancelled “{name}”.' }, fr: { title: 'Événement annulé', body: '{by} a annulé « {name} ».' } },
  'calendar.replied': { en: { title: 'Answer to an invitation', body: '{by} answered {partstat} to “{name}”.' }, fr: { title: 'Réponse à une invitation', body: '{by} a répondu {partstat} à « {name} ».' } },
  'calendar.shared': { en: { title: 'Calendar shared with you', body: '{by} shared the calendar “{name}” with you.' }, fr: { title: 'Agenda partagé avec vous', body: '{by} a partagé l’agenda « {name} » avec vous.' } },
  'space.added': {
    en: { title: 'Added to a space', body: '{by} added you to the space “{space}”.' },
    fr: { title: 'Ajout à un espace', body: '{by} vous a ajouté·e à l’espace « {space} ».' },
  },
};

function render(type: string, lang: Lang, params: Record<string, string>): { title: string; body: string } {
  const t = TEMPLATES[type]?.[lang] ?? { title: type, body: '' };
  const fill = (s: string): string => s.replace(/\{(\w+)\}/g, (_m, k: string) => params[k] ?? '');
  return { title: fill(t.title), body: fill(t.body) };
}

async function insert(platform: Platform, e: BusEvent, userId: string, type: string, params: Record<string, string>, link: string | null): Promise<void> {
  const now = platform.clock.now();
  await platform.transaction(async (trx, emit) => {
    const r = await trx
      .insertInto('notifications')
      .values({ id: newId(now), user_id: userId, type, params: JSON.stringify(params), link, source_seq: e.seq, created_at: now, read_at: null })
      .onConflict((oc) => oc.columns(['user_id', 'source_seq']).doNothing())
      .executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows ?? 0) > 0) await emit('notifications.changed', { userId }, [userId]);
  });
}

export const notificationsModule: BastideModule = {
  name: 'notifications',
  migrations,
  events: [
    {
      topic: 'identity.group.member_added',
      async handle(e, platform) {
        const { groupId, userId } = e.data as { groupId: string; userId: string };
        const g = await platform.db.selectFrom('groups').select('name').where('id', '=', groupId).executeTakeFirst();
        if (g) await insert(platform, e, userId, 'group.added', { group: g.name }, null);
      },
    },
    {
      topic: 'spaces.member.added',
      async handle(e, platform) {
        const { spaceId, userId, byUserId } = e.data as { spaceId: string; userId: string; byUserId: string };
        if (userId === byUserId) return;
        const s = await platform.db.selectFrom('spaces').select('name').where('id', '=', spaceId).executeTakeFirst();
        const by = await platform.db.selectFrom('users').select('display_name').where('id', '=', byUserId).executeTakeFirst();
        if (s) await insert(platform, e, userId, 'space.added', { space: s.name, by: by?.display_name ?? '' }, `/spaces/${spaceId}`);
      },
    },
    {
      // A new share (not a permission change, not a revocation) tells each person it reaches.
      topic: 'drive.share.changed',
      async handle(e, platform) {
        const d = e.data as { shareId: string; created?: boolean; name?: string; granteeType?: string; granteeId?: string };
        if (!d.created || !d.granteeType || !d.granteeId) return;
        const share = await platform.db.selectFrom('drive_shares').select(['created_by']).where('id', '=', d.shareId).executeTakeFirst();
        if (!share) return;
        const by = share.created_by ? await platform.db.selectFrom('users').select('display_name').where('id', '=', share.created_by).executeTakeFirst() : undefined;
        let users: string[] = [];
        if (d.granteeType === 'user') users = [d.granteeId];
        else if (d.granteeType === 'group') users = (await platform.db.selectFrom('group_members').select('user_id').where('group_id', '=', d.granteeId).limit(5000).execute()).map((r) => r.user_id);
        else if (d.granteeType === 'space') users = (await platform.db.selectFrom('space_members').select('user_id').where('space_id', '=', d.granteeId).limit(5000).execute()).map((r) => r.user_id);
        for (const userId of users) {
          if (userId === share.created_by) continue;
          await insert(platform, e, userId, 'drive.shared', { name: d.name ?? '', by: by?.display_name ?? '' }, '/drive?view=shared');
        }
      },
    },
    {
      // Calendar scheduling (RFC 6638 inside Bastide): an invitation, a change, a cancellation, an answer.
      topic: 'calendar.scheduling.delivered',
      async handle(e, platform) {
        const d = e.data as { userId: string; collectionId: string; objectId: string; kind: string; byUserId: string | null; partstat?: string };
        const o = await platform.db.selectFrom('calendar_objects').select('summary').where('id', '=', d.objectId).executeTakeFirst();
        const by = d.byUserId ? await platform.db.selectFrom('users').select('display_name').where('id', '=', d.byUserId).executeTakeFirst() : undefined;
        const partstat = ({ ACCEPTED: 'yes', DECLINED: 'no', TENTATIVE: 'maybe' } as Record<string, string>)[d.partstat ?? ''] ?? (d.partstat ?? '').toLowerCase();
        await insert(platform, e, d.userId, `calendar.${d.kind}`, { name: o?.summary.split('\n')[0] ?? '', by: by?.display_name ?? '', partstat }, `/calendar?calendar=${d.collectionId}&object=${d.objectId}`);
      },
    },
    {
      topic: 'calendar.share.changed',
      async handle(e, platform) {
        const d = e.data as { collectionId: string; granteeType: string; granteeId: string; created?: boolean };
        if (!d.created) return;
        const c = await platform.db.selectFrom('calendar_collections').select(['display_name', 'owner_id']).where('id', '=', d.collectionId).executeTakeFirst();
        if (!c) return;
        const by = await platform.db.selectFrom('users').select('display_name').where('id', '=', c.owner_id).executeTakeFirst();
        const users = d.granteeType === 'user' ? [d.granteeId] : (await platform.db.selectFrom('group_members').select('user_id').where('group_id', '=', d.granteeId).limit(5000).execute()).map((r) => r.user_id);
        for (const userId of users) if (userId !== c.owner_id) await insert(platform, e, userId, 'calendar.shared', { name: c.display_name, by: by?.display_name ?? '' }, `/calendar?calendar=${d.collectionId}`);
      },
    },
    {
      // Chat: each person a new message mentions (@login, or @channel/@here where the channel allows it).
      topic: 'chat.message.created',
      async handle(e, platform) {
        const d = e.data as { channelId: string; messageId: string; rootId?: string | null; mentions?: number };
        if (!d.mentions) return;
        const msg = await platform.db.selectFrom('chat_messages').select(['user_id', 'author_name', 'deleted_at']).where('id', '=', d.messageId).executeTakeFirst();
        if (!msg || msg.deleted_at !== null) return;
        const channel = await platform.db.selectFrom('chat_channels').select(['name', 'kind']).where('id', '=', d.channelId).executeTakeFirst();
        const by = msg.user_id ? await platform.db.selectFrom('users').select('display_name').where('id', '=', msg.user_id).executeTakeFirst() : undefined;
        const users = (await platform.db.selectFrom('chat_mentions').select('user_id').where('message_id', '=', d.messageId).limit(5000).execute()).map((r) => r.user_id);
        const link = d.rootId ? `/chat/${d.channelId}/${d.rootId}?reply=${d.messageId}` : `/chat/${d.channelId}/${d.messageId}`;
        // People who muted the channel or chose "nothing" for it get no notification (badges still count).
        const silenced = await silencedIn(platform.db, d.channelId, users);
        for (const userId of users) {
          if (silenced.has(userId)) continue;
          const where = channel && channel.kind !== 'dm' && channel.kind !== 'group' ? channel.name : '';
          await insert(platform, e, userId, where ? 'chat.mention' : 'chat.mention_direct', { by: by?.display_name ?? msg.author_name ?? '', channel: where }, link);
        }
      },
    },
  ],
  routes(app, platform) {
    const Item = Type.Object({
      id: Type.String(),
      type: Type.String(),
      title: Type.String(),
      body: Type.String(),
      link: Type.Union([Type.String(), Type.Null()]),
      createdAt: Type.Number(),
      readAt: Type.Union([Type.Number(), Type.Null()]),
    });
    app.get('/notifications', { schema: { tags: ['notifications'], response: { 200: Type.Object({ items: Type.Array(Item), unread: Type.Integer() }) } } }, async (req) => {
      const me = requireUser(req.actor);
      const user = await platform.db.selectFrom('users').select('language').where('id', '=', me.userId).executeTakeFirst();
      const lang: Lang = user?.language === 'en' ? 'en' : user?.language === 'fr' ? 'fr' : 'en';
      const rows = await platform.db.selectFrom('notifications').selectAll().where('user_id', '=', me.userId).orderBy('created_at', 'desc').limit(50).execute();
      const unread = await platform.db
        .selectFrom('notifications')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('user_id', '=', me.userId)
        .where('read_at', 'is', null)
        .executeTakeFirstOrThrow();
      return {
        items: rows.map((r) => ({
          id: r.id,
          type: r.type,
          ...render(r.type, lang, JSON.parse(r.params) as Record<string, string>),
          link: r.link,
          createdAt: Number(r.created_at),
          readAt: r.read_at === null ? null : Number(r.read_at),
        })),
        unread: Number(unread.n),
      };
    });
    app.post(
      '/notifications/read',
      {
        schema: { tags: ['notifications'], body: Type.Optional(Type.Object({ ids: Type.Optional(Type.Array(Type.String({ maxLength: 26 }), { maxItems: 200 })) }, { additionalProperties: false })) },
        // No body at all means "all" (the schema alone would refuse a missing body).
        preValidation: async (req) => {
          if (req.body === undefined) req.body = {};
        },
      },
      async (req, reply) => {
        const me = requireUser(req.actor);
        await platform.transaction(async (trx, emit) => {
          let q = trx.updateTable('notifications').set({ read_at: platform.clock.now() }).where('user_id', '=', me.userId).where('read_at', 'is', null);
          const ids = req.body?.ids;
          if (ids) {
            if (ids.length === 0) return;
            q = q.where('id', 'in', ids);
          }
          await q.execute();
          await emit('notifications.changed', { userId: me.userId }, [me.userId]);
        });
        return reply.status(204).send();
      },
    );
  },
};
