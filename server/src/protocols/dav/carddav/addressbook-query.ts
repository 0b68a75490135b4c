import { AppError } from '../../../errors.js';
import { parseVcardComponent } from '../../../modules/contacts/vcard.js';
import { CARD_NS, collectionOf, multistatus, objectHref, type DavCtx } from '../caldav/context.js';
import { paramFilter, propValues, textMatch } from '../caldav/filters.js';
import { parsePropRequest, propResponse } from '../caldav/propfind.js';
import { OBJECT_ALLPROP, objectProp } from '../caldav/props.js';
import { child, elements, textOf, type XmlElement } from '../xml.js';
import type ICAL from 'ical.js';

/**
 * REPORT addressbook-query (RFC 6352 §8.6): prop-filters (anyof/allof, is-not-defined, text-match with
 * match-type, param-filter) over every vCard of the book, and CARDDAV:limit/nresults.
 */
const attr = (el: XmlElement, name: string): string | undefined => el.attrs.find((a) => a.local === name && a.ns === '')?.value;

function propFilter(card: ICAL.Component, f: XmlElement): boolean {
  const name = (attr(f, 'name') ?? '').toLowerCase();
  const props = card.getAllProperties(name);
  const subs = elements(f).filter((e) => e.ns === CARD_NS);
  if (subs.some((e) => e.local === 'is-not-defined')) return props.length === 0;
  if (props.length === 0) return false;
  const tests = subs.filter((e) => e.local === 'text-match' || e.local === 'param-filter');
  if (tests.length === 0) return true;
  const allof = attr(f, 'test') === 'allof';
  return props.some((p) => {
    const results = tests.map((t) => (t.local === 'text-match' ? textMatch(t, propValues(p), 'supported-collation') : paramFilter(p, t, CARD_NS, 'supported-collation')));
    return allof ? results.every(Boolean) : results.some(Boolean);
  });
}

export async function addressbookQuery(d: DavCtx, body: XmlElement): Promise<void> {
  const c = await collectionOf(d);
  const filter = child(body, CARD_NS, 'filter');
  if (!filter) throw new AppError('bad_request', { precondition: 'valid-filter', reason: 'filter missing' });
  const filters = elements(filter).filter((e) => e.ns === CARD_NS && e.local === 'prop-filter');
  const allof = attr(filter, 'test') === 'allof';
  const limitEl = child(body, CARD_NS, 'limit');
  const nresults = limitEl ? Number(textOf(child(limitEl, CARD_NS, 'nresults') ?? limitEl).trim()) : Infinity;
  if (Number.isNaN(nresults) || nresults < 0) throw new AppError('bad_request', { reason: 'invalid nresults' });
  const pr = parsePropRequest(body);
  let out = '';
  let n = 0;
  let truncated = false;
  for (const o of await d.kind.store.objects(d.platform.db, c)) {
    let card: ICAL.Component;
    try {
      card = parseVcardComponent(o.data);
    } catch {
      continue;
    }
    const results = filters.map((f) => propFilter(card, f));
    const match = filters.length === 0 || (allof ? results.every(Boolean) : results.some(Boolean));
    if (!match) continue;
    if (n >= nresults) {
      truncated = true;
      break;
    }
    n++;
    out += propResponse(objectHref(d, c.slug, o.name), pr, (p) => objectProp(d, o, p, pr.elements.get(p)), OBJECT_ALLPROP);
  }
  // RFC 6352 §8.6.1: a truncated answer says so with a 507 response for the collection.
  if (truncated) out += `<D:response><D:href>${d.home}${encodeURIComponent(c.slug)}/</D:href><D:status>HTTP/1.1 507 Insufficient Storage</D:status><D:error><D:number-of-matches-within-limits/></D:error></D:response>`;
  await multistatus(d.reply, out);
}
