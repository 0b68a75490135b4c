import { AppError } from '../../../errors.js';
import { DAV_NS, elements, textOf, type XmlElement } from '../xml.js';
import { collectionOf, multistatus, nameInCollection, objectHref, statusResponse, type DavCtx } from './context.js';
import { parsePropRequest, propResponse } from './propfind.js';
import { OBJECT_ALLPROP, objectProp } from './props.js';

/** calendar-multiget (RFC 4791 §7.9) and addressbook-multiget (RFC 6352 §8.7): the objects named by href. */
export const MAX_MULTIGET = 5000;

export async function multiget(d: DavCtx, body: XmlElement): Promise<void> {
  const c = await collectionOf(d);
  if (d.name !== undefined) throw new AppError('bad_request', { reason: 'multiget targets a collection' });
  const hrefs = elements(body).filter((e) => e.ns === DAV_NS && e.local === 'href').map((e) => textOf(e).trim());
  if (hrefs.length > MAX_MULTIGET) throw new AppError('forbidden', { precondition: 'number-of-matches-within-limits' });
  const pr = parsePropRequest(body);
  const names = new Map<string, string>();
  for (const h of hrefs) {
    const n = nameInCollection(d, h);
    if (n !== null) names.set(h, n);
  }
  const found = new Map((await d.kind.store.objectsByName(d.platform.db, c, [...new Set(names.values())])).map((o) => [o.name, o]));
  let out = '';
  for (const h of hrefs) {
    const n = names.get(h);
    const o = n === undefined ? undefined : found.get(n);
    if (!o) out += statusResponse(h, '404 Not Found');
    else out += propResponse(objectHref(d, c.slug, o.name), pr, (p) => objectProp(d, o, p, pr.elements.get(p)), OBJECT_ALLPROP);
  }
  await multistatus(d.reply, out);
}
