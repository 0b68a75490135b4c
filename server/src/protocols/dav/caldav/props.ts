import type { CollectionRow, ObjectRow } from '../../../modules/calendar/store.js';
import { clark, DAV_NS, esc, type XmlElement } from '../xml.js';
import { CAL_NS, CARD_NS, CS_NS, principalHref, PRINCIPALS, privileges, syncToken, type DavCtx } from './context.js';

/**
 * Property values (inner XML) of the four kinds of resources: principal, home, collection, object.
 * undefined means "not a property of this resource" (404 in its propstat).
 */
const D = (local: string): string => clark(DAV_NS, local);

export interface PrincipalInfo {
  login: string;
  displayName: string;
  email: string | null;
}

const href = (h: string): string => `<D:href>${esc(h)}</D:href>`;

export function principalProp(p: PrincipalInfo, name: string): string | undefined {
  const self = principalHref(p.login);
  switch (name) {
    case D('resourcetype'):
      return '<D:principal/>';
    case D('displayname'):
      return esc(p.displayName);
    case D('current-user-principal'):
    case D('principal-URL'):
      return href(self);
    case D('principal-collection-set'):
      return href(PRINCIPALS);
    case D('owner'):
      return href(self);
    case D('supported-report-set'):
      return '';
    case D('current-user-privilege-set'):
      return '<D:privilege><D:read/></D:privilege>';
    case clark(CAL_NS, 'calendar-home-set'):
      return href(`/dav/calendars/${encodeURIComponent(p.login)}/`);
    case clark(CARD_NS, 'addressbook-home-set'):
      return href(`/dav/addressbooks/${encodeURIComponent(p.login)}/`);
    case clark(CAL_NS, 'calendar-user-address-set'):
      return (p.email ? href(`mailto:${p.email}`) : '') + href(self);
    case clark(CAL_NS, 'calendar-user-type'):
      return 'INDIVIDUAL';
    case clark(CAL_NS, 'schedule-inbox-URL'):
      return href(`/dav/calendars/${encodeURIComponent(p.login)}/inbox/`);
    case clark(CAL_NS, 'schedule-outbox-URL'):
      return href(`/dav/calendars/${encodeURIComponent(p.login)}/outbox/`);
    default:
      return undefined;
  }
}
export const PRINCIPAL_ALLPROP = ['resourcetype', 'displayname', 'current-user-principal', 'principal-URL'].map(D).concat([clark(CAL_NS, 'calendar-home-set'), clark(CARD_NS, 'addressbook-home-set')]);

/** Properties every resource of a user's tree answers. */
function common(d: DavCtx, name: string): string | undefined {
  switch (name) {
    case D('current-user-principal'):
      return href(principalHref(d.actor.login));
    case D('owner'):
      return href(principalHref(d.login));
    case D('current-user-privilege-set'):
      return privileges;
    default:
      return undefined;
  }
}

export function homeProp(d: DavCtx, name: string): string | undefined {
  switch (name) {
    case D('resourcetype'):
      return '<D:collection/>';
    case D('displayname'):
      return esc(d.login);
    default:
      return common(d, name);
  }
}
export const HOME_ALLPROP = ['resourcetype', 'displayname'].map(D);

export const REPORTS: Record<'calendar' | 'addressbook', string[]> = {
  calendar: ['<C:calendar-query/>', '<C:calendar-multiget/>', '<C:free-busy-query/>', '<D:sync-collection/>'],
  addressbook: ['<CR:addressbook-query/>', '<CR:addressbook-multiget/>', '<D:sync-collection/>'],
};

/** What someone who only reads a collection (a read share, a resource's calendar) may do. */
const READ_PRIVILEGES = '<D:privilege><D:read/></D:privilege><D:privilege><D:read-current-user-privilege-set/></D:privilege>';

export function collectionProp(d: DavCtx, c: CollectionRow, name: string): string | undefined {
  switch (name) {
    case D('current-user-privilege-set'):
      return d.kind.store.visibility(c) === 'full' ? privileges : READ_PRIVILEGES;
    case D('owner'):
      return c.owner_type === 'user' && c.owner_id !== d.owner.id ? undefined : href(principalHref(d.login));
    case D('resourcetype'):
      return `<D:collection/>${d.kind.resourcetype}`;
    case D('displayname'):
      return esc(c.display_name);
    case D('sync-token'):
      return esc(syncToken(c));
    case clark(CS_NS, 'getctag'):
      return esc(syncToken(c));
    case D('getetag'):
      return esc(`"${c.id}-${Number(c.sync_seq)}"`);
    case D('supported-report-set'):
      return REPORTS[d.kind.name].map((r) => `<D:supported-report><D:report>${r}</D:report></D:supported-report>`).join('');
    case D('getlastmodified'):
      return new Date(Number(c.updated_at)).toUTCString();
    case D('creationdate'):
      return new Date(Number(c.created_at)).toISOString();
  }
  const k = d.kind.collectionProp(c, name);
  if (k !== undefined) return k;
  const cm = common(d, name);
  if (cm !== undefined) return cm;
  const dead = JSON.parse(c.props) as Record<string, string>;
  return dead[name];
}

export function collectionAllprop(d: DavCtx, c: CollectionRow): string[] {
  const names = ['resourcetype', 'displayname', 'sync-token', 'getlastmodified', 'creationdate'].map(D).concat([clark(CS_NS, 'getctag')], d.kind.collectionPropNames);
  for (const k of Object.keys(JSON.parse(c.props) as Record<string, string>)) if (!names.includes(k)) names.push(k);
  return names;
}

export function objectProp(d: DavCtx, o: ObjectRow, name: string, dataRequest?: XmlElement): string | undefined {
  switch (name) {
    case D('resourcetype'):
      return '';
    case D('getetag'):
      return esc(`"${o.etag}"`);
    case D('getcontenttype'):
      return esc(d.kind.contentType(o));
    case D('getcontentlength'):
      return String(Number(o.size));
    case D('getlastmodified'):
      return new Date(Number(o.updated_at)).toUTCString();
    case D('creationdate'):
      return new Date(Number(o.created_at)).toISOString();
    case d.kind.dataProp:
      return esc(d.kind.dataValue(o, dataRequest));
    default:
      return common(d, name);
  }
}
export const OBJECT_ALLPROP = ['resourcetype', 'getetag', 'getcontenttype', 'getcontentlength', 'getlastmodified', 'creationdate'].map(D);
