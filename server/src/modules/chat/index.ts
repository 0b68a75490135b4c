import { likePattern } from '../../platform/db/index.js';
import type { BastideModule, Platform } from '../../platform/module.js';
import { applyRetention } from './commands.js';
import { chatMigrations } from './migrations.js';
import { chatChannelRule } from './policy.js';
import { MEMBERSHIP_TOPICS, membershipConsumer, registerRealtime } from './realtime.js';
import { myChannelIds } from './repo.js';
import { chatRoutes } from './routes.js';
import { exportUserChat, fromBastideExport, writeImported } from './portability.js';
import { chatPortabilityRoutes } from './portability-routes.js';
import { OUTGOING_JOB, outgoingJob, outgoingMigrations, outgoingRoutes } from './outgoing.js';
import { prefsMigrations, prefsRoutes } from './prefs.js';
import { botMigrations, botRoutes } from './bots.js';
import { dndMigrations, dndRoutes } from './dnd.js';
import { PREVIEW_JOB, previewJob, previewMigrations, previewRoutes } from './previews.js';

/**
 * Chat: channels (organisation-wide, in spaces, DMs and group DMs), messages with threads, reactions,
 * pins, mentions and read state, realtime over the platform socket (audience `chat:<channelId>`, typing
 * and presence signals), incoming webhooks, moderation and retention. API in docs/api.md ("Chat"),
 * socket protocol in docs/realtime.md.
 */
export const RETENTION_JOB = 'chat.retention';
const RETENTION_EVERY_MS = 3600 * 1000;

async function scheduleRetention(platform: Platform, delayMs: number): Promise<void> {
  const pending = await platform.db.selectFrom('jobs').select('id').where('name', '=', RETENTION_JOB).where('status', 'in', ['queued', 'running']).executeTakeFirst();
  if (!pending) await platform.jobs.enqueue(RETENTION_JOB, {}, { runAt: platform.clock.now() + delayMs });
}

export const chatModule: BastideModule = {
  name: 'chat',
  migrations: [...chatMigrations, ...previewMigrations, ...outgoingMigrations, ...prefsMigrations, ...botMigrations, ...dndMigrations],
  policies: {
    'chat-channel': chatChannelRule,
    // Slack/Mattermost workspace imports create channels for many people: administrators, interactively.
    'chat-import': (actor) => actor.kind === 'user' && actor.isAdmin && actor.via !== 'app-password',
    // Creating, rotating and revoking bots: administrators.
    'chat-bot': (actor) => actor.kind === 'user' && actor.isAdmin && actor.via !== 'app-password',
  },
  auditActions: ['chat.channel.created', 'chat.channel.updated', 'chat.member.set', 'chat.member.removed', 'chat.message.moderated', 'chat.hook.created', 'chat.hook.revoked', 'chat.retention.applied', 'chat.import.applied', 'chat.outgoing_hook.created', 'chat.outgoing_hook.revoked', 'chat.bot.created', 'chat.bot.token_rotated', 'chat.bot.revoked', 'chat.bot.added', 'chat.bot.removed'],
  async routes(app, platform) {
    chatRoutes(app, platform);
    await chatPortabilityRoutes(app, platform);
    previewRoutes(app, platform);
    outgoingRoutes(app, platform);
    prefsRoutes(app, platform);
    botRoutes(app, platform);
    dndRoutes(app, platform);
  },
  portability: {
    export: (platform, userId) => exportUserChat(platform, userId),
    // One's own archive back: the channels come back as new private channels, owned by the importer.
    import: async (platform, userId, files) => ({ imported: (await writeImported(platform, userId, await fromBastideExport(platform, files))).messages }),
  },
  // Membership changes (here or on another node) make the cached channel audiences stale.
  events: [
    { topic: MEMBERSHIP_TOPICS, handle: membershipConsumer },
    {
      // Someone who leaves a space leaves its private channels too (re-joining the space later does not
      // bring them back). Idempotent: every node may run it.
      topic: 'spaces.member.removed',
      async handle(e, platform) {
        const { spaceId, userId } = e.data as { spaceId: string; userId: string };
        const channels = platform.db.selectFrom('chat_channels').select('id').where('space_id', '=', spaceId);
        await platform.db.deleteFrom('chat_members').where('user_id', '=', userId).where('channel_id', 'in', channels).execute();
        await platform.db.deleteFrom('chat_thread_read').where('user_id', '=', userId).where('channel_id', 'in', channels).execute();
      },
    },
  ],
  jobs: {
    [PREVIEW_JOB]: { handler: (platform) => previewJob(platform), options: { maxAttempts: 2 } },
    [OUTGOING_JOB]: { handler: (platform) => outgoingJob(platform), options: { maxAttempts: 3 } },
    [RETENTION_JOB]: {
      handler: (platform) => async () => {
        const n = await applyRetention(platform);
        if (n > 0) platform.log.info({ deleted: n }, 'chat retention applied');
        await platform.jobs.enqueue(RETENTION_JOB, {}, { runAt: platform.clock.now() + RETENTION_EVERY_MS });
      },
      options: { maxAttempts: 3 },
    },
  },
  async search(platform, actor, query, limit) {
    if (actor.kind !== 'user' || !(await platform.policy.can(actor, 'browse', { type: 'chat-channel' }))) return [];
    const q = query.trim();
    if (q.length < 2) return [];
    const ids = await myChannelIds(platform.db, actor.userId);
    if (ids.length === 0) return [];
    const rows = await platform.db
      .selectFrom('chat_messages as m')
      .innerJoin('chat_channels as c', 'c.id', 'm.channel_id')
      .leftJoin('users as u', 'u.id', 'm.user_id')
      .select(['m.id', 'm.channel_id', 'm.root_id', 'm.body', 'c.name', 'c.kind', 'u.display_name', 'm.author_name'])
      .where('m.channel_id', 'in', ids)
      .where('m.deleted_at', 'is', null)
      .where((eb) => eb(eb.fn('lower', ['m.body']), 'like', likePattern(q)))
      .orderBy('m.id', 'desc')
      .limit(Math.min(limit, 50))
      .execute();
    return rows.map((r) => ({
      type: 'chat-message',
      id: r.id,
      title: r.body.length > 120 ? `${r.body.slice(0, 119)}…` : r.body,
      subtitle: `${r.display_name ?? r.author_name ?? ''}${r.kind === 'dm' || r.kind === 'group' ? '' : ` · #${r.name}`}`,
      link: `/chat/${r.channel_id}/${r.root_id ? `${r.root_id}?reply=${r.id}` : r.id}`,
    }));
  },
  async usage(platform) {
    const c = await platform.db.selectFrom('chat_channels').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const m = await platform.db.selectFrom('chat_messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { channels: Number(c.n), messages: Number(m.n) };
  },
  async init(platform) {
    registerRealtime(platform);
    await scheduleRetention(platform, 60_000);
  },
};
