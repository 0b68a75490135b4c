/** Saving, moving and deleting events, with the "this one / this and following / all" choice for series. */
import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import {
  createEvent,
  deleteObject,
  deleteOccurrence,
  detailsKey,
  editOccurrence,
  getDetails,
  getObject,
  importIcs,
  updateEvent,
  type EventDetails,
  type EventInput,
  type ObjectRef,
  type Scope,
} from './api';
import { DAY_MS, addDays, browserZone, dayKey, instantOf, localDate, wallIn } from './dates';
import type { Item } from './layout';

export function fetchDetails(qc: QueryClient, calendarId: string, objectId: string, recurrenceId: string | null): Promise<EventDetails> {
  return qc.fetchQuery({ queryKey: detailsKey(calendarId, objectId, recurrenceId), queryFn: ({ signal }) => getDetails(calendarId, objectId, recurrenceId, signal), staleTime: 0 });
}

/** Start and end fields of an input, for local instants (all-day: local midnights, end exclusive). */
export function timesOf(start: number, end: number, allDay: boolean, tz: string): Pick<EventInput, 'start' | 'end' | 'allDay' | 'timeZone'> {
  if (allDay) return { start: dayKey(new Date(start)), end: dayKey(new Date(Math.max(end, start + DAY_MS / 2))), allDay: true };
  return { start: wallIn(start, tz), end: wallIn(Math.max(end, start), tz), allDay: false, timeZone: tz };
}

/** The master's start and end as local instants. */
function masterSpan(d: EventDetails): { start: number; end: number; tz: string } {
  const tz = d.timeZone ?? browserZone();
  if (d.allDay) return { start: localDate(d.start).getTime(), end: localDate(d.end).getTime(), tz };
  return { start: instantOf(d.start, tz), end: instantOf(d.end, tz), tz };
}

export function useEventActions() {
  const qc = useQueryClient();
  const refresh = useCallback(async () => {
    await qc.invalidateQueries({ queryKey: ['calendar', 'occurrences'] });
    void qc.invalidateQueries({ queryKey: ['calendar', 'details'] });
  }, [qc]);

  /**
   * Saves `input` for an occurrence. `input` carries the occurrence's new times; for "all", the master
   * moves by as much as this occurrence did, and keeps its own date.
   */
  const save = useCallback(
    async (item: Item, input: EventInput, scope: Scope, ruleChanged: boolean): Promise<void> => {
      const { cal, occ } = item;
      if (!occ.recurring) {
        await updateEvent(cal.id, occ.objectId, input);
      } else if (scope === 'all') {
        const master = await fetchDetails(qc, cal.id, occ.objectId, null);
        const m = masterSpan(master);
        const tz = input.timeZone ?? m.tz;
        const newStart = input.allDay ? localDate(input.start).getTime() : instantOf(input.start, tz);
        const newEnd = input.end ? (input.allDay ? localDate(input.end).getTime() : instantOf(input.end, tz)) : newStart;
        let s: number;
        if (input.allDay) s = addDays(new Date(m.start), Math.round((newStart - item.start) / DAY_MS)).getTime();
        else if (master.allDay) s = instantOf(`${dayKey(new Date(m.start))}T${wallIn(newStart, tz).slice(11)}`, tz);
        else s = m.start + (newStart - item.start);
        const body: EventInput = { ...input, ...timesOf(s, s + (newEnd - newStart), Boolean(input.allDay), tz) };
        if (!ruleChanged) delete body.rrule;
        await updateEvent(cal.id, occ.objectId, body);
      } else {
        const event: EventInput = { ...input };
        if (scope === 'this' || !ruleChanged) delete event.rrule;
        await editOccurrence(cal.id, occ.objectId, { recurrenceId: occ.recurrenceId!, scope, event });
      }
      await refresh();
    },
    [qc, refresh],
  );

  /** Moves or resizes an occurrence to [start, end) (local instants). */
  const move = useCallback(
    async (item: Item, start: number, end: number, scope: Scope): Promise<void> => {
      const d = await fetchDetails(qc, item.cal.id, item.occ.objectId, item.occ.recurring ? item.occ.recurrenceId : null);
      const tz = d.timeZone ?? browserZone();
      await save(item, { summary: d.summary, ...timesOf(start, end, item.allDay, tz) }, scope, false);
    },
    [qc, save],
  );

  const remove = useCallback(
    async (item: Item, scope: Scope): Promise<void> => {
      const { cal, occ } = item;
      if (!occ.recurring || scope === 'all' || !occ.recurrenceId) await deleteObject(cal.id, occ.objectId);
      else await deleteOccurrence(cal.id, occ.objectId, occ.recurrenceId, scope);
      await refresh();
    },
    [refresh],
  );

  const create = useCallback(
    async (calendarId: string, input: EventInput): Promise<ObjectRef> => {
      const ref = await createEvent(calendarId, input);
      await refresh();
      return ref;
    },
    [refresh],
  );

  /** Moves a whole event to another calendar (its iCalendar text as it is). */
  const changeCalendar = useCallback(
    async (item: Item, toCalendarId: string): Promise<void> => {
      const o = await getObject(item.cal.id, item.occ.objectId);
      await importIcs(toCalendarId, new Blob([o.ics], { type: 'text/calendar' }), () => {});
      await deleteObject(item.cal.id, item.occ.objectId);
      await refresh();
    },
    [refresh],
  );

  return { save, move, remove, create, changeCalendar, refresh };
}
