import { sql, type SqlBool } from 'kysely';
import { AppError } from '../../../errors.js';
import { newId } from '../../../platform/ids.js';
import { uniqueViolation } from '../repo.js';
import type { CommandContext } from './context.js';
import { ADMINS } from './context.js';

export interface GroupView {
  id: string;
  name: string;
  description: string;
  memberCount: number;
  createdAt: number;
}

function cleanGroupName(name: string): { name: string; key: string } {
  // eslint-disable-next-line no-control-regex
  const n = name.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 100);
  if (!n) throw new AppError('validation_failed', { fields: [{ path: '/name', message: 'required' }] });
  return { name: n, key: n.normalize('NFKC').toLowerCase() };
}

export async function listGroups(ctx: CommandContext, q?: string): Promise<GroupView[]> {
  await ctx.platform.policy.authorize(ctx.actor, 'list', { type: 'group' });
  let query = ctx.platform.db
    .selectFrom('groups')
    .leftJoin('group_members', 'group_members.group_id', 'groups.id')
    .select(['groups.id', 'groups.name', 'groups.description', 'groups.created_at'])
    .select((eb) => eb.fn.count<number>('group_members.user_id').as('member_count'))
    .groupBy(['groups.id', 'groups.name', 'groups.description', 'groups.created_at', 'groups.name_key'])
    .orderBy('groups.name_key')
    .limit(500);
  // ESCAPE is explicit: SQLite has no default escape character.
  if (q) query = query.where(sql<SqlBool>`groups.name_key like ${`%${q.normalize('NFKC').toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`} escape '\\'`);
  const rows = await query.execute();
  return rows.map((r) => ({ id: r.id, name: r.name, description: r.description, memberCount: Number(r.member_count), createdAt: Number(r.created_at) }));
}

export async function getGroup(ctx: CommandContext, id: string): Promise<GroupView> {
  // Authorize first: who may not read groups does not learn which ids exist.
  await ctx.platform.policy.authorize(ctx.actor, 'read', { type: 'group', id });
  const all = await ctx.platform.db.selectFrom('groups').selectAll().where('id', '=', id).executeTakeFirst();
  if (!all) throw new AppError('not_found');
  const n = await ctx.platform.db.selectFrom('group_members').select((eb) => eb.fn.countAll<number>().as('n')).where('group_id', '=', id).executeTakeFirstOrThrow();
  return { id: all.id, name: all.name, description: all.description, memberCount: Number(n.n), createdAt: Number(all.created_at) };
}

export async function createGroup(ctx: CommandContext, input: { name: string; description?: string | undefined }): Promise<GroupView> {
  const { platform } = ctx;
  await platform.policy.authorize(ctx.actor, 'create', { type: 'group' });
  const { name, key } = cleanGroupName(input.name);
  const now = platform.clock.now();
  const id = newId(now);
  const description = (input.description ?? '').trim().slice(0, 1000);
  await platform.transaction(async (trx, emit) => {
    if (await trx.selectFrom('groups').select('id').where('name_key', '=', key).executeTakeFirst()) throw new AppError('name_taken');
    await trx
      .insertInto('groups')
      .values({ id, name, name_key: key, description, created_at: now, updated_at: now })
      .execute()
      .catch((e: unknown) => {
        throw uniqueViolation(e) === null ? e : new AppError('name_taken');
      });
    await platform.audit.record(trx, { actor: ctx.actor, action: 'identity.group.created', targetType: 'group', targetId: id, ip: ctx.ip, details: { name } });
    await emit('identity.group.changed', { groupId: id }, [ADMINS]);
  });
  return { id, name, description, memberCount: 0, createdAt: now };
}

export async function updateGroup(ctx: CommandContext, id: string, patch: { name?: string | undefined; description?: string | undefined }): Promise<GroupView> {
  const { platform } = ctx;
  await getGroup(ctx, id);
  await platform.policy.authorize(ctx.actor, 'update', { type: 'group', id });
  const now = platform.clock.now();
  await platform.transaction(async (trx, emit) => {
    const set: { name?: string; name_key?: string; description?: string; updated_at: number } = { updated_at: now };
    if (patch.name !== undefined) {
      const { name, key } = cleanGroupName(patch.name);
      const other = await trx.selectFrom('groups').select('id').where('name_key', '=', key).executeTakeFirst();
      if (other && other.id !== id) throw new AppError('name_taken');
      set.name = name;
      set.name_key = key;
    }
    if (patch.description !== undefined) set.description = patch.description.trim().slice(0, 1000);
    await trx
      .updateTable('groups')
      .set(set)
      .where('id', '=', id)
      .execute()
      .catch((e: unknown) => {
        throw uniqueViolation(e) === null ? e : new AppError('name_taken');
      });
    await platform.audit.record(trx, { actor: ctx.actor, action: 'identity.group.updated', targetType: 'group', targetId: id, ip: ctx.ip, details: { changed: Object.keys(patch) } });
    await emit('identity.group.changed', { groupId: id }, [ADMINS]);
  });
  return getGroup(ctx, id);
}

export async function deleteGroup(ctx: CommandContext, id: string): Promise<void> {
  const { platform } = ctx;
  const g = await getGroup(ctx, id);
  await platform.policy.authorize(ctx.actor, 'delete', { type: 'group', id });
  await platform.transaction(async (trx, emit) => {
    await trx.deleteFrom('groups').where('id', '=', id).execute();
    await platform.audit.record(trx, { actor: ctx.actor, action: 'identity.group.deleted', targetType: 'group', targetId: id, ip: ctx.ip, details: { name: g.name } });
    await emit('identity.group.changed', { groupId: id }, [ADMINS]);
  });
}

export async function listGroupMembers(ctx: CommandContext, id: string): Promise<Array<{ id: string; login: string; displayName: string }>> {
  await getGroup(ctx, id);
  const rows = await ctx.platform.db
    .selectFrom('group_members')
    .innerJoin('users', 'users.id', 'group_members.user_id')
    .select(['users.id', 'users.login', 'users.display_name'])
    .where('group_members.group_id', '=', id)
    .orderBy('users.login')
    .execute();
  return rows.map((r) => ({ id: r.id, login: r.login, displayName: r.display_name }));
}

export async function setGroupMember(ctx: CommandContext, groupId: string, userId: string, member: boolean): Promise<void> {
  const { platform } = ctx;
  const g = await getGroup(ctx, groupId);
  await platform.policy.authorize(ctx.actor, 'manage-members', { type: 'group', id: groupId });
  const user = await platform.db.selectFrom('users').select(['id', 'login']).where('id', '=', userId).executeTakeFirst();
  if (!user) throw new AppError('not_found');
  const now = platform.clock.now();
  await platform.transaction(async (trx, emit) => {
    // The statement itself says whether anything changed, so that requests racing each other record it once.
    const changed = member
      ? Number(
          (
            await trx
              .insertInto('group_members')
              .values({ group_id: groupId, user_id: userId, added_at: now })
              .onConflict((oc) => oc.columns(['group_id', 'user_id']).doNothing())
              .executeTakeFirst()
          ).numInsertedOrUpdatedRows ?? 0,
        ) > 0
      : Number((await trx.deleteFrom('group_members').where('group_id', '=', groupId).where('user_id', '=', userId).executeTakeFirst()).numDeletedRows) > 0;
    if (!changed) return; // idempotent: nothing changed, nothing recorded
    await platform.audit.record(trx, {
      actor: ctx.actor,
      action: member ? 'identity.group.member_added' : 'identity.group.member_removed',
      targetType: 'group',
      targetId: groupId,
      ip: ctx.ip,
      details: { group: g.name, userId, login: user.login },
    });
    await emit(member ? 'identity.group.member_added' : 'identity.group.member_removed', { groupId, userId }, [ADMINS, userId]);
  });
}
