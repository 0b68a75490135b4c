import { hasScope, type Actor, type Rule } from '../../platform/policy.js';
import type { DbOrTx } from '../../platform/db/index.js';

export type ChannelKind = 'org' | 'space' | 'dm' | 'group';
export type Visibility = 'public' | 'private';
export type MentionAll = 'all' | 'managers' | 'none';

/** The facts the `chat-channel` rule decides on, loaded by `channelResource`. */
export interface ChannelResource {
  [fact: string]: unknown;
  type: 'chat-channel';
  id: string;
  kind: ChannelKind;
  visibility: Visibility;
  spaceId: string | null;
  archived: boolean;
  mentionAll: MentionAll;
  /** The actor belongs to the channel (explicitly, or through the space for public space channels). */
  member: boolean;
  /** Explicit channel role ('manager' | 'member'), null when none. */
  role: string | null;
  /** The actor's role in the channel's space, null when not a member of it (or not a space channel). */
  spaceRole: string | null;
}

/** Space channels: public ones hold every space member, private ones the space members added; others: those added. */
export function isMember(kind: ChannelKind, visibility: Visibility, role: string | null, spaceRole: string | null): boolean {
  if (kind === 'space') return spaceRole !== null && (visibility === 'public' || role !== null);
  return role !== null;
}

/** Loads the channel and the actor's relation to it; null when the channel does not exist. */
export async function channelResource(db: DbOrTx, channelId: string, actor: Actor): Promise<ChannelResource | null> {
  const c = await db.selectFrom('chat_channels').select(['id', 'kind', 'visibility', 'space_id', 'archived', 'mention_all']).where('id', '=', channelId).executeTakeFirst();
  if (!c) return null;
  let role: string | null = null;
  let spaceRole: string | null = null;
  if (actor.kind === 'user') {
    const m = await db.selectFrom('chat_members').select('role').where('channel_id', '=', channelId).where('user_id', '=', actor.userId).executeTakeFirst();
    role = m?.role ?? null;
    if (c.space_id) {
      const s = await db.selectFrom('space_members').select('role').where('space_id', '=', c.space_id).where('user_id', '=', actor.userId).executeTakeFirst();
      spaceRole = s?.role ?? null;
    }
  }
  const kind = c.kind as ChannelKind;
  const visibility = c.visibility as Visibility;
  const member = isMember(kind, visibility, role, spaceRole);
  return {
    type: 'chat-channel',
    id: c.id,
    kind,
    visibility,
    spaceId: c.space_id,
    archived: c.archived === 1,
    mentionAll: c.mention_all as MentionAll,
    member,
    role,
    spaceRole,
  };
}

const SPACE_MANAGER = new Set(['owner', 'manager']);

/** Who manages the channel: its explicit managers, the space's owners/managers, and administrators (not in DMs). */
function manages(actor: Extract<Actor, { kind: 'user' }>, r: ChannelResource): boolean {
  if (r.kind === 'dm') return false;
  if (r.kind === 'group') return r.member;
  if (actor.isAdmin) return true;
  if (r.kind === 'space' && r.spaceRole !== null && SPACE_MANAGER.has(r.spaceRole)) return true;
  return r.member && r.role === 'manager';
}

/**
 * The chat rule. Reading, posting and receiving events need membership; nobody reads a channel they do
 * not belong to (administrators moderate — delete, archive, settings — but do not read private channels
 * or DMs). Session users and API tokens/app passwords with the `api` scope (bots) may use chat.
 */
export const chatChannelRule: Rule = (actor, action, res) => {
  if (actor.kind !== 'user') return false;
  if (actor.via !== 'session' && !hasScope(actor, 'api')) return false;
  // Creating: org channels and DMs by anyone signed in; space channels by space members (not guests).
  if (action === 'create') {
    if (res.kind === 'space') return res.spaceRole !== null && res.spaceRole !== 'guest';
    return true;
  }
  if (action === 'browse') return true;
  const r = res as ChannelResource;
  switch (action) {
    case 'see':
      // Knowing the channel exists: members, public org channels, public channels of one's spaces.
      return r.member || (r.visibility === 'public' && (r.kind === 'org' || (r.kind === 'space' && r.spaceRole !== null))) || manages(actor, r);
    case 'read':
      return r.member;
    case 'post':
    case 'react':
      return r.member && !r.archived;
    case 'join':
      return !r.member && !r.archived && r.kind === 'org' && r.visibility === 'public';
    case 'leave':
      return r.member && r.role !== null && (r.kind === 'org' || r.kind === 'group' || r.kind === 'space');
    case 'manage':
      return manages(actor, r);
    case 'moderate':
      // Delete others' messages.
      return manages(actor, r);
    case 'pin':
      return r.member && !r.archived;
    case 'mention-all':
      if (r.mentionAll === 'none') return false;
      if (r.mentionAll === 'managers') return manages(actor, r);
      return r.member;
    default:
      return false;
  }
};
