import type { Frame } from './framer.js';

/** A syntax error: the session answers `<tag> BAD <message>`. The only error the parser throws. */
export class ParseError extends Error {}

const ATOM_SPECIALS = new Set([...'(){ %*"\\]'].map((c) => c.charCodeAt(0)));

function isAtomChar(c: number): boolean {
  return c > 0x20 && c < 0x7f && !ATOM_SPECIALS.has(c);
}

/**
 * A cursor over a frame (line segments with literals between them), with the IMAP lexical rules of
 * RFC 9051 section 4 / RFC 3501 section 9: atoms, quoted strings, literals, lists, numbers.
 */
export class Reader {
  private seg = 0;
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly frame: Frame,
    private readonly maxDepth = 16,
  ) {}

  private get line(): Buffer {
    return this.frame.segments[this.seg] ?? Buffer.alloc(0);
  }

  peek(): number {
    return this.pos < this.line.length ? this.line[this.pos]! : -1;
  }

  atEnd(): boolean {
    return this.pos >= this.line.length && this.seg >= this.frame.segments.length - 1;
  }

  /** Whether the rest of the current line segment is a literal announcement. */
  private atLiteral(): boolean {
    if (this.peek() !== 0x7b) return false;
    const rest = this.line.subarray(this.pos).toString('latin1');
    return /^\{\d+[+-]?\}$/.test(rest) && this.seg < this.frame.literals.length;
  }

  space(): void {
    if (this.peek() !== 0x20) throw new ParseError(this.atEnd() ? 'Missing arguments' : 'Expected a space');
    this.pos++;
  }

  /** Consumes a space when one follows; false at the end. */
  maybeSpace(): boolean {
    if (this.peek() === 0x20) {
      this.pos++;
      return true;
    }
    return false;
  }

  end(): void {
    if (!this.atEnd()) throw new ParseError('Unexpected characters at the end of the command');
  }

  char(c: string): void {
    if (this.peek() !== c.charCodeAt(0)) throw new ParseError(`Expected "${c}"`);
    this.pos++;
  }

  maybeChar(c: string): boolean {
    if (this.peek() === c.charCodeAt(0)) {
      this.pos++;
      return true;
    }
    return false;
  }

  /** Atom characters, plus `extra`, minus `stop` ("[" ends a fetch attribute name). */
  atom(extra = '', stop = ''): string {
    const start = this.pos;
    const ok = new Set([...extra].map((c) => c.charCodeAt(0)));
    const no = new Set([...stop].map((c) => c.charCodeAt(0)));
    while (this.pos < this.line.length) {
      const c = this.line[this.pos]!;
      if (!(isAtomChar(c) || ok.has(c)) || no.has(c)) break;
      this.pos++;
    }
    if (this.pos === start) throw new ParseError(this.atEnd() ? 'Missing arguments' : 'Expected an atom');
    return this.line.subarray(start, this.pos).toString('latin1');
  }

  /** tag = 1*<any ASTRING-CHAR except "+">. */
  tag(): string {
    const start = this.pos;
    while (this.pos < this.line.length) {
      const c = this.line[this.pos]!;
      if (!(isAtomChar(c) || c === 0x5d) || c === 0x2b /* + */) break;
      this.pos++;
    }
    if (this.pos === start) throw new ParseError('Missing tag');
    return this.line.subarray(start, this.pos).toString('latin1');
  }

  number(): number {
    const start = this.pos;
    while (this.pos < this.line.length && this.line[this.pos]! >= 0x30 && this.line[this.pos]! <= 0x39) this.pos++;
    if (this.pos === start) throw new ParseError('Expected a number');
    if (this.pos - start > 20) throw new ParseError('Number out of range');
    const n = Number(this.line.subarray(start, this.pos).toString('latin1'));
    if (!Number.isSafeInteger(n)) throw new ParseError('Number out of range');
    return n;
  }

  nzNumber(): number {
    const n = this.number();
    if (n === 0) throw new ParseError('Expected a non-zero number');
    return n;
  }

  /** A 32-bit number (UIDs, sequence numbers). */
  number32(): number {
    const n = this.number();
    if (n > 0xffffffff) throw new ParseError('Number out of range');
    return n;
  }

  private quotedBytes(): Buffer {
    this.char('"');
    const out: number[] = [];
    for (;;) {
      if (this.pos >= this.line.length) throw new ParseError('Unterminated quoted string');
      const c = this.line[this.pos++]!;
      if (c === 0x22) break;
      if (c === 0x5c) {
        const n = this.line[this.pos++];
        if (n !== 0x22 && n !== 0x5c) throw new ParseError('Invalid escape in quoted string');
        out.push(n);
        continue;
      }
      out.push(c);
    }
    return Buffer.from(out);
  }

  private literalBytes(): Buffer {
    const lit = this.frame.literals[this.seg];
    if (!lit) throw new ParseError('Missing literal');
    this.seg++;
    this.pos = 0;
    return lit;
  }

  /** string = quoted / literal, as bytes. */
  stringBytes(): Buffer {
    if (this.peek() === 0x22) return this.quotedBytes();
    if (this.atLiteral()) return this.literalBytes();
    throw new ParseError('Expected a string');
  }

  string(): string {
    return this.stringBytes().toString('utf8');
  }

  /** astring = 1*ASTRING-CHAR / string (ASTRING-CHAR includes "]"). */
  astring(): string {
    const c = this.peek();
    if (c === 0x22 || this.atLiteral()) return this.string();
    return this.atom(']');
  }

  astringBytes(): Buffer {
    const c = this.peek();
    if (c === 0x22 || this.atLiteral()) return this.stringBytes();
    return Buffer.from(this.atom(']'), 'latin1');
  }

  /** nstring = string / NIL. */
  nstring(): string | null {
    const c = this.peek();
    if (c === 0x22 || this.atLiteral()) return this.string();
    const a = this.atom();
    if (a.toUpperCase() !== 'NIL') throw new ParseError('Expected a string or NIL');
    return null;
  }

  /** list-mailbox = 1*list-char / string (list-char adds % * and "]"). */
  listMailbox(): string {
    const c = this.peek();
    if (c === 0x22 || this.atLiteral()) return this.string();
    return this.atom('%*]');
  }

  /** A parenthesised list: calls `item` for each element (separated by single spaces). */
  list(item: () => void, allowEmpty = true): void {
    this.char('(');
    if (++this.depth > this.maxDepth) throw new ParseError('Too deeply nested');
    if (this.maybeChar(')')) {
      this.depth--;
      if (!allowEmpty) throw new ParseError('Empty list');
      return;
    }
    for (;;) {
      item();
      if (this.maybeChar(')')) break;
      this.space();
    }
    this.depth--;
  }

  nest<T>(fn: () => T): T {
    if (++this.depth > this.maxDepth) throw new ParseError('Too deeply nested');
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  /** A flag: "\" atom or atom (keyword); "\*" only where `allowStar`. */
  flag(allowStar = false): string {
    if (this.maybeChar('\\')) {
      if (allowStar && this.maybeChar('*')) return '\\*';
      return `\\${this.atom()}`;
    }
    return this.atom();
  }

  /** What remains of the current segment (for AUTHENTICATE continuation lines and errors). */
  rest(): string {
    const s = this.line.subarray(this.pos).toString('latin1');
    this.pos = this.line.length;
    return s;
  }
}
