/**
 * Splits the client's byte stream into IMAP command frames: a frame is the command line plus every
 * literal it carries ({n} synchronising, {n+} / {n-} non-synchronising, RFC 7888 LITERAL+), as
 * alternating line segments and literal bodies. Bounded: a line longer than `maxLine` or a literal
 * bigger than the limit the session grants is refused without buffering it.
 */

export interface Frame {
  /** Line segments (without CRLF); segment i is followed by literals[i] when i < literals.length. */
  segments: Buffer[];
  literals: Buffer[];
}

export type LiteralDecision = { accept: true } | { accept: false; reply: string };

export interface FramerHooks {
  /** A complete frame (command, continuation answer or DONE). */
  frame(f: Frame): void;
  /**
   * A literal announced at the end of a line: the session decides (size limits, command). For a
   * synchronising literal an accepted one gets "+ " from the framer's caller via `continuation`.
   */
  literal(size: number, nonSync: boolean, partial: Frame): LiteralDecision;
  /** Sends "+ Ready" for an accepted synchronising literal. */
  continuation(): void;
  /** A refused command: the session answers `reply` ("BAD …" or "NO …") with the frame's tag; the framer resynchronises. */
  bad(reply: string, partial: Frame): void;
  /** The stream cannot be resynchronised (e.g. a huge non-synchronising literal): close. */
  fatal(reason: string): void;
}

export interface FramerLimits {
  /** Longest line segment in bytes (RFC 9051 recommends at least 8192). */
  maxLine: number;
  /** Non-synchronising literals above this are fatal (cannot be skipped cheaply). */
  maxSkip: number;
}

const LITERAL_AT_END = /\{(\d{1,12})([+-]?)\}$/;

export class Framer {
  private buf: Buffer = Buffer.alloc(0);
  private segments: Buffer[] = [];
  private literals: Buffer[] = [];
  /** Bytes still expected for the literal being read. */
  private literalLeft = 0;
  private literalParts: Buffer[] = [];
  /** Bytes of a refused literal (or overlong line remainder) being thrown away. */
  private skipBytes = 0;
  private skipLine = false;
  private dead = false;

  constructor(
    private readonly hooks: FramerHooks,
    private readonly limits: FramerLimits,
  ) {}

  push(chunk: Buffer): void {
    if (this.dead) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    this.drain();
  }

  private drain(): void {
    while (!this.dead && this.buf.length > 0) {
      if (this.skipBytes > 0) {
        const n = Math.min(this.skipBytes, this.buf.length);
        this.skipBytes -= n;
        this.buf = this.buf.subarray(n);
        continue;
      }
      if (this.literalLeft > 0) {
        const n = Math.min(this.literalLeft, this.buf.length);
        this.literalParts.push(this.buf.subarray(0, n));
        this.literalLeft -= n;
        this.buf = this.buf.subarray(n);
        if (this.literalLeft === 0) {
          this.literals.push(Buffer.concat(this.literalParts));
          this.literalParts = [];
        }
        continue;
      }
      const nl = this.buf.indexOf(10);
      if (this.skipLine) {
        if (nl < 0) {
          this.buf = Buffer.alloc(0);
          return;
        }
        this.buf = this.buf.subarray(nl + 1);
        this.skipLine = false;
        continue;
      }
      if (nl < 0) {
        if (this.buf.length > this.limits.maxLine) {
          const partial = this.take();
          this.hooks.bad('BAD Command line too long', { segments: [...partial.segments, this.buf.subarray(0, 64)], literals: partial.literals });
          this.buf = Buffer.alloc(0);
          this.skipLine = true;
        }
        return;
      }
      let line = this.buf.subarray(0, nl);
      this.buf = this.buf.subarray(nl + 1);
      if (line.length > 0 && line[line.length - 1] === 13) line = line.subarray(0, line.length - 1);
      if (line.length > this.limits.maxLine) {
        const partial = this.take();
        this.hooks.bad('BAD Command line too long', { segments: [...partial.segments, line.subarray(0, 64)], literals: partial.literals });
        continue;
      }
      this.segments.push(Buffer.from(line));
      // A literal announcement ends the segment: {n}, {n+} or {n-}.
      const tail = line.subarray(Math.max(0, line.length - 16)).toString('latin1');
      const m = LITERAL_AT_END.exec(tail);
      if (!m) {
        this.hooks.frame(this.take());
        continue;
      }
      const size = Number(m[1]);
      const nonSync = m[2] === '+' || m[2] === '-';
      const partial: Frame = { segments: this.segments, literals: this.literals };
      const decision = this.hooks.literal(size, nonSync, partial);
      if (decision.accept) {
        if (size === 0) this.literals.push(Buffer.alloc(0));
        else this.literalLeft = size;
        if (!nonSync) this.hooks.continuation();
        continue;
      }
      this.take();
      if (nonSync) {
        if (size > this.limits.maxSkip) {
          this.dead = true;
          this.hooks.fatal(decision.reply);
          return;
        }
        // The client sends the literal and the rest of the line anyway: swallow both.
        this.skipBytes = size;
        this.skipLine = true;
        this.hooks.bad(decision.reply, partial);
        // skipLine is honoured after skipBytes: the rest of the command line after the literal.
        continue;
      }
      // Synchronising literal refused: the client sends nothing more of this command.
      this.hooks.bad(decision.reply, partial);
    }
  }

  private take(): Frame {
    const f: Frame = { segments: this.segments, literals: this.literals };
    this.segments = [];
    this.literals = [];
    return f;
  }

  /** Bytes buffered but not yet framed (for STARTTLS: nothing may follow the command in clear). */
  get pending(): number {
    return this.buf.length;
  }
}
