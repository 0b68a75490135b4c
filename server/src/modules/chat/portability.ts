import { AppError } from '../../errors.js';
import { newId } from '../../platform/ids.js';
import type { Tx } from '../../platform/db/index.js';
import type { ExportFile, Platform } from '../../platform/module.js';
import { slackToMarkdown } from './hooks.js';
import { channelMemberIds, getChannel, myChannelIds, type ChannelRow } from './repo.js';
import { audienceOf, MAX_MESSAGE_CHARS } from './commands.js';

/**
 * Chat reversibility. A channel exports as JSON (`bastide.chat/1`: the channel, its members by login,
 * every message with its thread, reactions, pin and edit marks) and as one readable HTML page; a user's
 * export (the platform archive) holds both for every channel they belong to. Import takes the same JSON
 * back, a Slack export (the workspace zip: users.json, channels.json, <channel>/<day>.json) or a
 * Mattermost bulk export (JSONL). Authors are matched to Bastide accounts by e-mail, then login; someone
 * with no account keeps their name on the message (like a webhook post). Dates and threads are kept;
 * imported channels are new organisation channels (nothing is merged into an existing one), private
 * unless the source said public. Everything is checked and bounded before anything is written, and
 * each channel is written in one transaction.
 */
export const CHAT_EXPORT_FORMAT = 'bastide.chat/1';
/** Bounds on what one import may bring. */
export const IMPORT_LIMITS = { channels: 500, messagesPerChannel: 200_000, messages: 1_000_000, users: 50_000 };

export interface ExportedMessage {
  id: string;
  threadOf: string | null;
  author: string | null;
  authorName: string | null;
  text: string;
  createdAt: string;
  editedAt: string | null;
  pinned: boolean;
  reactions: Array<{ emoji: string; by: string }>;
}

export interface ChannelExport {
  format: typeof CHAT_EXPORT_FORMAT;
  exportedAt: string;
  channel: { id: string; name: string; kind: string; visibility: string; topic: string; createdAt: string; archived: boolean };
  members: string[];
  messages: ExportedMessage[];
}

/** A channel about to be written by an import, whatever its source. */
export interface ImportedChannel {
  name: string;
  topic: string;
  visibility: 'public' | 'private';
  archived: boolean;
  /** Bastide user ids. */
  members: string[];
  messages: ImportedMessage[];
}

export interface ImportedMessage {
  /** The source's id, for threads. */
  key: string;
  parentKey: string | null;
  userId: string | null;
  authorName: string | null;
  text: string;
  createdAt: number;
  editedAt: number | null;
  pinned: boolean;
  reactions: Array<{ userId: string; emoji: string }>;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(Number(ms)).toISOString());

export async function exportChannel(platform: Platform, channel: ChannelRow): Promise<ChannelExport> {
  const db = platform.db;
  const memberIds = await channelMemberIds(db, channel.id);
  const logins = new Map<string, string>();
  const loginOf = async (id: string | null): Promise<string | null> => {
    if (id === null) return null;
    if (!logins.has(id)) logins.set(id, (await db.selectFrom('users').select('login').where('id', '=', id).executeTakeFirst())?.login ?? '');
    return logins.get(id) || null;
  };
  const members: string[] = [];
  for (const id of memberIds) {
    const l = await loginOf(id);
    if (l) members.push(l);
  }
  const rows = await db.selectFrom('chat_messages').selectAll().where('channel_id', '=', channel.id).where('deleted_at', 'is', null).orderBy('id').execute();
  const reactions = await db
    .selectFrom('chat_reactions')
    .innerJoin('chat_messages', 'chat_messages.id', 'chat_reactions.message_id')
    .select(['chat_reactions.message_id', 'chat_reactions.user_id', 'chat_reactions.emoji'])
    .where('chat_messages.channel_id', '=', channel.id)
    .orderBy('chat_reactions.created_at')
    .execute();
  const byMessage = new Map<string, Array<{ emoji: string; by: string }>>();
  for (const r of reactions) {
    const by = await loginOf(r.user_id);
    if (!by) continue;
    const list = byMessage.get(r.message_id) ?? [];
    list.push({ emoji: r.emoji, by });
    byMessage.set(r.message_id, list);
  }
  const messages: ExportedMessage[] = [];
  for (const m of rows) {
    messages.push({
      id: m.id,
      threadOf: m.root_id,
      author: await loginOf(m.user_id),
      authorName: m.author_name,
      text: m.body,
      createdAt: iso(Number(m.created_at))!,
      editedAt: iso(m.edited_at === null ? null : Number(m.edited_at)),
      pinned: m.pinned_at !== null,
      reactions: byMessage.get(m.id) ?? [],
    });
  }
  return {
    format: CHAT_EXPORT_FORMAT,
    exportedAt: new Date(platform.clock.now()).toISOString(),
    channel: { id: channel.id, name: channel.name, kind: channel.kind, visibility: channel.visibility, topic: channel.topic, createdAt: iso(Number(channel.created_at))!, archived: channel.archived === 1 },
    members,
    messages,
  };
}

const escHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * A self-contained, readable page: plain text (the Markdown source, escaped — nothing in a message can
 * become markup or script), threads indented under their root, a strict CSP that forbids any script.
 */
export function channelHtml(e: ChannelExport): string {
  const replies = new Map<string, ExportedMessage[]>();
  for (const m of e.messages) if (m.threadOf) replies.set(m.threadOf, [...(replies.get(m.threadOf) ?? []), m]);
  const one = (m: ExportedMessage): string => {
    const who = escHtml(m.author ?? m.authorName ?? '?');
    const reacts = m.reactions.length ? `<p class="r">${m.reactions.map((r) => `${escHtml(r.emoji)} ${escHtml(r.by)}`).join(' · ')}</p>` : '';
    const marks = `${m.pinned ? ' 📌' : ''}${m.editedAt ? ' (edited)' : ''}`;
    return `<article id="m-${escHtml(m.id)}"><header><b>${who}</b> <time datetime="${m.createdAt}">${m.createdAt.replace('T', ' ').slice(0, 16)}</time>${marks}</header><pre>${escHtml(m.text)}</pre>${reacts}</article>`;
  };
  const body = e.messages
    .filter((m) => !m.threadOf)
    .map((m) => {
      const thread = replies.get(m.id) ?? [];
      return one(m) + (thread.length ? `<section class="t">${thread.map(one).join('\n')}</section>` : '');
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>#${escHtml(e.channel.name)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#1d2430}article{margin:0 0 1rem}header{color:#555}pre{white-space:pre-wrap;font:inherit;margin:.2rem 0}.t{margin-left:1.5rem;border-left:3px solid #ccd;padding-left:.8rem}.r{color:#666;font-size:.9em;margin:0}</style>
</head><body>
<h1>#${escHtml(e.channel.name)}</h1>
<p>${escHtml(e.channel.topic)}</p>
<p>${e.members.length} members · exported ${e.exportedAt.slice(0, 10)} · ${e.messages.length} messages</p>
${body}
</body></html>
`;
}

const slugOf = (name: string, id: string): string => `${name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'channel'}-${id.slice(-6).toLowerCase()}`;

/** The platform archive: every channel the user belongs to, as JSON and HTML. */
export async function exportUserChat(platform: Platform, userId: string): Promise<ExportFile[]> {
  const files: ExportFile[] = [];
  for (const id of await myChannelIds(platform.db, userId)) {
    const c = await getChannel(platform.db, id);
    if (!c) continue;
    const e = await exportChannel(platform, c);
    const slug = slugOf(c.kind === 'dm' || c.kind === 'group' ? `dm-${e.members.join('-')}` : c.name, c.id);
    files.push({ path: `chat/${slug}.json`, content: JSON.stringify(e, null, 2) }, { path: `chat/${slug}.html`, content: channelHtml(e) });
  }
  return files;
}

// ---------------------------------------------------------------------------------------------------
// Import

/** Finds Bastide accounts by e-mail, then login (both lower-cased); null when nobody matches. */
type Matcher = ((who: { email?: string | undefined; login?: string | undefined }) => string | null) & { loginOf: Map<string, string> };

export async function userMatcher(platform: Platform): Promise<Matcher> {
  const rows = await platform.db.selectFrom('users').select(['id', 'login', 'email']).where('disabled', '=', 0).limit(IMPORT_LIMITS.users * 2).execute();
  const byEmail = new Map(rows.filter((r) => r.email).map((r) => [String(r.email).toLowerCase(), r.id]));
  const byLogin = new Map(rows.map((r) => [r.login.toLowerCase(), r.id]));
  const match = (who: { email?: string | undefined; login?: string | undefined }): string | null =>
    (who.email ? byEmail.get(who.email.toLowerCase()) : undefined) ?? (who.login ? byLogin.get(who.login.toLowerCase()) : undefined) ?? null;
  return Object.assign(match, { loginOf: new Map(rows.map((r) => [r.id, r.login])) });
}

/** Untrusted JSON from another product, read field by field with checks (str(), Array.isArray…). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;
const bad = (reason: string): AppError => new AppError('bad_request', { reason });
const str = (v: unknown, max = 200): string => (typeof v === 'string' ? v.slice(0, max) : '');
const cleanImportedText = (t: string): string =>
  // eslint-disable-next-line no-control-regex
  t.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '').slice(0, MAX_MESSAGE_CHARS);

function parseJson(content: Buffer | string, what: string): unknown {
  try {
    return JSON.parse(content.toString());
  } catch {
    throw bad(`${what} is not valid JSON`);
  }
}

function checkSizes(channels: ImportedChannel[]): void {
  if (channels.length > IMPORT_LIMITS.channels) throw bad(`more than ${IMPORT_LIMITS.channels} channels`);
  let total = 0;
  for (const c of channels) {
    if (c.messages.length > IMPORT_LIMITS.messagesPerChannel) throw bad(`channel ${c.name} has more than ${IMPORT_LIMITS.messagesPerChannel} messages`);
    total += c.messages.length;
  }
  if (total > IMPORT_LIMITS.messages) throw bad(`more than ${IMPORT_LIMITS.messages} messages`);
}

/** Our own JSON, back (the files of a user's archive, or one channel's export). */
export async function fromBastideExport(platform: Platform, files: ExportFile[]): Promise<ImportedChannel[]> {
  const match = await userMatcher(platform);
  const out: ImportedChannel[] = [];
  for (const f of files.filter((x) => x.path.endsWith('.json'))) {
    const e = parseJson(f.content, f.path) as Partial<ChannelExport>;
    if (e.format !== CHAT_EXPORT_FORMAT || !e.channel || !Array.isArray(e.messages)) throw bad(`${f.path} is not a ${CHAT_EXPORT_FORMAT} file`);
    const members = (Array.isArray(e.members) ? e.members : []).map((l) => match({ login: str(l) })).filter((x): x is string => x !== null);
    out.push({
      name: str(e.channel.name, 80) || 'imported',
      topic: str(e.channel.topic, 500),
      visibility: e.channel.visibility === 'public' ? 'public' : 'private',
      archived: e.channel.archived === true,
      members,
      messages: e.messages.map((m, i) => {
        const created = Date.parse(str(m.createdAt, 40));
        const edited = m.editedAt ? Date.parse(str(m.editedAt, 40)) : NaN;
        const userId = m.author ? match({ login: str(m.author) }) : null;
        return {
          key: str(m.id, 100) || `#${i}`,
          parentKey: m.threadOf ? str(m.threadOf, 100) : null,
          userId,
          authorName: userId ? null : str(m.authorName ?? m.author, 80) || null,
          text: cleanImportedText(str(m.text, MAX_MESSAGE_CHARS * 2)),
          createdAt: Number.isFinite(created) ? created : platform.clock.now(),
          editedAt: Number.isFinite(edited) ? edited : null,
          pinned: m.pinned === true,
          reactions: (Array.isArray(m.reactions) ? m.reactions : []).flatMap((r) => {
            const u = match({ login: str(r?.by) });
            return u && typeof r?.emoji === 'string' ? [{ userId: u, emoji: r.emoji.slice(0, 64) }] : [];
          }),
        };
      }),
    });
  }
  checkSizes(out);
  return out;
}

const slackTs = (ts: unknown): number | null => {
  const n = Number(ts);
  return typeof ts === 'string' && Number.isFinite(n) && n > 0 ? Math.round(n * 1000) : null;
};

/**
 * A Slack workspace export (what "Export data" in Slack's admin produces): users.json, channels.json
 * (and groups.json for private channels when present), and <channel name>/<YYYY-MM-DD>.json files.
 */
export async function fromSlackExport(platform: Platform, files: ExportFile[]): Promise<ImportedChannel[]> {
  const byPath = new Map(files.map((f) => [f.path.replace(/^\/+/, ''), f]));
  const users = byPath.get('users.json');
  const channelsFile = byPath.get('channels.json');
  if (!users || !channelsFile) throw bad('not a Slack export: users.json and channels.json are missing');
  const match = await userMatcher(platform);
  const slackUsers = new Map<string, { userId: string | null; name: string }>();
  const usersJson = parseJson(users.content, 'users.json');
  if (!Array.isArray(usersJson)) throw bad('users.json is not a list');
  for (const u of usersJson.slice(0, IMPORT_LIMITS.users) as Array<Loose>) {
    const id = str(u?.id, 40);
    if (!id) continue;
    const name = str(u.real_name ?? u.profile?.real_name ?? u.name, 80) || id;
    slackUsers.set(id, { userId: match({ email: str(u.profile?.email, 320) || undefined, login: str(u.name, 80) || undefined }), name });
  }
  const list = (f: ExportFile | undefined, visibility: 'public' | 'private'): Array<{ c: Loose; visibility: 'public' | 'private' }> => {
    if (!f) return [];
    const v = parseJson(f.content, f.path);
    if (!Array.isArray(v)) throw bad(`${f.path} is not a list`);
    return (v as Array<Loose>).map((c) => ({ c, visibility }));
  };
  const sources = [...list(channelsFile, 'public'), ...list(byPath.get('groups.json'), 'private')];
  if (sources.length > IMPORT_LIMITS.channels) throw bad(`more than ${IMPORT_LIMITS.channels} channels`);
  // Slack user ids appear in text as <@U123>: written as @login for people who have an account.
  const mentionText = (t: string): string =>
    t.replace(/<@([A-Z0-9]+)(?:\|[^>]*)?>/g, (_m, id: string) => {
      const u = slackUsers.get(id);
      if (!u) return '@unknown';
      return u.userId ? `@${match.loginOf.get(u.userId) ?? u.name}` : u.name;
    });
  const out: ImportedChannel[] = [];
  for (const { c, visibility } of sources) {
    const name = str(c?.name, 80);
    if (!name || name.includes('/') || name.includes('..')) continue;
    const days = [...byPath.keys()].filter((p) => p.startsWith(`${name}/`) && p.endsWith('.json')).sort();
    const messages: ImportedMessage[] = [];
    for (const day of days) {
      const v = parseJson(byPath.get(day)!.content, day);
      if (!Array.isArray(v)) throw bad(`${day} is not a list`);
      for (const m of v as Array<Loose>) {
        if (m?.type !== 'message' || typeof m.text !== 'string') continue;
        if (m.subtype && !['bot_message', 'thread_broadcast', 'me_message', 'file_share'].includes(String(m.subtype))) continue;
        const created = slackTs(m.ts);
        if (created === null) continue;
        const author = slackUsers.get(str(m.user, 40));
        const parent = typeof m.thread_ts === 'string' && m.thread_ts !== m.ts ? m.thread_ts : null;
        messages.push({
          key: String(m.ts),
          parentKey: parent,
          userId: author?.userId ?? null,
          authorName: author?.userId ? null : author?.name ?? (str(m.username, 80) || 'Slack'),
          text: cleanImportedText(mentionText(slackToMarkdown(String(m.text).slice(0, MAX_MESSAGE_CHARS * 2), true))),
          createdAt: created,
          editedAt: slackTs(m.edited?.ts),
          pinned: Array.isArray(m.pinned_to) && m.pinned_to.length > 0,
          reactions: (Array.isArray(m.reactions) ? m.reactions : []).flatMap((r: Loose) =>
            (Array.isArray(r?.users) ? r.users : []).flatMap((uid: unknown) => {
              const u = slackUsers.get(str(uid, 40))?.userId;
              return u && typeof r.name === 'string' ? [{ userId: u, emoji: `:${r.name.slice(0, 60)}:` }] : [];
            }),
          ),
        });
      }
    }
    const members = (Array.isArray(c.members) ? c.members : []).map((id: unknown) => slackUsers.get(str(id, 40))?.userId ?? null).filter((x: string | null): x is string => x !== null);
    out.push({ name, topic: str(c.topic?.value ?? c.purpose?.value, 500), visibility, archived: c.is_archived === true, members, messages });
  }
  checkSizes(out);
  return out;
}

/**
 * A Mattermost bulk export (JSONL, `mmctl export create`): `channel` lines name the channels, `post` lines
 * carry messages with their replies and reactions; `user` lines give e-mails for matching. Direct
 * channels are left out (they belong to their two people, not to an import by an administrator).
 */
export async function fromMattermostExport(platform: Platform, jsonl: string): Promise<ImportedChannel[]> {
  const match = await userMatcher(platform);
  const emails = new Map<string, string>();
  const channels = new Map<string, ImportedChannel>();
  const loginOf = async (username: string): Promise<{ userId: string | null; name: string }> => ({ userId: match({ email: emails.get(username), login: username }), name: username });
  let lineNo = 0;
  let sawVersion = false;
  for (const line of jsonl.split('\n')) {
    lineNo++;
    if (!line.trim()) continue;
    const v = parseJson(line, `line ${lineNo}`) as Loose;
    switch (v?.type) {
      case 'version':
        sawVersion = true;
        break;
      case 'user':
        if (typeof v.user?.username === 'string' && typeof v.user?.email === 'string') emails.set(v.user.username, v.user.email);
        break;
      case 'channel': {
        const c = v.channel ?? {};
        const name = str(c.name, 80);
        if (!name) break;
        if (channels.size >= IMPORT_LIMITS.channels) throw bad(`more than ${IMPORT_LIMITS.channels} channels`);
        channels.set(`${str(c.team, 80)}/${name}`, { name: str(c.display_name, 80) || name, topic: str(c.header ?? c.purpose, 500), visibility: c.type === 'P' ? 'private' : 'public', archived: false, members: [], messages: [] });
        break;
      }
      case 'post': {
        const p = v.post ?? {};
        const c = channels.get(`${str(p.team, 80)}/${str(p.channel, 80)}`);
        if (!c) throw bad(`line ${lineNo}: a post in channel ${str(p.channel, 80)} before (or without) its channel line`);
        const add = async (q: Loose, parentKey: string | null, key: string): Promise<void> => {
          const who = await loginOf(str(q.user, 80));
          const created = Number(q.create_at);
          if (!Number.isFinite(created) || created <= 0) return;
          if (who.userId && !c.members.includes(who.userId)) c.members.push(who.userId);
          const reactions: Array<{ userId: string; emoji: string }> = [];
          for (const r of Array.isArray(q.reactions) ? q.reactions : []) {
            const u = (await loginOf(str(r?.user, 80))).userId;
            if (u && typeof r.emoji_name === 'string') reactions.push({ userId: u, emoji: `:${r.emoji_name.slice(0, 60)}:` });
          }
          c.messages.push({
            key,
            parentKey,
            userId: who.userId,
            authorName: who.userId ? null : who.name || 'Mattermost',
            text: cleanImportedText(str(q.message, MAX_MESSAGE_CHARS * 2)),
            createdAt: created,
            editedAt: null,
            pinned: q.is_pinned === true,
            reactions,
          });
        };
        const key = `${lineNo}`;
        await add(p, null, key);
        let i = 0;
        for (const r of Array.isArray(p.replies) ? p.replies : []) await add(r as Loose, key, `${key}.${i++}`);
        if (c.messages.length > IMPORT_LIMITS.messagesPerChannel) throw bad(`channel ${c.name} has more than ${IMPORT_LIMITS.messagesPerChannel} messages`);
        break;
      }
      default:
        break; // teams, direct channels and posts, emoji, …: not imported
    }
  }
  if (!sawVersion) throw bad('not a Mattermost bulk export: no version line');
  const out = [...channels.values()];
  checkSizes(out);
  return out;
}

/**
 * Writes imported channels: each one new (a name already used gets a suffix), created by `ownerId`
 * (owner member), its members, then its messages in time order with threads, reactions and pins.
 * One transaction per channel; one `chat.channel.created` event each (no event per message: nobody
 * needs a notification for last year's conversation).
 */
export async function writeImported(platform: Platform, ownerId: string, channels: ImportedChannel[]): Promise<{ channels: number; messages: number }> {
  let messages = 0;
  for (const c of channels) {
    await platform.transaction(async (trx: Tx, emit) => {
      const now = platform.clock.now();
      const taken = new Set((await trx.selectFrom('chat_channels').select('name').where('kind', '=', 'org').execute()).map((r) => r.name.toLowerCase()));
      let name = c.name;
      for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${c.name} (${n})`;
      const channelId = newId(now);
      await trx
        .insertInto('chat_channels')
        .values({ id: channelId, kind: 'org', visibility: c.visibility, space_id: null, name, topic: c.topic, archived: c.archived ? 1 : 0, mention_all: 'all', retention_days: null, dm_key: null, created_by: ownerId, created_at: now, updated_at: now, last_message_id: null })
        .execute();
      const members = new Set([ownerId, ...c.members]);
      for (const userId of members) await trx.insertInto('chat_members').values({ channel_id: channelId, user_id: userId, role: userId === ownerId ? 'manager' : 'member', joined_at: now }).execute();
      const sorted = [...c.messages].sort((a, b) => a.createdAt - b.createdAt);
      const ids = new Map<string, string>();
      const replies = new Map<string, { count: number; lastId: string; lastAt: number }>();
      let last: string | null = null;
      for (const m of sorted) {
        const id = newId(m.createdAt);
        const rootId = m.parentKey !== null ? (ids.get(m.parentKey) ?? null) : null;
        ids.set(m.key, id);
        await trx
          .insertInto('chat_messages')
          .values({
            id, channel_id: channelId, root_id: rootId, user_id: m.userId, hook_id: null, author_name: m.userId ? null : m.authorName, icon_emoji: null,
            body: m.text, attachments: null, created_at: m.createdAt, edited_at: m.editedAt, deleted_at: null, deleted_by: null,
            pinned_at: m.pinned ? m.createdAt : null, pinned_by: m.pinned ? ownerId : null, reply_count: 0, last_reply_id: null, last_reply_at: null,
          })
          .execute();
        const seen = new Set<string>();
        for (const r of m.reactions) {
          const k = `${r.userId} ${r.emoji}`;
          if (seen.has(k)) continue;
          seen.add(k);
          await trx.insertInto('chat_reactions').values({ message_id: id, user_id: r.userId, emoji: r.emoji, created_at: m.createdAt }).execute();
        }
        if (rootId) {
          const s = replies.get(rootId) ?? { count: 0, lastId: id, lastAt: m.createdAt };
          replies.set(rootId, { count: s.count + 1, lastId: id, lastAt: m.createdAt });
        } else last = id;
        messages++;
      }
      for (const [rootId, s] of replies) await trx.updateTable('chat_messages').set({ reply_count: s.count, last_reply_id: s.lastId, last_reply_at: s.lastAt }).where('id', '=', rootId).execute();
      if (last) await trx.updateTable('chat_channels').set({ last_message_id: last }).where('id', '=', channelId).execute();
      // Imported history counts as read: nobody starts with thousands of unread messages.
      if (last) for (const userId of members) await trx.insertInto('chat_read').values({ channel_id: channelId, user_id: userId, last_read_id: last, updated_at: now }).execute();
      await emit('chat.channel.created', { channelId }, audienceOf(channelId));
    });
  }
  return { channels: channels.length, messages };
}
