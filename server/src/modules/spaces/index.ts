import { Type } from '@sinclair/typebox';
import { AppError } from '../../errors.js';
import { newId } from '../../platform/ids.js';
import type { Migration } from '../../platform/db/migrate.js';
import type { BastideModule, Platform } from '../../platform/module.js';
import { requireUser, type Actor, type Rule } from '../../platform/policy.js';
import type { DbOrTx } from '../../platform/db/index.js';

/**
 * Spaces: the unit of team membership (roles owner, manager, member, guest). This is the data model,
 * the policy and the API; the spaces app (stream, tabs, directory screens) comes with its own issue.
 */
export type SpaceRole = 'owner' | 'manager' | 'member' | 'guest';
export type Visibility = 'open' | 'request' | 'secret';
const ROLE_RANK: Record<SpaceRole, number> = { guest: 1, member: 2, manager: 3, owner: 4 };

declare module '../../platform/db/schema.js' {
  interface Database {
    spaces: {
      id: string;
      name: string;
      description: string;
      visibility: string;
      archived: number;
      created_by: string | null;
      created_at: number;
      updated_at: number;
    };
    space_members: { space_id: string; user_id: string; role: string; added_at: number };
  }
}

export const spacesMigrations: Migration[] = [
  {
    id: '0001_spaces',
    async up(db) {
      await db.schema
        .createTable('spaces')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('visibility', 'text', (c) => c.notNull())
        .addColumn('archived', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_by', 'text', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('space_members')
        .addColumn('space_id', 'text', (c) => c.notNull().references('spaces.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('added_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('space_members_pk', ['space_id', 'user_id'])
        .execute();
      await db.schema.createIndex('space_members_user').on('space_members').column('user_id').execute();
    },
  },
];

/** Resource facts the rule needs: the space's visibility and the actor's role in it. */
export async function spaceResource(db: DbOrTx, spaceId: string, actor: Actor): Promise<{ type: 'space'; id: string; visibility: Visibility; role: SpaceRole | null; archived: boolean } | null> {
  const s = await db.selectFrom('spaces').select(['id', 'visibility', 'archived']).where('id', '=', spaceId).executeTakeFirst();
  if (!s) return null;
  let role: SpaceRole | null = null;
  if (actor.kind === 'user') {
    const m = await db.selectFrom('space_members').select('role').where('space_id', '=', spaceId).where('user_id', '=', actor.userId).executeTakeFirst();
    role = (m?.role as SpaceRole | undefined) ?? null;
  }
  return { type: 'space', id: s.id, visibility: s.visibility as Visibility, role, archived: s.archived === 1 };
}

export const spaceRule: Rule = (actor, action, r) => {
  if (actor.kind !== 'user' || actor.via === 'app-password') return false;
  if (action === 'create' || action === 'list') return true;
  const role = r.role as SpaceRole | null;
  const rank = role ? ROLE_RANK[role] : 0;
  const admin = actor.isAdmin;
  switch (action) {
    case 'see':
      return rank > 0 || r.visibility !== 'secret' || admin;
    case 'read-members':
      return rank > 0 || r.visibility === 'open' || admin;
    case 'join':
      return rank === 0 && r.visibility === 'open' && !r.archived;
    case 'update':
    case 'manage-members':
      return rank >= ROLE_RANK.manager || admin;
    case 'grant-owner':
    case 'delete':
      return rank === ROLE_RANK.owner || admin;
    case 'leave':
      return rank > 0;
    default:
      return false;
  }
};

const strict = { additionalProperties: false } as const;
const Id = Type.String({ pattern: '^[0-9A-HJKMNP-TV-Z]{26}$' });
const VisibilityT = Type.Union([Type.Literal('open'), Type.Literal('request'), Type.Literal('secret')]);
const RoleT = Type.Union([Type.Literal('owner'), Type.Literal('manager'), Type.Literal('member'), Type.Literal('guest')]);
const SpaceView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  visibility: VisibilityT,
  archived: Type.Boolean(),
  myRole: Type.Union([RoleT, Type.Null()]),
  memberCount: Type.Integer(),
  createdAt: Type.Number(),
});

async function view(db: DbOrTx, id: string, actor: Actor): Promise<typeof SpaceView.static> {
  const s = await db.selectFrom('spaces').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const n = await db.selectFrom('space_members').select((eb) => eb.fn.countAll<number>().as('n')).where('space_id', '=', id).executeTakeFirstOrThrow();
  const me = actor.kind === 'user' ? await db.selectFrom('space_members').select('role').where('space_id', '=', id).where('user_id', '=', actor.userId).executeTakeFirst() : undefined;
  return {
    id: s.id,
    name: s.name,
    description: s.description,
    visibility: s.visibility as Visibility,
    archived: s.archived === 1,
    myRole: (me?.role as SpaceRole | undefined) ?? null,
    memberCount: Number(n.n),
    createdAt: Number(s.created_at),
  };
}

/** Loads the space and checks `action`; secret spaces one may not see answer 404, not 403. */
async function authorizeSpace(platform: Platform, actor: Actor, id: string, action: string): Promise<NonNullable<Awaited<ReturnType<typeof spaceResource>>>> {
  const r = await spaceResource(platform.db, id, actor);
  if (!r || !(await platform.policy.can(actor, 'see', r))) throw new AppError('not_found');
  await platform.policy.authorize(actor, action, r);
  return r;
}

function cleanName(n: string): string {
  // eslint-disable-next-line no-control-regex
  const v = n.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 120);
  if (!v) throw new AppError('validation_failed', { fields: [{ path: '/name', message: 'required' }] });
  return v;
}

export const spacesModule: BastideModule = {
  name: 'spaces',
  migrations: spacesMigrations,
  policies: { space: spaceRule },
  auditActions: ['spaces.space.created', 'spaces.space.updated', 'spaces.space.deleted', 'spaces.member.set', 'spaces.member.removed'],
  async usage(platform) {
    const r = await platform.db.selectFrom('spaces').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { spaces: Number(r.n) };
  },
  routes(app, platform) {
    const tags = ['spaces'];
    const ctxOf = (actor: Actor) => actor;
    app.get('/spaces', { schema: { tags, response: { 200: Type.Object({ items: Type.Array(SpaceView) }) } } }, async (req) => {
      const me = requireUser(req.actor);
      await platform.policy.authorize(req.actor, 'list', { type: 'space' });
      const mine = platform.db.selectFrom('space_members').select('space_id').where('user_id', '=', me.userId);
      const rows = await platform.db
        .selectFrom('spaces')
        .select('id')
        .where((eb) => eb.or([eb('id', 'in', mine), eb('visibility', '!=', 'secret')]))
        .orderBy('name')
        .limit(500)
        .execute();
      return { items: await Promise.all(rows.map((r) => view(platform.db, r.id, ctxOf(req.actor)))) };
    });
    app.post(
      '/spaces',
      {
        schema: {
          tags,
          body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 120 }), description: Type.Optional(Type.String({ maxLength: 2000 })), visibility: VisibilityT }, strict),
          response: { 201: Type.Object({ space: SpaceView }) },
        },
      },
      async (req, reply) => {
        const me = requireUser(req.actor);
        await platform.policy.authorize(req.actor, 'create', { type: 'space' });
        const now = platform.clock.now();
        const id = newId(now);
        await platform.transaction(async (trx, emit) => {
          await trx
            .insertInto('spaces')
            .values({ id, name: cleanName(req.body.name), description: (req.body.description ?? '').trim(), visibility: req.body.visibility, archived: 0, created_by: me.userId, created_at: now, updated_at: now })
            .execute();
          await trx.insertInto('space_members').values({ space_id: id, user_id: me.userId, role: 'owner', added_at: now }).execute();
          await platform.audit.record(trx, { actor: req.actor, action: 'spaces.space.created', targetType: 'space', targetId: id, ip: req.ip, details: { name: req.body.name, visibility: req.body.visibility } });
          await emit('spaces.space.changed', { spaceId: id }, [me.userId]);
        });
        return reply.status(201).send({ space: await view(platform.db, id, req.actor) });
      },
    );
    app.get('/spaces/:id', { schema: { tags, params: Type.Object({ id: Id }, strict), response: { 200: Type.Object({ space: SpaceView }) } } }, async (req) => {
      requireUser(req.actor);
      await authorizeSpace(platform, req.actor, req.params.id, 'see');
      return { space: await view(platform.db, req.params.id, req.actor) };
    });
    app.patch(
      '/spaces/:id',
      {
        schema: {
          tags,
          params: Type.Object({ id: Id }, strict),
          body: Type.Object(
            {
              name: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
              description: Type.Optional(Type.String({ maxLength: 2000 })),
              visibility: Type.Optional(VisibilityT),
              archived: Type.Optional(Type.Boolean()),
            },
            strict,
          ),
          response: { 200: Type.Object({ space: SpaceView }) },
        },
      },
      async (req) => {
        requireUser(req.actor);
        await authorizeSpace(platform, req.actor, req.params.id, 'update');
        const b = req.body;
        await platform.transaction(async (trx, emit) => {
          await trx
            .updateTable('spaces')
            .set({
              ...(b.name !== undefined ? { name: cleanName(b.name) } : {}),
              ...(b.description !== undefined ? { description: b.description.trim() } : {}),
              ...(b.visibility !== undefined ? { visibility: b.visibility } : {}),
              ...(b.archived !== undefined ? { archived: b.archived ? 1 : 0 } : {}),
              updated_at: platform.clock.now(),
            })
            .where('id', '=', req.params.id)
            .execute();
          await platform.audit.record(trx, { actor: req.actor, action: 'spaces.space.updated', targetType: 'space', targetId: req.params.id, ip: req.ip, details: { changed: Object.keys(b) } });
          await emit('spaces.space.changed', { spaceId: req.params.id }, await memberIds(trx, req.params.id));
        });
        return { space: await view(platform.db, req.params.id, req.actor) };
      },
    );
    app.delete('/spaces/:id', { schema: { tags, params: Type.Object({ id: Id }, strict) } }, async (req, reply) => {
      requireUser(req.actor);
      await authorizeSpace(platform, req.actor, req.params.id, 'delete');
      await platform.transaction(async (trx, emit) => {
        const audience = await memberIds(trx, req.params.id);
        await trx.deleteFrom('spaces').where('id', '=', req.params.id).execute();
        await platform.audit.record(trx, { actor: req.actor, action: 'spaces.space.deleted', targetType: 'space', targetId: req.params.id, ip: req.ip });
        await emit('spaces.space.deleted', { spaceId: req.params.id }, audience);
      });
      return reply.status(204).send();
    });
    const Member = Type.Object({ userId: Type.String(), login: Type.String(), displayName: Type.String(), role: RoleT });
    app.get('/spaces/:id/members', { schema: { tags, params: Type.Object({ id: Id }, strict), response: { 200: Type.Object({ items: Type.Array(Member) }) } } }, async (req) => {
      requireUser(req.actor);
      await authorizeSpace(platform, req.actor, req.params.id, 'read-members');
      const rows = await platform.db
        .selectFrom('space_members')
        .innerJoin('users', 'users.id', 'space_members.user_id')
        .select(['users.id', 'users.login', 'users.display_name', 'space_members.role'])
        .where('space_members.space_id', '=', req.params.id)
        .orderBy('users.login')
        .execute();
      return { items: rows.map((r) => ({ userId: r.id, login: r.login, displayName: r.display_name, role: r.role as SpaceRole })) };
    });
    app.put(
      '/spaces/:id/members/:userId',
      { schema: { tags, params: Type.Object({ id: Id, userId: Id }, strict), body: Type.Object({ role: RoleT }, strict) } },
      async (req, reply) => {
        const me = requireUser(req.actor);
        const { id, userId } = req.params;
        const self = userId === me.userId;
        const r = await spaceResource(platform.db, id, req.actor);
        if (!r || !(await platform.policy.can(req.actor, 'see', r))) throw new AppError('not_found');
        // Joining an open space oneself as a member needs no manager; anything else does.
        const joining = self && req.body.role === 'member' && (await platform.policy.can(req.actor, 'join', r));
        if (!joining) {
          await platform.policy.authorize(req.actor, 'manage-members', r);
          if (req.body.role === 'owner' || (await currentRole(platform.db, id, userId)) === 'owner') await platform.policy.authorize(req.actor, 'grant-owner', r);
        }
        const user = await platform.db.selectFrom('users').select(['id', 'disabled']).where('id', '=', userId).executeTakeFirst();
        if (!user) throw new AppError('not_found');
        await platform.transaction(async (trx, emit) => {
          await lockSpace(trx, platform, id);
          const before = await currentRole(trx, id, userId);
          if (before === 'owner' && req.body.role !== 'owner') await assertAnotherOwner(trx, id, userId);
          await trx
            .insertInto('space_members')
            .values({ space_id: id, user_id: userId, role: req.body.role, added_at: platform.clock.now() })
            .onConflict((oc) => oc.columns(['space_id', 'user_id']).doUpdateSet({ role: req.body.role }))
            .execute();
          await platform.audit.record(trx, { actor: req.actor, action: 'spaces.member.set', targetType: 'space', targetId: id, ip: req.ip, details: { userId, role: req.body.role, before } });
          await emit(before ? 'spaces.member.changed' : 'spaces.member.added', { spaceId: id, userId, byUserId: me.userId }, await memberIds(trx, id));
        });
        return reply.status(204).send();
      },
    );
    app.delete('/spaces/:id/members/:userId', { schema: { tags, params: Type.Object({ id: Id, userId: Id }, strict) } }, async (req, reply) => {
      const me = requireUser(req.actor);
      const { id, userId } = req.params;
      const r = await spaceResource(platform.db, id, req.actor);
      if (!r || !(await platform.policy.can(req.actor, 'see', r))) throw new AppError('not_found');
      if (userId === me.userId) await platform.policy.authorize(req.actor, 'leave', r);
      else {
        await platform.policy.authorize(req.actor, 'manage-members', r);
        if ((await currentRole(platform.db, id, userId)) === 'owner') await platform.policy.authorize(req.actor, 'grant-owner', r);
      }
      await platform.transaction(async (trx, emit) => {
        await lockSpace(trx, platform, id);
        const before = await currentRole(trx, id, userId);
        if (!before) throw new AppError('not_found');
        if (before === 'owner') await assertAnotherOwner(trx, id, userId);
        const audience = await memberIds(trx, id);
        await trx.deleteFrom('space_members').where('space_id', '=', id).where('user_id', '=', userId).execute();
        await platform.audit.record(trx, { actor: req.actor, action: 'spaces.member.removed', targetType: 'space', targetId: id, ip: req.ip, details: { userId } });
        await emit('spaces.member.removed', { spaceId: id, userId }, audience);
      });
      return reply.status(204).send();
    });
  },
};

/**
 * Serialises membership changes of one space on PostgreSQL (two owners leaving at once would otherwise
 * each see the other one still there). SQLite transactions are serialised already.
 */
async function lockSpace(trx: DbOrTx, platform: Platform, spaceId: string): Promise<void> {
  if (platform.engine === 'postgres') await trx.selectFrom('spaces').select('id').where('id', '=', spaceId).forUpdate().execute();
}

async function currentRole(db: DbOrTx, spaceId: string, userId: string): Promise<SpaceRole | null> {
  const m = await db.selectFrom('space_members').select('role').where('space_id', '=', spaceId).where('user_id', '=', userId).executeTakeFirst();
  return (m?.role as SpaceRole | undefined) ?? null;
}

async function assertAnotherOwner(db: DbOrTx, spaceId: string, exceptUserId: string): Promise<void> {
  const n = await db
    .selectFrom('space_members')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('space_id', '=', spaceId)
    .where('role', '=', 'owner')
    .where('user_id', '!=', exceptUserId)
    .executeTakeFirstOrThrow();
  if (Number(n.n) === 0) throw new AppError('conflict', { reason: 'last_owner' });
}

async function memberIds(db: DbOrTx, spaceId: string): Promise<string[]> {
  return (await db.selectFrom('space_members').select('user_id').where('space_id', '=', spaceId).execute()).map((r) => r.user_id);
}
