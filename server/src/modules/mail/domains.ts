import { generateKeyPairSync } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { AppError } from '../../errors.js';
import type { DbOrTx } from '../../platform/db/index.js';
import { newId } from '../../platform/ids.js';
import type { Actor, Platform } from '../../platform/module.js';
import { uniqueViolation } from '../identity/repo.js';
import type { MailAddressesTable, MailDomainsTable } from './schema.js';
import type { MailOwner } from './store.js';

/**
 * Mail domains and addresses.
 *
 * - A domain has a DKIM key pair generated here (RSA 2048, selector "bastide"); the first domain added
 *   is the default one.
 * - Addresses: every user has `<login>@<default domain>` implicitly (unless that exact address was given
 *   to someone else); explicit rows add aliases (more addresses of a user), distribution lists (a group:
 *   each member gets a copy) and shared mailboxes (a space). Catch-all stays off.
 * - `resolveRecipient` answers SMTP's RCPT: the owners whose INBOX gets the message, or null (unknown).
 */

export interface DomainView {
  id: string;
  name: string;
  isDefault: boolean;
  dkimSelector: string;
  createdAt: number;
}

export interface AddressView {
  id: string;
  address: string;
  targetType: 'user' | 'group' | 'space';
  targetId: string;
  isPrimary: boolean;
  createdAt: number;
}

export interface DnsRecord {
  type: 'MX' | 'TXT';
  name: string;
  value: string;
}

interface Ctx {
  platform: Platform;
  actor: Actor;
  ip?: string | undefined;
}

const toDomain = (r: MailDomainsTable): DomainView => ({ id: r.id, name: r.name, isDefault: Number(r.is_default) === 1, dkimSelector: r.dkim_selector, createdAt: Number(r.created_at) });
const toAddress = (r: MailAddressesTable): AddressView => ({
  id: r.id,
  address: r.address,
  targetType: r.target_type as AddressView['targetType'],
  targetId: r.target_id,
  isPrimary: Number(r.is_primary) === 1,
  createdAt: Number(r.created_at),
});

/** A valid domain name, lower-case ASCII (IDNA): "Exemple.FR" → "exemple.fr". */
export function normalizeDomain(input: string): string {
  const trimmed = input.trim().replace(/\.$/, '');
  const ascii = trimmed.length > 0 && trimmed.length <= 253 ? domainToASCII(trimmed.toLowerCase()) : '';
  if (!ascii || !/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/.test(ascii)) {
    throw new AppError('validation_failed', { domain: input.slice(0, 300) }, 'This is not a valid domain name.');
  }
  return ascii;
}

/** Splits and normalises an address: local part (dot-atom, case kept for display, compared lower-case) and domain. */
export function normalizeAddress(input: string): { address: string; local: string; domain: string } {
  const s = input.trim().replace(/^<|>$/g, '');
  const at = s.lastIndexOf('@');
  if (at <= 0 || at === s.length - 1 || s.length > 320) throw new AppError('validation_failed', { address: input.slice(0, 320) }, 'This is not a valid e-mail address.');
  const local = s.slice(0, at);
  // Dot-atom with UTF-8 allowed (RFC 6531); no quoted local parts.
  if (local.length > 64 || !/^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u.test(local)) {
    throw new AppError('validation_failed', { address: input.slice(0, 320) }, 'This is not a valid e-mail address.');
  }
  let domain: string;
  try {
    domain = normalizeDomain(s.slice(at + 1));
  } catch {
    throw new AppError('validation_failed', { address: input.slice(0, 320) }, 'This is not a valid e-mail address.');
  }
  const lower = local.normalize('NFC').toLowerCase();
  return { address: `${lower}@${domain}`, local: lower, domain };
}

export async function authorizeAdmin(ctx: Ctx): Promise<void> {
  await ctx.platform.policy.authorize(ctx.actor, 'manage', { type: 'mail_admin' });
}

export async function listDomains(platform: Platform): Promise<DomainView[]> {
  const rows = await platform.db.selectFrom('mail_domains').selectAll().orderBy('created_at').execute();
  return rows.map(toDomain);
}

export async function getDomain(db: DbOrTx, name: string): Promise<MailDomainsTable | undefined> {
  return db.selectFrom('mail_domains').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function defaultDomain(db: DbOrTx): Promise<MailDomainsTable | undefined> {
  return db.selectFrom('mail_domains').selectAll().where('is_default', '=', 1).executeTakeFirst();
}

/** Adds a domain and its DKIM key pair; the first one becomes the default. */
export async function addDomain(ctx: Ctx, input: string): Promise<DomainView> {
  await authorizeAdmin(ctx);
  const name = normalizeDomain(input);
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const now = ctx.platform.clock.now();
  try {
    return await ctx.platform.transaction(async (trx, emit) => {
      const hasDefault = await defaultDomain(trx);
      const row: MailDomainsTable = { id: newId(now), name, dkim_selector: 'bastide', dkim_private_key: privateKey, dkim_public_key: publicKey, is_default: hasDefault ? 0 : 1, catch_all: 0, created_at: now };
      await trx.insertInto('mail_domains').values(row).execute();
      await ctx.platform.audit.record(trx, { actor: ctx.actor, action: 'mail.domain.added', targetType: 'mail_domain', targetId: row.id, ip: ctx.ip, details: { name } });
      await emit('mail.domains.changed', { id: row.id }, ['role:admin']);
      return toDomain(row);
    });
  } catch (e) {
    if (uniqueViolation(e)) throw new AppError('mail_domain_taken', { name });
    throw e;
  }
}

/** Removes a domain and its explicit addresses. Mail already stored stays. */
export async function removeDomain(ctx: Ctx, id: string): Promise<void> {
  await authorizeAdmin(ctx);
  await ctx.platform.transaction(async (trx, emit) => {
    const row = await trx.selectFrom('mail_domains').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new AppError('not_found');
    await trx.deleteFrom('mail_addresses').where('domain_id', '=', id).execute();
    await trx.deleteFrom('mail_domains').where('id', '=', id).execute();
    if (row.is_default === 1) {
      const next = await trx.selectFrom('mail_domains').select('id').orderBy('created_at').executeTakeFirst();
      if (next) await trx.updateTable('mail_domains').set({ is_default: 1 }).where('id', '=', next.id).execute();
    }
    await ctx.platform.audit.record(trx, { actor: ctx.actor, action: 'mail.domain.removed', targetType: 'mail_domain', targetId: id, ip: ctx.ip, details: { name: row.name } });
    await emit('mail.domains.changed', { id }, ['role:admin']);
  });
}

/** The DNS records a domain needs (MX, SPF, DKIM, DMARC), for `bastide domain add` and doctor. */
export function dnsRecords(domain: Pick<MailDomainsTable, 'name' | 'dkim_selector' | 'dkim_public_key'>, mailHostname: string): DnsRecord[] {
  const p = domain.dkim_public_key.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return [
    { type: 'MX', name: `${domain.name}.`, value: `10 ${mailHostname}.` },
    { type: 'TXT', name: `${domain.name}.`, value: 'v=spf1 mx -all' },
    { type: 'TXT', name: `${domain.dkim_selector}._domainkey.${domain.name}.`, value: `v=DKIM1; k=rsa; p=${p}` },
    { type: 'TXT', name: `_dmarc.${domain.name}.`, value: `v=DMARC1; p=quarantine; adkim=s; aspf=s; rua=mailto:postmaster@${domain.name}` },
  ];
}

/** Zone-file lines for the records. TXT values over 255 characters are split into quoted strings. */
export function zoneLines(records: DnsRecord[]): string[] {
  return records.map((r) => {
    if (r.type === 'MX') return `${r.name} IN MX ${r.value}`;
    const pieces = r.value.match(/.{1,255}/g) ?? [''];
    return `${r.name} IN TXT ${pieces.map((x) => `"${x}"`).join(' ')}`;
  });
}

// ---------------------------------------------------------------------------------------- addresses

export async function listAddresses(platform: Platform, filter: { domainId?: string; targetType?: string; targetId?: string } = {}): Promise<AddressView[]> {
  let q = platform.db.selectFrom('mail_addresses').selectAll();
  if (filter.domainId) q = q.where('domain_id', '=', filter.domainId);
  if (filter.targetType) q = q.where('target_type', '=', filter.targetType);
  if (filter.targetId) q = q.where('target_id', '=', filter.targetId);
  return (await q.orderBy('address').limit(10_000).execute()).map(toAddress);
}

async function targetExists(db: DbOrTx, type: string, id: string): Promise<boolean> {
  if (type === 'user') return Boolean(await db.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst());
  if (type === 'group') return Boolean(await db.selectFrom('groups').select('id').where('id', '=', id).executeTakeFirst());
  if (type === 'space') return Boolean(await db.selectFrom('spaces').select('id').where('id', '=', id).executeTakeFirst());
  return false;
}

/** Adds an address (alias of a user, distribution list of a group, shared mailbox of a space). */
export async function addAddress(ctx: Ctx, input: { address: string; targetType: 'user' | 'group' | 'space'; targetId: string; primary?: boolean }): Promise<AddressView> {
  await authorizeAdmin(ctx);
  const a = normalizeAddress(input.address);
  const now = ctx.platform.clock.now();
  try {
    return await ctx.platform.transaction(async (trx, emit) => {
      const domain = await getDomain(trx, a.domain);
      if (!domain) throw new AppError('not_found', { domain: a.domain }, 'This domain is not a Bastide mail domain.');
      if (!(await targetExists(trx, input.targetType, input.targetId))) throw new AppError('not_found', { target: input.targetId });
      // The implicit <login>@<default domain> of another user is taken too.
      if (domain.is_default === 1) {
        const u = await trx.selectFrom('users').select('id').where('login', '=', a.local).executeTakeFirst();
        if (u && !(input.targetType === 'user' && input.targetId === u.id)) throw new AppError('mail_address_taken', { address: a.address });
      }
      const primary = input.targetType === 'user' && input.primary === true;
      if (primary) await trx.updateTable('mail_addresses').set({ is_primary: 0 }).where('target_type', '=', 'user').where('target_id', '=', input.targetId).execute();
      const row: MailAddressesTable = { id: newId(now), address: a.address, local_part: a.local, domain_id: domain.id, target_type: input.targetType, target_id: input.targetId, is_primary: primary ? 1 : 0, created_at: now };
      await trx.insertInto('mail_addresses').values(row).execute();
      await ctx.platform.audit.record(trx, { actor: ctx.actor, action: 'mail.address.added', targetType: input.targetType, targetId: input.targetId, ip: ctx.ip, details: { address: a.address } });
      await emit('mail.addresses.changed', { id: row.id }, ['role:admin', ...(input.targetType === 'user' ? [input.targetId] : [])]);
      return toAddress(row);
    });
  } catch (e) {
    if (uniqueViolation(e)) throw new AppError('mail_address_taken', { address: a.address });
    throw e;
  }
}

export async function removeAddress(ctx: Ctx, id: string): Promise<void> {
  await authorizeAdmin(ctx);
  await ctx.platform.transaction(async (trx, emit) => {
    const row = await trx.selectFrom('mail_addresses').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new AppError('not_found');
    await trx.deleteFrom('mail_addresses').where('id', '=', id).execute();
    await ctx.platform.audit.record(trx, { actor: ctx.actor, action: 'mail.address.removed', targetType: row.target_type, targetId: row.target_id, ip: ctx.ip, details: { address: row.address } });
    await emit('mail.addresses.changed', { id }, ['role:admin', ...(row.target_type === 'user' ? [row.target_id] : [])]);
  });
}

/**
 * Who receives mail sent to `address`: the owners whose INBOX gets a copy (a distribution list gives
 * its members, without duplicates and without disabled accounts), or null when the address is unknown
 * here. `local` is true when the domain is one of ours (an unknown user there is a 550 at RCPT).
 */
export async function resolveRecipient(db: DbOrTx, input: string): Promise<{ local: boolean; owners: MailOwner[] | null; address: string }> {
  let a: ReturnType<typeof normalizeAddress>;
  try {
    a = normalizeAddress(input);
  } catch {
    return { local: false, owners: null, address: input };
  }
  const domain = await getDomain(db, a.domain);
  if (!domain) return { local: false, owners: null, address: a.address };
  // Sub-addressing: "paul+lists@" delivers to "paul@".
  const candidates = [a.address];
  const plus = a.local.indexOf('+');
  if (plus > 0) candidates.push(`${a.local.slice(0, plus)}@${a.domain}`);
  for (const addr of candidates) {
    const row = await db.selectFrom('mail_addresses').selectAll().where('address', '=', addr).executeTakeFirst();
    if (row) {
      if (row.target_type === 'user') {
        const u = await db.selectFrom('users').select(['id', 'disabled']).where('id', '=', row.target_id).executeTakeFirst();
        return { local: true, owners: u && u.disabled === 0 ? [{ type: 'user', id: u.id }] : null, address: a.address };
      }
      if (row.target_type === 'space') return { local: true, owners: [{ type: 'space', id: row.target_id }], address: a.address };
      if (row.target_type === 'group') {
        const members = await db
          .selectFrom('group_members')
          .innerJoin('users', 'users.id', 'group_members.user_id')
          .select('users.id')
          .where('group_members.group_id', '=', row.target_id)
          .where('users.disabled', '=', 0)
          .orderBy('users.id')
          .execute();
        return { local: true, owners: members.length > 0 ? members.map((m) => ({ type: 'user' as const, id: m.id })) : null, address: a.address };
      }
    }
    if (domain.is_default === 1) {
      const local = addr.slice(0, addr.lastIndexOf('@'));
      const u = await db.selectFrom('users').select(['id', 'disabled']).where('login', '=', local).executeTakeFirst();
      if (u) return { local: true, owners: u.disabled === 0 ? [{ type: 'user', id: u.id }] : null, address: a.address };
    }
  }
  return { local: true, owners: null, address: a.address };
}

/** Every address a user may send from (primary first): explicit ones, then `<login>@<default domain>`. */
export async function userAddresses(db: DbOrTx, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('mail_addresses').select(['address', 'is_primary']).where('target_type', '=', 'user').where('target_id', '=', userId).orderBy('is_primary', 'desc').orderBy('address').execute();
  const out = rows.map((r) => r.address);
  const d = await defaultDomain(db);
  const u = await db.selectFrom('users').select('login').where('id', '=', userId).executeTakeFirst();
  if (d && u) {
    const implicit = `${u.login.toLowerCase()}@${d.name}`;
    const taken = await db.selectFrom('mail_addresses').select(['target_type', 'target_id']).where('address', '=', implicit).executeTakeFirst();
    if (!taken && !out.includes(implicit)) {
      if (rows.some((r) => r.is_primary === 1)) out.push(implicit);
      else out.unshift(implicit);
    }
  }
  // Shared mailboxes of spaces the user is a member of may be sent from too.
  const spaces = await db
    .selectFrom('mail_addresses')
    .innerJoin('space_members', 'space_members.space_id', 'mail_addresses.target_id')
    .select('mail_addresses.address')
    .where('mail_addresses.target_type', '=', 'space')
    .where('space_members.user_id', '=', userId)
    .where('space_members.role', 'in', ['owner', 'manager', 'member'])
    .execute();
  for (const s of spaces) if (!out.includes(s.address)) out.push(s.address);
  return out;
}

/** The domain row that signs mail from `address` (DKIM), if it is one of ours. */
export async function signingDomain(db: DbOrTx, address: string): Promise<MailDomainsTable | undefined> {
  const at = address.lastIndexOf('@');
  if (at < 0) return undefined;
  try {
    return await getDomain(db, normalizeDomain(address.slice(at + 1)));
  } catch {
    return undefined;
  }
}
