import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import ICAL from 'ical.js';
import { sql } from 'kysely';
import { AppError } from '../../errors.js';
import type { App, Platform, SearchHit } from '../../platform/module.js';
import { requireUser, type Actor } from '../../platform/policy.js';
import { mergeCalendars, resourceName, splitCalendar } from './bundle.js';
import { ianaZone, icalUtc, occurrences, parseCalendarObject, parseIcal, propUtc } from './ical.js';
import { TIME_MAX, TIME_MIN } from './schema.js';
import { calendarStore } from './calendars.js';
import type { CollectionRow, ObjectRow, StoreContext } from './store.js';
import { cutBefore, detailsOf, excludeInstance, findInstance, followingSeries, isRecurring, masterOf, overrideFor, serialize, setAlarms, shiftExceptions } from './occurrence-edit.js';

/**
 * The JSON API of calendars and task lists for the web app: collections, occurrences in a range
 * (recurrences expanded), events and tasks created and edited from plain fields (the other properties
 * of an object — attendees, alarms, overrides — are kept), and .ics import/export. Every call goes
 * through the same store as CalDAV, so the policy and the change log are the same.
 */
const strict = { additionalProperties: false } as const;
const tags = ['calendar'];
const Components = Type.Array(Type.Union([Type.Literal('VEVENT'), Type.Literal('VTODO')]), { minItems: 1, maxItems: 2 });
const CalendarView = Type.Object({
  id: Type.String(),
  slug: Type.String(),
  name: Type.String(),
  description: Type.String(),
  color: Type.String(),
  components: Type.Array(Type.String()),
  syncToken: Type.String(),
  davUrl: Type.String(),
});
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) }, strict);
const ObjParams = Type.Object({ id: Type.String({ maxLength: 64 }), objectId: Type.String({ maxLength: 64 }) }, strict);
const Text = (max: number) => Type.String({ maxLength: max });
const EventBody = Type.Object(
  {
    summary: Text(1000),
    /** ISO date (all-day) or date-time; with timeZone, a local date-time without offset. */
    start: Text(40),
    end: Type.Optional(Text(40)),
    allDay: Type.Optional(Type.Boolean()),
    timeZone: Type.Optional(Text(64)),
    location: Type.Optional(Text(1000)),
    description: Type.Optional(Text(20_000)),
    /** An RFC 5545 RRULE value, e.g. "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10". */
    rrule: Type.Optional(Type.Union([Text(500), Type.Null()])),
    status: Type.Optional(Type.Union([Type.Literal('CONFIRMED'), Type.Literal('TENTATIVE'), Type.Literal('CANCELLED')])),
    /** Reminders (VALARM DISPLAY) this long before the start; replaces those of this kind, keeps the others. */
    alarms: Type.Optional(Type.Array(Type.Object({ minutesBefore: Type.Integer({ minimum: 0, maximum: 40_320 }) }, strict), { maxItems: 10 })),
    etag: Type.Optional(Text(64)),
  },
  strict,
);
const TaskBody = Type.Object(
  {
    summary: Text(1000),
    description: Type.Optional(Text(20_000)),
    due: Type.Optional(Type.Union([Text(40), Type.Null()])),
    start: Type.Optional(Type.Union([Text(40), Type.Null()])),
    priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 9 })),
    status: Type.Optional(Type.Union([Type.Literal('NEEDS-ACTION'), Type.Literal('IN-PROCESS'), Type.Literal('COMPLETED'), Type.Literal('CANCELLED')])),
    percentComplete: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    /** UID of the parent task (sub-tasks: RELATED-TO;RELTYPE=PARENT). */
    parentUid: Type.Optional(Type.Union([Text(1000), Type.Null()])),
    etag: Type.Optional(Text(64)),
  },
  strict,
);
const ObjectRef = Type.Object({ id: Type.String(), uid: Type.String(), etag: Type.String() });
const Occurrence = Type.Object({
  objectId: Type.String(),
  uid: Type.String(),
  etag: Type.String(),
  component: Type.String(),
  recurring: Type.Boolean(),
  recurrenceId: Type.Union([Type.String(), Type.Null()]),
  start: Type.Union([Type.String(), Type.Null()]),
  end: Type.Union([Type.String(), Type.Null()]),
  allDay: Type.Boolean(),
  summary: Type.String(),
  location: Type.String(),
  description: Type.String(),
  status: Type.String(),
  priority: Type.Union([Type.Integer(), Type.Null()]),
  due: Type.Union([Type.String(), Type.Null()]),
  completed: Type.Union([Type.String(), Type.Null()]),
  parentUid: Type.Union([Type.String(), Type.Null()]),
});
const OccurrenceEdit = Type.Object(
  {
    /** The occurrence: its recurrenceId as listed (an ISO instant, or a date for all-day events). */
    recurrenceId: Text(40),
    scope: Type.Union([Type.Literal('this'), Type.Literal('following')]),
    event: Type.Omit(EventBody, ['etag']),
    etag: Type.Optional(Text(64)),
  },
  strict,
);
const EventDetailsView = Type.Object({
  id: Type.String(), uid: Type.String(), etag: Type.String(), recurring: Type.Boolean(),
  summary: Type.String(), location: Type.String(), description: Type.String(), status: Type.String(),
  allDay: Type.Boolean(), start: Type.String(), end: Type.String(), timeZone: Type.Union([Type.String(), Type.Null()]),
  rrule: Type.Union([Type.String(), Type.Null()]), complexRecurrence: Type.Boolean(), exceptions: Type.Integer(),
  alarms: Type.Array(Type.Object({ minutesBefore: Type.Integer() })), otherAlarms: Type.Integer(),
  organizer: Type.Union([Type.Object({ name: Type.String(), email: Type.String() }), Type.Null()]),
  attendees: Type.Array(Type.Object({ name: Type.String(), email: Type.String(), partstat: Type.String(), role: Type.String() })),
});
/** A recurrence id as the occurrence list gives it: "YYYY-MM-DD" or an ISO instant. */
function ridOf(v: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(ms)) throw validation('/recurrenceId', 'a date YYYY-MM-DD or an ISO 8601 instant');
  return ms;
}
const RangeQuery = Type.Object({ from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }) }, strict);
/** Occurrences are listed over at most this span per request. */
const MAX_RANGE_MS = 400 * 86_400_000;

const ctxOf = (platform: Platform, actor: Actor): StoreContext => ({ platform, actor });

export function calendarView(c: CollectionRow, login: string): Static<typeof CalendarView> {
  return {
    id: c.id, slug: c.slug, name: c.display_name, description: c.description, color: c.color, components: c.components.split(',').filter(Boolean),
    syncToken: `urn:bastide:sync:${c.id}:${Number(c.sync_seq)}`, davUrl: `/dav/calendars/${encodeURIComponent(login)}/${encodeURIComponent(c.slug)}/`,
  };
}

/** Start of the master (or the earliest component): where a task's first instance is. */
function firstStart(comps: ICAL.Component[]): number {
  let min = TIME_MAX;
  for (const c of comps) for (const p of ['dtstart', 'due', 'completed', 'created']) min = Math.min(min, propUtc(c, p) ?? TIME_MAX);
  return min === TIME_MAX ? TIME_MAX - 1 : min;
}

const iso = (ms: number, allDay: boolean): string => (allDay ? new Date(ms).toISOString().slice(0, 10) : new Date(ms).toISOString());
const str = (c: ICAL.Component, p: string): string => {
  const v = c.getFirstPropertyValue(p);
  return typeof v === 'string' ? v : '';
};

/** Occurrences of one stored object within [from, to) as JSON. */
function occurrencesOf(o: ObjectRow, from: number, to: number, firstOnly = false): Array<Static<typeof Occurrence>> {
  let vcal: ICAL.Component;
  try {
    vcal = parseIcal(o.data);
  } catch {
    return [];
  }
  const comps = vcal.getAllSubcomponents().filter((s) => s.name !== 'vtimezone');
  const found = firstOnly ? occurrences(comps, { from, to: Math.min(to, firstStart(comps) + 1) }).list : occurrences(comps, { from, to }).list;
  return found.map((oc) => {
    const c = oc.component;
    const dueProp = c.getFirstPropertyValue('due');
    const completed = c.getFirstPropertyValue('completed');
    const prio = c.getFirstPropertyValue('priority');
    const parent = c.getAllProperties('related-to').find((p) => String(p.getParameter('reltype') ?? 'PARENT').toUpperCase() === 'PARENT');
    return {
      objectId: o.id, uid: o.uid, etag: o.etag, component: o.component, recurring: o.recurring === 1,
      recurrenceId: oc.recurrenceId === null || o.recurring !== 1 ? null : iso(oc.recurrenceId, oc.allDay),
      // A task's own start is its DTSTART (its index span may come from DUE, COMPLETED or CREATED).
      start: oc.undated || (c.name === 'vtodo' && !c.hasProperty('dtstart')) ? null : iso(oc.start, oc.allDay),
      end: oc.undated || (c.name === 'vtodo' && !c.hasProperty('dtstart')) ? null : iso(oc.end, oc.allDay),
      allDay: oc.allDay,
      summary: str(c, 'summary'), location: str(c, 'location'), description: str(c, 'description'), status: str(c, 'status'),
      priority: typeof prio === 'number' ? prio : null,
      due: dueProp instanceof ICAL.Time ? (dueProp.isDate ? dueProp.toString() : new Date(dueProp.toUnixTime() * 1000).toISOString()) : null,
      completed: completed instanceof ICAL.Time ? new Date(completed.toUnixTime() * 1000).toISOString() : null,
      parentUid: parent ? String(parent.getFirstValue()) : null,
    };
  });
}

/** A task as listed by the task views: its master component (or its first instance), undated or not. */
function taskOf(o: ObjectRow): Array<Static<typeof Occurrence>> {
  const all = occurrencesOf(o, TIME_MIN, TIME_MAX, true);
  return all.slice(0, 1);
}

function validation(path: string, message: string): AppError {
  return new AppError('validation_failed', { fields: [{ path, message }] });
}

/** A JSON time as an ICAL.Time: "YYYY-MM-DD" (date), an ISO instant (UTC), or a local time in `tz`. */
function timeOf(value: string, path: string, opts: { allDay?: boolean | undefined; tz?: string | undefined }): { time: ICAL.Time; tzid?: string } {
  if (opts.allDay || /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
    if (!m) throw validation(path, 'a date YYYY-MM-DD');
    const t = ICAL.Time.fromData({ year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), isDate: true });
    return { time: t };
  }
  if (opts.tz) {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
    if (!m) throw validation(path, 'a local date-time YYYY-MM-DDTHH:mm[:ss] (no offset with timeZone)');
    const t = ICAL.Time.fromData({ year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour: Number(m[4]), minute: Number(m[5]), second: Number(m[6] ?? 0) });
    return { time: t, tzid: opts.tz };
  }
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(ms)) throw validation(path, 'an ISO 8601 date-time with an offset');
  return { time: icalUtc(ms) };
}

function setTime(c: ICAL.Component, name: string, v: { time: ICAL.Time; tzid?: string }): void {
  c.removeAllProperties(name);
  const p = new ICAL.Property(name, c);
  p.setValue(v.time);
  if (v.tzid) p.setParameter('tzid', v.tzid);
  c.addProperty(p);
}

function setText(c: ICAL.Component, name: string, value: string | undefined): void {
  if (value === undefined) return;
  c.removeAllProperties(name);
  if (value !== '') c.addPropertyWithValue(name, value);
}

/** The master component of an existing object to edit, or a new VCALENDAR with one. */
function editable(existing: ObjectRow | null, kind: 'vevent' | 'vtodo', now: number): { vcal: ICAL.Component; comp: ICAL.Component } {
  if (existing) {
    const vcal = parseIcal(existing.data);
    const comp = vcal.getAllSubcomponents(kind).find((c) => !c.hasProperty('recurrence-id'));
    if (!comp) throw new AppError('conflict', { reason: 'no master component to edit' });
    comp.removeAllProperties('dtstamp');
    comp.addPropertyWithValue('dtstamp', icalUtc(now));
    const seq = comp.getFirstPropertyValue('sequence');
    comp.removeAllProperties('sequence');
    comp.addPropertyWithValue('sequence', (typeof seq === 'number' ? seq : 0) + 1);
    return { vcal, comp };
  }
  const vcal = new ICAL.Component('vcalendar');
  vcal.addPropertyWithValue('version', '2.0');
  vcal.addPropertyWithValue('prodid', '-//Bastide//Calendar//EN');
  const comp = new ICAL.Component(kind);
  comp.addPropertyWithValue('uid', randomUUID());
  comp.addPropertyWithValue('dtstamp', icalUtc(now));
  comp.addPropertyWithValue('created', icalUtc(now));
  vcal.addSubcomponent(comp);
  return { vcal, comp };
}

export function eventText(existing: ObjectRow | null, b: Static<typeof EventBody>, now: number): string {
  const { vcal, comp } = editable(existing, 'vevent', now);
  const oldStart = comp.getFirstPropertyValue('dtstart');
  const oldTzid = comp.getFirstProperty('dtstart')?.getParameter('tzid');
  applyEvent(comp, b, true);
  // "All" of a recurring event moved: its exceptions follow.
  if (existing && oldStart instanceof ICAL.Time && isRecurring(comp)) shiftExceptions(vcal, comp, oldStart, oldTzid);
  return serialize(vcal);
}

/** Sets the form's fields on a VEVENT (a master, or an override when `rules` is false). */
function applyEvent(comp: ICAL.Component, b: Static<typeof EventBody>, rules: boolean): void {
  const tz = b.timeZone;
  if (tz !== undefined && !ianaZone(tz)) throw validation('/timeZone', 'an IANA time zone such as Europe/Paris');
  const start = timeOf(b.start, '/start', { allDay: b.allDay, tz });
  setTime(comp, 'dtstart', start);
  comp.removeAllProperties('duration');
  comp.removeAllProperties('dtend');
  if (b.end !== undefined) {
    const end = timeOf(b.end, '/end', { allDay: b.allDay ?? start.time.isDate, tz });
    if (end.time.compare(start.time) < 0) throw validation('/end', 'not before the start');
    setTime(comp, 'dtend', end);
  }
  setText(comp, 'summary', b.summary);
  setText(comp, 'location', b.location);
  setText(comp, 'description', b.description);
  setText(comp, 'status', b.status);
  if (b.rrule !== undefined) {
    if (!rules && b.rrule !== null && b.rrule !== '') throw validation('/rrule', 'one occurrence has no rule of its own');
    if (rules) comp.removeAllProperties('rrule');
    if (rules && b.rrule !== null && b.rrule !== '') {
      let r: ICAL.Recur;
      try {
        r = ICAL.Recur.fromString(b.rrule);
      } catch {
        throw validation('/rrule', 'an RFC 5545 RRULE value');
      }
      if (!r.freq) throw validation('/rrule', 'FREQ is required');
      comp.addPropertyWithValue('rrule', r);
    }
  }
  if (b.alarms !== undefined) setAlarms(comp, b.alarms);
}

export function taskText(existing: ObjectRow | null, b: Static<typeof TaskBody>, now: number): string {
  const { vcal, comp } = editable(existing, 'vtodo', now);
  setText(comp, 'summary', b.summary);
  setText(comp, 'description', b.description);
  for (const [name, value] of [['due', b.due], ['dtstart', b.start]] as const) {
    if (value === undefined) continue;
    comp.removeAllProperties(name);
    if (value !== null) setTime(comp, name, timeOf(value, `/${name === 'dtstart' ? 'start' : name}`, {}));
  }
  if (b.priority !== undefined) {
    comp.removeAllProperties('priority');
    comp.addPropertyWithValue('priority', b.priority);
  }
  if (b.percentComplete !== undefined) {
    comp.removeAllProperties('percent-complete');
    comp.addPropertyWithValue('percent-complete', b.percentComplete);
  }
  if (b.status !== undefined) {
    setText(comp, 'status', b.status);
    comp.removeAllProperties('completed');
    if (b.status === 'COMPLETED') comp.addPropertyWithValue('completed', icalUtc(now));
  }
  if (b.parentUid !== undefined) {
    for (const p of comp.getAllProperties('related-to')) if (String(p.getParameter('reltype') ?? 'PARENT').toUpperCase() === 'PARENT') comp.removeProperty(p);
    if (b.parentUid !== null) comp.addPropertyWithValue('related-to', b.parentUid);
  }
  return vcal.toString().replace(/\r?\n/g, '\r\n') + '\r\n';
}

export async function searchObjects(platform: Platform, actor: Actor, query: string, limit: number): Promise<SearchHit[]> {
  if (actor.kind !== 'user') return [];
  const ctx = ctxOf(platform, actor);
  const cols = await calendarStore.list(ctx, { type: 'user', id: actor.userId });
  if (cols.length === 0) return [];
  const q = `%${query.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const rows = await platform.db
    .selectFrom('calendar_objects')
    .select(['id', 'collection_id', 'summary', 'component'])
    .where('collection_id', 'in', cols.map((c) => c.id))
    .where(sql<boolean>`lower(summary) like ${q} escape '\\'`)
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    type: r.component === 'VTODO' ? 'task' : 'event',
    id: r.id,
    title: r.summary.split('\n')[0] || '(untitled)',
    subtitle: cols.find((c) => c.id === r.collection_id)?.display_name ?? '',
    link: `/calendar?calendar=${r.collection_id}&object=${r.id}`,
  }));
}

export async function calendarRoutes(app: App, platform: Platform): Promise<void> {
  const load = async (req: { actor: Actor }, id: string): Promise<{ ctx: StoreContext; coll: CollectionRow; login: string }> => {
    const me = requireUser(req.actor);
    const ctx = ctxOf(platform, req.actor);
    const coll = await calendarStore.byId(ctx, id);
    return { ctx, coll, login: me.login };
  };
  const objectOf = async (coll: CollectionRow, objectId: string): Promise<ObjectRow> => {
    const o = await calendarStore.objectById(platform.db, coll, objectId);
    if (!o) throw new AppError('not_found');
    return o;
  };

  app.get('/calendars', { schema: { tags, summary: 'My calendars and task lists (created on first access)', response: { 200: Type.Object({ calendars: Type.Array(CalendarView) }) } } }, async (req) => {
    const me = requireUser(req.actor);
    const rows = await calendarStore.list(ctxOf(platform, req.actor), { type: 'user', id: me.userId });
    return { calendars: rows.map((c) => calendarView(c, me.login)) };
  });

  app.post(
    '/calendars',
    {
      schema: {
        tags, summary: 'Create a calendar (components ["VTODO"] makes a task list)',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), color: Type.Optional(Text(32)), description: Type.Optional(Text(5000)), components: Type.Optional(Components) }, strict),
        response: { 201: CalendarView },
      },
    },
    async (req, reply) => {
      const me = requireUser(req.actor);
      const b = req.body;
      const row = await calendarStore.create(ctxOf(platform, req.actor), { type: 'user', id: me.userId }, {
        slug: randomUUID(), displayName: b.name, ...(b.description !== undefined ? { description: b.description } : {}), ...(b.color !== undefined ? { color: b.color } : {}),
        components: [...new Set(b.components ?? ['VEVENT'])].join(','),
      });
      return reply.status(201).send(calendarView(row, me.login));
    },
  );

  app.patch(
    '/calendars/:id',
    { schema: { tags, summary: 'Rename, recolour or describe a calendar', params: IdParams, body: Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), color: Type.Optional(Text(32)), description: Type.Optional(Text(5000)) }, strict), response: { 200: CalendarView } } },
    async (req) => {
      const { ctx, coll, login } = await load(req, req.params.id);
      const b = req.body;
      const row = await calendarStore.update(ctx, coll, { ...(b.name !== undefined ? { displayName: b.name } : {}), ...(b.color !== undefined ? { color: b.color } : {}), ...(b.description !== undefined ? { description: b.description } : {}) });
      return calendarView(row, login);
    },
  );

  app.delete('/calendars/:id', { schema: { tags, summary: 'Delete a calendar and everything in it', params: IdParams } }, async (req, reply) => {
    const { ctx, coll } = await load(req, req.params.id);
    await calendarStore.remove(ctx, coll);
    return reply.status(204).send();
  });

  app.get(
    '/calendars/:id/events',
    { schema: { tags, summary: 'Occurrences (events and dated tasks) in [from, to), recurrences expanded; undated tasks always listed', params: IdParams, querystring: RangeQuery, response: { 200: Type.Object({ occurrences: Type.Array(Occurrence) }) } } },
    async (req) => {
      const { coll } = await load(req, req.params.id);
      const from = Date.parse(req.query.from);
      const to = Date.parse(req.query.to);
      if (!(to > from)) throw validation('/to', 'after from');
      if (to - from > MAX_RANGE_MS) throw validation('/to', 'at most 400 days after from');
      const out: Array<Static<typeof Occurrence>> = [];
      for (const o of await calendarStore.objects(platform.db, coll, { from, to })) out.push(...occurrencesOf(o, from, to));
      out.sort((a, b) => (a.start ?? '').localeCompare(b.start ?? ''));
      return { occurrences: out };
    },
  );

  app.get(
    '/calendars/:id/tasks',
    { schema: { tags, summary: 'Every task of a task list (no time range: the list and board views)', params: IdParams, response: { 200: Type.Object({ tasks: Type.Array(Occurrence) }) } } },
    async (req) => {
      const { coll } = await load(req, req.params.id);
      const out: Array<Static<typeof Occurrence>> = [];
      for (const o of await calendarStore.objects(platform.db, coll)) if (o.component === 'VTODO') out.push(...taskOf(o));
      return { tasks: out };
    },
  );

  app.get(
    '/calendars/:id/objects/:objectId',
    { schema: { tags, summary: 'One object: its iCalendar text and etag', params: ObjParams, response: { 200: Type.Object({ id: Type.String(), uid: Type.String(), etag: Type.String(), component: Type.String(), ics: Type.String() }) } } },
    async (req) => {
      const { coll } = await load(req, req.params.id);
      const o = await objectOf(coll, req.params.objectId);
      return { id: o.id, uid: o.uid, etag: o.etag, component: o.component, ics: o.data };
    },
  );

  const save = async (ctx: StoreContext, coll: CollectionRow, existing: ObjectRow | null, text: string, etag: string | undefined): Promise<Static<typeof ObjectRef>> => {
    const parsed = parseCalendarObject(text);
    const name = existing?.name ?? resourceName(parsed.uid, '.ics');
    const accept = (p: { component: string }): void => {
      if (!coll.components.split(',').includes(p.component)) throw new AppError('unsupported_component', { component: p.component });
    };
    const cond = existing ? { ifMatch: etag !== undefined ? `"${etag}"` : '*' } : { ifNoneMatch: '*' };
    const { row } = await calendarStore.put(ctx, coll, name, text, cond, accept);
    return { id: row.id, uid: row.uid, etag: row.etag };
  };

  app.post('/calendars/:id/events', { schema: { tags, summary: 'Create an event', params: IdParams, body: EventBody, response: { 201: ObjectRef } } }, async (req, reply) => {
    const { ctx, coll } = await load(req, req.params.id);
    return reply.status(201).send(await save(ctx, coll, null, eventText(null, req.body, platform.clock.now()), undefined));
  });
  app.put('/calendars/:id/events/:objectId', { schema: { tags, summary: 'Edit an event (its other properties are kept); etag: only if unchanged', params: ObjParams, body: EventBody, response: { 200: ObjectRef } } }, async (req) => {
    const { ctx, coll } = await load(req, req.params.id);
    const o = await objectOf(coll, req.params.objectId);
    if (o.component !== 'VEVENT') throw new AppError('conflict', { reason: 'not an event' });
    return save(ctx, coll, o, eventText(o, req.body, platform.clock.now()), req.body.etag);
  });
  app.get(
    '/calendars/:id/events/:objectId',
    { schema: { tags, summary: 'An event as the form edits it (the master, or the override of one occurrence): wall times and zone, rule, reminders, attendees', params: ObjParams, querystring: Type.Object({ recurrenceId: Type.Optional(Text(40)) }, strict), response: { 200: EventDetailsView } } },
    async (req) => {
      const { coll } = await load(req, req.params.id);
      const o = await objectOf(coll, req.params.objectId);
      if (o.component !== 'VEVENT') throw new AppError('conflict', { reason: 'not an event' });
      const vcal = parseIcal(o.data);
      let comp = masterOf(vcal);
      if (req.query.recurrenceId !== undefined) {
        const rid = ridOf(req.query.recurrenceId);
        comp = vcal.getAllSubcomponents('vevent').find((c) => c.hasProperty('recurrence-id') && propUtc(c, 'recurrence-id') === rid) ?? comp;
      }
      return { id: o.id, uid: o.uid, etag: o.etag, recurring: isRecurring(masterOf(vcal)), ...detailsOf(vcal, comp) };
    },
  );
  app.put(
    '/calendars/:id/events/:objectId/occurrence',
    { schema: { tags, summary: 'Edit one occurrence of a recurring event ("this": an override with RECURRENCE-ID) or it and the following ones ("following": the series ends with UNTIL, a new series starts)', params: ObjParams, body: OccurrenceEdit, response: { 200: Type.Object({ updated: Type.Union([ObjectRef, Type.Null()]), created: Type.Union([ObjectRef, Type.Null()]) }) } } },
    async (req) => {
      const { ctx, coll } = await load(req, req.params.id);
      const o = await objectOf(coll, req.params.objectId);
      if (o.component !== 'VEVENT') throw new AppError('conflict', { reason: 'not an event' });
      const now = platform.clock.now();
      const vcal = parseIcal(o.data);
      const inst = findInstance(vcal, ridOf(req.body.recurrenceId));
      const b = req.body.event;
      if (req.body.scope === 'this') {
        applyEvent(overrideFor(vcal, inst, now), b, false);
        return { updated: await save(ctx, coll, o, serialize(vcal), req.body.etag), created: null };
      }
      if (!cutBefore(vcal, inst, now)) {
        // The first instance: "this and following" is the whole series.
        return { updated: await save(ctx, coll, o, eventText(o, b, now), req.body.etag), created: null };
      }
      const next = followingSeries(parseIcal(o.data), inst, now);
      applyEvent(masterOf(next), b, true);
      const nextText = serialize(next);
      parseCalendarObject(nextText);
      const updated = await save(ctx, coll, o, serialize(vcal), req.body.etag);
      const created = await save(ctx, coll, null, nextText, undefined);
      return { updated, created };
    },
  );
  app.delete(
    '/calendars/:id/events/:objectId/occurrence',
    { schema: { tags, summary: 'Delete one occurrence of a recurring event ("this": an EXDATE) or it and the following ones ("following": the series ends with UNTIL)', params: ObjParams, querystring: Type.Object({ recurrenceId: Text(40), scope: Type.Union([Type.Literal('this'), Type.Literal('following')]), etag: Type.Optional(Text(64)) }, strict) } },
    async (req, reply) => {
      const { ctx, coll } = await load(req, req.params.id);
      const o = await objectOf(coll, req.params.objectId);
      if (o.component !== 'VEVENT') throw new AppError('conflict', { reason: 'not an event' });
      const now = platform.clock.now();
      const vcal = parseIcal(o.data);
      const inst = findInstance(vcal, ridOf(req.query.recurrenceId));
      if (req.query.scope === 'this') excludeInstance(vcal, inst, now);
      else if (!cutBefore(vcal, inst, now)) {
        await calendarStore.delete(ctx, coll, o.name, { ifMatch: req.query.etag !== undefined ? `"${req.query.etag}"` : undefined });
        return reply.status(204).send();
      }
      await save(ctx, coll, o, serialize(vcal), req.query.etag);
      return reply.status(204).send();
    },
  );
  app.post('/calendars/:id/tasks', { schema: { tags, summary: 'Create a task', params: IdParams, body: TaskBody, response: { 201: ObjectRef } } }, async (req, reply) => {
    const { ctx, coll } = await load(req, req.params.id);
    return reply.status(201).send(await save(ctx, coll, null, taskText(null, req.body, platform.clock.now()), undefined));
  });
  app.put('/calendars/:id/tasks/:objectId', { schema: { tags, summary: 'Edit a task (its other properties are kept)', params: ObjParams, body: TaskBody, response: { 200: ObjectRef } } }, async (req) => {
    const { ctx, coll } = await load(req, req.params.id);
    const o = await objectOf(coll, req.params.objectId);
    if (o.component !== 'VTODO') throw new AppError('conflict', { reason: 'not a task' });
    return save(ctx, coll, o, taskText(o, req.body, platform.clock.now()), req.body.etag);
  });
  app.delete(
    '/calendars/:id/objects/:objectId',
    { schema: { tags, summary: 'Delete an event or a task (If-Match honoured)', params: ObjParams } },
    async (req, reply) => {
      const { ctx, coll } = await load(req, req.params.id);
      const o = await objectOf(coll, req.params.objectId);
      const im = req.headers['if-match'];
      await calendarStore.delete(ctx, coll, o.name, { ifMatch: typeof im === 'string' ? im : undefined });
      return reply.status(204).send();
    },
  );

  app.get('/calendars/:id/export', { schema: { tags, summary: 'The whole calendar as one .ics file', params: IdParams } }, async (req, reply) => {
    const { coll } = await load(req, req.params.id);
    const objects = await calendarStore.objects(platform.db, coll);
    const ascii = coll.display_name.replace(/[^A-Za-z0-9 ._-]/g, '_') || 'calendar';
    return reply
      .type('text/calendar; charset=utf-8')
      .header('content-disposition', `attachment; filename="${ascii}.ics"`)
      .header('x-content-type-options', 'nosniff')
      .send(mergeCalendars(objects.map((o) => o.data), coll.display_name));
  });

  await app.register(async (scope) => {
    scope.addContentTypeParser(['text/calendar', 'application/octet-stream'], { parseAs: 'buffer', bodyLimit: 32 * 1024 * 1024 }, (_req, body, done) => done(null, body));
    scope.post<{ Params: Static<typeof IdParams> }>(
      '/calendars/:id/import',
      { schema: { tags, summary: 'Import an .ics file (one object per UID; an existing UID is replaced)', params: IdParams, response: { 200: Type.Object({ imported: Type.Integer(), failed: Type.Array(Type.Object({ uid: Type.String(), code: Type.String() })) }) } } },
      async (req) => {
        const { ctx, coll } = await load(req, req.params.id);
        if (!Buffer.isBuffer(req.body)) throw new AppError('unsupported_media_type');
        let text: string;
        try {
          text = new TextDecoder('utf-8', { fatal: true }).decode(req.body).replace(/^\uFEFF/, '');
        } catch {
          throw new AppError('invalid_calendar_data', { reason: 'not UTF-8' });
        }
        return importCalendar(ctx, coll, text);
      },
    );
  });
}

/** Imports a .ics text into a calendar: one object per UID; objects the calendar refuses are reported. */
export async function importCalendar(ctx: StoreContext, coll: CollectionRow, text: string): Promise<{ imported: number; failed: Array<{ uid: string; code: string }> }> {
  const parts = splitCalendar(text);
  let imported = 0;
  const failed: Array<{ uid: string; code: string }> = [];
  const accept = (p: { component: string }): void => {
    if (!coll.components.split(',').includes(p.component)) throw new AppError('unsupported_component', { component: p.component });
  };
  for (const part of parts) {
    let uid = '';
    try {
      const p = parseCalendarObject(part);
      uid = p.uid;
      const existing = await ctx.platform.db.selectFrom('calendar_objects').select('name').where('collection_id', '=', coll.id).where('uid', '=', p.uid).executeTakeFirst();
      await calendarStore.put(ctx, coll, existing?.name ?? resourceName(p.uid, '.ics'), part, {}, accept);
      imported++;
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500) throw e;
      failed.push({ uid, code: e.code });
    }
  }
  return { imported, failed };
}
