import type { NodeRow } from '../../modules/drive/commands.js';
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
  node: NodeRow | 'root';
  href: string;
  locks: LockRow[];
  lockRoot: (l: LockRow) => string;
  quota: { used: number; available: number };
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
        return '<D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry><D:lockentry><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>';
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
  const dead = JSON.parse(n.props) as Record<string, string>;
  if (name in dead) return dead[name];
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
export function allNames(t: PropTarget): string[] {
  const names = LIVE.map((l) => clark(DAV_NS, l));
  if (t.node !== 'root') for (const k of Object.keys(JSON.parse(t.node.props) as Record<string, string>)) if (!names.includes(k)) names.push(k);
  return names;
}

export function propstat(found: string[], missing: string[], status404 = 'HTTP/1.1 404 Not Found'): string {
  let out = '';
  if (found.length) out += `<D:propstat><D:prop>${found.join('')}</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>`;
  if (missing.length) out += `<D:propstat><D:prop>${missing.join('')}</D:prop><D:status>${status404}</D:status></D:propstat>`;
  return out;
}
