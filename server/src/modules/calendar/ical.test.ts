import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AppError } from '../../errors.js';
import { prng } from '../../../test/helpers/api.js';
import { busyPeriods, expandObject, occurrences, parseCalendarObject, type ParsedCalendar } from './ical.js';
import { mergeCalendars, splitCalendar } from './bundle.js';
import { TIME_MAX, TIME_MIN } from './schema.js';
import { parseVcard, splitVcards } from '../contacts/vcard.js';

/** iCalendar and vCard parsing, the time index, recurrence across DST, and malformed input found in the wild. */
const ical = (name: string): Buffer => readFileSync(new URL(`../../../test/fixtures/ical/${name}`, import.meta.url));
const vcard = (name: string): Buffer => readFileSync(new URL(`../../../test/fixtures/vcard/${name}`, import.meta.url));
const Z = (s: string): number => Date.parse(s);
const iso = (ms: number): string => new Date(ms).toISOString().replace(':00.000Z', 'Z');
const starts = (p: ParsedCalendar, from?: string, to?: string): string[] =>
  occurrences(p.comps, from && to ? { from: Z(from), to: Z(to) } : undefined)
    .list.map((o) => iso(o.start))
    .sort();

function refused(fn: () => unknown, code: string, precondition?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AppError, `expected an AppError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (precondition) assert.equal(e.details?.precondition, precondition);
    return true;
  });
}

describe('recurrence and time zones', () => {
  test('weekly in Europe/Paris (VTIMEZONE): 10:00 local is 09:00Z in winter, 08:00Z after the March change; EXDATE and a moved instance', () => {
    const p = parseCalendarObject(ical('weekly-paris.ics'));
    assert.equal(p.component, 'VEVENT');
    assert.equal(p.uid, 'weekly-paris@bastide.test');
    assert.equal(p.recurring, true);
    assert.deepEqual(starts(p), [
      '2026-03-02T09:00Z', '2026-03-09T09:00Z', '2026-03-24T13:00Z', '2026-03-30T08:00Z', '2026-04-06T08:00Z', '2026-04-13T08:00Z', '2026-04-20T08:00Z', '2026-04-27T08:00Z', '2026-05-04T08:00Z',
    ]);
    assert.equal(p.rangeStart, Z('2026-03-02T09:00:00Z'));
    assert.equal(p.rangeEnd, Z('2026-05-04T09:00:00Z'));
    assert.deepEqual(starts(p, '2026-03-16T00:00:00Z', '2026-03-17T00:00:00Z'), [], 'the EXDATE');
    assert.deepEqual(starts(p, '2026-03-23T00:00:00Z', '2026-03-24T00:00:00Z'), [], 'the moved instance is no longer on its day');
  });

  test('America/New_York without VTIMEZONE is resolved by name: 09:00 is 14:00Z before 8 March, 13:00Z after', () => {
    const p = parseCalendarObject(ical('missing-vtimezone.ics'));
    assert.deepEqual(starts(p), ['2026-03-05T14:00Z', '2026-03-06T14:00Z', '2026-03-07T14:00Z', '2026-03-08T13:00Z', '2026-03-09T13:00Z']);
    const o = occurrences(p.comps).list.find((x) => iso(x.start) === '2026-03-08T13:00Z')!;
    assert.equal(o.end - o.start, 30 * 60_000);
  });

  test('America/New_York by name, at the edges: a time in the spring gap moves forward, an ambiguous autumn time takes the first instant (RFC 5545 §3.3.5)', () => {
    const daily = (time: string, start: string): ParsedCalendar =>
      parseCalendarObject(`BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:edge\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=America/New_York:${start}T${time}\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`);
    assert.deepEqual(starts(daily('023000', '20260307')), ['2026-03-07T07:30Z', '2026-03-08T07:30Z', '2026-03-09T06:30Z']);
    assert.deepEqual(starts(daily('013000', '20261031')), ['2026-10-31T05:30Z', '2026-11-01T05:30Z', '2026-11-02T06:30Z']);
  });

  test('an unknown TZID and floating times are read as UTC; the index widens them by 14 hours', () => {
    const u = parseCalendarObject(ical('unknown-tzid.ics'));
    assert.deepEqual(starts(u), ['2026-03-05T09:00Z']);
    assert.equal(u.rangeStart, Z('2026-03-05T09:00:00Z') - 14 * 3_600_000);
    const f = parseCalendarObject(ical('floating.ics'));
    assert.equal(f.rangeEnd, TIME_MAX, 'a rule with neither COUNT nor UNTIL never ends');
    assert.deepEqual(starts(f, '2030-01-01T00:00:00Z', '2031-01-01T00:00:00Z'), ['2030-03-10T09:00Z']);
  });

  test('all-day events: dates, one day without DTEND, overlap at day granularity', () => {
    const p = parseCalendarObject(ical('allday.ics'));
    const [o] = occurrences(p.comps).list;
    assert.ok(o!.allDay);
    assert.equal(iso(o!.start), '2026-04-01T00:00Z');
    assert.equal(iso(o!.end), '2026-04-03T00:00Z');
    assert.deepEqual(starts(p, '2026-04-02T12:00:00Z', '2026-04-02T13:00:00Z'), ['2026-04-01T00:00Z']);
    assert.deepEqual(starts(p, '2026-04-03T00:00:00Z', '2026-04-04T00:00:00Z'), [], 'DTEND is exclusive');
    const expanded = expandObject(p, Z('2026-04-01T00:00:00Z'), Z('2026-04-02T00:00:00Z'));
    assert.match(expanded, /DTSTART;VALUE=DATE:20260401/);
    assert.deepEqual(busyPeriods(p.comps, Z('2026-04-01T00:00:00Z'), Z('2026-04-05T00:00:00Z')), [], 'TRANSP:TRANSPARENT is free');
  });

  test('BYSETPOS: the last working day of each month', () => {
    const p = parseCalendarObject(ical('bysetpos.ics'));
    assert.deepEqual(starts(p), ['2026-01-30T16:00Z', '2026-02-27T16:00Z', '2026-03-31T16:00Z']);
    assert.equal(p.rangeEnd, Z('2026-03-31T17:00:00Z'));
  });

  test('UNTIL, EXDATE and RDATE: a finite rule with an extra date', () => {
    const p = parseCalendarObject(ical('until-rdate.ics'));
    assert.deepEqual(starts(p), ['2026-01-05T08:00Z', '2026-01-08T08:00Z', '2026-01-15T08:00Z', '2026-01-19T08:00Z', '2026-01-22T08:00Z', '2026-03-01T08:00Z']);
    assert.equal(p.rangeEnd, Z('2026-03-01T08:30:00Z'));
  });

  test('a query far from DTSTART starts the expansion by whole periods and finds exactly the same instances', () => {
    const rules = [
      'FREQ=DAILY;INTERVAL=3', 'FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE', 'FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=SU,MO', 'FREQ=MONTHLY;BYDAY=-1FR',
      'FREQ=MONTHLY;BYMONTHDAY=31', 'FREQ=MONTHLY;INTERVAL=5;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1', 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29', 'FREQ=YEARLY;INTERVAL=2',
      'FREQ=WEEKLY;BYDAY=TU;UNTIL=20310101T000000Z', 'FREQ=DAILY;BYHOUR=9,17',
    ];
    const rand = prng(11);
    for (const rule of rules) {
      for (const dtstart of ['20200131T233000', '20200229T080000']) {
        const text = `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:ff\r\nDTSTAMP:20200101T000000Z\r\nDTSTART;TZID=America/New_York:${dtstart}\r\nDURATION:PT2H\r\nRRULE:${rule}\r\nEXDATE;TZID=America/New_York:${dtstart.replace(/^2020/, '2029')}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;
        const p = parseCalendarObject(text);
        const from = Z('2025-01-01T00:00:00Z') + Math.floor(rand() * 3 * 365) * 86_400_000;
        const to = from + (1 + Math.floor(rand() * 90)) * 86_400_000;
        // The reference: every instance from DTSTART up to `to` (a range starting before DTSTART), filtered here.
        const all = occurrences(p.comps, { from: Z('2019-01-01T00:00:00Z'), to })
          .list.filter((o) => o.start < to && o.end > from)
          .map((o) => iso(o.start));
        assert.deepEqual(starts(p, new Date(from).toISOString(), new Date(to).toISOString()), all.sort(), `${rule} from ${dtstart}`);
      }
    }
  });

  test('expand: each instance with UTC times and a RECURRENCE-ID, no rule left', () => {
    const p = parseCalendarObject(ical('weekly-paris.ics'));
    const text = expandObject(p, Z('2026-03-20T00:00:00Z'), Z('2026-04-01T00:00:00Z'));
    assert.doesNotMatch(text, /RRULE|EXDATE|VTIMEZONE/);
    const events = text.split('BEGIN:VEVENT').slice(1);
    assert.equal(events.length, 2);
    assert.match(events[0]!, /RECURRENCE-ID:20260323T090000Z/);
    assert.match(events[0]!, /DTSTART:20260324T130000Z/);
    assert.match(events[1]!, /RECURRENCE-ID:20260330T080000Z/);
    assert.match(events[1]!, /DTSTART:20260330T080000Z/);
    assert.match(text, /BEGIN:VALARM/, 'alarms and attendees are kept');
  });

  test('a task without dates matches every range; one with DUE is indexed at its due time', () => {
    const u = parseCalendarObject(ical('undated-todo.ics'));
    assert.equal(u.rangeStart, TIME_MIN);
    assert.equal(u.rangeEnd, TIME_MAX);
    assert.equal(occurrences(u.comps, { from: 0, to: 1 }).list.length, 1);
    const t = parseCalendarObject(ical('todo.ics'));
    assert.equal(t.component, 'VTODO');
    assert.equal(t.rangeStart, Z('2026-03-15T17:00:00Z'));
  });
});

describe('malformed iCalendar from the wild', () => {
  test('folded lines and LF-only line ends are accepted', () => {
    const f = parseCalendarObject(ical('folded.ics'));
    assert.match(f.summary, /seventy-five octets/);
    assert.match(f.summary, /réunion d’équipe/);
    assert.equal(parseCalendarObject(ical('lf-only.ics')).uid, 'lf@bastide.test');
    // A UTF-8 BOM is dropped.
    assert.equal(parseCalendarObject(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), ical('lf-only.ics')])).uid, 'lf@bastide.test');
  });

  test('refused with valid-calendar-data: Latin-1 bytes, no UID, mixed components, garbage, bad dates, several calendars', () => {
    for (const name of ['latin1.ics', 'no-uid.ics', 'mixed.ics', 'garbage.ics', 'bad-date.ics', 'two-calendars.ics']) {
      refused(() => parseCalendarObject(ical(name)), 'invalid_calendar_data', 'valid-calendar-data');
    }
    refused(() => parseCalendarObject(''), 'invalid_calendar_data');
    refused(() => parseCalendarObject('BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\nEND:VCARD\r\n'), 'invalid_calendar_data');
  });

  test('bounds: object size and component count', () => {
    const many = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:x'];
    for (let i = 0; i < 1001; i++) many.push('BEGIN:VEVENT', 'UID:same', `RECURRENCE-ID:2026${String((i % 12) + 1).padStart(2, '0')}01T000000Z`, 'DTSTART:20260101T000000Z', 'END:VEVENT');
    many.push('END:VCALENDAR');
    refused(() => parseCalendarObject(many.join('\r\n')), 'payload_too_large');
    refused(() => parseCalendarObject(`${'X'.repeat(1024 * 1024 + 1)}`), 'payload_too_large');
  });

  test('fuzz: truncated and mutated fixtures are parsed or refused with a catalog error, never a crash', () => {
    const rand = prng(4);
    const sources = ['weekly-paris.ics', 'until-rdate.ics', 'bysetpos.ics', 'missing-vtimezone.ics'].map((n) => ical(n).toString('utf8'));
    for (let i = 0; i < 400; i++) {
      let s = sources[i % sources.length]!;
      const cut = Math.floor(rand() * s.length);
      if (i % 3 === 0) s = s.slice(0, cut);
      else if (i % 3 === 1) s = s.slice(0, cut) + String.fromCharCode(32 + Math.floor(rand() * 90)) + s.slice(cut + 1);
      else s = s.slice(0, cut) + s.slice(cut + Math.floor(rand() * 40));
      try {
        const p = parseCalendarObject(s);
        occurrences(p.comps, { from: Z('2026-01-01T00:00:00Z'), to: Z('2027-01-01T00:00:00Z') });
      } catch (e) {
        assert.ok(e instanceof AppError && e.status < 500, `input ${i} threw ${String(e)}\n${e instanceof Error ? e.stack : ''}\n${s}`);
      }
    }
  });
});

describe('import and export bundles', () => {
  test('split by UID keeps overrides together with their VTIMEZONE; merge is the way back', () => {
    const merged = mergeCalendars([ical('weekly-paris.ics').toString(), ical('todo.ics').toString(), ical('allday.ics').toString()], 'Mine');
    assert.match(merged, /X-WR-CALNAME:Mine/);
    const parts = splitCalendar(merged);
    assert.equal(parts.length, 3);
    const weekly = parseCalendarObject(parts[0]!);
    assert.equal(weekly.comps.length, 2);
    assert.match(parts[0]!, /BEGIN:VTIMEZONE/);
    assert.deepEqual(starts(weekly), starts(parseCalendarObject(ical('weekly-paris.ics'))));
  });
});

describe('vCard', () => {
  test('3.0 with folded lines, 4.0, LF-only are accepted', () => {
    const a = parseVcard(vcard('v3-folded.vcf'));
    assert.equal(a.uid, 'v3@bastide.test');
    assert.match(a.summary, /Saint-Georges-Le-Haut-Du-Rhône/);
    assert.match(a.summary, /jean@example.org/);
    assert.equal(parseVcard(vcard('v4.vcf')).uid, 'urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1');
    assert.equal(parseVcard(vcard('lf-only.vcf')).uid, 'lf@bastide.test');
  });

  test('refused with valid-address-data: no UID, Latin-1, vCard 2.1, several cards in one resource', () => {
    for (const name of ['no-uid.vcf', 'latin1.vcf', 'v21.vcf', 'several.vcf']) refused(() => parseVcard(vcard(name)), 'invalid_vcard', 'valid-address-data');
  });

  test('a .vcf file with several cards splits into one card each', () => {
    const cards = splitVcards(vcard('several.vcf').toString());
    assert.deepEqual(
      cards.map((c) => parseVcard(c).uid),
      ['s1@bastide.test', 's2@bastide.test'],
    );
  });
});
