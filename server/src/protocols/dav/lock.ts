import { AppError } from '../../errors.js';
import { putFile } from '../../modules/drive/commands.js';
import { activeLocks, clampTimeout, conflicts, covering, insertLock, refreshLock, type LockRow } from '../../modules/drive/locks.js';
import { pathKey } from '../../modules/drive/names.js';
import { checkConditions, depthHeader, hrefOf, readXml, resolve, type DavRequest } from './context.js';
import { parseIfHeader, submittedTokens } from './if-header.js';
import { activeLockXml } from './props.js';
import { child, DAV_NS, serializeChildren } from './xml.js';

function requestedTimeout(header: string | undefined): number | null {
  if (!header) return null;
  for (const part of header.split(',')) {
    const t = part.trim();
    if (/^infinite$/i.test(t)) return Infinity;
    const m = /^Second-(\d+)$/i.exec(t);
    if (m) return Number(m[1]);
  }
  return null;
}

async function answer(d: DavRequest, lock: LockRow, status: number): Promise<void> {
  const root = hrefOf(d, lock.path.split('/').slice(1), false);
  await d.reply
    .status(status)
    .header('lock-token', `<${lock.token}>`)
    .type('application/xml; charset=utf-8')
    .send(`<?xml version="1.0" encoding="utf-8"?>\n<D:prop xmlns:D="DAV:"><D:lockdiscovery>${activeLockXml(lock, root)}</D:lockdiscovery></D:prop>`);
}

/** LOCK: new exclusive or shared write locks, refreshes; an unmapped URL becomes an empty file (§7.3). */
export async function lock(d: DavRequest): Promise<void> {
  const body = await readXml(d.req);
  const timeout = clampTimeout(requestedTimeout(d.req.headers.timeout as string | undefined));
  const path = pathKey(d.segments);
  const now = d.platform.clock.now();
  if (!body) {
    // Refresh: the If header names the lock.
    const header = d.req.headers.if;
    if (typeof header !== 'string') throw new AppError('bad_request', { reason: 'lock_body_or_if_required' });
    const tokens = submittedTokens(parseIfHeader(header));
    const mine = covering(await activeLocks(d.platform.db, d.owner, now), path).find((l) => tokens.has(l.token) && l.principal_id === d.actor.userId);
    if (!mine) throw new AppError('precondition_failed');
    await answer(d, { ...(await refreshLock(d.platform.db, mine.token, timeout, now)), path: mine.path }, 200);
    return;
  }
  if (body.ns !== DAV_NS || body.local !== 'lockinfo') throw new AppError('bad_request', { reason: 'lockinfo_expected' });
  const scopeEl = child(body, DAV_NS, 'lockscope');
  const scope = scopeEl && child(scopeEl, DAV_NS, 'shared') ? 'shared' : scopeEl && child(scopeEl, DAV_NS, 'exclusive') ? 'exclusive' : null;
  const typeEl = child(body, DAV_NS, 'locktype');
  if (!scope || !typeEl || !child(typeEl, DAV_NS, 'write')) throw new AppError('bad_request', { reason: 'lockinfo_invalid' });
  const ownerEl = child(body, DAV_NS, 'owner');
  const depth = depthHeader(d.req, 'infinity');
  if (depth !== '0' && depth !== 'infinity') throw new AppError('bad_request', { reason: 'invalid_depth' });
  let existing = await resolve(d);
  let created = false;
  if (existing === null) {
    // Lock an unmapped URL: create an empty resource (a locked empty resource, RFC 4918 §7.3).
    await checkConditions(d, [{ segments: d.segments, membership: true }]);
    await putFile(d.ctx, d.owner, d.segments, Buffer.alloc(0), { contentType: 'application/octet-stream' });
    existing = await resolve(d);
    created = true;
  }
  const row = await d.platform.transaction(async (trx) => {
    const locks = await activeLocks(trx, d.owner, now);
    if (typeof d.req.headers.if === 'string') await checkConditions(d, [], trx);
    if (conflicts(locks, path, scope, depth).length > 0) throw new AppError('locked');
    return insertLock(d.ctx, trx, d.owner, { path, depth, scope, ownerXml: ownerEl ? serializeChildren(ownerEl) : '', timeoutSeconds: timeout });
  });
  await answer(d, row, created ? 201 : 200);
}
