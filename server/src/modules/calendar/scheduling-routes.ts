import { Type, type Static } from '@sinclair/typebox';
import ICAL from 'ical.js';
import { AppError } from '../../errors.js';
import type { App, Platform } from '../../platform/module.js';
import { requireUser, type Actor } from '../../platform/policy.js';
import { mergeCalendars } from './bundle.js';
import { calendarStore } from './calendars.js';
import { occurrences, parseIcal, propUtc } from './ical.js';
import { redactObject } from './privacy.js';
import { createResource, deleteResource, listResources, resourceView, updateResource } from './resources.js';
import {
  attendeeIn, normAddress, organizerOf, partstatOf, replyCommand, resolveAddress, resourceAddress, resourceBusyPeriods, userAddresses, userBusy,
} from './scheduling.js';
import { calendarOfToken, createPublicLink, revokePublicLink, sharedWith, shareCalendar, sharesOf, SHARED_PREFIX, revokeShare, updateShare } from './sharing.js';
import { type CollectionRow, type ObjectRow, type StoreContext } from './store.js';

/**
 * JSON routes of scheduling (attendees, replies, free/busy), sharing (shares, the public ICS address)
 * and resources. Thin: parse → authorize (the store and the policy) → a command → present.
 * Contract: docs/api.md ("Scheduling, attendees, free/busy, sharing, rooms and resources").
 */
const strict = { additionalProperties: false } as const;
const tags = ['calendar'];
const Id = Type.String({ maxLength: 64 });
const IdParams = Type.Object({ id: Id }, strict);
const ObjParams = Type.Object({ id: Id, objectId: Id }, strict);
const ObjectRef = Type.Object({ id: Type.String(), uid: Type.String(), etag: Type.String() });

const Attendee = Type.Object({
  address: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
  userId: Type.Union([Type.String(), Type.Null()]),
  resourceId: Type.Union([Type.String(), Type.Null()]),
  cutype: Type.String(),
  role: Type.String(),
  partstat: Type.String(),
  scheduleStatus: Type.Union([Type.String(), Type.Null()]),
  self: Type.Boolean(),
});
type AttendeeT = Static<typeof Attendee>;
const Role = Type.Optional(Type.Union([Type.Literal('REQ-PARTICIPANT'), Type.Literal('OPT-PARTICIPANT')]));
const AttendeeInput = Type.Union([
  Type.Object({ userId: Id, role: Role }, strict),
  Type.Object({ resourceId: Id, role: Role }, strict),
  Type.Object({ email: Type.String({ minLength: 3, maxLength: 320, pattern: '^[^\\s@<>"]+@[^\\s@<>"]+$' }), name: Type.Optional(Type.String({ maxLength: 200 })), role: Role }, strict),
]);
const Invitation = Type.Object({
  objectId: Type.String(), uid: Type.String(), recurrenceId: Type.Union([Type.String(), Type.Null()]),
  role: Type.String(), myPartstat: Type.Union([Type.String(), Type.Null()]), organizerName: Type.String(),
  attendees: Type.Integer(), accepted: Type.Integer(), declined: Type.Integer(),
});
const Busy = Type.Object({ start: Type.String(), end: Type.String(), type: Type.String() });
const FreeBusyEntry = Type.Object({ id: Type.String(), busy: Type.Array(Busy) });
const ShareView = Type.Object({ id: Type.String(), granteeType: Type.String(), granteeId: Type.String(), granteeName: Type.String(), permission: Type.String(), createdAt: Type.Number() });
const Permission = Type.Union([Type.Literal('read'), Type.Literal('write')]);
const SharedCalendar = Type.Object({
  id: Type.String(), slug: Type.String(), name: Type.String(), description: Type.String(), color: Type.String(), components: Type.Array(Type.String()),
  syncToken: Type.String(), davUrl: Type.String(), shared: Type.Literal(true), permission: Type.String(),
  owner: Type.Object({ id: Type.String(), login: Type.String(), displayName: Type.String() }),
});
const ResourceView = Type.Object({
  id: Type.String(), kind: Type.String(), name: Type.String(), description: Type.String(), location: Type.String(),
  capacity: Type.Union([Type.Integer(), Type.Null()]), email: Type.String(), calendarId: Type.String(),
});
const Kind = Type.Union([Type.Literal('room'), Type.Literal('vehicle'), Type.Literal('equipment')]);
const Capacity = Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 100_000 }), Type.Null()]));

const MAX_ATTENDEES = 200;
const MAX_FREEBUSY_IDS = 50;
const MAX_FREEBUSY_MS = 100 * 86_400_000;

function validation(path: string, message: string, reason?: string): AppError {
  return new AppError('validation_failed', { ...(reason ? { reason } : {}), fields: [{ path, message }] });
}

/** An occurrence id as the occurrences list gives it ("YYYY-MM-DD" or an ISO instant) → UTC ms. */
function parseRecurrenceId(v: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : /^\d{4}-\d{2}-\d{2}T/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(ms)) throw validation('/recurrenceId', 'a date YYYY-MM-DD or an ISO date-time');
  return ms;
}

const serialize = (vcal: ICAL.Component): string => vcal.toString().replace(/\r?\n/g, '\r\n') + '\r\n';
const compsOf = (vcal: ICAL.Component): ICAL.Component[] => vcal.getAllSubcomponents().filter((c) => c.name !== 'vtimezone');

async function attendeeView(platform: Platform, p: ICAL.Property, me: Set<string>): Promise<AttendeeT> {
  const address = String(p.getFirstValue() ?? '');
  const n = normAddress(address);
  const party = await resolveAddress(platform.db, address);
  const status = p.getParameter('schedule-status');
  return {
    address,
    email: n.startsWith('mailto:') ? n.slice(7) : party.kind === 'user' ? party.email : null,
    name: String(p.getParameter('cn') ?? (party.kind === 'user' || party.kind === 'resource' ? party.name : '')),
    userId: party.kind === 'user' ? party.id : null,
    resourceId: party.kind === 'resource' ? party.id : null,
    cutype: String(p.getParameter('cutype') ?? 'INDIVIDUAL').toUpperCase(),
    role: String(p.getParameter('role') ?? 'REQ-PARTICIPANT').toUpperCase(),
    partstat: partstatOf(p),
    scheduleStatus: status === undefined || status === null ? null : String(status),
    self: me.has(n),
  };
}

/** The calendar user address of a user: their e-mail, else their principal URL. */
async function userAddress(platform: Platform, userId: string): Promise<{ address: string; name: string } | null> {
  const u = await platform.db.selectFrom('users').select(['login', 'email', 'display_name', 'disabled']).where('id', '=', userId).executeTakeFirst();
  if (!u || Number(u.disabled) !== 0) return null;
  return { address: u.email ? `mailto:${u.email}` : `${platform.config.baseUrl}/dav/principals/${encodeURIComponent(u.login)}/`, name: u.display_name };
}

/**
 * The calendars shared with a user, as the calendar list shows them (`shared: true`, the permission, the
 * owner; `davUrl` is the mount in the user's own CalDAV home). GET /api/calendars may append these.
 */
export async function sharedCalendarViews(platform: Platform, userId: string, login: string): Promise<Array<Static<typeof SharedCalendar>>> {
  const list = await sharedWith(platform.db, userId);
  return list.map((s) => ({
    id: s.coll.id, slug: s.coll.slug, name: s.coll.display_name, description: s.coll.description, color: s.coll.color, components: s.coll.components.split(',').filter(Boolean),
    syncToken: `urn:bastide:sync:${s.coll.id}:${Number(s.coll.sync_seq)}`, davUrl: `/dav/calendars/${encodeURIComponent(login)}/${SHARED_PREFIX}${s.coll.id}/`,
    shared: true as const, permission: s.permission, owner: s.owner,
  }));
}

export async function schedulingRoutes(app: App, platform: Platform): Promise<void> {
  const ctxOf = (actor: Actor): StoreContext => ({ platform, actor });
  const load = async (actor: Actor, id: string, objectId?: string): Promise<{ ctx: StoreContext; coll: CollectionRow; obj: ObjectRow | null }> => {
    requireUser(actor);
    const ctx = ctxOf(actor);
    const coll = await calendarStore.byId(ctx, id);
    if (objectId === undefined) return { ctx, coll, obj: null };
    const obj = await calendarStore.objectById(platform.db, coll, objectId);
    if (!obj) throw new AppError('not_found');
    return { ctx, coll, obj };
  };
  const ownerAddrs = async (coll: CollectionRow): Promise<Set<string>> => (coll.owner_type === 'user' ? userAddresses(platform.db, coll.owner_id) : new Set<string>());

  // ---------------------------------------------------------------------------------- attendees

  app.get(
    '/calendars/:id/events/:objectId/attendees',
    {
      schema: {
        tags, summary: 'Organizer and attendees of an event (of one occurrence with recurrenceId), with their answers', params: ObjParams,
        querystring: Type.Object({ recurrenceId: Type.Optional(Type.String({ maxLength: 40 })) }, strict),
        response: { 200: Type.Object({ organizer: Type.Union([Attendee, Type.Null()]), attendees: Type.Array(Attendee), role: Type.String(), myPartstat: Type.Union([Type.String(), Type.Null()]) }) },
      },
    },
    async (req) => {
      const { coll, obj } = await load(req.actor, req.params.id, req.params.objectId);
      const comps = compsOf(parseIcal(obj!.data));
      const rid = req.query.recurrenceId !== undefined ? parseRecurrenceId(req.query.recurrenceId) : null;
      const master = comps.find((c) => !c.hasProperty('recurrence-id')) ?? comps[0]!;
      const comp = (rid !== null ? comps.find((c) => c.hasProperty('recurrence-id') && propUtc(c, 'recurrence-id') === rid) : undefined) ?? master;
      const me = await ownerAddrs(coll);
      const orgProp = comp.getFirstProperty('organizer') ?? master.getFirstProperty('organizer');
      const organizer = orgProp ? await attendeeView(platform, orgProp, me) : null;
      const attendees: AttendeeT[] = [];
      for (const p of comp.getAllProperties('attendee')) attendees.push(await attendeeView(platform, p, me));
      const org = organizerOf(comps);
      const mine = attendeeIn(comp, me);
      const role = org && me.has(org) ? 'organizer' : mine ? 'attendee' : 'none';
      return { organizer, attendees, role, myPartstat: mine ? partstatOf(mine) : null };
    },
  );

  app.put(
    '/calendars/:id/events/:objectId/attendees',
    {
      schema: {
        tags, summary: 'Set the attendees of an event (the caller organizes it); invitations, updates and cancellations are delivered', params: ObjParams,
        body: Type.Object({ attendees: Type.Array(AttendeeInput, { maxItems: MAX_ATTENDEES }), etag: Type.Optional(Type.String({ maxLength: 64 })) }, strict),
        response: { 200: Type.Object({ id: Type.String(), uid: Type.String(), etag: Type.String(), attendees: Type.Array(Attendee) }) },
      },
    },
    async (req) => {
      const { ctx, coll, obj } = await load(req.actor, req.params.id, req.params.objectId);
      if (coll.owner_type !== 'user') throw new AppError('forbidden', { reason: 'not_a_personal_calendar' });
      if (obj!.component !== 'VEVENT') throw new AppError('conflict', { reason: 'not an event' });
      const organizer = await userAddress(platform, coll.owner_id);
      if (!organizer) throw new AppError('not_found');
      const me = await ownerAddrs(coll);
      const vcal = parseIcal(obj!.data);
      const comps = compsOf(vcal);
      const org = organizerOf(comps);
      if (org && !me.has(org)) throw new AppError('not_organizer');
      // The new list, as properties (partstat kept for those already invited).
      const wanted: Array<{ address: string; cn: string; cutype: string; role: string }> = [];
      const seen = new Set<string>();
      for (const [i, a] of req.body.attendees.entries()) {
        let entry: { address: string; cn: string; cutype: string } | null = null;
        if ('userId' in a) {
          const u = await userAddress(platform, a.userId);
          if (!u) throw validation(`/attendees/${i}/userId`, 'an active user', 'unknown_user');
          entry = { address: u.address, cn: u.name, cutype: 'INDIVIDUAL' };
        } else if ('resourceId' in a) {
          const r = await platform.db.selectFrom('calendar_resources').selectAll().where('id', '=', a.resourceId).executeTakeFirst();
          if (!r) throw validation(`/attendees/${i}/resourceId`, 'a resource', 'unknown_resource');
          entry = { address: `mailto:${resourceAddress(platform, r.id)}`, cn: r.name, cutype: r.kind === 'room' ? 'ROOM' : 'RESOURCE' };
        } else {
          entry = { address: `mailto:${a.email.trim()}`, cn: a.name ?? '', cutype: 'INDIVIDUAL' };
        }
        const n = normAddress(entry.address);
        if (me.has(n) || seen.has(n)) continue;
        seen.add(n);
        wanted.push({ ...entry, role: a.role ?? 'REQ-PARTICIPANT' });
      }
      for (const c of comps) {
        const before = new Map(c.getAllProperties('attendee').map((p) => [normAddress(String(p.getFirstValue() ?? '')), p] as const));
        c.removeAllProperties('attendee');
        c.removeAllProperties('organizer');
        if (wanted.length === 0) continue;
        const op = new ICAL.Property('organizer', c);
        op.setValue(organizer.address);
        if (organizer.name) op.setParameter('cn', organizer.name);
        c.addProperty(op);
        for (const w of wanted) {
          const p = new ICAL.Property('attendee', c);
          p.setValue(w.address);
          if (w.cn) p.setParameter('cn', w.cn);
          p.setParameter('cutype', w.cutype);
          p.setParameter('role', w.role);
          p.setParameter('partstat', partstatOf(before.get(normAddress(w.address))));
          if (w.cutype === 'INDIVIDUAL') p.setParameter('rsvp', 'TRUE');
          c.addProperty(p);
        }
      }
      const etag = req.body.etag;
      const { row } = await calendarStore.put(ctx, coll, obj!.name, serialize(vcal), { ifMatch: etag !== undefined ? `"${etag}"` : `"${obj!.etag}"` });
      const stored = compsOf(parseIcal(row.data));
      const master = stored.find((c) => !c.hasProperty('recurrence-id')) ?? stored[0]!;
      const attendees: AttendeeT[] = [];
      for (const p of master.getAllProperties('attendee')) attendees.push(await attendeeView(platform, p, me));
      return { id: row.id, uid: row.uid, etag: row.etag, attendees };
    },
  );

  app.post(
    '/calendars/:id/events/:objectId/reply',
    {
      schema: {
        tags, summary: "An attendee's answer, for the series or one occurrence; the organizer's copy is updated", params: ObjParams,
        body: Type.Object({ partstat: Type.Union([Type.Literal('ACCEPTED'), Type.Literal('TENTATIVE'), Type.Literal('DECLINED')]), recurrenceId: Type.Optional(Type.String({ maxLength: 40 })) }, strict),
        response: { 200: ObjectRef },
      },
    },
    async (req) => {
      const { ctx, coll, obj } = await load(req.actor, req.params.id, req.params.objectId);
      if (coll.owner_type !== 'user') throw new AppError('not_an_attendee');
      const rid = req.body.recurrenceId !== undefined ? parseRecurrenceId(req.body.recurrenceId) : null;
      const row = await replyCommand(calendarStore, ctx, coll, obj!, req.body.partstat, rid);
      return { id: row.id, uid: row.uid, etag: row.etag };
    },
  );

  app.get(
    '/calendars/:id/invitations',
    {
      schema: {
        tags, summary: 'Scheduling state of the occurrences in [from, to) that have an organizer (one request per calendar view)', params: IdParams,
        querystring: Type.Object({ from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }) }, strict),
        response: { 200: Type.Object({ items: Type.Array(Invitation) }) },
      },
    },
    async (req) => {
      const { coll } = await load(req.actor, req.params.id);
      const from = Date.parse(req.query.from);
      const to = Date.parse(req.query.to);
      if (!(to > from)) throw validation('/to', 'after from', 'range');
      if (to - from > 400 * 86_400_000) throw validation('/to', 'at most 400 days after from', 'range');
      const me = await ownerAddrs(coll);
      const items: Array<Static<typeof Invitation>> = [];
      for (const o of await calendarStore.objects(platform.db, coll, { from, to })) {
        if (o.component !== 'VEVENT' || !/^ORGANIZER[;:]/im.test(o.data)) continue;
        let comps: ICAL.Component[];
        try {
          comps = compsOf(parseIcal(o.data));
        } catch {
          continue;
        }
        const org = organizerOf(comps);
        if (!org) continue;
        const recurring = o.recurring === 1;
        for (const oc of occurrences(comps, { from, to }).list) {
          const c = oc.component;
          const mine = attendeeIn(c, me);
          const orgProp = c.getFirstProperty('organizer');
          const all = c.getAllProperties('attendee');
          items.push({
            objectId: o.id, uid: o.uid,
            recurrenceId: oc.recurrenceId === null || !recurring ? null : oc.allDay ? new Date(oc.recurrenceId).toISOString().slice(0, 10) : new Date(oc.recurrenceId).toISOString(),
            role: me.has(org) ? 'organizer' : mine ? 'attendee' : 'none',
            myPartstat: mine ? partstatOf(mine) : null,
            organizerName: String(orgProp?.getParameter('cn') ?? String(orgProp?.getFirstValue() ?? '').replace(/^mailto:/i, '')),
            attendees: all.length,
            accepted: all.filter((p) => partstatOf(p) === 'ACCEPTED').length,
            declined: all.filter((p) => partstatOf(p) === 'DECLINED').length,
          });
        }
      }
      return { items };
    },
  );

  // ---------------------------------------------------------------------------------- free/busy

  app.get(
    '/calendars/freebusy',
    {
      schema: {
        tags, summary: 'Busy periods of people and resources (never details), for the attendee picker',
        querystring: Type.Object(
          { users: Type.Optional(Type.String({ maxLength: 2000 })), resources: Type.Optional(Type.String({ maxLength: 2000 })), from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }) },
          strict,
        ),
        response: { 200: Type.Object({ from: Type.String(), to: Type.String(), users: Type.Array(FreeBusyEntry), resources: Type.Array(FreeBusyEntry) }) },
      },
    },
    async (req) => {
      const me = requireUser(req.actor);
      await platform.policy.authorize(req.actor, 'read-directory', { type: 'user', id: me.userId });
      const from = Date.parse(req.query.from);
      const to = Date.parse(req.query.to);
      if (!(to > from)) throw validation('/to', 'after from', 'range');
      if (to - from > MAX_FREEBUSY_MS) throw validation('/to', 'at most 100 days after from', 'range');
      const split = (v: string | undefined): string[] => [...new Set((v ?? '').split(',').map((s) => s.trim()).filter(Boolean))];
      const userIds = split(req.query.users);
      const resourceIds = split(req.query.resources);
      if (userIds.length + resourceIds.length > MAX_FREEBUSY_IDS) throw validation('/users', `at most ${MAX_FREEBUSY_IDS} ids in all`);
      const iso = (ms: number): string => new Date(ms).toISOString();
      const users: Array<Static<typeof FreeBusyEntry>> = [];
      for (const id of userIds) {
        const u = await platform.db.selectFrom('users').select(['id', 'disabled']).where('id', '=', id).executeTakeFirst();
        if (!u || Number(u.disabled) !== 0) throw validation('/users', `unknown user ${id.slice(0, 64)}`, 'unknown_user');
        users.push({ id, busy: (await userBusy(platform, id, from, to)).map((p) => ({ start: iso(p.start), end: iso(p.end), type: p.type })) });
      }
      const resources: Array<Static<typeof FreeBusyEntry>> = [];
      for (const id of resourceIds) {
        const r = await platform.db.selectFrom('calendar_resources').select(['id', 'collection_id']).where('id', '=', id).executeTakeFirst();
        if (!r) throw validation('/resources', `unknown resource ${id.slice(0, 64)}`, 'unknown_resource');
        resources.push({ id, busy: (await resourceBusyPeriods(calendarStore, platform, r.collection_id, from, to)).map((p) => ({ start: iso(p.start), end: iso(p.end), type: p.type })) });
      }
      return { from: iso(from), to: iso(to), users, resources };
    },
  );

  // ------------------------------------------------------------------------------------ sharing

  app.get('/calendars/shared', { schema: { tags, summary: 'Calendars others shared with me', response: { 200: Type.Object({ calendars: Type.Array(SharedCalendar) }) } } }, async (req) => {
    const me = requireUser(req.actor);
    return { calendars: await sharedCalendarViews(platform, me.userId, me.login) };
  });

  app.get(
    '/calendars/:id/shares',
    { schema: { tags, summary: 'Shares and public link of my calendar', params: IdParams, response: { 200: Type.Object({ shares: Type.Array(ShareView), publicLink: Type.Union([Type.Object({ createdAt: Type.Number() }), Type.Null()]) }) } } },
    async (req) => {
      requireUser(req.actor);
      return sharesOf(calendarStore, ctxOf(req.actor), req.params.id);
    },
  );

  app.post(
    '/calendars/:id/shares',
    {
      schema: {
        tags, summary: 'Share my calendar with a user or a group (an existing share gets the new permission)', params: IdParams,
        body: Type.Object({ granteeType: Type.Union([Type.Literal('user'), Type.Literal('group')]), granteeId: Id, permission: Permission }, strict),
        response: { 200: ShareView, 201: ShareView },
      },
    },
    async (req, reply) => {
      requireUser(req.actor);
      const { share, created } = await shareCalendar(calendarStore, ctxOf(req.actor), req.params.id, { type: req.body.granteeType, id: req.body.granteeId }, req.body.permission);
      const list = await sharesOf(calendarStore, ctxOf(req.actor), req.params.id);
      return reply.status(created ? 201 : 200).send(list.shares.find((s) => s.id === share.id)!);
    },
  );

  app.patch(
    '/calendars/:id/shares/:shareId',
    { schema: { tags, summary: 'Change the permission of a share', params: Type.Object({ id: Id, shareId: Id }, strict), body: Type.Object({ permission: Permission }, strict), response: { 200: ShareView } } },
    async (req) => {
      requireUser(req.actor);
      await updateShare(calendarStore, ctxOf(req.actor), req.params.id, req.params.shareId, req.body.permission);
      const list = await sharesOf(calendarStore, ctxOf(req.actor), req.params.id);
      return list.shares.find((s) => s.id === req.params.shareId)!;
    },
  );

  app.delete('/calendars/:id/shares/:shareId', { schema: { tags, summary: 'Revoke a share', params: Type.Object({ id: Id, shareId: Id }, strict) } }, async (req, reply) => {
    requireUser(req.actor);
    await revokeShare(calendarStore, ctxOf(req.actor), req.params.id, req.params.shareId);
    return reply.status(204).send();
  });

  app.post(
    '/calendars/:id/public-link',
    { schema: { tags, summary: 'Create the secret read-only ICS address of my calendar (revokes the previous one)', params: IdParams, response: { 201: Type.Object({ url: Type.String(), createdAt: Type.Number() }) } } },
    async (req, reply) => {
      requireUser(req.actor);
      const { token, createdAt } = await createPublicLink(calendarStore, ctxOf(req.actor), req.params.id);
      return reply.status(201).send({ url: `${platform.config.baseUrl}/api/public/calendars/${token}.ics`, createdAt });
    },
  );

  app.delete('/calendars/:id/public-link', { schema: { tags, summary: 'Revoke the public ICS address', params: IdParams } }, async (req, reply) => {
    requireUser(req.actor);
    await revokePublicLink(calendarStore, ctxOf(req.actor), req.params.id);
    return reply.status(204).send();
  });

  app.get('/public/calendars/:token', { schema: { tags, summary: 'A published calendar (no authentication); private items as busy time', params: Type.Object({ token: Type.String({ maxLength: 80 }) }, strict) } }, async (req, reply) => {
    const coll = await calendarOfToken(platform.db, req.params.token.replace(/\.ics$/, ''));
    if (!coll) throw new AppError('not_found');
    const objects = await platform.db.selectFrom('calendar_objects').selectAll().where('collection_id', '=', coll.id).orderBy('name').execute();
    return reply
      .type('text/calendar; charset=utf-8')
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'private, max-age=60')
      .header('content-disposition', 'inline; filename="calendar.ics"')
      .send(mergeCalendars(objects.map((o) => redactObject(o, 'read').data), coll.display_name));
  });

  // ---------------------------------------------------------------------------------- resources

  app.get('/calendars/resources', { schema: { tags, summary: 'Rooms, vehicles and equipment to book', response: { 200: Type.Object({ resources: Type.Array(ResourceView) }) } } }, async (req) => {
    requireUser(req.actor);
    return { resources: (await listResources(platform, req.actor)).map((r) => resourceView(platform, r)) };
  });

  app.post(
    '/calendars/resources',
    {
      schema: {
        tags, summary: 'Create a resource (administrators)',
        body: Type.Object({ kind: Kind, name: Type.String({ minLength: 1, maxLength: 200 }), description: Type.Optional(Type.String({ maxLength: 5000 })), location: Type.Optional(Type.String({ maxLength: 500 })), capacity: Capacity }, strict),
        response: { 201: ResourceView },
      },
    },
    async (req, reply) => {
      requireUser(req.actor);
      const b = req.body;
      const r = await createResource(platform, req.actor, { kind: b.kind, name: b.name, description: b.description, location: b.location, capacity: b.capacity });
      return reply.status(201).send(resourceView(platform, r));
    },
  );

  app.patch(
    '/calendars/resources/:resourceId',
    {
      schema: {
        tags, summary: 'Edit a resource (administrators)', params: Type.Object({ resourceId: Id }, strict),
        body: Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), description: Type.Optional(Type.String({ maxLength: 5000 })), location: Type.Optional(Type.String({ maxLength: 500 })), capacity: Capacity }, strict),
        response: { 200: ResourceView },
      },
    },
    async (req) => {
      requireUser(req.actor);
      const b = req.body;
      return resourceView(platform, await updateResource(platform, req.actor, req.params.resourceId, { name: b.name, description: b.description, location: b.location, capacity: b.capacity }));
    },
  );

  app.delete('/calendars/resources/:resourceId', { schema: { tags, summary: 'Delete a resource and its bookings (administrators)', params: Type.Object({ resourceId: Id }, strict) } }, async (req, reply) => {
    requireUser(req.actor);
    await deleteResource(platform, req.actor, req.params.resourceId);
    return reply.status(204).send();
  });
}
