import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../../errors.js';
import type { Platform } from '../../../platform/module.js';
import type { UserActor } from '../../../platform/policy.js';
import type { CollectionRow, CollectionStore, ObjectRow, Owner, ParsedObject, StoreContext } from '../../../modules/calendar/store.js';
import { encodeSegment } from '../context.js';
import { DAV_NS, esc, propElement, type XmlElement } from '../xml.js';
import { mountedCollection } from './shared.js';

/**
 * What CalDAV and CardDAV share: the URL layout (/dav/<kind>/<login>/<collection>/<object>), the request
 * context, multistatus output with the usual prefixes, and precondition errors (RFC 4918 §16).
 */
export const CAL_NS = 'urn:ietf:params:xml:ns:caldav';
export const CARD_NS = 'urn:ietf:params:xml:ns:carddav';
export const CS_NS = 'http://calendarserver.org/ns/';
export const APPLE_NS = 'http://apple.com/ns/ical/';
export const PRINCIPALS = '/dav/principals/';

const PREFIXES: Record<string, string> = { [DAV_NS]: 'D', [CAL_NS]: 'C', [CARD_NS]: 'CR', [CS_NS]: 'CS', [APPLE_NS]: 'A' };
export const NS_DECLS = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CR="urn:ietf:params:xml:ns:carddav" xmlns:CS="http://calendarserver.org/ns/" xmlns:A="http://apple.com/ns/ical/"';

/** The kind-specific half of a collection endpoint (calendars or address books). */
export interface Kind {
  name: 'calendar' | 'addressbook';
  /** "/dav/calendars/" */
  prefix: string;
  store: CollectionStore;
  /** Namespace of its preconditions and its data property. */
  ns: string;
  /** Clark name of the data property: calendar-data or address-data. */
  dataProp: string;
  /** resourcetype content for its collections. */
  resourcetype: string;
  /** Extension used for new resource names by the JSON API and imports. */
  extension: string;
  contentType(o: ObjectRow): string;
  /** Kind-specific live properties of a collection (undefined: not one of them). */
  collectionProp(c: CollectionRow, name: string): string | undefined;
  collectionPropNames: string[];
  /** Checks a parsed object fits the collection (supported component). */
  accept(c: CollectionRow): (p: ParsedObject) => void;
  /** Parses MKCALENDAR / extended MKCOL properties it understands into collection fields. */
  reports: Record<string, (d: DavCtx, body: XmlElement) => Promise<void>>;
  /** Value of `{ns}data-prop` for an object, honouring the request element (expand, ...). */
  dataValue(o: ObjectRow, request: XmlElement | undefined): string;
}

export interface DavCtx {
  platform: Platform;
  req: FastifyRequest;
  reply: FastifyReply;
  actor: UserActor;
  ctx: StoreContext;
  kind: Kind;
  owner: Owner;
  login: string;
  /** "/dav/calendars/alice/" */
  home: string;
  /** Collection slug and object name (undefined at the home / collection). */
  slug?: string | undefined;
  name?: string | undefined;
}

export const principalHref = (login: string): string => `${PRINCIPALS}${encodeSegment(login)}/`;
export const collectionHref = (d: Pick<DavCtx, 'home'>, slug: string): string => `${d.home}${encodeSegment(slug)}/`;
export const objectHref = (d: Pick<DavCtx, 'home'>, slug: string, name: string): string => `${d.home}${encodeSegment(slug)}/${encodeSegment(name)}`;

/** Splits the path below a kind's prefix: [login, slug?, name?], decoded; null when not below it. */
export function splitPath(url: string, prefix: string): string[] | null {
  let path = url;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    try {
      path = new URL(path).pathname;
    } catch {
      return null;
    }
  }
  path = path.split('?')[0]!.split('#')[0]!;
  if (!path.startsWith(prefix)) return null;
  const raw = path.slice(prefix.length).split('/');
  if (raw.at(-1) === '') raw.pop();
  try {
    return raw.map((s) => decodeURIComponent(s).normalize('NFC'));
  } catch {
    throw new AppError('bad_request', { reason: 'invalid_percent_encoding' });
  }
}

/** The object name an href designates inside the collection of `d` (multiget, sync), or null. */
export function nameInCollection(d: DavCtx, href: string): string | null {
  const parts = splitPath(href, d.kind.prefix);
  if (!parts || parts.length !== 3) return null;
  if (parts[0]!.toLowerCase() !== d.login.toLowerCase() || parts[1] !== d.slug) return null;
  return parts[2]!;
}

export function propXml(name: string, inner: string): string {
  const i = name.indexOf('}');
  const ns = name.slice(1, i);
  const local = name.slice(i + 1);
  const p = PREFIXES[ns];
  if (p) return inner === '' ? `<${p}:${local}/>` : `<${p}:${local}>${inner}</${p}:${local}>`;
  return propElement(name, inner);
}

export function propstat(found: string[], missing: string[], missingStatus = 'HTTP/1.1 404 Not Found'): string {
  let out = '';
  if (found.length) out += `<D:propstat><D:prop>${found.join('')}</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>`;
  if (missing.length) out += `<D:propstat><D:prop>${missing.join('')}</D:prop><D:status>${missingStatus}</D:status></D:propstat>`;
  return out;
}

export const response = (href: string, inner: string): string => `<D:response><D:href>${esc(href)}</D:href>${inner}</D:response>`;
export const statusResponse = (href: string, status: string): string => `<D:response><D:href>${esc(href)}</D:href><D:status>HTTP/1.1 ${status}</D:status></D:response>`;

export function multistatus(reply: FastifyReply, body: string, extra = ''): FastifyReply {
  return reply.status(207).type('application/xml; charset=utf-8').send(`<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus ${NS_DECLS}>${body}${extra}</D:multistatus>`);
}

const DAV_PRECONDITIONS = new Set(['valid-sync-token', 'number-of-matches-within-limits', 'resource-must-be-null', 'propfind-finite-depth', 'supported-report', 'valid-resourcetype']);

/** The body of an error carrying a precondition (RFC 4918 §16), or null. */
export function preconditionXml(err: AppError, kind: Kind | null): string | null {
  const p = err.details?.precondition;
  if (typeof p !== 'string') return null;
  const ns = DAV_PRECONDITIONS.has(p) ? DAV_NS : (kind?.ns ?? CAL_NS);
  const href = typeof err.details?.href === 'string' ? `<D:href>${esc(err.details.href)}</D:href>` : '';
  const prefix = PREFIXES[ns]!;
  return `<?xml version="1.0" encoding="utf-8"?>\n<D:error ${NS_DECLS}><${prefix}:${p}>${href}</${prefix}:${p}></D:error>`;
}

/** The collection of the request (404 when absent): one of the owner's, or a shared calendar mounted in one's home. */
export async function collectionOf(d: DavCtx): Promise<CollectionRow> {
  if (d.slug === undefined) throw new AppError('not_found');
  const c = (await d.kind.store.bySlug(d.ctx, d.owner, d.slug)) ?? (await mountedCollection(d, d.slug));
  if (!c) throw new AppError('not_found');
  return c;
}

export const syncToken = (c: Pick<CollectionRow, 'id' | 'sync_seq'>): string => `urn:bastide:sync:${c.id}:${Number(c.sync_seq)}`;

/** The sequence number in a sync token of this collection; null for any other token. */
export function parseSyncToken(c: CollectionRow, token: string): number | null {
  const m = /^urn:bastide:sync:([0-9A-Z]+):(\d{1,15})$/.exec(token.trim());
  if (!m || m[1] !== c.id) return null;
  const n = Number(m[2]);
  return n <= Number(c.sync_seq) ? n : null;
}

export const etagHeader = (o: ObjectRow): string => `"${o.etag}"`;

export function optionalHeader(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

export const privileges =
  '<D:privilege><D:read/></D:privilege><D:privilege><D:write/></D:privilege><D:privilege><D:write-properties/></D:privilege><D:privilege><D:write-content/></D:privilege>' +
  '<D:privilege><D:bind/></D:privilege><D:privilege><D:unbind/></D:privilege><D:privilege><D:read-current-user-privilege-set/></D:privilege>';
