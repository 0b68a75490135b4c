import { AppError } from '../../errors.js';
import { newId } from '../../platform/ids.js';
import type { Platform } from '../../platform/module.js';
import { normalizeAddress, resolveRecipient, userAddresses } from './domains.js';
import { messageHeaders } from './mime.js';
import { enqueueOutbound } from './outbound.js';
import { mailStore, type MailOwner } from './store.js';

/**
 * Delivery commands shared by the SMTP listeners and the webmail: local delivery of an inbound message
 * and submission of a user's message (Sent copy, local recipients delivered directly in the same
 * transaction, remote recipients queued). Both return only once everything is durable.
 */

const SYSTEM = { kind: 'system' } as const;

const ownerKey = (o: MailOwner): string => `${o.type}:${o.id}`;

/** Delivers `raw` to the INBOX of every owner (de-duplicated), in one transaction. */
export async function deliverLocal(platform: Platform, owners: MailOwner[], raw: Buffer): Promise<number> {
  const ctx = { platform, actor: SYSTEM };
  const seen = new Set<string>();
  const targets: Array<{ mailboxId: string }> = [];
  for (const o of owners) {
    if (seen.has(ownerKey(o))) continue;
    seen.add(ownerKey(o));
    const inbox = await mailStore.specialMailbox(ctx, o, '\\Inbox');
    targets.push({ mailboxId: inbox.id });
  }
  if (targets.length === 0) return 0;
  await mailStore.deliver(ctx, targets, raw);
  return targets.length;
}

/** The addresses in a From header (lower-case). */
function fromAddresses(raw: Buffer): string[] {
  const from = messageHeaders(raw).find((h) => h.name === 'from')?.value ?? '';
  const out: string[] = [];
  for (const m of from.matchAll(/<([^<>\s]+@[^<>\s]+)>|(?:^|[\s,])([^\s<>,"]+@[^\s<>,"]+)/g)) {
    try {
      out.push(normalizeAddress(m[1] ?? m[2]!).address);
    } catch {
      /* not an address */
    }
  }
  return out;
}

/** Adds Date and Message-ID when the client left them out (RFC 6409 §8). */
export function completeHeaders(platform: Platform, raw: Buffer, fromAddress: string): Buffer {
  const names = new Set(messageHeaders(raw).map((h) => h.name));
  const extra: string[] = [];
  if (!names.has('date')) extra.push(`Date: ${new Date(platform.clock.now()).toUTCString().replace('GMT', '+0000')}`);
  if (!names.has('message-id')) extra.push(`Message-ID: <${newId().toLowerCase()}@${fromAddress.slice(fromAddress.lastIndexOf('@') + 1) || platform.config.mailHostname}>`);
  return extra.length ? Buffer.concat([Buffer.from(`${extra.join('\r\n')}\r\n`), raw]) : raw;
}

export interface SubmitResult {
  local: number;
  remote: number;
  queueId: string | null;
}

/**
 * Submission by a user: the envelope sender and every From address must be the user's; local recipients
 * are delivered, remote ones queued, and a copy (\Seen) goes to the user's Sent folder — one transaction.
 */
export async function submitMessage(platform: Platform, userId: string, envelope: { from: string; to: string[] }, rawIn: Buffer, opts: { saveSent?: boolean } = {}): Promise<SubmitResult> {
  const mine = await userAddresses(platform.db, userId);
  const from = envelope.from ? normalizeAddress(envelope.from).address : '';
  if (!from || !mine.includes(from)) throw new AppError('sender_not_allowed', { from: envelope.from });
  const headerFrom = fromAddresses(rawIn);
  if (headerFrom.length === 0 || headerFrom.some((a) => !mine.includes(a))) throw new AppError('sender_not_allowed', { from: headerFrom });
  const raw = completeHeaders(platform, rawIn, from);
  const ctx = { platform, actor: SYSTEM };
  const prepared = mailStore.prepare(platform, raw);
  const localOwners: MailOwner[] = [];
  const remote: string[] = [];
  for (const rcpt of envelope.to) {
    const r = await resolveRecipient(platform.db, rcpt);
    if (r.local) {
      if (!r.owners) throw new AppError('unknown_recipient', { address: r.address });
      localOwners.push(...r.owners);
    } else remote.push(r.address);
  }
  const targets: Array<{ mailboxId: string; flags?: string[] }> = [];
  if (opts.saveSent !== false) {
    const sent = await mailStore.specialMailbox(ctx, { type: 'user', id: userId }, '\\Sent');
    targets.push({ mailboxId: sent.id, flags: ['\\Seen'] });
  }
  const seen = new Set<string>();
  for (const o of localOwners) {
    if (seen.has(ownerKey(o))) continue;
    seen.add(ownerKey(o));
    targets.push({ mailboxId: (await mailStore.specialMailbox(ctx, o, '\\Inbox')).id });
  }
  let queueId: string | null = null;
  await mailStore.deliver(ctx, targets, raw, {
    prepared,
    also: remote.length
      ? async (trx, _emit, blob) => {
          queueId = await enqueueOutbound(platform, trx, { userId, mailFrom: from, recipients: remote, blob });
        }
      : undefined,
  });
  return { local: seen.size, remote: remote.length, queueId };
}
