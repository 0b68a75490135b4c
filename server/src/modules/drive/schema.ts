import { sql } from 'kysely';
import type { Migration } from '../../platform/db/migrate.js';

/**
 * The drive's data model. A node is a file or a folder owned by a user (spaces come later); root children
 * have parent_id null. File content lives in the blob store (blob_sha256, reference counted).
 */
export interface DriveNodesTable {
  id: string;
  owner_type: string;
  owner_id: string;
  parent_id: string | null;
  name: string;
  /** NFC-normalised name: unique per parent among non-deleted nodes. */
  name_key: string;
  kind: string;
  size: number;
  blob_sha256: string | null;
  content_type: string;
  /** Changes on every content change. */
  etag: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  /** WebDAV dead properties: JSON object, Clark name ("{ns}local") → inner XML text. */
  props: string;
  /** Who wrote the current content (files) or created the folder; null when unknown. */
  modified_by?: string | null;
}

export interface DriveLocksTable {
  token: string;
  owner_type: string;
  owner_id: string;
  /** Path of name keys from the owner's root, "/a/b" ("" for the root itself). */
  path: string;
  /** The user who took the lock. */
  principal_id: string;
  depth: string;
  scope: string;
  /** The client's DAV:owner element, serialized. */
  owner_xml: string;
  timeout_seconds: number;
  expires_at: number;
  created_at: number;
}

/** A previous content of a file, kept when it is overwritten (the newest `driveVersions` per file). */
export interface DriveVersionsTable {
  id: string;
  node_id: string;
  owner_type: string;
  owner_id: string;
  blob_sha256: string | null;
  size: number;
  content_type: string;
  /** The etag the file had while this was its content. */
  etag: string;
  /** Who wrote this content (null when unknown). */
  author_id: string | null;
  /** When this content was written (the node's updated_at at the time). */
  created_at: number;
  /** When it stopped being current. */
  replaced_at: number;
}

/** A node (and what is below it) shared with a user, a group or a space's members. */
export interface DriveSharesTable {
  id: string;
  node_id: string;
  owner_type: string;
  owner_id: string;
  grantee_type: string;
  grantee_id: string;
  /** 'read' or 'write'. */
  permission: string;
  created_by: string | null;
  created_at: number;
}

/** A public link: anyone with its token reaches the node, within its limits. */
export interface DriveLinksTable {
  id: string;
  token: string;
  node_id: string;
  owner_type: string;
  owner_id: string;
  /** 'read' (view and download) or 'drop' (upload only: the visitor sees nothing of what is there). */
  mode: string;
  password_hash: string | null;
  expires_at: number | null;
  max_downloads: number | null;
  downloads: number;
  label: string;
  created_by: string | null;
  created_at: number;
}

/** A quota set by an administrator for one user or space (otherwise the configured default applies). */
export interface DriveQuotasTable {
  owner_type: string;
  owner_id: string;
  bytes: number;
}

declare module '../../platform/db/schema.js' {
  interface Database {
    drive_nodes: DriveNodesTable;
    drive_locks: DriveLocksTable;
    drive_versions: DriveVersionsTable;
    drive_shares: DriveSharesTable;
    drive_links: DriveLinksTable;
    drive_quotas: DriveQuotasTable;
  }
}

export const driveMigrations: Migration[] = [
  {
    id: '0001_drive',
    async up(db) {
      await db.schema
        .createTable('drive_nodes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('owner_type', 'text', (c) => c.notNull())
        .addColumn('owner_id', 'text', (c) => c.notNull())
        .addColumn('parent_id', 'text', (c) => c.references('drive_nodes.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('blob_sha256', 'text')
        .addColumn('content_type', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('etag', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('deleted_at', 'bigint')
        .addColumn('props', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
      // NULL parents are distinct in unique indexes on both engines: coalesce makes root children unique too.
      await sql`create unique index drive_nodes_name_uq on drive_nodes (owner_type, owner_id, coalesce(parent_id, ''), name_key) where deleted_at is null`.execute(db);
      await db.schema.createIndex('drive_nodes_parent').on('drive_nodes').columns(['parent_id']).execute();
      await db.schema.createIndex('drive_nodes_owner').on('drive_nodes').columns(['owner_type', 'owner_id']).execute();
      await db.schema
        .createTable('drive_locks')
        .addColumn('token', 'text', (c) => c.primaryKey())
        .addColumn('owner_type', 'text', (c) => c.notNull())
        .addColumn('owner_id', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('principal_id', 'text', (c) => c.notNull())
        .addColumn('depth', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('owner_xml', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('timeout_seconds', 'integer', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('drive_locks_owner').on('drive_locks').columns(['owner_type', 'owner_id']).execute();
    },
  },
  {
    id: '0002_versions_shares_links',
    async up(db) {
      await db.schema.alterTable('drive_nodes').addColumn('modified_by', 'text').execute();
      await db.schema
        .createTable('drive_versions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('node_id', 'text', (c) => c.notNull().references('drive_nodes.id').onDelete('cascade'))
        .addColumn('owner_type', 'text', (c) => c.notNull())
        .addColumn('owner_id', 'text', (c) => c.notNull())
        .addColumn('blob_sha256', 'text')
        .addColumn('size', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('content_type', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('etag', 'text', (c) => c.notNull())
        .addColumn('author_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('replaced_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('drive_versions_node').on('drive_versions').columns(['node_id', 'replaced_at']).execute();
      await db.schema.createIndex('drive_versions_owner').on('drive_versions').columns(['owner_type', 'owner_id']).execute();
      await db.schema
        .createTable('drive_shares')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('node_id', 'text', (c) => c.notNull().references('drive_nodes.id').onDelete('cascade'))
        .addColumn('owner_type', 'text', (c) => c.notNull())
        .addColumn('owner_id', 'text', (c) => c.notNull())
        .addColumn('grantee_type', 'text', (c) => c.notNull())
        .addColumn('grantee_id', 'text', (c) => c.notNull())
        .addColumn('permission', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('drive_shares_uq').on('drive_shares').columns(['node_id', 'grantee_type', 'grantee_id']).unique().execute();
      await db.schema.createIndex('drive_shares_grantee').on('drive_shares').columns(['grantee_type', 'grantee_id']).execute();
      await db.schema
        .createTable('drive_links')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('token', 'text', (c) => c.notNull().unique())
        .addColumn('node_id', 'text', (c) => c.notNull().references('drive_nodes.id').onDelete('cascade'))
        .addColumn('owner_type', 'text', (c) => c.notNull())
        .addColumn('owner_id', 'text', (c) => c.notNull())
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text')
        .addColumn('expires_at', 'bigint')
        .addColumn('max_downloads', 'integer')
        .addColumn('downloads', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('label', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('drive_links_node').on('drive_links').columns(['node_id']).execute();
      await db.schema
        .createTable('drive_quotas')
        .addColumn('owner_type', 'text', (c) => c.notNull())
        .addColumn('owner_id', 'text', (c) => c.notNull())
        .addColumn('bytes', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('drive_quotas_pk', ['owner_type', 'owner_id'])
        .execute();
    },
  },
];
