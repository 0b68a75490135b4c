import ICAL from 'ical.js';
import { AppError } from '../../../errors.js';
import { objectOverlaps, parseUtcStamp, propUtc } from '../../../modules/calendar/ical.js';
import { TIME_MAX, TIME_MIN } from '../../../modules/calendar/schema.js';
import { elements, textOf, type XmlElement } from '../xml.js';
import { CAL_NS } from './context.js';

/**
 * Query filters: CalDAV's comp-filter / prop-filter / param-filter / text-match / time-range (RFC 4791
 * §9.7) and the text-match of CardDAV (RFC 6352 §10.5.4), evaluated on ical.js components.
 * Collations: i;ascii-casemap (default), i;unicode-casemap, i;octet; anything else is refused
 * (CALDAV:supported-collation).
 */
const COLLATIONS = new Set(['i;ascii-casemap', 'i;unicode-casemap', 'i;octet']);

const attr = (el: XmlElement, name: string): string | undefined => el.attrs.find((a) => a.local === name && a.ns === '')?.value;
const has = (el: XmlElement, ns: string, local: string): boolean => elements(el).some((e) => e.ns === ns && e.local === local);

/** text-match on one value; CardDAV's match-type (equals, contains, starts-with, ends-with), CalDAV's contains. */
export function textMatch(el: XmlElement, values: string[], collationPrecondition: string): boolean {
  const collation = attr(el, 'collation') ?? 'i;ascii-casemap';
  if (!COLLATIONS.has(collation)) throw new AppError('forbidden', { precondition: collationPrecondition });
  const negate = attr(el, 'negate-condition') === 'yes';
  const matchType = attr(el, 'match-type') ?? 'contains';
  const fold = (s: string): string => (collation === 'i;octet' ? s : collation === 'i;ascii-casemap' ? s.replace(/[A-Z]/g, (c) => c.toLowerCase()) : s.toLowerCase());
  const needle = fold(textOf(el));
  const test = (v: string): boolean => {
    const h = fold(v);
    switch (matchType) {
      case 'equals':
        return h === needle;
      case 'starts-with':
        return h.startsWith(needle);
      case 'ends-with':
        return h.endsWith(needle);
      default:
        return h.includes(needle);
    }
  };
  const hit = values.some(test);
  return negate ? !hit : hit;
}

export function propValues(p: ICAL.Property): string[] {
  return p.getValues().map((v) => (Array.isArray(v) ? v.join(',') : v instanceof ICAL.Time || v instanceof ICAL.Duration ? v.toString() : String(v ?? '')));
}

function paramValues(p: ICAL.Property, name: string): string[] | null {
  const v = p.getParameter(name.toLowerCase());
  if (v === undefined || v === null) return null;
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

export function paramFilter(p: ICAL.Property, f: XmlElement, ns: string, collationPrecondition: string): boolean {
  const name = attr(f, 'name') ?? '';
  const values = paramValues(p, name);
  if (has(f, ns, 'is-not-defined')) return values === null;
  if (values === null) return false;
  const tm = elements(f).find((e) => e.ns === ns && e.local === 'text-match');
  return tm ? textMatch(tm, values, collationPrecondition) : true;
}

export interface TimeRange {
  from: number;
  to: number;
}

export function parseTimeRange(el: XmlElement): TimeRange {
  const s = attr(el, 'start');
  const e = attr(el, 'end');
  const from = s === undefined ? TIME_MIN : parseUtcStamp(s);
  const to = e === undefined ? TIME_MAX : parseUtcStamp(e);
  if (from === null || to === null || (s === undefined && e === undefined) || from >= to) throw new AppError('bad_request', { precondition: 'valid-filter', reason: 'invalid time-range' });
  return { from, to };
}

/** A compiled calendar-query filter: a SQL prefilter range (when one applies) and the exact test. */
export interface CalendarFilter {
  range: TimeRange | null;
  test(vcal: ICAL.Component, comps: ICAL.Component[]): boolean;
}

export function compileCalendarFilter(filter: XmlElement | undefined): CalendarFilter {
  if (!filter) throw new AppError('bad_request', { precondition: 'valid-filter', reason: 'filter missing' });
  const top = elements(filter).filter((e) => e.ns === CAL_NS && e.local === 'comp-filter');
  if (top.length !== 1 || (attr(top[0]!, 'name') ?? '').toUpperCase() !== 'VCALENDAR') throw new AppError('bad_request', { precondition: 'valid-filter', reason: 'one VCALENDAR comp-filter expected' });
  let range: TimeRange | null = null;
  for (const cf of elements(top[0]!).filter((e) => e.ns === CAL_NS && e.local === 'comp-filter')) {
    const tr = elements(cf).find((e) => e.ns === CAL_NS && e.local === 'time-range');
    if (tr && !has(cf, CAL_NS, 'is-not-defined')) range = parseTimeRange(tr);
  }
  // Validate every time-range once, so a bad one is a 400 even when no object is tested.
  const walk = (el: XmlElement): void => {
    for (const c of elements(el)) {
      if (c.ns === CAL_NS && c.local === 'time-range') parseTimeRange(c);
      walk(c);
    }
  };
  walk(filter);
  return { range, test: (vcal, comps) => compFilter([vcal], top[0]!, comps) };
}

const OBJECT_COMPONENTS = new Set(['VEVENT', 'VTODO', 'VJOURNAL', 'VFREEBUSY']);

function compFilter(candidates: ICAL.Component[], f: XmlElement, objectComps: ICAL.Component[]): boolean {
  if (has(f, CAL_NS, 'is-not-defined')) return candidates.length === 0;
  const name = (attr(f, 'name') ?? '').toUpperCase();
  return candidates.some((c) => {
    for (const sub of elements(f)) {
      if (sub.ns !== CAL_NS) continue;
      if (sub.local === 'time-range') {
        const { from, to } = parseTimeRange(sub);
        // Objects: any occurrence (overrides and expanded instances) overlapping. Alarms: not filtered.
        if (OBJECT_COMPONENTS.has(name) && !objectOverlaps(objectComps.filter((o) => o.name === c.name), from, to)) return false;
      } else if (sub.local === 'prop-filter') {
        if (!propFilter(c, sub)) return false;
      } else if (sub.local === 'comp-filter') {
        const childName = (attr(sub, 'name') ?? '').toLowerCase();
        if (!compFilter(c.getAllSubcomponents(childName), sub, objectComps)) return false;
      }
    }
    return true;
  });
}

function propFilter(c: ICAL.Component, f: XmlElement): boolean {
  const name = (attr(f, 'name') ?? '').toLowerCase();
  const props = c.getAllProperties(name);
  if (has(f, CAL_NS, 'is-not-defined')) return props.length === 0;
  if (props.length === 0) return false;
  return props.some((p) => {
    for (const sub of elements(f)) {
      if (sub.ns !== CAL_NS) continue;
      if (sub.local === 'time-range') {
        const { from, to } = parseTimeRange(sub);
        const t = propUtc(c, name);
        if (t === null || t < from || t >= to) return false;
      } else if (sub.local === 'text-match') {
        if (!textMatch(sub, propValues(p), 'supported-collation')) return false;
      } else if (sub.local === 'param-filter') {
        if (!paramFilter(p, sub, CAL_NS, 'supported-collation')) return false;
      }
    }
    return true;
  });
}
