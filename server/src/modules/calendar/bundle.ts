import ICAL from 'ical.js';
import { invalid, parseIcal } from './ical.js';

/**
 * Whole calendars as one .ics file (export) and back into one object per UID (import), keeping every
 * property, override (RECURRENCE-ID), attendee and alarm, and the VTIMEZONEs each object refers to.
 */
export const MAX_IMPORT_OBJECTS = 20_000;

export function mergeCalendars(texts: string[], name?: string): string {
  const out = new ICAL.Component('vcalendar');
  out.addPropertyWithValue('version', '2.0');
  out.addPropertyWithValue('prodid', '-//Bastide//Calendar//EN');
  if (name) out.addPropertyWithValue('x-wr-calname', name);
  const zones = new Set<string>();
  for (const t of texts) {
    let vcal: ICAL.Component;
    try {
      vcal = parseIcal(t);
    } catch {
      continue;
    }
    // A copy: adding a component to another parent removes it from this one.
    for (const c of [...vcal.getAllSubcomponents()]) {
      if (c.name === 'vtimezone') {
        const id = String(c.getFirstPropertyValue('tzid') ?? '');
        if (zones.has(id)) continue;
        zones.add(id);
      }
      out.addSubcomponent(c);
    }
  }
  return out.toString().replace(/\r?\n/g, '\r\n') + '\r\n';
}

/** One VCALENDAR text per UID (with the VTIMEZONEs it uses), in file order. */
export function splitCalendar(text: string): string[] {
  const vcal = parseIcal(text);
  const zones = new Map<string, ICAL.Component>();
  for (const z of vcal.getAllSubcomponents('vtimezone')) zones.set(String(z.getFirstPropertyValue('tzid') ?? ''), z);
  const groups = new Map<string, ICAL.Component[]>();
  for (const c of vcal.getAllSubcomponents()) {
    if (c.name === 'vtimezone') continue;
    const uid = c.getFirstPropertyValue('uid');
    if (typeof uid !== 'string' || uid === '') throw invalid(`a ${c.name.toUpperCase()} has no UID`);
    const key = `${c.name}\u0000${uid}`;
    const g = groups.get(key) ?? [];
    g.push(c);
    groups.set(key, g);
    if (groups.size > MAX_IMPORT_OBJECTS) throw invalid('too many objects');
  }
  const out: string[] = [];
  for (const comps of groups.values()) {
    const one = new ICAL.Component('vcalendar');
    one.addPropertyWithValue('version', '2.0');
    one.addPropertyWithValue('prodid', String(vcal.getFirstPropertyValue('prodid') ?? '-//Bastide//Calendar//EN'));
    const used = new Set<string>();
    const walk = (c: ICAL.Component): void => {
      for (const p of c.getAllProperties()) {
        const tz = p.getParameter('tzid');
        if (typeof tz === 'string') used.add(tz);
      }
      for (const s of c.getAllSubcomponents()) walk(s);
    };
    comps.forEach(walk);
    for (const id of used) {
      const z = zones.get(id);
      if (z) one.addSubcomponent(new ICAL.Component(JSON.parse(JSON.stringify(z.toJSON())) as unknown[]));
    }
    for (const c of comps) one.addSubcomponent(new ICAL.Component(JSON.parse(JSON.stringify(c.toJSON())) as unknown[]));
    out.push(one.toString().replace(/\r?\n/g, '\r\n') + '\r\n');
  }
  return out;
}

/** A safe resource name for an imported or created object. */
export function resourceName(uid: string, extension: string): string {
  const base = /^[A-Za-z0-9@._-]{1,200}$/.test(uid) ? uid : Buffer.from(uid).toString('hex').slice(0, 200);
  return `${base}${extension}`;
}
