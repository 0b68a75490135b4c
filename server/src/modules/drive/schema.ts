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

declare module '../../platform/db/schema.js' {
  interface Database {
    drive_nodes: DriveNodesTable;
    drive_locks: DriveLocksTable;
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
];
