import { AppError } from '../../../errors.js';
import { depthHeader, readXml } from '../context.js';
import { child, clark, DAV_NS, elements, type XmlElement } from '../xml.js';
import { collectionHref, collectionOf, multistatus, objectHref, propstat, propXml, response, type DavCtx } from './context.js';
import { collectionAllprop, collectionProp, HOME_ALLPROP, homeProp, OBJECT_ALLPROP, objectProp } from './props.js';
import { boxResponses } from './schedule.js';
import { mountsOf } from './shared.js';

/** RFC 4918 §9.1 PROPFIND on a home, a collection or an object (Depth 0 or 1; infinity is refused). */
export interface PropRequest {
  mode: 'allprop' | 'propname' | 'prop';
  wanted: string[];
  /** The request elements by Clark name (calendar-data may carry expand). */
  elements: Map<string, XmlElement>;
}

export function parsePropRequest(body: XmlElement | null | undefined): PropRequest {
  const req: PropRequest = { mode: 'allprop', wanted: [], elements: new Map() };
  if (!body) return req;
  const prop = child(body, DAV_NS, 'prop');
  if (prop) {
    req.mode = 'prop';
    for (const e of elements(prop)) {
      const n = clark(e.ns, e.local);
      req.wanted.push(n);
      req.elements.set(n, e);
    }
  } else if (child(body, DAV_NS, 'propname')) req.mode = 'propname';
  return req;
}

/** One response for a resource, given its value function and its allprop names. */
export function propResponse(href: string, pr: PropRequest, value: (name: string) => string | undefined, all: string[]): string {
  const found: string[] = [];
  const missing: string[] = [];
  const names = pr.mode === 'prop' ? pr.wanted : all;
  for (const name of names) {
    if (pr.mode === 'propname') {
      found.push(propXml(name, ''));
      continue;
    }
    const v = value(name);
    if (v === undefined) {
      if (pr.mode === 'prop') missing.push(propXml(name, ''));
    } else found.push(propXml(name, v));
  }
  return response(href, propstat(found, missing));
}

export async function propfind(d: DavCtx): Promise<void> {
  const depth = depthHeader(d.req, 'infinity');
  if (depth === 'infinity') throw new AppError('forbidden', { precondition: 'propfind-finite-depth' });
  if (depth !== '0' && depth !== '1') throw new AppError('bad_request', { reason: 'invalid_depth' });
  const body = await readXml(d.req);
  if (body && (body.ns !== DAV_NS || body.local !== 'propfind')) throw new AppError('bad_request', { reason: 'propfind_expected' });
  const pr = parsePropRequest(body);
  const store = d.kind.store;
  let out = '';
  if (d.slug === undefined) {
    const list = await store.list(d.ctx, d.owner);
    out += propResponse(d.home, pr, (n) => homeProp(d, n), HOME_ALLPROP);
    if (depth === '1') {
      for (const c of list) out += propResponse(collectionHref(d, c.slug), pr, (n) => collectionProp(d, c, n), collectionAllprop(d, c));
      // Calendars shared with the caller, mounted in their home, and the scheduling inbox and outbox.
      for (const c of await mountsOf(d)) out += propResponse(collectionHref(d, c.slug), pr, (n) => collectionProp(d, c, n), collectionAllprop(d, c));
      if (d.kind.name === 'calendar' && d.owner.type === 'user' && d.owner.id === d.actor.userId) out += boxResponses(d, pr);
    }
  } else {
    const c = await collectionOf(d);
    if (d.name === undefined) {
      out += propResponse(collectionHref(d, c.slug), pr, (n) => collectionProp(d, c, n), collectionAllprop(d, c));
      if (depth === '1') {
        const wantsData = pr.mode === 'prop' && pr.wanted.includes(d.kind.dataProp);
        for (const o of await store.objects(d.platform.db, c)) {
          out += propResponse(objectHref(d, c.slug, o.name), pr, (n) => (n === d.kind.dataProp && !wantsData ? undefined : objectProp(d, o, n, pr.elements.get(n))), OBJECT_ALLPROP);
        }
      }
    } else {
      const o = await store.object(d.platform.db, c, d.name);
      if (!o) throw new AppError('not_found');
      out += propResponse(objectHref(d, c.slug, o.name), pr, (n) => objectProp(d, o, n, pr.elements.get(n)), OBJECT_ALLPROP);
    }
  }
  await multistatus(d.reply, out);
}
