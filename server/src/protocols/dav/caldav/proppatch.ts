import { AppError } from '../../../errors.js';
import { readXml } from '../context.js';
import { clark, DAV_NS, elements, serializeChildren, textOf, type XmlElement } from '../xml.js';
import { APPLE_NS, CAL_NS, CARD_NS, collectionHref, collectionOf, multistatus, propstat, propXml, response, type DavCtx } from './context.js';

/**
 * RFC 4918 §9.2 PROPPATCH on a collection: displayname, calendar/addressbook description and Apple's
 * calendar-color are stored as fields; other non-live properties are kept as dead properties. All or
 * nothing: one protected property fails the request (403 for it, 424 for the others).
 */
const PROTECTED = new Set(
  ['resourcetype', 'sync-token', 'getetag', 'getlastmodified', 'creationdate', 'supported-report-set', 'current-user-principal', 'current-user-privilege-set', 'owner', 'getcontenttype', 'getcontentlength']
    .map((l) => clark(DAV_NS, l))
    .concat([clark(CAL_NS, 'supported-calendar-component-set'), clark(CAL_NS, 'supported-calendar-data'), clark(CAL_NS, 'max-resource-size'), clark(CARD_NS, 'supported-address-data'), clark(CARD_NS, 'max-resource-size'), clark('http://calendarserver.org/ns/', 'getctag')]),
);

export interface CollectionFields {
  displayName?: string;
  description?: string;
  color?: string;
  props: Record<string, string | null>;
}

/** Applies one set/remove of a property to the pending collection fields. */
export function applyProp(f: CollectionFields, el: XmlElement, remove: boolean): void {
  const name = clark(el.ns, el.local);
  if (name === clark(DAV_NS, 'displayname')) f.displayName = remove ? '' : textOf(el).trim();
  else if (name === clark(CAL_NS, 'calendar-description') || name === clark(CARD_NS, 'addressbook-description')) f.description = remove ? '' : textOf(el);
  else if (name === clark(APPLE_NS, 'calendar-color')) f.color = remove ? '' : textOf(el).trim();
  else f.props[name] = remove ? null : serializeChildren(el);
}

export async function proppatch(d: DavCtx): Promise<void> {
  if (d.name !== undefined) throw new AppError('forbidden', { reason: 'object properties are not writable' });
  const c = await collectionOf(d);
  const body = await readXml(d.req);
  if (!body || body.ns !== DAV_NS || body.local !== 'propertyupdate') throw new AppError('bad_request', { reason: 'propertyupdate_expected' });
  const fields: CollectionFields = { props: {} };
  const names: string[] = [];
  const refused: string[] = [];
  for (const op of elements(body)) {
    if (op.ns !== DAV_NS || (op.local !== 'set' && op.local !== 'remove')) continue;
    for (const prop of elements(op).filter((e) => e.ns === DAV_NS && e.local === 'prop')) {
      for (const el of elements(prop)) {
        const name = clark(el.ns, el.local);
        names.push(name);
        if (PROTECTED.has(name)) refused.push(name);
        else applyProp(fields, el, op.local === 'remove');
      }
    }
  }
  if (refused.length) {
    const ok = names.filter((n) => !refused.includes(n));
    const inner =
      `<D:propstat><D:prop>${refused.map((n) => propXml(n, '')).join('')}</D:prop><D:status>HTTP/1.1 403 Forbidden</D:status></D:propstat>` +
      (ok.length ? `<D:propstat><D:prop>${ok.map((n) => propXml(n, '')).join('')}</D:prop><D:status>HTTP/1.1 424 Failed Dependency</D:status></D:propstat>` : '');
    await multistatus(d.reply, response(collectionHref(d, c.slug), inner));
    return;
  }
  await d.kind.store.update(d.ctx, c, fields);
  await multistatus(d.reply, response(collectionHref(d, c.slug), propstat(names.map((n) => propXml(n, '')), [])));
}
