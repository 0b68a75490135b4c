import { AppError } from '../../errors.js';
import { listChildren, quota } from '../../modules/drive/commands.js';
import { activeLocks, covering } from '../../modules/drive/locks.js';
import { pathKey } from '../../modules/drive/names.js';
import { depthHeader, hrefOf, multistatus, readAllowed, readXml, resolve, type DavRequest } from './context.js';
import { allNames, propstat, propValue, propXml, type PropTarget } from './props.js';
import { child, clark, DAV_NS, elements, esc } from './xml.js';

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
  const q = await quota(d.platform.db, d.owner);
  const lockRoot = (l: { path: string }): string => hrefOf(d, l.path.split('/').slice(1), false);
  const targets: Array<{ segs: string[]; t: PropTarget }> = [];
  const add = (segs: string[], n: PropTarget['node']): void => {
    const folder = n === 'root' || n.kind === 'folder';
    targets.push({ segs, t: { node: n, href: hrefOf(d, segs, folder), locks: covering(locks, pathKey(segs)), lockRoot, quota: q } });
  };
  add(d.segments, node);
  if (depth === '1' && (node === 'root' || node.kind === 'folder')) {
    for (const c of await listChildren(d.platform.db, d.owner, node === 'root' ? null : node.id)) add([...d.segments, c.name], c);
  }
  let out = '';
  for (const { t } of targets) {
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
    out += `<D:response><D:href>${esc(t.href)}</D:href>${propstat(found, missing)}</D:response>`;
  }
  await multistatus(d.reply, out);
}
