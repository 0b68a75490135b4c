import { AppError } from '../../../errors.js';
import { expandObject, MAX_OBJECT_BYTES, parseIcal } from '../../../modules/calendar/ical.js';
import type { CollectionStore } from '../../../modules/calendar/store.js';
import type { App, Platform } from '../../../platform/module.js';
import { child, clark, DAV_NS, esc } from '../xml.js';
import { calendarMultiget } from './calendar-multiget.js';
import { calendarQuery, parsedForQuery } from './calendar-query.js';
import { APPLE_NS, CAL_NS, type Kind } from './context.js';
import { parseTimeRange } from './filters.js';
import { freeBusyQuery } from './free-busy-query.js';
import { principalRoutes } from './principal.js';
import { collectionRoutes, prepareScope, wellKnown } from './router.js';
import { syncCollection } from './sync-collection.js';

/**
 * CalDAV (RFC 4791) at /dav/calendars/<login>/<calendar>/, principals at /dav/principals/<login>/ and
 * /.well-known/caldav (RFC 6764). Calendars hold VEVENT and/or VTODO (a task list is a calendar whose
 * supported component set is VTODO).
 */
export function calendarKind(store: CollectionStore): Kind {
  const C = (l: string): string => clark(CAL_NS, l);
  return {
    name: 'calendar',
    prefix: '/dav/calendars/',
    store,
    ns: CAL_NS,
    dataProp: C('calendar-data'),
    resourcetype: '<C:calendar/>',
    extension: '.ics',
    contentType: (o) => `text/calendar; charset=utf-8; component=${o.component.toLowerCase()}`,
    collectionPropNames: [C('calendar-description'), clark(APPLE_NS, 'calendar-color'), C('supported-calendar-component-set'), C('supported-calendar-data'), C('max-resource-size')],
    collectionProp(c, name) {
      switch (name) {
        case C('calendar-description'):
          return esc(c.description);
        case clark(APPLE_NS, 'calendar-color'):
          return c.color ? esc(c.color) : undefined;
        case C('supported-calendar-component-set'):
          return c.components
            .split(',')
            .filter(Boolean)
            .map((n) => `<C:comp name="${esc(n)}"/>`)
            .join('');
        case C('supported-calendar-data'):
          return '<C:calendar-data content-type="text/calendar" version="2.0"/>';
        case C('max-resource-size'):
          return String(MAX_OBJECT_BYTES);
        case C('supported-collation-set'):
          return '<C:supported-collation>i;ascii-casemap</C:supported-collation><C:supported-collation>i;octet</C:supported-collation><C:supported-collation>i;unicode-casemap</C:supported-collation>';
        default:
          return undefined;
      }
    },
    accept: (c) => (p) => {
      if (!c.components.split(',').includes(p.component)) throw new AppError('unsupported_component', { precondition: 'supported-calendar-component', component: p.component });
    },
    reports: {
      [C('calendar-query')]: calendarQuery,
      [C('calendar-multiget')]: calendarMultiget,
      [C('free-busy-query')]: freeBusyQuery,
      [clark(DAV_NS, 'sync-collection')]: syncCollection,
    },
    dataValue(o, request) {
      const expand = request ? child(request, CAL_NS, 'expand') : undefined;
      if (!expand) return o.data;
      const { from, to } = parseTimeRange(expand);
      const vcal = parsedForQuery.get(o) ?? parseIcal(o.data);
      return expandObject({ vcal, comps: vcal.getAllSubcomponents().filter((s) => s.name !== 'vtimezone') }, from, to);
    },
  };
}

export function caldavRoutes(app: App, platform: Platform, store: CollectionStore): void {
  const kind = calendarKind(store);
  prepareScope(app, (req) => ((req.raw.url ?? '').startsWith('/dav/calendars') ? kind : null));
  collectionRoutes(app, platform, kind);
  principalRoutes(app, platform);
  wellKnown(app, platform, '/.well-known/caldav');
}
