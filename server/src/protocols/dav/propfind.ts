import { AppError } from '../../errors.js';
import { listChildrenForListing, quota } from '../../modules/drive/commands.js';
import { activeLocks, covering } from '../../modules/drive/locks.js';
import { pathKey } from '../../modules/drive/names.js';
import { depthHeader, encodeSegment, hrefOf, multistatus, readAllowed, readXml, resolve, type DavRequest } from './context.js';
import { allNames, allpropResponse, propstat, propValue, propXml, QUOTA, type PropTarget } from './props.js';
import { child, clark, DAV_NS, elements, esc } from './xml.js';

const QUOTA_NAMES = new Set(QUOTA.map((p) => clark(DAV_NS, p)));

export async function propfind(d: DavRequest): Promise<void> {
  await readAllowed(d);
  const depth = depthHeader(d.req, 'infinity');
  if (depth === 'infinity') {
    await d.reply.status(403).type('application/xml; charset=utf-8').send('<?xml version="1.0" encoding="utf-8"?>\n<D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>');
    return;
  }
  if (depth !== '0' && depth !== '1') throw new AppError('bad_request', { reason: 'invalid_depth' });
  const body = await readXml(d.req);
  let mode: 'allprop' | 'propname' | 'prop' = 'allprop';
  let wanted: string[] = [];
  if (body) {
    if (body.ns !== DAV_NS || body.local !== 'propfind') throw new AppError('bad_request', { reason: 'propfind_expected' });
    const prop = child(body, DAV_NS, 'prop');
    if (prop) {
      mode = 'prop';
      wanted = elements(prop).map((e) => clark(e.ns, e.local));
    } else if (child(body, DAV_NS, 'propname')) mode = 'propname';
    else if (!child(body, DAV_NS, 'allprop')) throw new AppError('bad_request', { reason: 'propfind_expected' });
  }
  const node = await resolve(d);
  if (node === null) throw new AppError('not_found');
  const locks = await activeLocks(d.platform.db, d.owner, d.platform.clock.now());
  // The quota takes two aggregate queries: only when a quota property is asked for (allprop leaves it out).
  const q = mode === 'prop' && wanted.some((n) => QUOTA_NAMES.has(n)) ? await quota(d.platform, d.platform.db, d.owner) : { used: 0, available: 0 };
  const lockRoot = (l: { path: string }): string => hrefOf(d, l.path.split('/').slice(1), false);
  const folder = node === 'root' || node.kind === 'folder';
  const targets: PropTarget[] = [{ node, href: hrefOf(d, d.segments, folder), locks: locks.length ? covering(locks, pathKey(d.segments)) : [], lockRoot, quota: q }];
  if (depth === '1' && folder) {
    // One query for all the children; each href is the folder's plus one encoded segment.
    const prefix = hrefOf(d, d.segments, true);
    const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
    for (const c of await listChildrenForListing(d.platform.db, d.owner, node === 'root' ? null : node.id)) {
      const isFolder = c.kind === 'folder';
      const href = `${base}${encodeSegment(c.name)}${isFolder ? '/' : ''}`;
      targets.push({ node: c, href, locks: locks.length ? covering(locks, pathKey([...d.segments, c.name])) : [], lockRoot, quota: q });
    }
  }
  const parts: string[] = [];
  for (const t of targets) {
    const fast = mode === 'allprop' ? allpropResponse(t) : undefined;
    if (fast !== undefined) {
      parts.push(fast);
      continue;
    }
    const found: string[] = [];
    const missing: string[] = [];
    const names = mode === 'prop' ? wanted : allNames(t);
    for (const name of names) {
      if (mode === 'propname') {
        found.push(propXml(name, ''));
        continue;
      }
      const v = propValue(t, name);
      if (v === undefined) {
        if (mode === 'prop') missing.push(propXml(name, ''));
      } else found.push(propXml(name, v));
    }
    parts.push(`<D:response><D:href>${esc(t.href)}</D:href>${propstat(found, missing)}</D:response>`);
  }
  await multistatus(d.reply, parts.join(''));
}
