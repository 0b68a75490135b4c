import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Platform } from '../../platform/module.js';

/**
 * Serving a file's bytes over the JSON API (downloads, versions, public links): always as an attachment,
 * never sniffed, sandboxed if a browser opened it anyway — what users upload never runs in our origin.
 * Range requests (resumed downloads) and conditional requests are honoured.
 */
export interface Content {
  name: string;
  size: number | string;
  etag: string;
  updated_at: number | string;
  content_type: string;
  blob_sha256: string | null;
}

export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** A single "bytes=a-b" range within `size`, null when absent or not understood, 'unsatisfiable' when out of bounds. */
export function parseRange(header: unknown, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  if (typeof header !== 'string') return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}


/** Sends `c` as an attachment (206 for a satisfiable Range, 416 otherwise, 304 when the etag matches). */
export async function sendContent(req: FastifyRequest, reply: FastifyReply, platform: Platform, c: Content): Promise<FastifyReply> {
  const size = Number(c.size);
  const headers: Record<string, string> = {
    etag: `"${c.etag}"`,
    'last-modified': new Date(Number(c.updated_at)).toUTCString(),
    'accept-ranges': 'bytes',
    'cache-control': 'private, no-cache',
    'x-content-type-options': 'nosniff',
    'content-disposition': contentDisposition(c.name),
    'content-security-policy': "default-src 'none'; sandbox",
  };
  const inm = req.headers['if-none-match'];
  if (typeof inm === 'string' && inm.split(',').some((t) => t.trim() === `"${c.etag}"` || t.trim() === `W/"${c.etag}"`)) return reply.status(304).headers(headers).send();
  const ifRange = req.headers['if-range'];
  const range = typeof ifRange === 'string' && ifRange !== `"${c.etag}"` ? null : parseRange(req.headers.range, size);
  if (range === 'unsatisfiable') return reply.status(416).headers({ ...headers, 'content-range': `bytes */${size}` }).send();
  headers['content-type'] = c.content_type || 'application/octet-stream';
  if (range) {
    headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
    headers['content-length'] = String(range.end - range.start + 1);
  } else headers['content-length'] = String(size);
  if (size === 0 || !c.blob_sha256) return reply.status(200).headers(headers).send('');
  const stream = await platform.blobs.get(c.blob_sha256, range ?? undefined);
  return reply.status(range ? 206 : 200).headers(headers).send(stream);
}
