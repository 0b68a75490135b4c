import { AppError } from '../../errors.js';
import { newId } from '../../platform/ids.js';
import type { Platform } from '../../platform/module.js';
import type { Actor } from '../../platform/policy.js';
import type { CalendarResourcesTable } from './schema.js';
import { resourceAddress } from './scheduling.js';

/**
 * Rooms, vehicles and equipment: each is a calendar owned by the organisation (owner type 'resource'),
 * listed for booking, booked by inviting its address as an attendee (scheduling.ts answers for it:
 * accepted when free, declined on a conflict). Administrators create, edit and delete them.
 */
export type ResourceRow = CalendarResourcesTable;
export type ResourceKind = 'room' | 'vehicle' | 'equipment';
export const MAX_RESOURCES = 2000;

export interface ResourceView {
  id: string;
  kind: string;
  name: string;
  description: string;
  location: string;
  capacity: number | null;
  email: string;
  calendarId: string;
}

export const resourceView = (platform: Platform, r: ResourceRow): ResourceView => ({
  id: r.id, kind: r.kind, name: r.name, description: r.description, location: r.location, capacity: r.capacity === null ? null : Number(r.capacity),
  email: resourceAddress(platform, r.id), calendarId: r.collection_id,
});

const R = { type: 'calendar-resource' };

export async function listResources(platform: Platform, actor: Actor): Promise<ResourceRow[]> {
  await platform.policy.authorize(actor, 'read', R);
  return platform.db.selectFrom('calendar_resources').selectAll().orderBy('kind').orderBy('name').limit(MAX_RESOURCES).execute();
}

export async function createResource(platform: Platform, actor: Actor, input: { kind: ResourceKind; name: string; description?: string | undefined; location?: string | undefined; capacity?: number | null | undefined }): Promise<ResourceRow> {
  await platform.policy.authorize(actor, 'create', R);
  const now = platform.clock.now();
  const id = newId(now);
  const collectionId = newId(now);
  const row: ResourceRow = {
    id, kind: input.kind, name: input.name.trim().slice(0, 200), description: (input.description ?? '').slice(0, 5000), location: (input.location ?? '').slice(0, 500),
    capacity: input.capacity ?? null, collection_id: collectionId, created_at: now, updated_at: now,
  };
  if (row.name === '') throw new AppError('validation_failed', { fields: [{ path: '/name', message: 'required' }] });
  return platform.transaction(async (trx, emit) => {
    const n = await trx.selectFrom('calendar_resources').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    if (Number(n?.n ?? 0) >= MAX_RESOURCES) throw new AppError('validation_failed', { reason: 'too_many_resources' });
    await trx
      .insertInto('calendar_collections')
      .values({ id: collectionId, owner_type: 'resource', owner_id: id, slug: 'calendar', display_name: row.name, description: row.description, color: '#7c3aed', components: 'VEVENT', sync_seq: 0, props: '{}', created_at: now, updated_at: now })
      .execute();
    await trx.insertInto('calendar_resources').values(row).execute();
    await platform.audit.record(trx, { actor, action: 'calendar.resource.created', targetType: 'calendar-resource', targetId: id, details: { name: row.name, kind: row.kind } });
    await emit('calendar.resource.changed', { resourceId: id });
    return row;
  });
}

async function resourceById(platform: Platform, id: string): Promise<ResourceRow> {
  const r = await platform.db.selectFrom('calendar_resources').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r) throw new AppError('not_found');
  return r;
}

export async function updateResource(platform: Platform, actor: Actor, id: string, changes: { name?: string | undefined; description?: string | undefined; location?: string | undefined; capacity?: number | null | undefined }): Promise<ResourceRow> {
  await platform.policy.authorize(actor, 'update', R);
  const cur = await resourceById(platform, id);
  const next: ResourceRow = {
    ...cur,
    ...(changes.name !== undefined ? { name: changes.name.trim().slice(0, 200) } : {}),
    ...(changes.description !== undefined ? { description: changes.description.slice(0, 5000) } : {}),
    ...(changes.location !== undefined ? { location: changes.location.slice(0, 500) } : {}),
    ...(changes.capacity !== undefined ? { capacity: changes.capacity } : {}),
    updated_at: platform.clock.now(),
  };
  if (next.name === '') throw new AppError('validation_failed', { fields: [{ path: '/name', message: 'required' }] });
  return platform.transaction(async (trx, emit) => {
    await trx.updateTable('calendar_resources').set({ name: next.name, description: next.description, location: next.location, capacity: next.capacity, updated_at: next.updated_at }).where('id', '=', id).execute();
    await trx.updateTable('calendar_collections').set({ display_name: next.name, description: next.description, updated_at: next.updated_at }).where('id', '=', cur.collection_id).execute();
    await platform.audit.record(trx, { actor, action: 'calendar.resource.updated', targetType: 'calendar-resource', targetId: id, details: { name: next.name } });
    await emit('calendar.resource.changed', { resourceId: id });
    return next;
  });
}

export async function deleteResource(platform: Platform, actor: Actor, id: string): Promise<void> {
  await platform.policy.authorize(actor, 'delete', R);
  const cur = await resourceById(platform, id);
  await platform.transaction(async (trx, emit) => {
    await trx.deleteFrom('calendar_resources').where('id', '=', id).execute();
    await trx.deleteFrom('calendar_changes').where('collection_id', '=', cur.collection_id).execute();
    await trx.deleteFrom('calendar_objects').where('collection_id', '=', cur.collection_id).execute();
    await trx.deleteFrom('calendar_collections').where('id', '=', cur.collection_id).execute();
    await platform.audit.record(trx, { actor, action: 'calendar.resource.deleted', targetType: 'calendar-resource', targetId: id, details: { name: cur.name } });
    await emit('calendar.resource.changed', { resourceId: id, deleted: true });
  });
}
