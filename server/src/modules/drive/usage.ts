import { sql, type Kysely } from 'kysely';
import type { Migration } from '../../platform/db/migrate.js';
import type { Engine } from '../../platform/db/index.js';

/**
 * What each drive uses, kept by the database itself: triggers on drive_nodes (files, the trash
 * included) and drive_versions add and subtract sizes in drive_usage in the same transaction as the
 * write, whichever command, import or cascade made it. Reading a drive's usage is then one indexed
 * row instead of a sum over all its files (which grew with the drive and ran twice per upload).
 */
export interface DriveUsageTable {
  owner_type: string;
  owner_id: string;
  bytes: number;
}

declare module '../../platform/db/schema.js' {
  interface Database {
    drive_usage: DriveUsageTable;
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function sqliteTriggers(db: Kysely<any>): Promise<void> {
  const add = (t: string, i: string, bytes: string): string =>
    `insert into drive_usage (owner_type, owner_id, bytes) values (${t}, ${i}, ${bytes}) on conflict (owner_type, owner_id) do update set bytes = drive_usage.bytes + excluded.bytes;`;
  const statements = [
    `create trigger drive_usage_nodes_ins after insert on drive_nodes when new.kind = 'file' begin ${add('new.owner_type', 'new.owner_id', 'new.size')} end`,
    `create trigger drive_usage_nodes_del after delete on drive_nodes when old.kind = 'file' begin ${add('old.owner_type', 'old.owner_id', '-old.size')} end`,
    `create trigger drive_usage_nodes_upd after update of size, kind, owner_type, owner_id on drive_nodes
       when (old.kind = 'file' or new.kind = 'file') and not (old.kind is new.kind and old.size is new.size and old.owner_type is new.owner_type and old.owner_id is new.owner_id)
     begin
       ${add('old.owner_type', 'old.owner_id', "-(case when old.kind = 'file' then old.size else 0 end)")}
       ${add('new.owner_type', 'new.owner_id', "case when new.kind = 'file' then new.size else 0 end")}
     end`,
    `create trigger drive_usage_versions_ins after insert on drive_versions begin ${add('new.owner_type', 'new.owner_id', 'new.size')} end`,
    `create trigger drive_usage_versions_del after delete on drive_versions begin ${add('old.owner_type', 'old.owner_id', '-old.size')} end`,
    `create trigger drive_usage_versions_upd after update of size, owner_type, owner_id on drive_versions
       when not (old.size is new.size and old.owner_type is new.owner_type and old.owner_id is new.owner_id)
     begin
       ${add('old.owner_type', 'old.owner_id', '-old.size')}
       ${add('new.owner_type', 'new.owner_id', 'new.size')}
     end`,
  ];
  for (const s of statements) await sql.raw(s).execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function postgresTriggers(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `create function drive_usage_add(t text, i text, delta bigint) returns void language plpgsql as $$
       begin
         if delta <> 0 then
           insert into drive_usage (owner_type, owner_id, bytes) values (t, i, delta)
             on conflict (owner_type, owner_id) do update set bytes = drive_usage.bytes + excluded.bytes;
         end if;
       end $$`,
    )
    .execute(db);
  // Sizes count only for files on drive_nodes; every row of drive_versions is content.
  await sql
    .raw(
      `create function drive_usage_track() returns trigger language plpgsql as $$
       declare
         old_bytes bigint := 0;
         new_bytes bigint := 0;
       begin
         -- (nested: PL/pgSQL would look up old.kind on drive_versions rows, which have none)
         if tg_op <> 'INSERT' then
           if tg_table_name = 'drive_versions' then old_bytes := old.size;
           elsif old.kind = 'file' then old_bytes := old.size; end if;
         end if;
         if tg_op <> 'DELETE' then
           if tg_table_name = 'drive_versions' then new_bytes := new.size;
           elsif new.kind = 'file' then new_bytes := new.size; end if;
         end if;
         if tg_op = 'UPDATE' and old.owner_type = new.owner_type and old.owner_id = new.owner_id then
           perform drive_usage_add(new.owner_type, new.owner_id, new_bytes - old_bytes);
         else
           if tg_op <> 'INSERT' then perform drive_usage_add(old.owner_type, old.owner_id, -old_bytes); end if;
           if tg_op <> 'DELETE' then perform drive_usage_add(new.owner_type, new.owner_id, new_bytes); end if;
         end if;
         return null;
       end $$`,
    )
    .execute(db);
  await sql.raw(`create trigger drive_usage_nodes after insert or delete or update of size, kind, owner_type, owner_id on drive_nodes for each row execute function drive_usage_track()`).execute(db);
  await sql.raw(`create trigger drive_usage_versions after insert or delete or update of size, owner_type, owner_id on drive_versions for each row execute function drive_usage_track()`).execute(db);
}

export const usageMigrations: Migration[] = [
  {
    id: '0004_usage',
    async up(db, engine: Engine) {
      await db.schema
        .createTable('drive_usage')
        .addColumn('owner_type', 'text', (c) => c.notNull())
        .addColumn('owner_id', 'text', (c) => c.notNull())
        .addColumn('bytes', 'bigint', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('drive_usage_pk', ['owner_type', 'owner_id'])
        .execute();
      // What drives already hold, then the triggers keep it (the migration runs in one transaction).
      await sql`
        insert into drive_usage (owner_type, owner_id, bytes)
        select owner_type, owner_id, sum(size) from (
          select owner_type, owner_id, size from drive_nodes where kind = 'file'
          union all
          select owner_type, owner_id, size from drive_versions
        ) u group by owner_type, owner_id`.execute(db);
      if (engine === 'postgres') await postgresTriggers(db);
      else await sqliteTriggers(db);
    },
  },
];
