import { AppError } from '../../errors.js';
import { patchProps, type PropOp } from '../../modules/drive/commands.js';
import { checkConditions, hrefOf, multistatus, readXml, resolve, type DavRequest } from './context.js';
import { propXml, PROTECTED } from './props.js';
import { clark, DAV_NS, elements, esc, serializeChildren } from './xml.js';

export async function proppatch(d: DavRequest): Promise<void> {
  const body = await readXml(d.req);
  if (!body || body.ns !== DAV_NS || body.local !== 'propertyupdate') throw new AppError('bad_request', { reason: 'propertyupdate_expected' });
  const ops: PropOp[] = [];
  for (const action of elements(body)) {
    if (action.ns !== DAV_NS || (action.local !== 'set' && action.local !== 'remove')) continue;
    for (const prop of elements(action).filter((e) => e.ns === DAV_NS && e.local === 'prop')) {
      for (const p of elements(prop)) {
        const name = clark(p.ns, p.local);
        ops.push(action.local === 'set' ? { op: 'set', name, value: serializeChildren(p) } : { op: 'remove', name });
      }
    }
  }
  const node = await resolve(d);
  if (node === null) throw new AppError('not_found');
  const href = hrefOf(d, d.segments, node === 'root' || node.kind === 'folder');
  const refused = ops.filter((o) => PROTECTED.has(o.name));
  if (refused.length > 0 || node === 'root') {
    const bad = node === 'root' ? ops : refused;
    const rest = ops.filter((o) => !bad.includes(o));
    const xml =
      `<D:propstat><D:prop>${bad.map((o) => propXml(o.name, '')).join('')}</D:prop><D:status>HTTP/1.1 403 Forbidden</D:status></D:propstat>` +
      (rest.length ? `<D:propstat><D:prop>${rest.map((o) => propXml(o.name, '')).join('')}</D:prop><D:status>HTTP/1.1 424 Failed Dependency</D:status></D:propstat>` : '');
    await multistatus(d.reply, `<D:response><D:href>${esc(href)}</D:href>${xml}</D:response>`);
    return;
  }
  await checkConditions(d, [{ segments: d.segments }]);
  await patchProps(d.ctx, d.owner, d.segments, ops, async (trx) => {
    await checkConditions(d, [{ segments: d.segments }], trx);
  });
  const names = [...new Set(ops.map((o) => o.name))];
  await multistatus(d.reply, `<D:response><D:href>${esc(href)}</D:href><D:propstat><D:prop>${names.map((n) => propXml(n, '')).join('')}</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`);
}
