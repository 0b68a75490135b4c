import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeUser, startTestServer, type TestServer } from './helpers/server.js';
import { appPassword, IMAP_CONFIG, imapPorts, RawImap } from './helpers/imap.js';
import { constants as zlibConstants, createDeflateRaw, createInflateRaw } from 'node:zlib';
import { storePort } from '../src/protocols/imap/store-adapter.js';
import { addAddress, addDomain } from '../src/modules/mail/domains.js';

const MSG = [
  'From: "Alice Martin" <alice@example.org>',
  'To: bob@example.org',
  'Subject: Ordre du jour',
  'Date: Tue, 6 Feb 2024 10:00:00 +0100',
  'Message-ID: <agenda-1@example.org>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: 8bit',
  '',
  'Réunion jeudi à 10h.',
  '--b1',
  'Content-Type: application/octet-stream; name="x.bin"',
  'Content-Disposition: attachment; filename="x.bin"',
  'Content-Transfer-Encoding: base64',
  '',
  'AAECAw==',
  '--b1--',
  '',
].join('\r\n');

describe('imap session: transcripts over TCP', () => {
  let server: TestServer;
  let port: number;
  let tlsPort: number;
  let alice: { id: string; login: string };
  let bob: { id: string; login: string };
  let alicePw: string;
  let bobPw: string;

  before(async () => {
    server = await startTestServer({ config: { ...IMAP_CONFIG } });
    ({ imap: port, imaps: tlsPort } = imapPorts(server));
    alice = await makeUser(server, 'alice');
    bob = await makeUser(server, 'bob');
    alicePw = await appPassword(server, alice.id);
    bobPw = await appPassword(server, bob.id);
  });
  after(async () => {
    await server.close();
  });

  test('greeting, capabilities, login refusals, bad syntax, unknown commands', async () => {
    const c = await RawImap.open(port);
    let r = await c.cmd('a1', 'CAPABILITY');
    assert.match(r, /\* CAPABILITY IMAP4rev1 .*AUTH=PLAIN/);
    assert.match(r, /STARTTLS/);
    r = await c.cmd('a2', 'SELECT INBOX');
    assert.match(r, /a2 BAD Log in first/);
    r = await c.cmd('a3', `LOGIN alice ${'wrong-password'}`);
    assert.match(r, /a3 NO \[AUTHENTICATIONFAILED\]/);
    const dav = await appPassword(server, alice.id, ['dav']);
    r = await c.cmd('a4', `LOGIN alice "${dav}"`);
    assert.match(r, /a4 NO \[AUTHENTICATIONFAILED\]/, 'an app password without the mail scope is refused');
    r = await c.cmd('a5', 'FROB');
    assert.match(r, /a5 BAD Unknown command FROB/);
    r = await c.cmd('a6', 'LOGIN "unterminated');
    assert.match(r, /a6 BAD Unterminated/);
    c.write(`a7 NOOP ${'x'.repeat(70000)}\r\na8 NOOP\r\n`);
    r = await c.until('a8');
    assert.match(r, /a7 BAD Command line too long/);
    assert.match(r, /a8 OK/);
    // 8-bit garbage and NUL bytes.
    c.write(Buffer.from([0x61, 0x39, 0x20, 0xff, 0xfe, 0x00, 0x0d, 0x0a]));
    r = await c.until('a9');
    assert.match(r, /a9 BAD/);
    r = await c.cmd('a10', 'LOGOUT');
    assert.match(r, /\* BYE/);
    assert.match(r, /a10 OK/);
  });

  test('LOGIN, LIST, SELECT, APPEND with literals, FETCH, SEARCH, STORE, COPY, MOVE, EXPUNGE', async () => {
    const c = await RawImap.open(port);
    let r = await c.cmd('l', `LOGIN alice "${alicePw}"`);
    assert.match(r, /l OK \[CAPABILITY .*UIDPLUS.*MOVE/);
    r = await c.cmd('b', 'LIST "" "*"');
    for (const [n, use] of [
      ['Sent', '\\Sent'],
      ['Drafts', '\\Drafts'],
      ['Trash', '\\Trash'],
      ['Junk', '\\Junk'],
      ['Archive', '\\Archive'],
    ]) {
      assert.ok(r.includes(`${use}) "/" ${n}`), `${n} listed with ${use}: ${r}`);
    }
    assert.match(r, /\* LIST \(\\HasNoChildren\) "\/" INBOX/);
    r = await c.cmd('c0', 'CREATE "Projets/Été"');
    assert.match(r, /c0 NO \[CANNOT\] The mailbox name is not valid modified UTF-7/, 'raw 8-bit names are refused before UTF8=ACCEPT');
    r = await c.cmd('c', 'CREATE "Projets/&AMk-t&AOk-"');
    assert.match(r, /c OK/);
    r = await c.cmd('d', 'LIST "" "Projets/%"');
    assert.match(r, /"\/" "?Projets\/&AMk-t&AOk-"?/);
    r = await c.cmd('d2', 'LIST "" "%" RETURN (STATUS (MESSAGES UIDNEXT))');
    assert.match(r, /\* LIST \(\\Noselect \\HasChildren\) "\/" Projets/);
    assert.match(r, /\* STATUS INBOX \(MESSAGES 0 UIDNEXT 1\)/);

    // APPEND with a synchronising literal: the server asks for the data.
    const bytes = Buffer.from(MSG, 'utf8');
    c.write(`e APPEND INBOX (\\Flagged) {${bytes.length}}\r\n`);
    assert.match(await c.readLine(), /^\+ /);
    c.write(Buffer.concat([bytes, Buffer.from('\r\n')]));
    r = await c.until('e');
    assert.match(r, /e OK \[APPENDUID \d+ 1\]/);
    // LITERAL+ and pipelining: two appends and a NOOP in one write.
    const small = 'From: bob@example.org\r\nSubject: second\r\n\r\nhello two\r\n';
    c.write(`f1 APPEND INBOX {${small.length}+}\r\n${small}\r\nf2 APPEND INBOX (\\Seen) {${small.length}+}\r\n${small}\r\nf3 NOOP\r\n`);
    r = await c.until('f3');
    assert.match(r, /f1 OK \[APPENDUID \d+ 2\]/);
    assert.match(r, /f2 OK \[APPENDUID \d+ 3\]/);

    r = await c.cmd('g', 'SELECT INBOX (CONDSTORE)');
    assert.match(r, /\* 3 EXISTS/);
    assert.match(r, /\* OK \[UIDVALIDITY \d+\]/);
    assert.match(r, /\* OK \[UIDNEXT 4\]/);
    assert.match(r, /\* OK \[UNSEEN 1\]/);
    assert.match(r, /\* OK \[HIGHESTMODSEQ \d+\]/);
    assert.match(r, /g OK \[READ-WRITE\]/);

    r = await c.cmd('h', 'FETCH 1 (UID FLAGS RFC822.SIZE ENVELOPE BODYSTRUCTURE)');
    assert.match(r, /\* 1 FETCH \(UID 1 FLAGS \(\\Flagged\) RFC822\.SIZE \d+ ENVELOPE \("Tue, 6 Feb 2024 10:00:00 \+0100" "Ordre du jour" \(\("Alice Martin" NIL "alice" "example.org"\)\)/);
    assert.match(r, /BODYSTRUCTURE \(\("TEXT" "PLAIN" \("charset" "utf-8"\) NIL NIL "8BIT" \d+ 1 NIL NIL NIL NIL\)\("APPLICATION" "OCTET-STREAM" \("name" "x.bin"\) NIL NIL "BASE64" 8 NIL \("ATTACHMENT" \("filename" "x.bin"\)\) NIL NIL\) "MIXED"/);
    r = await c.cmd('i', 'FETCH 1 (BODY.PEEK[1] BODY.PEEK[HEADER.FIELDS (Subject)] BODY.PEEK[]<0.10> BINARY.PEEK[2])');
    // eslint-disable-next-line no-control-regex
    assert.ok(r.includes('BODY[1] {22}\r\nRéunion jeudi à 10h.'.replace(/[^\x00-\x7f]/g, (ch) => Buffer.from(ch).toString('latin1'))), r);
    assert.ok(r.includes('BODY[HEADER.FIELDS (SUBJECT)] {26}\r\nSubject: Ordre du jour\r\n\r\n'), r);
    assert.ok(r.includes('BODY[]<0> {10}\r\nFrom: "Ali'), r);
    assert.ok(r.includes('BINARY[2] ~{4}\r\n\x00\x01\x02\x03'), r);
    assert.doesNotMatch(r, /\\Seen/, 'PEEK does not set \\Seen');
    r = await c.cmd('j', 'FETCH 2 BODY[TEXT]');
    assert.match(r, /BODY\[TEXT\] \{11\}\r\nhello two\r\n/);
    assert.match(r, /FLAGS \(\\Seen\)/, 'BODY[] sets \\Seen and reports it');

    r = await c.cmd('k', 'UID SEARCH UNSEEN');
    assert.match(r, /\* SEARCH 1\r\n/);
    r = await c.cmd('k2', 'UID SEARCH TEXT "jeudi"');
    assert.match(r, /\* SEARCH 1\r\n/);
    r = await c.cmd('k3', 'SEARCH RETURN (MIN MAX COUNT) FROM bob');
    assert.match(r, /\* ESEARCH \(TAG "k3"\) MIN 2 MAX 3 COUNT 2/);
    r = await c.cmd('k4', 'UID SEARCH HEADER Message-ID agenda-1');
    assert.match(r, /\* SEARCH 1\r\n/);
    r = await c.cmd('k5', 'SORT (REVERSE ARRIVAL) UTF-8 ALL');
    assert.match(r, /\* SORT 3 2 1/);

    r = await c.cmd('m', 'STORE 1 +FLAGS ($Work)');
    assert.match(r, /\* 1 FETCH \(FLAGS \(\\Flagged \$Work\) MODSEQ \(\d+\)\)/);
    const modseq = Number(/MODSEQ \((\d+)\)/.exec(r)![1]);
    r = await c.cmd('m2', `UID STORE 1 (UNCHANGEDSINCE ${modseq - 1}) +FLAGS.SILENT (\\Seen)`);
    assert.match(r, /m2 OK \[MODIFIED 1\]/);

    r = await c.cmd('n', 'UID COPY 1:2 Archive');
    assert.match(r, /n OK \[COPYUID \d+ 1:2 1:2\]/);
    r = await c.cmd('o', 'UID MOVE 3 Trash');
    assert.match(r, /\* OK \[COPYUID \d+ 3 1\]/);
    assert.match(r, /\* 3 EXPUNGE/);
    r = await c.cmd('p', 'STORE 2 +FLAGS.SILENT (\\Deleted)');
    assert.doesNotMatch(r, /FLAGS/, '.SILENT: no FLAGS');
    assert.match(r, /\* 2 FETCH \(MODSEQ \(\d+\)\)/, 'CONDSTORE still reports the new MODSEQ (RFC 7162 3.1.3)');
    r = await c.cmd('q', 'EXPUNGE');
    assert.match(r, /\* 2 EXPUNGE\r\nq OK/);
    r = await c.cmd('r', 'STATUS Archive (MESSAGES UNSEEN SIZE)');
    assert.match(r, /\* STATUS Archive \(MESSAGES 2 UNSEEN 1 SIZE \d+\)/);
    r = await c.cmd('s', 'GETQUOTAROOT INBOX');
    assert.match(r, /\* QUOTAROOT INBOX ""\r\n\* QUOTA "" \(STORAGE \d+ \d+\)/);
    r = await c.cmd('t', 'FETCH 5 FLAGS');
    assert.match(r, /t OK/, 'an out-of-range number fetches nothing');
    r = await c.cmd('u', 'SELECT Nowhere');
    assert.match(r, /u NO \[NONEXISTENT\]/);
    r = await c.cmd('v', 'LOGOUT');
    assert.match(r, /v OK/);
  });

  test('a second session sees EXISTS, FETCH FLAGS and EXPUNGE: during IDLE and after NOOP', async () => {
    const a = await RawImap.open(port);
    const b = await RawImap.open(port);
    await a.cmd('1', `LOGIN alice "${alicePw}"`);
    await b.cmd('1', `LOGIN alice "${alicePw}"`);
    await a.cmd('2', 'CREATE Shared-test');
    await a.cmd('3', 'SELECT Shared-test');
    await b.cmd('3', 'SELECT Shared-test');
    a.write('4 IDLE\r\n');
    assert.match(await a.readLine(), /^\+ idling/);
    const m = 'Subject: ping\r\n\r\nping\r\n';
    let r = await b.cmd('4', `APPEND Shared-test {${m.length}+}\r\n${m}`);
    assert.match(r, /\* 1 EXISTS\r\n(\* 0 RECENT\r\n)?4 OK \[APPENDUID/, 'the appending session learns of it at the end of APPEND');
    assert.match(await a.waitFor((t) => t.includes('* 1 EXISTS')), /\* 1 EXISTS/);
    await a.drain(0);
    await b.cmd('6', 'STORE 1 +FLAGS (\\Deleted)');
    assert.match(await a.waitFor((t) => t.includes('FETCH')), /\* 1 FETCH \(UID 1 FLAGS \(\\Deleted\)\)/);
    await a.drain(0);
    r = await b.cmd('7', 'EXPUNGE');
    assert.match(r, /\* 1 EXPUNGE/);
    assert.match(await a.waitFor((t) => t.includes('EXPUNGE')), /\* 1 EXPUNGE/);
    a.write('DONE\r\n');
    r = await a.until('4');
    assert.match(r, /4 OK IDLE terminated/);
    r = await a.cmd('8', 'STATUS Shared-test (MESSAGES)');
    assert.match(r, /MESSAGES 0/);
    a.close();
    b.close();
  });

  test('sequence numbers: no EXPUNGE during FETCH/STORE/SEARCH by number; EXAMINE is read-only', async () => {
    const a = await RawImap.open(port);
    const b = await RawImap.open(port);
    await a.cmd('1', `LOGIN alice "${alicePw}"`);
    await b.cmd('1', `LOGIN alice "${alicePw}"`);
    await a.cmd('2', 'CREATE Seqs');
    for (let i = 1; i <= 3; i++) {
      const m = `Subject: s${i}\r\n\r\ns${i}\r\n`;
      await a.cmd(`a${i}`, `APPEND Seqs {${m.length}+}\r\n${m}`);
    }
    await a.cmd('3', 'SELECT Seqs');
    await b.cmd('3', 'SELECT Seqs');
    await a.cmd('4', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
    await a.cmd('5', 'EXPUNGE');
    let r = await b.cmd('6', 'FETCH 1:* (UID)');
    assert.doesNotMatch(r, /EXPUNGE/, 'not during FETCH by sequence number');
    assert.match(r, /\* 2 FETCH \(UID 2\)/);
    r = await b.cmd('7', 'SEARCH ALL');
    assert.doesNotMatch(r, /EXPUNGE/);
    assert.match(r, /\* SEARCH 2 3\r\n/, 'the expunged message is no longer found, numbers unchanged');
    r = await b.cmd('8', 'UID FETCH 1:* (UID)');
    assert.match(r, /\* 2 FETCH \(UID 2\)\r\n\* 3 FETCH \(UID 3\)\r\n\* 1 EXPUNGE\r\n8 OK/, 'UID commands may announce it (after their own answers)');
    r = await b.cmd('8b', 'FETCH 1 (UID)');
    assert.match(r, /\* 1 FETCH \(UID 2\)/, 'numbers shifted once announced');
    r = await b.cmd('9', 'EXAMINE Seqs');
    assert.match(r, /9 OK \[READ-ONLY\]/);
    r = await b.cmd('10', 'STORE 1 +FLAGS (\\Seen)');
    assert.match(r, /10 NO \[READ-ONLY\]/);
    r = await b.cmd('11', 'FETCH 1 (BODY[TEXT] FLAGS)');
    assert.doesNotMatch(r, /\\Seen/, 'EXAMINE never sets \\Seen');
    r = await b.cmd('12', 'EXPUNGE');
    assert.match(r, /12 NO \[READ-ONLY\]/);
    a.close();
    b.close();
  });

  test('permissions: one user never sees another user’s mailboxes or messages', async () => {
    const a = await RawImap.open(port);
    await a.cmd('1', `LOGIN alice "${alicePw}"`);
    await a.cmd('2', 'CREATE Secret-of-alice');
    const b = await RawImap.open(port);
    await b.cmd('1', `LOGIN bob "${bobPw}"`);
    let r = await b.cmd('2', 'LIST "" "*"');
    assert.doesNotMatch(r, /Secret-of-alice|Projets/);
    r = await b.cmd('3', 'SELECT Secret-of-alice');
    assert.match(r, /3 NO \[NONEXISTENT\]/);
    r = await b.cmd('4', 'SELECT INBOX');
    assert.match(r, /\* 0 EXISTS/);
    r = await b.cmd('5', 'UID FETCH 1:* (FLAGS ENVELOPE)');
    assert.doesNotMatch(r, /FETCH \(/);
    r = await b.cmd('6', 'UID COPY 1 Secret-of-alice');
    assert.match(r, /6 NO \[TRYCREATE\]|6 OK/);
    // At the port: Bob's identity with Alice's mailbox id is refused by the store's policy.
    const mail = storePort(server.bastide.platform);
    const bobUser = await mail.authenticate('bob', bobPw);
    const aliceUser = await mail.authenticate('alice', alicePw);
    const aliceInbox = await mail.mailbox(aliceUser!, 'INBOX');
    await assert.rejects(mail.list(bobUser!, aliceInbox!.id), /not_found|Not found/i);
    await assert.rejects(mail.raw(bobUser!, aliceInbox!.id, 1), /not_found|Not found/i);
    await assert.rejects(mail.append(bobUser!, aliceInbox!.id, Buffer.from('Subject: x\r\n\r\nx\r\n'), [], null), /not_found|Not found/i);
    a.close();
    b.close();
  });

  test('8-bit headers, nested multipart and malformed MIME: answered, and the server stays up', async () => {
    const c = await RawImap.open(port);
    await c.cmd('1', `LOGIN alice "${alicePw}"`);
    await c.cmd('2', 'CREATE Odd');
    const fixtures = [
      // Raw UTF-8 in headers (no encoded words), an address group and a comment.
      Buffer.from('From: Élodie Müller <elodie@exemple.fr>\r\nTo: équipe: a@b.fr, c@d.fr;\r\nSubject: Réunion (urgent)\r\n\r\nCorps\r\n', 'utf8'),
      // Nested multipart with a message/rfc822 inside, LF line endings.
      Buffer.from(
        'Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: multipart/related; boundary=i\n\n--i\nContent-Type: text/html\n\n<b>x</b>\n--i--\n--o\nContent-Type: message/rfc822\n\nSubject: inner\nContent-Type: multipart/alternative; boundary=z\n\n--z\n\nplain\n--z--\n--o--\n',
      ),
      // Malformed: missing closing boundary, unterminated header, junk content type, a control byte (a NUL byte fails on PostgreSQL in the store: reported).
      Buffer.from('Content-Type: multipart/mixed; boundary="never"\r\nSubject: broken\r\n\r\n--never\r\nContent-Type: ;;;\r\n\r\nabc\x01def\r\n'),
      Buffer.from('no header at all, just text without a blank line'),
      Buffer.from('Content-Type: multipart/mixed\r\n\r\nno boundary parameter\r\n'),
    ];
    for (const [i, f] of fixtures.entries()) {
      c.write(`a${i} APPEND Odd {${f.length}+}\r\n`);
      c.write(Buffer.concat([f, Buffer.from('\r\n')]));
      assert.match(await c.until(`a${i}`), new RegExp(`a${i} OK \\[APPENDUID`));
    }
    await c.cmd('3', 'SELECT Odd');
    let r = await c.cmd('4', 'FETCH 1:* (ENVELOPE BODYSTRUCTURE BODY)');
    assert.match(r, /4 OK/);
    assert.equal((r.match(/^\* \d+ FETCH/gm) ?? []).length, fixtures.length);
    // 8-bit header values are sent as literals, the group as (NIL NIL "équipe" NIL).
    assert.ok(r.includes(`{${Buffer.byteLength('Réunion (urgent)')}}\r\n${Buffer.from('Réunion (urgent)').toString('latin1')}`), r);
    assert.match(r, /"MESSAGE" "RFC822" NIL NIL NIL "7BIT" \d+ \(NIL "inner"/);
    r = await c.cmd('5', 'FETCH 2 (BODY.PEEK[1.1] BODY.PEEK[2.1] BODY.PEEK[2.HEADER] BODY.PEEK[9] BODY.PEEK[1.MIME])');
    assert.match(r, /BODY\[1\.1\] \{8\}\r\n<b>x<\/b>/);
    assert.match(r, /BODY\[2\.HEADER\] \{\d+\}\r\nSubject: inner/);
    assert.match(r, /BODY\[9\] \{0\}\r\n/, 'a missing part is empty');
    assert.match(r, /5 OK/);
    r = await c.cmd('6', 'FETCH 3:5 (BODY.PEEK[] BODY.PEEK[TEXT] BODY.PEEK[1])');
    assert.match(r, /6 OK/);
    r = await c.cmd('7', 'UID SEARCH TEXT "abc" SUBJECT broken');
    assert.match(r, /7 OK/);
    // A storm of mutated commands, pipelined; then the session still answers.
    const seeds = ['FETCH 1:* (FLAGS)', 'UID SEARCH ALL', 'STORE 1 +FLAGS (\\Seen)', 'LIST "" *', 'UID FETCH 1:* BODY.PEEK[HEADER]<0.10>', 'STATUS INBOX (MESSAGES)'];
    let storm = '';
    for (let i = 0; i < 300; i++) {
      const s = seeds[i % seeds.length]!.split('');
      const at = (i * 7919) % (s.length + 1);
      if (i % 3 === 0) s.splice(at, 1);
      else if (i % 3 === 1) s.splice(at, 0, '()[]{}<>"*%\\'[i % 12]!);
      storm += `s${i} ${s.join('')}\r\n`;
    }
    c.write(`${storm}z NOOP\r\n`);
    r = await c.until('z', 20000);
    assert.match(r, /z OK/);
    assert.equal((r.match(/^s\d+ (OK|NO|BAD)/gm) ?? []).length, 300, 'every command got a tagged answer');
    c.close();
  });

  test('CONDSTORE / QRESYNC: CHANGEDSINCE, VANISHED (EARLIER), SELECT QRESYNC; ENABLE UTF8=ACCEPT', async () => {
    const c = await RawImap.open(port);
    await c.cmd('1', `LOGIN alice "${alicePw}"`);
    let r = await c.cmd('2', 'ENABLE QRESYNC UTF8=ACCEPT');
    assert.match(r, /\* ENABLED QRESYNC UTF8=ACCEPT/);
    r = await c.cmd('3', 'CREATE "Qré"');
    assert.match(r, /3 OK/);
    for (let i = 1; i <= 4; i++) {
      const m = `Subject: q${i}\r\n\r\nq${i}\r\n`;
      await c.cmd(`a${i}`, `APPEND "Qré" {${m.length}+}\r\n${m}`);
    }
    r = await c.cmd('4', 'SELECT "Qré"');
    const uidValidity = Number(/UIDVALIDITY (\d+)/.exec(r)![1]);
    const modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(r)![1]);
    await c.cmd('5', 'UID STORE 2 +FLAGS.SILENT (\\Seen)');
    await c.cmd('6', 'UID STORE 3 +FLAGS.SILENT (\\Deleted)');
    r = await c.cmd('7', 'UID EXPUNGE 3');
    assert.match(r, /\* VANISHED 3\r\n/, 'QRESYNC sessions get VANISHED, not EXPUNGE');
    r = await c.cmd('8', `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq} VANISHED)`);
    assert.match(r, /\* VANISHED \(EARLIER\) 3\r\n/);
    assert.match(r, /\* 2 FETCH \(UID 2 FLAGS \(\\Seen\) MODSEQ \(\d+\)\)/);
    assert.doesNotMatch(r, /UID 1 /, 'unchanged messages are left out');
    r = await c.cmd('9', 'UID SEARCH MODSEQ 1');
    assert.match(r, /\* SEARCH 1 2 4 \(MODSEQ \d+\)/);
    await c.cmd('10', 'UNSELECT');
    r = await c.cmd('11', `SELECT "Qré" (QRESYNC (${uidValidity} ${modseq} 1:4))`);
    assert.match(r, /\* VANISHED \(EARLIER\) 3\r\n/);
    assert.match(r, /\* 2 FETCH \(UID 2 FLAGS \(\\Seen\) MODSEQ \(\d+\)\)/);
    assert.match(r, /\* 3 EXISTS/);
    r = await c.cmd('12', 'LIST "" "Q*"');
    assert.ok(r.includes(`* LIST (\\HasNoChildren) "/" "${Buffer.from('Qré').toString('latin1')}"`), `UTF-8 names once UTF8=ACCEPT is on: ${r}`);
    r = await c.cmd('13', `SELECT "Qré" (QRESYNC (${uidValidity + 1} ${modseq}))`);
    assert.match(r, /\* OK \[CLOSED\]/);
    assert.doesNotMatch(r, /VANISHED/, 'a different UIDVALIDITY resynchronises nothing');
    c.close();
  });

  test('shared mailboxes: space members see them under Shared/, others and guests never', async () => {
    const platform = server.bastide.platform;
    const carol = await makeUser(server, 'carol');
    const carolPw = await appPassword(server, carol.id);
    const now = Date.now();
    await platform.db.insertInto('spaces').values({ id: 'space-contact-1', name: 'Accueil', description: '', visibility: 'secret', archived: 0, created_by: alice.id, created_at: now, updated_at: now }).execute();
    await platform.db
      .insertInto('space_members')
      .values([
        { space_id: 'space-contact-1', user_id: alice.id, role: 'member', added_at: now },
        { space_id: 'space-contact-1', user_id: carol.id, role: 'guest', added_at: now },
      ])
      .execute();
    const sys = { platform, actor: { kind: 'system' as const } };
    await addDomain(sys, 'mairie.example');
    await addAddress(sys, { address: 'accueil@mairie.example', targetType: 'space', targetId: 'space-contact-1' });

    const a = await RawImap.open(port);
    await a.cmd('1', `LOGIN alice "${alicePw}"`);
    let r = await a.cmd('2', 'NAMESPACE');
    assert.match(r, /\* NAMESPACE \(\("" "\/"\)\) NIL \(\("Shared\/" "\/"\)\)/);
    r = await a.cmd('3', 'LIST "" "Shared/*"');
    assert.match(r, /"\/" "?Shared\/Accueil\/INBOX"?/);
    const m = 'Subject: pour l’accueil\r\n\r\nbonjour\r\n';
    r = await a.cmd('4', `APPEND "Shared/Accueil/INBOX" {${Buffer.byteLength(m)}+}\r\n${m}`);
    assert.match(r, /4 OK \[APPENDUID/);
    r = await a.cmd('5', 'SELECT "Shared/Accueil/INBOX"');
    assert.match(r, /\* 1 EXISTS/);
    r = await a.cmd('6', 'UID COPY 1 INBOX');
    assert.match(r, /6 OK \[COPYUID/, 'a member copies from the shared mailbox to their own');
    r = await a.cmd('7', 'CREATE "Shared/Accueil/Traite"');
    assert.match(r, /7 NO \[NOPERM\]/, 'members do not manage the shared folders (managers do)');
    r = await a.cmd('8', 'CREATE "Shared/Nowhere/x"');
    assert.match(r, /8 NO/);
    a.close();

    for (const [login, pw] of [
      ['bob', bobPw],
      ['carol', carolPw],
    ] as const) {
      const c = await RawImap.open(port);
      await c.cmd('1', `LOGIN ${login} "${pw}"`);
      r = await c.cmd('2', 'LIST "" "*"');
      assert.doesNotMatch(r, /Shared|Accueil/, `${login} (not a member, or a guest) sees no shared mailbox`);
      r = await c.cmd('3', 'SELECT "Shared/Accueil/INBOX"');
      assert.match(r, /3 NO \[NONEXISTENT\]/);
      r = await c.cmd('4', `APPEND "Shared/Accueil/INBOX" {${Buffer.byteLength(m)}+}\r\n${m}`);
      assert.match(r, /4 NO \[TRYCREATE\]/);
      c.close();
    }
  });

  test('COMPRESS=DEFLATE (RFC 4978)', async () => {
    const c = await RawImap.open(port);
    await c.cmd('1', `LOGIN alice "${alicePw}"`);
    let r = await c.cmd('2', 'CAPABILITY');
    assert.match(r, /COMPRESS=DEFLATE/);
    r = await c.cmd('3', 'COMPRESS DEFLATE');
    assert.match(r, /3 OK/);
    const socket = c.socket;
    socket.removeAllListeners('data');
    const inflate = createInflateRaw();
    const deflate = createDeflateRaw();
    socket.on('data', (d: Buffer) => inflate.write(d));
    deflate.on('data', (d: Buffer) => socket.write(d));
    let text = '';
    inflate.on('data', (d: Buffer) => (text += d.toString('latin1')));
    const send = (line: string): void => {
      deflate.write(`${line}\r\n`);
      deflate.flush(zlibConstants.Z_SYNC_FLUSH);
    };
    const wait = async (re: RegExp): Promise<void> => {
      for (let i = 0; i < 100 && !re.test(text); i++) await new Promise((res) => setTimeout(res, 20));
      assert.match(text, re);
    };
    send('4 SELECT INBOX');
    await wait(/4 OK/);
    send('5 FETCH 1:* (FLAGS ENVELOPE)');
    await wait(/5 OK Fetch completed/);
    assert.match(text, /\* 1 FETCH \(FLAGS/);
    send('6 COMPRESS DEFLATE');
    await wait(/6 NO \[COMPRESSIONACTIVE\]/);
    send('7 LOGOUT');
    await wait(/7 OK/);
    c.close();
  });

  test('STARTTLS and implicit TLS', async () => {
    const c = await RawImap.open(port);
    let r = await c.cmd('1', 'STARTTLS');
    assert.match(r, /1 OK Begin TLS/);
    await c.startTls();
    r = await c.cmd('2', 'CAPABILITY');
    assert.doesNotMatch(r, /STARTTLS/);
    r = await c.cmd('3', `LOGIN alice "${alicePw}"`);
    assert.match(r, /3 OK/);
    c.close();
    const t = await RawImap.open(tlsPort, true);
    r = await t.cmd('1', `LOGIN alice "${alicePw}"`);
    assert.match(r, /1 OK/);
    r = await t.cmd('2', 'SELECT INBOX');
    assert.match(r, /2 OK \[READ-WRITE\]/);
    t.close();
  });

  test('AUTHENTICATE PLAIN with and without an initial response', async () => {
    const c = await RawImap.open(port);
    const token = Buffer.from(`\0alice\0${alicePw}`).toString('base64');
    let r = await c.cmd('1', `AUTHENTICATE PLAIN ${token}`);
    assert.match(r, /1 OK/);
    c.close();
    const d = await RawImap.open(port);
    d.write('1 AUTHENTICATE PLAIN\r\n');
    assert.match(await d.readLine(), /^\+/);
    d.write(`${token}\r\n`);
    r = await d.until('1');
    assert.match(r, /1 OK/);
    d.close();
  });
});
