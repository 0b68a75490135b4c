import { isIP } from 'node:net';
import { randomBytes } from 'node:crypto';
import nodemailer from 'nodemailer';
import { dkimSign } from 'mailauth';
import { addRef, releaseRef } from '../../platform/blobs/refs.js';
import type { BlobInfo } from '../../platform/blobs/types.js';
import type { Tx } from '../../platform/db/index.js';
import { newId } from '../../platform/ids.js';
import type { JobContext } from '../../platform/jobs/types.js';
import type { Platform } from '../../platform/module.js';
import { signingDomain } from './domains.js';
import { messageHeaders } from './mime.js';
import { mailRuntime } from './runtime.js';
import type { MailOutboundTable } from './schema.js';
import { mailStore } from './store.js';

/**
 * Outbound delivery on the platform job queue (job `mail.outbound`, payload `{id}` of a `mail_outbound`
 * row). Each run tries the still-pending recipients, grouped by domain: MX lookup (lowest preference
 * first; no MX → the domain's own A/AAAA; a null MX "." → permanent failure), or every recipient through
 * BASTIDE_SMTP_RELAY. The message is DKIM-signed with the sender domain's key when the domain is ours;
 * STARTTLS is used when offered (opportunistic, certificate not verified: MTA-STS/DANE are later work).
 * A 5xx answer fails that recipient for good; a 4xx or a connection failure leaves it pending and the
 * job is retried with exponential backoff (1 min doubling, at most 1 h apart) for 5 days, after which
 * the remaining recipients fail. Failures produce one delivery status notification (RFC 3464) in the
 * sender's INBOX. The recipient states are kept in the row, so a retry never sends twice to a
 * recipient that accepted, and a job interrupted by a crash is retaken by the queue after restart.
 */

export const OUTBOUND_JOB = 'mail.outbound';
export const RETRY_FOR_MS = 5 * 86_400_000;
export const OUTBOUND_JOB_OPTIONS = { maxAttempts: 200, backoffMs: 60_000, maxBackoffMs: 3_600_000 };

export interface RecipientState {
  address: string;
  status: 'pending' | 'sent' | 'failed';
  /** Last SMTP answer or connection error. */
  error?: string;
  /** Enhanced status code of a failure (RFC 3463). */
  code?: string;
  at?: number;
}

/** Queues `raw` (already in the blob store as `blob`) for remote recipients, inside the caller's transaction. */
export async function enqueueOutbound(platform: Platform, trx: Tx, input: { userId: string | null; mailFrom: string; recipients: string[]; blob: BlobInfo }): Promise<string> {
  const now = platform.clock.now();
  const id = newId(now);
  const recipients: RecipientState[] = [...new Set(input.recipients)].map((address) => ({ address, status: 'pending' }));
  await trx
    .insertInto('mail_outbound')
    .values({ id, user_id: input.userId, mail_from: input.mailFrom, blob_sha256: input.blob.sha256, size: input.blob.size, recipients: JSON.stringify(recipients), status: 'queued', attempts: 0, last_error: null, queued_at: now, updated_at: now })
    .execute();
  await addRef(trx, input.blob, now);
  await platform.jobs.enqueue(OUTBOUND_JOB, { id }, { trx });
  return id;
}

interface Hop {
  /** Host name (for TLS SNI and logs) and the address to connect to. */
  name: string;
  address: string;
  port: number;
  auth?: { user: string; pass: string };
  secure?: boolean;
}

class PermanentError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

async function addressesOf(platform: Platform, host: string): Promise<string[]> {
  const rt = mailRuntime(platform);
  const mapped = rt.hosts.get(host.toLowerCase());
  if (mapped) return [mapped];
  if (isIP(host)) return [host];
  const out: string[] = [];
  for (const type of ['A', 'AAAA']) {
    try {
      const r = (await rt.resolver(host, type)) as string[];
      if (Array.isArray(r)) out.push(...r.filter((x) => typeof x === 'string'));
    } catch {
      /* try the next type */
    }
  }
  return out;
}

/** The hops for a recipient domain: its MX hosts in preference order, or the domain itself (RFC 5321 §5.1). */
async function hopsFor(platform: Platform, domain: string): Promise<Hop[]> {
  const rt = mailRuntime(platform);
  if (platform.config.smtpRelay) {
    const u = new URL(platform.config.smtpRelay);
    const secure = u.protocol === 'smtps:';
    const port = u.port ? Number(u.port) : secure ? 465 : 587;
    const addrs = await addressesOf(platform, u.hostname);
    return (addrs.length ? addrs : [u.hostname]).map((address) => ({
      name: u.hostname,
      address,
      port,
      secure,
      ...(u.username ? { auth: { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } } : {}),
    }));
  }
  let mx: Array<{ exchange: string; priority: number }> = [];
  try {
    const r = (await rt.resolver(domain, 'MX')) as Array<{ exchange: string; priority: number }>;
    if (Array.isArray(r)) mx = r.filter((x) => x && typeof x.exchange === 'string');
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'ENODATA' && code !== 'ENOTFOUND') throw new Error(`MX lookup for ${domain} failed (${code ?? (e as Error).message})`);
    if (code === 'ENOTFOUND' && (await addressesOf(platform, domain)).length === 0) throw new PermanentError(`the domain ${domain} does not exist`, '5.1.2');
  }
  if (mx.length === 1 && (mx[0]!.exchange === '' || mx[0]!.exchange === '.')) throw new PermanentError(`the domain ${domain} accepts no mail (null MX)`, '5.1.10');
  const names = mx.length > 0 ? [...mx].sort((a, b) => a.priority - b.priority).map((m) => m.exchange.replace(/\.$/, '')) : [domain];
  const hops: Hop[] = [];
  for (const name of names.slice(0, 10)) for (const address of (await addressesOf(platform, name)).slice(0, 4)) hops.push({ name, address, port: rt.outboundPort });
  if (hops.length === 0) throw new Error(`no address found for the mail hosts of ${domain}`);
  return hops;
}

interface SendOutcome {
  accepted: string[];
  rejected: Array<{ address: string; permanent: boolean; error: string; code: string }>;
}

function enhanced(text: string, fallback: string): string {
  const m = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(text);
  return m ? m[1]! : fallback;
}

async function sendVia(platform: Platform, hop: Hop, from: string, to: string[], raw: Buffer): Promise<SendOutcome> {
  const transport = nodemailer.createTransport({
    host: hop.address,
    port: hop.port,
    secure: hop.secure ?? false,
    name: platform.config.mailHostname,
    ...(hop.auth ? { auth: hop.auth } : {}),
    tls: { rejectUnauthorized: false, ...(isIP(hop.name) ? {} : { servername: hop.name }) },
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 120_000,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  try {
    const info = await transport.sendMail({ envelope: { from, to }, raw });
    const rejected = (info.rejectedErrors ?? []) as Array<Error & { responseCode?: number; recipient?: string; response?: string }>;
    const out: SendOutcome = { accepted: (info.accepted as string[]).map(String), rejected: [] };
    for (const r of rejected) {
      const code = r.responseCode ?? 450;
      out.rejected.push({ address: String(r.recipient ?? ''), permanent: code >= 500, error: r.response ?? r.message, code: enhanced(r.response ?? '', code >= 500 ? '5.0.0' : '4.0.0') });
    }
    // Recipients nodemailer reports as rejected without details.
    for (const a of (info.rejected as string[]).map(String)) if (!out.rejected.some((r) => r.address === a)) out.rejected.push({ address: a, permanent: false, error: 'rejected', code: '4.0.0' });
    return out;
  } catch (e) {
    const err = e as Error & { responseCode?: number; response?: string; code?: string; rejectedErrors?: Array<Error & { responseCode?: number; recipient?: string; response?: string }> };
    if (err.code === 'EENVELOPE' && err.rejectedErrors?.length) {
      return {
        accepted: [],
        rejected: to.map((address) => {
          const r = err.rejectedErrors!.find((x) => x.recipient === address);
          const code = r?.responseCode ?? err.responseCode ?? 450;
          const text = r?.response ?? err.response ?? err.message;
          return { address, permanent: code >= 500, error: text, code: enhanced(text, code >= 500 ? '5.0.0' : '4.0.0') };
        }),
      };
    }
    if (err.responseCode && err.responseCode >= 500) {
      const text = err.response ?? err.message;
      return { accepted: [], rejected: to.map((address) => ({ address, permanent: true, error: text, code: enhanced(text, '5.0.0') })) };
    }
    throw err; // connection-level: try the next hop
  } finally {
    transport.close();
  }
}

/** DKIM-signs `raw` with the sender domain's key when the domain is one of ours. */
export async function signOutbound(platform: Platform, mailFrom: string, raw: Buffer): Promise<Buffer> {
  const fromHeader = messageHeaders(raw).find((h) => h.name === 'from')?.value ?? '';
  const m = /[^\s<>@]+@([^\s<>@]+)/.exec(fromHeader);
  const domain = (m ? await signingDomain(platform.db, `x@${m[1]!.replace(/>$/, '')}`) : undefined) ?? (mailFrom ? await signingDomain(platform.db, mailFrom) : undefined);
  if (!domain) return raw;
  const key = { signingDomain: domain.name, selector: domain.dkim_selector, privateKey: domain.dkim_private_key, algorithm: 'rsa-sha256', canonicalization: 'relaxed/relaxed' };
  const res = await dkimSign(raw, { ...key, signTime: new Date(platform.clock.now()), signatureData: [key] });
  if (res.errors?.length || !res.signatures?.trim()) {
    platform.log.warn({ errors: res.errors?.map((e) => e.message), domain: domain.name }, 'DKIM signing failed; sending unsigned');
    return raw;
  }
  return Buffer.concat([Buffer.from(res.signatures), raw]);
}

/** The job handler. */
export function outboundHandler(platform: Platform) {
  return async (payload: Record<string, unknown>, ctx: JobContext): Promise<void> => {
    const id = typeof payload.id === 'string' ? payload.id : '';
    const row = await platform.db.selectFrom('mail_outbound').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row || row.status !== 'queued') return;
    const recipients = JSON.parse(row.recipients) as RecipientState[];
    const pending = recipients.filter((r) => r.status === 'pending');
    const raw = await signOutbound(platform, row.mail_from, await mailStore.blobBytes(platform, row.blob_sha256));
    const now = () => platform.clock.now();
    const newlyFailed: RecipientState[] = [];
    const byDomain = new Map<string, RecipientState[]>();
    for (const r of pending) {
      const d = platform.config.smtpRelay ? '*' : r.address.slice(r.address.lastIndexOf('@') + 1).toLowerCase();
      byDomain.set(d, [...(byDomain.get(d) ?? []), r]);
    }
    let lastError: string | null = null;
    for (const [domain, list] of byDomain) {
      if (ctx.signal.aborted) break;
      let hops: Hop[];
      try {
        hops = await hopsFor(platform, domain);
      } catch (e) {
        lastError = (e as Error).message;
        for (const r of list) {
          r.error = lastError;
          if (e instanceof PermanentError) {
            r.status = 'failed';
            r.code = e.code;
            r.at = now();
            newlyFailed.push(r);
          }
        }
        continue;
      }
      let outcome: SendOutcome | null = null;
      for (const hop of hops) {
        try {
          outcome = await sendVia(platform, hop, row.mail_from, list.map((r) => r.address), raw);
          break;
        } catch (e) {
          lastError = `${hop.name} [${hop.address}]:${hop.port}: ${(e as Error).message}`;
        }
      }
      if (!outcome) {
        for (const r of list) r.error = lastError ?? 'no mail host answered';
        continue;
      }
      const acceptedLower = new Set(outcome.accepted.map((a) => a.toLowerCase()));
      for (const r of list) {
        const rej = outcome.rejected.find((x) => x.address.toLowerCase() === r.address.toLowerCase());
        if (rej) {
          r.error = rej.error;
          r.code = rej.code;
          if (rej.permanent) {
            r.status = 'failed';
            r.at = now();
            newlyFailed.push(r);
          } else lastError = rej.error;
        } else if (acceptedLower.has(r.address.toLowerCase()) || outcome.rejected.length === 0) {
          r.status = 'sent';
          r.at = now();
          delete r.error;
        }
      }
    }
    const stillPending = recipients.filter((r) => r.status === 'pending');
    const expired = stillPending.length > 0 && (now() - Number(row.queued_at) >= RETRY_FOR_MS || ctx.attempt >= OUTBOUND_JOB_OPTIONS.maxAttempts);
    if (expired) {
      for (const r of stillPending) {
        r.status = 'failed';
        r.code = r.code?.startsWith('5') ? r.code : '4.4.7';
        r.at = now();
        newlyFailed.push(r);
      }
    }
    const done = recipients.every((r) => r.status !== 'pending');
    await platform.transaction(async (trx) => {
      await trx
        .updateTable('mail_outbound')
        .set({
          recipients: JSON.stringify(recipients),
          attempts: Number(row.attempts) + 1,
          last_error: lastError,
          status: done ? (recipients.some((r) => r.status === 'failed') ? 'failed' : 'sent') : 'queued',
          updated_at: now(),
        })
        .where('id', '=', row.id)
        .execute();
      if (done) await releaseRef(trx, row.blob_sha256, now());
    });
    if (newlyFailed.length > 0) await bounce(platform, row, newlyFailed, raw).catch((err: unknown) => platform.log.error({ err, outbound: row.id }, 'could not deliver the bounce'));
    if (!done) throw new Error(`temporary delivery failure for ${stillPending.length} recipient(s): ${lastError ?? 'unknown'}`);
  };
}

/** A delivery status notification (RFC 3464) into the sender's INBOX. Bounces of bounces are not sent. */
async function bounce(platform: Platform, row: MailOutboundTable, failed: RecipientState[], original: Buffer): Promise<void> {
  if (!row.user_id || row.mail_from === '') return;
  const host = platform.config.mailHostname;
  const boundary = `bastide-dsn-${randomBytes(8).toString('hex')}`;
  const date = new Date(platform.clock.now()).toUTCString().replace('GMT', '+0000');
  const headerEnd = original.indexOf('\r\n\r\n');
  const headers = original.subarray(0, headerEnd < 0 ? Math.min(original.length, 64 * 1024) : headerEnd + 2).toString('utf8');
  const subject = messageHeaders(original).find((h) => h.name === 'subject')?.value ?? '';
  const text = [
    `This is the mail system at ${host}.`,
    '',
    'Your message could not be delivered to the following recipient(s):',
    '',
    ...failed.map((r) => `  <${r.address}>: ${r.error ?? 'delivery failed'}`),
    '',
    subject ? `Subject of your message: ${subject}` : '',
    '',
  ].join('\r\n');
  const status = [
    `Reporting-MTA: dns; ${host}`,
    `Arrival-Date: ${new Date(Number(row.queued_at)).toUTCString().replace('GMT', '+0000')}`,
    '',
    ...failed.flatMap((r) => [
      `Final-Recipient: rfc822; ${r.address}`,
      'Action: failed',
      `Status: ${r.code && /^[45]\.\d+\.\d+$/.test(r.code) ? r.code.replace(/^4/, '5') : '5.0.0'}`,
      ...(r.error ? [`Diagnostic-Code: smtp; ${r.error.replace(/[\r\n]+/g, ' ').slice(0, 900)}`] : []),
      '',
    ]),
  ].join('\r\n');
  const dsn = Buffer.from(
    [
      `From: Mail Delivery System <MAILER-DAEMON@${host}>`,
      `To: <${row.mail_from}>`,
      'Subject: Undelivered Mail Returned to Sender',
      `Date: ${date}`,
      `Message-ID: <${newId()}.dsn@${host}>`,
      'Auto-Submitted: auto-replied',
      'MIME-Version: 1.0',
      `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      text,
      `--${boundary}`,
      'Content-Type: message/delivery-status',
      '',
      status,
      `--${boundary}`,
      'Content-Type: text/rfc822-headers',
      'Content-Transfer-Encoding: 8bit',
      '',
      headers,
      `--${boundary}--`,
      '',
    ].join('\r\n'),
  );
  const sys = { platform, actor: { kind: 'system' as const } };
  const inbox = await mailStore.specialMailbox(sys, { type: 'user', id: row.user_id }, '\\Inbox');
  await mailStore.deliver(sys, [{ mailboxId: inbox.id }], dsn);
}
