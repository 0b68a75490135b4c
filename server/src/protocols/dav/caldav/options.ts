import type { FastifyReply } from 'fastify';

/** OPTIONS: the DAV compliance classes of CalDAV (RFC 4791 §5.1), implicit scheduling (RFC 6638 §2), CardDAV (RFC 6352 §6.1), extended MKCOL (RFC 5689). */
export const ALLOW = 'OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, MKCOL, MKCALENDAR, REPORT';
export const DAV_HEADER = '1, 3, calendar-access, calendar-auto-schedule, addressbook, extended-mkcol';

export async function options(reply: FastifyReply): Promise<void> {
  await reply.status(200).headers({ dav: DAV_HEADER, allow: ALLOW, 'content-length': '0' }).send();
}
