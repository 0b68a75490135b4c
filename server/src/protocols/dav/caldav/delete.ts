import { AppError } from '../../../errors.js';
import { collectionOf, optionalHeader, type DavCtx } from './context.js';

/** DELETE of an object (If-Match honoured) or of a whole collection; the home itself cannot be deleted. */
export async function del(d: DavCtx): Promise<void> {
  if (d.slug === undefined) throw new AppError('forbidden', { reason: 'home' });
  const c = await collectionOf(d);
  if (d.name === undefined) {
    const im = optionalHeader(d.req, 'if-match');
    if (im !== undefined && im.trim() !== '*' && !im.split(',').some((t) => t.trim() === `"${c.id}-${Number(c.sync_seq)}"`)) throw new AppError('precondition_failed');
    await d.kind.store.remove(d.ctx, c);
  } else {
    await d.kind.store.delete(d.ctx, c, d.name, { ifMatch: optionalHeader(d.req, 'if-match') });
  }
  await d.reply.status(204).send();
}
