import { AppError } from '../../../errors.js';
import { busyPeriods, freeBusyCalendar, parseIcal, type BusyPeriod } from '../../../modules/calendar/ical.js';
import { child, type XmlElement } from '../xml.js';
import { CAL_NS, collectionOf, type DavCtx } from './context.js';
import { parseTimeRange } from './filters.js';

/**
 * REPORT free-busy-query (RFC 4791 §7.10) on a calendar: a VFREEBUSY of the busy periods of its events
 * in the time range (transparent and cancelled events left out, tentative ones marked BUSY-TENTATIVE).
 */
export async function freeBusyQuery(d: DavCtx, body: XmlElement): Promise<void> {
  const c = await collectionOf(d);
  if (d.name !== undefined) throw new AppError('forbidden', { reason: 'free-busy-query targets a calendar' });
  const tr = child(body, CAL_NS, 'time-range');
  if (!tr) throw new AppError('bad_request', { precondition: 'valid-filter', reason: 'time-range missing' });
  const { from, to } = parseTimeRange(tr);
  const periods: BusyPeriod[] = [];
  for (const o of await d.kind.store.objects(d.platform.db, c, { from, to })) {
    if (o.component !== 'VEVENT') continue;
    const vcal = parseIcal(o.data);
    periods.push(...busyPeriods(vcal.getAllSubcomponents('vevent'), from, to));
  }
  await d.reply.status(200).type('text/calendar; charset=utf-8').send(freeBusyCalendar(periods, from, to, d.platform.clock.now()));
}
