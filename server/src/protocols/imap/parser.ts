import type { Frame } from './framer.js';
import { ParseError, Reader } from './reader.js';
import { parseSequenceSet, type SequenceSet } from './sequence.js';

/**
 * The IMAP command grammar (RFC 9051 / RFC 3501 with the extensions Bastide announces): a frame in,
 * a typed command out, or a ParseError (answered BAD). Nothing else is ever thrown: see the fuzz test.
 */

export interface Section {
  part: number[];
  text?: 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';
  fields?: string[];
}

export type FetchAtt =
  | { kind: 'FLAGS' | 'UID' | 'INTERNALDATE' | 'RFC822.SIZE' | 'ENVELOPE' | 'BODYSTRUCTURE' | 'BODY' | 'MODSEQ' | 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT' }
  | { kind: 'SECTION'; binary: boolean; peek: boolean; section: Section; partial?: { offset: number; length: number } }
  | { kind: 'BINARY.SIZE'; part: number[] };

export type SearchKey =
  | { op: 'all' }
  | { op: 'flag'; flag: string; set: boolean }
  | { op: 'new' | 'old' | 'recent' }
  | { op: 'header'; field: string; value: string }
  | { op: 'body' | 'text'; value: string }
  | { op: 'date'; sent: boolean; cmp: 'before' | 'on' | 'since'; day: number }
  | { op: 'size'; larger: boolean; n: number }
  | { op: 'not'; key: SearchKey }
  | { op: 'or'; a: SearchKey; b: SearchKey }
  | { op: 'and'; keys: SearchKey[] }
  | { op: 'seq'; set: SequenceSet }
  | { op: 'uid'; set: SequenceSet }
  | { op: 'modseq'; n: number }
  | { op: 'younger' | 'older'; seconds: number };

export type SearchReturn = 'MIN' | 'MAX' | 'COUNT' | 'ALL' | 'SAVE';

export interface SortKey {
  key: 'ARRIVAL' | 'CC' | 'DATE' | 'FROM' | 'SIZE' | 'SUBJECT' | 'TO' | 'DISPLAYFROM' | 'DISPLAYTO';
  reverse: boolean;
}

export interface SelectParams {
  condstore: boolean;
  qresync?: { uidValidity: number; modseq: number; knownUids?: SequenceSet };
}

export type Command = { tag: string } & (
  | { name: 'CAPABILITY' | 'NOOP' | 'LOGOUT' | 'STARTTLS' | 'NAMESPACE' | 'CHECK' | 'CLOSE' | 'UNSELECT' | 'IDLE' | 'EXPUNGE' }
  | { name: 'LOGIN'; user: string; password: string }
  | { name: 'AUTHENTICATE'; mechanism: string; initial?: string }
  | { name: 'ENABLE'; capabilities: string[] }
  | { name: 'COMPRESS'; mechanism: string }
  | { name: 'ID'; params: Array<[string, string | null]> | null }
  | { name: 'SELECT' | 'EXAMINE'; mailbox: string; params: SelectParams }
  | { name: 'CREATE'; mailbox: string; specialUse: string[] }
  | { name: 'DELETE' | 'SUBSCRIBE' | 'UNSUBSCRIBE' | 'GETQUOTAROOT'; mailbox: string }
  | { name: 'GETQUOTA'; root: string }
  | { name: 'RENAME'; mailbox: string; to: string }
  | { name: 'LIST'; reference: string; patterns: string[]; selection: string[]; returns: string[]; statusItems: string[] }
  | { name: 'LSUB'; reference: string; patterns: string[] }
  | { name: 'STATUS'; mailbox: string; items: string[] }
  | { name: 'APPEND'; mailbox: string; flags: string[]; date: number | null; message: Buffer }
  | { name: 'FETCH'; uid: boolean; set: SequenceSet; atts: FetchAtt[]; changedSince?: number; vanished: boolean }
  | { name: 'STORE'; uid: boolean; set: SequenceSet; mode: 'set' | 'add' | 'remove'; silent: boolean; flags: string[]; unchangedSince?: number }
  | { name: 'COPY' | 'MOVE'; uid: boolean; set: SequenceSet; mailbox: string }
  | { name: 'UID EXPUNGE'; uid: true; set: SequenceSet }
  | { name: 'SEARCH'; uid: boolean; returns: SearchReturn[] | null; charset: string | null; key: SearchKey }
  | { name: 'SORT'; uid: boolean; returns: SearchReturn[] | null; sort: SortKey[]; charset: string; key: SearchKey }
  | { name: 'THREAD'; uid: boolean; algorithm: string; charset: string; key: SearchKey }
);

export type ParseResult = { ok: true; command: Command } | { ok: false; tag: string; message: string };

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const MAX_SEARCH_KEYS = 1000;

/** date = date-text / DQUOTE date-text DQUOTE; date-text = day "-" month "-" year. Returns the UTC day start (ms). */
function parseDate(r: Reader): number {
  const quoted = r.maybeChar('"');
  const txt = r.atom();
  if (quoted) r.char('"');
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(txt);
  const mon = m ? MONTHS.indexOf(m[2]!.toUpperCase()) : -1;
  if (!m || mon < 0) throw new ParseError('Invalid date');
  const day = Number(m[1]);
  const t = Date.UTC(Number(m[3]), mon, day);
  if (day < 1 || new Date(t).getUTCDate() !== day) throw new ParseError('Invalid date');
  return t;
}

/** date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE (APPEND). */
function parseDateTime(r: Reader): number {
  const s = r.string();
  const m = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(s);
  const mon = m ? MONTHS.indexOf(m[2]!.toUpperCase()) : -1;
  if (!m || mon < 0) throw new ParseError('Invalid date-time');
  const [h, mi, se, zh, zm] = [m[4], m[5], m[6], m[8], m[9]].map(Number) as [number, number, number, number, number];
  if (h > 23 || mi > 59 || se > 60 || zm > 59) throw new ParseError('Invalid date-time');
  const offset = (zh * 60 + zm) * (m[7] === '-' ? -1 : 1);
  return Date.UTC(Number(m[3]), mon, Number(m[1]), h, mi, se) - offset * 60000;
}

function parseFlagList(r: Reader, allowStar = false): string[] {
  const flags: string[] = [];
  if (r.peek() === 0x28) {
    r.list(() => {
      flags.push(r.flag(allowStar));
    });
  } else {
    flags.push(r.flag(allowStar));
    while (r.peek() === 0x20) {
      r.space();
      flags.push(r.flag(allowStar));
    }
  }
  return flags;
}

function parseSection(r: Reader, binary: boolean): Section {
  r.char('[');
  const section: Section = { part: [] };
  if (r.maybeChar(']')) return section;
  let spec = r.atom('', '[');
  // The atom ran over "1.2.HEADER.FIELDS": split numeric parts from the text part.
  const bits = spec.split('.');
  while (bits.length && /^\d+$/.test(bits[0]!)) {
    const n = Number(bits.shift());
    if (n === 0 || n > 100000) throw new ParseError('Invalid section part');
    section.part.push(n);
    if (section.part.length > 32) throw new ParseError('Section too deep');
  }
  spec = bits.join('.').toUpperCase();
  if (spec) {
    if (binary) throw new ParseError('BINARY takes a part number only');
    if (spec === 'HEADER' || spec === 'TEXT') section.text = spec;
    else if (spec === 'MIME' && section.part.length) section.text = 'MIME';
    else if (spec === 'HEADER.FIELDS' || spec === 'HEADER.FIELDS.NOT') {
      section.text = spec;
      r.space();
      const fields: string[] = [];
      r.list(() => {
        const f = r.astring();
        if (!/^[\x21-\x39\x3b-\x7e]+$/.test(f)) throw new ParseError('Invalid header field name');
        fields.push(f.toUpperCase());
      }, false);
      section.fields = fields;
    } else throw new ParseError('Invalid section');
  }
  r.char(']');
  return section;
}

function parsePartial(r: Reader): { offset: number; length: number } | undefined {
  if (!r.maybeChar('<')) return undefined;
  const offset = r.number32();
  r.char('.');
  const length = r.number32();
  if (length === 0) throw new ParseError('Partial length must not be zero');
  r.char('>');
  return { offset, length };
}

const MACROS: Record<string, FetchAtt['kind'][]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};
const SIMPLE = new Set(['FLAGS', 'UID', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODYSTRUCTURE', 'MODSEQ', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT']);

function parseFetchAtt(r: Reader): FetchAtt {
  const name = r.atom('', '[').toUpperCase();
  if (name === 'BODY' || name === 'BODY.PEEK' || name === 'BINARY' || name === 'BINARY.PEEK') {
    if (r.peek() !== 0x5b) {
      if (name === 'BODY') return { kind: 'BODY' };
      throw new ParseError(`${name} needs a section`);
    }
    const binary = name.startsWith('BINARY');
    const section = parseSection(r, binary);
    const partial = parsePartial(r);
    return { kind: 'SECTION', binary, peek: name.endsWith('.PEEK'), section, ...(partial ? { partial } : {}) };
  }
  if (name === 'BINARY.SIZE') {
    const s = parseSection(r, true);
    return { kind: 'BINARY.SIZE', part: s.part };
  }
  if (SIMPLE.has(name)) return { kind: name as 'FLAGS' };
  throw new ParseError(`Unknown fetch attribute ${name.slice(0, 40)}`);
}

function parseFetchAtts(r: Reader): FetchAtt[] {
  if (r.peek() === 0x28) {
    const atts: FetchAtt[] = [];
    r.list(() => {
      atts.push(parseFetchAtt(r));
      if (atts.length > 100) throw new ParseError('Too many fetch attributes');
    }, false);
    return atts;
  }
  // A macro or a single attribute.
  if (startsWithWord(r, 'ALL') || startsWithWord(r, 'FAST') || startsWithWord(r, 'FULL')) {
    return MACROS[r.atom().toUpperCase()]!.map((kind) => ({ kind }) as FetchAtt);
  }
  return [parseFetchAtt(r)];
}

function parseSearchKey(r: Reader, count: { n: number }): SearchKey {
  if (++count.n > MAX_SEARCH_KEYS) throw new ParseError('Search too complex');
  if (r.peek() === 0x28) {
    return r.nest(() => {
      const keys: SearchKey[] = [];
      r.char('(');
      for (;;) {
        keys.push(parseSearchKey(r, count));
        if (r.maybeChar(')')) break;
        r.space();
      }
      return keys.length === 1 ? keys[0]! : { op: 'and', keys };
    });
  }
  const c = r.peek();
  if ((c >= 0x30 && c <= 0x39) || c === 0x2a || c === 0x24) return { op: 'seq', set: parseSequenceSet(r) };
  const word = r.atom().toUpperCase();
  const arg = (): string => {
    r.space();
    return r.astring();
  };
  const date = (): number => {
    r.space();
    return parseDate(r);
  };
  switch (word) {
    case 'ALL':
      return { op: 'all' };
    case 'ANSWERED':
    case 'DELETED':
    case 'DRAFT':
    case 'FLAGGED':
    case 'SEEN':
      return { op: 'flag', flag: `\\${word[0]}${word.slice(1).toLowerCase()}`, set: true };
    case 'UNANSWERED':
    case 'UNDELETED':
    case 'UNDRAFT':
    case 'UNFLAGGED':
    case 'UNSEEN':
      return { op: 'flag', flag: `\\${word[2]}${word.slice(3).toLowerCase()}`, set: false };
    case 'KEYWORD':
    case 'UNKEYWORD': {
      r.space();
      return { op: 'flag', flag: r.flag(), set: word === 'KEYWORD' };
    }
    case 'NEW':
    case 'OLD':
    case 'RECENT':
      return { op: word.toLowerCase() as 'new' };
    case 'BCC':
    case 'CC':
    case 'FROM':
    case 'SUBJECT':
    case 'TO':
      return { op: 'header', field: word, value: arg() };
    case 'HEADER': {
      const field = arg().toUpperCase();
      return { op: 'header', field, value: arg() };
    }
    case 'BODY':
    case 'TEXT':
      return { op: word.toLowerCase() as 'body', value: arg() };
    case 'BEFORE':
    case 'ON':
    case 'SINCE':
      return { op: 'date', sent: false, cmp: word.toLowerCase() as 'on', day: date() };
    case 'SENTBEFORE':
    case 'SENTON':
    case 'SENTSINCE':
      return { op: 'date', sent: true, cmp: word.slice(4).toLowerCase() as 'on', day: date() };
    case 'LARGER':
    case 'SMALLER':
      r.space();
      return { op: 'size', larger: word === 'LARGER', n: r.number() };
    case 'NOT':
      r.space();
      return r.nest(() => ({ op: 'not', key: parseSearchKey(r, count) }));
    case 'OR': {
      return r.nest(() => {
        r.space();
        const a = parseSearchKey(r, count);
        r.space();
        const b = parseSearchKey(r, count);
        return { op: 'or', a, b };
      });
    }
    case 'UID':
      r.space();
      return { op: 'uid', set: parseSequenceSet(r) };
    case 'MODSEQ': {
      r.space();
      // Optional entry-name and entry-type-req (RFC 7162): "/flags/\\Seen" all.
      if (r.peek() === 0x22) {
        r.string();
        r.space();
        r.atom();
        r.space();
      }
      return { op: 'modseq', n: r.number() };
    }
    case 'YOUNGER':
    case 'OLDER':
      r.space();
      return { op: word.toLowerCase() as 'younger', seconds: r.nzNumber() };
    default:
      throw new ParseError(`Unknown search key ${word.slice(0, 40)}`);
  }
}

function parseSearchProgram(r: Reader): SearchKey {
  const count = { n: 0 };
  const keys: SearchKey[] = [parseSearchKey(r, count)];
  while (r.maybeSpace()) keys.push(parseSearchKey(r, count));
  r.end();
  return keys.length === 1 ? keys[0]! : { op: 'and', keys };
}

const RETURN_OPTS = new Set(['MIN', 'MAX', 'COUNT', 'ALL', 'SAVE']);

function parseSearchReturn(r: Reader): SearchReturn[] | null {
  if (r.peek() !== 0x52 && r.peek() !== 0x72) return null;
  // Look ahead for "RETURN (" without consuming a search key named R…
  const word = r.atom().toUpperCase();
  if (word !== 'RETURN') throw new ParseError('Expected RETURN');
  r.space();
  const opts: SearchReturn[] = [];
  r.list(() => {
    const o = r.atom().toUpperCase();
    if (!RETURN_OPTS.has(o)) throw new ParseError(`Unknown search return option ${o.slice(0, 20)}`);
    opts.push(o as SearchReturn);
  });
  r.space();
  return opts.length ? opts : ['ALL'];
}

function startsWithWord(r: Reader, word: string): boolean {
  // Peeks at the next atom without consuming it (the reader is cheap to probe by copying state).
  const probe = Object.create(Object.getPrototypeOf(r) as object) as Reader;
  Object.assign(probe, r);
  try {
    return probe.atom().toUpperCase() === word;
  } catch {
    return false;
  }
}

function parseSearch(r: Reader, uid: boolean, tag: string): Command {
  r.space();
  const returns = startsWithWord(r, 'RETURN') ? parseSearchReturn(r) : null;
  let charset: string | null = null;
  if (startsWithWord(r, 'CHARSET')) {
    r.atom();
    r.space();
    charset = r.astring().toUpperCase();
    r.space();
  }
  return { tag, name: 'SEARCH', uid, returns, charset, key: parseSearchProgram(r) };
}

const SORT_KEYS = new Set(['ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO', 'DISPLAYFROM', 'DISPLAYTO']);

function parseMailbox(r: Reader): string {
  return r.astring();
}

function parseSelectParams(r: Reader): SelectParams {
  const params: SelectParams = { condstore: false };
  if (!r.maybeSpace()) return params;
  r.list(() => {
    const p = r.atom().toUpperCase();
    if (p === 'CONDSTORE') params.condstore = true;
    else if (p === 'QRESYNC') {
      r.space();
      r.char('(');
      const uidValidity = r.nzNumber();
      r.space();
      const modseq = r.nzNumber();
      let knownUids: SequenceSet | undefined;
      if (r.maybeSpace()) {
        knownUids = parseSequenceSet(r);
        if (r.maybeSpace()) {
          // seq-match-data: (known-sequence-set known-uid-set); accepted and not used.
          r.char('(');
          parseSequenceSet(r);
          r.space();
          parseSequenceSet(r);
          r.char(')');
        }
      }
      r.char(')');
      params.qresync = { uidValidity, modseq, ...(knownUids ? { knownUids } : {}) };
    } else throw new ParseError(`Unknown select parameter ${p.slice(0, 20)}`);
  });
  return params;
}

function parseInner(r: Reader, tag: string): Command {
  r.space();
  let name = r.atom().toUpperCase();
  let uid = false;
  if (name === 'UID') {
    uid = true;
    r.space();
    name = r.atom().toUpperCase();
    if (!['FETCH', 'STORE', 'COPY', 'MOVE', 'SEARCH', 'EXPUNGE', 'SORT', 'THREAD'].includes(name)) throw new ParseError(`UID ${name.slice(0, 20)} is not a command`);
  }
  switch (name) {
    case 'CAPABILITY':
    case 'NOOP':
    case 'LOGOUT':
    case 'STARTTLS':
    case 'NAMESPACE':
    case 'CHECK':
    case 'CLOSE':
    case 'UNSELECT':
    case 'IDLE':
      r.end();
      return { tag, name };
    case 'EXPUNGE':
      if (uid) {
        r.space();
        const set = parseSequenceSet(r);
        r.end();
        return { tag, name: 'UID EXPUNGE', uid: true, set };
      }
      r.end();
      return { tag, name };
    case 'LOGIN': {
      r.space();
      const user = r.astring();
      r.space();
      const password = r.astring();
      r.end();
      return { tag, name, user, password };
    }
    case 'AUTHENTICATE': {
      r.space();
      const mechanism = r.atom().toUpperCase();
      let initial: string | undefined;
      if (r.maybeSpace()) initial = r.maybeChar('=') ? '' : r.atom('+/=');
      r.end();
      return { tag, name, mechanism, ...(initial !== undefined ? { initial } : {}) };
    }
    case 'COMPRESS': {
      r.space();
      const mechanism = r.atom().toUpperCase();
      r.end();
      return { tag, name, mechanism };
    }
    case 'ENABLE': {
      const capabilities: string[] = [];
      r.space();
      capabilities.push(r.atom().toUpperCase());
      while (r.maybeSpace()) capabilities.push(r.atom().toUpperCase());
      r.end();
      return { tag, name, capabilities };
    }
    case 'ID': {
      r.space();
      if (r.peek() !== 0x28) {
        r.nstring();
        r.end();
        return { tag, name, params: null };
      }
      const params: Array<[string, string | null]> = [];
      r.list(() => {
        const k = r.string();
        r.space();
        const v = r.nstring();
        if (params.length < 30) params.push([k.slice(0, 30), v === null ? null : v.slice(0, 1024)]);
      });
      r.end();
      return { tag, name, params };
    }
    case 'SELECT':
    case 'EXAMINE': {
      r.space();
      const mailbox = parseMailbox(r);
      const params = parseSelectParams(r);
      r.end();
      return { tag, name, mailbox, params };
    }
    case 'CREATE': {
      r.space();
      const mailbox = parseMailbox(r);
      const specialUse: string[] = [];
      if (r.maybeSpace()) {
        r.list(() => {
          const p = r.atom().toUpperCase();
          if (p !== 'USE') throw new ParseError('Unknown CREATE parameter');
          r.space();
          r.list(() => {
            specialUse.push(r.flag());
          });
        });
      }
      r.end();
      return { tag, name, mailbox, specialUse };
    }
    case 'DELETE':
    case 'SUBSCRIBE':
    case 'UNSUBSCRIBE':
    case 'GETQUOTAROOT': {
      r.space();
      const mailbox = parseMailbox(r);
      r.end();
      return { tag, name, mailbox };
    }
    case 'GETQUOTA': {
      r.space();
      const root = r.astring();
      r.end();
      return { tag, name, root };
    }
    case 'RENAME': {
      r.space();
      const mailbox = parseMailbox(r);
      r.space();
      const to = parseMailbox(r);
      r.end();
      return { tag, name, mailbox, to };
    }
    case 'LIST':
    case 'LSUB': {
      r.space();
      const selection: string[] = [];
      if (name === 'LIST' && r.peek() === 0x28) {
        r.list(() => {
          selection.push(r.atom().toUpperCase());
        });
        r.space();
      }
      const reference = r.astring();
      r.space();
      const patterns: string[] = [];
      if (name === 'LIST' && r.peek() === 0x28) {
        r.list(() => {
          patterns.push(r.listMailbox());
        }, false);
      } else patterns.push(r.listMailbox());
      if (name === 'LSUB') {
        r.end();
        return { tag, name, reference, patterns };
      }
      const returns: string[] = [];
      const statusItems: string[] = [];
      if (r.maybeSpace()) {
        const w = r.atom().toUpperCase();
        if (w !== 'RETURN') throw new ParseError('Expected RETURN');
        r.space();
        r.list(() => {
          const opt = r.atom().toUpperCase();
          returns.push(opt);
          if (opt === 'STATUS') {
            r.space();
            r.list(() => {
              statusItems.push(r.atom().toUpperCase());
            }, false);
          }
        });
      }
      r.end();
      return { tag, name, reference, patterns, selection, returns, statusItems };
    }
    case 'STATUS': {
      r.space();
      const mailbox = parseMailbox(r);
      r.space();
      const items: string[] = [];
      r.list(() => {
        items.push(r.atom().toUpperCase());
      }, false);
      r.end();
      return { tag, name, mailbox, items };
    }
    case 'APPEND': {
      r.space();
      const mailbox = parseMailbox(r);
      r.space();
      let flags: string[] = [];
      let date: number | null = null;
      if (r.peek() === 0x28) {
        flags = parseFlagList(r);
        r.space();
      }
      if (r.peek() === 0x22) {
        date = parseDateTime(r);
        r.space();
      }
      // append-data: literal, or literal8 ("~{n}") with BINARY.
      r.maybeChar('~');
      const message = r.stringBytes();
      r.end();
      return { tag, name, mailbox, flags, date, message };
    }
    case 'FETCH': {
      r.space();
      const set = parseSequenceSet(r);
      r.space();
      const atts = parseFetchAtts(r);
      let changedSince: number | undefined;
      let vanished = false;
      if (r.maybeSpace()) {
        r.list(() => {
          const m = r.atom().toUpperCase();
          if (m === 'CHANGEDSINCE') {
            r.space();
            changedSince = r.number();
          } else if (m === 'VANISHED') vanished = true;
          else throw new ParseError(`Unknown fetch modifier ${m.slice(0, 20)}`);
        });
      }
      r.end();
      if (vanished && (!uid || changedSince === undefined)) throw new ParseError('VANISHED needs UID FETCH with CHANGEDSINCE');
      return { tag, name, uid, set, atts, vanished, ...(changedSince !== undefined ? { changedSince } : {}) };
    }
    case 'STORE': {
      r.space();
      const set = parseSequenceSet(r);
      r.space();
      let unchangedSince: number | undefined;
      if (r.peek() === 0x28) {
        r.list(() => {
          const m = r.atom().toUpperCase();
          if (m !== 'UNCHANGEDSINCE') throw new ParseError(`Unknown store modifier ${m.slice(0, 20)}`);
          r.space();
          unchangedSince = r.number();
        });
        r.space();
      }
      const what = r.atom().toUpperCase();
      const m = /^([+-]?)FLAGS(\.SILENT)?$/.exec(what);
      if (!m) throw new ParseError('Expected FLAGS, +FLAGS or -FLAGS');
      r.space();
      const flags = parseFlagList(r);
      r.end();
      return { tag, name, uid, set, mode: m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'set', silent: Boolean(m[2]), flags, ...(unchangedSince !== undefined ? { unchangedSince } : {}) };
    }
    case 'COPY':
    case 'MOVE': {
      r.space();
      const set = parseSequenceSet(r);
      r.space();
      const mailbox = parseMailbox(r);
      r.end();
      return { tag, name, uid, set, mailbox };
    }
    case 'SEARCH':
      return parseSearch(r, uid, tag);
    case 'SORT': {
      r.space();
      const returns = startsWithWord(r, 'RETURN') ? parseSearchReturn(r) : null;
      const sort: SortKey[] = [];
      let reverse = false;
      r.list(() => {
        const k = r.atom().toUpperCase();
        if (k === 'REVERSE') {
          reverse = true;
          return;
        }
        if (!SORT_KEYS.has(k)) throw new ParseError(`Unknown sort key ${k.slice(0, 20)}`);
        sort.push({ key: k as SortKey['key'], reverse });
        reverse = false;
      }, false);
      if (reverse || sort.length === 0) throw new ParseError('REVERSE must precede a sort key');
      r.space();
      const charset = r.astring().toUpperCase();
      r.space();
      return { tag, name, uid, returns, sort, charset, key: parseSearchProgram(r) };
    }
    case 'THREAD': {
      r.space();
      const algorithm = r.atom().toUpperCase();
      r.space();
      const charset = r.astring().toUpperCase();
      r.space();
      return { tag, name, uid, algorithm, charset, key: parseSearchProgram(r) };
    }
    default:
      throw new ParseError(`Unknown command ${name.slice(0, 40)}`);
  }
}

/** Parses one frame. Never throws: a syntax problem comes back as `{ok: false}` with the tag when there was one. */
export function parseCommand(frame: Frame): ParseResult {
  const r = new Reader(frame);
  let tag = '*';
  try {
    tag = r.tag();
    return { ok: true, command: parseInner(r, tag) };
  } catch (e) {
    if (e instanceof ParseError) return { ok: false, tag, message: e.message };
    // A bug in the grammar code must still end in BAD, not in a dead connection.
    return { ok: false, tag, message: 'Invalid command' };
  }
}

/** The tag of a (possibly partial) frame, for refusing it: "*" when there is none. */
export function frameTag(frame: Frame): string {
  const first = frame.segments[0];
  if (!first) return '*';
  const m = /^([\x21-\x7e]+?)(?: |$)/.exec(first.subarray(0, 80).toString('latin1'));
  const t = m?.[1];
  return t && !/[(){%*"\\+]/.test(t) ? t : '*';
}

/** The command of one name (names sharing a union member, like SELECT/EXAMINE, narrow correctly). */
export type CommandOf<N extends Command['name']> = Command & { name: N };
