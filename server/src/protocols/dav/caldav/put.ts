import { AppError } from '../../../errors.js';
import { readBody } from '../context.js';
import { collectionOf, etagHeader, optionalHeader, type DavCtx } from './context.js';

/**
 * PUT of a calendar object or vCard (RFC 4791 §5.3.2, RFC 6352 §6.3.2): validated and stored as sent,
 * If-Match / If-None-Match honoured, one UID per resource in a collection. The strong ETag is returned
 * since the stored text is byte for byte the one received (a BOM aside).
 */
export const MAX_PUT_BYTES = 1024 * 1024;

export async function put(d: DavCtx): Promise<void> {
  if (d.name === undefined) throw new AppError('method_not_allowed');
  // RFC 4918 §9.7.1: a PUT whose parent collection does not exist is a conflict.
  const c = await collectionOf(d).catch((e: unknown) => {
    throw e instanceof AppError && e.code === 'not_found' ? new AppError('conflict', { reason: 'no such collection' }) : e;
  });
  const body = await readBody(d.req, MAX_PUT_BYTES);
  const type = optionalHeader(d.req, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  const accepted = d.kind.name === 'calendar' ? ['text/calendar', 'application/octet-stream', 'text/plain'] : ['text/vcard', 'text/x-vcard', 'text/directory', 'application/octet-stream', 'text/plain'];
  if (type && !accepted.includes(type)) throw new AppError('unsupported_media_type', { precondition: d.kind.name === 'calendar' ? 'supported-calendar-data' : 'supported-address-data' });
  const { created, row, modified } = await d.kind.store.put(
    d.ctx,
    c,
    d.name,
    body,
    { ifMatch: optionalHeader(d.req, 'if-match'), ifNoneMatch: optionalHeader(d.req, 'if-none-match') },
    d.kind.accept(c),
  );
  // RFC 4791 §5.3.4: no ETag when the stored object differs from the one sent (scheduling adds
  // SCHEDULE-STATUS to attendees, a resource's answer): the client fetches it again.
  if (!modified) void d.reply.header('etag', etagHeader(row));
  await d.reply.status(created ? 201 : 204).header('content-length', '0').send();
}
