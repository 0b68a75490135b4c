/** The chat API (docs/api.md, "Chat"): types and calls. */
import { api, withQuery } from '../../app/api';

export interface Person {
  id: string;
  login: string;
  displayName: string;
}

export type ChannelKind = 'org' | 'space' | 'dm' | 'group';
export type MentionAll = 'all' | 'managers' | 'none';
export type Presence = 'online' | 'away' | 'dnd' | 'offline';

export interface Channel {
  id: string;
  kind: ChannelKind;
  visibility: 'public' | 'private';
  spaceId: string | null;
  name: string;
  topic: string;
  archived: boolean;
  mentionAll: MentionAll;
  retentionDays: number | null;
  createdAt: number;
  lastMessageId: string | null;
  member: boolean;
  canManage: boolean;
  lastReadId: string | null;
  unread: number;
  mentions: number;
  people?: Person[];
  /** My notification level and mute for it (absent from servers without per-channel preferences). */
  notify?: ChannelNotify;
}

export type NotifyLevel = 'all' | 'mentions' | 'none';
export interface ChannelNotify {
  level: NotifyLevel;
  muted: boolean;
}

export interface LinkPreview {
  url: string;
  title: string;
  description: string;
  siteName: string;
  /** Served by Bastide (re-encoded), or null. */
  image: string | null;
}

export interface Attachment {
  fallback?: string;
  color?: string;
  pretext?: string;
  title?: string;
  titleLink?: string;
  text?: string;
  fields?: { title: string; value: string; short: boolean }[];
}

export interface Message {
  id: string;
  channelId: string;
  rootId: string | null;
  author: Person | null;
  bot: { name: string; iconEmoji: string | null } | null;
  text: string;
  attachments: Attachment[];
  createdAt: number;
  editedAt: number | null;
  deleted: boolean;
  pinned: boolean;
  replyCount: number;
  lastReplyId: string | null;
  lastReplyAt: number | null;
  reactions: { emoji: string; count: number; me: boolean }[];
  mentionsMe: boolean;
  /** Link previews made by the server (plain text). */
  previews?: LinkPreview[];
  /** Client only: sent, waiting for the server's answer. */
  pending?: boolean;
}

export interface MessagePage {
  items: Message[];
  hasMoreBefore: boolean;
  hasMoreAfter: boolean;
}

export interface Thread {
  root: Message;
  items: Message[];
  hasMoreAfter: boolean;
  lastReadId: string | null;
  unread: number;
}

export interface ThreadItem {
  root: Message;
  unread: number;
  lastReadId: string | null;
}

export interface Member extends Person {
  role: 'manager' | 'member';
}

export interface Hook {
  id: string;
  name: string;
  createdAt: number;
  createdBy: Person | null;
}

export interface Space {
  id: string;
  name: string;
  myRole: 'owner' | 'manager' | 'member' | 'guest' | null;
}

const base = '/api/chat';
const enc = encodeURIComponent;

export const chatApi = {
  channels: (signal?: AbortSignal) => api.get<{ items: Channel[] }>(`${base}/channels`, { signal }).then((r) => r.items),
  browse: (q: string, signal?: AbortSignal) => api.get<{ items: Channel[] }>(withQuery(`${base}/channels/browse`, { q }), { signal }).then((r) => r.items),
  channel: (id: string, signal?: AbortSignal) => api.get<{ channel: Channel }>(`${base}/channels/${enc(id)}`, { signal }).then((r) => r.channel),
  createChannel: (body: { kind: 'org' | 'space'; spaceId?: string; name: string; topic?: string; visibility: 'public' | 'private' }) =>
    api.post<{ channel: Channel }>(`${base}/channels`, body).then((r) => r.channel),
  openDm: (userIds: string[]) => api.post<{ channel: Channel }>(`${base}/dms`, { userIds }).then((r) => r.channel),
  updateChannel: (id: string, body: { name?: string; topic?: string; archived?: boolean; mentionAll?: MentionAll; retentionDays?: number | null }) =>
    api.patch<{ channel: Channel }>(`${base}/channels/${enc(id)}`, body).then((r) => r.channel),
  join: (id: string) => api.post<{ channel: Channel }>(`${base}/channels/${enc(id)}/join`).then((r) => r.channel),
  leave: (id: string) => api.post<void>(`${base}/channels/${enc(id)}/leave`),
  members: (id: string, signal?: AbortSignal) => api.get<{ items: Member[] }>(`${base}/channels/${enc(id)}/members`, { signal }).then((r) => r.items),
  setMember: (id: string, userId: string, role: 'manager' | 'member') => api.put<void>(`${base}/channels/${enc(id)}/members/${enc(userId)}`, { role }),
  removeMember: (id: string, userId: string) => api.del(`${base}/channels/${enc(id)}/members/${enc(userId)}`),
  messages: (id: string, cursor: { before?: string; after?: string; around?: string; limit?: number }, signal?: AbortSignal) =>
    api.get<MessagePage>(withQuery(`${base}/channels/${enc(id)}/messages`, cursor), { signal }),
  post: (channelId: string, text: string, rootId?: string) =>
    api.post<{ message: Message }>(`${base}/channels/${enc(channelId)}/messages`, rootId ? { text, rootId } : { text }).then((r) => r.message),
  message: (id: string, signal?: AbortSignal) => api.get<{ message: Message }>(`${base}/messages/${enc(id)}`, { signal }).then((r) => r.message),
  edit: (id: string, text: string) => api.patch<{ message: Message }>(`${base}/messages/${enc(id)}`, { text }).then((r) => r.message),
  remove: (id: string) => api.del(`${base}/messages/${enc(id)}`),
  thread: (id: string, signal?: AbortSignal) => api.get<Thread>(withQuery(`${base}/messages/${enc(id)}/thread`, { limit: 200 }), { signal }),
  react: (id: string, emoji: string) => api.post<{ active: boolean }>(`${base}/messages/${enc(id)}/reactions`, { emoji }),
  pin: (id: string, pinned: boolean) => (pinned ? api.put<void>(`${base}/messages/${enc(id)}/pin`) : api.del(`${base}/messages/${enc(id)}/pin`)),
  pins: (id: string, signal?: AbortSignal) => api.get<{ items: Message[] }>(`${base}/channels/${enc(id)}/pins`, { signal }).then((r) => r.items),
  read: (channelId: string, messageId: string) => api.post<void>(`${base}/channels/${enc(channelId)}/read`, { messageId }),
  threadRead: (rootId: string, messageId: string) => api.post<void>(`${base}/messages/${enc(rootId)}/thread/read`, { messageId }),
  threads: (signal?: AbortSignal) => api.get<{ items: ThreadItem[] }>(`${base}/threads`, { signal }).then((r) => r.items),
  presence: (userIds: string[], signal?: AbortSignal) =>
    api.get<{ items: { userId: string; status: Presence }[] }>(withQuery(`${base}/presence`, { userIds: userIds.join(',') }), { signal }).then((r) => r.items),
  setPresence: (status: Exclude<Presence, 'offline'>) => api.put<void>(`${base}/presence`, { status }),
  setNotify: (id: string, body: Partial<ChannelNotify>) => api.put<{ notify: ChannelNotify }>(`${base}/channels/${enc(id)}/notify`, body).then((r) => r.notify),
  hooks: (id: string, signal?: AbortSignal) => api.get<{ items: Hook[] }>(`${base}/channels/${enc(id)}/hooks`, { signal }).then((r) => r.items),
  createHook: (id: string, name: string) => api.post<{ id: string; token: string; url: string }>(`${base}/channels/${enc(id)}/hooks`, { name }),
  revokeHook: (id: string) => api.del(`${base}/hooks/${enc(id)}`),
  spaces: (signal?: AbortSignal) => api.get<{ items: Space[] }>('/api/spaces', { signal }).then((r) => r.items),
};

export const chatKeys = {
  all: ['chat'] as const,
  channels: ['chat', 'channels'] as const,
  channel: (id: string) => ['chat', 'channel', id] as const,
  members: (id: string) => ['chat', 'members', id] as const,
  pins: (id: string) => ['chat', 'pins', id] as const,
  hooks: (id: string) => ['chat', 'hooks', id] as const,
  thread: (id: string) => ['chat', 'thread', id] as const,
  threads: ['chat', 'threads'] as const,
  browse: (q: string) => ['chat', 'browse', q] as const,
  spaces: ['chat', 'spaces'] as const,
};

/** The name a channel shows: its name, or the other people of a DM / group DM. */
export function channelTitle(c: Channel, meId: string): string {
  if (c.kind === 'dm' || c.kind === 'group') {
    const others = (c.people ?? []).filter((p) => p.id !== meId);
    if (others.length === 0) return (c.people ?? [])[0]?.displayName ?? c.name;
    return others.map((p) => p.displayName).join(', ');
  }
  return c.name;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The smallest id of a given time (ids are ULIDs: 48-bit milliseconds first): a cursor for "jump to
 * date" — `around=<it>` centres the page on the first message at or after that moment.
 */
export function idAtTime(ms: number): string {
  // The server packs the 48 time bits from the top of 10 base-32 digits (50 bits): shift left by 2.
  let t = Math.max(0, Math.floor(ms)) * 4;
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out + '0'.repeat(16);
}
