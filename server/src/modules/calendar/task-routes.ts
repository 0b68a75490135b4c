import { Type, type Static } from '@sinclair/typebox';
import ICAL from 'ical.js';
import { AppError } from '../../errors.js';
import type { App, Platform } from '../../platform/module.js';
import { requireUser, type Actor } from '../../platform/policy.js';
import { listDirectory } from '../contacts/directory.js';
import { resourceName } from './bundle.js';
import { calendarStore } from './calendars.js';
import { parseCalendarObject, parseIcal } from './ical.js';
import { taskText } from './routes.js';
import type { CollectionRow, ObjectRow, StoreContext } from './store.js';

/**
 * Tasks as the task views (list, board, detail panel) need them: every field of a VTODO's master
 * component, including what the calendar routes leave out — assignees (ATTENDEE, resolved from the
 * directory), percent complete and the manual order (X-APPLE-SORT-ORDER, which Apple Reminders and
 * DAVx⁵/jtx also use). PATCH changes only the fields it is given; every other property (alarms,
 * categories, what a CalDAV client added) is kept. One task model: these are the same VTODO objects
 * CalDAV serves.
 */
const strict = { additionalProperties: false } as const;
const tags = ['calendar'];
const Text = (max: number) => Type.String({ maxLength: max });
const Status = Type.Union([Type.Literal('NEEDS-ACTION'), Type.Literal('IN-PROCESS'), Type.Literal('COMPLETED'), Type.Literal('CANCELLED')]);
const Fields = {
  summary: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  description: Type.Optional(Text(20_000)),
  due: Type.Optional(Type.Union([Text(40), Type.Null()])),
  start: Type.Optional(Type.Union([Text(40), Type.Null()])),
  priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 9 })),
  status: Type.Optional(Status),
  percentComplete: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  parentUid: Type.Optional(Type.Union([Text(1000), Type.Null()])),
  /** User ids from the directory; replaces the Bastide assignees (attendees added by other clients are kept). */
  assignees: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50 })),
  /** Manual order within the list (smaller first). */
  sortOrder: Type.Optional(Type.Union([Type.Integer({ minimum: -2_147_483_648, maximum: 2_147_483_647 }), Type.Null()])),
};
const CreateBody = Type.Object({ ...Fields, summary: Type.String({ minLength: 1, maxLength: 1000 }) }, strict);
const PatchBody = Type.Object({ ...Fields, etag: Type.Optional(Text(64)) }, strict);
type Patch = Static<typeof PatchBody>;
const Assignee = Type.Object({ userId: Type.Union([Type.String(), Type.Null()]), email: Type.Union([Type.String(), Type.Null()]), name: Type.String() });
export const TaskItem = Type.Object({
  id: Type.String(),
  uid: Type.String(),
  etag: Type.String(),
  summary: Type.String(),
  description: Type.String(),
  due: Type.Union([Type.String(), Type.Null()]),
  start: Type.Union([Type.String(), Type.Null()]),
  priority: Type.Integer(),
  status: Type.String(),
  percentComplete: Type.Integer(),
  completed: Type.Union([Type.String(), Type.Null()]),
  created: Type.Union([Type.String(), Type.Null()]),
  parentUid: Type.Union([Type.String(), Type.Null()]),
  assignees: Type.Array(Assignee),
  sortOrder: Type.Union([Type.Integer(), Type.Null()]),
  recurring: Type.Boolean(),
});
type TaskItemT = Static<typeof TaskItem>;
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) }, strict);
const ObjParams = Type.Object({ id: Type.String({ maxLength: 64 }), objectId: Type.String({ maxLength: 64 }) }, strict);

const SORT = 'x-apple-sort-order';
const USER_PARAM = 'x-bastide-user';

function timeJson(v: unknown): string | null {
  if (!(v instanceof ICAL.Time)) return null;
  return v.isDate ? v.toString() : new Date(v.toUnixTime() * 1000).toISOString();
}

function master(vcal: ICAL.Component): ICAL.Component | null {
  const todos = vcal.getAllSubcomponents('vtodo');
  return todos.find((c) => !c.hasProperty('recurrence-id')) ?? todos[0] ?? null;
}

export function taskItem(o: ObjectRow): TaskItemT | null {
  let comp: ICAL.Component | null;
  try {
    comp = master(parseIcal(o.data));
  } catch {
    return null;
  }
  if (!comp) return null;
  const s = (p: string): string => {
    const v = comp.getFirstPropertyValue(p);
    return typeof v === 'string' ? v : '';
  };
  const n = (p: string): number | null => {
    const v = comp.getFirstPropertyValue(p);
    const x = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
    return Number.isInteger(x) ? x : null;
  };
  const parent = comp.getAllProperties('related-to').find((p) => String(p.getParameter('reltype') ?? 'PARENT').toUpperCase() === 'PARENT');
  const assignees = comp.getAllProperties('attendee').map((p) => {
    const addr = String(p.getFirstValue() ?? '');
    const email = /^mailto:/i.test(addr) ? addr.slice(7) : null;
    const cn = p.getParameter('cn');
    const uid = p.getParameter(USER_PARAM);
    return { userId: typeof uid === 'string' ? uid : null, email, name: typeof cn === 'string' && cn ? cn : (email ?? addr) };
  });
  const status = s('status').toUpperCase() || 'NEEDS-ACTION';
  const percent = n('percent-complete');
  return {
    id: o.id, uid: o.uid, etag: o.etag, summary: s('summary'), description: s('description'),
    due: timeJson(comp.getFirstPropertyValue('due')), start: timeJson(comp.getFirstPropertyValue('dtstart')),
    priority: Math.min(9, Math.max(0, n('priority') ?? 0)), status,
    percentComplete: Math.min(100, Math.max(0, percent ?? (status === 'COMPLETED' ? 100 : 0))),
    completed: timeJson(comp.getFirstPropertyValue('completed')), created: timeJson(comp.getFirstPropertyValue('created')),
    parentUid: parent ? String(parent.getFirstValue()) : null, assignees, sortOrder: n(SORT), recurring: o.recurring === 1,
  };
}

/** The stored object's text with the patch applied (fields absent from the patch are kept). */
function patchedText(existing: ObjectRow | null, b: Patch, people: Array<{ id: string; displayName: string; email: string | null }> | undefined, now: number): string {
  const cur = existing ? taskItem(existing) : null;
  if (existing && !cur) throw new AppError('conflict', { reason: 'not a task' });
  const base: Parameters<typeof taskText>[1] = { summary: b.summary ?? cur?.summary ?? '' };
  if (b.description !== undefined) base.description = b.description;
  if (b.due !== undefined) base.due = b.due;
  if (b.start !== undefined) base.start = b.start;
  if (b.priority !== undefined) base.priority = b.priority;
  if (b.parentUid !== undefined) base.parentUid = b.parentUid;
  if (b.percentComplete !== undefined) base.percentComplete = b.percentComplete;
  if (b.status !== undefined && b.status !== cur?.status) {
    base.status = b.status;
    // Completing sets 100 %; reopening a completed task starts it again.
    if (b.percentComplete === undefined && b.status === 'COMPLETED') base.percentComplete = 100;
    if (b.percentComplete === undefined && cur?.status === 'COMPLETED') base.percentComplete = 0;
  }
  if (b.parentUid && existing && b.parentUid === existing.uid) throw new AppError('validation_failed', { fields: [{ path: '/parentUid', message: 'a task cannot be its own parent' }] });
  const text = taskText(existing, base, now);
  if (people === undefined && b.sortOrder === undefined) return text;
  const vcal = parseIcal(text);
  const comp = master(vcal);
  if (!comp) throw new AppError('conflict', { reason: 'not a task' });
  if (b.sortOrder !== undefined) {
    comp.removeAllProperties(SORT);
    if (b.sortOrder !== null) comp.addPropertyWithValue(SORT, String(b.sortOrder));
  }
  if (people !== undefined) {
    for (const p of comp.getAllProperties('attendee')) if (p.getParameter(USER_PARAM) !== undefined) comp.removeProperty(p);
    for (const u of people) {
      const p = comp.addPropertyWithValue('attendee', u.email ? `mailto:${u.email}` : `urn:bastide:user:${u.id}`);
      p.setParameter('cn', u.displayName);
      p.setParameter(USER_PARAM, u.id);
      p.setParameter('partstat', 'NEEDS-ACTION');
    }
  }
  return vcal.toString().replace(/\r?\n/g, '\r\n') + '\r\n';
}

export async function taskRoutes(app: App, platform: Platform): Promise<void> {
  const load = async (actor: Actor, id: string): Promise<{ ctx: StoreContext; coll: CollectionRow }> => {
    requireUser(actor);
    const ctx: StoreContext = { platform, actor };
    const coll = await calendarStore.byId(ctx, id);
    if (!coll.components.split(',').includes('VTODO')) throw new AppError('unsupported_component', { component: 'VTODO' });
    return { ctx, coll };
  };
  /** Assignees must be people the actor sees in the directory. */
  const resolve = async (actor: Actor, ids: string[] | undefined) => {
    if (ids === undefined) return undefined;
    const unique = [...new Set(ids)];
    const { people } = await listDirectory(platform, actor, { limit: 500, ids: unique });
    if (people.length !== unique.length) throw new AppError('validation_failed', { fields: [{ path: '/assignees', message: 'unknown or inactive users' }] });
    return unique.map((id) => people.find((p) => p.id === id)!);
  };
  const save = async (ctx: StoreContext, coll: CollectionRow, existing: ObjectRow | null, text: string, etag: string | undefined): Promise<TaskItemT> => {
    const parsed = parseCalendarObject(text);
    const accept = (p: { component: string }): void => {
      if (p.component !== 'VTODO') throw new AppError('unsupported_component', { component: p.component });
    };
    const cond = existing ? { ifMatch: etag !== undefined ? `"${etag}"` : '*' } : { ifNoneMatch: '*' };
    const { row } = await calendarStore.put(ctx, coll, existing?.name ?? resourceName(parsed.uid, '.ics'), text, cond, accept);
    return taskItem(row)!;
  };

  app.get(
    '/tasklists/:id/items',
    { schema: { tags, summary: 'Every task of a task list with all its fields (list, board and detail views)', params: IdParams, response: { 200: Type.Object({ items: Type.Array(TaskItem) }) } } },
    async (req) => {
      const { coll } = await load(req.actor, req.params.id);
      const items: TaskItemT[] = [];
      for (const o of await calendarStore.objects(platform.db, coll)) {
        if (o.component !== 'VTODO') continue;
        const t = taskItem(o);
        if (t) items.push(t);
      }
      return { items };
    },
  );
  app.post('/tasklists/:id/items', { schema: { tags, summary: 'Create a task', params: IdParams, body: CreateBody, response: { 201: TaskItem } } }, async (req, reply) => {
    const { ctx, coll } = await load(req.actor, req.params.id);
    const people = await resolve(req.actor, req.body.assignees);
    return reply.status(201).send(await save(ctx, coll, null, patchedText(null, req.body, people, platform.clock.now()), undefined));
  });
  app.patch(
    '/tasklists/:id/items/:objectId',
    { schema: { tags, summary: 'Change some fields of a task (the others, and its other properties, are kept); etag: only if unchanged', params: ObjParams, body: PatchBody, response: { 200: TaskItem } } },
    async (req) => {
      const { ctx, coll } = await load(req.actor, req.params.id);
      const o = await calendarStore.objectById(platform.db, coll, req.params.objectId);
      if (!o) throw new AppError('not_found');
      if (o.component !== 'VTODO') throw new AppError('conflict', { reason: 'not a task' });
      const people = await resolve(req.actor, req.body.assignees);
      return save(ctx, coll, o, patchedText(o, req.body, people, platform.clock.now()), req.body.etag);
    },
  );
}
