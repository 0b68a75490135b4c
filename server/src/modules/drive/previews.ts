import { Type } from '@sinclair/typebox';
import { AppError } from '../../errors.js';
import type { App, Platform } from '../../platform/module.js';
import { authorizeRead, resolvePath, type NodeRow } from './commands.js';
import { driveTarget, DriveRefT } from './access.js';
import { cleanPath } from './names.js';

/**
 * Inline previews: `GET /api/drive/preview?drive=&path=` serves a file for the browser to show in place,
 * but only when its first bytes prove it is one of a short list of inert types (raster images, PDF, audio,
 * video, plain UTF-8 text). The type sent is the one the bytes show, never the one the uploader declared
 * nor the name's extension; anything else — HTML, SVG, XML, unknown or mislabeled content — is refused
 * with 415, and stays reachable only as a download (attachment, nosniff, CSP sandbox).
 */
export type PreviewKind = 'image' | 'pdf' | 'audio' | 'video' | 'text';
export interface Sniffed {
  kind: PreviewKind;
  type: string;
}

/** How much of the file the sniffer reads. */
export const SNIFF_BYTES = 4096;

const ascii = (b: Buffer, start: number, s: string): boolean => b.length >= start + s.length && b.toString('latin1', start, start + s.length) === s;

/**
 * Markup a browser could treat as a document: the HTML sniffing patterns of the WHATWG MIME Sniffing
 * standard at the start (after whitespace and a BOM), and anywhere in the head the tags that carry script
 * (svg, script, html, iframe, object, embed) or an XML prolog.
 */
export function looksActive(head: Buffer): boolean {
  const text = head.toString('latin1').replace(/^(\xef\xbb\xbf|\xfe\xff|\xff\xfe)/, '').toLowerCase();
  // UTF-16 markup: drop the NULs between ASCII letters before looking.
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/\x00/g, '');
  const start = /^\s*<(!doctype html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|!--|\?xml|svg|xsl|object|embed|meta|link|img|form|math)[\s>/]/;
  if (start.test(flat)) return true;
  return /<(svg|script|html|iframe|object|embed|\?xml|!doctype|xsl:|meta\s+http-equiv|body[\s>]|frameset)/.test(flat);
}

function validUtf8Text(head: Buffer, complete: boolean): boolean {
  if (head.includes(0)) return false;
  // A multi-byte character may be cut at the end of the sniffed head: drop up to 3 trailing bytes.
  for (let cut = 0; cut <= (complete ? 0 : 3); cut++) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, head.length - cut));
      // Control characters other than tab, newline, form feed and carriage return mean binary.
      // eslint-disable-next-line no-control-regex
      return !/[\x01-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]/.test(head.toString('latin1'));
    } catch {
      /* try a shorter head */
    }
  }
  return false;
}

/** What the first bytes prove the content is, or null when it is not on the inert allow-list. */
export function sniff(head: Buffer, name: string, complete: boolean): Sniffed | null {
  const ext = name.toLowerCase().split('.').pop() ?? '';
  if (looksActive(head)) return null;
  if (head.length >= 8 && head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return { kind: 'image', type: 'image/png' };
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return { kind: 'image', type: 'image/jpeg' };
  if (ascii(head, 0, 'GIF87a') || ascii(head, 0, 'GIF89a')) return { kind: 'image', type: 'image/gif' };
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WEBP')) return { kind: 'image', type: 'image/webp' };
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WAVE')) return { kind: 'audio', type: 'audio/wav' };
  if (ascii(head, 0, '%PDF-')) return { kind: 'pdf', type: 'application/pdf' };
  if (ascii(head, 0, 'ID3') || (head.length >= 2 && head[0] === 0xff && (head[1]! & 0xe6) === 0xe2)) return { kind: 'audio', type: 'audio/mpeg' };
  if (ascii(head, 0, 'fLaC')) return { kind: 'audio', type: 'audio/flac' };
  if (ascii(head, 0, 'OggS')) return ext === 'ogv' ? { kind: 'video', type: 'video/ogg' } : { kind: 'audio', type: 'audio/ogg' };
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) return ext === 'weba' ? { kind: 'audio', type: 'audio/webm' } : { kind: 'video', type: 'video/webm' };
  if (ascii(head, 4, 'ftyp')) {
    const brand = head.toString('latin1', 8, 12);
    if (brand === 'avif' || brand === 'avis') return { kind: 'image', type: 'image/avif' };
    if (brand.startsWith('M4A') || brand.startsWith('M4B')) return { kind: 'audio', type: 'audio/mp4' };
    if (brand === 'qt  ') return { kind: 'video', type: 'video/quicktime' };
    if (/^(isom|iso\d|mp4\d|avc1|dash|mmp4|M4V |3gp\d|MSNV)/.test(brand)) return { kind: 'video', type: 'video/mp4' };
    return null;
  }
  if (validUtf8Text(head, complete)) return { kind: 'text', type: 'text/plain; charset=utf-8' };
  return null;
}

/** Per kind: the CSP of the response when a browser navigates to it (as an <img>/<video> source CSP does not apply). */
export function previewCsp(kind: PreviewKind): string {
  switch (kind) {
    case 'pdf':
      // Sandboxed too: Chromium's PDF viewer (checked with Debian's Chromium, top level and in the app's
      // iframe) still renders a PDF whose response carries `sandbox`; the document it makes has an opaque
      // origin and no script, and the type is proven by the %PDF- magic with nosniff.
      return "sandbox; default-src 'none'; object-src 'self'; script-src 'none'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";
    case 'text':
      return "sandbox; default-src 'none'; frame-ancestors 'self'";
    default:
      return "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'";
  }
}

/** Bidirectional controls (RLO and friends) are replaced in the names we send: a name must not lie about its extension. */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function inlineDisposition(name: string): string {
  const clean = name.replace(BIDI, '_');
  const fallback = clean.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `inline; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(clean)}`;
}

function parseRange(header: unknown, size: number): { start: number; end: number } | null | 'unsatisfiable' {
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

async function readHead(platform: Platform, node: NodeRow): Promise<Buffer> {
  const size = Number(node.size);
  if (size === 0 || !node.blob_sha256) return Buffer.alloc(0);
  const stream = await platform.blobs.get(node.blob_sha256, { start: 0, end: Math.min(size, SNIFF_BYTES) - 1 });
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks).subarray(0, SNIFF_BYTES);
}

/** The sniffed type of a file node (null when it may not be shown inline). */
export async function sniffNode(platform: Platform, node: NodeRow): Promise<Sniffed | null> {
  const head = await readHead(platform, node);
  return sniff(head, node.name, Number(node.size) <= SNIFF_BYTES);
}

const PreviewQuery = Type.Object({ drive: Type.Optional(DriveRefT), path: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false });

function parsePath(path: string): string[] {
  if (!path.startsWith('/')) throw new AppError('invalid_name', { name: path.slice(0, 300) });
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(1, -1) : path.slice(1);
  return trimmed === '' ? [] : cleanPath(trimmed.split('/'));
}

export async function previewRoutes(app: App, platform: Platform): Promise<void> {
  app.get('/drive/preview', { schema: { tags: ['drive'], querystring: PreviewQuery } }, async (req, reply) => {
    const { ctx, owner } = await driveTarget(req, platform, req.query.drive);
    const segments = parsePath(req.query.path);
    await authorizeRead(ctx, owner);
    const node = await resolvePath(platform.db, owner, segments);
    if (node === null) throw new AppError('not_found');
    if (node === 'root' || node.kind !== 'file') throw new AppError('conflict', { reason: 'is_folder' });
    const sniffed = await sniffNode(platform, node);
    if (sniffed === null) throw new AppError('unsupported_media_type', { reason: 'not_previewable' });
    const size = Number(node.size);
    const headers: Record<string, string> = {
      etag: `"${node.etag}"`,
      'last-modified': new Date(Number(node.updated_at)).toUTCString(),
      'accept-ranges': 'bytes',
      'cache-control': 'private, no-cache',
      'x-content-type-options': 'nosniff',
      'content-disposition': inlineDisposition(node.name),
      'content-security-policy': previewCsp(sniffed.kind),
      'cross-origin-resource-policy': 'same-origin',
      'referrer-policy': 'no-referrer',
      'x-preview-kind': sniffed.kind,
    };
    if (req.headers['if-none-match'] === `"${node.etag}"`) return reply.status(304).headers(headers).send();
    const ifRange = req.headers['if-range'];
    const range = typeof ifRange === 'string' && ifRange !== `"${node.etag}"` ? null : parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') return reply.status(416).headers({ ...headers, 'content-range': `bytes */${size}` }).send();
    headers['content-type'] = sniffed.type;
    if (range) {
      headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
      headers['content-length'] = String(range.end - range.start + 1);
    } else headers['content-length'] = String(size);
    if (size === 0 || !node.blob_sha256) return reply.status(200).headers(headers).send('');
    const stream = await platform.blobs.get(node.blob_sha256, range ?? undefined);
    return reply.status(range ? 206 : 200).headers(headers).send(stream);
  });
}
