import { Type, type Static } from '@sinclair/typebox';
import type { Migration } from '../../platform/db/migrate.js';
import type { DbOrTx } from '../../platform/db/index.js';
import type { App, Platform } from '../../platform/module.js';
import { requireUser } from '../../platform/policy.js';
import { authorizeChannel } from './commands.js';

/**
 * Per person and channel: how much it may interrupt. `level` — `all` (every message notifies, in the
 * browser), `mentions` (the default: mentions and DMs), `none` (nothing, not even mentions); `muted` —
 * the channel is not shown as unread in the sidebar and sends no notification, though mention badges
 * still count (what Slack and Mattermost do). The server applies `none` and `muted` to the notifications
 * it records; the web app applies `all`/`mentions` to browser notifications. Do-not-disturb (presence)
 * silences the browser, not the record.
 */
export type NotifyLevel = 'all' | 'mentions' | 'none';

declare module '../../platform/db/schema.js' {
  interface Database {
    chat_prefs: { channel_id: string; user_id: string; level: string; muted: number; updated_at: number };
  }
}

export const prefsMigrations: Migration[] = [
  {
    id: '0004_prefs',
    async up(db) {
      await db.schema
        .createTable('chat_prefs')
        .addColumn('channel_id', 'text', (c) => c.notNull().references('chat_channels.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('level', 'text', (c) => c.notNull())
        .addColumn('muted', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('chat_prefs_pk', ['channel_id', 'user_id'])
        .execute();
    },
  },
];

export const NotifyView = Type.Object({ level: Type.Union([Type.Literal('all'), Type.Literal('mentions'), Type.Literal('none')]), muted: Type.Boolean() });
export type NotifyViewT = Static<typeof NotifyView>;
export const DEFAULT_NOTIFY: NotifyViewT = { level: 'mentions', muted: false };

/** The caller's preferences for some channels (defaults where none were set). */
export async function prefsOf(db: DbOrTx, userId: string, channelIds: string[]): Promise<Map<string, NotifyViewT>> {
  const out = new Map<string, NotifyViewT>();
  if (channelIds.length === 0) return out;
  const rows = await db.selectFrom('chat_prefs').select(['channel_id', 'level', 'muted']).where('user_id', '=', userId).where('channel_id', 'in', channelIds).execute();
  for (const r of rows) out.set(r.channel_id, { level: r.level as NotifyLevel, muted: r.muted === 1 });
  for (const id of channelIds) if (!out.has(id)) out.set(id, DEFAULT_NOTIFY);
  return out;
}

/** Of these people, those who asked for no notification from this channel (level none, or muted). */
export async function silencedIn(db: DbOrTx, channelId: string, userIds: string[]): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('chat_prefs')
    .select(['user_id', 'level', 'muted'])
    .where('channel_id', '=', channelId)
    .where('user_id', 'in', userIds.slice(0, 5000))
    .execute();
  return new Set(rows.filter((r) => r.level === 'none' || r.muted === 1).map((r) => r.user_id));
}

const Body = Type.Object({ level: Type.Optional(NotifyView.properties.level), muted: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

export function prefsRoutes(app: App, platform: Platform): void {
  const Params = Type.Object({ id: Type.String({ pattern: '^[0-9A-HJKMNP-TV-Z]{26}$' }) }, { additionalProperties: false });
  app.put<{ Params: Static<typeof Params>; Body: Static<typeof Body> }>(
    '/chat/channels/:id/notify',
    { schema: { tags: ['chat'], summary: 'My notification level and mute for a channel', params: Params, body: Body, response: { 200: Type.Object({ notify: NotifyView }) } } },
    async (req) => {
      const me = requireUser(req.actor);
      // Members only: one sets preferences for channels one reads.
      await authorizeChannel({ platform, actor: req.actor, ip: req.ip }, req.params.id, 'read');
      const current = (await prefsOf(platform.db, me.userId, [req.params.id])).get(req.params.id) ?? DEFAULT_NOTIFY;
      const next: NotifyViewT = { level: req.body.level ?? current.level, muted: req.body.muted ?? current.muted };
      const now = platform.clock.now();
      await platform.transaction(async (trx, emit) => {
        await trx
          .insertInto('chat_prefs')
          .values({ channel_id: req.params.id, user_id: me.userId, level: next.level, muted: next.muted ? 1 : 0, updated_at: now })
          .onConflict((oc) => oc.columns(['channel_id', 'user_id']).doUpdateSet({ level: next.level, muted: next.muted ? 1 : 0, updated_at: now }))
          .execute();
        // The person's other tabs and devices follow.
        await emit('chat.prefs.changed', { channelId: req.params.id }, [me.userId]);
      });
      return { notify: next };
    },
  );
}
