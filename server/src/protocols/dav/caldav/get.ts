import { AppError } from '../../../errors.js';
import { collectionOf, etagHeader, type DavCtx } from './context.js';

/** GET/HEAD of an object: its stored text as sent, with its strong ETag. Collections have no body. */
export async function get(d: DavCtx, head: boolean): Promise<void> {
  const c = await collectionOf(d);
  if (d.name === undefined) throw new AppError('method_not_allowed');
  const o = await d.kind.store.object(d.platform.db, c, d.name);
  if (!o) throw new AppError('not_found');
  const inm = d.req.headers['if-none-match'];
  void d.reply.header('etag', etagHeader(o)).header('last-modified', new Date(Number(o.updated_at)).toUTCString()).header('x-content-type-options', 'nosniff');
  if (typeof inm === 'string' && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etagHeader(o) || t.trim() === '*')) {
    await d.reply.status(304).send();
    return;
  }
  void d.reply.status(200).type(d.kind.contentType(o));
  if (head) await d.reply.header('content-length', String(Buffer.byteLength(o.data))).send();
  else await d.reply.send(o.data);
}
