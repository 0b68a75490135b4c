import { CollectionStore } from '../calendar/store.js';
import { parseVcard } from './vcard.js';

/** The store of address books (default: one "Contacts" book). Same shape and rules as calendars. */
export const contactsStore = new CollectionStore({
  prefix: 'contacts',
  resourceType: 'addressbook',
  topic: 'contacts',
  parse: parseVcard,
  defaults: [{ slug: 'contacts', displayName: 'Contacts', components: '', color: '' }],
});
