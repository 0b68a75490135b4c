import { AppError } from '../../../errors.js';
import type { CollectionStore } from '../../../modules/calendar/store.js';
import { MAX_VCARD_BYTES } from '../../../modules/contacts/vcard.js';
import type { App, Platform } from '../../../platform/module.js';
import { CARD_NS, type Kind } from '../caldav/context.js';
import { collectionRoutes, prepareScope, wellKnown } from '../caldav/router.js';
import { syncCollection } from '../caldav/sync-collection.js';
import { clark, DAV_NS, esc } from '../xml.js';
import { addressbookMultiget } from './addressbook-multiget.js';
import { addressbookQuery } from './addressbook-query.js';

/** CardDAV (RFC 6352) at /dav/addressbooks/<login>/<book>/ and /.well-known/carddav (RFC 6764). */
export function addressbookKind(store: CollectionStore): Kind {
  const CR = (l: string): string => clark(CARD_NS, l);
  return {
    name: 'addressbook',
    prefix: '/dav/addressbooks/',
    store,
    ns: CARD_NS,
    dataProp: CR('address-data'),
    resourcetype: '<CR:addressbook/>',
    extension: '.vcf',
    contentType: () => 'text/vcard; charset=utf-8',
    collectionPropNames: [CR('addressbook-description'), CR('supported-address-data'), CR('max-resource-size')],
    collectionProp(c, name) {
      switch (name) {
        case CR('addressbook-description'):
          return esc(c.description);
        case CR('supported-address-data'):
          return '<CR:address-data-type content-type="text/vcard" version="3.0"/><CR:address-data-type content-type="text/vcard" version="4.0"/>';
        case CR('max-resource-size'):
          return String(MAX_VCARD_BYTES);
        default:
          return undefined;
      }
    },
    accept: () => (p) => {
      if (p.component !== 'VCARD') throw new AppError('invalid_vcard', { precondition: 'valid-address-data' });
    },
    reports: {
      [CR('addressbook-query')]: addressbookQuery,
      [CR('addressbook-multiget')]: addressbookMultiget,
      [clark(DAV_NS, 'sync-collection')]: syncCollection,
    },
    // address-data with a property subset is answered with the whole vCard (allowed: RFC 6352 §10.4).
    dataValue: (o) => o.data,
  };
}

export function carddavRoutes(app: App, platform: Platform, store: CollectionStore): void {
  const kind = addressbookKind(store);
  prepareScope(app, () => kind);
  collectionRoutes(app, platform, kind);
  wellKnown(app, platform, '/.well-known/carddav');
}
