import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { createAppPassword } from '../../src/modules/identity/commands/credentials.js';
import { imapListening } from '../../src/protocols/imap/index.js';
import type { TestServer } from './server.js';

/**
 * A raw IMAP client for transcript tests: writes exact bytes, reads responses up to a tagged line.
 * Literals in responses are kept inline ("{n}\r\n" + n bytes), so assertions see the wire text.
 */
export class RawImap {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;

  constructor(public socket: Socket | TLSSocket) {
    this.attach(socket);
  }

  private attach(socket: Socket | TLSSocket): void {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static async open(port: number, tls = false): Promise<RawImap> {
    const socket = tls ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : netConnect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once(tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    const c = new RawImap(socket);
    await c.readLine();
    return c;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Waits until the buffer satisfies `done`, or times out. */
  async waitFor(done: (text: string) => boolean, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.buf.toString('latin1');
      if (done(text)) return text;
      if (this.closed) throw new Error(`connection closed; got: ${text}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout; got: ${text}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async readLine(): Promise<string> {
    const text = await this.waitFor((t) => t.includes('\r\n'));
    const i = text.indexOf('\r\n');
    this.buf = this.buf.subarray(i + 2);
    return text.slice(0, i);
  }

  /** Everything up to and including the line starting with `tag ` (a tagged response). */
  async until(tag: string, timeoutMs = 5000): Promise<string> {
    // Scans only the bytes not yet scanned (large FETCH answers arrive in many chunks).
    const needle = Buffer.from(`\r\n${tag} `, 'latin1');
    let from = 0;
    let end = -1;
    const find = (): boolean => {
      let at = this.buf.subarray(0, tag.length + 1).toString('latin1') === `${tag} ` ? -2 : this.buf.indexOf(needle, from);
      if (at === -1) {
        from = Math.max(0, this.buf.length - needle.length);
        return false;
      }
      const lineEnd = this.buf.indexOf('\r\n', at + 2);
      if (lineEnd < 0) return false;
      if (!/^(OK|NO|BAD)/.test(this.buf.subarray(at + 2 + tag.length + 1, at + 2 + tag.length + 4).toString('latin1'))) {
        from = at + 1;
        at = -1;
        return find();
      }
      end = lineEnd + 2;
      return true;
    };
    const deadline = Date.now() + timeoutMs;
    while (!find()) {
      if (this.closed) throw new Error(`connection closed; got: ${this.buf.toString('latin1')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout; got: ${this.buf.toString('latin1')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    const text = this.buf.subarray(0, end).toString('latin1');
    this.buf = this.buf.subarray(end);
    return text;
  }

  /** Sends `tag command` and returns the whole answer. */
  async cmd(tag: string, command: string): Promise<string> {
    this.write(`${tag} ${command}\r\n`);
    return this.until(tag);
  }

  /** Takes whatever has arrived (after waiting `ms`). */
  async drain(ms = 100): Promise<string> {
    await new Promise((r) => setTimeout(r, ms));
    const text = this.buf.toString('latin1');
    this.buf = Buffer.alloc(0);
    return text;
  }

  async startTls(): Promise<void> {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    const t = tlsConnect({ socket: this.socket as Socket, rejectUnauthorized: false, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      t.once('secureConnect', () => resolve());
      t.once('error', reject);
    });
    this.socket = t;
    this.attach(t);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The IMAP ports of a test server started with `{config: {imapPort: 0, imapsPort: 0}}`. */
export function imapPorts(server: TestServer): { imap: number; imaps: number } {
  const l = imapListening(server.bastide.platform);
  if (!l?.imap || !l.imaps) throw new Error('IMAP is not listening: start the test server with imapPort: 0, imapsPort: 0');
  return { imap: l.imap, imaps: l.imaps };
}

/** An app password with the given scopes for a user. */
export async function appPassword(server: TestServer, userId: string, scopes: Array<'mail' | 'dav' | 'api'> = ['mail']): Promise<string> {
  const r = await createAppPassword({ platform: server.bastide.platform, actor: { kind: 'system' } }, { userId, name: `imap-test-${Math.random().toString(36).slice(2, 8)}`, scopes });
  return r.password;
}

export const IMAP_CONFIG = { imapPort: 0, imapsPort: 0 } as const;
