import ICAL from 'ical.js';
import { AppError } from '../../errors.js';
import { TIME_MAX, TIME_MIN } from './schema.js';

/**
 * iCalendar objects (RFC 5545) as CalDAV stores them (RFC 4791 §4.1): parsing with bounds, the time index
 * (first start, last end or "never ends"), recurrence expansion across time zones, time-range overlap
 * (RFC 4791 §9.9), `expand` output and free-busy periods.
 *
 * Time zones: a TZID defined by a VTIMEZONE in the object is used as written; a TZID without its
 * VTIMEZONE that names an IANA zone ("Europe/Paris", also "/mozilla.org/…/Europe/Paris") is resolved
 * with the runtime's time-zone database; anything else, and floating times and dates, are read as UTC.
 */
export const MAX_OBJECT_BYTES = 1024 * 1024;
export const MAX_COMPONENTS = 1000;
/** Recurrence instances generated per object and query (also to find the end of a finite rule). */
export const MAX_INSTANCES = 20_000;
const DAY = 86_400_000;
/** Floating times and dates are indexed as UTC; the prefilter widens them by the widest UTC offsets. */
const FLOAT_SLACK = 14 * 3_600_000;
/** No zone is more than 15 hours from UTC. */
const ZONE_SLACK = 15 * 3_600_000;

export type CalComponent = 'VEVENT' | 'VTODO' | 'VJOURNAL';
export const CAL_COMPONENTS: CalComponent[] = ['VEVENT', 'VTODO', 'VJOURNAL'];

export interface ParsedCalendar {
  text: string;
  vcal: ICAL.Component;
  component: CalComponent;
  uid: string;
  /** The master and its overrides (RECURRENCE-ID), all of `component`. */
  comps: ICAL.Component[];
  rangeStart: number;
  rangeEnd: number;
  recurring: boolean;
  summary: string;
}

export function invalid(reason: string): AppError {
  return new AppError('invalid_calendar_data', { precondition: 'valid-calendar-data', reason });
}

/** Strict UTF-8 (a BOM is dropped); anything else is refused rather than guessed. */
export function decodeText(raw: Buffer | string, code: 'invalid_calendar_data' | 'invalid_vcard', precondition: string): string {
  if (typeof raw !== 'string') {
    try {
      raw = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw new AppError(code, { precondition, reason: 'not UTF-8' });
    }
  }
  return raw.replace(/^\uFEFF/, '');
}

// ---------------------------------------------------------------------------------------------- zones

type Zone = { kind: 'utc' } | { kind: 'floating' } | { kind: 'vtimezone'; tz: ICAL.Timezone } | { kind: 'iana'; name: string };
const UTC: Zone = { kind: 'utc' };
const FLOATING: Zone = { kind: 'floating' };

const formatters = new Map<string, Intl.DateTimeFormat | null>();
function formatter(name: string): Intl.DateTimeFormat | null {
  if (!formatters.has(name)) {
    let f: Intl.DateTimeFormat | null = null;
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone: name, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    } catch {
      f = null;
    }
    if (formatters.size > 1000) formatters.clear();
    formatters.set(name, f);
  }
  return formatters.get(name) ?? null;
}

/** The IANA zone a TZID names, when the runtime knows it. */
export function ianaZone(tzid: string): string | null {
  if (formatter(tzid)) return tzid;
  const m = /([A-Za-z_]+\/[A-Za-z_+-]+(?:\/[A-Za-z_+-]+)?)$/.exec(tzid);
  return m && formatter(m[1]!) ? m[1]! : null;
}

/**
 * UTC offsets of an IANA zone, one year at a time: the offset at each month's start, and each change
 * located by bisection to the quarter hour (every zone transition falls on one). About forty Intl calls
 * per zone and year, then none: Intl is far too slow to ask per instance.
 */
const QUARTER = 900_000;
const zoneYears = new Map<string, Array<[number, number]>>();

function zoneYear(name: string, year: number): Array<[number, number]> {
  const key = `${name}|${year}`;
  const hit = zoneYears.get(key);
  if (hit) return hit;
  const points = Array.from({ length: 13 }, (_, m) => Date.UTC(year, m, 1));
  const offs = points.map((p) => computeOffset(name, p));
  const list: Array<[number, number]> = [[points[0]!, offs[0]!]];
  for (let m = 0; m < 12; m++) {
    if (offs[m] === offs[m + 1]) continue;
    // The first quarter hour of the month with the new offset.
    let lo = points[m]! / QUARTER;
    let hi = points[m + 1]! / QUARTER;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (computeOffset(name, mid * QUARTER) === offs[m]) lo = mid;
      else hi = mid;
    }
    list.push([hi * QUARTER, offs[m + 1]!]);
  }
  if (zoneYears.size > 10_000) zoneYears.clear();
  zoneYears.set(key, list);
  return list;
}

function offsetAt(name: string, utc: number): number {
  const list = zoneYear(name, new Date(utc).getUTCFullYear());
  let v = list[0]![1];
  for (const [from, off] of list) if (utc >= from) v = off;
  return v;
}

function computeOffset(name: string, utc: number): number {
  const parts = formatter(name)!.formatToParts(new Date(utc));
  const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(utc / 1000) * 1000;
}

/** Wall-clock time in an IANA zone → UTC ms (gaps move forward, overlaps take the first instant). */
function ianaToUtc(name: string, wall: number): number {
  const o1 = offsetAt(name, wall);
  let guess = wall - o1;
  const o2 = offsetAt(name, guess);
  if (o2 !== o1) {
    const alt = wall - o2;
    guess = offsetAt(name, alt) === o2 ? alt : Math.max(guess, alt);
  }
  return guess;
}

function zoneOf(prop: ICAL.Property | null, t: ICAL.Time): Zone {
  if (t.isDate) return FLOATING;
  const z = t.zone;
  if (z && (z === ICAL.Timezone.utcTimezone || z.tzid === 'UTC')) return UTC;
  if (z && z.tzid !== 'floating' && z.component) return { kind: 'vtimezone', tz: z };
  const tzid = prop?.getParameter('tzid');
  if (typeof tzid === 'string' && tzid !== '') {
    if (/^(utc|gmt|z)$/i.test(tzid)) return UTC;
    const name = ianaZone(tzid);
    if (name) return { kind: 'iana', name };
  }
  return FLOATING;
}

const wallMs = (t: ICAL.Time): number => Date.UTC(t.year, t.month - 1, t.day, t.isDate ? 0 : t.hour, t.isDate ? 0 : t.minute, t.isDate ? 0 : t.second);

function toUtc(t: ICAL.Time, zone: Zone): number {
  if (t.isDate) return wallMs(t);
  switch (zone.kind) {
    case 'utc':
    case 'floating':
      return wallMs(t);
    case 'iana':
      return ianaToUtc(zone.name, wallMs(t));
    case 'vtimezone':
      return ICAL.Time.fromData({ year: t.year, month: t.month, day: t.day, hour: t.hour, minute: t.minute, second: t.second, isDate: false }, zone.tz).toUnixTime() * 1000;
  }
}

/** UTC ms of a date or date-time property of `comp`, or null when absent. */
export function propUtc(comp: ICAL.Component, name: string): number | null {
  const p = comp.getFirstProperty(name);
  if (!p) return null;
  const v = p.getFirstValue();
  if (!(v instanceof ICAL.Time)) return null;
  return toUtc(v, zoneOf(p, v));
}

// ---------------------------------------------------------------------------------------------- parse

export function parseIcal(text: string): ICAL.Component {
  let jcal: unknown;
  try {
    jcal = ICAL.parse(text);
  } catch (e) {
    throw invalid(e instanceof Error ? e.message.slice(0, 200) : 'unparsable');
  }
  if (!Array.isArray(jcal) || jcal.length === 0) throw invalid('empty');
  if (Array.isArray(jcal[0])) throw invalid('several top-level components');
  const root = new ICAL.Component(jcal as unknown[]);
  if (root.name !== 'vcalendar') throw invalid('not a VCALENDAR');
  return root;
}

/** Everything a stored calendar object needs; refuses what RFC 4791 §4.1 forbids. */
export function parseCalendarObject(raw: Buffer | string): ParsedCalendar {
  const text = decodeText(raw, 'invalid_calendar_data', 'valid-calendar-data');
  if (Buffer.byteLength(text) > MAX_OBJECT_BYTES) throw new AppError('payload_too_large', { precondition: 'max-resource-size' });
  const vcal = parseIcal(text);
  const subs = vcal.getAllSubcomponents();
  if (subs.length > MAX_COMPONENTS) throw new AppError('payload_too_large', { precondition: 'max-resource-size', reason: 'too many components' });
  const comps = subs.filter((c) => c.name !== 'vtimezone');
  if (comps.length === 0) throw invalid('no VEVENT, VTODO or VJOURNAL');
  const name = comps[0]!.name.toUpperCase();
  if (!(CAL_COMPONENTS as string[]).includes(name)) throw invalid(`unsupported component ${name}`);
  if (comps.some((c) => c.name !== comps[0]!.name)) throw invalid('components of several types');
  const uids = new Set(comps.map((c) => c.getFirstPropertyValue('uid')));
  if (uids.size !== 1) throw invalid('components with different UIDs');
  const uid = [...uids][0];
  if (typeof uid !== 'string' || uid.trim() === '' || uid.length > 1000) throw invalid('UID missing');
  if (comps.filter((c) => !c.hasProperty('recurrence-id')).length > 1) throw invalid('several components without RECURRENCE-ID');
  const component = name as CalComponent;
  if (component === 'VEVENT' && comps.some((c) => !c.hasProperty('dtstart'))) throw invalid('VEVENT without DTSTART');
  let bounds: { start: number; end: number; floating: boolean };
  try {
    bounds = objectBounds(comps);
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw invalid(e instanceof Error ? e.message.slice(0, 200) : 'invalid dates');
  }
  const first = comps.find((c) => !c.hasProperty('recurrence-id')) ?? comps[0]!;
  const summary = ['summary', 'location', 'description']
    .map((p) => first.getFirstPropertyValue(p))
    .filter((v): v is string => typeof v === 'string')
    .join('\n')
    .slice(0, 4000);
  const slack = bounds.floating ? FLOAT_SLACK : 0;
  return {
    text,
    vcal,
    component,
    uid,
    comps,
    rangeStart: bounds.start === TIME_MIN ? TIME_MIN : bounds.start - slack,
    rangeEnd: bounds.end === TIME_MAX ? TIME_MAX : bounds.end + slack,
    recurring: comps.length > 1 || comps.some((c) => c.hasProperty('rrule') || c.hasProperty('rdate')),
    summary,
  };
}

// ---------------------------------------------------------------------------------------- occurrences

export interface Occurrence {
  start: number;
  end: number;
  /** UTC ms of the RECURRENCE-ID (null for a non-recurring object). */
  recurrenceId: number | null;
  allDay: boolean;
  /** The component describing this occurrence (the master or an override). */
  component: ICAL.Component;
  /** No start and no end (a VTODO without dates): matches every range. */
  undated: boolean;
}

interface Span {
  start: number;
  end: number;
  allDay: boolean;
  undated: boolean;
  floating: boolean;
  zone: Zone;
}

/** Start and end of one component (RFC 4791 §9.9 for VEVENT and VTODO). */
function spanOf(c: ICAL.Component): Span {
  const startProp = c.getFirstProperty('dtstart');
  const startVal = startProp?.getFirstValue();
  const start = startVal instanceof ICAL.Time ? startVal : null;
  const zone = start ? zoneOf(startProp!, start) : UTC;
  const floating = start ? start.isDate || zone.kind === 'floating' : false;
  const s = start ? toUtc(start, zone) : null;
  const dur = c.getFirstPropertyValue('duration');
  const durMs = dur instanceof ICAL.Duration ? dur.toSeconds() * 1000 : null;
  if (c.name === 'vtodo') {
    const dueProp = c.getFirstProperty('due');
    const dueVal = dueProp?.getFirstValue();
    const due = dueVal instanceof ICAL.Time ? toUtc(dueVal, zoneOf(dueProp!, dueVal)) : null;
    const dueFloating = dueVal instanceof ICAL.Time && (dueVal.isDate || zoneOf(dueProp!, dueVal).kind === 'floating');
    if (s !== null) {
      const e = due ?? (durMs !== null ? s + durMs : s);
      return { start: s, end: Math.max(s, e), allDay: start!.isDate, undated: false, floating: floating || dueFloating, zone };
    }
    if (due !== null) return { start: due, end: due, allDay: (dueVal as ICAL.Time).isDate, undated: false, floating: dueFloating, zone: dueVal instanceof ICAL.Time ? zoneOf(dueProp!, dueVal) : UTC };
    // RFC 4791 §9.9 for a VTODO without DTSTART and DUE: COMPLETED and/or CREATED, else every range.
    const completed = propUtc(c, 'completed');
    const created = propUtc(c, 'created');
    if (completed !== null && created !== null) return { start: Math.min(created, completed), end: Math.max(created, completed), allDay: false, undated: false, floating: false, zone: UTC };
    if (completed !== null) return { start: completed, end: completed, allDay: false, undated: false, floating: false, zone: UTC };
    if (created !== null) return { start: created, end: TIME_MAX, allDay: false, undated: false, floating: false, zone: UTC };
    return { start: TIME_MIN, end: TIME_MAX, allDay: false, undated: true, floating: false, zone: UTC };
  }
  if (s === null) return { start: TIME_MIN, end: TIME_MAX, allDay: false, undated: true, floating: false, zone: UTC };
  const endProp = c.getFirstProperty('dtend');
  const endVal = endProp?.getFirstValue();
  let e: number;
  if (endVal instanceof ICAL.Time) e = toUtc(endVal, zoneOf(endProp!, endVal));
  else if (durMs !== null) e = s + durMs;
  else e = start!.isDate ? s + DAY : s;
  return { start: s, end: Math.max(s, e), allDay: start!.isDate, undated: false, floating, zone };
}

function recurrenceIdOf(c: ICAL.Component): number | null {
  return propUtc(c, 'recurrence-id');
}

function isRecurringMaster(c: ICAL.Component): boolean {
  return c.hasProperty('rrule') || c.hasProperty('rdate');
}

/**
 * The occurrences of an object, in order of generation: overrides first, then the master's instances
 * (those replaced by an override are skipped). With `from`/`to`, only those overlapping [from, to).
 * Stops after MAX_INSTANCES generated instances (`truncated` tells).
 */
export function occurrences(comps: ICAL.Component[], range?: { from: number; to: number }): { list: Occurrence[]; truncated: boolean } {
  try {
    return strictOccurrences(comps, range);
  } catch (e) {
    // Stored objects were validated when written; should ical.js still fail on one, it has no instance.
    if (e instanceof AppError) throw e;
    return { list: [], truncated: true };
  }
}

function strictOccurrences(comps: ICAL.Component[], range?: { from: number; to: number }): { list: Occurrence[]; truncated: boolean } {
  const list: Occurrence[] = [];
  const master = comps.find((c) => !c.hasProperty('recurrence-id'));
  const overrides = comps.filter((c) => c.hasProperty('recurrence-id'));
  const overridden = new Set<number>();
  const keep = (o: Occurrence): void => {
    if (!range || overlaps(o, range.from, range.to)) list.push(o);
  };
  for (const o of overrides) {
    const rid = recurrenceIdOf(o);
    if (rid !== null) overridden.add(rid);
    const sp = spanOf(o);
    keep({ start: sp.start, end: sp.end, recurrenceId: rid, allDay: sp.allDay, component: o, undated: sp.undated });
  }
  let truncated = false;
  if (master) {
    const sp = spanOf(master);
    if (!isRecurringMaster(master) || sp.undated) {
      keep({ start: sp.start, end: sp.end, recurrenceId: null, allDay: sp.allDay, component: master, undated: sp.undated });
    } else {
      const dtstartProp = master.getFirstProperty('dtstart') ?? master.getFirstProperty('due');
      const dtstart = dtstartProp!.getFirstValue() as ICAL.Time;
      const duration = sp.end - sp.start;
      const first = range ? fastForward(master, dtstart, range.from - ZONE_SLACK - duration) : dtstart;
      const expansion = new ICAL.RecurExpansion({ component: master, dtstart: first });
      let n = 0;
      for (;;) {
        const t = expansion.next();
        if (!t) break;
        if (++n > MAX_INSTANCES) {
          truncated = true;
          break;
        }
        if (range) {
          // The wall time is within ±15 h of the instant: most instances are decided without a zone lookup.
          const w = wallMs(t);
          if (w - ZONE_SLACK >= range.to) break;
          if (w + ZONE_SLACK + duration < range.from) continue;
        }
        const s = toUtc(t, sp.zone);
        if (range && s >= range.to) break;
        if (overridden.has(s)) continue;
        keep({ start: s, end: s + duration, recurrenceId: s, allDay: sp.allDay, component: master, undated: false });
      }
    }
  }
  return { list, truncated };
}

/**
 * A start for the expansion closer to `before` (a wall time), so a query far from DTSTART does not walk
 * every instance since it: for a single RRULE without COUNT, DTSTART moved by whole periods (INTERVAL
 * days, weeks, months or years) keeps the rule's instances (BYxxx and BYSETPOS are relative to the
 * period). The moved start itself may be no instance, but it is before the range, so it is never kept.
 */
function fastForward(master: ICAL.Component, dtstart: ICAL.Time, before: number): ICAL.Time {
  const rules = master.getAllProperties('rrule');
  if (rules.length !== 1) return dtstart;
  const r = rules[0]!.getFirstValue() as ICAL.Recur;
  if (r.count || !r.freq) return dtstart;
  const interval = Math.max(1, r.interval || 1);
  const gap = before - wallMs(dtstart);
  if (gap <= 0) return dtstart;
  const t = dtstart.clone();
  switch (r.freq) {
    case 'DAILY':
    case 'WEEKLY': {
      const periodDays = r.freq === 'DAILY' ? interval : interval * 7;
      const k = Math.floor(gap / (periodDays * DAY)) - 1;
      if (k <= 0) return dtstart;
      t.adjust(k * periodDays, 0, 0, 0);
      return t;
    }
    case 'MONTHLY':
    case 'YEARLY': {
      const periodMonths = r.freq === 'MONTHLY' ? interval : interval * 12;
      const k = Math.floor(gap / (31 * DAY) / periodMonths) - 1;
      if (k <= 0) return dtstart;
      const months = dtstart.month - 1 + k * periodMonths;
      const year = dtstart.year + Math.floor(months / 12);
      const month = (months % 12) + 1;
      // A start on the 29th–31st only moves to a month that has that day.
      if (dtstart.day > ICAL.Time.daysInMonth(month, year)) return dtstart;
      t.year = year;
      t.month = month;
      return t;
    }
    default:
      return dtstart;
  }
}

/** RFC 4791 §9.9: does an occurrence overlap [from, to)? */
export function overlaps(o: Pick<Occurrence, 'start' | 'end' | 'undated'>, from: number, to: number): boolean {
  if (o.undated) return true;
  if (o.end > o.start) return o.start < to && o.end > from;
  return o.start >= from && o.start < to;
}

/** Earliest start and latest end over every occurrence (TIME_MAX for rules without an end). */
function objectBounds(comps: ICAL.Component[]): { start: number; end: number; floating: boolean } {
  let start = TIME_MAX;
  let end = TIME_MIN;
  let floating = false;
  let infinite = false;
  for (const c of comps) {
    const sp = spanOf(c);
    floating ||= sp.floating;
    if (sp.undated) return { start: TIME_MIN, end: TIME_MAX, floating };
    start = Math.min(start, sp.start);
    end = Math.max(end, sp.end);
    if (!c.hasProperty('recurrence-id') && isRecurringMaster(c)) {
      const rules = c.getAllProperties('rrule').map((p) => p.getFirstValue() as ICAL.Recur);
      if (rules.some((r) => !(r instanceof ICAL.Recur) || !r.freq)) throw invalid('RRULE without a valid FREQ');
      if (rules.some((r) => !r.count && !r.until)) infinite = true;
    }
  }
  // The rule must be expandable: generate the first instance (ical.js throws on what it cannot iterate).
  strictOccurrences(comps, { from: TIME_MIN, to: start + 1 });
  if (infinite) return { start, end: TIME_MAX, floating };
  const { list, truncated } = strictOccurrences(comps);
  if (truncated) return { start, end: TIME_MAX, floating };
  for (const o of list) {
    start = Math.min(start, o.start);
    end = Math.max(end, o.end);
  }
  return { start, end, floating };
}

/** Does the object have an occurrence overlapping [from, to)? */
export function objectOverlaps(comps: ICAL.Component[], from: number, to: number): boolean {
  return occurrences(comps, { from, to }).list.length > 0;
}

// ------------------------------------------------------------------------------------------- output

export const icalUtc = (ms: number): ICAL.Time => ICAL.Time.fromJSDate(new Date(Math.floor(ms / 1000) * 1000), true);
function icalDate(ms: number): ICAL.Time {
  const d = new Date(ms);
  return ICAL.Time.fromData({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), isDate: true });
}
const cloneComponent = (c: ICAL.Component): ICAL.Component => new ICAL.Component(JSON.parse(JSON.stringify(c.toJSON())) as unknown[]);

/**
 * RFC 4791 §9.6.5 `expand`: every occurrence overlapping [from, to) as its own component with UTC times
 * and a RECURRENCE-ID, without RRULE/RDATE/EXDATE and without VTIMEZONE (dates stay dates).
 */
export function expandObject(p: Pick<ParsedCalendar, 'vcal' | 'comps'>, from: number, to: number): string {
  const out = new ICAL.Component('vcalendar');
  for (const prop of p.vcal.getAllProperties()) out.addProperty(ICAL.Property.fromString(prop.toICALString()));
  const { list } = occurrences(p.comps, { from, to });
  list.sort((a, b) => a.start - b.start);
  const recurring = p.comps.length > 1 || p.comps.some(isRecurringMaster);
  for (const o of list) {
    const c = cloneComponent(o.component);
    for (const n of ['rrule', 'rdate', 'exdate', 'exrule', 'dtstart', 'dtend', 'duration', 'due', 'recurrence-id']) c.removeAllProperties(n);
    const at = (ms: number): ICAL.Time => (o.allDay ? icalDate(ms) : icalUtc(ms));
    if (!o.undated) {
      c.addPropertyWithValue('dtstart', at(o.start));
      if (o.component.name === 'vtodo') {
        if (o.component.hasProperty('due')) c.addPropertyWithValue('due', at(o.end));
      } else if (o.end !== o.start) c.addPropertyWithValue('dtend', at(o.end));
    }
    if (recurring && o.recurrenceId !== null) c.addPropertyWithValue('recurrence-id', at(o.recurrenceId));
    out.addSubcomponent(c);
  }
  return out.toString() + '\r\n';
}

export interface BusyPeriod {
  start: number;
  end: number;
  type: 'BUSY' | 'BUSY-TENTATIVE' | 'BUSY-UNAVAILABLE';
}

/** RFC 4791 §7.10: the busy periods of VEVENTs overlapping [from, to), clipped to it (transparent and cancelled ones left out). */
export function busyPeriods(comps: ICAL.Component[], from: number, to: number): BusyPeriod[] {
  if (comps[0]?.name !== 'vevent') return [];
  const out: BusyPeriod[] = [];
  for (const o of occurrences(comps, { from, to }).list) {
    const c = o.component;
    if (String(c.getFirstPropertyValue('transp') ?? '').toUpperCase() === 'TRANSPARENT') continue;
    const status = String(c.getFirstPropertyValue('status') ?? '').toUpperCase();
    if (status === 'CANCELLED') continue;
    if (o.end <= o.start) continue;
    out.push({ start: Math.max(o.start, from), end: Math.min(o.end, to), type: status === 'TENTATIVE' ? 'BUSY-TENTATIVE' : 'BUSY' });
  }
  return out;
}

const fbTime = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/[-:]/g, '').replace('.000', '');

/** A VFREEBUSY reply for [from, to). */
export function freeBusyCalendar(periods: BusyPeriod[], from: number, to: number, now: number): string {
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Bastide//CalDAV//EN', 'BEGIN:VFREEBUSY', `DTSTAMP:${fbTime(now)}`, `DTSTART:${fbTime(from)}`, `DTEND:${fbTime(to)}`];
  periods.sort((a, b) => a.start - b.start || a.end - b.end);
  for (const p of periods) lines.push(`FREEBUSY${p.type === 'BUSY' ? '' : `;FBTYPE=${p.type}`}:${fbTime(p.start)}/${fbTime(p.end)}`);
  lines.push('END:VFREEBUSY', 'END:VCALENDAR');
  return lines.join('\r\n') + '\r\n';
}

/** "20260320T100000Z" (the format of CalDAV time-range attributes) → UTC ms. */
export function parseUtcStamp(v: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z?)?$/.exec(v.trim());
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
  return Number.isFinite(ms) ? ms : null;
}
