import type { Handler } from './commands.js';
import { decodeMutf7, encodeMutf7 } from './mutf7.js';
import type { Command, CommandOf } from './parser.js';
import type { ImapSession, Result } from './session.js';
import type { MailboxView } from './port.js';
import { astring, type Chunk } from './writer.js';

/**
 * Mailbox commands: LIST (RFC 9051 6.3.9, LIST-EXTENDED 5258, SPECIAL-USE 6154, LIST-STATUS 5819),
 * LSUB, CREATE (CREATE-SPECIAL-USE), DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, STATUS, APPEND (UIDPLUS
 * 4315), GETQUOTAROOT / GETQUOTA (RFC 9208).
 */

type C<N extends Command['name']> = CommandOf<N>;
const AUTHED = ['auth', 'selected'] as const;
export const SPECIAL_USES = ['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive'];

export class NameError extends Error {}

/** The wire name (modified UTF-7, or UTF-8 once enabled) as the store's name: "/" delimiter, INBOX upper-case. */
export function mailboxName(s: ImapSession, wire: string): string {
  const decoded = s.utf8 ? wire : decodeMutf7(wire);
  if (decoded === null) throw new NameError('The mailbox name is not valid modified UTF-7');
  let name = decoded;
  if (/^inbox$/i.test(name)) name = 'INBOX';
  else if (/^inbox\//i.test(name)) name = `INBOX/${name.slice(6)}`;
  return name;
}

export function wireName(s: ImapSession, name: string): Chunk[] {
  return astring(s.utf8 ? name : encodeMutf7(name), { utf8: s.utf8 });
}

function validNewName(name: string): string | null {
  const n = name.replace(/\/+$/, '');
  // eslint-disable-next-line no-control-regex
  if (!n || n.length > 500 || n.startsWith('/') || n.includes('//') || /[\0-\x1f\x7f*%]/.test(n)) return null;
  if (n.split('/').length > 20) return null;
  return n;
}

function patternRegex(s: ImapSession, reference: string, pattern: string): RegExp {
  let full = reference + pattern;
  const decoded = s.utf8 ? full : decodeMutf7(full);
  full = decoded ?? full;
  if (/^inbox(\/|$)/i.test(full)) full = `INBOX${full.slice(5)}`;
  const re = full.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/%/g, '[^/]*');
  return new RegExp(`^${re}$`, 's');
}

interface Entry {
  name: string;
  mb: MailboxView | null;
  children: boolean;
}

function entries(boxes: MailboxView[]): Entry[] {
  const byName = new Map(boxes.map((b) => [b.name, b]));
  const names = new Set(byName.keys());
  for (const n of [...names]) {
    const parts = n.split('/');
    for (let i = 1; i < parts.length; i++) names.add(parts.slice(0, i).join('/'));
  }
  const sorted = [...names].sort((a, b) => (a === 'INBOX' ? -1 : b === 'INBOX' ? 1 : a.localeCompare(b)));
  return sorted.map((name) => ({ name, mb: byName.get(name) ?? null, children: sorted.some((o) => o.startsWith(`${name}/`)) }));
}

async function statusLine(s: ImapSession, mb: MailboxView, items: string[]): Promise<Chunk[] | string> {
  const st = await s.port.status(s.user!, mb.id);
  const out: string[] = [];
  for (const it of items) {
    switch (it) {
      case 'MESSAGES':
        out.push(`MESSAGES ${st.messages}`);
        break;
      case 'RECENT':
        if (!s.rev2) out.push('RECENT 0');
        break;
      case 'UIDNEXT':
        out.push(`UIDNEXT ${st.uidNext}`);
        break;
      case 'UIDVALIDITY':
        out.push(`UIDVALIDITY ${st.uidValidity}`);
        break;
      case 'UNSEEN':
        out.push(`UNSEEN ${st.unseen}`);
        break;
      case 'HIGHESTMODSEQ':
        s.condstore = true;
        out.push(`HIGHESTMODSEQ ${st.highestModseq}`);
        break;
      case 'SIZE':
        out.push(`SIZE ${st.size}`);
        break;
      case 'DELETED':
        out.push(`DELETED ${st.deleted}`);
        break;
      case 'APPENDLIMIT':
        out.push(`APPENDLIMIT ${s.limits.maxMessage}`);
        break;
      default:
        return `BAD Unknown status item ${it.slice(0, 20)}`;
    }
  }
  return ['* STATUS ', ...wireName(s, mb.name), ` (${out.join(' ')})`];
}

async function findBox(s: ImapSession, wire: string): Promise<MailboxView | null> {
  return s.port.mailbox(s.user!, mailboxName(s, wire));
}

async function list(s: ImapSession, c: C<'LIST'> | C<'LSUB'>): Promise<Result> {
  const lsub = c.name === 'LSUB';
  const selection = c.name === 'LIST' ? c.selection : [];
  const returns = c.name === 'LIST' ? c.returns : [];
  const statusItems = c.name === 'LIST' ? c.statusItems : [];
  for (const o of selection) if (!['SUBSCRIBED', 'REMOTE', 'RECURSIVEMATCH', 'SPECIAL-USE'].includes(o)) return `BAD Unknown selection option ${o.slice(0, 20)}`;
  for (const o of returns) if (!['SUBSCRIBED', 'CHILDREN', 'SPECIAL-USE', 'STATUS'].includes(o)) return `BAD Unknown return option ${o.slice(0, 20)}`;
  if (c.patterns.length === 1 && c.patterns[0] === '' && !lsub) {
    s.send('* LIST (\\Noselect) "/" ""');
    return 'OK List completed';
  }
  const subscribedOnly = lsub || selection.includes('SUBSCRIBED');
  const showSubscribed = subscribedOnly || returns.includes('SUBSCRIBED');
  const specialOnly = selection.includes('SPECIAL-USE');
  const regs = c.patterns.map((p) => patternRegex(s, c.reference, p));
  const all = entries(await s.port.mailboxes(s.user!));
  for (const e of all) {
    if (!regs.some((r) => r.test(e.name))) continue;
    if (subscribedOnly && !e.mb?.subscribed) continue;
    if (specialOnly && !e.mb?.specialUse) continue;
    const attrs: string[] = [];
    if (!e.mb) attrs.push('\\Noselect');
    attrs.push(e.children ? '\\HasChildren' : '\\HasNoChildren');
    if (showSubscribed && e.mb?.subscribed) attrs.push('\\Subscribed');
    if (e.mb?.specialUse) attrs.push(e.mb.specialUse);
    s.send([`* ${lsub ? 'LSUB' : 'LIST'} (${attrs.join(' ')}) "/" `, ...wireName(s, e.name)]);
    if (statusItems.length && e.mb) {
      const line = await statusLine(s, e.mb, statusItems);
      if (typeof line === 'string') return line;
      s.send(line);
    }
  }
  return `OK ${lsub ? 'Lsub' : 'List'} completed`;
}

function nameGuard<T extends Command>(fn: (s: ImapSession, c: T) => Promise<Result>): (s: ImapSession, c: T) => Promise<Result> {
  return async (s, c) => {
    try {
      return await fn(s, c);
    } catch (e) {
      if (e instanceof NameError) return `NO [CANNOT] ${e.message}`;
      throw e;
    }
  };
}

export const mailboxHandlers = {
  LIST: { states: [...AUTHED], run: nameGuard(list) },
  LSUB: { states: [...AUTHED], run: nameGuard(list) },
  CREATE: {
    states: [...AUTHED],
    run: nameGuard(async (s: ImapSession, c: C<'CREATE'>) => {
      const name = validNewName(mailboxName(s, c.mailbox));
      if (!name) return 'NO [CANNOT] This mailbox name is not allowed';
      if (/^INBOX$/.test(name) || (await s.port.mailbox(s.user!, name))) return 'NO [ALREADYEXISTS] The mailbox already exists';
      if (c.specialUse.length > 1) return 'NO [USEATTR] One special use per mailbox';
      const use = c.specialUse[0] ?? null;
      const canonical = use ? SPECIAL_USES.find((u) => u.toLowerCase() === use.toLowerCase()) : null;
      if (use && !canonical) return 'NO [USEATTR] Unsupported special use';
      await s.port.create(s.user!, name, canonical ?? null);
      return 'OK Create completed';
    }),
  },
  DELETE: {
    states: [...AUTHED],
    run: nameGuard(async (s: ImapSession, c: C<'DELETE'>) => {
      const name = mailboxName(s, c.mailbox);
      if (name === 'INBOX') return 'NO [CANNOT] The inbox cannot be deleted';
      const mb = await s.port.mailbox(s.user!, name);
      if (!mb) return 'NO [NONEXISTENT] No such mailbox';
      if (s.sel?.id === mb.id) return 'NO [INUSE] Close the mailbox before deleting it';
      await s.port.delete(s.user!, mb.id);
      return 'OK Delete completed';
    }),
  },
  RENAME: {
    states: [...AUTHED],
    run: nameGuard(async (s: ImapSession, c: C<'RENAME'>) => {
      const from = mailboxName(s, c.mailbox);
      const to = validNewName(mailboxName(s, c.to));
      if (!to) return 'NO [CANNOT] This mailbox name is not allowed';
      if (from === 'INBOX') return 'NO [CANNOT] Renaming the inbox is not supported; move its messages instead';
      const mb = await s.port.mailbox(s.user!, from);
      if (!mb) return 'NO [NONEXISTENT] No such mailbox';
      if (to === 'INBOX' || (await s.port.mailbox(s.user!, to))) return 'NO [ALREADYEXISTS] The target name exists';
      if (s.sel?.id === mb.id) return 'NO [INUSE] Close the mailbox before renaming it';
      await s.port.rename(s.user!, mb.id, to);
      return 'OK Rename completed';
    }),
  },
  SUBSCRIBE: {
    states: [...AUTHED],
    run: nameGuard(async (s: ImapSession, c: C<'SUBSCRIBE'>) => {
      const mb = await findBox(s, c.mailbox);
      if (!mb) return 'NO [NONEXISTENT] No such mailbox';
      await s.port.subscribe(s.user!, mb.id, true);
      return 'OK Subscribe completed';
    }),
  },
  UNSUBSCRIBE: {
    states: [...AUTHED],
    run: nameGuard(async (s: ImapSession, c: C<'UNSUBSCRIBE'>) => {
      const mb = await findBox(s, c.mailbox);
      if (mb) await s.port.subscribe(s.user!, mb.id, false);
      return 'OK Unsubscribe completed';
    }),
  },
  STATUS: {
    states: [...AUTHED],
    run: nameGuard(async (s: ImapSession, c: C<'STATUS'>) => {
      const mb = await findBox(s, c.mailbox);
      if (!mb) return 'NO [NONEXISTENT] No such mailbox';
      const line = await statusLine(s, mb, c.items);
      if (typeof line === 'string') return line;
      s.send(line);
      return 'OK Status completed';
    }),
  },
  APPEND: {
    states: [...AUTHED],
    run: nameGuard(async (s: ImapSession, c: C<'APPEND'>) => {
      const mb = await findBox(s, c.mailbox);
      if (!mb) return 'NO [TRYCREATE] No such mailbox';
      if (!mb.writable) return 'NO [READ-ONLY] This mailbox is read-only';
      if (c.message.length === 0) return 'NO Empty message';
      const flags = c.flags.filter((f) => f.toLowerCase() !== '\\recent');
      const r = await s.port.append(s.user!, mb.id, c.message, flags, c.date);
      return `OK [APPENDUID ${r.uidValidity} ${r.uid}] Append completed`;
    }),
  },
  GETQUOTAROOT: {
    states: [...AUTHED],
    run: nameGuard(async (s: ImapSession, c: C<'GETQUOTAROOT'>) => {
      const mb = await findBox(s, c.mailbox);
      if (!mb) return 'NO [NONEXISTENT] No such mailbox';
      const q = await s.port.quota(s.user!);
      s.send(['* QUOTAROOT ', ...wireName(s, mb.name), ' ""']);
      s.send(`* QUOTA "" (STORAGE ${Math.ceil(q.usedBytes / 1024)} ${q.limitBytes === null ? 2 ** 40 : Math.floor(q.limitBytes / 1024)})`);
      return 'OK Getquotaroot completed';
    }),
  },
  GETQUOTA: {
    states: [...AUTHED],
    async run(s: ImapSession, c: C<'GETQUOTA'>) {
      if (c.root !== '') return 'NO [NONEXISTENT] No such quota root';
      const q = await s.port.quota(s.user!);
      s.send(`* QUOTA "" (STORAGE ${Math.ceil(q.usedBytes / 1024)} ${q.limitBytes === null ? 2 ** 40 : Math.floor(q.limitBytes / 1024)})`);
      return 'OK Getquota completed';
    },
  },
} satisfies Record<string, Handler<never>>;
