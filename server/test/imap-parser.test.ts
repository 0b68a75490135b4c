import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Framer, type Frame, type LiteralDecision } from '../src/protocols/imap/framer.js';
import { parseCommand, frameTag, type Command } from '../src/protocols/imap/parser.js';
import { resolveRanges, formatSet, STAR } from '../src/protocols/imap/sequence.js';
import { bodyStructure, envelope, string, toBuffer } from '../src/protocols/imap/writer.js';
import { decodeMutf7, encodeMutf7 } from '../src/protocols/imap/mutf7.js';
import { parseMessage, toCrlf } from '../src/modules/mail/mime.js';

/** Runs raw client bytes through the framer; collects frames, refusals and continuations. */
function frameAll(input: string | Buffer, opts: { maxLiteral?: number; maxLine?: number; chunk?: number } = {}): { frames: Frame[]; bad: string[]; plus: number; fatal: string[] } {
  const out = { frames: [] as Frame[], bad: [] as string[], plus: 0, fatal: [] as string[] };
  const f = new Framer(
    {
      frame: (fr) => out.frames.push(fr),
      literal: (size): LiteralDecision => (size <= (opts.maxLiteral ?? 1000) ? { accept: true } : { accept: false, reply: 'NO [TOOBIG] Literal too big' }),
      continuation: () => out.plus++,
      bad: (reply, partial) => out.bad.push(`${frameTag(partial)} ${reply}`),
      fatal: (r) => out.fatal.push(r),
    },
    { maxLine: opts.maxLine ?? 8192, maxSkip: 10000 },
  );
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input, 'utf8');
  const step = opts.chunk ?? buf.length;
  for (let i = 0; i < buf.length; i += step) f.push(buf.subarray(i, i + step));
  return out;
}

function parse(line: string): Command {
  const { frames } = frameAll(`${line}\r\n`);
  assert.equal(frames.length, 1, line);
  const r = parseCommand(frames[0]!);
  assert.ok(r.ok, `${line}: ${r.ok ? '' : r.message}`);
  return r.command;
}

function bad(line: string | Buffer): string {
  const { frames } = frameAll(Buffer.isBuffer(line) ? line : `${line}\r\n`);
  const r = parseCommand(frames[0]!);
  assert.ok(!r.ok, `expected BAD for ${String(line)}`);
  return r.message;
}

test('imap parser: simple commands, tags and case', () => {
  assert.deepEqual(parse('a1 CAPABILITY'), { tag: 'a1', name: 'CAPABILITY' });
  assert.deepEqual(parse('A.2 noop'), { tag: 'A.2', name: 'NOOP' });
  assert.deepEqual(parse('x LOGIN alice "p a\\"ss"'), { tag: 'x', name: 'LOGIN', user: 'alice', password: 'p a"ss' });
  assert.deepEqual(parse('t]1 LOGOUT'), { tag: 't]1', name: 'LOGOUT' });
});

test('imap parser: literals, synchronising and LITERAL+', () => {
  const r = frameAll('a LOGIN {5}\r\nalice {3+}\r\np\r\n\r\n', { chunk: 3 });
  assert.equal(r.plus, 1, 'one continuation for the synchronising literal only');
  assert.equal(r.frames.length, 1);
  const c = parseCommand(r.frames[0]!);
  assert.ok(c.ok);
  assert.deepEqual(c.command, { tag: 'a', name: 'LOGIN', user: 'alice', password: 'p\r\n' });
  const append = frameAll('b APPEND INBOX (\\Seen $Work) " 7-Feb-2024 10:11:12 +0100" {11+}\r\nHello\r\nYou!\r\nc NOOP\r\n', { chunk: 1 });
  assert.equal(append.frames.length, 2);
  const a = parseCommand(append.frames[0]!);
  assert.ok(a.ok && a.command.name === 'APPEND');
  if (a.command.name === 'APPEND') {
    assert.deepEqual(a.command.flags, ['\\Seen', '$Work']);
    assert.equal(a.command.date, Date.UTC(2024, 1, 7, 9, 11, 12));
    assert.equal(a.command.message.toString(), 'Hello\r\nYou!');
  }
});

test('imap parser: refused literal, overlong line, resynchronisation', () => {
  const big = frameAll('a APPEND INBOX {5000}\r\nb NOOP\r\n');
  assert.deepEqual(big.bad, ['a NO [TOOBIG] Literal too big']);
  assert.equal(big.plus, 0);
  assert.equal(big.frames.length, 1, 'the next command is read');
  const skipped = frameAll(`a APPEND INBOX {1500+}\r\n${'x'.repeat(1500)}\r\nb NOOP\r\n`, { chunk: 100 });
  assert.deepEqual(skipped.bad, ['a NO [TOOBIG] Literal too big']);
  assert.equal(skipped.frames.length, 1);
  assert.equal(parseCommand(skipped.frames[0]!).ok && (parseCommand(skipped.frames[0]!) as { command: Command }).command.tag, 'b');
  const fatal = frameAll('a APPEND INBOX {99999999+}\r\n');
  assert.equal(fatal.fatal.length, 1);
  const long = frameAll(`a NOOP ${'x'.repeat(9000)}\r\nb NOOP\r\n`, { chunk: 512 });
  assert.deepEqual(long.bad, ['a BAD Command line too long']);
  assert.equal(long.frames.length, 1);
});

test('imap parser: sequence sets and FETCH items', () => {
  const f = parse('a UID FETCH 1:3,5,*:7 (FLAGS BODY.PEEK[1.2.HEADER.FIELDS (From To)]<0.100> BODY[] RFC822.SIZE MODSEQ) (CHANGEDSINCE 12 VANISHED)');
  assert.equal(f.name, 'FETCH');
  if (f.name !== 'FETCH') return;
  assert.equal(f.uid, true);
  assert.deepEqual(f.set, { ranges: [{ from: 1, to: 3 }, { from: 5, to: 5 }, { from: STAR, to: 7 }] });
  assert.deepEqual(f.atts[1], { kind: 'SECTION', binary: false, peek: true, section: { part: [1, 2], text: 'HEADER.FIELDS', fields: ['FROM', 'TO'] }, partial: { offset: 0, length: 100 } });
  assert.deepEqual(f.atts[2], { kind: 'SECTION', binary: false, peek: false, section: { part: [] } });
  assert.equal(f.changedSince, 12);
  assert.equal(f.vanished, true);
  assert.deepEqual(resolveRanges(f.set as { ranges: [] }, 10), [{ from: 1, to: 3 }, { from: 5, to: 5 }, { from: 7, to: 10 }]);
  const macro = parse('a FETCH 1 FAST');
  assert.ok(macro.name === 'FETCH' && macro.atts.length === 3);
  const mime = parse('a FETCH 1 (BODY[2.MIME] BODY[TEXT] BINARY.PEEK[1] BODYSTRUCTURE ENVELOPE)');
  assert.ok(mime.name === 'FETCH' && mime.atts.length === 5);
  assert.equal(formatSet([1, 2, 3, 5, 7, 8]), '1:3,5,7:8');
});

test('imap parser: SEARCH, ESEARCH, SORT, THREAD', () => {
  const s = parse('a UID SEARCH RETURN (MIN COUNT) CHARSET UTF-8 OR FROM alice (UNSEEN SINCE 1-Feb-2024) NOT DELETED UID 1:* HEADER X-Spam yes');
  assert.ok(s.name === 'SEARCH');
  if (s.name !== 'SEARCH') return;
  assert.deepEqual(s.returns, ['MIN', 'COUNT']);
  assert.equal(s.charset, 'UTF-8');
  assert.equal(s.key.op, 'and');
  const plain = parse('a SEARCH 1:5 TEXT "hello world" LARGER 100');
  assert.ok(plain.name === 'SEARCH' && plain.returns === null);
  const sort = parse('a UID SORT (REVERSE DATE SUBJECT) UTF-8 ALL');
  assert.ok(sort.name === 'SORT');
  if (sort.name === 'SORT') assert.deepEqual(sort.sort, [{ key: 'DATE', reverse: true }, { key: 'SUBJECT', reverse: false }]);
  const thread = parse('a UID THREAD REFERENCES UTF-8 ALL');
  assert.ok(thread.name === 'THREAD');
  assert.match(bad('a SEARCH FOO'), /Unknown search key/);
  assert.match(bad('a SEARCH SINCE 31-Feb-2024'), /Invalid date/);
  assert.match(bad(`a SEARCH ${'('.repeat(40)}ALL${')'.repeat(40)}`), /nested/);
});

test('imap parser: STORE, COPY, MOVE, LIST, STATUS, SELECT QRESYNC, ENABLE, ID, AUTHENTICATE', () => {
  const st = parse('a UID STORE 1:* (UNCHANGEDSINCE 5) +FLAGS.SILENT (\\Seen $Forwarded)');
  assert.ok(st.name === 'STORE' && st.mode === 'add' && st.silent && st.unchangedSince === 5 && st.flags.length === 2);
  const st2 = parse('a STORE 2 FLAGS \\Deleted');
  assert.ok(st2.name === 'STORE' && st2.mode === 'set' && st2.flags[0] === '\\Deleted');
  assert.ok(parse('a UID MOVE 4 Trash').name === 'MOVE');
  const l = parse('a LIST (SUBSCRIBED) "" ("INBOX" "Sent*") RETURN (SPECIAL-USE STATUS (MESSAGES UNSEEN))');
  assert.ok(l.name === 'LIST');
  if (l.name === 'LIST') {
    assert.deepEqual(l.patterns, ['INBOX', 'Sent*']);
    assert.deepEqual(l.statusItems, ['MESSAGES', 'UNSEEN']);
    assert.deepEqual(l.selection, ['SUBSCRIBED']);
  }
  assert.ok(parse('a LIST "" %').name === 'LIST');
  assert.ok(parse('a LSUB "" *').name === 'LSUB');
  const sel = parse('a SELECT INBOX (QRESYNC (67890007 20050715194045 41,43:211,214:541))');
  assert.ok(sel.name === 'SELECT' && sel.params.qresync?.uidValidity === 67890007);
  assert.ok(parse('a ENABLE CONDSTORE QRESYNC').name === 'ENABLE');
  const id = parse('a ID ("name" "Thunderbird" "version" NIL)');
  assert.ok(id.name === 'ID' && id.params?.length === 2);
  assert.ok(parse('a ID NIL').name === 'ID');
  const au = parse('a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==');
  assert.ok(au.name === 'AUTHENTICATE' && au.initial === 'AGFsaWNlAHNlY3JldA==');
  assert.ok(parse('a CREATE "Archive/2024" (USE (\\Archive))').name === 'CREATE');
  assert.ok(parse('a UID EXPUNGE 3:5').name === 'UID EXPUNGE');
  assert.ok(parse('a GETQUOTAROOT INBOX').name === 'GETQUOTAROOT');
});

test('imap parser: broken input answers BAD with a message', () => {
  assert.match(bad('a'), /Missing arguments/);
  assert.match(bad('a FOO'), /Unknown command/);
  assert.match(bad('a UID NOOP'), /not a command/);
  assert.match(bad('a LOGIN "unterminated'), /Unterminated/);
  assert.match(bad('a FETCH 0 FLAGS'), /start at 1/);
  assert.match(bad('a FETCH 1 (FLAGS'), /.+/);
  assert.match(bad('a FETCH 1 BODY[99999999]'), /section/);
  assert.match(bad('a NOOP extra'), /Unexpected/);
  assert.match(bad('a STORE 1 FLAGZ (\\Seen)'), /FLAGS/);
  assert.match(bad('a SELECT'), /Missing/);
  assert.match(bad('a FETCH 99999999999 FLAGS'), /range/);
  assert.equal(parseCommand({ segments: [Buffer.from('')], literals: [] }).ok, false);
  assert.equal(frameTag({ segments: [Buffer.from('abc LOGIN')], literals: [] }), 'abc');
  assert.equal(frameTag({ segments: [Buffer.from('(x LOGIN')], literals: [] }), '*');
});

test('imap writer: quoting, literals, mutf7', () => {
  assert.equal(toBuffer(string('a"b\\c')).toString(), '"a\\"b\\\\c"');
  assert.equal(toBuffer(string('line\r\nnext')).toString(), '{10}\r\nline\r\nnext');
  assert.equal(toBuffer(string('héllo')).toString(), '{6}\r\nhéllo');
  assert.equal(toBuffer(string('héllo', { utf8: true })).toString(), '"héllo"');
  assert.equal(encodeMutf7('Envoyés & reçus'), 'Envoy&AOk-s &- re&AOc-us');
  assert.equal(decodeMutf7('Envoy&AOk-s &- re&AOc-us'), 'Envoyés & reçus');
  assert.equal(decodeMutf7('&Jjo-!'), '☺!');
  assert.equal(decodeMutf7('bad&AOk'), null);
});

test('imap writer: ENVELOPE and BODYSTRUCTURE of a nested multipart', () => {
  const raw = toCrlf(
    Buffer.from(
      [
        'From: "Alice" <alice@example.org>',
        'To: bob@example.org, Team: carol@example.org;',
        'Subject: =?UTF-8?Q?R=C3=A9union?=',
        'Date: Tue, 6 Feb 2024 10:00:00 +0100',
        'Message-ID: <m1@example.org>',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="XX"',
        '',
        '--XX',
        'Content-Type: multipart/alternative; boundary=YY',
        '',
        '--YY',
        'Content-Type: text/plain; charset=utf-8',
        '',
        'Hello',
        '--YY',
        'Content-Type: text/html; charset=utf-8',
        '',
        '<p>Hello</p>',
        '--YY--',
        '--XX',
        'Content-Type: message/rfc822',
        '',
        'Subject: inner',
        'From: x@y.z',
        '',
        'inner body',
        '--XX',
        'Content-Type: application/pdf; name="a.pdf"',
        'Content-Disposition: attachment; filename="a.pdf"',
        'Content-Transfer-Encoding: base64',
        '',
        'JVBERi0=',
        '--XX--',
        '',
      ].join('\n'),
    ),
  );
  const p = parseMessage(raw);
  const env = toBuffer(envelope(p.envelope)).toString();
  assert.match(env, /^\("Tue, 6 Feb 2024 10:00:00 \+0100" "=\?UTF-8\?Q\?R=C3=A9union\?=" \(\("Alice" NIL "alice" "example.org"\)\)/);
  assert.match(env, /\(NIL NIL "Team" NIL\)/);
  assert.match(env, / NIL "<m1@example.org>"\)$/);
  const bs = toBuffer(bodyStructure(p.body, true)).toString();
  assert.match(bs, /^\(\(\("TEXT" "PLAIN" \("charset" "utf-8"\) NIL NIL "7BIT" 5 1 /);
  assert.match(bs, /"MESSAGE" "RFC822" NIL NIL NIL "7BIT" \d+ \(NIL "inner" \(\(NIL NIL "x" "y.z"\)\)/);
  assert.match(bs, /"APPLICATION" "PDF" \("name" "a.pdf"\) NIL NIL "BASE64" 8 NIL \("ATTACHMENT" \("filename" "a.pdf"\)\) NIL NIL\) "MIXED" \("boundary" "XX"\) NIL NIL NIL\)$/);
  const body = toBuffer(bodyStructure(p.body, false)).toString();
  assert.ok(!body.includes('ATTACHMENT'));
  // Balanced parentheses outside quoted strings.
  let depth = 0;
  let inQ = false;
  for (let i = 0; i < bs.length; i++) {
    const c = bs[i];
    if (inQ) {
      if (c === '\\') i++;
      else if (c === '"') inQ = false;
    } else if (c === '"') inQ = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    assert.ok(depth >= 0);
  }
  assert.equal(depth, 0);
});

/** A tiny deterministic PRNG so a failure is reproducible from the printed seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

const CORPUS = [
  'a LOGIN alice secret',
  'a SELECT INBOX (CONDSTORE)',
  'a UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT)]<0.2048> MODSEQ) (CHANGEDSINCE 3)',
  'a UID SEARCH RETURN (ALL) OR (FROM "a b" SINCE 1-Jan-2024) NOT (DELETED UID 1:5,9)',
  'a UID STORE 1,3:4 (UNCHANGEDSINCE 9) -FLAGS.SILENT (\\Seen)',
  'a LIST (SPECIAL-USE) "" "*" RETURN (STATUS (MESSAGES UIDNEXT))',
  'a APPEND Sent (\\Seen) "01-Jan-2024 00:00:00 +0000" {5+}\r\nhello',
  'a SORT (REVERSE ARRIVAL) UTF-8 ALL',
  'a ID ("name" "x")',
];

test('imap parser fuzz: random and mutated commands never throw past BAD (bounded time)', () => {
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 100000);
  const rand = rng(seed);
  const deadline = Date.now() + Number(process.env.FUZZ_MS ?? 3000);
  const alphabet = Buffer.from('aAzZ09 ()[]{}<>"\\*%$:,.+-~\r\n\0\xff\x80UIDFETCHBODY.PEEK');
  let runs = 0;
  let oks = 0;
  while (Date.now() < deadline) {
    runs++;
    let input: Buffer;
    if (rand() < 0.3) {
      const len = Math.floor(rand() * 200);
      input = Buffer.alloc(len);
      for (let i = 0; i < len; i++) input[i] = rand() < 0.5 ? alphabet[Math.floor(rand() * alphabet.length)]! : Math.floor(rand() * 256);
    } else {
      const base = Buffer.from(CORPUS[Math.floor(rand() * CORPUS.length)]!, 'latin1');
      const arr = [...base];
      const muts = 1 + Math.floor(rand() * 6);
      for (let m = 0; m < muts; m++) {
        const at = Math.floor(rand() * (arr.length + 1));
        const op = rand();
        if (op < 0.33) arr.splice(at, 1);
        else if (op < 0.66) arr.splice(at, 0, alphabet[Math.floor(rand() * alphabet.length)]!);
        else arr.splice(at, 0, ...arr.slice(Math.floor(rand() * arr.length), Math.floor(rand() * arr.length)));
      }
      input = Buffer.from(arr);
    }
    const chunk = 1 + Math.floor(rand() * 64);
    try {
      const { frames } = frameAll(Buffer.concat([input, Buffer.from('\r\n')]), { chunk, maxLine: 512, maxLiteral: 256 });
      for (const fr of frames) {
        const r = parseCommand(fr);
        if (r.ok) oks++;
        else assert.equal(typeof r.message, 'string');
        frameTag(fr);
      }
    } catch (e) {
      assert.fail(`seed ${seed} run ${runs}: threw ${(e as Error).stack} on ${JSON.stringify(input.toString('latin1'))}`);
    }
  }
  assert.ok(runs > 1000, `only ${runs} runs`);
  assert.ok(oks > 0, 'some mutated commands stay valid');
});
