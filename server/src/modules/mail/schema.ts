import { sql } from 'kysely';
import type { Migration } from '../../platform/db/migrate.js';

/**
 * Mail tables. Raw RFC 5322 messages live in the blob store (one blob per distinct message, one
 * reference per message row); everything IMAP and the webmail list or search on is here.
 */
export interface MailDomainsTable {
  id: string;
  /** Lower-case ASCII (IDNA) domain name, unique. */
  name: string;
  /** DKIM selector (the "s=" tag) and the RSA key pair (PKCS#8 / SPKI PEM). */
  dkim_selector: string;
  dkim_private_key: string;
  dkim_public_key: string;
  /** 1 for the domain users get their `<login>@<domain>` address on. */
  is_default: number;
  /** 1 when mail to unknown local parts goes to catch_all_target (off by default). */
  catch_all: number;
  created_at: number;
}

export interface MailAddressesTable {
  id: string;
  /** Full lower-case address `local@domain`, unique. */
  address: string;
  local_part: string;
  domain_id: string;
  /** user: a user's own address or alias; group: a distribution list (each member gets a copy); space: a shared mailbox. */
  target_type: string;
  target_id: string;
  /** 1 for a user's primary address (the default From). */
  is_primary: number;
  created_at: number;
}

export interface MailboxesTable {
  id: string;
  /** 'user' or 'space' (a space's shared mailbox). */
  owner_type: string;
  owner_id: string;
  /** Full hierarchical name, '/' as delimiter ("INBOX", "Archive/2024"). Unique per owner. */
  name: string;
  /** One of \Inbox \Sent \Drafts \Trash \Junk \Archive, or null. */
  special_use: string | null;
  uidvalidity: number;
  uidnext: number;
  highestmodseq: number;
  subscribed: number;
  created_at: number;
}

export interface MailMessagesTable {
  id: string;
  mailbox_id: string;
  /** "user:<id>" or "space:<id>": thread lookups and quota stay within one owner. */
  owner: string;
  uid: number;
  modseq: number;
  seen: number;
  answered: number;
  flagged: number;
  deleted: number;
  draft: number;
  /** JSON array of keywords ("$Forwarded", "$Junk", user keywords), case preserved. */
  keywords: string;
  internal_date: number;
  size: number;
  blob_sha256: string;
  /** JSON of mime.ts Envelope and MimePart. */
  envelope: string;
  bodystructure: string;
  thread_id: string;
  /** Lower-case Message-ID without brackets ('' when absent). */
  message_id: string;
  subject: string;
  from_text: string;
  /** To and Cc, decoded. */
  to_text: string;
  /** Date header (ms) or the internal date when absent. */
  sent_date: number;
  /** Bounded plain-text extract of the text parts (search). */
  text: string;
  has_attachments: number;
  created_at: number;
}

/** Expunged UIDs and the MODSEQ of their expunge (QRESYNC VANISHED). */
export interface MailExpungedTable {
  mailbox_id: string;
  uid: number;
  modseq: number;
}

/** An outbound message: one row per submitted message with remote recipients (the job carries its id). */
export interface MailOutboundTable {
  id: string;
  /** The user whose message it is (bounces go to this user's INBOX); null for system mail. */
  user_id: string | null;
  /** Envelope sender (MAIL FROM); '' for bounces themselves (never bounced again). */
  mail_from: string;
  blob_sha256: string;
  size: number;
  /** JSON array of {address, status: 'pending'|'sent'|'failed', error?, at?}. */
  recipients: string;
  /** queued | sent | failed (some or all recipients failed for good; bounce sent). */
  status: string;
  attempts: number;
  last_error: string | null;
  queued_at: number;
  updated_at: number;
}

/** Bytes and messages per owner ("user:<id>", "space:<id>"), kept in step with mail_messages (quota). */
export interface MailUsageTable {
  owner: string;
  bytes: number;
  messages: number;
}

export interface MailCountersTable {
  name: string;
  value: number;
}

declare module '../../platform/db/schema.js' {
  interface Database {
    mail_domains: MailDomainsTable;
    mail_addresses: MailAddressesTable;
    mailboxes: MailboxesTable;
    mail_messages: MailMessagesTable;
    mail_expunged: MailExpungedTable;
    mail_counters: MailCountersTable;
    mail_outbound: MailOutboundTable;
    mail_usage: MailUsageTable;
  }
}

export const mailMigrations: Migration[] = [
  {
    id: '0001_mail',
    async up(db) {
      await db.schema
        .createTable('mail_domains')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('dkim_selector', 'text', (c) => c.notNull())
        .addColumn('dkim_private_key', 'text', (c) => c.notNull())
        .addColumn('dkim_public_key', 'text', (c) => c.notNull())
        .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('catch_all', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('mail_addresses')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('address', 'text', (c) => c.notNull().unique())
        .addColumn('local_part', 'text', (c) => c.notNull())
        .addColumn('domain_id', 'text', (c) => c.notNull().references('mail_domains.id').onDelete('cascade'))
        .addColumn('target_type', 'text', (c) => c.notNull())
        .addColumn('target_id', 'text', (c) => c.notNull())
        .addColumn('is_primary', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('mail_addresses_target').on('mail_addresses').columns(['target_type', 'target_id']).execute();
      await db.schema
        .createTable('mailboxes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('owner_type', 'text', (c) => c.notNull())
        .addColumn('owner_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('special_use', 'text')
        .addColumn('uidvalidity', 'bigint', (c) => c.notNull())
        .addColumn('uidnext', 'bigint', (c) => c.notNull())
        .addColumn('highestmodseq', 'bigint', (c) => c.notNull())
        .addColumn('subscribed', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('mailboxes_owner_name').on('mailboxes').columns(['owner_type', 'owner_id', 'name']).unique().execute();
      await db.schema
        .createTable('mail_messages')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('mailbox_id', 'text', (c) => c.notNull().references('mailboxes.id').onDelete('cascade'))
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('uid', 'bigint', (c) => c.notNull())
        .addColumn('modseq', 'bigint', (c) => c.notNull())
        .addColumn('seen', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('answered', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('flagged', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('draft', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('keywords', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('internal_date', 'bigint', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('blob_sha256', 'text', (c) => c.notNull())
        .addColumn('envelope', 'text', (c) => c.notNull())
        .addColumn('bodystructure', 'text', (c) => c.notNull())
        .addColumn('thread_id', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('subject', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('from_text', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('to_text', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('sent_date', 'bigint', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('has_attachments', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('mail_messages_uid').on('mail_messages').columns(['mailbox_id', 'uid']).unique().execute();
      await db.schema.createIndex('mail_messages_modseq').on('mail_messages').columns(['mailbox_id', 'modseq']).execute();
      await db.schema.createIndex('mail_messages_msgid').on('mail_messages').columns(['owner', 'message_id']).execute();
      await db.schema.createIndex('mail_messages_thread').on('mail_messages').columns(['owner', 'thread_id']).execute();
      await db.schema
        .createTable('mail_expunged')
        .addColumn('mailbox_id', 'text', (c) => c.notNull().references('mailboxes.id').onDelete('cascade'))
        .addColumn('uid', 'bigint', (c) => c.notNull())
        .addColumn('modseq', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('mail_expunged_pk', ['mailbox_id', 'uid'])
        .execute();
      await db.schema.createIndex('mail_expunged_modseq').on('mail_expunged').columns(['mailbox_id', 'modseq']).execute();
      await db.schema
        .createTable('mail_counters')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  {
    id: '0002_outbound',
    async up(db) {
      await db.schema
        .createTable('mail_outbound')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text')
        .addColumn('mail_from', 'text', (c) => c.notNull())
        .addColumn('blob_sha256', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('recipients', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .addColumn('queued_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('mail_outbound_status').on('mail_outbound').columns(['status', 'queued_at']).execute();
    },
  },
  {
    id: '0003_usage',
    async up(db) {
      await db.schema
        .createTable('mail_usage')
        .addColumn('owner', 'text', (c) => c.primaryKey())
        .addColumn('bytes', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('messages', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await sql`insert into mail_usage (owner, bytes, messages) select owner, sum(size), count(*) from mail_messages group by owner`.execute(db);
    },
  },
];
