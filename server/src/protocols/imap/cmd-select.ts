import type { Handler } from './commands.js';
import { mailboxName, NameError } from './cmd-mailbox.js';
import type { Command, CommandOf } from './parser.js';
import { rememberSnapshot, Selected, sharedSnapshot } from './selected.js';
import { formatSet } from './sequence.js';
import type { ImapSession, Result } from './session.js';

/**
 * SELECT / EXAMINE (with CONDSTORE and QRESYNC, RFC 7162), CLOSE, UNSELECT (RFC 3691), CHECK, IDLE
 * (RFC 2177).
 */

type C<N extends Command['name']> = CommandOf<N>;

export const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

async function select(s: ImapSession, c: C<'SELECT'> | C<'EXAMINE'>): Promise<Result> {
  if (c.params.qresync && !s.enabled.has('QRESYNC')) return 'BAD Enable QRESYNC first';
  if (s.sel) {
    s.sel = null;
    s.state = 'auth';
    if (s.enabled.has('QRESYNC') || s.rev2) s.send('* OK [CLOSED] Previous mailbox closed');
  }
  let name: string;
  try {
    name = mailboxName(s, c.mailbox);
  } catch (e) {
    if (e instanceof NameError) return `NO [NONEXISTENT] ${e.message}`;
    throw e;
  }
  const mb = await s.port.mailbox(s.user!, name);
  if (!mb) return 'NO [NONEXISTENT] No such mailbox';
  if (c.params.condstore) s.condstore = true;
  const readOnly = c.name === 'EXAMINE' || !mb.writable;
  const sel = new Selected(mb.id, mb.name, readOnly, mb.uidValidity, mb.uidNext);
  let uids = sharedSnapshot(mb.id, mb.highestModseq);
  if (!uids) {
    uids = Uint32Array.from(await s.port.uids(s.user!, mb.id));
    rememberSnapshot(mb.id, mb.highestModseq, uids);
  }
  sel.load(uids, mb.highestModseq);
  s.send(`* FLAGS (${SYSTEM_FLAGS.join(' ')})`);
  s.send(`* OK [PERMANENTFLAGS (${readOnly ? '' : [...SYSTEM_FLAGS, '\\*'].join(' ')})] Flags permitted`);
  s.send(`* ${sel.exists} EXISTS`);
  if (!s.rev2) {
    s.send('* 0 RECENT');
    const st = await s.port.status(s.user!, mb.id);
    const firstUnseen = st.firstUnseenUid === null ? 0 : sel.seqOf(st.firstUnseenUid);
    if (firstUnseen) s.send(`* OK [UNSEEN ${firstUnseen}] First unseen`);
  }
  s.send(`* OK [UIDVALIDITY ${mb.uidValidity}] UIDs valid`);
  s.send(`* OK [UIDNEXT ${mb.uidNext}] Predicted next UID`);
  s.send(`* OK [HIGHESTMODSEQ ${mb.highestModseq}] Highest`);
  const q = c.params.qresync;
  if (q && q.uidValidity === mb.uidValidity) {
    const { changed, vanished } = await s.port.changes(s.user!, mb.id, q.modseq);
    let gone = vanished;
    if (q.knownUids) {
      const tmp = new Selected('', '', true, 0, 0);
      tmp.load(Uint32Array.from(gone), 0, false);
      gone = tmp.resolve(q.knownUids, true);
    }
    if (gone.length) s.send(`* VANISHED (EARLIER) ${formatSet(gone)}`);
    for (const m of changed) {
      const seq = sel.seqOf(m.uid);
      if (seq) s.send(`* ${seq} FETCH (UID ${m.uid} FLAGS (${m.flags.join(' ')}) MODSEQ (${m.modseq}))`);
    }
  }
  s.sel = sel;
  s.state = 'selected';
  return `OK [${readOnly ? 'READ-ONLY' : 'READ-WRITE'}] ${c.name === 'EXAMINE' ? 'Examine' : 'Select'} completed`;
}

export const selectHandlers = {
  SELECT: { states: ['auth', 'selected'], sync: false, run: select },
  EXAMINE: { states: ['auth', 'selected'], sync: false, run: select },
  CLOSE: {
    states: ['selected'],
    sync: false,
    async run(s: ImapSession) {
      const sel = s.sel!;
      if (!sel.readOnly) await s.port.expunge(s.user!, sel.id);
      s.sel = null;
      s.state = 'auth';
      return 'OK Close completed';
    },
  },
  UNSELECT: {
    states: ['selected'],
    sync: false,
    async run(s: ImapSession) {
      s.sel = null;
      s.state = 'auth';
      return 'OK Unselect completed';
    },
  },
  CHECK: {
    states: ['selected'],
    expungeOk: true,
    async run() {
      return 'OK Check completed';
    },
  },
  IDLE: {
    states: ['auth', 'selected'],
    async run(s: ImapSession, c: C<'IDLE'>) {
      s.startIdle(c.tag);
      await s.sync(true);
      return '';
    },
  },
} satisfies Record<string, Handler<never>>;
