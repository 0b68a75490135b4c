import type { DavCtx } from '../caldav/context.js';
import { multiget } from '../caldav/multiget.js';
import type { XmlElement } from '../xml.js';

/** REPORT addressbook-multiget (RFC 6352 §8.7). */
export function addressbookMultiget(d: DavCtx, body: XmlElement): Promise<void> {
  return multiget(d, body);
}
