import { AppError } from '../../../errors.js';
import { child, DAV_NS, esc, textOf, type XmlElement } from '../xml.js';
import { collectionOf, multistatus, objectHref, parseSyncToken, statusResponse, syncToken, type DavCtx } from './context.js';
import { parsePropRequest, propResponse } from './propfind.js';
import { OBJECT_ALLPROP, objectProp } from './props.js';

/**
 * REPORT sync-collection (RFC 6578) on a calendar or an address book: with no token every object; with a
 * token the objects changed since (their properties) and those deleted since (404 tombstones), and the
 * new token. An unknown or foreign token is DAV:valid-sync-token (403). sync-level 1 only.
 */
export async function syncCollection(d: DavCtx, body: XmlElement): Promise<void> {
  const c = await collectionOf(d);
  if (d.name !== undefined) throw new AppError('forbidden', { reason: 'sync-collection targets a collection' });
  const level = child(body, DAV_NS, 'sync-level');
  if (level && textOf(level).trim() !== '1') throw new AppError('forbidden', { precondition: 'supported-report', reason: 'only sync-level 1' });
  const tokenEl = child(body, DAV_NS, 'sync-token');
  const token = tokenEl ? textOf(tokenEl).trim() : '';
  const pr = parsePropRequest(body);
  const store = d.kind.store;
  let out = '';
  let seq: number;
  if (token === '') {
    const objects = await store.objects(d.platform.db, c);
    for (const o of objects) out += propResponse(objectHref(d, c.slug, o.name), pr, (p) => objectProp(d, o, p, pr.elements.get(p)), OBJECT_ALLPROP);
    seq = Number(c.sync_seq);
  } else {
    const since = parseSyncToken(c, token);
    if (since === null) throw new AppError('forbidden', { precondition: 'valid-sync-token' });
    const res = await store.changesSince(d.platform.db, c, since);
    seq = res.seq;
    const live = new Map((await store.objectsByName(d.platform.db, c, res.changes.filter((x) => !x.deleted).map((x) => x.name))).map((o) => [o.name, o]));
    for (const ch of res.changes) {
      const o = live.get(ch.name);
      if (ch.deleted || !o) out += statusResponse(objectHref(d, c.slug, ch.name), '404 Not Found');
      else out += propResponse(objectHref(d, c.slug, o.name), pr, (p) => objectProp(d, o, p, pr.elements.get(p)), OBJECT_ALLPROP);
    }
  }
  await multistatus(d.reply, out, `<D:sync-token>${esc(syncToken({ id: c.id, sync_seq: seq }))}</D:sync-token>`);
}
