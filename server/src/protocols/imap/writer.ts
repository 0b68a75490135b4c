import type { Envelope, EnvelopeAddress, MimePart } from '../../modules/mail/mime.js';

/**
 * Response encoding (RFC 9051 section 4 and 7): a response is built as a list of string/Buffer chunks;
 * strings that are not safe as quoted strings (CR, LF, NUL, 8-bit without UTF8=ACCEPT, long) become
 * literals. ENVELOPE and BODYSTRUCTURE are serialised from the store's JSON (modules/mail/mime.ts).
 */

export type Chunk = string | Buffer;

// eslint-disable-next-line no-control-regex
const QUOTED_SAFE = /^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/;
const UTF8_SAFE = /^[^\r\n\0]*$/u;

export interface WriteOptions {
  /** UTF8=ACCEPT enabled: UTF-8 may go in quoted strings. */
  utf8: boolean;
}

/** A string (quoted when possible, literal otherwise) or NIL. */
export function nstring(value: string | null | undefined, opts: WriteOptions = { utf8: false }): Chunk[] {
  if (value === null || value === undefined) return ['NIL'];
  return string(value, opts);
}

export function string(value: string | Buffer, opts: WriteOptions = { utf8: false }): Chunk[] {
  if (typeof value === 'string' && value.length < 1024 && (QUOTED_SAFE.test(value) || (opts.utf8 && UTF8_SAFE.test(value)))) {
    return [`"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`];
  }
  return literal(typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
}

export function literal(bytes: Buffer): Chunk[] {
  return [`{${bytes.length}}\r\n`, bytes];
}

/** An astring for mailbox names and the like: an atom when it is one, else a string. */
export function astring(value: string, opts: WriteOptions = { utf8: false }): Chunk[] {
  if (/^[\x21-\x7e]+$/.test(value) && !/[(){ %*"\\]/.test(value) && value.toUpperCase() !== 'NIL') return [value];
  return string(value, opts);
}

function addresses(list: EnvelopeAddress[] | null, out: Chunk[], opts: WriteOptions): void {
  if (!list || list.length === 0) {
    out.push('NIL');
    return;
  }
  out.push('(');
  for (const a of list) {
    out.push('(');
    out.push(...nstring(a[0], opts), ' ', ...nstring(a[1], opts), ' ', ...nstring(a[2], opts), ' ', ...nstring(a[3], opts));
    out.push(')');
  }
  out.push(')');
}

export function envelope(e: Envelope, opts: WriteOptions = { utf8: false }): Chunk[] {
  const out: Chunk[] = ['('];
  out.push(...nstring(e.date, opts), ' ', ...nstring(e.subject, opts), ' ');
  addresses(e.from, out, opts);
  out.push(' ');
  addresses(e.sender ?? e.from, out, opts);
  out.push(' ');
  addresses(e.replyTo ?? e.from, out, opts);
  for (const l of [e.to, e.cc, e.bcc]) {
    out.push(' ');
    addresses(l, out, opts);
  }
  out.push(' ', ...nstring(e.inReplyTo, opts), ' ', ...nstring(e.messageId, opts), ')');
  return out;
}

function params(p: Array<[string, string]>, opts: WriteOptions): Chunk[] {
  if (!p.length) return ['NIL'];
  const out: Chunk[] = ['('];
  p.forEach(([k, v], i) => {
    if (i) out.push(' ');
    out.push(...string(k, opts), ' ', ...string(v, opts));
  });
  out.push(')');
  return out;
}

function disposition(part: MimePart, opts: WriteOptions): Chunk[] {
  if (!part.disposition) return ['NIL'];
  return ['(', ...string(part.disposition.type.toUpperCase(), opts), ' ', ...params(part.disposition.params, opts), ')'];
}

function language(part: MimePart, opts: WriteOptions): Chunk[] {
  if (!part.language || part.language.length === 0) return ['NIL'];
  if (part.language.length === 1) return string(part.language[0]!, opts);
  const out: Chunk[] = ['('];
  part.language.forEach((l, i) => out.push(...(i ? [' '] : []), ...string(l, opts)));
  out.push(')');
  return out;
}

/** BODYSTRUCTURE (`extended`) or BODY (without extension data), RFC 9051 section 7.5.2. */
export function bodyStructure(part: MimePart, extended: boolean, opts: WriteOptions = { utf8: false }, depth = 0): Chunk[] {
  const out: Chunk[] = ['('];
  if (part.children && part.children.length > 0 && depth < 60) {
    for (const c of part.children) out.push(...bodyStructure(c, extended, opts, depth + 1));
    out.push(' ', ...string(part.subtype.toUpperCase(), opts));
    if (extended) out.push(' ', ...params(part.params, opts), ' ', ...disposition(part, opts), ' ', ...language(part, opts), ' ', ...nstring(part.location, opts));
    out.push(')');
    return out;
  }
  const type = part.children ? 'TEXT' : part.type.toUpperCase();
  const subtype = part.children ? 'PLAIN' : part.subtype.toUpperCase();
  out.push(...string(type, opts), ' ', ...string(subtype, opts), ' ', ...params(part.params, opts), ' ');
  out.push(...nstring(part.id, opts), ' ', ...nstring(part.description, opts), ' ', ...string(part.encoding.toUpperCase(), opts), ' ', String(part.size));
  if (part.message && depth < 60) {
    out.push(' ', ...envelope(part.message.envelope, opts), ' ', ...bodyStructure(part.message.body, extended, opts, depth + 1), ' ', String(part.lines));
  } else if (type === 'TEXT') out.push(' ', String(part.lines));
  if (extended) out.push(' ', ...nstring(part.md5, opts), ' ', ...disposition(part, opts), ' ', ...language(part, opts), ' ', ...nstring(part.location, opts));
  out.push(')');
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** INTERNALDATE: "dd-Mon-yyyy hh:mm:ss +0000" (UTC). */
export function dateTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `"${p(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000"`;
}

/** Joins chunks into the bytes to send. */
export function toBuffer(chunks: Chunk[]): Buffer {
  // Adjacent strings are joined first: one Buffer per run of text, not one per token.
  const parts: Buffer[] = [];
  let text = '';
  for (const c of chunks) {
    if (typeof c === 'string') text += c;
    else {
      if (text) parts.push(Buffer.from(text, 'utf8'));
      text = '';
      parts.push(c);
    }
  }
  if (text) parts.push(Buffer.from(text, 'utf8'));
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** A flag list "(\Seen $Label)". */
export function flagList(flags: Iterable<string>): string {
  return `(${[...flags].join(' ')})`;
}
