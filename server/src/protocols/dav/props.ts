import type { ListedNode } from '../../modules/drive/commands.js';
import type { LockRow } from '../../modules/drive/locks.js';
import { clark, DAV_NS, esc, propElement } from './xml.js';

export const LIVE = ['creationdate', 'displayname', 'getcontentlength', 'getcontenttype', 'getetag', 'getlastmodified', 'resourcetype', 'supportedlock', 'lockdiscovery'];
/** RFC 4331: returned when asked for, not in allprop. */
export const QUOTA = ['quota-available-bytes', 'quota-used-bytes'];
export const PROTECTED = new Set([...LIVE, ...QUOTA].filter((p) => p !== 'displayname').map((p) => clark(DAV_NS, p)));

export function activeLockXml(l: LockRow, root: string): string {
  const left = Math.max(0, Math.round((Number(l.expires_at) - Date.now()) / 1000));
  return (
    `<D:activelock><D:locktype><D:write/></D:locktype><D:lockscope><D:${l.scope}/></D:lockscope><D:depth>${l.depth}</D:depth>` +
    (l.owner_xml ? `<D:owner>${l.owner_xml}</D:owner>` : '') +
    `<D:timeout>Second-${left}</D:timeout><D:locktoken><D:href>${esc(l.token)}</D:href></D:locktoken><D:lockroot><D:href>${esc(root)}</D:href></D:lockroot></D:activelock>`
  );
}

export interface PropTarget {
  node: ListedNode | 'root';
  href: string;
  locks: LockRow[];
  lockRoot: (l: LockRow) => string;
  quota: { used: number; available: number };
  /** The node's dead properties, parsed once (filled on first use). */
  dead?: Record<string, string>;
}

/** The dead properties of a target (parsed from the row once per target, not once per property). */
export function deadProps(t: PropTarget): Record<string, string> {
  if (t.dead) return t.dead;
  t.dead = t.node === 'root' || t.node.props === '{}' ? {} : (JSON.parse(t.node.props) as Record<string, string>);
  return t.dead;
}

const SUPPORTED_LOCK =
  '<D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry><D:lockentry><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>';

// eslint-disable-next-line no-control-regex
const NEEDS_ESC = /[&<>"\u0000-\u0008\u000b\u000c\u000e-\u001f]/;
/** esc(), skipping the two replaces when nothing needs escaping (the common case: names, hrefs, types). */
const escq = (s: string): string => (NEEDS_ESC.test(s) ? esc(s) : s);
const tag = (local: string, inner: string): string => (inner === '' ? `<D:${local}/>` : `<D:${local}>${inner}</D:${local}>`);

/**
 * The allprop response of a node with no dead property and no lock, built as one string: byte for byte
 * what the generic path (allNames → propValue → propXml → propstat) produces, without its per-property
 * dispatch and intermediate arrays (a PROPFIND Depth 1 on a large folder is mostly this). Undefined when
 * the node needs the generic path.
 */
export function allpropResponse(t: PropTarget): string | undefined {
  if (t.node === 'root' || t.locks.length > 0 || t.node.props !== '{}') return undefined;
  const n = t.node;
  const folder = n.kind === 'folder';
  return (
    `<D:response><D:href>${escq(t.href)}</D:href><D:propstat><D:prop>` +
    `<D:creationdate>${new Date(Number(n.created_at)).toISOString()}</D:creationdate>` +
    tag('displayname', escq(n.name)) +
    (folder ? '' : `<D:getcontentlength>${String(n.size)}</D:getcontentlength>${tag('getcontenttype', escq(n.content_type))}`) +
    `<D:getetag>&quot;${escq(n.etag)}&quot;</D:getetag>` +
    `<D:getlastmodified>${new Date(Number(n.updated_at)).toUTCString()}</D:getlastmodified>` +
    (folder ? '<D:resourcetype><D:collection/></D:resourcetype>' : '<D:resourcetype/>') +
    `<D:supportedlock>${SUPPORTED_LOCK}</D:supportedlock><D:lockdiscovery/></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`
  );
}

/** The value (inner XML) of a property, or undefined when the resource has none. */
export function propValue(t: PropTarget, name: string): string | undefined {
  const n = t.node === 'root' ? null : t.node;
  const folder = n === null || n.kind === 'folder';
  if (name.startsWith(`{${DAV_NS}}`)) {
    const local = name.slice(DAV_NS.length + 2);
    switch (local) {
      case 'resourcetype':
        return folder ? '<D:collection/>' : '';
      case 'displayname':
        break;
      case 'creationdate':
        return n ? new Date(Number(n.created_at)).toISOString() : undefined;
      case 'getlastmodified':
        return n ? new Date(Number(n.updated_at)).toUTCString() : undefined;
      case 'getetag':
        return n ? esc(`"${n.etag}"`) : undefined;
      case 'getcontentlength':
        return n && !folder ? String(n.size) : undefined;
      case 'getcontenttype':
        return n && !folder ? esc(n.content_type) : undefined;
      case 'supportedlock':
        return SUPPORTED_LOCK;
      case 'lockdiscovery':
        return t.locks.map((l) => activeLockXml(l, t.lockRoot(l))).join('');
      case 'quota-used-bytes':
        return String(t.quota.used);
      case 'quota-available-bytes':
        return String(t.quota.available);
      default:
        break;
    }
  }
  if (!n) return undefined;
  const dead = deadProps(t);
  if (Object.hasOwn(dead, name)) return dead[name];
  if (name === clark(DAV_NS, 'displayname')) return esc(n.name);
  return undefined;
}

export function propXml(name: string, inner: string): string {
  if (name.startsWith(`{${DAV_NS}}`)) {
    const local = name.slice(DAV_NS.length + 2);
    return inner === '' ? `<D:${local}/>` : `<D:${local}>${inner}</D:${local}>`;
  }
  return propElement(name, inner);
}

/** Names for allprop / propname: live properties (no quota) and the dead ones. */
const LIVE_NAMES = LIVE.map((l) => clark(DAV_NS, l));

export function allNames(t: PropTarget): string[] {
  const extra = Object.keys(deadProps(t)).filter((k) => !LIVE_NAMES.includes(k));
  return extra.length ? [...LIVE_NAMES, ...extra] : LIVE_NAMES;
}

export function propstat(found: string[], missing: string[], status404 = 'HTTP/1.1 404 Not Found'): string {
  let out = '';
  if (found.length) out += `<D:propstat><D:prop>${found.join('')}</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>`;
  if (missing.length) out += `<D:propstat><D:prop>${missing.join('')}</D:prop><D:status>${status404}</D:status></D:propstat>`;
  return out;
}
