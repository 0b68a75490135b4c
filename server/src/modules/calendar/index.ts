import { caldavRoutes } from '../../protocols/dav/caldav/index.js';
import type { BastideModule } from '../../platform/module.js';
import { calendarStore } from './calendars.js';
import { collectionRule } from './policy.js';
import { calendarPortability } from './portability.js';
import { calendarRoutes, searchObjects } from './routes.js';
import { calendarMigrations } from './schema.js';

/**
 * Calendars and task lists (one task model for all of Bastide: VTODO in a calendar collection), served
 * over CalDAV (protocols/dav/caldav) and the JSON API (/api/calendars). Owner only for now.
 */
export const calendarModule: BastideModule = {
  name: 'calendar',
  migrations: calendarMigrations,
  policies: { calendar: collectionRule },
  routes: (app, platform) => calendarRoutes(app, platform),
  rootRoutes: (app, platform) => caldavRoutes(app, platform, calendarStore),
  portability: calendarPortability,
  search: searchObjects,
  usage: (platform) => calendarStore.count(platform.db),
  auditActions: ['calendar.collection.deleted'],
};
