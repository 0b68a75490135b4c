import { sql, type Selectable, type SqlBool } from 'kysely';
import type { DbOrTx, Tx } from '../../platform/db/index.js';
import { likePattern } from '../../platform/db/index.js';
import type { UsersTable } from './migrations.js';

export type UserRow = Selectable<UsersTable>;

export interface MeView {
  id: string;
  login: string;
  displayName: string;
  email: string | null;
  language: 'fr' | 'en' | null;
  theme: 'system' | 'light' | 'dark';
  isAdmin: boolean;
  totpEnabled: boolean;
  recoveryCodesLeft: number;
  createdAt: number;
}

export interface AdminUserView {
  id: string;
  login: string;
  displayName: string;
  email: string | null;
  isAdmin: boolean;
  disabled: boolean;
  totpEnabled: boolean;
  createdAt: number;
  lastLoginAt: number | null;
}

/**
 * When `e` is a unique-constraint violation (PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_UNIQUE), the
 * constraint or message naming it; otherwise null. Two requests racing past the same uniqueness check
 * meet here, and the loser gets the same 409 as if it had come second.
 */
export function uniqueViolation(e: unknown): string | null {
  const err = e as { code?: unknown; constraint?: unknown; message?: unknown } | null;
  if (err?.code === '23505') return String(err.constraint ?? err.message ?? '');
  if (err?.code === 'SQLITE_CONSTRAINT_UNIQUE' || err?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return String(err.message ?? '');
  return null;
}

export function toAdminView(u: UserRow): AdminUserView {
  return {
    id: u.id,
    login: u.login,
    displayName: u.display_name,
    email: u.email,
    isAdmin: u.is_admin === 1,
    disabled: u.disabled === 1,
    totpEnabled: u.totp_secret !== null,
    createdAt: Number(u.created_at),
    lastLoginAt: u.last_login_at === null ? null : Number(u.last_login_at),
  };
}

export const users = {
  byId(db: DbOrTx, id: string): Promise<UserRow | undefined> {
    return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  },
  byLogin(db: DbOrTx, login: string): Promise<UserRow | undefined> {
    return db.selectFrom('users').selectAll().where('login', '=', login.trim().toLowerCase()).executeTakeFirst();
  },
  byEmail(db: DbOrTx, email: string): Promise<UserRow | undefined> {
    return db.selectFrom('users').selectAll().where('email', '=', email.trim().toLowerCase()).executeTakeFirst();
  },
  async count(db: DbOrTx): Promise<number> {
    const r = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  },
  async countActiveAdmins(db: DbOrTx, exceptId?: string): Promise<number> {
    let q = db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('is_admin', '=', 1)
      .where('disabled', '=', 0);
    if (exceptId) q = q.where('id', '!=', exceptId);
    return Number((await q.executeTakeFirstOrThrow()).n);
  },
  list(db: DbOrTx, opts: { q?: string | undefined; after?: string | undefined; limit: number; activeOnly?: boolean }): Promise<UserRow[]> {
    let q = db.selectFrom('users').selectAll().orderBy('login').limit(opts.limit);
    if (opts.q) {
      const p = likePattern(opts.q);
      // ESCAPE is explicit: SQLite has no default escape character, so "jean_d" would find nothing there.
      q = q.where((eb) =>
        eb.or([
          sql<SqlBool>`lower(login) like ${p} escape '\\'`,
          sql<SqlBool>`lower(display_name) like ${p} escape '\\'`,
          sql<SqlBool>`lower(email) like ${p} escape '\\'`,
        ]),
      );
    }
    if (opts.after) q = q.where('login', '>', opts.after);
    if (opts.activeOnly) q = q.where('disabled', '=', 0);
    return q.execute();
  },
  async recoveryCodesLeft(db: DbOrTx, userId: string): Promise<number> {
    const r = await db
      .selectFrom('recovery_codes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  },
  async groupsOf(db: DbOrTx, userId: string): Promise<Array<{ id: string; name: string }>> {
    return db
      .selectFrom('group_members')
      .innerJoin('groups', 'groups.id', 'group_members.group_id')
      .select(['groups.id', 'groups.name'])
      .where('group_members.user_id', '=', userId)
      .orderBy('groups.name_key')
      .execute();
  },
};

export async function meView(db: DbOrTx, u: UserRow): Promise<MeView> {
  return {
    id: u.id,
    login: u.login,
    displayName: u.display_name,
    email: u.email,
    language: u.language === 'fr' || u.language === 'en' ? u.language : null,
    theme: u.theme === 'light' || u.theme === 'dark' ? u.theme : 'system',
    isAdmin: u.is_admin === 1,
    totpEnabled: u.totp_secret !== null,
    recoveryCodesLeft: await users.recoveryCodesLeft(db, u.id),
    createdAt: Number(u.created_at),
  };
}

export const settings = {
  async get(db: DbOrTx, key: string): Promise<string | undefined> {
    return (await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst())?.value;
  },
  async set(db: Tx | DbOrTx, key: string, value: string, now: number): Promise<void> {
    await db
      .insertInto('settings')
      .values({ key, value, updated_at: now })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: now }))
      .execute();
  },
  async delete(db: DbOrTx, key: string): Promise<void> {
    await db.deleteFrom('settings').where('key', '=', key).execute();
  },
};
