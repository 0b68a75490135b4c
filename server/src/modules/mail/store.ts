import { sql, type ExpressionBuilder, type Expression, type SqlBool } from 'kysely';
import { AppError } from '../../errors.js';
import { addRef, releaseRef, trackUpload } from '../../platform/blobs/refs.js';
import type { BlobInfo } from '../../platform/blobs/types.js';
import type { DbOrTx, Tx } from '../../platform/db/index.js';
import type { Database } from '../../platform/db/schema.js';
import { newId } from '../../platform/ids.js';
import type { Actor, Emit, Platform } from '../../platform/module.js';
import { uniqueViolation } from '../identity/repo.js';
import { spaceResource } from '../spaces/index.js';
import { parseMessage, toCrlf, type Envelope, type MimePart, type ParsedMessage } from './mime.js';
import type { MailboxesTable, MailMessagesTable } from './schema.js';

/**
 * # The mail store — contract
 *
 * The one place that reads and writes mailboxes and messages. IMAP (protocols/imap), SMTP delivery and
 * submission (protocols/smtp), the webmail API and import/export all go through it. Stable API: entries
 * are added, never renamed.
 *
 * ## Model
 * - An **owner** is a user (`{type:'user', id}`) or a space's shared mailbox (`{type:'space', id}`).
 * - A **mailbox** (`MailboxRow`) has a full hierarchical name with '/' as delimiter, stored as UTF-8
 *   (the IMAP layer converts from/to modified UTF-7 itself). "INBOX" is matched case-insensitively and
 *   always stored as "INBOX". Special-use: \Inbox \Sent \Drafts \Trash \Junk \Archive. Each mailbox
 *   keeps UIDVALIDITY (from a global counter: strictly increasing, so a re-created name never reuses
 *   one), UIDNEXT and HIGHESTMODSEQ. The default set (INBOX, Sent, Drafts, Trash, Junk, Archive) is
 *   created on first use (`listMailboxes`, `specialMailbox`, delivery).
 * - A **message** (`MessageMeta`): uid (per mailbox, strictly increasing, never reused), modseq, flags
 *   (system flags \Seen \Answered \Flagged \Deleted \Draft, plus keywords, case preserved, matched
 *   case-insensitively), internal date (ms), size (octets of the stored CRLF form), blob hash of the raw
 *   RFC 5322 text in the platform blob store (`readRaw`; `blobBytes` takes a byte range), envelope and bodystructure
 *   (mime.ts types: the IMAP ENVELOPE and the MIME tree with byte offsets of every part), thread id
 *   (References/In-Reply-To, within one owner), decoded subject/from/to/date for sort and search.
 *   \Recent is not stored: it is a per-session notion the IMAP layer may compute (uid >= the UIDNEXT
 *   it saw at SELECT), as IMAP4rev2 dropped it.
 * - Messages are normalised to CRLF line endings before storing (`mime.toCrlf`).
 * - Quota: `mail_usage` keeps bytes and messages per owner, updated in the same transaction as every
 *   insert, copy, expunge and mailbox deletion (`quota()` reads it; `BASTIDE_MAIL_QUOTA` is the limit).
 *
 * ## Concurrency and durability
 * - UIDs and MODSEQs are allocated by `UPDATE mailboxes SET uidnext = uidnext + n, highestmodseq =
 *   highestmodseq + 1 … RETURNING` inside the mutation's transaction: PostgreSQL's row lock and
 *   SQLite's single writer (BEGIN IMMEDIATE) serialise writers per mailbox, so two deliveries never
 *   get the same UID, UIDs are assigned in commit order, and a rolled-back transaction leaves no gap
 *   visible to clients (the counters roll back too).
 * - Each mutation bumps the mailbox's HIGHESTMODSEQ by exactly one and stamps the rows it touched with
 *   that value (RFC 7162). A STORE that changes nothing changes no modseq. Expunged UIDs are kept in
 *   `mail_expunged` with their modseq (QRESYNC VANISHED (EARLIER)).
 * - The raw message is written to the blob store (fsynced, atomic) *before* the transaction that
 *   references it; when a function returns, the message is durable (the transaction committed). A
 *   message delivered to several recipients is stored once (one blob, one reference per row).
 * - Deadlock-free on PostgreSQL: `deliver` locks its mailboxes in id order, `move` locks source and
 *   target in id order before copying.
 *
 * ## Events
 * Every mutation emits, in its transaction (published after commit through the outbox and bus, to every
 * node), the topic **`mail.changed`** with `MailChange` data: `{mailboxId, ownerType, ownerId, kind,
 * modseq, uids?, uidnext?}` where kind is 'append' | 'flags' | 'expunge' | 'mailbox' (created, renamed,
 * deleted, subscription). `uids` lists the affected UIDs (omitted above 1000: re-read). On the node that
 * made the change, `platform.onCommit` sees the same events synchronously before the call returns.
 * Audience: the owning user (space mailboxes: none; sessions filter by mailboxId themselves).
 *
 * ## Permissions
 * Every entry takes a `MailCtx {platform, actor}` and checks the 'mailbox' policy (policy.ts): the
 * owner (sessions, API tokens with 'api', app passwords with 'mail'), the members of a space for its
 * shared mailbox. The system actor (SMTP delivery) may do anything. A mailbox the actor may not read is
 * reported as `not_found` (indistinguishable from one that does not exist).
 *
 * ## Errors (AppError codes)
 * not_found (mailbox/owner), invalid_name (mailbox name), mailbox_exists, forbidden (INBOX delete, a
 * write without write right), payload_too_large (message over `mailMaxMessageBytes`), quota_exceeded
 * (owner's quota), validation_failed (bad flags or arguments).
 *
 * ## UID sets
 * `UidSet` is a list of inclusive ranges `[from, to]`; the IMAP layer resolves `*` to the mailbox's
 * highest UID before calling (use `maxUid` or `uidList`). `'all'` means every message.
 */

export interface MailOwner {
  type: 'user' | 'space';
  id: string;
}

export interface MailCtx {
  platform: Platform;
  actor: Actor;
}

export type SpecialUse = '\\Inbox' | '\\Sent' | '\\Drafts' | '\\Trash' | '\\Junk' | '\\Archive';
export const SPECIAL_USES: SpecialUse[] = ['\\Inbox', '\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive'];

export interface MailboxRow {
  id: string;
  ownerType: 'user' | 'space';
  ownerId: string;
  name: string;
  specialUse: SpecialUse | null;
  uidvalidity: number;
  uidnext: number;
  highestModseq: number;
  subscribed: boolean;
  createdAt: number;
}

export type UidRange = [number, number];
export type UidSet = UidRange[] | 'all';

export interface FlagsState {
  uid: number;
  modseq: number;
  flags: string[];
}

export interface MessageMeta extends FlagsState {
  id: string;
  mailboxId: string;
  internalDate: number;
  size: number;
  blobSha256: string;
  envelope: Envelope;
  bodystructure: MimePart;
  threadId: string;
  /** Lower-case Message-ID without brackets ('' when none). */
  messageId: string;
  subject: string;
  from: string;
  to: string;
  /** Date header in ms (the internal date when the header is absent or unparsable). */
  date: number;
  hasAttachments: boolean;
}

export interface MailChange {
  mailboxId: string;
  ownerType: 'user' | 'space';
  ownerId: string;
  kind: 'append' | 'flags' | 'expunge' | 'mailbox';
  modseq: number;
  uids?: number[];
  uidnext?: number;
  /** For kind 'mailbox': what happened. */
  action?: 'created' | 'renamed' | 'deleted' | 'subscribed' | 'unsubscribed';
  name?: string;
}

export interface MailboxStatus {
  messages: number;
  unseen: number;
  deleted: number;
  /** Sum of message sizes (STATUS SIZE, RFC 8438). */
  size: number;
  uidnext: number;
  uidvalidity: number;
  highestModseq: number;
  /** Lowest UID without \Seen (null when all are seen). */
  firstUnseenUid: number | null;
}

/**
 * Search criteria: every given field must match (AND). Text matches are case-insensitive substrings
 * of the decoded values. `or`/`not` combine nested criteria. Dates are ms; `before`/`since`/`on` use
 * the internal date, `sentBefore`/`sentSince`/`sentOn` the Date header (`on` spans [on, on + 1 day)).
 */
export interface SearchCriteria {
  uids?: UidSet;
  flagged?: string[];
  unflagged?: string[];
  subject?: string;
  from?: string;
  to?: string;
  /** Body text (the stored text extract). */
  body?: string;
  /** Headers (subject, from, to) or body. */
  text?: string;
  messageId?: string;
  before?: number;
  since?: number;
  on?: number;
  sentBefore?: number;
  sentSince?: number;
  sentOn?: number;
  larger?: number;
  smaller?: number;
  /** MODSEQ greater than or equal (RFC 7162 SEARCH MODSEQ). */
  modseq?: number;
  threadId?: string;
  all?: SearchCriteria[];
  or?: [SearchCriteria, SearchCriteria];
  not?: SearchCriteria;
}

export const SYSTEM_FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'] as const;
const FLAG_COLUMNS = { '\\seen': 'seen', '\\answered': 'answered', '\\flagged': 'flagged', '\\deleted': 'deleted', '\\draft': 'draft' } as const;
type FlagColumn = (typeof FLAG_COLUMNS)[keyof typeof FLAG_COLUMNS];
const MAX_KEYWORDS = 64;
const MAX_NAME = 255;
const DAY = 86_400_000;

const DEFAULTS: Array<{ name: string; specialUse: SpecialUse }> = [
  { name: 'INBOX', specialUse: '\\Inbox' },
  { name: 'Sent', specialUse: '\\Sent' },
  { name: 'Drafts', specialUse: '\\Drafts' },
  { name: 'Trash', specialUse: '\\Trash' },
  { name: 'Junk', specialUse: '\\Junk' },
  { name: 'Archive', specialUse: '\\Archive' },
];

// ------------------------------------------------------------------------------------------- helpers

const ownerKey = (o: MailOwner): string => `${o.type}:${o.id}`;

function toMailbox(r: MailboxesTable): MailboxRow {
  return {
    id: r.id,
    ownerType: r.owner_type as 'user' | 'space',
    ownerId: r.owner_id,
    name: r.name,
    specialUse: (r.special_use as SpecialUse | null) ?? null,
    uidvalidity: Number(r.uidvalidity),
    uidnext: Number(r.uidnext),
    highestModseq: Number(r.highestmodseq),
    subscribed: Number(r.subscribed) === 1,
    createdAt: Number(r.created_at),
  };
}

type FlagRow = Pick<MailMessagesTable, 'uid' | 'modseq' | 'seen' | 'answered' | 'flagged' | 'deleted' | 'draft' | 'keywords'>;

function flagsOf(r: FlagRow): string[] {
  const out: string[] = [];
  if (Number(r.seen)) out.push('\\Seen');
  if (Number(r.answered)) out.push('\\Answered');
  if (Number(r.flagged)) out.push('\\Flagged');
  if (Number(r.deleted)) out.push('\\Deleted');
  if (Number(r.draft)) out.push('\\Draft');
  try {
    const kw = JSON.parse(r.keywords) as unknown;
    if (Array.isArray(kw)) for (const k of kw) if (typeof k === 'string') out.push(k);
  } catch {
    /* a corrupt keyword list reads as none */
  }
  return out;
}

function toMeta(r: MailMessagesTable): MessageMeta {
  return {
    id: r.id,
    mailboxId: r.mailbox_id,
    uid: Number(r.uid),
    modseq: Number(r.modseq),
    flags: flagsOf(r),
    internalDate: Number(r.internal_date),
    size: Number(r.size),
    blobSha256: r.blob_sha256,
    envelope: JSON.parse(r.envelope) as Envelope,
    bodystructure: JSON.parse(r.bodystructure) as MimePart,
    threadId: r.thread_id,
    messageId: r.message_id,
    subject: r.subject,
    from: r.from_text,
    to: r.to_text,
    date: Number(r.sent_date),
    hasAttachments: Number(r.has_attachments) === 1,
  };
}

/** A normalised flag list: system flags in canonical case, keywords validated, duplicates removed. */
export function normalizeFlags(flags: readonly string[]): { system: Set<FlagColumn>; keywords: string[] } {
  const system = new Set<FlagColumn>();
  const keywords: string[] = [];
  const seen = new Set<string>();
  for (const f of flags) {
    if (typeof f !== 'string') throw new AppError('validation_failed', { flag: String(f) });
    const lower = f.toLowerCase();
    if (lower.startsWith('\\')) {
      const col = FLAG_COLUMNS[lower as keyof typeof FLAG_COLUMNS];
      if (col) system.add(col);
      else if (lower !== '\\recent') throw new AppError('validation_failed', { flag: f.slice(0, 100) });
      continue;
    }
    // RFC 3501 atom: no specials, controls or spaces; bounded length.
    // eslint-disable-next-line no-control-regex
    if (f.length === 0 || f.length > 128 || /[\x00-\x20\x7f(){%*"\\\]]/.test(f)) throw new AppError('validation_failed', { flag: f.slice(0, 100) });
    if (seen.has(lower)) continue;
    seen.add(lower);
    keywords.push(f);
  }
  if (keywords.length > MAX_KEYWORDS) throw new AppError('validation_failed', { reason: 'too many keywords' });
  return { system, keywords };
}

/** Validates and normalises a mailbox name ("inbox" → "INBOX", NFC, '/' delimiter, no empty segment). */
export function checkMailboxName(name: string): string {
  const n = name.normalize('NFC');
  // eslint-disable-next-line no-control-regex
  if (n.length === 0 || n.length > MAX_NAME || /[\x00-\x1f\x7f*%]/.test(n) || n.startsWith('/') || n.endsWith('/') || n.includes('//')) {
    throw new AppError('invalid_name', { name: name.slice(0, 300) });
  }
  if (n.split('/').some((s) => s === '.' || s === '..' || s.trim() === '')) throw new AppError('invalid_name', { name: name.slice(0, 300) });
  if (n.toUpperCase() === 'INBOX') return 'INBOX';
  if (n.toUpperCase().startsWith('INBOX/')) return `INBOX${n.slice(5)}`;
  return n;
}

export function inSet(uid: number, set: UidSet): boolean {
  if (set === 'all') return true;
  for (const [a, b] of set) if (uid >= Math.min(a, b) && uid <= Math.max(a, b)) return true;
  return false;
}

function bounds(set: UidSet): [number, number] | null {
  if (set === 'all') return [1, Number.MAX_SAFE_INTEGER];
  if (set.length === 0) return null;
  let lo = Number.MAX_SAFE_INTEGER;
  let hi = 0;
  for (const [a, b] of set) {
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 1 || b < 1) throw new AppError('validation_failed', { uids: 'invalid range' });
    lo = Math.min(lo, a, b);
    hi = Math.max(hi, a, b);
  }
  return [lo, hi];
}

function chunks<T>(list: T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

function audience(o: { ownerType: string; ownerId: string }): string[] {
  return o.ownerType === 'user' ? [o.ownerId] : [];
}

async function emitChange(emit: Emit, change: MailChange): Promise<void> {
  const data: Record<string, unknown> = { ...change };
  if (change.uids && change.uids.length > 1000) delete data.uids;
  await emit('mail.changed', data, audience(change));
}

/** Keeps the owner's usage row in step (inside the mutation's transaction). */
async function addUsage(trx: Tx, owner: string, bytes: number, messages: number): Promise<void> {
  if (bytes === 0 && messages === 0) return;
  await trx
    .insertInto('mail_usage')
    .values({ owner, bytes, messages })
    .onConflict((oc) => oc.column('owner').doUpdateSet({ bytes: sql<number>`mail_usage.bytes + ${bytes}`, messages: sql<number>`mail_usage.messages + ${messages}` }))
    .execute();
}

/** Escapes a LIKE pattern (both engines, with `escape '\'`). */
function likeContains(q: string): string {
  return `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

// ------------------------------------------------------------------------------------------- store

export class MailStore {
  // --------------------------------------------------------------------------------- authorization

  /** Loads the facts and checks `action` on an owner's mailboxes; not readable → not_found. */
  async authorizeOwner(ctx: MailCtx, owner: MailOwner, action: 'read' | 'write' | 'admin', db: DbOrTx = ctx.platform.db): Promise<void> {
    if (ctx.actor.kind === 'system') return;
    const resource: Record<string, unknown> = { type: 'mailbox', ownerType: owner.type, ownerId: owner.id };
    if (owner.type === 'space') resource.spaceRole = (await spaceResource(db, owner.id, ctx.actor))?.role ?? null;
    const r = resource as { type: string };
    if (!(await ctx.platform.policy.can(ctx.actor, 'read', r))) {
      if (ctx.actor.kind === 'anonymous') throw new AppError('unauthenticated');
      throw new AppError('not_found');
    }
    if (action !== 'read') await ctx.platform.policy.authorize(ctx.actor, action, r);
  }

  /** May the actor use this owner's mailboxes (read)? Never throws for a refusal. */
  async canAccess(ctx: MailCtx, owner: MailOwner, action: 'read' | 'write' | 'admin' = 'read'): Promise<boolean> {
    try {
      await this.authorizeOwner(ctx, owner, action);
      return true;
    } catch (e) {
      if (e instanceof AppError && ['not_found', 'forbidden', 'unauthenticated'].includes(e.code)) return false;
      throw e;
    }
  }

  private async mailboxFor(ctx: MailCtx, db: DbOrTx, mailboxId: string, action: 'read' | 'write' | 'admin'): Promise<MailboxRow> {
    const row = await db.selectFrom('mailboxes').selectAll().where('id', '=', mailboxId).executeTakeFirst();
    if (!row) throw new AppError('not_found', { mailbox: mailboxId });
    const mb = toMailbox(row);
    await this.authorizeOwner(ctx, { type: mb.ownerType, id: mb.ownerId }, action, db);
    return mb;
  }

  // ------------------------------------------------------------------------------------- mailboxes

  /** Every mailbox of the owner, by name; creates the default set on first use. */
  async listMailboxes(ctx: MailCtx, owner: MailOwner): Promise<MailboxRow[]> {
    await this.authorizeOwner(ctx, owner, 'read');
    let rows = await this.rows(ctx.platform.db, owner);
    if (!rows.some((r) => r.name === 'INBOX')) {
      await this.ensureDefaults(ctx.platform, owner, rows.length === 0);
      rows = await this.rows(ctx.platform.db, owner);
    }
    return rows;
  }

  private async rows(db: DbOrTx, owner: MailOwner): Promise<MailboxRow[]> {
    const rows = await db.selectFrom('mailboxes').selectAll().where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).orderBy('name').execute();
    return rows.map(toMailbox);
  }

  /** Creates the missing default mailboxes (all of them when `all`, else INBOX only). Race-safe. */
  async ensureDefaults(platform: Platform, owner: MailOwner, all = true): Promise<void> {
    const want = all ? DEFAULTS : DEFAULTS.slice(0, 1);
    for (const d of want) {
      const exists = await platform.db.selectFrom('mailboxes').select('id').where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).where('name', '=', d.name).executeTakeFirst();
      if (exists) continue;
      try {
        await platform.transaction(async (trx, emit) => {
          await this.insertMailbox(trx, emit, owner, d.name, d.specialUse, platform.clock.now());
        });
      } catch (e) {
        if (!uniqueViolation(e)) throw e; // created meanwhile by another session
      }
    }
  }

  private async insertMailbox(trx: Tx, emit: Emit, owner: MailOwner, name: string, specialUse: SpecialUse | null, now: number): Promise<MailboxRow> {
    const counter = await trx
      .insertInto('mail_counters')
      .values({ name: 'uidvalidity', value: Math.floor(now / 1000) })
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({
          value: sql<number>`case when mail_counters.value + 1 > excluded.value then mail_counters.value + 1 else excluded.value end`,
        }),
      )
      .returning('value')
      .executeTakeFirstOrThrow();
    const row: MailboxesTable = {
      id: newId(now),
      owner_type: owner.type,
      owner_id: owner.id,
      name,
      special_use: specialUse,
      uidvalidity: Number(counter.value) % 4294967295 || 1,
      uidnext: 1,
      highestmodseq: 1,
      subscribed: 1,
      created_at: now,
    };
    await trx.insertInto('mailboxes').values(row).execute();
    const mb = toMailbox(row);
    await emitChange(emit, { mailboxId: mb.id, ownerType: owner.type, ownerId: owner.id, kind: 'mailbox', action: 'created', name, modseq: 1 });
    return mb;
  }

  /** One mailbox by name (INBOX case-insensitive); null when absent. */
  async getMailbox(ctx: MailCtx, owner: MailOwner, name: string): Promise<MailboxRow | null> {
    await this.authorizeOwner(ctx, owner, 'read');
    let n: string;
    try {
      n = checkMailboxName(name);
    } catch {
      return null;
    }
    if (n === 'INBOX') await this.ensureDefaults(ctx.platform, owner, false);
    const row = await ctx.platform.db.selectFrom('mailboxes').selectAll().where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).where('name', '=', n).executeTakeFirst();
    return row ? toMailbox(row) : null;
  }

  /** One mailbox by id (checks the actor may read it). */
  async getMailboxById(ctx: MailCtx, mailboxId: string): Promise<MailboxRow> {
    return this.mailboxFor(ctx, ctx.platform.db, mailboxId, 'read');
  }

  /** The owner's mailbox with this special use, created (with the default name) when missing. */
  async specialMailbox(ctx: MailCtx, owner: MailOwner, use: SpecialUse): Promise<MailboxRow> {
    await this.authorizeOwner(ctx, owner, 'read');
    const find = () =>
      ctx.platform.db.selectFrom('mailboxes').selectAll().where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).where('special_use', '=', use).orderBy('created_at').executeTakeFirst();
    let row = await find();
    if (!row) {
      const d = DEFAULTS.find((x) => x.specialUse === use)!;
      const all = (await this.rows(ctx.platform.db, owner)).length === 0;
      await this.ensureDefaults(ctx.platform, owner, all);
      row = await find();
      if (!row) {
        // The default name is taken by a mailbox without the special use: give it the use.
        await ctx.platform.db.updateTable('mailboxes').set({ special_use: use }).where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).where('name', '=', d.name).execute();
        row = await find();
        if (!row) {
          try {
            await ctx.platform.transaction((trx, emit) => this.insertMailbox(trx, emit, owner, d.name, use, ctx.platform.clock.now()));
          } catch (e) {
            if (!uniqueViolation(e)) throw e;
          }
          row = await find();
        }
      }
    }
    if (!row) throw new AppError('not_found', { specialUse: use });
    return toMailbox(row);
  }

  /** Creates a mailbox. Parents are not required (IMAP LIST shows missing parents as \NonExistent). */
  async createMailbox(ctx: MailCtx, owner: MailOwner, name: string, opts: { specialUse?: SpecialUse | null } = {}): Promise<MailboxRow> {
    const n = checkMailboxName(name);
    if (opts.specialUse && !SPECIAL_USES.includes(opts.specialUse)) throw new AppError('validation_failed', { specialUse: opts.specialUse });
    await this.authorizeOwner(ctx, owner, 'admin');
    try {
      return await ctx.platform.transaction((trx, emit) => this.insertMailbox(trx, emit, owner, n, opts.specialUse ?? null, ctx.platform.clock.now()));
    } catch (e) {
      if (uniqueViolation(e)) throw new AppError('mailbox_exists', { name: n });
      throw e;
    }
  }

  /**
   * Renames a mailbox and its children ("A" → "B" renames "A/x" to "B/x"). Renaming INBOX moves its
   * messages into a new mailbox of that name and leaves INBOX empty (RFC 3501 §6.3.5).
   */
  async renameMailbox(ctx: MailCtx, mailboxId: string, newName: string): Promise<MailboxRow> {
    const to = checkMailboxName(newName);
    const mb = await this.mailboxFor(ctx, ctx.platform.db, mailboxId, 'admin');
    const owner: MailOwner = { type: mb.ownerType, id: mb.ownerId };
    if (to === mb.name) return mb;
    if (mb.name === 'INBOX') {
      const target = await this.createMailbox(ctx, owner, to);
      await this.move(ctx, mb.id, 'all', target.id);
      return target;
    }
    if (to === 'INBOX' || to.startsWith(`${mb.name}/`)) throw new AppError('invalid_name', { name: to });
    try {
      return await ctx.platform.transaction(async (trx, emit) => {
        const all = await trx.selectFrom('mailboxes').select(['id', 'name']).where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).execute();
        const list = [{ id: mb.id, name: mb.name }, ...all.filter((c) => c.name.startsWith(`${mb.name}/`))];
        for (const c of list) {
          const nn = to + c.name.slice(mb.name.length);
          const up = await trx.updateTable('mailboxes').set({ name: nn, highestmodseq: sql<number>`highestmodseq + 1` }).where('id', '=', c.id).returning(['highestmodseq']).executeTakeFirstOrThrow();
          await emitChange(emit, { mailboxId: c.id, ownerType: owner.type, ownerId: owner.id, kind: 'mailbox', action: 'renamed', name: nn, modseq: Number(up.highestmodseq) });
        }
        const row = await trx.selectFrom('mailboxes').selectAll().where('id', '=', mb.id).executeTakeFirstOrThrow();
        return toMailbox(row);
      });
    } catch (e) {
      if (uniqueViolation(e)) throw new AppError('mailbox_exists', { name: to });
      throw e;
    }
  }

  /** Deletes a mailbox and its messages (not its children). INBOX cannot be deleted. */
  async deleteMailbox(ctx: MailCtx, mailboxId: string): Promise<void> {
    const mb = await this.mailboxFor(ctx, ctx.platform.db, mailboxId, 'admin');
    if (mb.name === 'INBOX') throw new AppError('forbidden', { mailbox: 'INBOX' }, 'INBOX cannot be deleted.');
    const now = ctx.platform.clock.now();
    await ctx.platform.transaction(async (trx, emit) => {
      const blobs = await trx.selectFrom('mail_messages').select(['blob_sha256', 'size']).where('mailbox_id', '=', mb.id).execute();
      for (const b of blobs) await releaseRef(trx, b.blob_sha256, now);
      await addUsage(trx, `${mb.ownerType}:${mb.ownerId}`, -blobs.reduce((sum, b) => sum + Number(b.size), 0), -blobs.length);
      await trx.deleteFrom('mail_messages').where('mailbox_id', '=', mb.id).execute();
      await trx.deleteFrom('mail_expunged').where('mailbox_id', '=', mb.id).execute();
      await trx.deleteFrom('mailboxes').where('id', '=', mb.id).execute();
      await emitChange(emit, { mailboxId: mb.id, ownerType: mb.ownerType, ownerId: mb.ownerId, kind: 'mailbox', action: 'deleted', name: mb.name, modseq: mb.highestModseq + 1 });
    });
  }

  /** SUBSCRIBE / UNSUBSCRIBE. */
  async setSubscribed(ctx: MailCtx, mailboxId: string, subscribed: boolean): Promise<void> {
    const mb = await this.mailboxFor(ctx, ctx.platform.db, mailboxId, 'read');
    await ctx.platform.transaction(async (trx, emit) => {
      await trx.updateTable('mailboxes').set({ subscribed: subscribed ? 1 : 0 }).where('id', '=', mb.id).execute();
      await emitChange(emit, { mailboxId: mb.id, ownerType: mb.ownerType, ownerId: mb.ownerId, kind: 'mailbox', action: subscribed ? 'subscribed' : 'unsubscribed', name: mb.name, modseq: mb.highestModseq });
    });
  }

  // -------------------------------------------------------------------------------------- messages

  /** Parses and bounds a raw message (CRLF-normalised); throws payload_too_large over the limit. */
  prepare(platform: Platform, raw: Buffer): { raw: Buffer; parsed: ParsedMessage } {
    const max = platform.config.mailMaxMessageBytes;
    if (raw.length > max) throw new AppError('payload_too_large', { max });
    const crlf = toCrlf(raw);
    if (crlf.length > max) throw new AppError('payload_too_large', { max });
    return { raw: crlf, parsed: parseMessage(crlf) };
  }

  /** Bytes used by an owner's messages, and the limit (0 = unlimited). */
  async quota(ctx: MailCtx, owner: MailOwner): Promise<{ usedBytes: number; messages: number; limitBytes: number }> {
    await this.authorizeOwner(ctx, owner, 'read');
    return this.quotaOf(ctx.platform, ctx.platform.db, owner);
  }

  private async quotaOf(platform: Platform, db: DbOrTx, owner: MailOwner): Promise<{ usedBytes: number; messages: number; limitBytes: number }> {
    const r = await db.selectFrom('mail_usage').select(['bytes', 'messages']).where('owner', '=', ownerKey(owner)).executeTakeFirst();
    return { usedBytes: Number(r?.bytes ?? 0), messages: Number(r?.messages ?? 0), limitBytes: platform.config.mailQuotaBytes };
  }

  private async checkQuota(platform: Platform, db: DbOrTx, owner: MailOwner, adding: number): Promise<void> {
    const q = await this.quotaOf(platform, db, owner);
    if (q.limitBytes > 0 && q.usedBytes + adding > q.limitBytes) throw new AppError('quota_exceeded', { usedBytes: q.usedBytes, limitBytes: q.limitBytes });
  }

  /** Writes the raw message to the blob store (fsynced) and notes it for GC until a row references it. */
  async storeBlob(platform: Platform, raw: Buffer): Promise<BlobInfo> {
    const info = await platform.blobs.put(raw);
    await trackUpload(platform.db, info, platform.clock.now());
    return info;
  }

  /** APPEND: stores a message in one mailbox. Returns its UID (UIDPLUS APPENDUID). */
  async append(
    ctx: MailCtx,
    mailboxId: string,
    rawIn: Buffer,
    opts: { flags?: string[]; internalDate?: number } = {},
  ): Promise<{ id: string; uid: number; uidvalidity: number; modseq: number }> {
    const flags = normalizeFlags(opts.flags ?? []);
    await this.mailboxFor(ctx, ctx.platform.db, mailboxId, 'write');
    const { raw, parsed } = this.prepare(ctx.platform, rawIn);
    const info = await this.storeBlob(ctx.platform, raw);
    const [r] = await this.insertMessages(ctx, [{ mailboxId, flags }], raw.length, info, parsed, opts.internalDate);
    return r!;
  }

  /**
   * Local delivery: one message to many mailboxes (usually the INBOX of each recipient) in ONE
   * transaction; the raw text is stored once. Quota is checked per owner (quota_exceeded for the first
   * owner over quota: deliver per recipient when partial success matters). Returns one entry per target.
   */
  async deliver(
    ctx: MailCtx,
    targets: Array<{ mailboxId: string; flags?: string[] }>,
    rawIn: Buffer,
    opts: {
      internalDate?: number;
      prepared?: { raw: Buffer; parsed: ParsedMessage };
      /** More work in the same transaction (e.g. queueing the remote copies of a submitted message). */
      also?: (trx: Tx, emit: Emit, blob: BlobInfo) => Promise<void>;
    } = {},
  ): Promise<Array<{ mailboxId: string; id: string; uid: number; uidvalidity: number; modseq: number }>> {
    if (targets.length === 0 && !opts.also) return [];
    const norm = targets.map((t) => ({ mailboxId: t.mailboxId, flags: normalizeFlags(t.flags ?? []) }));
    const { raw, parsed } = opts.prepared ?? this.prepare(ctx.platform, rawIn);
    const info = await this.storeBlob(ctx.platform, raw);
    return this.insertMessages(ctx, norm, raw.length, info, parsed, opts.internalDate, opts.also);
  }

  private async insertMessages(
    ctx: MailCtx,
    targets: Array<{ mailboxId: string; flags: ReturnType<typeof normalizeFlags> }>,
    size: number,
    info: BlobInfo,
    parsed: ParsedMessage,
    internalDate?: number,
    also?: (trx: Tx, emit: Emit, blob: BlobInfo) => Promise<void>,
  ): Promise<Array<{ mailboxId: string; id: string; uid: number; uidvalidity: number; modseq: number }>> {
    const { platform } = ctx;
    const now = platform.clock.now();
    const envelope = JSON.stringify(parsed.envelope);
    const bodystructure = JSON.stringify(parsed.body);
    return platform.transaction(async (trx, emit) => {
      const out: Array<{ mailboxId: string; id: string; uid: number; uidvalidity: number; modseq: number }> = new Array(targets.length);
      const checkedOwners = new Set<string>();
      // Mailbox rows are locked in id order, so two deliveries to the same mailboxes never deadlock.
      const order = targets.map((t, i) => ({ t, i })).sort((a, b) => (a.t.mailboxId < b.t.mailboxId ? -1 : a.t.mailboxId > b.t.mailboxId ? 1 : a.i - b.i));
      for (const { t, i } of order) {
        const mb = await this.mailboxFor(ctx, trx, t.mailboxId, 'write');
        const owner: MailOwner = { type: mb.ownerType, id: mb.ownerId };
        if (!checkedOwners.has(ownerKey(owner))) {
          checkedOwners.add(ownerKey(owner));
          await this.checkQuota(platform, trx, owner, size);
        }
        // Reads and the blob reference first: the mailbox row lock below is then held for few statements.
        const threadId = await this.threadFor(trx, owner, parsed, now);
        await addRef(trx, info, now);
        const up = await trx
          .updateTable('mailboxes')
          .set({ uidnext: sql<number>`uidnext + 1`, highestmodseq: sql<number>`highestmodseq + 1` })
          .where('id', '=', mb.id)
          .returning(['uidnext', 'highestmodseq', 'uidvalidity'])
          .executeTakeFirstOrThrow();
        const uid = Number(up.uidnext) - 1;
        const modseq = Number(up.highestmodseq);
        const id = newId(now);
        const sys = t.flags.system;
        await trx
          .insertInto('mail_messages')
          .values({
            id,
            mailbox_id: mb.id,
            owner: ownerKey(owner),
            uid,
            modseq,
            seen: sys.has('seen') ? 1 : 0,
            answered: sys.has('answered') ? 1 : 0,
            flagged: sys.has('flagged') ? 1 : 0,
            deleted: sys.has('deleted') ? 1 : 0,
            draft: sys.has('draft') ? 1 : 0,
            keywords: JSON.stringify(t.flags.keywords),
            internal_date: internalDate ?? now,
            size,
            blob_sha256: info.sha256,
            envelope,
            bodystructure,
            thread_id: threadId,
            message_id: parsed.messageId ?? '',
            subject: parsed.subject,
            from_text: parsed.from,
            to_text: [parsed.to, parsed.cc].filter(Boolean).join(', ').slice(0, 8000),
            sent_date: parsed.date ?? internalDate ?? now,
            text: parsed.text,
            has_attachments: parsed.hasAttachments ? 1 : 0,
            created_at: now,
          })
          .execute();
        await addUsage(trx, ownerKey(owner), size, 1);
        await emitChange(emit, { mailboxId: mb.id, ownerType: mb.ownerType, ownerId: mb.ownerId, kind: 'append', uids: [uid], modseq, uidnext: uid + 1 });
        out[i] = { mailboxId: mb.id, id, uid, uidvalidity: Number(up.uidvalidity), modseq };
      }
      if (also) await also(trx, emit, info);
      return out;
    });
  }

  /** The thread of the first referenced (or same Message-ID) message of this owner; else a new thread. */
  private async threadFor(trx: Tx, owner: MailOwner, parsed: ParsedMessage, now: number): Promise<string> {
    const ids = [...parsed.references, ...(parsed.messageId ? [parsed.messageId] : [])].filter((x) => x.length <= 500);
    if (ids.length > 0) {
      const hit = await trx.selectFrom('mail_messages').select('thread_id').where('owner', '=', ownerKey(owner)).where('message_id', 'in', ids).limit(1).executeTakeFirst();
      if (hit) return hit.thread_id;
    }
    return newId(now);
  }

  /**
   * STORE: adds, removes or replaces flags on the messages of `uids`. Messages whose modseq is above
   * `unchangedSince` are not changed and reported in `failed` (RFC 7162 CONDSTORE). Messages whose
   * flags do not change keep their modseq and are not reported in `changed`.
   */
  async setFlags(
    ctx: MailCtx,
    mailboxId: string,
    uids: UidSet,
    mode: 'add' | 'remove' | 'replace',
    flags: string[],
    opts: { unchangedSince?: number } = {},
  ): Promise<{ modseq: number; changed: FlagsState[]; failed: number[] }> {
    const want = normalizeFlags(flags);
    const b = bounds(uids);
    const mb = await this.mailboxFor(ctx, ctx.platform.db, mailboxId, 'write');
    if (!b) return { modseq: mb.highestModseq, changed: [], failed: [] };
    return ctx.platform.transaction(async (trx, emit) => {
      const rows = (
        await trx
          .selectFrom('mail_messages')
          .select(['uid', 'modseq', 'seen', 'answered', 'flagged', 'deleted', 'draft', 'keywords'])
          .where('mailbox_id', '=', mb.id)
          .where('uid', '>=', b[0])
          .where('uid', '<=', b[1])
          .orderBy('uid')
          .execute()
      ).filter((r) => inSet(Number(r.uid), uids));
      const failed: number[] = [];
      const updates = new Map<string, { values: Record<FlagColumn, number> & { keywords: string }; uids: number[] }>();
      for (const r of rows) {
        if (opts.unchangedSince !== undefined && Number(r.modseq) > opts.unchangedSince) {
          failed.push(Number(r.uid));
          continue;
        }
        const cur = normalizeFlags(flagsOf(r));
        const sys = new Set(cur.system);
        let kws = cur.keywords;
        if (mode === 'replace') {
          sys.clear();
          for (const s of want.system) sys.add(s);
          kws = want.keywords;
        } else if (mode === 'add') {
          for (const s of want.system) sys.add(s);
          const lower = new Set(kws.map((k) => k.toLowerCase()));
          kws = [...kws, ...want.keywords.filter((k) => !lower.has(k.toLowerCase()))];
        } else {
          for (const s of want.system) sys.delete(s);
          const drop = new Set(want.keywords.map((k) => k.toLowerCase()));
          kws = kws.filter((k) => !drop.has(k.toLowerCase()));
        }
        if (kws.length > MAX_KEYWORDS) throw new AppError('validation_failed', { reason: 'too many keywords' });
        const values = {
          seen: sys.has('seen') ? 1 : 0,
          answered: sys.has('answered') ? 1 : 0,
          flagged: sys.has('flagged') ? 1 : 0,
          deleted: sys.has('deleted') ? 1 : 0,
          draft: sys.has('draft') ? 1 : 0,
          keywords: JSON.stringify(kws),
        };
        const same = values.seen === Number(r.seen) && values.answered === Number(r.answered) && values.flagged === Number(r.flagged) && values.deleted === Number(r.deleted) && values.draft === Number(r.draft) && values.keywords === JSON.stringify(cur.keywords);
        if (same) continue;
        const key = JSON.stringify(values);
        const u = updates.get(key) ?? { values, uids: [] };
        u.uids.push(Number(r.uid));
        updates.set(key, u);
      }
      if (updates.size === 0) return { modseq: mb.highestModseq, changed: [], failed };
      const up = await trx.updateTable('mailboxes').set({ highestmodseq: sql<number>`highestmodseq + 1` }).where('id', '=', mb.id).returning('highestmodseq').executeTakeFirstOrThrow();
      const modseq = Number(up.highestmodseq);
      const changed: FlagsState[] = [];
      for (const u of updates.values()) {
        for (const part of chunks(u.uids)) {
          await trx.updateTable('mail_messages').set({ ...u.values, modseq }).where('mailbox_id', '=', mb.id).where('uid', 'in', part).execute();
        }
        const fl = flagsOf({ uid: 0, modseq, ...u.values } as unknown as FlagRow);
        for (const uid of u.uids) changed.push({ uid, modseq, flags: fl });
      }
      changed.sort((a, c) => a.uid - c.uid);
      await emitChange(emit, { mailboxId: mb.id, ownerType: mb.ownerType, ownerId: mb.ownerId, kind: 'flags', uids: changed.map((c) => c.uid), modseq });
      return { modseq, changed, failed };
    });
  }

  /** COPY: copies messages (flags kept, same blob) to another mailbox; returns the UID mapping (COPYUID). */
  async copy(ctx: MailCtx, fromId: string, uids: UidSet, toId: string): Promise<{ uidvalidity: number; mapping: Array<[number, number]>; modseq: number }> {
    return ctx.platform.transaction(async (trx, emit) => {
      const r = await this.copyIn(ctx, trx, emit, fromId, uids, toId);
      return { uidvalidity: r.uidvalidity, mapping: r.mapping, modseq: r.modseq };
    });
  }

  private async copyIn(ctx: MailCtx, trx: Tx, emit: Emit, fromId: string, uids: UidSet, toId: string): Promise<{ uidvalidity: number; mapping: Array<[number, number]>; modseq: number; from: MailboxRow }> {
    const from = await this.mailboxFor(ctx, trx, fromId, 'read');
    const to = await this.mailboxFor(ctx, trx, toId, 'write');
    const b = bounds(uids);
    const rows = b
      ? (await trx.selectFrom('mail_messages').selectAll().where('mailbox_id', '=', from.id).where('uid', '>=', b[0]).where('uid', '<=', b[1]).orderBy('uid').execute()).filter((r) => inSet(Number(r.uid), uids))
      : [];
    if (rows.length === 0) return { uidvalidity: to.uidvalidity, mapping: [], modseq: to.highestModseq, from };
    const toOwner: MailOwner = { type: to.ownerType, id: to.ownerId };
    if (ownerKey(toOwner) !== rows[0]!.owner) await this.checkQuota(ctx.platform, trx, toOwner, rows.reduce((s, r) => s + Number(r.size), 0));
    const up = await trx
      .updateTable('mailboxes')
      .set({ uidnext: sql<number>`uidnext + ${rows.length}`, highestmodseq: sql<number>`highestmodseq + 1` })
      .where('id', '=', to.id)
      .returning(['uidnext', 'highestmodseq', 'uidvalidity'])
      .executeTakeFirstOrThrow();
    let next = Number(up.uidnext) - rows.length;
    const modseq = Number(up.highestmodseq);
    const now = ctx.platform.clock.now();
    const mapping: Array<[number, number]> = [];
    for (const r of rows) {
      const uid = next++;
      await trx.insertInto('mail_messages').values({ ...r, id: newId(now), mailbox_id: to.id, owner: ownerKey(toOwner), uid, modseq, created_at: now }).execute();
      await addRef(trx, { sha256: r.blob_sha256, size: Number(r.size) }, now);
      mapping.push([Number(r.uid), uid]);
    }
    await addUsage(trx, ownerKey(toOwner), rows.reduce((sum, r) => sum + Number(r.size), 0), rows.length);
    await emitChange(emit, { mailboxId: to.id, ownerType: to.ownerType, ownerId: to.ownerId, kind: 'append', uids: mapping.map((m) => m[1]), modseq, uidnext: next });
    return { uidvalidity: Number(up.uidvalidity), mapping, modseq, from };
  }

  /** MOVE (RFC 6851): copy then expunge from the source, in one transaction. */
  async move(ctx: MailCtx, fromId: string, uids: UidSet, toId: string): Promise<{ uidvalidity: number; mapping: Array<[number, number]>; expunged: number[]; modseq: number }> {
    if (fromId === toId) throw new AppError('validation_failed', { reason: 'same mailbox' });
    await this.mailboxFor(ctx, ctx.platform.db, fromId, 'write');
    return ctx.platform.transaction(async (trx, emit) => {
      // Both rows locked in id order first: a MOVE A→B and a MOVE B→A at once never deadlock.
      if (ctx.platform.engine === 'postgres') await trx.selectFrom('mailboxes').select('id').where('id', 'in', [fromId, toId]).orderBy('id').forUpdate().execute();
      const c = await this.copyIn(ctx, trx, emit, fromId, uids, toId);
      const moved = c.mapping.map((m) => m[0]);
      const ex = await this.expungeIn(ctx, trx, emit, c.from, moved);
      return { uidvalidity: c.uidvalidity, mapping: c.mapping, expunged: ex.uids, modseq: c.modseq };
    });
  }

  /**
   * EXPUNGE: removes the messages flagged \Deleted (only those in `uids` when given: UID EXPUNGE).
   * Returns the expunged UIDs, ascending.
   */
  async expunge(ctx: MailCtx, mailboxId: string, uids?: UidSet): Promise<{ uids: number[]; modseq: number }> {
    const mb = await this.mailboxFor(ctx, ctx.platform.db, mailboxId, 'write');
    return ctx.platform.transaction(async (trx, emit) => {
      const b = uids ? bounds(uids) : ([1, Number.MAX_SAFE_INTEGER] as [number, number]);
      if (!b) return { uids: [], modseq: mb.highestModseq };
      const rows = (
        await trx.selectFrom('mail_messages').select(['uid']).where('mailbox_id', '=', mb.id).where('deleted', '=', 1).where('uid', '>=', b[0]).where('uid', '<=', b[1]).execute()
      )
        .map((r) => Number(r.uid))
        .filter((u) => !uids || inSet(u, uids));
      return this.expungeIn(ctx, trx, emit, mb, rows);
    });
  }

  private async expungeIn(ctx: MailCtx, trx: Tx, emit: Emit, mb: MailboxRow, uids: number[]): Promise<{ uids: number[]; modseq: number }> {
    if (uids.length === 0) return { uids: [], modseq: mb.highestModseq };
    const sorted = [...uids].sort((a, b) => a - b);
    const up = await trx.updateTable('mailboxes').set({ highestmodseq: sql<number>`highestmodseq + 1` }).where('id', '=', mb.id).returning('highestmodseq').executeTakeFirstOrThrow();
    const modseq = Number(up.highestmodseq);
    const now = ctx.platform.clock.now();
    for (const part of chunks(sorted)) {
      const gone = await trx.deleteFrom('mail_messages').where('mailbox_id', '=', mb.id).where('uid', 'in', part).returning(['blob_sha256', 'size']).execute();
      for (const g of gone) await releaseRef(trx, g.blob_sha256, now);
      await addUsage(trx, `${mb.ownerType}:${mb.ownerId}`, -gone.reduce((sum, g) => sum + Number(g.size), 0), -gone.length);
      await trx.insertInto('mail_expunged').values(part.map((uid) => ({ mailbox_id: mb.id, uid, modseq }))).onConflict((oc) => oc.columns(['mailbox_id', 'uid']).doNothing()).execute();
    }
    await emitChange(emit, { mailboxId: mb.id, ownerType: mb.ownerType, ownerId: mb.ownerId, kind: 'expunge', uids: sorted, modseq });
    return { uids: sorted, modseq };
  }

  // ----------------------------------------------------------------------------------------- reads

  /** Every UID of the mailbox, ascending (the IMAP sequence-number map). */
  async uidList(ctx: MailCtx, mailboxId: string): Promise<number[]> {
    const mb = await this.mailboxFor(ctx, ctx.platform.db, mailboxId, 'read');
    const rows = await ctx.platform.db.selectFrom('mail_messages').select('uid').where('mailbox_id', '=', mb.id).orderBy('uid').execute();
    return rows.map((r) => Number(r.uid));
  }

  /** Full metadata of the messages in `uids`, ascending by UID; `changedSince` keeps modseq > value. */
  async fetch(ctx: MailCtx, mailboxId: string, uids: UidSet, opts: { changedSince?: number } = {}): Promise<MessageMeta[]> {
    const mb = await this.mailboxFor(ctx, ctx.platform.db, mailboxId, 'read');
    const b = bounds(uids);
    if (!b) return [];
    let q = ctx.platform.db.selectFrom('mail_messages').selectAll().where('mailbox_id', '=', mb.id).where('uid', '>=', b[0]).where('uid', '<=', b[1]);
    if (opts.changedSince !== undefined) q = q.where('modseq', '>', opts.changedSince);
    const rows = await q.orderBy('uid').execute();
    return rows.filter((r) => inSet(Number(r.uid), uids)).map(toMeta);
  }

  /** Flags and modseq only (cheap): FETCH FLAGS, CONDSTORE. */
  async fetchFlags(ctx: MailCtx, mailboxId: string, uids: UidSet, opts: { changedSince?: number } = {}): Promise<FlagsState[]> {
    const mb = await this.mailboxFor(ctx, ctx.platform.db, mailboxId, 'read');
    const b = bounds(uids);
    if (!b) return [];
    let q = ctx.platform.db
      .selectFrom('mail_messages')
      .select(['uid', 'modseq', 'seen', 'answered', 'flagged', 'deleted', 'draft', 'keywords'])
      .where('mailbox_id', '=', mb.id)
      .where('uid', '>=', b[0])
      .where('uid', '<=', b[1]);
    if (opts.changedSince !== undefined) q = q.where('modseq', '>', opts.changedSince);
    const rows = await q.orderBy('uid').execute();
    return rows.filter((r) => inSet(Number(r.uid), uids)).map((r) => ({ uid: Number(r.uid), modseq: Number(r.modseq), flags: flagsOf(r) }));
  }

  /** One message by UID, or null. */
  async getMessage(ctx: MailCtx, mailboxId: string, uid: number): Promise<MessageMeta | null> {
    const [m] = await this.fetch(ctx, mailboxId, [[uid, uid]]);
    return m ?? null;
  }

  /** Changes since a MODSEQ (CONDSTORE/QRESYNC): flag states with modseq > since, and expunged UIDs. */
  async changesSince(ctx: MailCtx, mailboxId: string, since: number): Promise<{ changed: FlagsState[]; vanished: number[]; highestModseq: number }> {
    const mb = await this.mailboxFor(ctx, ctx.platform.db, mailboxId, 'read');
    const changed = await this.fetchFlags(ctx, mailboxId, 'all', { changedSince: since });
    const vanished = await ctx.platform.db.selectFrom('mail_expunged').select('uid').where('mailbox_id', '=', mb.id).where('modseq', '>', since).orderBy('uid').execute();
    return { changed, vanished: vanished.map((v) => Number(v.uid)), highestModseq: mb.highestModseq };
  }

  /** STATUS / SELECT counters. */
  async status(ctx: MailCtx, mailboxId: string): Promise<MailboxStatus> {
    const mb = await this.mailboxFor(ctx, ctx.platform.db, mailboxId, 'read');
    const r = await ctx.platform.db
      .selectFrom('mail_messages')
      .select([
        sql<number>`count(*)`.as('n'),
        sql<number>`coalesce(sum(case when seen = 0 then 1 else 0 end), 0)`.as('unseen'),
        sql<number>`coalesce(sum(deleted), 0)`.as('deleted'),
        sql<number>`coalesce(sum(size), 0)`.as('size'),
        sql<number | null>`min(case when seen = 0 then uid else null end)`.as('first_unseen'),
      ])
      .where('mailbox_id', '=', mb.id)
      .executeTakeFirst();
    return {
      messages: Number(r?.n ?? 0),
      unseen: Number(r?.unseen ?? 0),
      deleted: Number(r?.deleted ?? 0),
      size: Number(r?.size ?? 0),
      uidnext: mb.uidnext,
      uidvalidity: mb.uidvalidity,
      highestModseq: mb.highestModseq,
      firstUnseenUid: r?.first_unseen === null || r?.first_unseen === undefined ? null : Number(r.first_unseen),
    };
  }

  /** SEARCH: the UIDs (ascending) of the messages matching `criteria`. */
  async search(ctx: MailCtx, mailboxId: string, criteria: SearchCriteria): Promise<number[]> {
    const mb = await this.mailboxFor(ctx, ctx.platform.db, mailboxId, 'read');
    const rows = await ctx.platform.db
      .selectFrom('mail_messages')
      .select('uid')
      .where('mailbox_id', '=', mb.id)
      .where((eb) => compile(eb, criteria, 0))
      .orderBy('uid')
      .execute();
    const out = rows.map((r) => Number(r.uid));
    return filterUids(out, criteria);
  }

  /** The raw RFC 5322 message (CRLF) of a message. */
  async readRaw(ctx: MailCtx, mailboxId: string, uid: number): Promise<Buffer> {
    const m = await this.getMessage(ctx, mailboxId, uid);
    if (!m) throw new AppError('not_found', { uid });
    return this.blobBytes(ctx.platform, m.blobSha256);
  }

  /** Bytes of a stored message blob (callers got the hash through an authorized read). */
  async blobBytes(platform: Platform, sha256: string, range?: { start: number; end: number }): Promise<Buffer> {
    const stream = await platform.blobs.get(sha256, range);
    const parts: Buffer[] = [];
    for await (const c of stream) parts.push(c as Buffer);
    return Buffer.concat(parts);
  }

  /** Number of messages and bytes over the whole server (usage gauges). */
  async usage(platform: Platform): Promise<Record<string, number>> {
    const r = await platform.db.selectFrom('mail_messages').select([sql<number>`count(*)`.as('n'), sql<number>`coalesce(sum(size), 0)`.as('bytes')]).executeTakeFirst();
    const mbs = await platform.db.selectFrom('mailboxes').select(sql<number>`count(*)`.as('n')).executeTakeFirst();
    return { messages: Number(r?.n ?? 0), message_bytes: Number(r?.bytes ?? 0), mailboxes: Number(mbs?.n ?? 0) };
  }
}

type Eb = ExpressionBuilder<Database, 'mail_messages'>;
const MAX_NESTED_RANGES = 200;

/**
 * Criteria → SQL. A top-level UID set (and those in top-level `all`) is applied as bounds in SQL and
 * exactly in code (`filterUids`): an IMAP set can hold thousands of ranges. Under `or`/`not` a set is
 * exact in SQL and limited to MAX_NESTED_RANGES ranges.
 */
function compile(eb: Eb, c: SearchCriteria, depth: number, nested = false): Expression<SqlBool> {
  if (depth > 20) throw new AppError('validation_failed', { reason: 'search too deep' });
  const parts: Array<Expression<SqlBool>> = [];
  const like = (col: 'subject' | 'from_text' | 'to_text' | 'text', q: string): Expression<SqlBool> => sql<SqlBool>`lower(${sql.ref(col)}) like ${likeContains(q)} escape '\\'`;
  if (c.uids && c.uids !== 'all') {
    const b = bounds(c.uids);
    if (!b) parts.push(sql<SqlBool>`1 = 0`);
    else if (!nested) parts.push(eb.and([eb('uid', '>=', b[0]), eb('uid', '<=', b[1])]));
    else {
      if (c.uids.length > MAX_NESTED_RANGES) throw new AppError('validation_failed', { reason: 'too many ranges in a nested UID set' });
      parts.push(eb.or(c.uids.map(([x, y]) => eb.and([eb('uid', '>=', Math.min(x, y)), eb('uid', '<=', Math.max(x, y))]))));
    }
  }
  for (const [list, want] of [
    [c.flagged, 1],
    [c.unflagged, 0],
  ] as const) {
    if (!list) continue;
    const { system, keywords } = normalizeFlags(list);
    for (const col of system) parts.push(eb(col, '=', want));
    for (const k of keywords) {
      const has = sql<SqlBool>`lower(keywords) like ${likeContains(JSON.stringify(k))} escape '\\'`;
      parts.push(want ? has : eb.not(has));
    }
  }
  if (c.subject !== undefined) parts.push(like('subject', c.subject));
  if (c.from !== undefined) parts.push(like('from_text', c.from));
  if (c.to !== undefined) parts.push(like('to_text', c.to));
  if (c.body !== undefined) parts.push(like('text', c.body));
  if (c.text !== undefined) parts.push(eb.or([like('subject', c.text), like('from_text', c.text), like('to_text', c.text), like('text', c.text)]));
  if (c.messageId !== undefined) parts.push(eb('message_id', '=', c.messageId.replace(/^<|>$/g, '').toLowerCase()));
  if (c.before !== undefined) parts.push(eb('internal_date', '<', c.before));
  if (c.since !== undefined) parts.push(eb('internal_date', '>=', c.since));
  if (c.on !== undefined) parts.push(eb.and([eb('internal_date', '>=', c.on), eb('internal_date', '<', c.on + DAY)]));
  if (c.sentBefore !== undefined) parts.push(eb('sent_date', '<', c.sentBefore));
  if (c.sentSince !== undefined) parts.push(eb('sent_date', '>=', c.sentSince));
  if (c.sentOn !== undefined) parts.push(eb.and([eb('sent_date', '>=', c.sentOn), eb('sent_date', '<', c.sentOn + DAY)]));
  if (c.larger !== undefined) parts.push(eb('size', '>', c.larger));
  if (c.smaller !== undefined) parts.push(eb('size', '<', c.smaller));
  if (c.modseq !== undefined) parts.push(eb('modseq', '>=', c.modseq));
  if (c.threadId !== undefined) parts.push(eb('thread_id', '=', c.threadId));
  for (const sub of c.all ?? []) parts.push(compile(eb, sub, depth + 1, nested));
  if (c.or) parts.push(eb.or([compile(eb, c.or[0], depth + 1, true), compile(eb, c.or[1], depth + 1, true)]));
  if (c.not) parts.push(eb.not(compile(eb, c.not, depth + 1, true)));
  return parts.length === 0 ? sql<SqlBool>`1 = 1` : eb.and(parts);
}

/** The exact test of the top-level UID sets (SQL applied only their bounds). */
function filterUids(uids: number[], c: SearchCriteria): number[] {
  const sets: UidRange[][] = [];
  const walk = (x: SearchCriteria): void => {
    if (x.uids && x.uids !== 'all') sets.push(x.uids);
    for (const s of x.all ?? []) walk(s);
  };
  walk(c);
  if (sets.length === 0) return uids;
  return uids.filter((u) => sets.every((set) => inSet(u, set)));
}

/** The one store instance. */
export const mailStore = new MailStore();
