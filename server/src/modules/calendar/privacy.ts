import type ICAL from 'ical.js';
import { parseIcal } from './ical.js';
import type { ObjectRow } from './store.js';

/**
 * What someone who sees a calendar partly gets of an object: with a read share, CLASS:PRIVATE and
 * CONFIDENTIAL items become busy time (their times, recurrence and status; summary "Busy"; no
 * description, location, attendees or alarms); on a resource's calendar ('busy'), every item does.
 * The UID and ETag stay, so clients and the web app still address the object.
 */
const KEEP = new Set(['uid', 'dtstamp', 'dtstart', 'dtend', 'duration', 'due', 'rrule', 'rdate', 'exdate', 'recurrence-id', 'transp', 'status', 'class', 'sequence', 'created', 'last-modified']);
export const BUSY_SUMMARY = 'Busy';

const isPrivate = (c: ICAL.Component): boolean => {
  const v = String(c.getFirstPropertyValue('class') ?? '').toUpperCase();
  return v === 'PRIVATE' || v === 'CONFIDENTIAL';
};

export function redactObject(o: ObjectRow, level: 'read' | 'busy'): ObjectRow {
  if (level === 'read' && !/^CLASS[;:][^\r\n]*(PRIVATE|CONFIDENTIAL)/im.test(o.data)) return o;
  let vcal: ICAL.Component;
  try {
    vcal = parseIcal(o.data);
  } catch {
    return { ...o, data: '', summary: '' };
  }
  const comps = vcal.getAllSubcomponents().filter((c) => c.name !== 'vtimezone');
  const master = comps.find((c) => !c.hasProperty('recurrence-id')) ?? comps[0];
  const all = level === 'busy' || (master !== undefined && isPrivate(master));
  let changed = false;
  for (const c of comps) {
    if (!all && !isPrivate(c)) continue;
    changed = true;
    for (const p of [...c.getAllProperties()]) if (!KEEP.has(p.name)) c.removeProperty(p);
    for (const s of [...c.getAllSubcomponents()]) c.removeSubcomponent(s);
    c.addPropertyWithValue('summary', BUSY_SUMMARY);
  }
  if (!changed) return o;
  const data = vcal.toString().replace(/\r?\n/g, '\r\n') + '\r\n';
  return { ...o, data, size: Buffer.byteLength(data), summary: BUSY_SUMMARY };
}
