import type { Handler } from './commands.js';
import { mailboxName, NameError } from './cmd-mailbox.js';
import type { Command, CommandOf } from './parser.js';
import { formatOrdered, formatSet } from './sequence.js';
import type { ImapSession, Result } from './session.js';

/**
 * Message changes: STORE (with UNCHANGEDSINCE, RFC 7162), COPY, MOVE (RFC 6851), EXPUNGE and
 * UID EXPUNGE (UIDPLUS, RFC 4315), answering COPYUID.
 */

type C<N extends Command['name']> = CommandOf<N>;

const FLAG = /^(\\(Answered|Flagged|Deleted|Seen|Draft)|[^\\\s(){%*"\]]{1,100})$/i;

function canonicalFlag(f: string): string {
  const m = /^\\(answered|flagged|deleted|seen|draft)$/i.exec(f);
  return m ? `\\${m[1]![0]!.toUpperCase()}${m[1]!.slice(1).toLowerCase()}` : f;
}

/** Sends EXPUNGE (or VANISHED under QRESYNC) for UIDs this session removed itself. */
export function announceExpunged(s: ImapSession, uids: number[]): void {
  const sel = s.sel!;
  const known = uids.filter((u) => sel.has(u)).sort((a, b) => a - b);
  if (!known.length) return;
  if (s.enabled.has('QRESYNC')) {
    for (const u of known) sel.remove(u);
    s.send(`* VANISHED ${formatSet(known)}`);
    return;
  }
  for (const u of known.reverse()) {
    const seq = sel.remove(u);
    if (seq) s.send(`* ${seq} EXPUNGE`);
  }
}

async function store(s: ImapSession, c: C<'STORE'>): Promise<Result> {
  const sel = s.sel!;
  if (sel.readOnly) return 'NO [READ-ONLY] The mailbox is read-only';
  const flags: string[] = [];
  for (const f of c.flags) {
    if (f.toLowerCase() === '\\recent') continue;
    if (!FLAG.test(f)) return `BAD Invalid flag ${f.slice(0, 40)}`;
    const cf = canonicalFlag(f);
    if (!flags.includes(cf)) flags.push(cf);
  }
  if (flags.length > 50) return 'BAD Too many flags';
  if (c.unchangedSince !== undefined) s.condstore = true;
  const uids = sel.resolve(c.set, c.uid);
  const r = uids.length ? await s.port.store(s.user!, sel.id, uids, c.mode, flags, c.unchangedSince) : { updated: [], conflicts: [] };
  const updated = new Map<number, number>();
  for (const m of r.updated) {
    updated.set(m.uid, m.modseq);
    sel.own.add(m.modseq);
  }
  const conflicts = new Set(r.conflicts);
  if (!c.silent) {
    // Every message of the set gets its flags (changed or not), read back after the change.
    for (const meta of await s.port.meta(s.user!, sel.id, uids.filter((u) => !conflicts.has(u)))) {
      const seq = sel.seqOf(meta.uid);
      if (!seq) continue;
      s.send(`* ${seq} FETCH (${c.uid ? `UID ${meta.uid} ` : ''}FLAGS (${meta.flags.join(' ')})${s.condstore ? ` MODSEQ (${meta.modseq})` : ''})`);
    }
  } else if (s.condstore) {
    for (const [uid, modseq] of updated) {
      const seq = sel.seqOf(uid);
      if (seq) s.send(`* ${seq} FETCH (${c.uid ? `UID ${uid} ` : ''}MODSEQ (${modseq}))`);
    }
  }
  if (conflicts.size) {
    const ids = [...conflicts].map((u) => (c.uid ? u : sel.seqOf(u))).filter((n) => n > 0);
    return `OK [MODIFIED ${formatSet(ids)}] Conditional STORE failed for some messages`;
  }
  return 'OK Store completed';
}

async function copyOrMove(s: ImapSession, c: C<'COPY'> | C<'MOVE'>): Promise<Result> {
  const sel = s.sel!;
  const move = c.name === 'MOVE';
  if (move && sel.readOnly) return 'NO [READ-ONLY] The mailbox is read-only';
  let name: string;
  try {
    name = mailboxName(s, c.mailbox);
  } catch (e) {
    if (e instanceof NameError) return `NO [TRYCREATE] ${e.message}`;
    throw e;
  }
  const dest = await s.port.mailbox(s.user!, name);
  if (!dest) return 'NO [TRYCREATE] No such mailbox';
  if (!dest.writable) return 'NO [READ-ONLY] The target mailbox is read-only';
  const uids = sel.resolve(c.set, c.uid);
  if (!uids.length) return c.uid ? `OK ${move ? 'Move' : 'Copy'} completed (no messages)` : 'BAD No messages in this set';
  const r = await s.port.copy(s.user!, sel.id, uids, dest.id, move);
  const src = r.pairs.map((p) => p[0]);
  const dst = r.pairs.map((p) => p[1]);
  const code = r.pairs.length ? `[COPYUID ${r.uidValidity} ${formatOrdered(src)} ${formatOrdered(dst)}] ` : '';
  if (!move) return `OK ${code}Copy completed`;
  s.send(`* OK ${code}Moved`);
  announceExpunged(s, src);
  return 'OK Move completed';
}

async function expunge(s: ImapSession, c: C<'EXPUNGE'> | C<'UID EXPUNGE'>): Promise<Result> {
  const sel = s.sel!;
  if (sel.readOnly) return 'NO [READ-ONLY] The mailbox is read-only';
  const only = c.name === 'UID EXPUNGE' ? sel.resolve(c.set, true) : undefined;
  if (only && !only.length) return 'OK Expunge completed';
  const removed = await s.port.expunge(s.user!, sel.id, only);
  announceExpunged(s, removed);
  return 'OK Expunge completed';
}

export const storeHandlers = {
  STORE: { states: ['selected'], run: store },
  COPY: { states: ['selected'], run: copyOrMove },
  MOVE: { states: ['selected'], expungeOk: true, run: copyOrMove },
  EXPUNGE: { states: ['selected'], expungeOk: true, run: expunge },
  'UID EXPUNGE': { states: ['selected'], expungeOk: true, run: expunge },
} satisfies Record<string, Handler<never>>;
