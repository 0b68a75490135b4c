import type { DavRequest } from './context.js';

export const ALLOW = 'OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, MKCOL, COPY, MOVE, LOCK, UNLOCK';

export async function options(d: DavRequest): Promise<void> {
  await d.reply.status(200).headers({ dav: '1, 2', allow: ALLOW, 'ms-author-via': 'DAV', 'accept-ranges': 'bytes', 'content-length': '0' }).send();
}
