/** Occurrences as positioned items: the views' model, the side-by-side layout of overlaps, buckets per day. */
import type { Calendar, Occurrence } from './api';
import { DAY_MS, addDays, dayKey, localDate, startOfDay } from './dates';

export interface Item {
  key: string;
  occ: Occurrence;
  cal: Calendar;
  /** Local instants (all-day: local midnights; end exclusive). */
  start: number;
  end: number;
  allDay: boolean;
}

export function toItem(occ: Occurrence, cal: Calendar): Item | null {
  if (!occ.start) return null;
  let start: number;
  let end: number;
  if (occ.allDay) {
    start = localDate(occ.start).getTime();
    end = occ.end ? localDate(occ.end).getTime() : start + DAY_MS;
    if (!(end > start)) end = addDays(new Date(start), 1).getTime();
  } else {
    start = Date.parse(occ.start);
    end = occ.end ? Date.parse(occ.end) : start;
  }
  if (Number.isNaN(start) || Number.isNaN(end)) return null;
  return { key: `${cal.id}|${occ.objectId}|${occ.recurrenceId ?? ''}`, occ, cal, start, end, allDay: occ.allDay };
}

export const byStart = (a: Item, b: Item): number => a.start - b.start || b.end - b.start - (a.end - a.start) || a.occ.summary.localeCompare(b.occ.summary);

/** Shown in the all-day row of the week view: all-day events and timed ones of 24 hours or more. */
export const isLong = (i: Item): boolean => i.allDay || i.end - i.start >= DAY_MS;

export interface Placed {
  item: Item;
  /** Minutes from the day's start, clipped to the day. */
  from: number;
  to: number;
  col: number;
  cols: number;
}

/**
 * Timed items of one day laid out side by side: clusters of overlapping items share the width, each
 * item in the first column free at its start.
 */
export function layoutDay(items: Item[], day: Date): Placed[] {
  const d0 = startOfDay(day).getTime();
  const d1 = addDays(startOfDay(day), 1).getTime();
  const mins = (t: number): number => Math.round((t - d0) / 60_000);
  const list = items
    .filter((i) => !isLong(i) && i.start < d1 && (i.end > d0 || (i.end === i.start && i.start >= d0)))
    .sort(byStart)
    .map((item) => {
      const from = Math.max(0, mins(item.start));
      const to = Math.min(mins(d1), Math.max(from + 15, mins(item.end)));
      return { item, from, to, col: 0, cols: 1 };
    });
  const out: Placed[] = [];
  let cluster: Placed[] = [];
  let colsEnd: number[] = [];
  let clusterEnd = -1;
  const flush = (): void => {
    for (const p of cluster) p.cols = colsEnd.length;
    out.push(...cluster);
    cluster = [];
    colsEnd = [];
  };
  for (const p of list) {
    if (p.from >= clusterEnd && cluster.length) flush();
    let c = colsEnd.findIndex((e) => e <= p.from);
    if (c === -1) {
      c = colsEnd.length;
      colsEnd.push(p.to);
    } else colsEnd[c] = p.to;
    p.col = c;
    cluster.push(p);
    clusterEnd = Math.max(clusterEnd, p.to);
  }
  flush();
  return out;
}

/** Items per local day ("YYYY-MM-DD") over [from, to), each item in every day it touches, sorted. */
export function bucketByDay(items: Item[], from: Date, to: Date): Map<string, Item[]> {
  const out = new Map<string, Item[]>();
  const lo = from.getTime();
  const hi = to.getTime();
  for (const i of items) {
    let d = startOfDay(new Date(Math.max(i.start, lo)));
    const last = i.end > i.start ? i.end - 1 : i.end;
    for (let n = 0; d.getTime() <= last && d.getTime() < hi && n < 62; n++) {
      const k = dayKey(d);
      let list = out.get(k);
      if (!list) out.set(k, (list = []));
      list.push(i);
      d = addDays(d, 1);
    }
  }
  for (const list of out.values()) list.sort((a, b) => Number(isLong(b)) - Number(isLong(a)) || byStart(a, b));
  return out;
}
