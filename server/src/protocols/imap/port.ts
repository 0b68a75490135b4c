import type { Envelope, MimePart } from '../../modules/mail/mime.js';
import type { UserActor } from '../../platform/policy.js';

/**
 * What the IMAP server needs from the mail store: the one seam between the wire protocol and the
 * mailbox data. `store-adapter.ts` implements it on the mail module; the session never touches SQL.
 * Every method takes the authenticated user and must only ever reach that user's mailboxes (and the
 * shared mailboxes they were granted): the permission check lives behind this port, in the store.
 * Failures are AppError codes from the catalog (not_found, already_exists, forbidden, quota_exceeded…).
 */

export interface ImapUser {
  userId: string;
  login: string;
  actor: UserActor;
}

export interface MailboxView {
  id: string;
  /** Full name with "/" as the hierarchy delimiter; "INBOX" for the inbox. */
  name: string;
  /** \Sent \Drafts \Trash \Junk \Archive (the inbox has none). */
  specialUse: string | null;
  subscribed: boolean;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  /** False for a shared mailbox granted read-only. */
  writable: boolean;
}

export interface FlagState {
  uid: number;
  modseq: number;
  flags: string[];
}

export interface MessageMeta {
  uid: number;
  modseq: number;
  /** System flags ("\Seen"...) and keywords, as stored. */
  flags: string[];
  internalDate: number;
  size: number;
}

export interface MessageFull extends MessageMeta {
  envelope: Envelope;
  /** The MIME tree with byte offsets; null when not asked for (`messages(…, {body: false})`). */
  body: MimePart | null;
  /** Date header (ms), or internal date when absent: SENTBEFORE/SENTON/SENTSINCE, SORT DATE. */
  sentDate: number;
  subject: string;
  from: string;
  to: string;
  cc: string;
  messageId: string;
  threadId: string;
}

export interface MailboxStatus {
  messages: number;
  unseen: number;
  deleted: number;
  size: number;
  uidNext: number;
  uidValidity: number;
  highestModseq: number;
  /** Lowest UID without \Seen (null when all are seen). */
  firstUnseenUid: number | null;
}

export type FlagMode = 'set' | 'add' | 'remove';

/** A text criterion the store evaluates (full-text or header substring), case-insensitive. */
export interface TextCriterion {
  where: 'text' | 'body' | 'subject' | 'from' | 'to' | 'cc' | 'bcc' | { header: string };
  value: string;
}

export interface MailPort {
  /** App password (scope mail) login; null when wrong. */
  authenticate(login: string, password: string): Promise<ImapUser | null>;
  /** Every mailbox the user may see, creating the default special-use set on first use. */
  mailboxes(user: ImapUser): Promise<MailboxView[]>;
  mailbox(user: ImapUser, name: string): Promise<MailboxView | null>;
  status(user: ImapUser, mailboxId: string): Promise<MailboxStatus>;
  create(user: ImapUser, name: string, specialUse: string | null): Promise<MailboxView>;
  delete(user: ImapUser, mailboxId: string): Promise<void>;
  rename(user: ImapUser, mailboxId: string, to: string): Promise<void>;
  subscribe(user: ImapUser, mailboxId: string, subscribed: boolean): Promise<void>;
  /** Every UID of a mailbox, ascending (the session's sequence map). */
  uids(user: ImapUser, mailboxId: string): Promise<number[]>;
  /** Flags, modseq, size and date of every message, in UID order (SEARCH). */
  list(user: ImapUser, mailboxId: string): Promise<MessageMeta[]>;
  /** The same for these UIDs (those that exist), in UID order (FETCH, STORE). */
  meta(user: ImapUser, mailboxId: string, uids: number[]): Promise<MessageMeta[]>;
  /** Changes after `modseq`: messages whose modseq is greater, and UIDs expunged since. */
  changes(user: ImapUser, mailboxId: string, modseq: number): Promise<{ changed: MessageMeta[]; vanished: number[] }>;
  /** Metadata with envelope and MIME structure for these UIDs (those that exist), in UID order. */
  messages(user: ImapUser, mailboxId: string, uids: number[], opts?: { body?: boolean }): Promise<MessageFull[]>;
  /** The raw RFC 5322 bytes (CRLF). */
  raw(user: ImapUser, mailboxId: string, uid: number): Promise<Buffer>;
  append(user: ImapUser, mailboxId: string, raw: Buffer, flags: string[], internalDate: number | null): Promise<{ uid: number; uidValidity: number }>;
  /**
   * Changes flags; with `unchangedSince`, messages whose modseq is greater are left alone and
   * returned in `conflicts` (RFC 7162 UNCHANGEDSINCE).
   */
  store(user: ImapUser, mailboxId: string, uids: number[], mode: FlagMode, flags: string[], unchangedSince?: number): Promise<{ updated: FlagState[]; conflicts: number[] }>;
  /** Copies (or moves) messages; pairs of [source UID, destination UID]. */
  copy(user: ImapUser, fromId: string, uids: number[], toId: string, move: boolean): Promise<{ uidValidity: number; pairs: Array<[number, number]> }>;
  /** Removes the messages flagged \Deleted (among `uids` when given); returns the UIDs removed. */
  expunge(user: ImapUser, mailboxId: string, uids?: number[]): Promise<number[]>;
  /** UIDs among `uids` matching every criterion. */
  searchText(user: ImapUser, mailboxId: string, uids: number[], criteria: TextCriterion[]): Promise<Set<number>>;
  /** Storage used and the limit (null when unlimited), in bytes; message count. */
  quota(user: ImapUser): Promise<{ usedBytes: number; limitBytes: number | null; messages: number }>;
  /** Called with a mailbox id whenever a mailbox's messages or flags change (any node). */
  onChange(listener: (mailboxId: string) => void): () => void;
}
