import { parseCalendarObject } from './ical.js';
import { redactObject } from './privacy.js';
import { schedulingHooks } from './scheduling.js';
import { grantOf, shareAudience } from './sharing.js';
import { CollectionStore } from './store.js';

/**
 * The store of calendars and task lists (defaults: a calendar for events and a task list), with sharing
 * (grants, private items redacted for readers) and implicit scheduling around every write.
 */
export const calendarStore = new CollectionStore({
  prefix: 'calendar',
  resourceType: 'calendar',
  topic: 'calendar',
  parse: parseCalendarObject,
  defaults: [
    { slug: 'default', displayName: 'Calendar', components: 'VEVENT', color: '#2563eb' },
    { slug: 'tasks', displayName: 'Tasks', components: 'VTODO', color: '#059669' },
  ],
  grant: grantOf,
  audience: shareAudience,
  redact: redactObject,
});
calendarStore.hooks = schedulingHooks;
