/**
 * The recurrence editor's model: the rules people write by hand (daily, weekly on some days, monthly on a
 * date or on "the 2nd Tuesday", yearly; an interval; until a date or a number of times) to and from an
 * RFC 5545 RRULE. A rule outside this model is shown as text and kept untouched.
 */
export type Freq = 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'YEARLY';
export const WEEKDAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface Rule {
  freq: Freq;
  interval: number;
  /** WEEKLY: the days. */
  byDay: Weekday[];
  /** MONTHLY: on the start's day of month, or on its nth weekday (setPos -1 = last). */
  monthly: 'date' | 'weekday';
  end: 'never' | 'until' | 'count';
  /** "YYYY-MM-DD" */
  until: string;
  count: number;
}

export function defaultRule(freq: Freq, start: Date): Rule {
  return { freq, interval: 1, byDay: [WEEKDAYS[start.getDay()]!], monthly: 'date', end: 'never', until: '', count: 10 };
}

/** The nth weekday of its month of a date (1..4, or -1 for the last). */
export function nthOf(d: Date): number {
  const n = Math.ceil(d.getDate() / 7);
  const daysInMonth = new Date(d.getFullYear(), d.getMonth() + 1, 0).getDate();
  return d.getDate() + 7 > daysInMonth && n >= 4 ? -1 : n;
}

/** Parses an RRULE into the editor's model, or null when the editor cannot express it. */
export function parseRule(text: string, start: Date): Rule | null {
  if (text.includes('\n')) return null;
  const parts = new Map<string, string>();
  for (const kv of text.replace(/^RRULE:/i, '').split(';')) {
    const [k, v] = kv.split('=');
    if (!k || v === undefined) return null;
    parts.set(k.toUpperCase(), v.toUpperCase());
  }
  const freq = parts.get('FREQ');
  if (freq !== 'DAILY' && freq !== 'WEEKLY' && freq !== 'MONTHLY' && freq !== 'YEARLY') return null;
  const rule = defaultRule(freq, start);
  for (const [k, v] of parts) {
    switch (k) {
      case 'FREQ':
        break;
      case 'INTERVAL':
        rule.interval = Number(v);
        if (!Number.isInteger(rule.interval) || rule.interval < 1 || rule.interval > 999) return null;
        break;
      case 'COUNT':
        rule.end = 'count';
        rule.count = Number(v);
        if (!Number.isInteger(rule.count) || rule.count < 1) return null;
        break;
      case 'UNTIL': {
        const m = /^(\d{4})(\d{2})(\d{2})(T\d{6}Z?)?$/.exec(v);
        if (!m) return null;
        rule.end = 'until';
        if (m[4]) {
          // An instant (UTC): its local date.
          const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(v.slice(9, 11)), Number(v.slice(11, 13)), Number(v.slice(13, 15)));
          const d = new Date(ms);
          rule.until = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
        } else rule.until = `${m[1]}-${m[2]}-${m[3]}`;
        break;
      }
      case 'WKST':
        break;
      case 'BYDAY': {
        if (freq === 'WEEKLY') {
          const days = v.split(',');
          if (!days.every((d) => (WEEKDAYS as readonly string[]).includes(d))) return null;
          rule.byDay = days as Weekday[];
        } else if (freq === 'MONTHLY') {
          const m = /^(-1|[1-4])?([A-Z]{2})$/.exec(v);
          const pos = m?.[1] ?? parts.get('BYSETPOS');
          if (!m || m[2] !== WEEKDAYS[start.getDay()] || pos === undefined || Number(pos) !== nthOf(start)) return null;
          rule.monthly = 'weekday';
        } else return null;
        break;
      }
      case 'BYSETPOS':
        if (freq !== 'MONTHLY' || !parts.has('BYDAY')) return null;
        break;
      case 'BYMONTHDAY':
        if ((freq !== 'MONTHLY' && freq !== 'YEARLY') || Number(v) !== start.getDate()) return null;
        break;
      case 'BYMONTH':
        if (freq !== 'YEARLY' || Number(v) !== start.getMonth() + 1) return null;
        break;
      default:
        return null;
    }
  }
  if (rule.end === 'count' && parts.has('UNTIL')) return null;
  return rule;
}

/** The RRULE of a rule, for a series starting on `start` (UNTIL is inclusive of its whole day). */
export function formatRule(r: Rule, start: Date, allDay: boolean): string {
  const out = [`FREQ=${r.freq}`];
  if (r.interval > 1) out.push(`INTERVAL=${r.interval}`);
  if (r.freq === 'WEEKLY') {
    const days = r.byDay.length ? r.byDay : [WEEKDAYS[start.getDay()]!];
    out.push(`BYDAY=${WEEKDAYS.filter((d) => days.includes(d)).join(',')}`);
  }
  if (r.freq === 'MONTHLY') {
    if (r.monthly === 'weekday') out.push(`BYDAY=${nthOf(start)}${WEEKDAYS[start.getDay()]}`);
    else out.push(`BYMONTHDAY=${start.getDate()}`);
  }
  if (r.end === 'count') out.push(`COUNT=${Math.max(1, Math.floor(r.count))}`);
  if (r.end === 'until' && /^\d{4}-\d{2}-\d{2}$/.test(r.until)) {
    const [y, m, d] = r.until.split('-').map(Number) as [number, number, number];
    if (allDay) out.push(`UNTIL=${r.until.replace(/-/g, '')}`);
    else {
      // The end of that local day, in UTC (RFC 5545: UNTIL is UTC when DTSTART has a zone).
      const end = new Date(y, m - 1, d, 23, 59, 59);
      out.push(`UNTIL=${end.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')}`);
    }
  }
  return out.join(';');
}
