import { randomBytes } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import { newId } from '../../platform/ids.js';
import type { Migration } from '../../platform/db/migrate.js';
import type { App, Platform } from '../../platform/module.js';
import { requireUser, type UserActor } from '../../platform/policy.js';
import { authorizeChannel, cleanText, hashToken as hash, postMessage, takeToken } from './commands.js';
import { cleanAttachments } from './hooks.js';
import { MessageView, messageViews } from './views.js';

/**
 * Bot accounts for integrations that talk both ways (what Slack's and Mattermost's bot tokens do): an
 * administrator creates a bot and gets its token once (stored hashed); channel managers add it to their
 * channels; with `Authorization: Bearer bstbot_…` it lists its channels, reads their history (polling
 * with `after`) and posts (messages and thread replies), shown as the bot. A bot reaches only the
 * channels it was added to, cannot read DMs it is not in, and is not a person: it has no session, no
 * drive, no socket (events: outgoing webhooks). Revoking the bot or removing it from a channel takes
 * effect at once.
 */
declare module '../../platform/db/schema.js' {
  interface Database {
    chat_bots: { id: string; name: string; icon_emoji: string | null; description: string; token_hash: string; created_by: string | null; created_at: number; revoked_at: number | null };
    chat_bot_channels: { bot_id: string; channel_id: string; added_by: string | null; added_at: number };
  }
}

export const botMigrations: Migration[] = [
  {
    id: '0005_bots',
    async up(db) {
      await db.schema
        .createTable('chat_bots')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('icon_emoji', 'text')
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_by', 'text', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema
        .createTable('chat_bot_channels')
        .addColumn('bot_id', 'text', (c) => c.notNull().references('chat_bots.id').onDelete('cascade'))
        .addColumn('channel_id', 'text', (c) => c.notNull().references('chat_channels.id').onDelete('cascade'))
        .addColumn('added_by', 'text', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('added_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('chat_bot_channels_pk', ['bot_id', 'channel_id'])
        .execute();
    },
  },
];

const strict = { additionalProperties: false } as const;
const Id = Type.String({ pattern: '^[0-9A-HJKMNP-TV-Z]{26}$' });
const Emoji = Type.String({ pattern: '^:[a-z0-9_+-]{1,50}:$' });
const BotView = Type.Object({ id: Type.String(), name: Type.String(), iconEmoji: Type.Union([Type.String(), Type.Null()]), description: Type.String(), createdAt: Type.Number(), channels: Type.Integer() });
const BotBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 80 }), iconEmoji: Type.Optional(Emoji), description: Type.Optional(Type.String({ maxLength: 500 })) }, strict);
const TOKEN_RE = /^Bearer\s+(bstbot_[A-Za-z0-9_-]{32})$/;

type BotRow = { id: string; name: string; icon_emoji: string | null };

/** The bot calling (its token in Authorization), or 401. */
async function callingBot(platform: Platform, req: FastifyRequest): Promise<BotRow> {
  const m = TOKEN_RE.exec(String(req.headers.authorization ?? ''));
  if (!m) throw new AppError('unauthenticated');
  const bot = await platform.db.selectFrom('chat_bots').select(['id', 'name', 'icon_emoji']).where('token_hash', '=', hash(m[1]!)).where('revoked_at', 'is', null).executeTakeFirst();
  if (!bot) throw new AppError('unauthenticated');
  return bot;
}

/** The channel, if the bot was added to it (404 otherwise: a bot learns nothing of other channels). */
async function botChannel(platform: Platform, bot: BotRow, channelId: string): Promise<{ id: string; archived: number }> {
  const c = await platform.db
    .selectFrom('chat_bot_channels')
    .innerJoin('chat_channels', 'chat_channels.id', 'chat_bot_channels.channel_id')
    .select(['chat_channels.id', 'chat_channels.archived'])
    .where('chat_bot_channels.bot_id', '=', bot.id)
    .where('chat_bot_channels.channel_id', '=', channelId)
    .executeTakeFirst();
  if (!c) throw new AppError('not_found');
  return c;
}

/** Message views as a bot sees them (no reaction or mention is "mine"). */
const botReader = (bot: BotRow): UserActor => ({ kind: 'user', userId: `bot:${bot.id}`, login: '', isAdmin: false, via: 'token', scopes: [] });

export function botRoutes(app: App, platform: Platform): void {
  const tags = ['chat'];
  const adminOnly = async (actor: FastifyRequest['actor']): Promise<UserActor> => {
    const me = requireUser(actor);
    await platform.policy.authorize(actor, 'manage', { type: 'chat-bot' });
    return me;
  };
  const views = async (rows: Array<{ id: string; name: string; icon_emoji: string | null; description: string; created_at: number }>) => {
    const counts = new Map(
      rows.length
        ? (await platform.db.selectFrom('chat_bot_channels').select(['bot_id', (eb) => eb.fn.countAll<number>().as('n')]).where('bot_id', 'in', rows.map((r) => r.id)).groupBy('bot_id').execute()).map((r) => [r.bot_id, Number(r.n)])
        : [],
    );
    return rows.map((r) => ({ id: r.id, name: r.name, iconEmoji: r.icon_emoji, description: r.description, createdAt: Number(r.created_at), channels: counts.get(r.id) ?? 0 }));
  };

  // ---- administrators: the bots ----
  app.get('/chat/bots', { schema: { tags, summary: 'Bots (administrators; channel managers see the names to add them)', response: { 200: Type.Object({ items: Type.Array(BotView) }) } } }, async (req) => {
    requireUser(req.actor);
    const rows = await platform.db.selectFrom('chat_bots').select(['id', 'name', 'icon_emoji', 'description', 'created_at']).where('revoked_at', 'is', null).orderBy('name').execute();
    return { items: await views(rows) };
  });
  app.post<{ Body: Static<typeof BotBody> }>('/chat/bots', { schema: { tags, summary: 'Create a bot; its token is shown once', body: BotBody, response: { 201: Type.Object({ bot: BotView, token: Type.String() }) } } }, async (req, reply) => {
    const me = await adminOnly(req.actor);
    const now = platform.clock.now();
    const token = `bstbot_${randomBytes(24).toString('base64url')}`;
    const row = { id: newId(now), name: req.body.name.trim(), icon_emoji: req.body.iconEmoji ?? null, description: req.body.description?.trim() ?? '', token_hash: hash(token), created_by: me.userId, created_at: now, revoked_at: null };
    if (!row.name) throw new AppError('validation_failed', { fields: [{ path: '/name', message: 'required' }] });
    await platform.transaction(async (trx) => {
      await trx.insertInto('chat_bots').values(row).execute();
      await platform.audit.record(trx, { actor: req.actor, action: 'chat.bot.created', targetType: 'chat-bot', targetId: row.id, ip: req.ip, details: { name: row.name } });
    });
    return reply.status(201).send({ bot: (await views([row]))[0]!, token });
  });
  app.post<{ Params: { id: string } }>('/chat/bots/:id/token', { schema: { tags, summary: "Replace a bot's token (the old one stops at once)", params: Type.Object({ id: Id }, strict), response: { 200: Type.Object({ token: Type.String() }) } } }, async (req) => {
    await adminOnly(req.actor);
    const token = `bstbot_${randomBytes(24).toString('base64url')}`;
    await platform.transaction(async (trx) => {
      const r = await trx.updateTable('chat_bots').set({ token_hash: hash(token) }).where('id', '=', req.params.id).where('revoked_at', 'is', null).executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) throw new AppError('not_found');
      await platform.audit.record(trx, { actor: req.actor, action: 'chat.bot.token_rotated', targetType: 'chat-bot', targetId: req.params.id, ip: req.ip });
    });
    return { token };
  });
  app.delete<{ Params: { id: string } }>('/chat/bots/:id', { schema: { tags, summary: 'Revoke a bot', params: Type.Object({ id: Id }, strict) } }, async (req, reply) => {
    await adminOnly(req.actor);
    await platform.transaction(async (trx) => {
      const r = await trx.updateTable('chat_bots').set({ revoked_at: platform.clock.now() }).where('id', '=', req.params.id).where('revoked_at', 'is', null).executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) throw new AppError('not_found');
      await trx.deleteFrom('chat_bot_channels').where('bot_id', '=', req.params.id).execute();
      await platform.audit.record(trx, { actor: req.actor, action: 'chat.bot.revoked', targetType: 'chat-bot', targetId: req.params.id, ip: req.ip });
    });
    return reply.status(204).send();
  });

  // ---- channel managers: which bots are in a channel ----
  const ChannelBotParams = Type.Object({ id: Id, botId: Id }, strict);
  app.get<{ Params: { id: string } }>('/chat/channels/:id/bots', { schema: { tags, params: Type.Object({ id: Id }, strict), response: { 200: Type.Object({ items: Type.Array(BotView) }) } } }, async (req) => {
    await authorizeChannel({ platform, actor: req.actor, ip: req.ip }, req.params.id, 'read');
    const rows = await platform.db
      .selectFrom('chat_bot_channels')
      .innerJoin('chat_bots', 'chat_bots.id', 'chat_bot_channels.bot_id')
      .select(['chat_bots.id', 'chat_bots.name', 'chat_bots.icon_emoji', 'chat_bots.description', 'chat_bots.created_at'])
      .where('chat_bot_channels.channel_id', '=', req.params.id)
      .where('chat_bots.revoked_at', 'is', null)
      .orderBy('chat_bots.name')
      .execute();
    return { items: await views(rows) };
  });
  app.put<{ Params: Static<typeof ChannelBotParams> }>('/chat/channels/:id/bots/:botId', { schema: { tags, summary: 'Add a bot to a channel (managers)', params: ChannelBotParams } }, async (req, reply) => {
    const me = requireUser(req.actor);
    await authorizeChannel({ platform, actor: req.actor, ip: req.ip }, req.params.id, 'manage');
    const bot = await platform.db.selectFrom('chat_bots').select('id').where('id', '=', req.params.botId).where('revoked_at', 'is', null).executeTakeFirst();
    if (!bot) throw new AppError('not_found');
    await platform.transaction(async (trx) => {
      await trx.insertInto('chat_bot_channels').values({ bot_id: bot.id, channel_id: req.params.id, added_by: me.userId, added_at: platform.clock.now() }).onConflict((oc) => oc.columns(['bot_id', 'channel_id']).doNothing()).execute();
      await platform.audit.record(trx, { actor: req.actor, action: 'chat.bot.added', targetType: 'chat-channel', targetId: req.params.id, ip: req.ip, details: { botId: bot.id } });
    });
    return reply.status(204).send();
  });
  app.delete<{ Params: Static<typeof ChannelBotParams> }>('/chat/channels/:id/bots/:botId', { schema: { tags, summary: 'Remove a bot from a channel (managers)', params: ChannelBotParams } }, async (req, reply) => {
    await authorizeChannel({ platform, actor: req.actor, ip: req.ip }, req.params.id, 'manage');
    await platform.transaction(async (trx) => {
      const r = await trx.deleteFrom('chat_bot_channels').where('bot_id', '=', req.params.botId).where('channel_id', '=', req.params.id).executeTakeFirst();
      if (Number(r.numDeletedRows) !== 1) throw new AppError('not_found');
      await platform.audit.record(trx, { actor: req.actor, action: 'chat.bot.removed', targetType: 'chat-channel', targetId: req.params.id, ip: req.ip, details: { botId: req.params.botId } });
    });
    return reply.status(204).send();
  });

  // ---- the bot API (bot token) ----
  app.get('/chat/bot/channels', { schema: { tags, summary: 'Bot API: the channels this bot was added to', response: { 200: Type.Object({ items: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), kind: Type.String(), archived: Type.Boolean() })) }) } } }, async (req) => {
    const bot = await callingBot(platform, req);
    const rows = await platform.db
      .selectFrom('chat_bot_channels')
      .innerJoin('chat_channels', 'chat_channels.id', 'chat_bot_channels.channel_id')
      .select(['chat_channels.id', 'chat_channels.name', 'chat_channels.kind', 'chat_channels.archived'])
      .where('chat_bot_channels.bot_id', '=', bot.id)
      .orderBy('chat_channels.name')
      .execute();
    return { items: rows.map((r) => ({ id: r.id, name: r.name, kind: r.kind, archived: r.archived === 1 })) };
  });
  const HistoryQuery = Type.Object({ after: Type.Optional(Id), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })) }, strict);
  app.get<{ Params: { id: string }; Querystring: Static<typeof HistoryQuery> }>(
    '/chat/bot/channels/:id/messages',
    { schema: { tags, summary: 'Bot API: messages (and thread replies) after a message id, oldest first', params: Type.Object({ id: Id }, strict), querystring: HistoryQuery, response: { 200: Type.Object({ items: Type.Array(MessageView), hasMore: Type.Boolean() }) } } },
    async (req) => {
      const bot = await callingBot(platform, req);
      await botChannel(platform, bot, req.params.id);
      const limit = req.query.limit ?? 50;
      let q = platform.db.selectFrom('chat_messages').selectAll().where('channel_id', '=', req.params.id).where('deleted_at', 'is', null);
      if (req.query.after) q = q.where('id', '>', req.query.after);
      else q = q.where('created_at', '>=', platform.clock.now() - 24 * 3600 * 1000); // a new bot starts with the last day
      const rows = await q.orderBy('id').limit(limit + 1).execute();
      return { items: await messageViews(platform.db, botReader(bot), rows.slice(0, limit)), hasMore: rows.length > limit };
    },
  );
  const PostBody = Type.Object({ text: Type.String({ maxLength: 40_000 }), rootId: Type.Optional(Id), attachments: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 20 })) }, strict);
  app.post<{ Params: { id: string }; Body: Static<typeof PostBody> }>(
    '/chat/bot/channels/:id/messages',
    { schema: { tags, summary: 'Bot API: post a message or a thread reply as the bot', params: Type.Object({ id: Id }, strict), body: PostBody, response: { 201: Type.Object({ message: MessageView }) } } },
    async (req, reply) => {
      const bot = await callingBot(platform, req);
      const channel = await botChannel(platform, bot, req.params.id);
      if (channel.archived === 1) throw new AppError('conflict', { reason: 'archived' });
      takeToken(platform, `bot:${bot.id}`, 30, 2);
      const attachments = cleanAttachments(req.body.attachments);
      if (req.body.text.trim() === '' && !attachments) throw new AppError('validation_failed', { fields: [{ path: '/text', message: 'text or attachments required' }] });
      const id = await postMessage({ platform, actor: { kind: 'system' }, ip: req.ip }, req.params.id, {
        text: req.body.text.trim() === '' ? '' : cleanText(req.body.text),
        ...(req.body.rootId ? { rootId: req.body.rootId } : {}),
        hook: { id: bot.id, username: bot.name, iconEmoji: bot.icon_emoji, attachments },
      });
      const row = await platform.db.selectFrom('chat_messages').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      return reply.status(201).send({ message: (await messageViews(platform.db, botReader(bot), [row]))[0]! });
    },
  );
}
