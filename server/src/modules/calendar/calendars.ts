import { parseCalendarObject } from './ical.js';
import { CollectionStore } from './store.js';

/** The store of calendars and task lists (defaults: a calendar for events and a task list). */
export const calendarStore = new CollectionStore({
  prefix: 'calendar',
  resourceType: 'calendar',
  topic: 'calendar',
  parse: parseCalendarObject,
  defaults: [
    { slug: 'default', displayName: 'Calendar', components: 'VEVENT', color: '#2563eb' },
    { slug: 'tasks', displayName: 'Tasks', components: 'VTODO', color: '#059669' },
  ],
});
