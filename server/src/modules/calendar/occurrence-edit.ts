import { randomUUID } from 'node:crypto';
import ICAL from 'ical.js';
import { AppError } from '../../errors.js';
import { MAX_INSTANCES, ianaZone, icalUtc, propUtc } from './ical.js';

/**
 * Editing one occurrence of a recurring event, or it and the following ones, on the iCalendar text
 * (RFC 5545 §3.8.4.4, §3.8.5): "this one" is an override component with a RECURRENCE-ID (or an EXDATE
 * when deleted); "this and following" ends the series with UNTIL just before the occurrence and starts a
 * new series (a new UID) from it; the other properties of the object are kept. Also: the details of an
 * event as the web form shows them, and VALARM reminders.
 */

const DAY = 86_400_000;

export const serialize = (vcal: ICAL.Component): string => vcal.toString().replace(/\r?\n/g, '\r\n') + '\r\n';

const clone = (c: ICAL.Component): ICAL.Component => new ICAL.Component(JSON.parse(JSON.stringify(c.toJSON())) as unknown[]);

export function masterOf(vcal: ICAL.Component): ICAL.Component {
  const m = vcal.getAllSubcomponents('vevent').find((c) => !c.hasProperty('recurrence-id'));
  if (!m) throw new AppError('conflict', { reason: 'no master component' });
  return m;
}

export function isRecurring(master: ICAL.Component): boolean {
  return master.hasProperty('rrule') || master.hasProperty('rdate');
}

function bump(c: ICAL.Component, now: number): void {
  c.removeAllProperties('dtstamp');
  c.addPropertyWithValue('dtstamp', icalUtc(now));
  const seq = c.getFirstPropertyValue('sequence');
  c.removeAllProperties('sequence');
  c.addPropertyWithValue('sequence', (typeof seq === 'number' ? seq : 0) + 1);
}

/** UTC ms of a time that has the zone of `like` (a DTSTART property): what the occurrence list reports. */
function utcOf(t: ICAL.Time, like: ICAL.Property): number {
  const tmp = new ICAL.Component('vevent');
  const p = new ICAL.Property('dtstart', tmp);
  p.setValue(t);
  const tz = like.getParameter('tzid');
  if (typeof tz === 'string' && !t.isDate) p.setParameter('tzid', tz);
  tmp.addProperty(p);
  return propUtc(tmp, 'dtstart') ?? 0;
}

export interface Instance {
  /** The instance's time in the master's own zone (what RECURRENCE-ID and EXDATE carry). */
  time: ICAL.Time;
  utc: number;
  /** Instances of the series before this one (to continue a COUNT). */
  before: number;
  /** The override component of this instance, if any. */
  override: ICAL.Component | null;
}

/** The instance of the series whose recurrence id (UTC ms, or a date at UTC midnight) is `rid`. */
export function findInstance(vcal: ICAL.Component, rid: number): Instance {
  const master = masterOf(vcal);
  const dtstartProp = master.getFirstProperty('dtstart')!;
  const override = vcal.getAllSubcomponents('vevent').find((c) => c.hasProperty('recurrence-id') && propUtc(c, 'recurrence-id') === rid) ?? null;
  if (!isRecurring(master)) throw new AppError('conflict', { reason: 'not a recurring event' });
  // Without its EXDATEs: a COUNT counts the excluded instances too (RFC 5545 §3.8.5.3).
  const rules = clone(master);
  rules.removeAllProperties('exdate');
  const expansion = new ICAL.RecurExpansion({ component: rules, dtstart: dtstartProp.getFirstValue() as ICAL.Time });
  let n = 0;
  for (;;) {
    const t = expansion.next();
    if (!t || n > MAX_INSTANCES) break;
    const u = utcOf(t, dtstartProp);
    if (u === rid) return { time: t, utc: u, before: n, override };
    if (u > rid + DAY) break;
    n++;
  }
  if (override) {
    // An override whose instance the rule no longer generates: still editable as itself.
    return { time: override.getFirstPropertyValue('recurrence-id') as ICAL.Time, utc: rid, before: n, override };
  }
  throw new AppError('not_found', { reason: 'no such occurrence' });
}

function setWithZone(c: ICAL.Component, name: string, t: ICAL.Time, like: ICAL.Property): void {
  const p = new ICAL.Property(name, c);
  p.setValue(t);
  const tz = like.getParameter('tzid');
  if (typeof tz === 'string' && !t.isDate) p.setParameter('tzid', tz);
  c.addProperty(p);
}

/** The override of `inst`, created from a copy of the master (without its rules) when it has none. */
export function overrideFor(vcal: ICAL.Component, inst: Instance, now: number): ICAL.Component {
  if (inst.override) {
    bump(inst.override, now);
    return inst.override;
  }
  const master = masterOf(vcal);
  const o = clone(master);
  for (const n of ['rrule', 'rdate', 'exdate', 'exrule', 'recurrence-id']) o.removeAllProperties(n);
  setWithZone(o, 'recurrence-id', inst.time, master.getFirstProperty('dtstart')!);
  // The copy starts where the instance is, with the master's duration.
  const start = master.getFirstPropertyValue('dtstart') as ICAL.Time;
  const dtend = master.getFirstPropertyValue('dtend');
  o.removeAllProperties('dtstart');
  setWithZone(o, 'dtstart', inst.time.clone(), master.getFirstProperty('dtstart')!);
  if (dtend instanceof ICAL.Time) {
    const dur = dtend.subtractDate(start);
    const end = inst.time.clone();
    end.addDuration(dur);
    o.removeAllProperties('dtend');
    setWithZone(o, 'dtend', end, master.getFirstProperty('dtend')!);
  }
  bump(o, now);
  vcal.addSubcomponent(o);
  return o;
}

/** Deletes one instance: an EXDATE on the master, and its override removed. */
export function excludeInstance(vcal: ICAL.Component, inst: Instance, now: number): void {
  const master = masterOf(vcal);
  if (inst.override) vcal.removeSubcomponent(inst.override);
  setWithZone(master, 'exdate', inst.time.clone(), master.getFirstProperty('dtstart')!);
  bump(master, now);
}

/**
 * Ends the series just before `inst` (UNTIL; a COUNT becomes an UNTIL) and drops what belonged to the
 * following instances (overrides, EXDATEs and RDATEs from it on). Returns false when `inst` is the first
 * instance: nothing would remain of the series.
 */
export function cutBefore(vcal: ICAL.Component, inst: Instance, now: number): boolean {
  if (inst.before === 0) return false;
  const master = masterOf(vcal);
  const dtstartProp = master.getFirstProperty('dtstart')!;
  const isDate = (dtstartProp.getFirstValue() as ICAL.Time).isDate;
  let until: ICAL.Time;
  if (isDate) {
    const d = new Date(inst.utc - DAY);
    until = ICAL.Time.fromData({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), isDate: true });
  } else {
    until = icalUtc(inst.utc - 1000);
  }
  for (const p of master.getAllProperties('rrule')) {
    const r = p.getFirstValue() as ICAL.Recur;
    const copy = ICAL.Recur.fromString(r.toString());
    copy.count = null as unknown as number;
    copy.until = until;
    p.setValue(copy);
  }
  for (const name of ['exdate', 'rdate']) {
    for (const p of master.getAllProperties(name)) {
      const keep = p.getValues().filter((v: unknown) => !(v instanceof ICAL.Time) || utcOf(v, dtstartProp) < inst.utc);
      if (keep.length === 0) master.removeProperty(p);
      else p.setValues(keep);
    }
  }
  for (const o of vcal.getAllSubcomponents('vevent')) {
    if (!o.hasProperty('recurrence-id')) continue;
    const rid = propUtc(o, 'recurrence-id');
    if (rid !== null && rid >= inst.utc) vcal.removeSubcomponent(o);
  }
  bump(master, now);
  return true;
}

/**
 * A new series starting at `inst`: a copy of the object (its other properties, alarms, attendees and
 * time zones) with a new UID, no overrides, and the rule continued (a COUNT reduced by the instances
 * already past).
 */
export function followingSeries(vcal: ICAL.Component, inst: Instance, now: number): ICAL.Component {
  const copy = clone(vcal);
  for (const o of copy.getAllSubcomponents('vevent')) if (o.hasProperty('recurrence-id')) copy.removeSubcomponent(o);
  const m = masterOf(copy);
  const dtstartProp = m.getFirstProperty('dtstart')!;
  const start = dtstartProp.getFirstValue() as ICAL.Time;
  const dtend = m.getFirstPropertyValue('dtend');
  m.removeAllProperties('uid');
  m.addPropertyWithValue('uid', randomUUID());
  for (const p of m.getAllProperties('rrule')) {
    const r = ICAL.Recur.fromString((p.getFirstValue() as ICAL.Recur).toString());
    if (r.count) r.count = Math.max(1, r.count - inst.before);
    p.setValue(r);
  }
  for (const name of ['exdate', 'rdate']) {
    for (const p of m.getAllProperties(name)) {
      const keep = p.getValues().filter((v: unknown) => !(v instanceof ICAL.Time) || utcOf(v, dtstartProp) >= inst.utc);
      if (keep.length === 0) m.removeProperty(p);
      else p.setValues(keep);
    }
  }
  m.removeAllProperties('dtstart');
  setWithZone(m, 'dtstart', inst.time.clone(), dtstartProp);
  if (dtend instanceof ICAL.Time) {
    const end = inst.time.clone();
    end.addDuration(dtend.subtractDate(start));
    const endProp = m.getFirstProperty('dtend')!;
    m.removeAllProperties('dtend');
    setWithZone(m, 'dtend', end, endProp);
  }
  m.removeAllProperties('sequence');
  m.removeAllProperties('created');
  m.addPropertyWithValue('created', icalUtc(now));
  m.removeAllProperties('dtstamp');
  m.addPropertyWithValue('dtstamp', icalUtc(now));
  return copy;
}

/**
 * When the master's DTSTART moves ("all" edited), its EXDATEs and the RECURRENCE-IDs of its overrides
 * move by the same wall-clock amount, so they still name instances of the series.
 */
export function shiftExceptions(vcal: ICAL.Component, master: ICAL.Component, oldStart: ICAL.Time, oldTzid: unknown): void {
  const newStart = master.getFirstPropertyValue('dtstart') as ICAL.Time;
  const newTzid = master.getFirstProperty('dtstart')!.getParameter('tzid');
  if (oldStart.isDate !== newStart.isDate || oldTzid !== newTzid) return;
  const wall = (t: ICAL.Time): number => Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  const delta = (wall(newStart) - wall(oldStart)) / 1000;
  if (delta === 0) return;
  const move = (v: unknown): unknown => {
    if (!(v instanceof ICAL.Time)) return v;
    const t = v.clone();
    t.adjust(0, 0, 0, delta);
    return t;
  };
  for (const p of master.getAllProperties('exdate')) p.setValues(p.getValues().map(move));
  for (const o of vcal.getAllSubcomponents('vevent')) {
    const p = o.getFirstProperty('recurrence-id');
    if (p) p.setValue(move(p.getFirstValue()) as ICAL.Time);
  }
}

// ------------------------------------------------------------------------------------------ reminders

export interface Alarm {
  minutesBefore: number;
}

/** A reminder the form edits: a DISPLAY or AUDIO alarm a duration before the start. */
function simpleAlarm(a: ICAL.Component): number | null {
  const action = String(a.getFirstPropertyValue('action') ?? '').toUpperCase();
  if (action !== 'DISPLAY' && action !== 'AUDIO') return null;
  const tp = a.getFirstProperty('trigger');
  const v = tp?.getFirstValue();
  if (!(v instanceof ICAL.Duration)) return null;
  if (String(tp!.getParameter('related') ?? 'START').toUpperCase() !== 'START') return null;
  const s = v.toSeconds();
  if (s > 0) return null;
  return Math.round(-s / 60);
}

/** Replaces the reminders the form edits; other alarms (e-mail, absolute times) are kept. */
export function setAlarms(c: ICAL.Component, alarms: Alarm[]): void {
  for (const a of c.getAllSubcomponents('valarm')) if (simpleAlarm(a) !== null) c.removeSubcomponent(a);
  for (const { minutesBefore } of alarms) {
    const a = new ICAL.Component('valarm');
    a.addPropertyWithValue('action', 'DISPLAY');
    a.addPropertyWithValue('description', String(c.getFirstPropertyValue('summary') ?? 'Reminder'));
    const d = ICAL.Duration.fromSeconds(-minutesBefore * 60);
    a.addPropertyWithValue('trigger', d);
    c.addSubcomponent(a);
  }
}

// ------------------------------------------------------------------------------------------- details

export interface EventDetails {
  summary: string;
  location: string;
  description: string;
  status: string;
  allDay: boolean;
  /** Wall time in `timeZone` ("YYYY-MM-DDTHH:mm:ss"), or a date "YYYY-MM-DD" (all-day). */
  start: string;
  end: string;
  /** IANA zone of the start; "UTC"; null for floating times and dates. */
  timeZone: string | null;
  rrule: string | null;
  /** More than one RRULE, or RDATEs: the editor shows the text and keeps it. */
  complexRecurrence: boolean;
  exceptions: number;
  alarms: Alarm[];
  otherAlarms: number;
  organizer: { name: string; email: string } | null;
  attendees: Array<{ name: string; email: string; partstat: string; role: string }>;
}

const pad = (n: number): string => String(n).padStart(2, '0');
function wallString(t: ICAL.Time): string {
  const d = `${t.year}-${pad(t.month)}-${pad(t.day)}`;
  return t.isDate ? d : `${d}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}`;
}
const address = (v: unknown): string => String(v ?? '').replace(/^mailto:/i, '');

/** What the form shows of a component (the master, or an override). */
export function detailsOf(vcal: ICAL.Component, c: ICAL.Component): EventDetails {
  const master = masterOf(vcal);
  const sp = c.getFirstProperty('dtstart')!;
  const start = sp.getFirstValue() as ICAL.Time;
  let end: ICAL.Time;
  const dtend = c.getFirstPropertyValue('dtend');
  const dur = c.getFirstPropertyValue('duration');
  if (dtend instanceof ICAL.Time) end = dtend;
  else {
    end = start.clone();
    if (dur instanceof ICAL.Duration) end.addDuration(dur);
    else if (start.isDate) end.adjust(1, 0, 0, 0);
  }
  let timeZone: string | null = null;
  if (!start.isDate) {
    const tzid = sp.getParameter('tzid');
    if (start.zone === ICAL.Timezone.utcTimezone || (typeof tzid === 'string' && /^(utc|gmt|z)$/i.test(tzid))) timeZone = 'UTC';
    else if (typeof tzid === 'string') timeZone = ianaZone(tzid) ?? null;
  }
  const rules = master.getAllProperties('rrule');
  const str = (p: string): string => {
    const v = c.getFirstPropertyValue(p);
    return typeof v === 'string' ? v : '';
  };
  const alarms: Alarm[] = [];
  let otherAlarms = 0;
  for (const a of c.getAllSubcomponents('valarm')) {
    const m = simpleAlarm(a);
    if (m === null) otherAlarms++;
    else alarms.push({ minutesBefore: m });
  }
  const org = c.getFirstProperty('organizer');
  return {
    summary: str('summary'), location: str('location'), description: str('description'), status: str('status'),
    allDay: start.isDate, start: wallString(start), end: wallString(end), timeZone,
    rrule: rules.length === 1 ? (rules[0]!.getFirstValue() as ICAL.Recur).toString() : rules.length > 1 ? rules.map((r) => (r.getFirstValue() as ICAL.Recur).toString()).join('\n') : null,
    complexRecurrence: rules.length > 1 || master.hasProperty('rdate') || master.hasProperty('exrule'),
    exceptions: master.getAllProperties('exdate').reduce((n, p) => n + p.getValues().length, 0) + vcal.getAllSubcomponents('vevent').filter((o) => o.hasProperty('recurrence-id')).length,
    alarms, otherAlarms,
    organizer: org ? { name: String(org.getParameter('cn') ?? ''), email: address(org.getFirstValue()) } : null,
    attendees: c.getAllProperties('attendee').slice(0, 500).map((p) => ({
      name: String(p.getParameter('cn') ?? ''), email: address(p.getFirstValue()),
      partstat: String(p.getParameter('partstat') ?? 'NEEDS-ACTION').toUpperCase(), role: String(p.getParameter('role') ?? 'REQ-PARTICIPANT').toUpperCase(),
    })),
  };
}

