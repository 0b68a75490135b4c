import { randomUUID } from 'node:crypto';
import ICAL from 'ical.js';
import { AppError } from '../../errors.js';
import type { DbOrTx } from '../../platform/db/index.js';
import type { Platform } from '../../platform/module.js';
import { resourceName } from './bundle.js';
import { busyPeriods, icalUtc, occurrences, parseIcal, propUtc, type BusyPeriod } from './ical.js';
import type { CollectionRow, CollectionStore, ObjectRow, ParsedObject, StoreContext, StoreHooks } from './store.js';

/**
 * Implicit scheduling between Bastide users (RFC 6638 §3.2), run by the store around every write of a
 * calendar object, whichever path wrote it (JSON API, CalDAV PUT/DELETE):
 *
 * - The organizer's write (the calendar's owner is the ORGANIZER): before it is stored, each ATTENDEE
 *   gets a SCHEDULE-STATUS (1.2 delivered, 3.7 unknown Bastide address, 5.1 external: not delivered), a
 *   resource answers at once (ACCEPTED when free, DECLINED on a conflict), and each Bastide attendee's
 *   PARTSTAT is taken from their own copy (their answer is the truth) unless the date, time or
 *   recurrence of that occurrence changed (then NEEDS-ACTION). After the commit, every attendee's copy
 *   is written (the calendar already holding the UID, else their default calendar; their own alarms
 *   kept) and they are notified; removed attendees and a deleted or cancelled event leave their copy
 *   STATUS:CANCELLED; a resource's calendar holds the booking only while it is accepted.
 * - An attendee's write (the owner is an ATTENDEE, the organizer a Bastide user): a change of their own
 *   PARTSTAT — for the series or one occurrence — is written into the organizer's copy (an override is
 *   added for a single occurrence), which then goes back out to the other attendees. Deleting one's copy
 *   declines.
 *
 * Copies are written by the system actor with `schedule: false` (no scheduling loops). Delivery happens
 * after the organizer's commit, in the same request: a crash in between leaves the copies as they were
 * (the next write of the event delivers again). External attendees go through the `deliverExternal` hook
 * (iMIP, `setDeliverExternal`), which the mail module sets when it exists; until then their SCHEDULE-STATUS says 5.1.
 */

// ------------------------------------------------------------------------------------- addresses

/** A calendar user address in a comparable form: "mailto:x@y" lowercased, or a principal path. */
export function normAddress(a: string): string {
  const t = a.trim();
  if (/^mailto:/i.test(t)) return `mailto:${t.slice(7).trim().toLowerCase()}`;
  let path = t;
  if (/^https?:\/\//i.test(t)) {
    try {
      path = new URL(t).pathname;
    } catch {
      return t.toLowerCase();
    }
  }
  if (path.startsWith('/dav/principals/')) {
    let p = path.toLowerCase();
    try {
      p = decodeURIComponent(p);
    } catch {
      /* kept as is */
    }
    return p.endsWith('/') ? p : `${p}/`;
  }
  return t.toLowerCase();
}

/** The address of a resource (a room is invited with it, from any client). */
export function resourceAddress(platform: Platform, id: string): string {
  let host = 'localhost';
  try {
    host = new URL(platform.config.baseUrl).hostname;
  } catch {
    /* default */
  }
  return `resource-${id.toLowerCase()}@${host}`;
}

export type Party =
  | { kind: 'user'; id: string; login: string; email: string | null; name: string }
  | { kind: 'resource'; id: string; collectionId: string; name: string }
  | { kind: 'unknown' }
  | { kind: 'external'; address: string };

/** Who an address designates: a Bastide user, a resource, an unknown Bastide principal or someone outside. */
export async function resolveAddress(db: DbOrTx, address: string): Promise<Party> {
  const n = normAddress(address);
  const res = /^mailto:resource-([0-9a-z]{26})@/.exec(n);
  if (res) {
    const r = await db.selectFrom('calendar_resources').select(['id', 'collection_id', 'name']).where('id', '=', res[1]!.toUpperCase()).executeTakeFirst();
    return r ? { kind: 'resource', id: r.id, collectionId: r.collection_id, name: r.name } : { kind: 'unknown' };
  }
  if (n.startsWith('mailto:')) {
    const email = n.slice(7);
    if (email === '' || email.length > 320) return { kind: 'unknown' };
    const u = await db.selectFrom('users').select(['id', 'login', 'email', 'display_name', 'disabled']).where((eb) => eb(eb.fn('lower', ['email']), '=', email)).executeTakeFirst();
    if (u && Number(u.disabled) === 0) return { kind: 'user', id: u.id, login: u.login, email: u.email, name: u.display_name };
    return u ? { kind: 'unknown' } : { kind: 'external', address: email };
  }
  const p = /^\/dav\/principals\/([^/]+)\/$/.exec(n);
  if (p) {
    const u = await db.selectFrom('users').select(['id', 'login', 'email', 'display_name', 'disabled']).where('login', '=', p[1]!).executeTakeFirst();
    if (u && Number(u.disabled) === 0) return { kind: 'user', id: u.id, login: u.login, email: u.email, name: u.display_name };
  }
  return { kind: 'unknown' };
}

/** Every address of a user (their e-mail and principal), normalized. */
export async function userAddresses(db: DbOrTx, userId: string): Promise<Set<string>> {
  const u = await db.selectFrom('users').select(['login', 'email']).where('id', '=', userId).executeTakeFirst();
  const out = new Set<string>();
  if (!u) return out;
  if (u.email) out.add(`mailto:${u.email.toLowerCase()}`);
  out.add(`/dav/principals/${u.login.toLowerCase()}/`);
  return out;
}

/** The addresses of the owner of a calendar (a user, or a resource). */
async function ownerAddresses(platform: Platform, coll: CollectionRow): Promise<Set<string>> {
  if (coll.owner_type === 'resource') return new Set([`mailto:${resourceAddress(platform, coll.owner_id)}`]);
  if (coll.owner_type !== 'user') return new Set();
  return userAddresses(platform.db, coll.owner_id);
}

// --------------------------------------------------------------------------------- iCalendar bits

const serialize = (vcal: ICAL.Component): string => vcal.toString().replace(/\r?\n/g, '\r\n') + '\r\n';
const compsOf = (vcal: ICAL.Component): ICAL.Component[] => vcal.getAllSubcomponents().filter((c) => c.name !== 'vtimezone');
const ridOf = (c: ICAL.Component): number | null => (c.hasProperty('recurrence-id') ? propUtc(c, 'recurrence-id') : null);
const masterOf = (comps: ICAL.Component[]): ICAL.Component | undefined => comps.find((c) => !c.hasProperty('recurrence-id')) ?? comps[0];
const addressOf = (p: ICAL.Property): string => normAddress(String(p.getFirstValue() ?? ''));
export const partstatOf = (p: ICAL.Property | undefined): string => String(p?.getParameter('partstat') ?? 'NEEDS-ACTION').toUpperCase();

function parseSafe(text: string): ICAL.Component | null {
  try {
    return parseIcal(text);
  } catch {
    return null;
  }
}

export function organizerOf(comps: ICAL.Component[]): string | null {
  const m = masterOf(comps);
  const v = m?.getFirstPropertyValue('organizer');
  return typeof v === 'string' && v.trim() !== '' ? normAddress(v) : null;
}

/** The ATTENDEE of `c` among `addrs`. */
export function attendeeIn(c: ICAL.Component, addrs: Set<string>): ICAL.Property | undefined {
  return c.getAllProperties('attendee').find((p) => addrs.has(addressOf(p)));
}

/** Scheduled by the server (SCHEDULE-AGENT absent or SERVER, RFC 6638 §7.1). */
const serverScheduled = (p: ICAL.Property): boolean => {
  const a = p.getParameter('schedule-agent');
  return a === undefined || a === null || String(a).toUpperCase() === 'SERVER';
};

/** Attendees of every component other than the owner, by normalized address (server-scheduled only). */
function attendeeSet(comps: ICAL.Component[], owner: Set<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of comps) {
    for (const p of c.getAllProperties('attendee')) {
      const a = addressOf(p);
      if (a === '' || owner.has(a) || !serverScheduled(p)) continue;
      if (!out.has(a)) out.set(a, String(p.getFirstValue()));
    }
  }
  return out;
}

/** A user's PARTSTAT for one occurrence (the override for it, else the series). */
function partstatFor(comps: ICAL.Component[], addrs: Set<string>, rid: number | null): string | null {
  const c = comps.find((x) => ridOf(x) === rid) ?? masterOf(comps);
  if (!c) return null;
  const p = attendeeIn(c, addrs);
  return p ? partstatOf(p) : null;
}

const HAS_ORGANIZER = /^ORGANIZER[;:]/im;
const TIME_PROPS = ['dtstart', 'dtend', 'duration', 'due', 'rrule', 'rdate', 'exdate'];
const timeKey = (c: ICAL.Component): string => TIME_PROPS.map((n) => c.getAllProperties(n).map((p) => p.toICALString()).sort().join('|')).join('#');

function lengthOf(c: ICAL.Component): number {
  const s = propUtc(c, 'dtstart');
  if (s === null) return 0;
  const e = propUtc(c, 'dtend');
  if (e !== null) return e - s;
  const d = c.getFirstPropertyValue('duration');
  return d instanceof ICAL.Duration ? d.toSeconds() * 1000 : 0;
}

/** Did the date, time or recurrence of this component's occurrence(s) change since `old`? */
function significant(old: ICAL.Component[] | null, c: ICAL.Component, comps: ICAL.Component[]): boolean {
  if (!old) return true;
  const rid = ridOf(c);
  const prev = old.find((o) => ridOf(o) === rid);
  if (prev) return timeKey(prev) !== timeKey(c);
  if (rid === null) return true;
  // A new override (e.g. written by a reply): significant only when it moves its occurrence.
  const master = masterOf(comps);
  return propUtc(c, 'dtstart') !== rid || (master !== undefined && lengthOf(master) !== lengthOf(c));
}

/** An override of the series for the occurrence at `rid` (UTC, or a date for all-day series). */
export function addOverride(vcal: ICAL.Component, rid: number): ICAL.Component {
  const comps = compsOf(vcal);
  const master = masterOf(comps);
  if (!master) throw new AppError('conflict', { reason: 'no master component' });
  const allDay = (master.getFirstPropertyValue('dtstart') as ICAL.Time | null)?.isDate === true;
  const at = (ms: number): ICAL.Time => {
    if (!allDay) return icalUtc(ms);
    const d = new Date(ms);
    return ICAL.Time.fromData({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), isDate: true });
  };
  const o = new ICAL.Component(JSON.parse(JSON.stringify(master.toJSON())) as unknown[]);
  for (const n of ['rrule', 'rdate', 'exdate', 'exrule', 'recurrence-id', 'dtstart', 'dtend', 'duration']) o.removeAllProperties(n);
  o.addPropertyWithValue('recurrence-id', at(rid));
  o.addPropertyWithValue('dtstart', at(rid));
  const len = lengthOf(master);
  if (len > 0) o.addPropertyWithValue('dtend', at(rid + len));
  vcal.addSubcomponent(o);
  return o;
}

/** Is `rid` (UTC ms) an occurrence of the series? */
export function isOccurrence(comps: ICAL.Component[], rid: number): boolean {
  if (comps.some((c) => ridOf(c) === rid)) return true;
  return occurrences(comps, { from: rid - 1, to: rid + 1 }).list.some((o) => o.recurrenceId === rid);
}

/** The attendee's copy: the organizer's object without SCHEDULE-STATUS, with the attendee's own alarms. */
function copyText(organizerVcal: ICAL.Component, previous: ICAL.Component | null): string {
  const vcal = new ICAL.Component(JSON.parse(JSON.stringify(organizerVcal.toJSON())) as unknown[]);
  const prevComps = previous ? compsOf(previous) : [];
  for (const c of compsOf(vcal)) {
    for (const p of [...c.getAllProperties('attendee'), ...c.getAllProperties('organizer')]) {
      p.removeParameter('schedule-status');
      p.removeParameter('schedule-force-send');
    }
    for (const a of c.getAllSubcomponents('valarm')) c.removeSubcomponent(a);
    const mine = prevComps.find((x) => ridOf(x) === ridOf(c));
    for (const a of mine?.getAllSubcomponents('valarm') ?? []) c.addSubcomponent(new ICAL.Component(JSON.parse(JSON.stringify(a.toJSON())) as unknown[]));
  }
  return serialize(vcal);
}

// ------------------------------------------------------------------------------- stored copies

const SYSTEM = { kind: 'system' } as const;
const systemCtx = (platform: Platform, extra: Partial<StoreContext> = {}): StoreContext => ({ platform, actor: SYSTEM, schedule: false, ...extra });

/**
 * The object with this UID in one of a user's (or a resource's) calendars, with its calendar. `foreign`:
 * it is not organized by `organizer` — someone else's event that merely shares the UID, which scheduling
 * must never overwrite, cancel or delete (a UID is not a secret).
 */
async function copyOf(db: DbOrTx, ownerType: 'user' | 'resource', ownerId: string, uid: string, organizer?: string): Promise<{ coll: CollectionRow; obj: ObjectRow; foreign: boolean } | null> {
  const row = await db
    .selectFrom('calendar_objects as o')
    .innerJoin('calendar_collections as c', 'c.id', 'o.collection_id')
    .selectAll('o')
    .select(['c.id as c_id'])
    .where('c.owner_type', '=', ownerType)
    .where('c.owner_id', '=', ownerId)
    .where('o.uid', '=', uid)
    .orderBy('o.created_at')
    .executeTakeFirst();
  if (!row) return null;
  const coll = await db.selectFrom('calendar_collections').selectAll().where('id', '=', row.c_id).executeTakeFirstOrThrow();
  const { c_id: _c, ...obj } = row;
  let foreign = false;
  if (organizer !== undefined) {
    const v = parseSafe(obj.data);
    foreign = !v || organizerOf(compsOf(v)) !== organizer;
  }
  return { coll, obj, foreign };
}

/** Where a new invitation lands: the user's "default" calendar, else their first calendar of events. */
async function inboxCalendar(store: CollectionStore, platform: Platform, userId: string, component: string): Promise<CollectionRow | null> {
  const list = await store.list(systemCtx(platform), { type: 'user', id: userId });
  const accepts = (c: CollectionRow): boolean => c.components.split(',').includes(component);
  return list.find((c) => c.slug === 'default' && accepts(c)) ?? list.find(accepts) ?? null;
}

async function freeName(store: CollectionStore, db: DbOrTx, coll: CollectionRow, uid: string): Promise<string> {
  const name = resourceName(uid, '.ics');
  const there = await store.rawObject(db, coll.id, name);
  return there && there.uid !== uid ? `${randomUUID()}.ics` : name;
}

export type Notice = 'invited' | 'updated' | 'cancelled' | 'replied';

async function notify(platform: Platform, userId: string, data: { collectionId: string; objectId: string; method: 'REQUEST' | 'CANCEL' | 'REPLY'; kind: Notice; byUserId: string | null; partstat?: string }): Promise<void> {
  await platform.transaction(async (_trx, emit) => {
    await emit('calendar.scheduling.delivered', { userId, ...data }, [userId]);
  });
}

/** iMIP for attendees outside Bastide: set by the mail module; returns the SCHEDULE-STATUS to record. */
export interface ExternalMessage {
  method: 'REQUEST' | 'CANCEL' | 'REPLY';
  /** The organizer (REQUEST, CANCEL) or the replying attendee (REPLY), "mailto:…". */
  from: string;
  to: string[];
  /** The iCalendar text to send, with its METHOD. */
  ics: string;
}
let externalHandler: ((platform: Platform, msg: ExternalMessage) => Promise<void>) | null = null;

/**
 * The `deliverExternal` hook: the mail module registers the sender of iMIP messages (RFC 6047) here.
 * It is called after the organizer's (or attendee's) write, once per write, with every external
 * recipient; it should queue a durable job and return. Until one is registered, external attendees'
 * SCHEDULE-STATUS says 5.1 (not delivered).
 */
export function setDeliverExternal(handler: ((platform: Platform, msg: ExternalMessage) => Promise<void>) | null): void {
  externalHandler = handler;
}

function withMethod(vcal: ICAL.Component, method: string): string {
  const v = new ICAL.Component(JSON.parse(JSON.stringify(vcal.toJSON())) as unknown[]);
  v.removeAllProperties('method');
  v.addPropertyWithValue('method', method);
  return serialize(v);
}

// ------------------------------------------------------------------------------------ resources

/** Busy periods of a resource's calendar in [from, to), other than the booking `uid` of `organizer`. */
async function resourceBusy(store: CollectionStore, db: DbOrTx, collectionId: string, from: number, to: number, uid: string, organizer: string | null): Promise<BusyPeriod[]> {
  const coll = await db.selectFrom('calendar_collections').selectAll().where('id', '=', collectionId).executeTakeFirst();
  if (!coll) return [];
  const out: BusyPeriod[] = [];
  for (const o of await store.objects(db, coll, { from, to })) {
    const v = parseSafe(o.data);
    if (!v) continue;
    if (o.uid === uid && organizerOf(compsOf(v)) === organizer) continue;
    out.push(...busyPeriods(compsOf(v), from, to));
  }
  return out;
}

/** Horizon of the conflict check of a recurring booking. */
const BOOKING_HORIZON = 2 * 366 * 86_400_000;

/** Is the resource free for every occurrence of the event (within two years of its start)? */
async function resourceFree(store: CollectionStore, db: DbOrTx, collectionId: string, comps: ICAL.Component[], uid: string, organizer: string, range: { start: number; end: number }): Promise<boolean> {
  const from = range.start;
  const to = Math.min(range.end, range.start + BOOKING_HORIZON);
  if (!(to > from)) return true;
  const mine = busyPeriods(comps, from, to);
  if (mine.length === 0) return true;
  const theirs = await resourceBusy(store, db, collectionId, from, to, uid, organizer);
  return !mine.some((a) => theirs.some((b) => a.start < b.end && b.start < a.end));
}

// ----------------------------------------------------------------------------------------- hooks

function asCalendar(parsed: ParsedObject): { vcal: ICAL.Component; comps: ICAL.Component[] } | null {
  const p = parsed as ParsedObject & { vcal?: ICAL.Component; comps?: ICAL.Component[] };
  return p.vcal && p.comps ? { vcal: p.vcal, comps: p.comps } : null;
}

async function beforePut(ctx: StoreContext, store: CollectionStore, coll: CollectionRow, parsed: ParsedObject, loadExisting: () => Promise<ObjectRow | null>): Promise<string | undefined> {
  if (coll.owner_type !== 'user' || !HAS_ORGANIZER.test(parsed.text)) return undefined;
  const cal = asCalendar(parsed);
  if (!cal) return undefined;
  const { vcal, comps } = cal;
  const org = organizerOf(comps);
  if (!org) return undefined;
  const { platform } = ctx;
  const owner = await ownerAddresses(platform, coll);
  if (!owner.has(org)) return undefined;
  const wanted = attendeeSet(comps, owner);
  if (wanted.size === 0) return undefined;
  const existing = await loadExisting();
  const old = existing ? parseSafe(existing.data) : null;
  const oldComps = old ? compsOf(old) : null;
  const parties = new Map<string, Party>();
  const copies = new Map<string, ICAL.Component[] | null>();
  const resourceAnswer = new Map<string, 'ACCEPTED' | 'DECLINED'>();
  const refused = new Set<string>();
  const cancelled = String(masterOf(comps)?.getFirstPropertyValue('status') ?? '').toUpperCase() === 'CANCELLED';
  for (const a of wanted.keys()) {
    const party = await resolveAddress(platform.db, a);
    parties.set(a, party);
    if (party.kind === 'user') {
      const c = party.id === coll.owner_id ? null : await copyOf(platform.db, 'user', party.id, parsed.uid, org);
      if (c?.foreign) refused.add(a);
      const v = c && !c.foreign ? parseSafe(c.obj.data) : null;
      copies.set(a, v ? compsOf(v) : null);
    } else if (party.kind === 'resource' && !cancelled) {
      const free = await resourceFree(store, platform.db, party.collectionId, comps, parsed.uid, org, { start: parsed.rangeStart, end: parsed.rangeEnd });
      resourceAnswer.set(a, free ? 'ACCEPTED' : 'DECLINED');
    }
  }
  for (const c of comps) {
    const rid = ridOf(c);
    const moved = significant(oldComps, c, comps);
    for (const p of c.getAllProperties('attendee')) {
      const a = addressOf(p);
      if (owner.has(a) || !serverScheduled(p)) continue;
      p.removeParameter('schedule-force-send');
      const party = parties.get(a);
      if (!party) continue;
      switch (party.kind) {
        case 'external':
          p.setParameter('schedule-status', externalHandler ? '1.1' : '5.1');
          break;
        case 'unknown':
          p.setParameter('schedule-status', '3.7');
          break;
        case 'resource': {
          const answer = resourceAnswer.get(a);
          if (answer) p.setParameter('partstat', answer);
          if (!p.getParameter('cutype')) p.setParameter('cutype', 'ROOM');
          p.setParameter('schedule-status', '1.2');
          break;
        }
        case 'user': {
          if (refused.has(a)) {
            // The attendee already has another organizer's event with this UID: not delivered.
            p.setParameter('schedule-status', '5.3');
            break;
          }
          p.setParameter('schedule-status', '1.2');
          const theirs = copies.get(a);
          const addrs = new Set([a]);
          const answer = moved ? 'NEEDS-ACTION' : theirs ? partstatFor(theirs, addrs, rid) : null;
          if (answer) p.setParameter('partstat', answer);
          else if (!p.getParameter('partstat')) p.setParameter('partstat', 'NEEDS-ACTION');
          break;
        }
      }
    }
  }
  return serialize(vcal);
}

async function afterPut(ctx: StoreContext, store: CollectionStore, coll: CollectionRow, before: ObjectRow | null, after: ObjectRow): Promise<void> {
  if (coll.owner_type !== 'user') return;
  await schedule(ctx, store, coll, before, after);
}

async function afterDelete(ctx: StoreContext, store: CollectionStore, coll: CollectionRow, before: ObjectRow): Promise<void> {
  if (coll.owner_type !== 'user') return;
  await schedule(ctx, store, coll, before, null);
}

/** Delivery after a write (`after` null: deleted). Failures are logged, never undo the write. */
async function schedule(ctx: StoreContext, store: CollectionStore, coll: CollectionRow, before: ObjectRow | null, after: ObjectRow | null): Promise<void> {
  const { platform } = ctx;
  // Most objects have no ORGANIZER: nothing to schedule, nothing to parse again.
  if (!HAS_ORGANIZER.test(after?.data ?? '') && !HAS_ORGANIZER.test(before?.data ?? '')) return;
  try {
    const prev = before ? parseSafe(before.data) : null;
    const next = after ? parseSafe(after.data) : null;
    const prevComps = prev ? compsOf(prev) : [];
    const nextComps = next ? compsOf(next) : [];
    if (prevComps.length === 0 && nextComps.length === 0) return;
    const component = (nextComps[0] ?? prevComps[0])!.name.toUpperCase();
    const owner = await ownerAddresses(platform, coll);
    const orgNow = organizerOf(nextComps);
    const orgBefore = organizerOf(prevComps);
    if ((orgNow && owner.has(orgNow)) || (!orgNow && orgBefore && owner.has(orgBefore))) {
      await deliverAsOrganizer(ctx, store, coll, component, owner, prev, next, after);
    } else if (orgNow ?? orgBefore) {
      await replyAsAttendee(ctx, store, coll, owner, (orgNow ?? orgBefore)!, prevComps, next, (after ?? before)!.uid);
    }
  } catch (e) {
    platform.log.error({ err: e, collection: coll.id }, 'calendar scheduling failed');
  }
}

async function deliverAsOrganizer(
  ctx: StoreContext,
  store: CollectionStore,
  coll: CollectionRow,
  component: string,
  owner: Set<string>,
  prev: ICAL.Component | null,
  next: ICAL.Component | null,
  after: ObjectRow | null,
): Promise<void> {
  const { platform } = ctx;
  const db = platform.db;
  const prevComps = prev ? compsOf(prev) : [];
  const nextComps = next ? compsOf(next) : [];
  const uid = String(masterOf(nextComps.length ? nextComps : prevComps)?.getFirstPropertyValue('uid') ?? '');
  if (!uid) return;
  const was = attendeeSet(prevComps, owner);
  const now = next ? attendeeSet(nextComps, owner) : new Map<string, string>();
  const cancelled = !next || String(masterOf(nextComps)?.getFirstPropertyValue('status') ?? '').toUpperCase() === 'CANCELLED';
  const moved = !prev || nextComps.some((c) => significant(prevComps, c, nextComps));
  const by = coll.owner_id;
  const orgAddress = organizerOf(nextComps) ?? organizerOf(prevComps) ?? '';
  const external: string[] = [];
  let lost = false;
  for (const a of now.keys()) {
    const party = await resolveAddress(db, a);
    if (party.kind === 'external') external.push(party.address);
    if (party.kind === 'user') {
      if (party.id === coll.owner_id || party.id === ctx.replyFrom) continue;
      const copy = await copyOf(db, 'user', party.id, uid, orgAddress);
      if (copy?.foreign) continue;
      const prevCopy = copy ? parseSafe(copy.obj.data) : null;
      const wasCancelled = prevCopy ? String(masterOf(compsOf(prevCopy))?.getFirstPropertyValue('status') ?? '').toUpperCase() === 'CANCELLED' : false;
      const target = copy?.coll ?? (await inboxCalendar(store, platform, party.id, component));
      if (!target) continue;
      const name = copy?.obj.name ?? (await freeName(store, db, target, uid));
      const { row } = await store.put(systemCtx(platform), target, name, copyText(next!, prevCopy));
      const kind: Notice | null = !copy || (wasCancelled && !cancelled) ? 'invited' : cancelled && !wasCancelled ? 'cancelled' : moved && !cancelled ? 'updated' : null;
      if (kind) await notify(platform, party.id, { collectionId: target.id, objectId: row.id, method: kind === 'cancelled' ? 'CANCEL' : 'REQUEST', kind, byUserId: by });
    } else if (party.kind === 'resource') {
      const master = masterOf(nextComps);
      const p = master ? attendeeIn(master, new Set([a])) : undefined;
      const booked = !cancelled && partstatOf(p) === 'ACCEPTED';
      const kept = await setBooking(store, platform, party, uid, orgAddress, booked ? next : null, after ? { start: Number(after.range_start), end: Number(after.range_end) } : undefined);
      if (!kept) lost = true;
    }
  }
  for (const a of was.keys()) {
    if (now.has(a)) continue;
    const party = await resolveAddress(db, a);
    if (party.kind === 'external') {
      await sendExternal(platform, { method: 'CANCEL', from: orgAddress, to: [party.address], ics: withMethod(cancelledCopy(prev!), 'CANCEL') });
    } else if (party.kind === 'user') await cancelCopy(store, platform, party.id, uid, orgAddress, by);
    else if (party.kind === 'resource') await setBooking(store, platform, party, uid, orgAddress, null);
  }
  if (external.length && next) await sendExternal(platform, { method: cancelled ? 'CANCEL' : 'REQUEST', from: orgAddress, to: external, ics: withMethod(next, cancelled ? 'CANCEL' : 'REQUEST') });
  // A room taken meanwhile by a concurrent booking: the organizer's copy is answered again (DECLINED).
  if (lost && after) {
    const cur = await store.rawObject(db, coll.id, after.name);
    if (cur && cur.etag === after.etag) await store.put({ platform, actor: SYSTEM }, coll, cur.name, cur.data, { ifMatch: `"${cur.etag}"` });
  }
}

async function sendExternal(platform: Platform, msg: ExternalMessage): Promise<void> {
  if (!externalHandler || !msg.from.startsWith('mailto:')) return;
  await externalHandler(platform, msg);
}

function cancelledCopy(vcal: ICAL.Component): ICAL.Component {
  const v = new ICAL.Component(JSON.parse(JSON.stringify(vcal.toJSON())) as unknown[]);
  for (const c of compsOf(v)) {
    c.removeAllProperties('status');
    c.addPropertyWithValue('status', 'CANCELLED');
    const seq = c.getFirstPropertyValue('sequence');
    c.removeAllProperties('sequence');
    c.addPropertyWithValue('sequence', (typeof seq === 'number' ? seq : 0) + 1);
  }
  return v;
}

/** A removed attendee, or a deleted event: their copy stays, STATUS:CANCELLED (never busy). */
async function cancelCopy(store: CollectionStore, platform: Platform, userId: string, uid: string, organizer: string, by: string): Promise<void> {
  const copy = await copyOf(platform.db, 'user', userId, uid, organizer);
  if (!copy || copy.foreign) return;
  const v = parseSafe(copy.obj.data);
  if (!v) return;
  if (String(masterOf(compsOf(v))?.getFirstPropertyValue('status') ?? '').toUpperCase() === 'CANCELLED') return;
  const { row } = await store.put(systemCtx(platform), copy.coll, copy.obj.name, serialize(cancelledCopy(v)));
  await notify(platform, userId, { collectionId: copy.coll.id, objectId: row.id, method: 'CANCEL', kind: 'cancelled', byUserId: by });
}

/**
 * A resource's calendar holds the booking while it is accepted. Two organizers booking the same slot at
 * the same moment both saw it free: after writing, the booking is checked again, and one that now
 * overlaps another is withdrawn (returns false: the organizer's copy must be answered again, DECLINED).
 * When both withdraw in a true race, neither holds the room — never both.
 */
async function setBooking(
  store: CollectionStore,
  platform: Platform,
  party: Extract<Party, { kind: 'resource' }>,
  uid: string,
  organizer: string,
  vcal: ICAL.Component | null,
  range?: { start: number; end: number },
): Promise<boolean> {
  const db = platform.db;
  const coll = await db.selectFrom('calendar_collections').selectAll().where('id', '=', party.collectionId).executeTakeFirst();
  if (!coll) return true;
  const found = await copyOf(db, 'resource', coll.owner_id, uid, organizer);
  // Another organizer's booking with the same UID is left alone (this one then cannot be stored there).
  if (found?.foreign) return true;
  const copy = found;
  if (!vcal) {
    if (copy) await store.delete(systemCtx(platform), copy.coll, copy.obj.name);
    return true;
  }
  const text = copyText(vcal, null);
  const { row } = await store.put(systemCtx(platform), coll, copy?.obj.name ?? (await freeName(store, db, coll, uid)), text);
  if (range && !(await resourceFree(store, db, coll.id, compsOf(vcal), uid, organizer, range))) {
    await store.delete(systemCtx(platform), coll, row.name);
    return false;
  }
  return true;
}

async function replyAsAttendee(
  ctx: StoreContext,
  store: CollectionStore,
  coll: CollectionRow,
  me: Set<string>,
  organizer: string,
  prevComps: ICAL.Component[],
  next: ICAL.Component | null,
  uid: string,
): Promise<void> {
  const { platform } = ctx;
  const db = platform.db;
  const party = await resolveAddress(db, organizer);
  const nextComps = next ? compsOf(next) : [];
  if (party.kind === 'external') {
    // An answer to someone outside: the mail module sends it (iMIP REPLY) once it exists.
    const mine = [...me].find((a) => a.startsWith('mailto:'));
    if (next && mine && nextComps.some((c) => partstatFor(prevComps, me, ridOf(c)) !== partstatFor(nextComps, me, ridOf(c)))) {
      await sendExternal(platform, { method: 'REPLY', from: mine, to: [party.address], ics: withMethod(next, 'REPLY') });
    }
    return;
  }
  if (party.kind !== 'user' || party.id === coll.owner_id) return;
  const orgCopy = await copyOf(db, 'user', party.id, uid);
  if (!orgCopy) return;
  const orgVcal = parseSafe(orgCopy.obj.data);
  if (!orgVcal) return;
  const orgComps = compsOf(orgVcal);
  if (organizerOf(orgComps) === null || !(await userAddresses(db, party.id)).has(organizerOf(orgComps)!)) return;
  const changes: Array<{ rid: number | null; partstat: string }> = [];
  if (!next) {
    // Deleting one's copy declines (unless already declined or cancelled).
    const cancelled = String(masterOf(prevComps)?.getFirstPropertyValue('status') ?? '').toUpperCase() === 'CANCELLED';
    if (!cancelled && partstatFor(orgComps, me, null) !== 'DECLINED' && partstatFor(orgComps, me, null) !== null) changes.push({ rid: null, partstat: 'DECLINED' });
  } else {
    for (const c of nextComps) {
      const p = attendeeIn(c, me);
      if (!p) continue;
      const rid = ridOf(c);
      const mine = partstatOf(p);
      const theirs = partstatFor(orgComps, me, rid);
      if (theirs !== null && theirs !== mine) changes.push({ rid, partstat: mine });
    }
  }
  if (changes.length === 0) return;
  for (const ch of changes) {
    let target = orgComps.find((c) => ridOf(c) === ch.rid);
    if (!target && ch.rid !== null) {
      if (!isOccurrence(orgComps, ch.rid)) continue;
      target = addOverride(orgVcal, ch.rid);
    }
    if (!target) continue;
    const targets = ch.rid === null && !next ? compsOf(orgVcal) : [target];
    for (const t of targets) {
      const p = attendeeIn(t, me);
      if (p) p.setParameter('partstat', ch.partstat);
    }
  }
  const { row } = await store.put({ platform, actor: { kind: 'system' }, replyFrom: coll.owner_id }, orgCopy.coll, orgCopy.obj.name, serialize(orgVcal));
  await notify(platform, party.id, { collectionId: orgCopy.coll.id, objectId: row.id, method: 'REPLY', kind: 'replied', byUserId: coll.owner_id, partstat: changes[0]!.partstat });
}

export const schedulingHooks: StoreHooks = { beforePut, afterPut, afterDelete };

// ------------------------------------------------------------------------------------ commands

/**
 * The attendee's answer from the web app: their PARTSTAT on the series (and every override), or on one
 * occurrence (an override is added to their copy), then stored through the store, which replies.
 */
export async function replyCommand(
  store: CollectionStore,
  ctx: StoreContext,
  coll: CollectionRow,
  obj: ObjectRow,
  partstat: 'ACCEPTED' | 'TENTATIVE' | 'DECLINED',
  recurrenceId: number | null,
): Promise<ObjectRow> {
  const vcal = parseIcal(obj.data);
  const comps = compsOf(vcal);
  const me = await ownerAddresses(ctx.platform, coll);
  const org = organizerOf(comps);
  if (!org || me.has(org)) throw new AppError('not_an_attendee');
  if (!comps.some((c) => attendeeIn(c, me))) throw new AppError('not_an_attendee');
  let targets: ICAL.Component[];
  if (recurrenceId === null) targets = comps;
  else {
    const found = comps.find((c) => ridOf(c) === recurrenceId);
    if (found) targets = [found];
    else {
      if (!isOccurrence(comps, recurrenceId)) throw new AppError('validation_failed', { reason: 'not_an_occurrence', fields: [{ path: '/recurrenceId', message: 'an occurrence of this event' }] });
      targets = [addOverride(vcal, recurrenceId)];
    }
  }
  for (const c of targets) {
    const p = attendeeIn(c, me);
    if (!p) continue;
    p.setParameter('partstat', partstat);
    p.removeParameter('rsvp');
    c.removeAllProperties('dtstamp');
    c.addPropertyWithValue('dtstamp', icalUtc(ctx.platform.clock.now()));
  }
  const { row } = await store.put(ctx, coll, obj.name, serialize(vcal), { ifMatch: `"${obj.etag}"` });
  return row;
}

/**
 * Busy periods of a user (all their calendars): cancelled and transparent items and occurrences they
 * declined are left out; invitations they have not answered, or answered "maybe", are BUSY-TENTATIVE.
 */
export async function userBusy(platform: Platform, userId: string, from: number, to: number): Promise<BusyPeriod[]> {
  const db = platform.db;
  const me = await userAddresses(db, userId);
  const rows = await db
    .selectFrom('calendar_objects as o')
    .innerJoin('calendar_collections as c', 'c.id', 'o.collection_id')
    .select(['o.data'])
    .where('c.owner_type', '=', 'user')
    .where('c.owner_id', '=', userId)
    .where('o.component', '=', 'VEVENT')
    .where('o.range_start', '<', to)
    .where('o.range_end', '>=', from)
    .limit(20_000)
    .execute();
  const out: BusyPeriod[] = [];
  for (const r of rows) {
    const v = parseSafe(r.data);
    if (!v) continue;
    const comps = compsOf(v);
    if (!comps.some((c) => attendeeIn(c, me))) {
      out.push(...busyPeriods(comps, from, to));
      continue;
    }
    for (const o of occurrences(comps, { from, to }).list) {
      const c = o.component;
      if (String(c.getFirstPropertyValue('transp') ?? '').toUpperCase() === 'TRANSPARENT') continue;
      const status = String(c.getFirstPropertyValue('status') ?? '').toUpperCase();
      if (status === 'CANCELLED' || o.end <= o.start) continue;
      const p = attendeeIn(c, me);
      const answer = p ? partstatOf(p) : 'ACCEPTED';
      if (answer === 'DECLINED') continue;
      const tentative = status === 'TENTATIVE' || answer === 'TENTATIVE' || answer === 'NEEDS-ACTION';
      out.push({ start: Math.max(o.start, from), end: Math.min(o.end, to), type: tentative ? 'BUSY-TENTATIVE' : 'BUSY' });
    }
  }
  return mergeBusy(out);
}

/** Busy periods of a resource's calendar. */
export async function resourceBusyPeriods(store: CollectionStore, platform: Platform, collectionId: string, from: number, to: number): Promise<BusyPeriod[]> {
  return mergeBusy(await resourceBusy(store, platform.db, collectionId, from, to, '\u0000', null));
}

/** Sorted, overlapping periods of the same type merged. */
export function mergeBusy(list: BusyPeriod[]): BusyPeriod[] {
  const sorted = [...list].sort((a, b) => a.start - b.start || a.end - b.end);
  const out: BusyPeriod[] = [];
  for (const p of sorted) {
    let last: BusyPeriod | undefined;
    for (let i = out.length - 1; i >= 0 && !last; i--) if (out[i]!.type === p.type) last = out[i];
    if (last && p.start <= last.end) last.end = Math.max(last.end, p.end);
    else out.push({ ...p });
  }
  return out.sort((a, b) => a.start - b.start);
}
