import { Type } from '@sinclair/typebox';
import { AppError } from '../../errors.js';
import { likePattern } from '../../platform/db/index.js';
import type { App, Platform } from '../../platform/module.js';
import { requireUser } from '../../platform/policy.js';
import {
  authorizeChannel,
  authorizeMessage,
  createChannel,
  createHook,
  deleteMessage,
  editMessage,
  joinChannel,
  leaveChannel,
  markRead,
  markThreadRead,
  MAX_MESSAGE_CHARS,
  openDm,
  postMessage,
  removeMember,
  revokeHook,
  setMember,
  setPinned,
  toggleReaction,
  updateChannel,
  type ChatContext,
} from './commands.js';
import { channelMemberIds, myChannelIds, threadUnread } from './repo.js';
import { presenceOf, PRESENCE, setPresence } from './realtime.js';
import { ChannelView, MessageView, Person, channelViews, messageViews } from './views.js';
import { hookRoutes } from './hooks.js';

const strict = { additionalProperties: false } as const;
const Id = Type.String({ pattern: '^[0-9A-HJKMNP-TV-Z]{26}$' });
const IdParams = Type.Object({ id: Id }, strict);
// The schema bound is generous (a 4-byte character is 2 UTF-16 units); the command enforces the limit in characters.
const Text = Type.String({ minLength: 1, maxLength: MAX_MESSAGE_CHARS * 2 });
const MentionAllT = Type.Union([Type.Literal('all'), Type.Literal('managers'), Type.Literal('none')]);
const Page = Type.Object({ items: Type.Array(MessageView), hasMoreBefore: Type.Boolean(), hasMoreAfter: Type.Boolean() });

export function chatRoutes(app: App, platform: Platform): void {
  const tags = ['chat'];
  const ctx = (req: { actor: ChatContext['actor']; ip: string }): ChatContext => ({ platform, actor: req.actor, ip: req.ip });

  async function channelView(req: { actor: ChatContext['actor'] }, id: string) {
    const me = requireUser(req.actor);
    const row = await platform.db.selectFrom('chat_channels').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    return (await channelViews(platform, me, [row]))[0]!;
  }

  // ---- channels ----------------------------------------------------------------------------------

  app.get('/chat/channels', { schema: { tags, response: { 200: Type.Object({ items: Type.Array(ChannelView) }) } } }, async (req) => {
    const me = requireUser(req.actor);
    await platform.policy.authorize(req.actor, 'browse', { type: 'chat-channel' });
    const ids = await myChannelIds(platform.db, me.userId);
    if (ids.length === 0) return { items: [] };
    const rows = await platform.db.selectFrom('chat_channels').selectAll().where('id', 'in', ids).orderBy('kind').orderBy('name').execute();
    return { items: await channelViews(platform, me, rows) };
  });

  app.get(
    '/chat/channels/browse',
    { schema: { tags, querystring: Type.Object({ q: Type.Optional(Type.String({ maxLength: 80 })) }, strict), response: { 200: Type.Object({ items: Type.Array(ChannelView) }) } } },
    async (req) => {
      const me = requireUser(req.actor);
      await platform.policy.authorize(req.actor, 'browse', { type: 'chat-channel' });
      const mySpaces = platform.db.selectFrom('space_members').select('space_id').where('user_id', '=', me.userId);
      let q = platform.db
        .selectFrom('chat_channels')
        .selectAll()
        .where('visibility', '=', 'public')
        .where('archived', '=', 0)
        .where((eb) => eb.or([eb('kind', '=', 'org'), eb.and([eb('kind', '=', 'space'), eb('space_id', 'in', mySpaces)])]));
      if (req.query.q) q = q.where((eb) => eb(eb.fn('lower', ['name']), 'like', likePattern(req.query.q!)));
      const rows = await q.orderBy('name').limit(200).execute();
      return { items: await channelViews(platform, me, rows) };
    },
  );

  app.post(
    '/chat/channels',
    {
      schema: {
        tags,
        body: Type.Object(
          {
            kind: Type.Union([Type.Literal('org'), Type.Literal('space')]),
            spaceId: Type.Optional(Id),
            name: Type.String({ minLength: 1, maxLength: 80 }),
            topic: Type.Optional(Type.String({ maxLength: 250 })),
            visibility: Type.Union([Type.Literal('public'), Type.Literal('private')]),
          },
          strict,
        ),
        response: { 201: Type.Object({ channel: ChannelView }) },
      },
    },
    async (req, reply) => {
      const id = await createChannel(ctx(req), req.body);
      return reply.status(201).send({ channel: await channelView(req, id) });
    },
  );

  app.post(
    '/chat/dms',
    { schema: { tags, body: Type.Object({ userIds: Type.Array(Id, { minItems: 1, maxItems: 8, uniqueItems: true }) }, strict), response: { 200: Type.Object({ channel: ChannelView }) } } },
    async (req) => {
      const id = await openDm(ctx(req), req.body.userIds);
      return { channel: await channelView(req, id) };
    },
  );

  app.get('/chat/channels/:id', { schema: { tags, params: IdParams, response: { 200: Type.Object({ channel: ChannelView }) } } }, async (req) => {
    await authorizeChannel(ctx(req), req.params.id, 'see');
    return { channel: await channelView(req, req.params.id) };
  });

  app.patch(
    '/chat/channels/:id',
    {
      schema: {
        tags,
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
            topic: Type.Optional(Type.String({ maxLength: 250 })),
            archived: Type.Optional(Type.Boolean()),
            mentionAll: Type.Optional(MentionAllT),
            retentionDays: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 36500 }), Type.Null()])),
          },
          { ...strict, minProperties: 1 },
        ),
        response: { 200: Type.Object({ channel: ChannelView }) },
      },
    },
    async (req) => {
      await updateChannel(ctx(req), req.params.id, req.body);
      return { channel: await channelView(req, req.params.id) };
    },
  );

  app.post('/chat/channels/:id/join', { schema: { tags, params: IdParams, response: { 200: Type.Object({ channel: ChannelView }) } } }, async (req) => {
    await joinChannel(ctx(req), req.params.id);
    return { channel: await channelView(req, req.params.id) };
  });

  app.post('/chat/channels/:id/leave', { schema: { tags, params: IdParams } }, async (req, reply) => {
    await leaveChannel(ctx(req), req.params.id);
    return reply.status(204).send();
  });

  const MemberView = Type.Object({ id: Type.String(), login: Type.String(), displayName: Type.String(), role: Type.String() });
  app.get('/chat/channels/:id/members', { schema: { tags, params: IdParams, response: { 200: Type.Object({ items: Type.Array(MemberView) }) } } }, async (req) => {
    const r = await authorizeChannel(ctx(req), req.params.id, 'read');
    const ids = await channelMemberIds(platform.db, req.params.id);
    if (ids.length === 0) return { items: [] };
    const users = await platform.db.selectFrom('users').select(['id', 'login', 'display_name']).where('id', 'in', ids).orderBy('login').limit(5000).execute();
    const roles = new Map((await platform.db.selectFrom('chat_members').select(['user_id', 'role']).where('channel_id', '=', req.params.id).execute()).map((m) => [m.user_id, m.role]));
    const spaceRoles =
      r.kind === 'space' && r.spaceId
        ? new Map((await platform.db.selectFrom('space_members').select(['user_id', 'role']).where('space_id', '=', r.spaceId).execute()).map((m) => [m.user_id, m.role]))
        : new Map<string, string>();
    return {
      items: users.map((u) => {
        const sr = spaceRoles.get(u.id);
        const role = roles.get(u.id) === 'manager' || sr === 'owner' || sr === 'manager' ? 'manager' : 'member';
        return { id: u.id, login: u.login, displayName: u.display_name, role };
      }),
    };
  });

  app.put(
    '/chat/channels/:id/members/:userId',
    { schema: { tags, params: Type.Object({ id: Id, userId: Id }, strict), body: Type.Object({ role: Type.Union([Type.Literal('manager'), Type.Literal('member')]) }, strict) } },
    async (req, reply) => {
      await setMember(ctx(req), req.params.id, req.params.userId, req.body.role);
      return reply.status(204).send();
    },
  );

  app.delete('/chat/channels/:id/members/:userId', { schema: { tags, params: Type.Object({ id: Id, userId: Id }, strict) } }, async (req, reply) => {
    await removeMember(ctx(req), req.params.id, req.params.userId);
    return reply.status(204).send();
  });

  // ---- messages ----------------------------------------------------------------------------------

  app.get(
    '/chat/channels/:id/messages',
    {
      schema: {
        tags,
        params: IdParams,
        querystring: Type.Object(
          { before: Type.Optional(Id), after: Type.Optional(Id), around: Type.Optional(Id), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })) },
          strict,
        ),
        response: { 200: Page },
      },
    },
    async (req) => {
      const me = requireUser(req.actor);
      await authorizeChannel(ctx(req), req.params.id, 'read');
      const { before, after, around } = req.query;
      if ([before, after, around].filter((x) => x !== undefined).length > 1) throw new AppError('validation_failed', { fields: [{ path: '/before', message: 'one cursor at most' }] });
      const limit = req.query.limit ?? 50;
      const base = () => platform.db.selectFrom('chat_messages').selectAll().where('channel_id', '=', req.params.id).where('root_id', 'is', null);
      let items;
      let hasMoreBefore = false;
      let hasMoreAfter = false;
      if (after) {
        const rows = await base().where('id', '>', after).orderBy('id').limit(limit + 1).execute();
        hasMoreAfter = rows.length > limit;
        items = rows.slice(0, limit);
        hasMoreBefore = true;
      } else if (around) {
        const half = Math.max(1, Math.floor(limit / 2));
        const older = await base().where('id', '<=', around).orderBy('id', 'desc').limit(half + 1).execute();
        const newer = await base().where('id', '>', around).orderBy('id').limit(limit - half + 1).execute();
        hasMoreBefore = older.length > half;
        hasMoreAfter = newer.length > limit - half;
        items = [...older.slice(0, half).reverse(), ...newer.slice(0, limit - half)];
      } else {
        let q = base();
        if (before) q = q.where('id', '<', before);
        const rows = await q.orderBy('id', 'desc').limit(limit + 1).execute();
        hasMoreBefore = rows.length > limit;
        items = rows.slice(0, limit).reverse();
        hasMoreAfter = before !== undefined;
      }
      return { items: await messageViews(platform.db, me, items), hasMoreBefore, hasMoreAfter };
    },
  );

  app.post(
    '/chat/channels/:id/messages',
    { schema: { tags, params: IdParams, body: Type.Object({ text: Text, rootId: Type.Optional(Id) }, strict), response: { 201: Type.Object({ message: MessageView }) } } },
    async (req, reply) => {
      const me = requireUser(req.actor);
      const id = await postMessage(ctx(req), req.params.id, req.body);
      const row = await platform.db.selectFrom('chat_messages').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      return reply.status(201).send({ message: (await messageViews(platform.db, me, [row]))[0]! });
    },
  );

  app.get('/chat/messages/:id', { schema: { tags, params: IdParams, response: { 200: Type.Object({ message: MessageView }) } } }, async (req) => {
    const me = requireUser(req.actor);
    const { msg } = await authorizeMessage(ctx(req), req.params.id, 'read');
    return { message: (await messageViews(platform.db, me, [msg]))[0]! };
  });

  app.patch(
    '/chat/messages/:id',
    { schema: { tags, params: IdParams, body: Type.Object({ text: Text }, strict), response: { 200: Type.Object({ message: MessageView }) } } },
    async (req) => {
      const me = requireUser(req.actor);
      await editMessage(ctx(req), req.params.id, req.body.text);
      const row = await platform.db.selectFrom('chat_messages').selectAll().where('id', '=', req.params.id).executeTakeFirstOrThrow();
      return { message: (await messageViews(platform.db, me, [row]))[0]! };
    },
  );

  app.delete('/chat/messages/:id', { schema: { tags, params: IdParams } }, async (req, reply) => {
    await deleteMessage(ctx(req), req.params.id);
    return reply.status(204).send();
  });

  app.get(
    '/chat/messages/:id/thread',
    {
      schema: {
        tags,
        params: IdParams,
        querystring: Type.Object({ after: Type.Optional(Id), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })) }, strict),
        response: { 200: Type.Object({ root: MessageView, items: Type.Array(MessageView), hasMoreAfter: Type.Boolean(), lastReadId: Type.Union([Type.String(), Type.Null()]), unread: Type.Integer() }) },
      },
    },
    async (req) => {
      const me = requireUser(req.actor);
      const { msg } = await authorizeMessage(ctx(req), req.params.id, 'read');
      if (msg.root_id !== null) throw new AppError('not_found');
      const limit = req.query.limit ?? 100;
      let q = platform.db.selectFrom('chat_messages').selectAll().where('root_id', '=', msg.id);
      if (req.query.after) q = q.where('id', '>', req.query.after);
      const rows = await q.orderBy('id').limit(limit + 1).execute();
      const marker = await platform.db.selectFrom('chat_thread_read').select('last_read_id').where('root_id', '=', msg.id).where('user_id', '=', me.userId).executeTakeFirst();
      const views = await messageViews(platform.db, me, [msg, ...rows.slice(0, limit)]);
      return {
        root: views[0]!,
        items: views.slice(1),
        hasMoreAfter: rows.length > limit,
        lastReadId: marker?.last_read_id ?? null,
        unread: marker ? await threadUnread(platform.db, me.userId, msg.id, marker.last_read_id) : 0,
      };
    },
  );

  app.post(
    '/chat/messages/:id/reactions',
    { schema: { tags, params: IdParams, body: Type.Object({ emoji: Type.String({ minLength: 1, maxLength: 64 }) }, strict), response: { 200: Type.Object({ active: Type.Boolean() }) } } },
    async (req) => ({ active: await toggleReaction(ctx(req), req.params.id, req.body.emoji) }),
  );

  app.put('/chat/messages/:id/pin', { schema: { tags, params: IdParams } }, async (req, reply) => {
    await setPinned(ctx(req), req.params.id, true);
    return reply.status(204).send();
  });
  app.delete('/chat/messages/:id/pin', { schema: { tags, params: IdParams } }, async (req, reply) => {
    await setPinned(ctx(req), req.params.id, false);
    return reply.status(204).send();
  });

  app.get('/chat/channels/:id/pins', { schema: { tags, params: IdParams, response: { 200: Type.Object({ items: Type.Array(MessageView) }) } } }, async (req) => {
    const me = requireUser(req.actor);
    await authorizeChannel(ctx(req), req.params.id, 'read');
    const rows = await platform.db.selectFrom('chat_messages').selectAll().where('channel_id', '=', req.params.id).where('pinned_at', 'is not', null).orderBy('pinned_at', 'desc').limit(200).execute();
    return { items: await messageViews(platform.db, me, rows) };
  });

  // ---- read state --------------------------------------------------------------------------------

  app.post('/chat/channels/:id/read', { schema: { tags, params: IdParams, body: Type.Object({ messageId: Id }, strict) } }, async (req, reply) => {
    await markRead(ctx(req), req.params.id, req.body.messageId);
    return reply.status(204).send();
  });

  app.post('/chat/messages/:id/thread/read', { schema: { tags, params: IdParams, body: Type.Object({ messageId: Id }, strict) } }, async (req, reply) => {
    await markThreadRead(ctx(req), req.params.id, req.body.messageId);
    return reply.status(204).send();
  });

  const ThreadItem = Type.Object({ root: MessageView, unread: Type.Integer(), lastReadId: Type.Union([Type.String(), Type.Null()]) });
  app.get('/chat/threads', { schema: { tags, response: { 200: Type.Object({ items: Type.Array(ThreadItem) }) } } }, async (req) => {
    const me = requireUser(req.actor);
    await platform.policy.authorize(req.actor, 'browse', { type: 'chat-channel' });
    const channels = await myChannelIds(platform.db, me.userId);
    if (channels.length === 0) return { items: [] };
    const follows = await platform.db
      .selectFrom('chat_thread_read as t')
      .innerJoin('chat_messages as m', 'm.id', 't.root_id')
      .select(['t.root_id', 't.last_read_id'])
      .where('t.user_id', '=', me.userId)
      .where('t.channel_id', 'in', channels)
      .orderBy('m.last_reply_id', 'desc')
      .limit(100)
      .execute();
    if (follows.length === 0) return { items: [] };
    const roots = await platform.db.selectFrom('chat_messages').selectAll().where('id', 'in', follows.map((f) => f.root_id)).execute();
    const views = new Map((await messageViews(platform.db, me, roots)).map((v) => [v.id, v]));
    const items = [];
    for (const f of follows) {
      const root = views.get(f.root_id);
      if (root) items.push({ root, lastReadId: f.last_read_id, unread: await threadUnread(platform.db, me.userId, f.root_id, f.last_read_id) });
    }
    return { items };
  });

  // ---- presence ----------------------------------------------------------------------------------

  const PresenceT = Type.Union([Type.Literal('online'), Type.Literal('away'), Type.Literal('dnd'), Type.Literal('offline')]);
  app.get(
    '/chat/presence',
    { schema: { tags, querystring: Type.Object({ userIds: Type.String({ pattern: '^[0-9A-HJKMNP-TV-Z]{26}(,[0-9A-HJKMNP-TV-Z]{26}){0,199}$' }) }, strict), response: { 200: Type.Object({ items: Type.Array(Type.Object({ userId: Type.String(), status: PresenceT })) }) } } },
    async (req) => {
      requireUser(req.actor);
      await platform.policy.authorize(req.actor, 'browse', { type: 'chat-channel' });
      const ids = [...new Set(req.query.userIds.split(','))];
      const p = await presenceOf(platform, ids);
      return { items: ids.map((userId) => ({ userId, status: p.get(userId) ?? 'offline' })) };
    },
  );

  app.put(
    '/chat/presence',
    { schema: { tags, body: Type.Object({ status: Type.Union(PRESENCE.map((p) => Type.Literal(p))) }, strict) } },
    async (req, reply) => {
      const me = requireUser(req.actor);
      await platform.policy.authorize(req.actor, 'browse', { type: 'chat-channel' });
      await setPresence(platform, me.userId, req.body.status);
      return reply.status(204).send();
    },
  );

  // ---- webhooks (management, and the incoming endpoint) -------------------------------------------

  const HookView = Type.Object({ id: Type.String(), name: Type.String(), createdAt: Type.Number(), createdBy: Type.Union([Person, Type.Null()]) });
  app.get('/chat/channels/:id/hooks', { schema: { tags, params: IdParams, response: { 200: Type.Object({ items: Type.Array(HookView) }) } } }, async (req) => {
    await authorizeChannel(ctx(req), req.params.id, 'manage');
    const rows = await platform.db
      .selectFrom('chat_hooks')
      .leftJoin('users', 'users.id', 'chat_hooks.created_by')
      .select(['chat_hooks.id', 'chat_hooks.name', 'chat_hooks.created_at', 'users.id as uid', 'users.login', 'users.display_name'])
      .where('chat_hooks.channel_id', '=', req.params.id)
      .where('chat_hooks.revoked_at', 'is', null)
      .orderBy('chat_hooks.created_at')
      .execute();
    return {
      items: rows.map((r) => ({ id: r.id, name: r.name, createdAt: Number(r.created_at), createdBy: r.uid ? { id: r.uid, login: r.login!, displayName: r.display_name! } : null })),
    };
  });
  app.post(
    '/chat/channels/:id/hooks',
    { schema: { tags, params: IdParams, body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 80 }) }, strict), response: { 201: Type.Object({ id: Type.String(), token: Type.String(), url: Type.String() }) } } },
    async (req, reply) => {
      const h = await createHook(ctx(req), req.params.id, req.body.name);
      return reply.status(201).send({ ...h, url: `${platform.config.baseUrl}/api/chat/hooks/${h.token}` });
    },
  );
  app.delete('/chat/hooks/:id', { schema: { tags, params: IdParams } }, async (req, reply) => {
    await revokeHook(ctx(req), req.params.id);
    return reply.status(204).send();
  });
  hookRoutes(app, platform);
}
