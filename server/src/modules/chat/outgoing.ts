import { randomBytes } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { AppError } from '../../errors.js';
import { newId } from '../../platform/ids.js';
import type { Migration } from '../../platform/db/migrate.js';
import type { Tx } from '../../platform/db/index.js';
import type { App, Platform } from '../../platform/module.js';
import { requireUser } from '../../platform/policy.js';
import { safeFetch } from '../../platform/net/safe-fetch.js';
import { authorizeChannel, loadMessage, postMessage } from './commands.js';
import { cleanAttachments, slackToMarkdown } from './hooks.js';
import { getChannel } from './repo.js';

/**
 * Outgoing webhooks, as Slack and Mattermost have them: a channel manager names a URL and trigger words;
 * a message from a person whose first word is (or starts with) a trigger is POSTed there as JSON
 * (`token, channel_id, channel_name, timestamp, user_id, user_name, post_id, text, trigger_word`), by a
 * durable job, through the SSRF-safe fetch. A JSON answer with `text` (and optionally `username`,
 * `icon_emoji`, `attachments`) is posted back into the channel as the integration — so existing bots
 * (stand-up reminders, ticket lookups) keep working. Posts by integrations never trigger hooks (no loops).
 */
export const OUTGOING_JOB = 'chat.outgoing';
const MAX_HOOKS_PER_CHANNEL = 20;

declare module '../../platform/db/schema.js' {
  interface Database {
    chat_outgoing_hooks: {
      id: string;
      channel_id: string;
      name: string;
      url: string;
      /** JSON array of trigger words. */
      triggers: string;
      /** 'first_word' (exact) or 'starts_with'. */
      trigger_when: string;
      /** Sent with each call so the receiver can check the caller (shown to channel managers). */
      token: string;
      created_by: string | null;
      created_at: number;
      revoked_at: number | null;
    };
  }
}

export const outgoingMigrations: Migration[] = [
  {
    id: '0003_outgoing_hooks',
    async up(db) {
      await db.schema
        .createTable('chat_outgoing_hooks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('channel_id', 'text', (c) => c.notNull().references('chat_channels.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('triggers', 'text', (c) => c.notNull())
        .addColumn('trigger_when', 'text', (c) => c.notNull())
        .addColumn('token', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema.createIndex('chat_outgoing_hooks_channel').on('chat_outgoing_hooks').columns(['channel_id']).execute();
    },
  },
];

/** The trigger a message fires, if any: its first word compared without case. */
export function triggerOf(text: string, triggers: string[], when: string): string | null {
  const first = text.trim().split(/\s+/, 1)[0]?.toLowerCase() ?? '';
  if (!first) return null;
  for (const t of triggers) {
    const w = t.toLowerCase();
    if (when === 'starts_with' ? first.startsWith(w) : first === w) return t;
  }
  return null;
}

/** In the transaction that posts a person's message: one job per hook it triggers. */
export async function queueOutgoing(platform: Platform, trx: Tx, channelId: string, messageId: string, text: string): Promise<void> {
  const hooks = await trx.selectFrom('chat_outgoing_hooks').select(['id', 'triggers', 'trigger_when']).where('channel_id', '=', channelId).where('revoked_at', 'is', null).execute();
  for (const h of hooks) {
    const trigger = triggerOf(text, JSON.parse(h.triggers) as string[], h.trigger_when);
    if (trigger !== null) await platform.jobs.enqueue(OUTGOING_JOB, { hookId: h.id, messageId, trigger }, { trx, maxAttempts: 3 });
  }
}

export function outgoingJob(platform: Platform): (payload: Record<string, unknown>) => Promise<void> {
  return async (payload) => {
    const hook = await platform.db.selectFrom('chat_outgoing_hooks').selectAll().where('id', '=', String(payload.hookId)).where('revoked_at', 'is', null).executeTakeFirst();
    const msg = await loadMessage(platform.db, String(payload.messageId));
    if (!hook || !msg || msg.deleted_at !== null) return;
    const channel = await getChannel(platform.db, hook.channel_id);
    if (!channel || channel.archived === 1) return;
    const author = msg.user_id ? await platform.db.selectFrom('users').select(['login']).where('id', '=', msg.user_id).executeTakeFirst() : undefined;
    const body = JSON.stringify({
      token: hook.token,
      team_id: '',
      team_domain: new URL(platform.config.baseUrl).hostname,
      channel_id: channel.id,
      channel_name: channel.name,
      timestamp: Number(msg.created_at),
      user_id: msg.user_id,
      user_name: author?.login ?? '',
      post_id: msg.id,
      text: msg.body,
      trigger_word: String(payload.trigger ?? ''),
    });
    let res;
    try {
      res = await safeFetch(hook.url, { method: 'POST', body, headers: { 'content-type': 'application/json', accept: 'application/json' }, maxBytes: 256 * 1024, timeoutMs: 10_000, allow: platform.config.fetchAllow });
    } catch (e) {
      // A refused address will not become reachable by retrying; a network error may.
      if (e instanceof AppError) {
        platform.log.warn({ hookId: hook.id, reason: e.details?.reason }, 'chat: outgoing webhook refused');
        return;
      }
      throw e;
    }
    if (res.status >= 500) throw new Error(`outgoing webhook answered ${res.status}`);
    if (res.status < 200 || res.status >= 300 || !String(res.headers['content-type'] ?? '').includes('json')) return;
    let reply: Record<string, unknown>;
    try {
      reply = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return;
    }
    const text = typeof reply.text === 'string' ? slackToMarkdown(reply.text.slice(0, 40_000), channel.mention_all === 'all') : '';
    const attachments = cleanAttachments(reply.attachments);
    if (!text.trim() && !attachments) return;
    const username = typeof reply.username === 'string' && reply.username.trim() ? reply.username.trim().slice(0, 80) : hook.name;
    const icon = typeof reply.icon_emoji === 'string' && /^:[a-z0-9_+-]{1,50}:$/.test(reply.icon_emoji) ? reply.icon_emoji : null;
    await postMessage({ platform, actor: { kind: 'system' } }, channel.id, { text, hook: { id: hook.id, username, iconEmoji: icon, attachments } });
  };
}

const strict = { additionalProperties: false } as const;
const Id = Type.String({ pattern: '^[0-9A-HJKMNP-TV-Z]{26}$' });
const HookView = Type.Object({ id: Type.String(), name: Type.String(), url: Type.String(), triggers: Type.Array(Type.String()), triggerWhen: Type.Union([Type.Literal('first_word'), Type.Literal('starts_with')]), token: Type.String(), createdAt: Type.Number() });
const HookBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 80 }),
    url: Type.String({ minLength: 8, maxLength: 2000, pattern: '^https?://' }),
    triggers: Type.Array(Type.String({ minLength: 1, maxLength: 50, pattern: '^\\S+$' }), { minItems: 1, maxItems: 10 }),
    triggerWhen: Type.Optional(Type.Union([Type.Literal('first_word'), Type.Literal('starts_with')])),
  },
  strict,
);

export function outgoingRoutes(app: App, platform: Platform): void {
  const tags = ['chat'];
  const view = (h: { id: string; name: string; url: string; triggers: string; trigger_when: string; token: string; created_at: number }): Static<typeof HookView> => ({
    id: h.id, name: h.name, url: h.url, triggers: JSON.parse(h.triggers) as string[], triggerWhen: h.trigger_when === 'starts_with' ? 'starts_with' : 'first_word', token: h.token, createdAt: Number(h.created_at),
  });
  app.get<{ Params: { id: string } }>('/chat/channels/:id/outgoing-hooks', { schema: { tags, summary: "A channel's outgoing webhooks (managers)", params: Type.Object({ id: Id }, strict), response: { 200: Type.Object({ items: Type.Array(HookView) }) } } }, async (req) => {
    await authorizeChannel({ platform, actor: req.actor, ip: req.ip }, req.params.id, 'manage');
    const rows = await platform.db.selectFrom('chat_outgoing_hooks').selectAll().where('channel_id', '=', req.params.id).where('revoked_at', 'is', null).orderBy('created_at').execute();
    return { items: rows.map(view) };
  });
  app.post<{ Params: { id: string }; Body: Static<typeof HookBody> }>(
    '/chat/channels/:id/outgoing-hooks',
    { schema: { tags, summary: 'Add an outgoing webhook: messages starting with a trigger word are POSTed to the URL', params: Type.Object({ id: Id }, strict), body: HookBody, response: { 201: Type.Object({ item: HookView }) } } },
    async (req, reply) => {
      const me = requireUser(req.actor);
      await authorizeChannel({ platform, actor: req.actor, ip: req.ip }, req.params.id, 'manage');
      try {
        const u = new URL(req.body.url);
        if (u.username || u.password) throw new Error('credentials');
      } catch {
        throw new AppError('validation_failed', { fields: [{ path: '/url', message: 'an http(s) URL without credentials' }] });
      }
      const now = platform.clock.now();
      const row = {
        id: newId(now), channel_id: req.params.id, name: req.body.name.trim(), url: req.body.url, triggers: JSON.stringify([...new Set(req.body.triggers)]),
        trigger_when: req.body.triggerWhen ?? 'first_word', token: randomBytes(24).toString('base64url'), created_by: me.userId, created_at: now, revoked_at: null,
      };
      await platform.transaction(async (trx) => {
        const n = await trx.selectFrom('chat_outgoing_hooks').select((eb) => eb.fn.countAll<number>().as('n')).where('channel_id', '=', req.params.id).where('revoked_at', 'is', null).executeTakeFirstOrThrow();
        if (Number(n.n) >= MAX_HOOKS_PER_CHANNEL) throw new AppError('conflict', { reason: 'too_many_hooks', max: MAX_HOOKS_PER_CHANNEL });
        await trx.insertInto('chat_outgoing_hooks').values(row).execute();
        await platform.audit.record(trx, { actor: req.actor, action: 'chat.outgoing_hook.created', targetType: 'chat-channel', targetId: req.params.id, ip: req.ip, details: { id: row.id, name: row.name, url: row.url } });
      });
      return reply.status(201).send({ item: view(row) });
    },
  );
  app.delete<{ Params: { id: string } }>('/chat/outgoing-hooks/:id', { schema: { tags, summary: 'Remove an outgoing webhook', params: Type.Object({ id: Id }, strict) } }, async (req, reply) => {
    const hook = await platform.db.selectFrom('chat_outgoing_hooks').select(['id', 'channel_id']).where('id', '=', req.params.id).where('revoked_at', 'is', null).executeTakeFirst();
    if (!hook) throw new AppError('not_found');
    await authorizeChannel({ platform, actor: req.actor, ip: req.ip }, hook.channel_id, 'manage');
    await platform.transaction(async (trx) => {
      await trx.updateTable('chat_outgoing_hooks').set({ revoked_at: platform.clock.now() }).where('id', '=', hook.id).execute();
      await platform.audit.record(trx, { actor: req.actor, action: 'chat.outgoing_hook.revoked', targetType: 'chat-channel', targetId: hook.channel_id, ip: req.ip, details: { id: hook.id } });
    });
    return reply.status(204).send();
  });
}
