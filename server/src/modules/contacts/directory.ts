import { Type } from '@sinclair/typebox';
import { sql, type SqlBool } from 'kysely';
import { AppError } from '../../errors.js';
import type { App, Platform } from '../../platform/module.js';
import { hasScope, requireUser, type Actor, type Rule } from '../../platform/policy.js';

/**
 * The organisation's directory as a read-only global address book: every active user with their
 * profile fields (name, login, e-mail, groups). Who may read it (resource type `directory`):
 * - `read`: a signed-in member of the organisation (web session or an API token with the 'api' scope);
 * - `read-spaces`: a guest — a user whose every space membership is 'guest' — sees only the people of the
 *   spaces they are in (the facts `guest` is loaded by the route).
 */
export const directoryRule: Rule = (actor, action, r) => {
  if (actor.kind !== 'user') return false;
  if (actor.via !== 'session' && !hasScope(actor, 'api')) return false;
  if (action === 'read') return r.guest !== true;
  if (action === 'read-spaces') return true;
  return false;
};

const strict = { additionalProperties: false } as const;
export const Person = Type.Object({
  id: Type.String(),
  login: Type.String(),
  displayName: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  groups: Type.Array(Type.String()),
});
const Query = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: 200 })),
    /** Page after this login (the list is in login order). */
    after: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  },
  strict,
);

/** True when the user is in at least one space and only as a guest there. */
async function isGuest(platform: Platform, userId: string): Promise<boolean> {
  const roles = await platform.db.selectFrom('space_members').select('role').where('user_id', '=', userId).execute();
  return roles.length > 0 && roles.every((r) => r.role === 'guest');
}

const like = (q: string): string => `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function listDirectory(platform: Platform, actor: Actor, opts: { q?: string | undefined; after?: string | undefined; limit: number; ids?: string[] }) {
  const me = requireUser(actor);
  const guest = await isGuest(platform, me.userId);
  const resource = { type: 'directory', id: 'organisation', guest };
  let spacesOnly = false;
  if (!(await platform.policy.can(actor, 'read', resource))) {
    if (!(await platform.policy.can(actor, 'read-spaces', resource))) throw new AppError('forbidden');
    spacesOnly = true;
  }
  let q = platform.db.selectFrom('users').select(['id', 'login', 'display_name', 'email']).where('disabled', '=', 0).orderBy('login').limit(opts.limit);
  if (opts.q?.trim()) {
    const p = like(opts.q.trim());
    q = q.where((eb) => eb.or([sql<SqlBool>`lower(login) like ${p} escape '\\'`, sql<SqlBool>`lower(display_name) like ${p} escape '\\'`, sql<SqlBool>`lower(email) like ${p} escape '\\'`]));
  }
  if (opts.after) q = q.where('login', '>', opts.after);
  if (opts.ids) q = opts.ids.length > 0 ? q.where('id', 'in', opts.ids) : q.where(sql<SqlBool>`1 = 0`);
  if (spacesOnly) {
    q = q.where('id', 'in', (eb) =>
      eb
        .selectFrom('space_members as other')
        .innerJoin('space_members as mine', 'mine.space_id', 'other.space_id')
        .select('other.user_id')
        .where('mine.user_id', '=', me.userId),
    );
  }
  const rows = await q.execute();
  const groups = new Map<string, string[]>();
  if (rows.length > 0) {
    const gm = await platform.db
      .selectFrom('group_members')
      .innerJoin('groups', 'groups.id', 'group_members.group_id')
      .select(['group_members.user_id as userId', 'groups.name as name'])
      .where('group_members.user_id', 'in', rows.map((r) => r.id))
      .orderBy('groups.name')
      .execute();
    for (const g of gm) groups.set(g.userId, [...(groups.get(g.userId) ?? []), g.name]);
  }
  return {
    people: rows.map((u) => ({ id: u.id, login: u.login, displayName: u.display_name, email: u.email, groups: groups.get(u.id) ?? [] })),
    scope: spacesOnly ? ('spaces' as const) : ('organisation' as const),
  };
}

export function directoryRoutes(app: App, platform: Platform): void {
  app.get(
    '/directory',
    {
      schema: {
        tags: ['contacts'],
        summary: "The organisation's directory (read-only global address book): active users with their profile fields; guests see the people of their spaces",
        querystring: Query,
        response: { 200: Type.Object({ people: Type.Array(Person), scope: Type.Union([Type.Literal('organisation'), Type.Literal('spaces')]) }) },
      },
    },
    async (req) => listDirectory(platform, req.actor, { q: req.query.q, after: req.query.after, limit: req.query.limit ?? 200 }),
  );
}
