import { AppError } from '../../../errors.js';
import { readXml } from '../context.js';
import { child, DAV_NS, elements, type XmlElement } from '../xml.js';
import { CAL_NS, CARD_NS, type DavCtx } from './context.js';
import { applyProp, type CollectionFields } from './proppatch.js';

/**
 * MKCALENDAR (RFC 4791 §5.3.1) and extended MKCOL (RFC 5689) creating a calendar or an address book,
 * with its initial properties (displayname, description, colour, supported-calendar-component-set).
 * A plain MKCOL creates an address book below the address-book home (older CardDAV clients do that).
 */
const COMPONENTS = ['VEVENT', 'VTODO', 'VJOURNAL'];

export async function mkcalendar(d: DavCtx, method: 'MKCALENDAR' | 'MKCOL'): Promise<void> {
  if (d.slug === undefined || d.name !== undefined) throw new AppError('method_not_allowed');
  if (method === 'MKCALENDAR' && d.kind.name !== 'calendar') throw new AppError('method_not_allowed');
  // The scheduling boxes and the mounts of shared calendars are reserved names of a calendar home.
  if (d.kind.name === 'calendar' && (d.slug === 'inbox' || d.slug === 'outbox' || /^shared-/.test(d.slug))) throw new AppError('already_exists');
  const body = await readXml(d.req);
  const fields: CollectionFields = { props: {} };
  let components = d.kind.name === 'calendar' ? 'VEVENT,VTODO' : '';
  let typed = method === 'MKCALENDAR' || d.kind.name === 'addressbook';
  if (body) {
    const expected = method === 'MKCALENDAR' ? { ns: CAL_NS, local: 'mkcalendar' } : { ns: DAV_NS, local: 'mkcol' };
    if (body.ns !== expected.ns || body.local !== expected.local) throw new AppError('bad_request', { reason: `${expected.local}_expected` });
    for (const set of elements(body).filter((e) => e.ns === DAV_NS && e.local === 'set')) {
      const prop = child(set, DAV_NS, 'prop');
      if (!prop) continue;
      for (const el of elements(prop)) {
        if (el.ns === DAV_NS && el.local === 'resourcetype') {
          const want = d.kind.name === 'calendar' ? { ns: CAL_NS, local: 'calendar' } : { ns: CARD_NS, local: 'addressbook' };
          const kinds = elements(el).filter((e) => !(e.ns === DAV_NS && e.local === 'collection'));
          if (kinds.length !== 1 || kinds[0]!.ns !== want.ns || kinds[0]!.local !== want.local) throw new AppError('forbidden', { precondition: 'valid-resourcetype' });
          typed = true;
        } else if (el.ns === CAL_NS && el.local === 'supported-calendar-component-set') {
          components = parseComponentSet(el);
        } else if (el.ns === CAL_NS && el.local === 'calendar-timezone') {
          fields.props[`{${CAL_NS}}calendar-timezone`] = el.children.filter((c) => typeof c === 'string').join('').replace(/[&<>]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[ch]!);
        } else applyProp(fields, el, false);
      }
    }
  }
  if (!typed) throw new AppError('forbidden', { precondition: 'valid-resourcetype' });
  await d.kind.store.create(d.ctx, d.owner, {
    slug: d.slug,
    displayName: fields.displayName ?? d.slug,
    ...(fields.description !== undefined ? { description: fields.description } : {}),
    ...(fields.color !== undefined ? { color: fields.color } : {}),
    components,
    props: Object.fromEntries(Object.entries(fields.props).filter((e): e is [string, string] => e[1] !== null)),
  });
  await d.reply.status(201).header('content-length', '0').send();
}

export function parseComponentSet(el: XmlElement): string {
  const names = elements(el)
    .filter((c) => c.ns === CAL_NS && c.local === 'comp')
    .map((c) => (c.attrs.find((a) => a.local === 'name')?.value ?? '').toUpperCase());
  if (names.length === 0 || names.some((n) => !COMPONENTS.includes(n))) throw new AppError('forbidden', { precondition: 'supported-calendar-component' });
  return [...new Set(names)].join(',');
}
