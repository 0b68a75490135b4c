import { CATALOG, isAppError } from '../../errors.js';
import type { Logger } from '../../platform/log.js';
import { Framer, type Frame, type LiteralDecision } from './framer.js';
import { frameTag, parseCommand, type Command } from './parser.js';
import type { ImapUser, MailPort } from './port.js';
import type { Selected } from './selected.js';
import { toBuffer, type Chunk } from './writer.js';
import { formatSet } from './sequence.js';
import { handlers, type Handler } from './commands.js';

/**
 * One IMAP connection: the state machine of RFC 9051 section 3 (not authenticated → authenticated →
 * selected → logout), command pipelining (frames queue, processed one at a time, in order), IDLE and
 * AUTHENTICATE continuations, and the moments at which other sessions' changes are announced.
 */

export interface SessionIo {
  write(data: Buffer): boolean;
  /** Resolves when the written data has drained (backpressure). */
  drain(): Promise<void>;
  /** Upgrades the connection to TLS (STARTTLS); resolves when the handshake is done. */
  startTls(): Promise<void>;
  close(): void;
  /** Switches both directions to raw DEFLATE (RFC 4978) from the next byte on. */
  startCompress(): void;
  readonly compressed: boolean;
  /** Stop / restart reading from the client (pipelining backpressure). */
  pause(): void;
  resume(): void;
  readonly remoteAddress: string;
  secure: boolean;
  /** STARTTLS is offered (a certificate is available and the connection is in clear). */
  readonly tlsAvailable: boolean;
}

export interface SessionLimits {
  maxLine: number;
  /** Largest APPEND literal (APPENDLIMIT). */
  maxMessage: number;
  /** Largest literal of any other command. */
  maxLiteral: number;
  /** Idle connections are closed after this (RFC 9051: at least 30 minutes). */
  idleTimeoutMs: number;
  /** Plain-text LOGIN/AUTHENTICATE allowed without TLS (loopback connections always are). */
  allowPlaintext: boolean;
}

export const DEFAULT_LIMITS: SessionLimits = {
  maxLine: 64 * 1024,
  maxMessage: 50 * 1024 * 1024,
  maxLiteral: 64 * 1024,
  idleTimeoutMs: 30 * 60 * 1000,
  allowPlaintext: false,
};

/** Response codes (RFC 5530) for catalog errors that carry none. */
const IMAP_CODES: Record<string, string> = {
  already_exists: '[ALREADYEXISTS] ',
  mailbox_exists: '[ALREADYEXISTS] ',
  name_taken: '[ALREADYEXISTS] ',
  quota_exceeded: '[OVERQUOTA] ',
  invalid_name: '[CANNOT] ',
  payload_too_large: '[TOOBIG] ',
  validation_failed: '[CANNOT] ',
  forbidden: '[NOPERM] ',
};

export type State = 'notauth' | 'auth' | 'selected' | 'logout';

/** A tagged result: "OK …", "NO …" or "BAD …". */
export type Result = string;

export class ImapSession {
  state: State = 'notauth';
  user: ImapUser | null = null;
  sel: Selected | null = null;
  readonly enabled = new Set<string>();
  /** CONDSTORE is active once a CONDSTORE-aware command was used (RFC 7162 section 3.1). */
  condstore = false;
  authFailures = 0;
  clientId: Array<[string, string | null]> | null = null;

  private readonly framer: Framer;
  private readonly queue: Array<Frame | { tag: string; refused: string }> = [];
  private busy = false;
  private out: Chunk[] = [];
  private outBytes = 0;
  private idleTag: string | null = null;
  private pendingAuth: ((frame: Frame) => Promise<void>) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private closed = false;
  private dirty = false;

  constructor(
    readonly port: MailPort,
    readonly io: SessionIo,
    readonly limits: SessionLimits,
    readonly log: Logger,
    readonly capabilitiesExtra: string[] = [],
  ) {
    this.framer = new Framer(
      {
        frame: (f) => this.onFrame(f),
        literal: (size, nonSync, partial) => this.onLiteral(size, nonSync, partial),
        continuation: () => this.io.write(Buffer.from('+ Ready for literal data\r\n')),
        bad: (reply, partial) => this.onFrame(partial, reply),
        fatal: (reason) => {
          this.io.write(Buffer.from(`* BYE ${reason}\r\n`));
          this.end();
        },
      },
      { maxLine: limits.maxLine, maxSkip: limits.maxMessage },
    );
    this.unsubscribe = port.onChange((mailboxId) => {
      if (this.sel && this.sel.id === mailboxId) {
        this.dirty = true;
        this.scheduleIdleSync();
      }
    });
    this.touch();
  }

  greet(): void {
    this.io.write(Buffer.from(`* OK [CAPABILITY ${this.capabilities().join(' ')}] Bastide IMAP ready\r\n`));
  }

  get utf8(): boolean {
    return this.enabled.has('UTF8=ACCEPT') || this.enabled.has('IMAP4REV2');
  }

  get rev2(): boolean {
    return this.enabled.has('IMAP4REV2');
  }

  get plaintextAllowed(): boolean {
    return this.io.secure || this.limits.allowPlaintext || /^(127\.|::1$|::ffff:127\.)/.test(this.io.remoteAddress);
  }

  capabilities(): string[] {
    const caps = ['IMAP4rev1', 'IMAP4rev2', 'LITERAL+', 'SASL-IR', 'ID', 'ENABLE', 'IDLE'];
    if (this.state === 'notauth') {
      if (this.io.tlsAvailable && !this.io.secure) caps.push('STARTTLS');
      if (this.plaintextAllowed) caps.push('AUTH=PLAIN');
      else caps.push('LOGINDISABLED');
      return caps;
    }
    caps.push(
      'NAMESPACE',
      'UIDPLUS',
      'MOVE',
      'UNSELECT',
      'CHILDREN',
      'SPECIAL-USE',
      'CREATE-SPECIAL-USE',
      'LIST-EXTENDED',
      'LIST-STATUS',
      'CONDSTORE',
      'QRESYNC',
      'ESEARCH',
      'SEARCHRES',
      'SORT',
      'THREAD=REFERENCES',
      'QUOTA',
      'QUOTA=RES-STORAGE',
      'STATUS=SIZE',
      'UTF8=ACCEPT',
      ...(this.io.compressed ? [] : ['COMPRESS=DEFLATE']),
      `APPENDLIMIT=${this.limits.maxMessage}`,
      ...this.capabilitiesExtra,
    );
    return caps;
  }

  /** Bytes from the client. */
  push(chunk: Buffer): void {
    this.touch();
    this.framer.push(chunk);
  }

  private touch(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.io.write(Buffer.from('* BYE Autologout; idle for too long\r\n'));
      this.end();
    }, this.limits.idleTimeoutMs);
    this.timer.unref();
  }

  private onLiteral(size: number, _nonSync: boolean, partial: Frame): LiteralDecision {
    const head = partial.segments[0]?.subarray(0, 200).toString('latin1') ?? '';
    const isAppend = /^\S+ +APPEND /i.test(head);
    if (this.state === 'notauth' && size > 8192) return { accept: false, reply: 'BAD Literal too big before authentication' };
    const limit = isAppend ? this.limits.maxMessage : this.limits.maxLiteral;
    if (size > limit) return { accept: false, reply: isAppend ? 'NO [TOOBIG] The message is larger than the APPENDLIMIT' : 'BAD Literal too big' };
    if (partial.literals.reduce((n, l) => n + l.length, 0) + size > limit + this.limits.maxLiteral) return { accept: false, reply: 'BAD Command too big' };
    return { accept: true };
  }

  private onFrame(frame: Frame, refused?: string): void {
    if (this.closed) return;
    this.queue.push(refused ? { tag: frameTag(frame), refused } : frame);
    // Backpressure: stop reading while many commands wait; a client that still floods is cut off.
    if (this.queue.length >= 64) this.io.pause();
    if (this.queue.length > 10000) {
      this.io.write(Buffer.from('* BYE Too many pipelined commands\r\n'));
      this.end();
      return;
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length && !this.closed) {
        const frame = this.queue.shift()!;
        if (this.queue.length < 16) this.io.resume();
        await this.handleFrame(frame);
        await this.flush();
      }
      this.io.resume();
      if (this.idleTag && this.dirty && !this.closed) {
        await this.sync(true);
        await this.flush();
      }
    } catch (err) {
      // A bug or a storage failure outside a command: this connection ends, the server stays up.
      this.log.error({ err }, 'imap: session failed');
      this.io.write(Buffer.from('* BYE Internal error\r\n'));
      this.end();
    } finally {
      this.busy = false;
    }
  }

  private syncScheduled = false;

  /** During IDLE: one sync for a burst of notifications (this node's commit and the bus echo of it). */
  private scheduleIdleSync(): void {
    if (!this.idleTag || this.syncScheduled || this.closed) return;
    this.syncScheduled = true;
    setTimeout(() => {
      this.syncScheduled = false;
      if (this.idleTag && this.dirty && !this.busy) void this.runExclusive(() => this.sync(true));
    }, 5).unref();
  }

  private async runExclusive(fn: () => Promise<void>): Promise<void> {
    if (this.busy || this.closed) return;
    this.busy = true;
    try {
      await fn();
      await this.flush();
    } catch (err) {
      this.log.warn({ err }, 'imap: background sync failed');
    } finally {
      this.busy = false;
    }
    if (this.queue.length) void this.pump();
    // A change announced while this sync ran (another node's, through the bus) gets its own sync.
    else if (this.dirty) this.scheduleIdleSync();
  }

  private async handleFrame(item: Frame | { tag: string; refused: string }): Promise<void> {
    if ('refused' in item) {
      // Refused by the framer (line too long, literal too big): answered in order with the others.
      if (this.idleTag || this.pendingAuth) {
        this.pendingAuth = null;
        const tag = this.idleTag ?? '*';
        this.idleTag = null;
        this.send(`${tag} BAD ${item.refused.replace(/^(BAD|NO) /, '')}`);
      } else this.send(`${item.tag} ${item.refused}`);
      return;
    }
    const frame = item;
    const first = frame.segments[0] ?? Buffer.alloc(0);
    if (this.pendingAuth) {
      const cb = this.pendingAuth;
      this.pendingAuth = null;
      await cb(frame);
      return;
    }
    if (this.idleTag) {
      const line = first.toString('latin1').trim().toUpperCase();
      const tag = this.idleTag;
      if (line === 'DONE' && frame.segments.length === 1) {
        this.idleTag = null;
        await this.sync(true);
        this.send(`${tag} OK IDLE terminated`);
      } else {
        this.idleTag = null;
        this.send(`${tag} BAD Expected DONE`);
      }
      return;
    }
    const parsed = parseCommand(frame);
    if (!parsed.ok) {
      this.send(`${parsed.tag} BAD ${parsed.message}`);
      return;
    }
    await this.execute(parsed.command);
  }

  private async execute(cmd: Command): Promise<void> {
    const handler = handlers[cmd.name] as unknown as Handler;
    const allowed = handler.states;
    if (!allowed.includes(this.state)) {
      const why = this.state === 'notauth' ? 'Log in first' : this.state === 'auth' && allowed.includes('selected') ? 'Select a mailbox first' : 'Not allowed in this state';
      this.send(`${cmd.tag} BAD ${why}`);
      return;
    }
    let result: Result;
    try {
      result = await handler.run(this, cmd);
    } catch (err) {
      result = this.errorResult(err);
    }
    if (this.closed) return;
    if (result === '') return; // the handler answers later (IDLE, AUTHENTICATE continuation)
    // Changes made by other sessions, at the end of the command (no EXPUNGE during FETCH/STORE/SEARCH by number).
    if (this.state === 'selected' && this.sel && handler.sync !== false) {
      const byUid = 'uid' in cmd && cmd.uid;
      try {
        await this.sync(handler.expungeOk === true || byUid === true);
      } catch (err) {
        this.log.warn({ err }, 'imap: sync after command failed');
      }
    }
    this.send(`${cmd.tag} ${result}`);
    if (cmd.name === 'COMPRESS' && result.startsWith('OK')) {
      await this.flush();
      // Commands pipelined after COMPRESS were sent compressed: bytes already framed are not. Refuse.
      if (this.framer.pending > 0 || this.queue.length > 0) this.end();
      else this.io.startCompress();
      return;
    }
    if (cmd.name === 'STARTTLS' && result.startsWith('OK')) {
      await this.flush();
      if (this.framer.pending > 0 || this.queue.length > 0) {
        // Bytes pipelined after STARTTLS would cross into the TLS session (command injection): refuse.
        this.end();
        return;
      }
      try {
        await this.io.startTls();
      } catch {
        this.end();
      }
      return;
    }
    if (this.state === 'logout') {
      await this.flush();
      this.end();
    }
  }

  errorResult(err: unknown): Result {
    if (isAppError(err)) {
      const entry = CATALOG[err.code as keyof typeof CATALOG] as { imap?: string; message: string } | undefined;
      const code = IMAP_CODES[err.code] ?? (entry?.imap ? `${entry.imap} ` : '');
      return `NO ${code}${(entry?.message ?? 'Refused').replace(/[\r\n]/g, ' ')}`;
    }
    this.log.error({ err }, 'imap: command failed');
    return 'NO [SERVERBUG] Internal error; the command was not completed';
  }

  /** Queues an untagged or tagged response line (CRLF added). */
  send(line: string | Chunk[]): void {
    const chunks = typeof line === 'string' ? [line] : line;
    for (const c of chunks) {
      this.out.push(c);
      this.outBytes += c.length;
    }
    this.out.push('\r\n');
    if (this.outBytes > 256 * 1024) void this.flush();
  }

  async flush(): Promise<void> {
    if (!this.out.length || this.closed) return;
    const buf = toBuffer(this.out);
    this.out = [];
    this.outBytes = 0;
    if (!this.io.write(buf)) await this.io.drain();
  }

  /** Waits for a client line (AUTHENTICATE continuation). */
  continuation(text: string, cb: (frame: Frame) => Promise<void>): void {
    this.pendingAuth = cb;
    this.send(`+ ${text}`);
  }

  startIdle(tag: string): void {
    this.idleTag = tag;
    this.send('+ idling');
  }

  /**
   * Tells the client what changed in the selected mailbox since it last heard: EXPUNGE (or VANISHED
   * with QRESYNC) when allowed, EXISTS for new messages, FETCH FLAGS for flag changes.
   */
  async sync(expungeOk: boolean): Promise<void> {
    const sel = this.sel;
    if (!sel || !this.user) return;
    this.dirty = false;
    const mb = await this.port.mailbox(this.user, sel.name);
    if (!mb || mb.id !== sel.id || mb.uidValidity !== sel.uidValidity) {
      // Deleted or renamed under us: the mailbox is gone for this session.
      this.send('* BYE The selected mailbox was deleted or renamed');
      this.state = 'logout';
      await this.flush();
      this.end();
      return;
    }
    const { changed, vanished } = await this.port.changes(this.user, sel.id, sel.modseq);
    const gone = new Set(vanished);
    for (const uid of vanished) if (sel.has(uid)) sel.pendingVanished.add(uid);
    if (expungeOk && sel.pendingVanished.size) {
      const list = [...sel.pendingVanished].sort((a, b) => a - b);
      if (this.enabled.has('QRESYNC')) {
        for (const uid of list) sel.remove(uid);
        this.send(`* VANISHED ${formatSet(list)}`);
      } else {
        for (const uid of list.reverse()) {
          const seq = sel.remove(uid);
          if (seq) this.send(`* ${seq} EXPUNGE`);
        }
      }
    }
    let added = false;
    for (const m of changed) {
      if (sel.pendingVanished.has(m.uid) || gone.has(m.uid)) continue;
      if (!sel.has(m.uid)) {
        if (m.uid > sel.lastUid && sel.add(m.uid)) added = true;
        continue;
      }
      // Changes this session made itself were answered by its own STORE/FETCH.
      if (sel.own.has(m.modseq)) continue;
      this.send(`* ${sel.seqOf(m.uid)} FETCH (UID ${m.uid} FLAGS (${m.flags.join(' ')})${this.condstore ? ` MODSEQ (${m.modseq})` : ''})`);
    }
    if (added) {
      this.send(`* ${sel.exists} EXISTS`);
      if (!this.rev2) this.send('* 0 RECENT');
    }
    // Changes committed while this ran are in `changed` already: do not report them twice. (The store reads
    // expunged UIDs after the messages, so no expunge below the highest MODSEQ seen here is missed.)
    sel.modseq = changed.reduce((max, m) => Math.max(max, m.modseq), Math.max(sel.modseq, mb.highestModseq));
    for (const m of sel.own) if (m <= sel.modseq) sel.own.delete(m);
    sel.uidNext = Math.max(sel.uidNext, mb.uidNext);
  }

  /** Client gone or BYE sent: stop everything. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.io.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
