/**
 * Date arithmetic for the views (in the browser's time zone) and conversions between instants and wall
 * times in any IANA zone (the event form's zone), through Intl.
 */
export const DAY_MS = 86_400_000;
export const browserZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

export function startOfDay(d: Date): Date {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate());
}
export function addDays(d: Date, n: number): Date {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + n, d.getHours(), d.getMinutes());
}
export function addMonths(d: Date, n: number): Date {
  const day = d.getDate();
  const r = new Date(d.getFullYear(), d.getMonth() + n, 1);
  r.setDate(Math.min(day, new Date(r.getFullYear(), r.getMonth() + 1, 0).getDate()));
  return r;
}
export function startOfWeek(d: Date, firstDay: number): Date {
  const s = startOfDay(d);
  const diff = (s.getDay() - (firstDay % 7) + 7) % 7;
  return addDays(s, -diff);
}
export function startOfMonth(d: Date): Date {
  return new Date(d.getFullYear(), d.getMonth(), 1);
}
export function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}
const pad = (n: number): string => String(n).padStart(2, '0');
/** "YYYY-MM-DD" of a local date. */
export function dayKey(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
export function parseDayKey(s: string | null | undefined): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s ?? '');
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(d.getTime()) ? null : d;
}
/** The 42 days (6 weeks) of a month's grid. */
export function monthGrid(d: Date, firstDay: number): Date[] {
  const s = startOfWeek(startOfMonth(d), firstDay);
  return Array.from({ length: 42 }, (_, i) => addDays(s, i));
}
/** The first day of the week of a locale (1 = Monday, 7 or 0 = Sunday). */
export function firstDayOf(locale: string): number {
  try {
    const l = new Intl.Locale(locale) as Intl.Locale & { weekInfo?: { firstDay: number }; getWeekInfo?: () => { firstDay: number } };
    const info = l.getWeekInfo?.() ?? l.weekInfo;
    if (info) return info.firstDay % 7;
  } catch {
    /* older engines */
  }
  return /^en-(US|CA)|^ja|^he/.test(locale) ? 0 : 1;
}

// ------------------------------------------------------------------------------------ zones

const formatters = new Map<string, Intl.DateTimeFormat>();
function fmt(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(tz, f);
  }
  return f;
}
export function isZone(tz: string): boolean {
  try {
    fmt(tz);
    return true;
  } catch {
    return false;
  }
}
function parts(ms: number, tz: string): number[] {
  const p = fmt(tz).formatToParts(new Date(ms));
  const get = (t: string): number => Number(p.find((x) => x.type === t)?.value ?? 0);
  return [get('year'), get('month'), get('day'), get('hour') % 24, get('minute'), get('second')];
}
function offset(ms: number, tz: string): number {
  const [y, mo, d, h, mi, s] = parts(ms, tz) as [number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s) - Math.floor(ms / 1000) * 1000;
}
/** "YYYY-MM-DDTHH:mm" wall time of an instant in a zone. */
export function wallIn(ms: number, tz: string): string {
  const [y, mo, d, h, mi] = parts(ms, tz) as [number, number, number, number, number];
  return `${y}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}`;
}
/** The instant of a wall time "YYYY-MM-DDTHH:mm[:ss]" in a zone (a skipped hour moves forward). */
export function instantOf(wall: string, tz: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(wall);
  if (!m) return NaN;
  const w = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  const o1 = offset(w, tz);
  let t = w - o1;
  const o2 = offset(t, tz);
  if (o2 !== o1) t = w - o2;
  return t;
}
/** A date "YYYY-MM-DD" as the local midnight Date (all-day events are floating). */
export function localDate(s: string): Date {
  return parseDayKey(s.slice(0, 10)) ?? new Date(NaN);
}
export function zones(): string[] {
  const intl = Intl as typeof Intl & { supportedValuesOf?: (k: string) => string[] };
  try {
    const list = intl.supportedValuesOf?.('timeZone') ?? [];
    return list.includes('UTC') ? list : ['UTC', ...list];
  } catch {
    return ['UTC'];
  }
}
