import { AppError } from '../../errors.js';
import { verifyAppPassword } from '../../modules/identity/commands/credentials.js';
import { mailStore, type MailCtx, type MailOwner, type SearchCriteria, type SpecialUse, type UidSet } from '../../modules/mail/store.js';
import type { CommittedEvent, Platform } from '../../platform/module.js';
import { hasScope, type UserActor } from '../../platform/policy.js';
import { headerFields } from './cmd-fetch.js';
import type { Envelope, MimePart } from '../../modules/mail/mime.js';
import type { ImapUser, MailboxView, MailPort, MessageFull, MessageMeta, TextCriterion } from './port.js';

/**
 * The IMAP port on the mail module's store (modules/mail/store.ts). Every call goes through the store's
 * authorization (the 'mailbox' policy) with the session's actor: an app password with the 'mail' scope
 * reaches its owner's mailboxes only. Two light reads the store has no entry for (the sequence map with
 * sizes and dates, and changes with them) query the store's tables here, after the store authorized
 * the mailbox.
 */

function ranges(uids: number[]): UidSet {
  const sorted = [...uids].sort((a, b) => a - b);
  const out: Array<[number, number]> = [];
  for (const u of sorted) {
    const last = out[out.length - 1];
    if (last && u <= last[1] + 1) last[1] = Math.max(last[1], u);
    else out.push([u, u]);
  }
  return out;
}

interface LightRow {
  uid: number | string;
  modseq: number | string;
  seen: number | string;
  answered: number | string;
  flagged: number | string;
  deleted: number | string;
  draft: number | string;
  keywords: string;
  internal_date: number | string;
  size: number | string;
}

function lightMeta(r: LightRow): MessageMeta {
  const flags: string[] = [];
  if (Number(r.seen)) flags.push('\\Seen');
  if (Number(r.answered)) flags.push('\\Answered');
  if (Number(r.flagged)) flags.push('\\Flagged');
  if (Number(r.deleted)) flags.push('\\Deleted');
  if (Number(r.draft)) flags.push('\\Draft');
  try {
    const kw = JSON.parse(r.keywords) as unknown;
    if (Array.isArray(kw)) for (const k of kw) if (typeof k === 'string') flags.push(k);
  } catch {
    /* none */
  }
  return { uid: Number(r.uid), modseq: Number(r.modseq), flags, internalDate: Number(r.internal_date), size: Number(r.size) };
}

/** Where the shared mailboxes of spaces appear (the NAMESPACE shared prefix). */
export const SHARED = 'Shared';

const LIGHT = ['uid', 'modseq', 'seen', 'answered', 'flagged', 'deleted', 'draft', 'keywords', 'internal_date', 'size'] as const;

export function storePort(platform: Platform): MailPort {
  const ctx = (u: ImapUser): MailCtx => ({ platform, actor: u.actor });
  const owner = (u: ImapUser): MailOwner => ({ type: 'user', id: u.userId });
  const view = (r: { id: string; name: string; specialUse: string | null; subscribed: boolean; uidvalidity: number; uidnext: number; highestModseq: number }, prefix = ''): MailboxView => ({
    id: r.id,
    name: prefix + r.name,
    specialUse: r.specialUse === '\\Inbox' ? null : r.specialUse,
    subscribed: r.subscribed,
    uidValidity: r.uidvalidity,
    uidNext: r.uidnext,
    highestModseq: r.highestModseq,
    writable: true,
  });

  /**
   * Shared mailboxes: the spaces the user is a member of (not a guest) that have a mail address,
   * shown under "Shared/<space name>/" (the store's policy decides again on every call).
   */
  const sharedOwners = async (u: ImapUser): Promise<Array<{ id: string; prefix: string }>> => {
    const rows = await platform.db
      .selectFrom('space_members')
      .innerJoin('spaces', 'spaces.id', 'space_members.space_id')
      .select(['spaces.id', 'spaces.name'])
      .where('space_members.user_id', '=', u.userId)
      .where('space_members.role', 'in', ['owner', 'manager', 'member'])
      .where('spaces.archived', '=', 0)
      .where((eb) => eb.exists(eb.selectFrom('mail_addresses').select('mail_addresses.id').where('mail_addresses.target_type', '=', 'space').whereRef('mail_addresses.target_id', '=', 'spaces.id')))
      .orderBy('spaces.name')
      .execute();
    const seen = new Set<string>();
    return rows.map((r) => {
      // eslint-disable-next-line no-control-regex
      let label = r.name.replace(/[/\x00-\x1f\x7f*%]+/g, '-').trim() || r.id;
      if (seen.has(label.toLowerCase())) label = `${label} ${r.id.slice(-6)}`;
      seen.add(label.toLowerCase());
      return { id: r.id, prefix: `${SHARED}/${label}/` };
    });
  };
  /** The owner and store name a wire name addresses; null for a name under "Shared/" that is no shared mailbox. */
  const locate = async (u: ImapUser, name: string): Promise<{ owner: MailOwner; name: string; prefix: string } | null> => {
    if (name !== SHARED && !name.startsWith(`${SHARED}/`)) return { owner: owner(u), name, prefix: '' };
    for (const sh of await sharedOwners(u)) {
      if (name.startsWith(sh.prefix)) return { owner: { type: 'space', id: sh.id }, name: name.slice(sh.prefix.length), prefix: sh.prefix };
    }
    return null;
  };

  const listeners = new Set<(mailboxId: string) => void>();
  const notify = (data: Record<string, unknown>): void => {
    const id = data.mailboxId;
    if (typeof id !== 'string') return;
    for (const l of listeners) l(id);
  };
  let unsubscribers: Array<() => void> = [];
  const ensureSubscribed = (): void => {
    if (unsubscribers.length) return;
    unsubscribers = [
      // This node: synchronously at commit. Other nodes: through the bus (this node sees it again: harmless).
      platform.onCommit((events: CommittedEvent[]) => {
        for (const e of events) if (e.topic === 'mail.changed') notify(e.data);
      }),
      platform.bus.subscribe((e) => {
        if (e.topic === 'mail.changed') notify(e.data);
      }),
    ];
  };

  return {
    async authenticate(login, password) {
      const found = await verifyAppPassword(platform, login, password);
      if (!found) return null;
      const actor: UserActor = { kind: 'user', userId: found.user.id, login: found.user.login, isAdmin: found.user.is_admin === 1, via: 'app-password', scopes: found.scopes as UserActor['scopes'] };
      if (!hasScope(actor, 'mail')) return null;
      return { userId: found.user.id, login: found.user.login, actor };
    },
    async mailboxes(u) {
      const own = (await mailStore.listMailboxes(ctx(u), owner(u))).map((r) => view(r));
      for (const sh of await sharedOwners(u)) {
        for (const r of await mailStore.listMailboxes(ctx(u), { type: 'space', id: sh.id })) own.push(view(r, sh.prefix));
      }
      return own;
    },
    async mailbox(u, name) {
      const where = await locate(u, name);
      if (!where) return null;
      const r = await mailStore.getMailbox(ctx(u), where.owner, where.name);
      return r ? view(r, where.prefix) : null;
    },
    async status(u, id) {
      const s = await mailStore.status(ctx(u), id);
      return { messages: s.messages, unseen: s.unseen, deleted: s.deleted, size: s.size, uidNext: s.uidnext, uidValidity: s.uidvalidity, highestModseq: s.highestModseq, firstUnseenUid: s.firstUnseenUid };
    },
    async create(u, name, specialUse) {
      const where = await locate(u, name);
      if (!where || !where.name) throw new AppError('invalid_name', { name: name.slice(0, 100) });
      return view(await mailStore.createMailbox(ctx(u), where.owner, where.name, { specialUse: specialUse as SpecialUse | null }), where.prefix);
    },
    async delete(u, id) {
      await mailStore.deleteMailbox(ctx(u), id);
    },
    async rename(u, id, to) {
      const where = await locate(u, to);
      const mb = await mailStore.getMailboxById(ctx(u), id);
      // Within one owner only: a rename never moves a folder between a user and a space.
      if (!where || !where.name || where.owner.type !== mb.ownerType || where.owner.id !== mb.ownerId) throw new AppError('invalid_name', { name: to.slice(0, 100) });
      await mailStore.renameMailbox(ctx(u), id, where.name);
    },
    async subscribe(u, id, on) {
      await mailStore.setSubscribed(ctx(u), id, on);
    },
    async uids(u, id) {
      return mailStore.uidList(ctx(u), id);
    },
    async meta(u, id, uids) {
      if (!uids.length) return [];
      const mb = await mailStore.getMailboxById(ctx(u), id);
      const sorted = [...uids].sort((a, b) => a - b);
      const out: MessageMeta[] = [];
      for (let i = 0; i < sorted.length; i += 500) {
        const rows = await platform.db.selectFrom('mail_messages').select(LIGHT).where('mailbox_id', '=', mb.id).where('uid', 'in', sorted.slice(i, i + 500)).orderBy('uid').execute();
        for (const r of rows) out.push(lightMeta(r));
      }
      return out;
    },
    async list(u, id) {
      const mb = await mailStore.getMailboxById(ctx(u), id);
      const rows = await platform.db.selectFrom('mail_messages').select(LIGHT).where('mailbox_id', '=', mb.id).orderBy('uid').execute();
      return rows.map(lightMeta);
    },
    async changes(u, id, modseq) {
      const mb = await mailStore.getMailboxById(ctx(u), id);
      const rows = await platform.db.selectFrom('mail_messages').select(LIGHT).where('mailbox_id', '=', mb.id).where('modseq', '>', modseq).orderBy('uid').execute();
      const gone = await platform.db.selectFrom('mail_expunged').select('uid').where('mailbox_id', '=', mb.id).where('modseq', '>', modseq).orderBy('uid').execute();
      return { changed: rows.map(lightMeta), vanished: gone.map((g) => Number(g.uid)) };
    },
    async messages(u, id, uids, opts = {}) {
      const withBody = opts.body !== false;
      if (!uids.length) return [];
      // The columns IMAP needs only (not the search text extract): one query per batch.
      const mb = await mailStore.getMailboxById(ctx(u), id);
      const out: MessageFull[] = [];
      const sorted = [...uids].sort((a, b) => a - b);
      for (let i = 0; i < sorted.length; i += 500) {
        const part = sorted.slice(i, i + 500);
        const rows = await platform.db
          .selectFrom('mail_messages')
          .select([...LIGHT, 'envelope', 'sent_date', 'subject', 'from_text', 'to_text', 'message_id', 'thread_id'])
          .$if(withBody, (q) => q.select('bodystructure'))
          .where('mailbox_id', '=', mb.id)
          .where('uid', 'in', part)
          .orderBy('uid')
          .execute();
        for (const r of rows) {
          out.push({
            ...lightMeta(r),
            envelope: JSON.parse(r.envelope) as Envelope,
            body: withBody && 'bodystructure' in r ? (JSON.parse(r.bodystructure as string) as MimePart) : null,
            sentDate: Number(r.sent_date),
            subject: r.subject,
            from: r.from_text,
            to: r.to_text,
            cc: '',
            messageId: r.message_id,
            threadId: r.thread_id,
          });
        }
      }
      return out;
    },
    async raw(u, id, uid) {
      return mailStore.readRaw(ctx(u), id, uid);
    },
    async append(u, id, raw, flags, internalDate) {
      const r = await mailStore.append(ctx(u), id, raw, { flags, ...(internalDate !== null ? { internalDate } : {}) });
      return { uid: r.uid, uidValidity: r.uidvalidity };
    },
    async store(u, id, uids, mode, flags, unchangedSince) {
      const r = await mailStore.setFlags(ctx(u), id, ranges(uids), mode === 'set' ? 'replace' : mode, flags, unchangedSince !== undefined ? { unchangedSince } : {});
      return { updated: r.changed, conflicts: r.failed };
    },
    async copy(u, from, uids, to, move) {
      const r = move ? await mailStore.move(ctx(u), from, ranges(uids), to) : await mailStore.copy(ctx(u), from, ranges(uids), to);
      return { uidValidity: r.uidvalidity, pairs: r.mapping };
    },
    async expunge(u, id, uids) {
      const r = await mailStore.expunge(ctx(u), id, uids ? ranges(uids) : undefined);
      return r.uids;
    },
    async searchText(u, id, uids, criteria) {
      if (!uids.length) return new Set();
      const stored: SearchCriteria = { uids: ranges(uids) };
      const raw: TextCriterion[] = [];
      for (const c of criteria) {
        if (c.where === 'text' || c.where === 'body' || c.where === 'subject' || c.where === 'from' || c.where === 'to') stored[c.where] = c.value;
        else if (c.where === 'cc') stored.to = c.value; // the store keeps To and Cc decoded together
        else raw.push(c);
      }
      let found = await mailStore.search(ctx(u), id, stored);
      // Criteria the store does not index (BCC, any other header): the raw header, decoded as UTF-8.
      for (const c of raw) {
        const name = typeof c.where === 'string' ? c.where : c.where.header;
        const keep: number[] = [];
        for (const uid of found) {
          const bytes = await mailStore.readRaw(ctx(u), id, uid).catch(() => null);
          if (!bytes) continue;
          const end = bytes.indexOf('\r\n\r\n');
          const fields = headerFields(bytes.subarray(0, end < 0 ? bytes.length : end + 4), [name], false).toString('utf8');
          const values = fields.replace(/\r\n[ \t]/g, ' ').split('\r\n').map((l) => l.slice(l.indexOf(':') + 1).toLowerCase());
          if (fields.trim() && values.some((v) => v.includes(c.value.toLowerCase()))) keep.push(uid);
        }
        found = keep;
      }
      return new Set(found);
    },
    async quota(u) {
      const q = await mailStore.quota(ctx(u), owner(u));
      return { usedBytes: q.usedBytes, limitBytes: q.limitBytes > 0 ? q.limitBytes : null, messages: q.messages };
    },
    onChange(listener) {
      ensureSubscribed();
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
        if (!listeners.size) {
          for (const un of unsubscribers) un();
          unsubscribers = [];
        }
      };
    },
  };
}

