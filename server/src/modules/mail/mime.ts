import addressparser from 'nodemailer/lib/addressparser';

/**
 * A bounded RFC 5322 / MIME (RFC 2045–2049) parser producing what the mail store keeps of a message
 * and what IMAP needs to answer ENVELOPE, BODYSTRUCTURE and BODY[section] without re-parsing:
 *
 * - `parseMessage(raw)` → `ParsedMessage`: the IMAP ENVELOPE (`Envelope`, raw header values, encoded-words
 *   left as sent, as RFC 3501 §7.4.2 wants), the MIME tree (`MimePart`) with the byte offsets of every
 *   part's header and body in `raw`, decoded values for sorting/search (subject, from, to, date), the
 *   message-ids used for threading and a bounded plain-text extract of the text parts.
 * - Offsets: for a part, `raw.subarray(headerStart, bodyStart)` is its MIME header including the blank
 *   line (BODY[n.MIME], or BODY[HEADER] for the top part), `raw.subarray(bodyStart, bodyEnd)` its body
 *   (BODY[n]; BODY[TEXT] of the top part). For a message/rfc822 part, `message` is the embedded message
 *   whose offsets are in the same `raw` (BODY[n.HEADER], BODY[n.TEXT], BODY[n.1]...).
 * - Section numbers (RFC 3501 §6.4.5): the children of a multipart are 1..n; a non-multipart top-level
 *   body is section 1 itself; for a message/rfc822 part, `n.1...` address the embedded message's parts.
 *   `findSection(part, [1, 2])` implements that walk.
 * - `bodystructure` is plain JSON (stored in SQL as text), IMAP-ready: IMAP code turns it into the
 *   parenthesised list (type/subtype upper-cased or not, as it wishes; params are [name, value] pairs in
 *   header order, names lower-cased, values unquoted but not RFC 2231/2047-decoded).
 *
 * Bounds: at most MAX_PARTS parts and MAX_DEPTH nesting levels (deeper content stays an opaque leaf),
 * header blocks larger than MAX_HEADER_BYTES are cut for parsing (offsets stay exact). Malformed input
 * never throws: a missing boundary makes the rest of the multipart its last part, an unterminated header
 * makes the whole part a header, unknown charsets fall back to latin1.
 *
 * Line endings: the store normalises every message to CRLF (`toCrlf`) before parsing and storing, so
 * sizes and offsets are RFC 5322 octets as IMAP reports them.
 */

export const MAX_PARTS = 500;
export const MAX_DEPTH = 20;
export const MAX_HEADER_BYTES = 256 * 1024;
/** How much decoded text a message contributes to the search extract. */
export const MAX_TEXT = 64 * 1024;

/** An RFC 3501 address: [name, adl (source route), mailbox, host]. Group syntax: [null, null, group, null] … [null, null, null, null]. */
export type EnvelopeAddress = [string | null, string | null, string | null, string | null];

export interface Envelope {
  date: string | null;
  subject: string | null;
  from: EnvelopeAddress[] | null;
  sender: EnvelopeAddress[] | null;
  replyTo: EnvelopeAddress[] | null;
  to: EnvelopeAddress[] | null;
  cc: EnvelopeAddress[] | null;
  bcc: EnvelopeAddress[] | null;
  inReplyTo: string | null;
  messageId: string | null;
}

export interface Disposition {
  type: string;
  params: Array<[string, string]>;
}

export interface MimePart {
  /** Lower-case type and subtype ("text", "plain"); defaults per RFC 2045 (text/plain, or message/rfc822 in multipart/digest). */
  type: string;
  subtype: string;
  params: Array<[string, string]>;
  id: string | null;
  description: string | null;
  /** Content-Transfer-Encoding, lower-case, "7bit" when absent. */
  encoding: string;
  md5: string | null;
  disposition: Disposition | null;
  language: string[] | null;
  location: string | null;
  /** Byte offsets in the raw message (see the file comment). */
  headerStart: number;
  bodyStart: number;
  bodyEnd: number;
  /** Body size in octets (bodyEnd - bodyStart). */
  size: number;
  /** Number of lines of the body (text/* and message/rfc822 bodies; 0 otherwise). */
  lines: number;
  /** Multipart children, in order (section numbers 1..n). */
  children?: MimePart[];
  /** For message/rfc822 (and message/global): the embedded message. */
  message?: { envelope: Envelope; body: MimePart };
}

export interface ParsedMessage {
  envelope: Envelope;
  body: MimePart;
  /** Decoded for display, sorting and search. */
  subject: string;
  from: string;
  to: string;
  cc: string;
  /** Date header as ms since epoch (null when absent or unparsable). */
  date: number | null;
  /** Message-ID without angle brackets, lower-cased for lookups (null when absent). */
  messageId: string | null;
  /** Ids of References then In-Reply-To (without brackets, lower-cased, de-duplicated, bounded to 100). */
  references: string[];
  /** Plain text of the text/plain (or stripped text/html) parts, bounded to MAX_TEXT characters. */
  text: string;
  /** True when any part is a non-inline attachment. */
  hasAttachments: boolean;
}

export interface HeaderField {
  /** Lower-case name. */
  name: string;
  /** Unfolded raw value (UTF-8 decoded, leading whitespace trimmed). */
  value: string;
}

const CRLF = Buffer.from('\r\n');

/** Converts bare LF (and bare CR) line endings to CRLF; returns the input when already CRLF-clean. */
export function toCrlf(raw: Buffer): Buffer {
  let clean = true;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === 0x0a && (i === 0 || raw[i - 1] !== 0x0d)) {
      clean = false;
      break;
    }
    if (c === 0x0d && raw[i + 1] !== 0x0a) {
      clean = false;
      break;
    }
  }
  if (clean) return raw;
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === 0x0d) {
      out.push(0x0d, 0x0a);
      if (raw[i + 1] === 0x0a) i++;
    } else if (c === 0x0a) {
      out.push(0x0d, 0x0a);
    } else out.push(c);
  }
  return Buffer.from(out);
}

/** Offset of the blank line ending the header block starting at `start` (the body starts at the returned value), bounded by `end`. */
function headerEnd(raw: Buffer, start: number, end: number): number {
  if (raw[start] === 0x0d && raw[start + 1] === 0x0a) return start + 2; // no header at all
  const i = raw.indexOf('\r\n\r\n', start);
  if (i < 0 || i + 4 > end) return end;
  return i + 4;
}

/** Parses a header block (raw bytes) into fields; bounded to MAX_HEADER_BYTES and 1000 fields. */
export function parseHeaders(block: Buffer): HeaderField[] {
  const text = block.subarray(0, MAX_HEADER_BYTES).toString('utf8');
  const fields: HeaderField[] = [];
  let current: { name: string; value: string } | null = null;
  for (const line of text.split('\r\n')) {
    if (line === '') continue;
    if ((line[0] === ' ' || line[0] === '\t') && current) {
      current.value += line;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) continue;
    current = { name, value: line.slice(colon + 1) };
    fields.push(current);
    if (fields.length >= 1000) break;
  }
  for (const f of fields) f.value = f.value.trim();
  return fields;
}

function first(fields: HeaderField[], name: string): string | null {
  const f = fields.find((x) => x.name === name);
  return f ? f.value : null;
}

/** Splits a structured header value ("text/plain; charset=utf-8; name=\"a;b\"") into value and params. */
export function parseParams(value: string): { value: string; params: Array<[string, string]> } {
  const out: Array<[string, string]> = [];
  let i = 0;
  const n = value.length;
  const readToken = (stop: string): string => {
    let s = '';
    while (i < n && !stop.includes(value[i]!)) {
      if (value[i] === '"') {
        i++;
        while (i < n && value[i] !== '"') {
          if (value[i] === '\\' && i + 1 < n) i++;
          s += value[i];
          i++;
        }
        i++;
      } else if (value[i] === '(') {
        // comment
        let depth = 0;
        while (i < n) {
          if (value[i] === '(') depth++;
          else if (value[i] === ')' && --depth === 0) {
            i++;
            break;
          }
          i++;
        }
      } else {
        s += value[i];
        i++;
      }
    }
    return s.trim();
  };
  const main = readToken(';');
  while (i < n && out.length < 100) {
    if (value[i] === ';') i++;
    const name = readToken('=;').toLowerCase();
    let v = '';
    if (value[i] === '=') {
      i++;
      v = readToken(';');
    }
    if (name) out.push([name, v]);
  }
  return { value: main, params: out };
}

function param(params: Array<[string, string]>, name: string): string | undefined {
  return params.find(([k]) => k === name)?.[1];
}

/** Decodes RFC 2231 parameter continuations and charsets (filename*0*=utf-8''..., filename*1*=...). */
export function decodedParam(params: Array<[string, string]>, name: string): string | undefined {
  const plain = param(params, name);
  const star = param(params, `${name}*`);
  if (star !== undefined) return decode2231(star);
  const pieces: string[] = [];
  let encoded = false;
  for (let k = 0; k < 100; k++) {
    const p = param(params, `${name}*${k}`);
    const pe = param(params, `${name}*${k}*`);
    if (p === undefined && pe === undefined) break;
    if (pe !== undefined) encoded = true;
    pieces.push(pe ?? p!);
  }
  if (pieces.length > 0) return encoded ? decode2231(pieces.join('')) : pieces.join('');
  return plain !== undefined ? decodeWords(plain) : undefined;
}

function decode2231(v: string): string {
  const m = /^([^']*)'[^']*'(.*)$/.exec(v);
  const charset = m ? m[1]! : 'utf-8';
  const data = m ? m[2]! : v;
  const bytes = Buffer.from(data.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
  return decodeCharset(bytes, charset || 'utf-8');
}

/** Decodes bytes in a MIME charset (unknown charsets: latin1). */
export function decodeCharset(bytes: Buffer, charset: string): string {
  const cs = charset.trim().toLowerCase().replace(/^"|"$/g, '') || 'us-ascii';
  if (cs === 'utf-8' || cs === 'utf8' || cs === 'us-ascii' || cs === 'ascii') return bytes.toString('utf8');
  try {
    return new TextDecoder(cs).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/** Decodes RFC 2047 encoded-words in an unstructured header value (whitespace between adjacent words dropped). */
export function decodeWords(value: string): string {
  if (!value.includes('=?')) return value;
  const re = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
  let out = '';
  let last = 0;
  let prevWasWord = false;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    const between = value.slice(last, m.index);
    if (!(prevWasWord && /^\s*$/.test(between))) out += between;
    const charset = m[1]!.split('*')[0]!;
    let bytes: Buffer;
    if (m[2]!.toUpperCase() === 'B') bytes = Buffer.from(m[3]!, 'base64');
    else bytes = Buffer.from(m[3]!.replace(/_/g, ' ').replace(/=([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    out += decodeCharset(bytes, charset);
    last = m.index + m[0].length;
    prevWasWord = true;
  }
  return out + value.slice(last);
}

/** Decodes quoted-printable. */
export function decodeQp(data: Buffer): Buffer {
  const s = data.toString('latin1').replace(/=\r?\n/g, '');
  return Buffer.from(s.replace(/=([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
}

/** Decodes a body according to its Content-Transfer-Encoding. */
export function decodeTransfer(data: Buffer, encoding: string): Buffer {
  if (encoding === 'base64') return Buffer.from(data.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (encoding === 'quoted-printable') return decodeQp(data);
  return data;
}

function addressList(value: string | null): EnvelopeAddress[] | null {
  if (value === null || value.trim() === '') return null;
  const out: EnvelopeAddress[] = [];
  let parsed: ReturnType<typeof addressparser>;
  try {
    parsed = addressparser(value.slice(0, 16 * 1024));
  } catch {
    return null;
  }
  const one = (a: { name: string; address: string }): EnvelopeAddress => {
    const at = a.address.lastIndexOf('@');
    const mailbox = at >= 0 ? a.address.slice(0, at) : a.address;
    const host = at >= 0 ? a.address.slice(at + 1) : null;
    return [a.name || null, null, mailbox || null, host || null];
  };
  for (const a of parsed.slice(0, 1000)) {
    if (a.group !== undefined) {
      out.push([null, null, a.name || '', null]);
      for (const g of a.group) if (g.group === undefined) out.push(one(g));
      out.push([null, null, null, null]);
    } else if (a.address || a.name) out.push(one(a));
  }
  return out.length > 0 ? out : null;
}

function envelopeOf(fields: HeaderField[]): Envelope {
  const from = addressList(first(fields, 'from'));
  const sender = addressList(first(fields, 'sender')) ?? from;
  const replyTo = addressList(first(fields, 'reply-to')) ?? from;
  return {
    date: first(fields, 'date'),
    subject: first(fields, 'subject'),
    from,
    sender,
    replyTo,
    to: addressList(first(fields, 'to')),
    cc: addressList(first(fields, 'cc')),
    bcc: addressList(first(fields, 'bcc')),
    inReplyTo: first(fields, 'in-reply-to'),
    messageId: first(fields, 'message-id'),
  };
}

function countLines(raw: Buffer, start: number, end: number): number {
  if (end <= start) return 0;
  let n = 0;
  let i = raw.indexOf(0x0a, start);
  while (i >= 0 && i < end) {
    n++;
    i = raw.indexOf(0x0a, i + 1);
  }
  // A last line without CRLF still counts.
  if (raw[end - 1] !== 0x0a) n++;
  return n;
}

interface Budget {
  parts: number;
}

function parsePart(raw: Buffer, start: number, end: number, depth: number, budget: Budget, defaultType: [string, string]): { part: MimePart; fields: HeaderField[] } {
  budget.parts++;
  const bodyStart = Math.min(headerEnd(raw, start, end), end);
  const fields = parseHeaders(raw.subarray(start, bodyStart));
  const ct = first(fields, 'content-type');
  let type = defaultType[0];
  let subtype = defaultType[1];
  let params: Array<[string, string]> = [];
  if (ct) {
    const p = parseParams(ct);
    const [t, s] = p.value.toLowerCase().split('/');
    if (t && s && /^[a-z0-9!#$&^_.+-]+$/.test(t) && /^[a-z0-9!#$&^_.+-]+$/.test(s)) {
      type = t;
      subtype = s;
      params = p.params;
    } else {
      // RFC 2045 §5.2: an invalid Content-Type means text/plain; charset=us-ascii.
      type = 'text';
      subtype = 'plain';
      params = [['charset', 'us-ascii']];
    }
  }
  if (type === 'text' && !param(params, 'charset') && !ct) params = [['charset', 'us-ascii']];
  const cd = first(fields, 'content-disposition');
  const disp = cd ? parseParams(cd) : null;
  const lang = first(fields, 'content-language');
  const part: MimePart = {
    type,
    subtype,
    params,
    id: first(fields, 'content-id'),
    description: first(fields, 'content-description'),
    encoding: (first(fields, 'content-transfer-encoding') ?? '7bit').toLowerCase().trim() || '7bit',
    md5: first(fields, 'content-md5'),
    disposition: disp && disp.value ? { type: disp.value.toLowerCase(), params: disp.params } : null,
    language: lang ? lang.split(',').map((l) => l.trim()).filter(Boolean) : null,
    location: first(fields, 'content-location'),
    headerStart: start,
    bodyStart,
    bodyEnd: end,
    size: end - bodyStart,
    lines: 0,
  };
  const boundary = type === 'multipart' ? param(params, 'boundary') : undefined;
  if (type === 'multipart' && boundary && depth < MAX_DEPTH) {
    part.children = splitMultipart(raw, bodyStart, end, boundary).map(([s, e]) =>
      budget.parts < MAX_PARTS
        ? parsePart(raw, s, e, depth + 1, budget, subtype === 'digest' ? ['message', 'rfc822'] : ['text', 'plain']).part
        : leaf(raw, s, e),
    );
    if (part.children.length === 0) {
      // A multipart without any part: IMAP needs at least one; present the body as an empty text part.
      part.children = [leaf(raw, bodyStart, bodyStart)];
    }
  } else if (type === 'multipart') {
    // Missing boundary (or too deep): treat it as an opaque text body.
    part.lines = countLines(raw, bodyStart, end);
  } else if (type === 'message' && (subtype === 'rfc822' || subtype === 'global') && depth < MAX_DEPTH && budget.parts < MAX_PARTS && !['base64', 'quoted-printable'].includes(part.encoding)) {
    const inner = parsePart(raw, bodyStart, end, depth + 1, budget, ['text', 'plain']);
    part.message = { envelope: envelopeOf(inner.fields), body: inner.part };
    part.lines = countLines(raw, bodyStart, end);
  } else if (type === 'text') {
    part.lines = countLines(raw, bodyStart, end);
  }
  return { part, fields };
}

function leaf(raw: Buffer, start: number, end: number): MimePart {
  return {
    type: 'text', subtype: 'plain', params: [['charset', 'us-ascii']], id: null, description: null, encoding: '7bit', md5: null,
    disposition: null, language: null, location: null, headerStart: start, bodyStart: start, bodyEnd: end, size: end - start, lines: countLines(raw, start, end),
  };
}

/** [start, end) of each part between boundary delimiters (RFC 2046 §5.1.1: the CRLF before a delimiter belongs to it). */
function splitMultipart(raw: Buffer, start: number, end: number, boundary: string): Array<[number, number]> {
  const delim = Buffer.from(`--${boundary}`);
  const parts: Array<[number, number]> = [];
  // Find delimiter lines: at `start` or after a CRLF, followed by "--", whitespace, or CRLF.
  const positions: Array<{ lineStart: number; after: number; close: boolean }> = [];
  let i = start;
  while (i < end && positions.length <= MAX_PARTS + 1) {
    const at = raw.indexOf(delim, i);
    if (at < 0 || at + delim.length > end) break;
    const lineStartOk = at === start || (at >= 2 && raw[at - 1] === 0x0a && raw[at - 2] === 0x0d);
    if (!lineStartOk) {
      i = at + 1;
      continue;
    }
    let j = at + delim.length;
    const close = raw[j] === 0x2d && raw[j + 1] === 0x2d;
    if (close) j += 2;
    while (j < end && (raw[j] === 0x20 || raw[j] === 0x09)) j++;
    if (j < end && !(raw[j] === 0x0d && raw[j + 1] === 0x0a)) {
      i = at + 1; // "--boundaryX": a longer boundary, not ours
      continue;
    }
    const after = Math.min(j + 2, end);
    positions.push({ lineStart: at === start ? at : at - 2, after, close });
    if (close) break;
    i = after;
  }
  for (let k = 0; k < positions.length; k++) {
    const p = positions[k]!;
    if (p.close) break;
    const next = positions[k + 1];
    parts.push([p.after, next ? Math.max(p.after, next.lineStart) : end]);
  }
  return parts;
}

/** Walks an IMAP section path ([1, 2] for "1.2"); null when it does not exist. */
export function findSection(body: MimePart, path: number[]): MimePart | null {
  let cur: MimePart = body;
  for (const n of path) {
    if (cur.children) {
      const c = cur.children[n - 1];
      if (!c) return null;
      cur = c;
    } else if (cur.message) {
      const inner: MimePart = cur.message.body;
      if (inner.children) {
        const c = inner.children[n - 1];
        if (!c) return null;
        cur = c;
      } else if (n === 1) cur = inner;
      else return null;
    } else if (n === 1 && cur === body) {
      // A non-multipart message: section 1 is its body.
      continue;
    } else return null;
  }
  return cur;
}

function stripHtml(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'");
}

function hasAttachment(part: MimePart): boolean {
  if (part.children) return part.children.some(hasAttachment);
  if (part.message) return true;
  return part.disposition?.type === 'attachment' || (part.type !== 'text' && part.type !== 'multipart');
}

function collectText(raw: Buffer, part: MimePart, out: { text: string }): void {
  if (out.text.length >= MAX_TEXT) return;
  if (part.children) {
    // multipart/alternative: only one alternative, text/plain preferred.
    const kids = part.subtype === 'alternative' ? [part.children.find((c) => c.type === 'text' && c.subtype === 'plain') ?? part.children[part.children.length - 1]!] : part.children;
    for (const c of kids) collectText(raw, c, out);
    return;
  }
  if (part.message) {
    collectText(raw, part.message.body, out);
    return;
  }
  if (part.type !== 'text' || part.disposition?.type === 'attachment') return;
  if (part.subtype !== 'plain' && part.subtype !== 'html') return;
  const bytes = decodeTransfer(raw.subarray(part.bodyStart, Math.min(part.bodyEnd, part.bodyStart + MAX_TEXT * 4)), part.encoding);
  let text = decodeCharset(bytes, param(part.params, 'charset') ?? 'us-ascii');
  if (part.subtype === 'html') text = stripHtml(text);
  out.text = (out.text + (out.text ? '\n' : '') + text.replace(/[ \t]+/g, ' ')).slice(0, MAX_TEXT);
}

function ids(value: string | null): string[] {
  if (!value) return [];
  const out: string[] = [];
  for (const m of value.matchAll(/<([^<>\s]+)>/g)) out.push(m[1]!.toLowerCase());
  if (out.length === 0 && value.trim() && !/\s/.test(value.trim())) out.push(value.trim().toLowerCase());
  return out;
}

function flatAddresses(list: EnvelopeAddress[] | null): string {
  if (!list) return '';
  return list
    .filter((a) => a[2] !== null && a[3] !== null)
    .map((a) => {
      const addr = `${a[2]}@${a[3]}`;
      return a[0] ? `${decodeWords(a[0])} <${addr}>` : addr;
    })
    .join(', ');
}

/** Parses a CRLF message (see `toCrlf`). Never throws on malformed input. */
export function parseMessage(raw: Buffer): ParsedMessage {
  const budget: Budget = { parts: 0 };
  const { part, fields } = parsePart(raw, 0, raw.length, 0, budget, ['text', 'plain']);
  const envelope = envelopeOf(fields);
  const dateMs = envelope.date ? Date.parse(envelope.date.replace(/\s*\([^)]*\)\s*$/, '')) : NaN;
  const messageIds = ids(envelope.messageId);
  const refs = [...ids(first(fields, 'references')), ...ids(envelope.inReplyTo)];
  const out = { text: '' };
  collectText(raw, part, out);
  // The strings below go into text columns for display and search: PostgreSQL refuses NUL in text, so a
  // NUL (which some broken mailers put in headers or bodies) becomes U+FFFD there. The raw message, the
  // envelope and the body structure keep the bytes as they came.
  const noNul = (v: string): string => (v.includes('\u0000') ? v.split('\u0000').join('\uFFFD') : v);
  return {
    envelope,
    body: part,
    subject: noNul(decodeWords(envelope.subject ?? '').slice(0, 1000)),
    from: noNul(flatAddresses(envelope.from).slice(0, 1000)),
    to: noNul(flatAddresses(envelope.to).slice(0, 4000)),
    cc: noNul(flatAddresses(envelope.cc).slice(0, 4000)),
    date: Number.isFinite(dateMs) ? dateMs : null,
    messageId: messageIds[0] ? noNul(messageIds[0]) : null,
    references: [...new Set(refs.map(noNul))].slice(-100),
    text: noNul(out.text),
    hasAttachments: hasAttachment(part),
  };
}

/** The header fields of a message (for Authentication-Results, DKIM, filters). */
export function messageHeaders(raw: Buffer): HeaderField[] {
  return parseHeaders(raw.subarray(0, headerEnd(raw, 0, raw.length)));
}

export { CRLF };
