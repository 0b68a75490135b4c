import type { Kysely } from 'kysely';
import type { Migration } from '../../platform/db/migrate.js';

/**
 * Calendars (and task lists: a calendar whose supported component is VTODO) and, with the same shape,
 * the contacts module's address books. Each object keeps its raw iCalendar/vCard text, its etag and
 * indexed metadata; each collection keeps a change log (RFC 6578 sync tokens; deletions leave tombstones).
 */
export interface DavCollectionsTable {
  id: string;
  owner_type: string;
  owner_id: string;
  /** The URL segment below the owner's home (unique per owner). */
  slug: string;
  display_name: string;
  description: string;
  color: string;
  /** Comma-separated component names it accepts ("VEVENT", "VTODO"); "" for address books. */
  components: string;
  /** Last change sequence number; the sync token and ctag derive from it. */
  sync_seq: number;
  /** Other (dead) WebDAV properties: JSON object, Clark name → inner XML. */
  props: string;
  created_at: number;
  updated_at: number;
}

export interface DavObjectsTable {
  id: string;
  collection_id: string;
  /** Resource name in the collection URL ("abc.ics"). */
  name: string;
  uid: string;
  /** VEVENT, VTODO, VJOURNAL or VCARD. */
  component: string;
  etag: string;
  data: string;
  size: number;
  /** UTC ms of the first occurrence's start and of the last occurrence's end (bounds for SQL prefilters). */
  range_start: number;
  range_end: number;
  /** 1 when the object recurs (RRULE/RDATE or overrides). */
  recurring: number;
  /** Searchable text (summary/location/description, or names/e-mails/phones/organisation). */
  summary: string;
  created_at: number;
  updated_at: number;
}

export interface DavChangesTable {
  collection_id: string;
  seq: number;
  name: string;
  /** 1 for a tombstone. */
  deleted: number;
  at: number;
}

/** Bounds of the time index: the earliest and latest instants (also "no start" and "never ends"). */
export const TIME_MIN = -8_640_000_000_000_000;
export const TIME_MAX = 8_640_000_000_000_000;

declare module '../../platform/db/schema.js' {
  interface Database {
    calendar_collections: DavCollectionsTable;
    calendar_objects: DavObjectsTable;
    calendar_changes: DavChangesTable;
    contacts_collections: DavCollectionsTable;
    contacts_objects: DavObjectsTable;
    contacts_changes: DavChangesTable;
    calendar_shares: CalendarSharesTable;
    calendar_links: CalendarLinksTable;
    calendar_resources: CalendarResourcesTable;
  }
}

/** A calendar given to a user or a group, read or write (sharing.ts). */
export interface CalendarSharesTable {
  id: string;
  collection_id: string;
  grantee_type: string;
  grantee_id: string;
  permission: string;
  created_by: string | null;
  created_at: number;
}

/** The secret read-only ICS address of a calendar (one per calendar; only its SHA-256 is kept). */
export interface CalendarLinksTable {
  collection_id: string;
  token_hash: string;
  created_by: string | null;
  created_at: number;
}

/** A bookable room, vehicle or piece of equipment: a calendar owned by the organisation (resources.ts). */
export interface CalendarResourcesTable {
  id: string;
  kind: string;
  name: string;
  description: string;
  location: string;
  capacity: number | null;
  collection_id: string;
  created_at: number;
  updated_at: number;
}

/** Creates the three tables of a collection store (`<prefix>_collections`, `_objects`, `_changes`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function createStoreTables(db: Kysely<any>, prefix: 'calendar' | 'contacts'): Promise<void> {
  const c = `${prefix}_collections`;
  const o = `${prefix}_objects`;
  const ch = `${prefix}_changes`;
  await db.schema
    .createTable(c)
    .addColumn('id', 'text', (x) => x.primaryKey())
    .addColumn('owner_type', 'text', (x) => x.notNull())
    .addColumn('owner_id', 'text', (x) => x.notNull())
    .addColumn('slug', 'text', (x) => x.notNull())
    .addColumn('display_name', 'text', (x) => x.notNull().defaultTo(''))
    .addColumn('description', 'text', (x) => x.notNull().defaultTo(''))
    .addColumn('color', 'text', (x) => x.notNull().defaultTo(''))
    .addColumn('components', 'text', (x) => x.notNull().defaultTo(''))
    .addColumn('sync_seq', 'bigint', (x) => x.notNull().defaultTo(0))
    .addColumn('props', 'text', (x) => x.notNull().defaultTo('{}'))
    .addColumn('created_at', 'bigint', (x) => x.notNull())
    .addColumn('updated_at', 'bigint', (x) => x.notNull())
    .execute();
  await db.schema.createIndex(`${c}_slug_uq`).on(c).columns(['owner_type', 'owner_id', 'slug']).unique().execute();
  await db.schema
    .createTable(o)
    .addColumn('id', 'text', (x) => x.primaryKey())
    .addColumn('collection_id', 'text', (x) => x.notNull().references(`${c}.id`).onDelete('cascade'))
    .addColumn('name', 'text', (x) => x.notNull())
    .addColumn('uid', 'text', (x) => x.notNull())
    .addColumn('component', 'text', (x) => x.notNull())
    .addColumn('etag', 'text', (x) => x.notNull())
    .addColumn('data', 'text', (x) => x.notNull())
    .addColumn('size', 'bigint', (x) => x.notNull())
    .addColumn('range_start', 'bigint', (x) => x.notNull())
    .addColumn('range_end', 'bigint', (x) => x.notNull())
    .addColumn('recurring', 'integer', (x) => x.notNull().defaultTo(0))
    .addColumn('summary', 'text', (x) => x.notNull().defaultTo(''))
    .addColumn('created_at', 'bigint', (x) => x.notNull())
    .addColumn('updated_at', 'bigint', (x) => x.notNull())
    .execute();
  await db.schema.createIndex(`${o}_name_uq`).on(o).columns(['collection_id', 'name']).unique().execute();
  await db.schema.createIndex(`${o}_uid_uq`).on(o).columns(['collection_id', 'uid']).unique().execute();
  await db.schema.createIndex(`${o}_range`).on(o).columns(['collection_id', 'range_start', 'range_end']).execute();
  await db.schema
    .createTable(ch)
    .addColumn('collection_id', 'text', (x) => x.notNull().references(`${c}.id`).onDelete('cascade'))
    .addColumn('seq', 'bigint', (x) => x.notNull())
    .addColumn('name', 'text', (x) => x.notNull())
    .addColumn('deleted', 'integer', (x) => x.notNull().defaultTo(0))
    .addColumn('at', 'bigint', (x) => x.notNull())
    .addPrimaryKeyConstraint(`${ch}_pk`, ['collection_id', 'seq'])
    .execute();
}

export const calendarMigrations: Migration[] = [
  {
    id: '0001_calendar',
    async up(db) {
      await createStoreTables(db, 'calendar');
    },
  },
  {
    // Sharing, public ICS links and resources (rooms, vehicles, equipment).
    id: '0002_calendar_sharing_resources',
    async up(db) {
      await db.schema
        .createTable('calendar_shares')
        .addColumn('id', 'text', (x) => x.primaryKey())
        .addColumn('collection_id', 'text', (x) => x.notNull().references('calendar_collections.id').onDelete('cascade'))
        .addColumn('grantee_type', 'text', (x) => x.notNull())
        .addColumn('grantee_id', 'text', (x) => x.notNull())
        .addColumn('permission', 'text', (x) => x.notNull())
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'bigint', (x) => x.notNull())
        .execute();
      await db.schema.createIndex('calendar_shares_uq').on('calendar_shares').columns(['collection_id', 'grantee_type', 'grantee_id']).unique().execute();
      await db.schema.createIndex('calendar_shares_grantee').on('calendar_shares').columns(['grantee_type', 'grantee_id']).execute();
      await db.schema
        .createTable('calendar_links')
        .addColumn('collection_id', 'text', (x) => x.primaryKey().references('calendar_collections.id').onDelete('cascade'))
        .addColumn('token_hash', 'text', (x) => x.notNull().unique())
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'bigint', (x) => x.notNull())
        .execute();
      await db.schema
        .createTable('calendar_resources')
        .addColumn('id', 'text', (x) => x.primaryKey())
        .addColumn('kind', 'text', (x) => x.notNull())
        .addColumn('name', 'text', (x) => x.notNull())
        .addColumn('description', 'text', (x) => x.notNull().defaultTo(''))
        .addColumn('location', 'text', (x) => x.notNull().defaultTo(''))
        .addColumn('capacity', 'integer')
        .addColumn('collection_id', 'text', (x) => x.notNull().references('calendar_collections.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (x) => x.notNull())
        .addColumn('updated_at', 'bigint', (x) => x.notNull())
        .execute();
    },
  },
];
