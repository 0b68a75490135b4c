import { decodeTransfer, findSection, type MimePart } from '../../modules/mail/mime.js';
import type { Handler } from './commands.js';
import type { Command, FetchAtt, Section, CommandOf } from './parser.js';
import type { MessageFull, MessageMeta } from './port.js';
import { formatSet, inRanges, resolveRanges } from './sequence.js';
import type { ImapSession, Result } from './session.js';
import { bodyStructure, dateTime, envelope, literal, type Chunk } from './writer.js';

/**
 * FETCH / UID FETCH (RFC 9051 6.4.5): FLAGS, UID, INTERNALDATE, RFC822.SIZE, ENVELOPE, BODYSTRUCTURE,
 * BODY, BODY[section]<partial> and BODY.PEEK, RFC822*, BINARY[part] / BINARY.SIZE (RFC 3516), MODSEQ
 * and the CHANGEDSINCE / VANISHED modifiers (RFC 7162). Messages are read in batches; output is flushed
 * per batch, so a FETCH of a whole mailbox holds at most one batch of bodies in memory.
 */

type C<N extends Command['name']> = CommandOf<N>;

const BATCH = 100;

/** The part of `raw` a section names; null when it does not exist. */
export function sectionBytes(raw: Buffer, body: MimePart, sec: Section): Buffer | null {
  let msg: MimePart = body;
  if (sec.part.length) {
    const p = findSection(body, sec.part);
    if (!p) return null;
    if (!sec.text) return raw.subarray(p.bodyStart, p.bodyEnd);
    if (sec.text === 'MIME') return raw.subarray(p.headerStart, p.bodyStart);
    if (!p.message) return null;
    msg = p.message.body;
  }
  switch (sec.text) {
    case undefined:
      return raw;
    case 'HEADER':
      return raw.subarray(msg.headerStart, msg.bodyStart);
    case 'TEXT':
      return raw.subarray(msg.bodyStart, sec.part.length ? msg.bodyEnd : raw.length);
    case 'HEADER.FIELDS':
    case 'HEADER.FIELDS.NOT':
      return headerFields(raw.subarray(msg.headerStart, msg.bodyStart), sec.fields ?? [], sec.text === 'HEADER.FIELDS.NOT');
    default:
      return null;
  }
}

/** The header fields named (or all but those named), raw and folded as sent, plus the blank line. */
export function headerFields(header: Buffer, names: string[], not: boolean): Buffer {
  const want = new Set(names.map((n) => n.toLowerCase()));
  const out: Buffer[] = [];
  let i = 0;
  let current: { name: string; start: number } | null = null;
  const close = (end: number): void => {
    if (current && want.has(current.name) !== not) out.push(header.subarray(current.start, end));
    current = null;
  };
  while (i < header.length) {
    let nl = header.indexOf(10, i);
    if (nl < 0) nl = header.length - 1;
    const lineEnd = nl + 1;
    const c = header[i];
    if (c === 0x20 || c === 0x09) {
      i = lineEnd; // folded continuation of the current field
      continue;
    }
    close(i);
    const colon = header.indexOf(0x3a, i);
    if (colon > i && colon < nl) current = { name: header.subarray(i, colon).toString('latin1').trim().toLowerCase(), start: i };
    i = lineEnd;
  }
  close(header.length);
  // Drop the header's own blank line if it was captured inside a field, then end with one.
  const joined = Buffer.concat(out);
  const trimmed = joined.subarray(0, joined.length - (joined.subarray(-4).toString('latin1') === '\r\n\r\n' ? 2 : 0));
  return Buffer.concat([trimmed, Buffer.from('\r\n')]);
}

function sectionLabel(att: Extract<FetchAtt, { kind: 'SECTION' }>): string {
  const s = att.section;
  let spec = s.part.join('.');
  if (s.text) spec += `${spec ? '.' : ''}${s.text}`;
  if (s.fields) spec += ` (${s.fields.join(' ')})`;
  return `${att.binary ? 'BINARY' : 'BODY'}[${spec}]${att.partial ? `<${att.partial.offset}>` : ''}`;
}

function binaryOf(raw: Buffer, body: MimePart, part: number[]): Buffer | null {
  if (!part.length) return raw;
  const p = findSection(body, part);
  if (!p || p.children) return null;
  return decodeTransfer(raw.subarray(p.bodyStart, p.bodyEnd), p.encoding);
}

function bytesValue(data: Buffer | null, binary: boolean): Chunk[] {
  if (data === null) return ['NIL'];
  if (binary && data.includes(0)) return [`~{${data.length}}\r\n`, data];
  return literal(data);
}

async function fetch(s: ImapSession, c: C<'FETCH'>): Promise<Result> {
  const sel = s.sel!;
  const user = s.user!;
  const uids = sel.resolve(c.set, c.uid);
  const atts: FetchAtt[] = [...c.atts];
  if (c.uid && !atts.some((a) => a.kind === 'UID')) atts.unshift({ kind: 'UID' });
  const since = c.changedSince;
  if (since !== undefined) {
    s.condstore = true;
    if (!atts.some((a) => a.kind === 'MODSEQ')) atts.push({ kind: 'MODSEQ' });
    if (c.vanished) {
      const { vanished } = await s.port.changes(user, sel.id, since);
      const ranges = 'ranges' in c.set ? resolveRanges(c.set, Math.max(sel.uidNext - 1, sel.lastUid)) : [];
      const wanted = vanished.filter((u) => inRanges(ranges, u));
      if (wanted.length) s.send(`* VANISHED (EARLIER) ${formatSet(wanted)}`);
    }
  }
  if (atts.some((a) => a.kind === 'MODSEQ')) s.condstore = true;
  const needFull = atts.some((a) => ['ENVELOPE', 'BODYSTRUCTURE', 'BODY', 'SECTION', 'BINARY.SIZE'].includes(a.kind));
  const needBody = atts.some((a) => ['BODYSTRUCTURE', 'BODY', 'SECTION', 'BINARY.SIZE'].includes(a.kind));
  const needRaw = atts.some((a) => ['SECTION', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT', 'BINARY.SIZE'].includes(a.kind));
  const marksSeen = !sel.readOnly && atts.some((a) => (a.kind === 'SECTION' && !a.peek) || a.kind === 'RFC822' || a.kind === 'RFC822.TEXT');
  const flagsChanged = new Set<number>();
  if (marksSeen && uids.length) {
    // The store leaves messages already \Seen alone and reports the others.
    const r = await s.port.store(user, sel.id, uids, 'add', ['\\Seen']);
    for (const m of r.updated) {
      flagsChanged.add(m.uid);
      sel.own.add(m.modseq);
    }
  }
  const opts = { utf8: s.utf8 };
  // Bodies are read per message: small batches bound memory; metadata alone goes in larger ones.
  const step = needRaw ? BATCH : BATCH * 5;
  for (let b = 0; b < uids.length; b += step) {
    const batch = uids.slice(b, b + step);
    const metas = new Map<number, MessageMeta | MessageFull>();
    for (const m of needFull ? await s.port.messages(user, sel.id, batch, { body: needBody }) : await s.port.meta(user, sel.id, batch)) metas.set(m.uid, m);
    for (const uid of batch) {
      const meta = metas.get(uid);
      const seq = sel.seqOf(uid);
      if (!meta || !seq) continue; // expunged meanwhile
      if (since !== undefined && meta.modseq <= since) continue;
      const f = needFull ? (meta as MessageFull) : undefined;
      const raw = needRaw ? await s.port.raw(user, sel.id, uid).catch(() => null) : null;
      if (needRaw && !raw) continue;
      const items: Chunk[][] = [];
      let sentFlags = false;
      for (const a of atts) {
        switch (a.kind) {
          case 'UID':
            items.push([`UID ${uid}`]);
            break;
          case 'FLAGS':
            sentFlags = true;
            items.push([`FLAGS (${meta.flags.join(' ')})`]);
            break;
          case 'INTERNALDATE':
            items.push([`INTERNALDATE ${dateTime(meta.internalDate)}`]);
            break;
          case 'RFC822.SIZE':
            items.push([`RFC822.SIZE ${meta.size}`]);
            break;
          case 'MODSEQ':
            items.push([`MODSEQ (${meta.modseq})`]);
            break;
          case 'ENVELOPE':
            items.push(['ENVELOPE ', ...envelope(f!.envelope, opts)]);
            break;
          case 'BODYSTRUCTURE':
            items.push(['BODYSTRUCTURE ', ...bodyStructure(f!.body!, true, opts)]);
            break;
          case 'BODY':
            items.push(['BODY ', ...bodyStructure(f!.body!, false, opts)]);
            break;
          case 'RFC822':
            items.push(['RFC822 ', ...literal(raw!)]);
            break;
          case 'RFC822.HEADER':
            items.push(['RFC822.HEADER ', ...literal(raw!.subarray(0, f?.body ? f.body.bodyStart : headerEnd(raw!)))]);
            break;
          case 'RFC822.TEXT':
            items.push(['RFC822.TEXT ', ...literal(raw!.subarray(f?.body ? f.body.bodyStart : headerEnd(raw!)))]);
            break;
          case 'BINARY.SIZE': {
            const data = binaryOf(raw!, f!.body!, a.part);
            items.push([`BINARY.SIZE[${a.part.join('.')}] ${data ? data.length : 0}`]);
            break;
          }
          case 'SECTION': {
            let data = a.binary ? binaryOf(raw!, f!.body!, a.section.part) : sectionBytes(raw!, f!.body!, a.section);
            if (data && a.partial) data = data.subarray(Math.min(a.partial.offset, data.length), Math.min(a.partial.offset + a.partial.length, data.length));
            items.push([`${sectionLabel(a)} `, ...bytesValue(data ?? (a.binary ? null : Buffer.alloc(0)), a.binary)]);
            break;
          }
        }
      }
      if (flagsChanged.has(uid) && !sentFlags) items.push([`FLAGS (${meta.flags.join(' ')})`]);
      if (flagsChanged.has(uid) && s.condstore && !atts.some((a) => a.kind === 'MODSEQ')) items.push([`MODSEQ (${meta.modseq})`]);
      const line: Chunk[] = [`* ${seq} FETCH (`];
      items.forEach((it, i) => {
        if (i) line.push(' ');
        line.push(...it);
      });
      line.push(')');
      s.send(line);
    }
    await s.flush();
  }
  return 'OK Fetch completed';
}

function headerEnd(raw: Buffer): number {
  const i = raw.indexOf('\r\n\r\n');
  return i < 0 ? raw.length : i + 4;
}

export const fetchHandlers = {
  FETCH: { states: ['selected'], run: fetch },
} satisfies Record<string, Handler<never>>;
