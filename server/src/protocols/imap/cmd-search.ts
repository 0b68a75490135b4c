import type { Handler } from './commands.js';
import type { Command, SearchKey, SearchReturn, SortKey, CommandOf } from './parser.js';
import type { MessageFull, MessageMeta, TextCriterion } from './port.js';
import { formatSet } from './sequence.js';
import type { ImapSession, Result } from './session.js';
import type { Selected } from './selected.js';
import type { EnvelopeAddress } from '../../modules/mail/mime.js';

/**
 * SEARCH / UID SEARCH (RFC 9051 6.4.4) with ESEARCH (RFC 4731) result options and SEARCHRES (RFC 5182),
 * MODSEQ search (RFC 7162), SORT and THREAD=REFERENCES (RFC 5256). Flag, size, date and set criteria
 * are evaluated on the session's view; text criteria are answered by the store (its text index).
 */

type C<N extends Command['name']> = CommandOf<N>;

const DAY = 86400000;
const CHARSETS = new Set(['US-ASCII', 'UTF-8', 'UTF8']);

interface Ctx {
  sel: Selected;
  text: Map<SearchKey, Set<number>>;
  full: Map<number, MessageFull>;
  seqSets: Map<SearchKey, Set<number>>;
  now: number;
  usedModseq: boolean;
}

function collect(key: SearchKey, out: SearchKey[]): void {
  switch (key.op) {
    case 'not':
      collect(key.key, out);
      break;
    case 'or':
      collect(key.a, out);
      collect(key.b, out);
      break;
    case 'and':
      for (const k of key.keys) collect(k, out);
      break;
    default:
      out.push(key);
  }
}

function criterion(key: SearchKey): TextCriterion | null {
  if (key.op === 'body' || key.op === 'text') return { where: key.op, value: key.value };
  if (key.op !== 'header') return null;
  const map: Record<string, TextCriterion['where']> = { FROM: 'from', TO: 'to', CC: 'cc', BCC: 'bcc', SUBJECT: 'subject' };
  return { where: map[key.field] ?? { header: key.field }, value: key.value };
}

function matches(key: SearchKey, m: MessageMeta, ctx: Ctx): boolean {
  switch (key.op) {
    case 'all':
      return true;
    case 'flag': {
      const want = key.flag.toLowerCase();
      return m.flags.some((f) => f.toLowerCase() === want) === key.set;
    }
    case 'new':
    case 'recent':
      return false;
    case 'old':
      return true;
    case 'header':
    case 'body':
    case 'text':
      return ctx.text.get(key)?.has(m.uid) ?? false;
    case 'date': {
      const t = key.sent ? (ctx.full.get(m.uid)?.sentDate ?? m.internalDate) : m.internalDate;
      const day = Math.floor(t / DAY) * DAY;
      return key.cmp === 'before' ? day < key.day : key.cmp === 'on' ? day === key.day : day >= key.day;
    }
    case 'size':
      return key.larger ? m.size > key.n : m.size < key.n;
    case 'not':
      return !matches(key.key, m, ctx);
    case 'or':
      return matches(key.a, m, ctx) || matches(key.b, m, ctx);
    case 'and':
      return key.keys.every((k) => matches(k, m, ctx));
    case 'seq':
    case 'uid':
      return ctx.seqSets.get(key)?.has(m.uid) ?? false;
    case 'modseq':
      ctx.usedModseq = true;
      return m.modseq >= key.n;
    case 'younger':
      return m.internalDate >= ctx.now - key.seconds * 1000;
    case 'older':
      return m.internalDate < ctx.now - key.seconds * 1000;
  }
}

async function loadFull(s: ImapSession, uids: number[]): Promise<Map<number, MessageFull>> {
  const out = new Map<number, MessageFull>();
  for (let i = 0; i < uids.length; i += 500) for (const m of await s.port.messages(s.user!, s.sel!.id, uids.slice(i, i + 500), { body: false })) out.set(m.uid, m);
  return out;
}

/** The UIDs (ascending) matching `key`. */
export async function runSearch(s: ImapSession, key: SearchKey): Promise<{ uids: number[]; modseq: number | null }> {
  const sel = s.sel!;
  const leaves: SearchKey[] = [];
  collect(key, leaves);
  const ctx: Ctx = { sel, text: new Map(), full: new Map(), seqSets: new Map(), now: Date.now(), usedModseq: false };
  for (const leaf of leaves) {
    const crit = criterion(leaf);
    if (crit) ctx.text.set(leaf, await s.port.searchText(s.user!, sel.id, sel.uids, [crit]));
    if (leaf.op === 'seq' || leaf.op === 'uid') ctx.seqSets.set(leaf, new Set(sel.resolve(leaf.set, leaf.op === 'uid')));
    if (leaf.op === 'modseq') s.condstore = true;
  }
  if (leaves.some((l) => l.op === 'date' && l.sent)) ctx.full = await loadFull(s, sel.uids);
  const uids: number[] = [];
  let highest = 0;
  // Messages the store has but this session was not told about yet are not searched (RFC 9051 7.4.1).
  for (const m of await s.port.list(s.user!, sel.id)) {
    if (sel.has(m.uid) && matches(key, m, ctx)) {
      uids.push(m.uid);
      highest = Math.max(highest, m.modseq);
    }
  }
  return { uids, modseq: leaves.some((l) => l.op === 'modseq') && uids.length ? highest : null };
}

function esearch(s: ImapSession, tag: string, byUid: boolean, returns: SearchReturn[], uids: number[], modseq: number | null): void {
  const sel = s.sel!;
  const nums = byUid ? uids : uids.map((u) => sel.seqOf(u));
  const parts: string[] = [];
  if (returns.includes('MIN') && nums.length) parts.push(`MIN ${nums[0]}`);
  if (returns.includes('MAX') && nums.length) parts.push(`MAX ${nums[nums.length - 1]}`);
  if (returns.includes('ALL') && nums.length) parts.push(`ALL ${formatSet(nums)}`);
  if (returns.includes('COUNT')) parts.push(`COUNT ${nums.length}`);
  if (modseq !== null) parts.push(`MODSEQ ${modseq}`);
  const onlySave = returns.length === 1 && returns[0] === 'SAVE';
  if (!onlySave) s.send(`* ESEARCH (TAG "${tag.replace(/["\\]/g, '')}")${byUid ? ' UID' : ''}${parts.length ? ` ${parts.join(' ')}` : ''}`);
}

async function search(s: ImapSession, c: C<'SEARCH'>): Promise<Result> {
  if (c.charset && !CHARSETS.has(c.charset)) return 'NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset';
  const sel = s.sel!;
  const { uids, modseq } = await runSearch(s, c.key);
  const returns = c.returns ?? (s.rev2 ? ['ALL' as const] : null);
  if (returns?.includes('SAVE')) sel.saved = uids;
  if (returns) esearch(s, c.tag, c.uid, returns, uids, modseq);
  else {
    const nums = c.uid ? uids : uids.map((u) => sel.seqOf(u));
    const ms = modseq !== null ? ` (MODSEQ ${modseq})` : '';
    s.send(`* SEARCH${nums.length ? ` ${nums.join(' ')}` : ''}${ms}`);
  }
  return 'OK Search completed';
}

/** RFC 5256 base subject: without Re:/Fwd:/[tags] prefixes and (fwd) trailers, lower-cased. */
export function baseSubject(subject: string): string {
  let s = subject.replace(/\s+/g, ' ').trim();
  for (let i = 0; i < 10; i++) {
    const before = s;
    s = s.replace(/\s*\(fwd\)$/i, '').replace(/^(\[[^\]]*\]\s*)*(re|fwd?|tr|aw|sv)(\[\d+\])?:\s*/i, '').replace(/^\[[^\]]*\]\s*(?=\S)/, '').trim();
    if (s === before) break;
  }
  return s.toLowerCase();
}

function firstMailbox(list: EnvelopeAddress[] | null, display: boolean): string {
  const a = list?.find((x) => x[2] !== null);
  if (!a) return '';
  return ((display && a[0]) || a[2] || '').toLowerCase();
}

function sortValue(m: MessageFull, key: SortKey['key']): string | number {
  switch (key) {
    case 'ARRIVAL':
      return m.internalDate;
    case 'DATE':
      return m.sentDate;
    case 'SIZE':
      return m.size;
    case 'SUBJECT':
      return baseSubject(m.subject);
    case 'FROM':
      return firstMailbox(m.envelope.from, false);
    case 'TO':
      return firstMailbox(m.envelope.to, false);
    case 'CC':
      return firstMailbox(m.envelope.cc, false);
    case 'DISPLAYFROM':
      return firstMailbox(m.envelope.from, true);
    case 'DISPLAYTO':
      return firstMailbox(m.envelope.to, true);
  }
}

async function sort(s: ImapSession, c: C<'SORT'>): Promise<Result> {
  if (!CHARSETS.has(c.charset)) return 'NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset';
  const sel = s.sel!;
  const { uids } = await runSearch(s, c.key);
  const full = await loadFull(s, uids);
  const list = uids.filter((u) => full.has(u));
  list.sort((a, b) => {
    const ma = full.get(a)!;
    const mb = full.get(b)!;
    for (const k of c.sort) {
      const va = sortValue(ma, k.key);
      const vb = sortValue(mb, k.key);
      const cmp = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va) < String(vb) ? -1 : String(va) > String(vb) ? 1 : 0;
      if (cmp) return k.reverse ? -cmp : cmp;
    }
    return a - b;
  });
  const nums = c.uid ? list : list.map((u) => sel.seqOf(u));
  if (c.returns) {
    const parts: string[] = [];
    if (c.returns.includes('MIN') && nums.length) parts.push(`MIN ${nums[0]}`);
    if (c.returns.includes('MAX') && nums.length) parts.push(`MAX ${nums[nums.length - 1]}`);
    if (c.returns.includes('ALL') && nums.length) parts.push(`ALL ${nums.join(',')}`);
    if (c.returns.includes('COUNT')) parts.push(`COUNT ${nums.length}`);
    s.send(`* ESEARCH (TAG "${c.tag.replace(/["\\]/g, '')}")${c.uid ? ' UID' : ''}${parts.length ? ` ${parts.join(' ')}` : ''}`);
  } else s.send(`* SORT${nums.length ? ` ${nums.join(' ')}` : ''}`);
  return 'OK Sort completed';
}

async function thread(s: ImapSession, c: C<'THREAD'>): Promise<Result> {
  if (c.algorithm !== 'REFERENCES') return 'NO Only THREAD=REFERENCES is supported';
  if (!CHARSETS.has(c.charset)) return 'NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset';
  const sel = s.sel!;
  const { uids } = await runSearch(s, c.key);
  const full = await loadFull(s, uids);
  const threads = new Map<string, MessageFull[]>();
  for (const u of uids) {
    const m = full.get(u);
    if (!m) continue;
    const id = m.threadId || `uid:${u}`;
    const t = threads.get(id);
    if (t) t.push(m);
    else threads.set(id, [m]);
  }
  const ordered = [...threads.values()].map((t) => t.sort((a, b) => a.sentDate - b.sentDate || a.uid - b.uid));
  ordered.sort((a, b) => a[0]!.sentDate - b[0]!.sentDate || a[0]!.uid - b[0]!.uid);
  const num = (m: MessageFull): number => (c.uid ? m.uid : sel.seqOf(m.uid));
  s.send(`* THREAD ${ordered.map((t) => `(${t.map(num).join(' ')})`).join('')}`);
  return 'OK Thread completed';
}

export const searchHandlers = {
  SEARCH: { states: ['selected'], run: search },
  SORT: { states: ['selected'], run: sort },
  THREAD: { states: ['selected'], run: thread },
} satisfies Record<string, Handler<never>>;
