import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { AppError, CATALOG, isAppError } from '../../errors.js';

/** Shared pieces of the SMTP listeners: bounded DATA reading, SMTP errors, per-IP rate limit, Received. */

export type SmtpError = Error & { responseCode: number };

/** An error smtp-server answers with `code` (it adds the RFC 3463 enhanced code itself). */
export function smtpError(code: number, message: string): SmtpError {
  return Object.assign(new Error(message), { responseCode: code });
}

/** Maps an error from the store or a command to an SMTP reply (catalog `smtp` entries; 451 otherwise). */
export function toSmtpError(e: unknown): SmtpError {
  if (isAppError(e)) {
    if (e.code === 'quota_exceeded') return smtpError(452, 'Mailbox full, try again later');
    if (e.code === 'payload_too_large') return smtpError(552, 'Message exceeds the fixed maximum message size');
    const reply = (CATALOG[e.code] as { smtp?: string }).smtp;
    const code = reply ? Number(reply.slice(0, 3)) : e.status >= 500 ? 451 : 550;
    return smtpError(code, e.message);
  }
  return smtpError(451, 'Local error in processing; try again later');
}

/** Reads the DATA stream into one buffer; null when it went over the size limit (the rest is drained). */
export async function readData(stream: SMTPServerDataStream, max: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  for await (const c of stream) {
    const b = c as Buffer;
    size += b.length;
    if (size > max) over = true;
    if (!over) chunks.push(b);
  }
  if (over || stream.sizeExceeded) return null;
  return Buffer.concat(chunks, size);
}

/** Fixed-window counter per key (client IP), bounded in memory. */
export class RateLimiter {
  private windows = new Map<string, { start: number; count: number }>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  /** Counts one event; false when the key is over its limit in the current window. */
  take(key: string): boolean {
    if (this.limit <= 0) return true;
    const t = this.now();
    let w = this.windows.get(key);
    if (!w || t - w.start >= this.windowMs) {
      if (this.windows.size > 100_000) this.windows.clear();
      w = { start: t, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    return w.count <= this.limit;
  }
}

/**
 * Removes the Authentication-Results headers that claim to come from this host (RFC 8601 §5: a message
 * arriving from outside must not carry results forged in our name). Other headers stay byte for byte.
 */
export function stripForgedResults(raw: Buffer, authservId: string): Buffer {
  const end = raw.indexOf('\r\n\r\n');
  const headerEnd = end < 0 ? raw.length : end + 2;
  const head = raw.subarray(0, headerEnd).toString('latin1');
  if (!/^authentication-results:/im.test(head)) return raw;
  const lines = head.split('\r\n');
  const out: string[] = [];
  let dropping = false;
  const id = authservId.toLowerCase();
  for (const line of lines) {
    if (/^[ \t]/.test(line) && line !== '') {
      if (!dropping) out.push(line);
      continue;
    }
    const m = /^authentication-results:\s*([^\s;]+)/i.exec(line);
    dropping = Boolean(m && m[1]!.toLowerCase() === id);
    if (!dropping) out.push(line);
  }
  return Buffer.concat([Buffer.from(out.join('\r\n'), 'latin1'), raw.subarray(headerEnd)]);
}

/** Strips characters that could break a header line. */
const clean = (s: string): string => s.replace(/[\r\n()\\]/g, ' ').slice(0, 200);

/** A Received header (RFC 5321 §4.4) for this hop. */
export function receivedHeader(session: SMTPServerSession, host: string, recipient: string | null, now: number): string {
  const helo = clean(session.hostNameAppearsAs || 'unknown');
  const rdns = session.clientHostname && session.clientHostname !== `[${session.remoteAddress}]` ? clean(session.clientHostname) : '';
  const proto = `${session.transmissionType || 'ESMTP'}`;
  const date = new Date(now).toUTCString().replace('GMT', '+0000');
  return `Received: from ${helo} (${rdns ? `${rdns} ` : ''}[${clean(session.remoteAddress)}])\r\n\tby ${clean(host)} (Bastide) with ${proto} id ${clean(session.id)}${recipient ? `\r\n\tfor <${clean(recipient)}>` : ''};\r\n\t${date}\r\n`;
}

export { AppError };
