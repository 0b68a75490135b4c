import { Type } from '@sinclair/typebox';
import { AppError } from '../../errors.js';
import type { App, Platform } from '../../platform/module.js';
import { hashToken, postMessage, takeToken } from './commands.js';
import { channelResource } from './policy.js';
import type { AttachmentT } from './views.js';

/**
 * Incoming webhooks, Slack-compatible: POST /api/chat/hooks/<token> with a JSON body
 * {text, username, icon_emoji, attachments: [{fallback, color, pretext, title, title_link, text, fields}]}.
 * No session: the token (shown once to the channel manager who created it, stored hashed) is the
 * credential. Answers `ok` like Slack. Slack's link and mention markup is turned into Markdown.
 */
const MAX_ATTACHMENTS = 20;
const MAX_FIELDS = 20;
const COLOR = /^(#[0-9a-fA-F]{6}|good|warning|danger)$/;
const TOKEN = '^bwh_[A-Za-z0-9_-]{32}$';

const str = (v: unknown, max: number): string | undefined => {
  if (typeof v !== 'string') return undefined;
  // eslint-disable-next-line no-control-regex
  const s = v.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '').slice(0, max);
  return s.length ? s : undefined;
};

function safeUrl(v: unknown): string | undefined {
  if (typeof v !== 'string' || v.length > 2000) return undefined;
  try {
    const u = new URL(v);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** Slack mrkdwn → Markdown: <url|label> links, <url>, <!channel>/<!here>; @channel neutralised when not allowed. */
export function slackToMarkdown(text: string, mentionAllAllowed: boolean): string {
  let out = text.replace(/<!(channel|here|everyone)(\|[^>]*)?>/g, (_m, w: string) => `@${w === 'everyone' ? 'channel' : w}`);
  out = out.replace(/<((?:https?|mailto):[^|>\s]+)(?:\|([^>]*))?>/g, (_m, url: string, label?: string) => (label ? `[${label.replace(/[[\]]/g, '')}](${url})` : url));
  out = out.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  if (!mentionAllAllowed) out = out.replace(/(^|[^\w@`])@(channel|here|all|everyone)\b/gi, (_m, pre: string, w: string) => `${pre}\`@${w}\``);
  return out;
}

export function cleanAttachments(v: unknown): AttachmentT[] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v)) throw new AppError('validation_failed', { fields: [{ path: '/attachments', message: 'must be an array' }] });
  if (v.length > MAX_ATTACHMENTS) throw new AppError('validation_failed', { fields: [{ path: '/attachments', message: `at most ${MAX_ATTACHMENTS}` }] });
  const out: AttachmentT[] = [];
  for (const [i, a] of v.entries()) {
    if (typeof a !== 'object' || a === null || Array.isArray(a)) throw new AppError('validation_failed', { fields: [{ path: `/attachments/${i}`, message: 'must be an object' }] });
    const o = a as Record<string, unknown>;
    const att: AttachmentT = {};
    const fallback = str(o.fallback, 1000);
    if (fallback) att.fallback = fallback;
    if (typeof o.color === 'string' && COLOR.test(o.color)) att.color = o.color;
    const pretext = str(o.pretext, 1000);
    if (pretext) att.pretext = pretext;
    const title = str(o.title, 250);
    if (title) att.title = title;
    const link = safeUrl(o.title_link);
    if (link) att.titleLink = link;
    const text = str(o.text, 4000);
    if (text) att.text = text;
    if (Array.isArray(o.fields)) {
      att.fields = o.fields
        .slice(0, MAX_FIELDS)
        .filter((f): f is Record<string, unknown> => typeof f === 'object' && f !== null)
        .map((f) => ({ title: str(f.title, 250) ?? '', value: str(f.value, 2000) ?? '', short: f.short === true }));
    }
    if (Object.keys(att).length > 0) out.push(att);
  }
  return out.length ? out : null;
}

export function hookRoutes(app: App, platform: Platform): void {
  app.post(
    '/chat/hooks/:token',
    {
      schema: {
        tags: ['chat'],
        summary: 'Incoming webhook (Slack-compatible payload)',
        params: Type.Object({ token: Type.String({ pattern: TOKEN }) }, { additionalProperties: false }),
        // Slack payloads carry more (blocks, channel, mrkdwn…): accepted and ignored.
        body: Type.Object(
          {
            text: Type.Optional(Type.String({ maxLength: 40_000 })),
            username: Type.Optional(Type.String({ maxLength: 200 })),
            icon_emoji: Type.Optional(Type.String({ maxLength: 100 })),
            attachments: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 100 })),
          },
          { additionalProperties: true },
        ),
      },
    },
    async (req, reply) => {
      const hook = await platform.db
        .selectFrom('chat_hooks')
        .select(['id', 'channel_id', 'name'])
        .where('token_hash', '=', hashToken(req.params.token))
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (!hook) throw new AppError('not_found');
      takeToken(platform, `hook:${hook.id}`, 30, 1);
      const channel = await channelResource(platform.db, hook.channel_id, { kind: 'system' });
      if (!channel) throw new AppError('not_found');
      const attachments = cleanAttachments(req.body.attachments);
      const raw = req.body.text ?? '';
      if (raw.trim() === '' && !attachments) throw new AppError('validation_failed', { fields: [{ path: '/text', message: 'text or attachments required' }] });
      const text = slackToMarkdown(raw, channel.mentionAll === 'all');
      const icon = typeof req.body.icon_emoji === 'string' && /^:[a-z0-9_+-]{1,50}:$/.test(req.body.icon_emoji) ? req.body.icon_emoji : null;
      await postMessage({ platform, actor: { kind: 'system' }, ip: req.ip }, hook.channel_id, {
        text,
        hook: { id: hook.id, username: str(req.body.username, 80)?.trim() || hook.name, iconEmoji: icon, attachments },
      });
      return reply.status(200).type('text/plain; charset=utf-8').send('ok');
    },
  );
}
