import { carddavRoutes } from '../../protocols/dav/carddav/index.js';
import type { BastideModule } from '../../platform/module.js';
import { collectionRule } from '../calendar/policy.js';
import { createStoreTables } from '../calendar/schema.js';
import { contactsStore } from './books.js';
import { directoryRule } from './directory.js';
import { contactsPortability } from './portability.js';
import { contactsRoutes, searchContacts } from './routes.js';

/** Address books of vCards, over CardDAV (protocols/dav/carddav) and the JSON API (/api/addressbooks). Owner only for now. */
export const contactsModule: BastideModule = {
  name: 'contacts',
  migrations: [
    {
      id: '0001_contacts',
      async up(db) {
        await createStoreTables(db, 'contacts');
      },
    },
  ],
  policies: { addressbook: collectionRule, directory: directoryRule },
  routes: (app, platform) => contactsRoutes(app, platform),
  rootRoutes: (app, platform) => carddavRoutes(app, platform, contactsStore),
  portability: contactsPortability,
  search: searchContacts,
  usage: (platform) => contactsStore.count(platform.db),
  auditActions: ['contacts.collection.deleted'],
};
