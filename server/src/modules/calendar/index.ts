import { caldavRoutes } from '../../protocols/dav/caldav/index.js';
import type { BastideModule } from '../../platform/module.js';
import { calendarStore } from './calendars.js';
import { collectionRule, resourceRule } from './policy.js';
import { calendarPortability } from './portability.js';
import { calendarRoutes, searchObjects } from './routes.js';
import { calendarMigrations } from './schema.js';
import { schedulingRoutes } from './scheduling-routes.js';
import { taskRoutes } from './task-routes.js';

/**
 * Calendars and task lists (one task model for all of Bastide: VTODO in a calendar collection), served
 * over CalDAV (protocols/dav/caldav) and the JSON API (/api/calendars), with implicit scheduling,
 * sharing and resources (scheduling.ts, sharing.ts, resources.ts; their routes in scheduling-routes.ts).
 */
export const calendarModule: BastideModule = {
  name: 'calendar',
  migrations: calendarMigrations,
  policies: { calendar: collectionRule, 'calendar-resource': resourceRule },
  routes: async (app, platform) => { await calendarRoutes(app, platform); await taskRoutes(app, platform); await schedulingRoutes(app, platform); },
  rootRoutes: (app, platform) => caldavRoutes(app, platform, calendarStore),
  portability: calendarPortability,
  search: searchObjects,
  usage: (platform) => calendarStore.count(platform.db),
  auditActions: ['calendar.collection.deleted', 'calendar.share.created', 'calendar.share.updated', 'calendar.share.revoked', 'calendar.link.created', 'calendar.link.revoked', 'calendar.resource.created', 'calendar.resource.updated', 'calendar.resource.deleted'],
};
