import type ICAL from 'ical.js';
import { AppError } from '../../../errors.js';
import { parseIcal } from '../../../modules/calendar/ical.js';
import { child, type XmlElement } from '../xml.js';
import { CAL_NS, collectionOf, multistatus, objectHref, type DavCtx } from './context.js';
import { compileCalendarFilter } from './filters.js';
import { parsePropRequest, propResponse } from './propfind.js';
import { OBJECT_ALLPROP, objectProp } from './props.js';

/**
 * REPORT calendar-query (RFC 4791 §7.8): objects of the collection matching the filter. A time-range on
 * the object's component is first answered by the SQL index (first start, last end), then every candidate
 * is parsed and tested exactly, recurrences expanded. calendar-data honours `expand` (§9.6.5).
 */
/** Objects parsed by the query, so calendar-data with `expand` does not parse them again. */
export const parsedForQuery = new WeakMap<object, ICAL.Component>();

export async function calendarQuery(d: DavCtx, body: XmlElement): Promise<void> {
  const c = await collectionOf(d);
  const filter = compileCalendarFilter(child(body, CAL_NS, 'filter'));
  const pr = parsePropRequest(body);
  const candidates =
    d.name !== undefined
      ? [await d.kind.store.object(d.platform.db, c, d.name)].filter((o) => o !== null)
      : await d.kind.store.objects(d.platform.db, c, filter.range ?? undefined);
  if (d.name !== undefined && candidates.length === 0) throw new AppError('not_found');
  let out = '';
  for (const o of candidates) {
    let match: boolean;
    try {
      const vcal = parseIcal(o.data);
      parsedForQuery.set(o, vcal);
      match = filter.test(vcal, vcal.getAllSubcomponents().filter((s) => s.name !== 'vtimezone'));
    } catch (e) {
      if (e instanceof AppError && e.status < 500 && e.code !== 'invalid_calendar_data') throw e;
      match = false;
    }
    if (match) out += propResponse(objectHref(d, c.slug, o.name), pr, (p) => objectProp(d, o, p, pr.elements.get(p)), OBJECT_ALLPROP);
  }
  await multistatus(d.reply, out);
}
