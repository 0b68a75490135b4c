import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startTestServer, makeUser, type TestServer } from './helpers/server.js';
import { mailStore, type MailCtx, type MailOwner, type MailChange } from '../src/modules/mail/store.js';
import { findSection, parseMessage, toCrlf } from '../src/modules/mail/mime.js';
import { refCount } from '../src/platform/blobs/refs.js';
import type { AppError } from '../src/errors.js';
import type { Actor } from '../src/platform/policy.js';

/** The mail store contract (store.ts): mailboxes, UIDs/MODSEQs, flags, copy/move/expunge, search, events, permissions. */

const msg = (subject: string, extra = '', body = 'Hello there.\r\n'): Buffer =>
  Buffer.from(`From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\nSubject: ${subject}\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n${extra}\r\n${body}`);

const MULTIPART = Buffer.from(
  [
    'From: =?utf-8?q?=C3=89lodie?= <elodie@example.org>',
    'To: bob@example.org, Group: a@x.org, b@y.org;',
    'Subject: =?utf-8?b?UsOpdW5pb24=?= demain',
    'Message-ID: <root@example.org>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="XX"',
    '',
    'preamble',
    '--XX',
    'Content-Type: multipart/alternative; boundary=YY',
    '',
    '--YY',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Caf=C3=A9 at noon',
    '--YY',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>Café at noon</p>',
    '--YY--',
    '--XX',
    'Content-Type: application/pdf; name="a.pdf"',
    'Content-Disposition: attachment; filename*=utf-8\'\'r%C3%A9sum%C3%A9.pdf',
    'Content-Transfer-Encoding: base64',
    '',
    'JVBERi0xLjQK',
    '--XX',
    'Content-Type: message/rfc822',
    '',
    'From: inner@example.org',
    'Subject: inner',
    '',
    'inner body',
    '--XX--',
    'epilogue',
    '',
  ].join('\n'),
);

describe('mail store', () => {
  let srv: TestServer;
  let alice: MailCtx;
  let bob: MailCtx;
  let aliceOwner: MailOwner;
  let bobOwner: MailOwner;
  const system = (): MailCtx => ({ platform: srv.bastide.platform, actor: { kind: 'system' } });
  const userActor = (id: string, login: string, via: 'session' | 'app-password' = 'session', scopes: Array<'mail' | 'dav'> | 'all' = 'all'): Actor => ({
    kind: 'user', userId: id, login, isAdmin: false, via, scopes,
  });

  before(async () => {
    srv = await startTestServer({ listen: false });
    const a = await makeUser(srv, 'alice');
    const b = await makeUser(srv, 'bob');
    alice = { platform: srv.bastide.platform, actor: userActor(a.id, 'alice') };
    bob = { platform: srv.bastide.platform, actor: userActor(b.id, 'bob') };
    aliceOwner = { type: 'user', id: a.id };
    bobOwner = { type: 'user', id: b.id };
  });
  after(() => srv.close());

  test('default mailboxes on first use, with special-use and increasing UIDVALIDITY', async () => {
    const list = await mailStore.listMailboxes(alice, aliceOwner);
    assert.deepEqual(list.map((m) => m.name).sort(), ['Archive', 'Drafts', 'INBOX', 'Junk', 'Sent', 'Trash']);
    assert.equal(list.find((m) => m.name === 'INBOX')!.specialUse, '\\Inbox');
    assert.equal(list.find((m) => m.name === 'Sent')!.specialUse, '\\Sent');
    const vals = list.map((m) => m.uidvalidity);
    assert.equal(new Set(vals).size, vals.length, 'UIDVALIDITY unique');
    const again = await mailStore.listMailboxes(alice, aliceOwner);
    assert.equal(again.length, 6);
    assert.equal((await mailStore.getMailbox(alice, aliceOwner, 'inbox'))!.name, 'INBOX');
  });

  test('append, fetch metadata, UIDs and MODSEQs increase, raw stored in CRLF', async () => {
    const inbox = (await mailStore.getMailbox(alice, aliceOwner, 'INBOX'))!;
    const a1 = await mailStore.append(alice, inbox.id, Buffer.from('Subject: one\n\nbare LF body\n'), { flags: ['\\Seen', '$Forwarded'], internalDate: 1_700_000_000_000 });
    const a2 = await mailStore.append(alice, inbox.id, msg('two'));
    assert.equal(a1.uid, 1);
    assert.equal(a2.uid, 2);
    assert.ok(a2.modseq > a1.modseq);
    assert.equal(a1.uidvalidity, inbox.uidvalidity);
    const [m1, m2] = await mailStore.fetch(alice, inbox.id, 'all');
    assert.deepEqual(m1!.flags, ['\\Seen', '$Forwarded']);
    assert.equal(m1!.internalDate, 1_700_000_000_000);
    assert.equal(m1!.subject, 'one');
    const raw = await mailStore.readRaw(alice, inbox.id, 1);
    assert.equal(raw.toString(), 'Subject: one\r\n\r\nbare LF body\r\n');
    assert.equal(m1!.size, raw.length);
    assert.equal(m2!.envelope.subject, 'two');
    assert.deepEqual(m2!.envelope.from, [['Alice', null, 'alice', 'example.org']]);
    assert.deepEqual(m2!.envelope.sender, m2!.envelope.from);
    const st = await mailStore.status(alice, inbox.id);
    assert.equal(st.messages, 2);
    assert.equal(st.unseen, 1);
    assert.equal(st.uidnext, 3);
    assert.equal(st.firstUnseenUid, 2);
    assert.equal(st.highestModseq, a2.modseq);
  });

  test('a message with NUL bytes in its headers and body is stored (both engines); the raw keeps them', async () => {
    const box = await mailStore.createMailbox(alice, aliceOwner, 'Nul bytes');
    const raw = Buffer.from('Subject: broken\u0000mailer\r\nFrom: a@example.org\r\nMessage-ID: <x\u0000y@example.org>\r\n\r\nbody with a \u0000 inside\r\n', 'latin1');
    const r = await mailStore.append(alice, box.id, raw);
    const [m] = await mailStore.fetch(alice, box.id, 'all');
    assert.equal(m!.uid, r.uid);
    assert.equal(m!.subject, 'broken\uFFFDmailer');
    assert.deepEqual(await mailStore.readRaw(alice, box.id, r.uid), raw);
  });

  test('MIME: envelope, BODYSTRUCTURE tree with offsets, decoded values, text extract', async () => {
    const raw = toCrlf(MULTIPART);
    const p = parseMessage(raw);
    assert.equal(p.subject, 'Réunion demain');
    assert.equal(p.from, 'Élodie <elodie@example.org>');
    assert.equal(p.envelope.subject, '=?utf-8?b?UsOpdW5pb24=?= demain', 'envelope keeps the raw value');
    assert.deepEqual(p.envelope.to, [
      [null, null, 'bob', 'example.org'],
      [null, null, 'Group', null],
      [null, null, 'a', 'x.org'],
      [null, null, 'b', 'y.org'],
      [null, null, null, null],
    ]);
    assert.equal(p.messageId, 'root@example.org');
    assert.equal(p.body.type, 'multipart');
    assert.equal(p.body.subtype, 'mixed');
    assert.equal(p.body.children!.length, 3);
    const alt = p.body.children![0]!;
    assert.equal(alt.subtype, 'alternative');
    const plain = findSection(p.body, [1, 1])!;
    assert.equal(plain.encoding, 'quoted-printable');
    assert.equal(raw.subarray(plain.bodyStart, plain.bodyEnd).toString(), 'Caf=C3=A9 at noon');
    assert.equal(plain.lines, 1);
    const pdf = findSection(p.body, [2])!;
    assert.equal(pdf.type, 'application');
    assert.equal(pdf.disposition!.type, 'attachment');
    assert.equal(raw.subarray(pdf.bodyStart, pdf.bodyEnd).toString(), 'JVBERi0xLjQK');
    const rfc822 = findSection(p.body, [3])!;
    assert.equal(rfc822.message!.envelope.subject, 'inner');
    assert.equal(raw.subarray(findSection(p.body, [3, 1])!.bodyStart, findSection(p.body, [3, 1])!.bodyEnd).toString(), 'inner body');
    assert.match(p.text, /Café at noon/);
    assert.ok(p.hasAttachments);
    // Malformed input never throws.
    for (const bad of ['', '\r\n', 'Content-Type: multipart/mixed\r\n\r\nno boundary', 'Content-Type: multipart/mixed; boundary=Q\r\n\r\n--Q\r\nunterminated', 'no header at all', 'Content-Type: ///\r\n\r\nx']) {
      const r = parseMessage(toCrlf(Buffer.from(bad)));
      assert.ok(r.body);
    }
    // Deep nesting is bounded.
    let deep = 'x';
    for (let i = 0; i < 200; i++) deep = `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n${deep}\r\n--b${i}--\r\n`;
    assert.ok(parseMessage(Buffer.from(deep)).body);
  });

  test('deliver: many recipients in one transaction, raw stored once, threads by References', async () => {
    const aInbox = (await mailStore.getMailbox(alice, aliceOwner, 'INBOX'))!;
    const bInbox = (await mailStore.specialMailbox(bob, bobOwner, '\\Inbox'))!;
    const raw = msg('thread root', 'Message-ID: <t1@example.org>\r\n');
    const out = await mailStore.deliver(system(), [{ mailboxId: aInbox.id }, { mailboxId: bInbox.id }], raw);
    assert.equal(out.length, 2);
    const [ma] = await mailStore.fetch(alice, aInbox.id, [[out[0]!.uid, out[0]!.uid]]);
    const [mb] = await mailStore.fetch(bob, bInbox.id, [[out[1]!.uid, out[1]!.uid]]);
    assert.equal(ma!.blobSha256, mb!.blobSha256);
    assert.equal(await refCount(srv.bastide.platform.db, ma!.blobSha256), 2);
    const reply = await mailStore.deliver(system(), [{ mailboxId: aInbox.id }], msg('Re: thread root', 'Message-ID: <t2@example.org>\r\nIn-Reply-To: <t1@example.org>\r\n'));
    const [mr] = await mailStore.fetch(alice, aInbox.id, [[reply[0]!.uid, reply[0]!.uid]]);
    assert.equal(mr!.threadId, ma!.threadId);
    assert.notEqual(mb!.threadId, '');
    assert.deepEqual(await mailStore.search(alice, aInbox.id, { threadId: ma!.threadId }), [ma!.uid, mr!.uid]);
  });

  test('concurrent appends get distinct, consecutive UIDs', async () => {
    const box = await mailStore.createMailbox(alice, aliceOwner, 'Race');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => mailStore.append(alice, box.id, msg(`race ${i}`))));
    const uids = results.map((r) => r.uid).sort((a, b) => a - b);
    assert.deepEqual(uids, Array.from({ length: 20 }, (_, i) => i + 1));
    assert.deepEqual(await mailStore.uidList(alice, box.id), uids);
    const modseqs = new Set(results.map((r) => r.modseq));
    assert.equal(modseqs.size, 20);
  });

  test('concurrent multi-mailbox deliveries and crossing moves neither deadlock nor lose messages', async () => {
    const a = await mailStore.createMailbox(alice, aliceOwner, 'Cross A');
    const b = await mailStore.createMailbox(alice, aliceOwner, 'Cross B');
    for (let i = 0; i < 6; i++) await mailStore.append(alice, a.id, msg(`a${i}`));
    for (let i = 0; i < 6; i++) await mailStore.append(alice, b.id, msg(`b${i}`));
    const jobs: Array<Promise<unknown>> = [];
    for (let i = 0; i < 10; i++) {
      const targets = i % 2 ? [{ mailboxId: a.id }, { mailboxId: b.id }] : [{ mailboxId: b.id }, { mailboxId: a.id }];
      jobs.push(
        mailStore.deliver(system(), targets, msg(`both ${i}`)).then((out) => {
          assert.deepEqual(out.map((o) => o.mailboxId), targets.map((t) => t.mailboxId), 'results in the order of the targets');
        }),
      );
    }
    for (let i = 0; i < 3; i++) {
      jobs.push(mailStore.move(alice, a.id, [[i + 1, i + 1]], b.id));
      jobs.push(mailStore.move(alice, b.id, [[i + 1, i + 1]], a.id));
    }
    await Promise.all(jobs);
    const total = (await mailStore.status(alice, a.id)).messages + (await mailStore.status(alice, b.id)).messages;
    assert.equal(total, 12 + 20);
  });

  test('flags: add, remove, replace, keywords, UNCHANGEDSINCE, no-op keeps MODSEQ', async () => {
    const box = await mailStore.createMailbox(alice, aliceOwner, 'Flags');
    for (let i = 0; i < 3; i++) await mailStore.append(alice, box.id, msg(`f${i}`));
    const r1 = await mailStore.setFlags(alice, box.id, [[1, 2]], 'add', ['\\seen', 'Work']);
    assert.deepEqual(r1.changed.map((c) => [c.uid, c.flags]), [
      [1, ['\\Seen', 'Work']],
      [2, ['\\Seen', 'Work']],
    ]);
    const noop = await mailStore.setFlags(alice, box.id, [[1, 1]], 'add', ['\\Seen']);
    assert.equal(noop.changed.length, 0);
    assert.equal(noop.modseq, r1.modseq);
    const r2 = await mailStore.setFlags(alice, box.id, [[2, 2]], 'remove', ['work']);
    assert.deepEqual(r2.changed[0]!.flags, ['\\Seen']);
    const cond = await mailStore.setFlags(alice, box.id, [[1, 3]], 'replace', ['\\Flagged'], { unchangedSince: r1.modseq });
    assert.deepEqual(cond.failed, [2], 'message 2 changed after r1');
    assert.deepEqual(cond.changed.map((c) => c.uid), [1, 3]);
    const flags = await mailStore.fetchFlags(alice, box.id, 'all');
    assert.deepEqual(flags.map((f) => f.flags), [['\\Flagged'], ['\\Seen'], ['\\Flagged']]);
    assert.deepEqual((await mailStore.changesSince(alice, box.id, r2.modseq)).changed.map((c) => c.uid), [1, 3]);
    await assert.rejects(mailStore.setFlags(alice, box.id, [[1, 1]], 'add', ['bad flag']), (e: AppError) => e.code === 'validation_failed');
    await assert.rejects(mailStore.setFlags(alice, box.id, [[1, 1]], 'add', ['\\Bogus']), (e: AppError) => e.code === 'validation_failed');
  });

  test('copy, move, expunge, VANISHED since modseq, blob references follow', async () => {
    const src = await mailStore.createMailbox(alice, aliceOwner, 'Src');
    const dst = await mailStore.createMailbox(alice, aliceOwner, 'Dst/Sub');
    for (let i = 0; i < 4; i++) await mailStore.append(alice, src.id, msg(`m${i}`, '', `body ${i}\r\n`));
    const before = (await mailStore.status(alice, src.id)).highestModseq;
    const c = await mailStore.copy(alice, src.id, [[1, 2]], dst.id);
    assert.deepEqual(c.mapping, [
      [1, 1],
      [2, 2],
    ]);
    assert.equal(c.uidvalidity, dst.uidvalidity);
    const [m1] = await mailStore.fetch(alice, src.id, [[1, 1]]);
    assert.equal(await refCount(srv.bastide.platform.db, m1!.blobSha256), 2);
    const mv = await mailStore.move(alice, src.id, [[3, 4]], dst.id);
    assert.deepEqual(mv.mapping, [
      [3, 3],
      [4, 4],
    ]);
    assert.deepEqual(mv.expunged, [3, 4]);
    assert.deepEqual(await mailStore.uidList(alice, src.id), [1, 2]);
    await mailStore.setFlags(alice, src.id, [[1, 1]], 'add', ['\\Deleted']);
    const ex = await mailStore.expunge(alice, src.id);
    assert.deepEqual(ex.uids, [1]);
    assert.equal(await refCount(srv.bastide.platform.db, m1!.blobSha256), 1);
    const ch = await mailStore.changesSince(alice, src.id, before);
    assert.deepEqual(ch.vanished, [1, 3, 4]);
    // UID EXPUNGE only touches the given UIDs.
    await mailStore.setFlags(alice, dst.id, 'all', 'add', ['\\Deleted']);
    assert.deepEqual((await mailStore.expunge(alice, dst.id, [[2, 3]])).uids, [2, 3]);
    assert.deepEqual(await mailStore.uidList(alice, dst.id), [1, 4]);
    // A UID is never reused.
    const again = await mailStore.append(alice, src.id, msg('after'));
    assert.equal(again.uid, 5);
  });

  test('search primitives', async () => {
    const box = await mailStore.createMailbox(alice, aliceOwner, 'Search');
    await mailStore.append(alice, box.id, msg('Budget 2026', '', 'numbers inside\r\n'), { internalDate: Date.UTC(2026, 0, 10) });
    await mailStore.append(alice, box.id, toCrlf(MULTIPART), { flags: ['\\Flagged'], internalDate: Date.UTC(2026, 5, 1) });
    await mailStore.append(alice, box.id, msg('50% off_sale'), { flags: ['\\Seen', 'Later'] });
    assert.deepEqual(await mailStore.search(alice, box.id, { subject: 'budget' }), [1]);
    assert.deepEqual(await mailStore.search(alice, box.id, { subject: 'réunion' }), [2]);
    assert.deepEqual(await mailStore.search(alice, box.id, { body: 'café' }), [2]);
    assert.deepEqual(await mailStore.search(alice, box.id, { text: 'NUMBERS' }), [1]);
    assert.deepEqual(await mailStore.search(alice, box.id, { from: 'élodie' }), [2]);
    assert.deepEqual(await mailStore.search(alice, box.id, { subject: '50%' }), [3]);
    assert.deepEqual(await mailStore.search(alice, box.id, { subject: '_' }), [3], 'LIKE wildcards are escaped');
    assert.deepEqual(await mailStore.search(alice, box.id, { flagged: ['\\Flagged'] }), [2]);
    assert.deepEqual(await mailStore.search(alice, box.id, { unflagged: ['\\Seen'] }), [1, 2]);
    assert.deepEqual(await mailStore.search(alice, box.id, { flagged: ['later'] }), [3]);
    assert.deepEqual(await mailStore.search(alice, box.id, { since: Date.UTC(2026, 2, 1), before: Date.UTC(2026, 6, 1) }), [2]);
    assert.deepEqual(await mailStore.search(alice, box.id, { on: Date.UTC(2026, 0, 10) }), [1]);
    assert.deepEqual(await mailStore.search(alice, box.id, { uids: [[1, 1], [3, 3]] }), [1, 3]);
    assert.deepEqual(await mailStore.search(alice, box.id, { not: { uids: [[2, 2]] } }), [1, 3]);
    assert.deepEqual(await mailStore.search(alice, box.id, { or: [{ subject: 'budget' }, { flagged: ['\\Seen'] }] }), [1, 3]);
    assert.deepEqual(await mailStore.search(alice, box.id, { larger: 400 }), [2]);
    assert.deepEqual(await mailStore.search(alice, box.id, { messageId: '<root@example.org>' }), [2]);
  });

  test('mailbox names: create, rename with children, INBOX rename, delete, validation', async () => {
    await mailStore.createMailbox(alice, aliceOwner, 'Projets');
    const child = await mailStore.createMailbox(alice, aliceOwner, 'Projets/Été');
    await assert.rejects(mailStore.createMailbox(alice, aliceOwner, 'projets/Été'.replace('p', 'P')), (e: AppError) => e.code === 'mailbox_exists');
    for (const bad of ['', '/x', 'x/', 'a//b', 'a*', 'a%', 'a\u0000b', 'x'.repeat(300)]) {
      await assert.rejects(mailStore.createMailbox(alice, aliceOwner, bad), (e: AppError) => e.code === 'invalid_name', bad);
    }
    const parent = (await mailStore.getMailbox(alice, aliceOwner, 'Projets'))!;
    await mailStore.renameMailbox(alice, parent.id, 'Work');
    assert.equal((await mailStore.getMailboxById(alice, child.id)).name, 'Work/Été');
    const inbox = (await mailStore.getMailbox(alice, aliceOwner, 'INBOX'))!;
    const count = (await mailStore.status(alice, inbox.id)).messages;
    assert.ok(count > 0);
    const moved = await mailStore.renameMailbox(alice, inbox.id, 'Old inbox');
    assert.equal((await mailStore.status(alice, moved.id)).messages, count);
    assert.equal((await mailStore.status(alice, inbox.id)).messages, 0);
    await assert.rejects(mailStore.deleteMailbox(alice, inbox.id), (e: AppError) => e.code === 'forbidden');
    const [m] = await mailStore.fetch(alice, moved.id, [[1, 1]]);
    const refs = await refCount(srv.bastide.platform.db, m!.blobSha256);
    await mailStore.deleteMailbox(alice, moved.id);
    assert.equal(await refCount(srv.bastide.platform.db, m!.blobSha256), refs! - 1);
    assert.equal(await mailStore.getMailbox(alice, aliceOwner, 'Old inbox'), null);
    // A re-created name gets a new, greater UIDVALIDITY.
    const re = await mailStore.createMailbox(alice, aliceOwner, 'Old inbox');
    assert.ok(re.uidvalidity > moved.uidvalidity);
  });

  test('every mutation emits mail.changed', async () => {
    const seen: MailChange[] = [];
    const off = srv.bastide.platform.onCommit((events) => {
      for (const e of events) if (e.topic === 'mail.changed') seen.push(e.data as unknown as MailChange);
    });
    try {
      const box = await mailStore.createMailbox(alice, aliceOwner, 'Events');
      const a = await mailStore.append(alice, box.id, msg('ev'));
      await mailStore.setFlags(alice, box.id, [[a.uid, a.uid]], 'add', ['\\Deleted']);
      await mailStore.expunge(alice, box.id);
      await mailStore.setSubscribed(alice, box.id, false);
      assert.deepEqual(
        seen.filter((s) => s.mailboxId === box.id).map((s) => [s.kind, s.uids ?? null]),
        [
          ['mailbox', null],
          ['append', [1]],
          ['flags', [1]],
          ['expunge', [1]],
          ['mailbox', null],
        ],
      );
      assert.ok(seen.every((s) => s.ownerId === aliceOwner.id && typeof s.modseq === 'number'));
    } finally {
      off();
    }
  });

  test('permissions: another user and narrow app passwords see nothing', async () => {
    const inbox = (await mailStore.getMailbox(alice, aliceOwner, 'INBOX'))!;
    const nf = (e: AppError): boolean => e.code === 'not_found';
    await assert.rejects(mailStore.listMailboxes(bob, aliceOwner), nf);
    await assert.rejects(mailStore.getMailboxById(bob, inbox.id), nf);
    await assert.rejects(mailStore.fetch(bob, inbox.id, 'all'), nf);
    await assert.rejects(mailStore.append(bob, inbox.id, msg('intrusion')), nf);
    await assert.rejects(mailStore.setFlags(bob, inbox.id, 'all', 'add', ['\\Deleted']), nf);
    await assert.rejects(mailStore.expunge(bob, inbox.id), nf);
    await assert.rejects(mailStore.search(bob, inbox.id, {}), nf);
    await assert.rejects(mailStore.deleteMailbox(bob, inbox.id), nf);
    const bobInbox = (await mailStore.getMailbox(bob, bobOwner, 'INBOX'))!;
    await assert.rejects(mailStore.copy(bob, bobInbox.id, 'all', inbox.id), nf);
    await assert.rejects(mailStore.copy(bob, inbox.id, 'all', bobInbox.id), nf);
    await assert.rejects(mailStore.quota(bob, aliceOwner), nf);
    const davOnly: MailCtx = { platform: srv.bastide.platform, actor: userActor(aliceOwner.id, 'alice', 'app-password', ['dav']) };
    await assert.rejects(mailStore.listMailboxes(davOnly, aliceOwner), nf);
    const mailPw: MailCtx = { platform: srv.bastide.platform, actor: userActor(aliceOwner.id, 'alice', 'app-password', ['mail']) };
    assert.ok((await mailStore.listMailboxes(mailPw, aliceOwner)).length > 0);
    await assert.rejects(mailStore.listMailboxes({ platform: srv.bastide.platform, actor: { kind: 'anonymous' } }, aliceOwner), (e: AppError) => e.code === 'unauthenticated');
  });

  test('limits: message size and quota', async () => {
    const platform = srv.bastide.platform;
    const box = await mailStore.createMailbox(alice, aliceOwner, 'Limits');
    const big = Buffer.alloc(platform.config.mailMaxMessageBytes + 1, 0x61);
    await assert.rejects(mailStore.append(alice, box.id, big), (e: AppError) => e.code === 'payload_too_large');
    const q = await mailStore.quota(alice, aliceOwner);
    assert.ok(q.usedBytes > 0 && q.messages > 0);
    // The usage counter kept by every mutation above equals the real sums.
    const real = await platform.db.selectFrom('mail_messages').select([sql<number>`coalesce(sum(size), 0)`.as('b'), sql<number>`count(*)`.as('n')]).where('owner', '=', `user:${aliceOwner.id}`).executeTakeFirstOrThrow();
    assert.deepEqual([q.usedBytes, q.messages], [Number(real.b), Number(real.n)]);
    const cfg = platform.config as { mailQuotaBytes: number };
    const saved = cfg.mailQuotaBytes;
    cfg.mailQuotaBytes = q.usedBytes + 10;
    try {
      await assert.rejects(mailStore.append(alice, box.id, msg('over quota')), (e: AppError) => e.code === 'quota_exceeded');
    } finally {
      cfg.mailQuotaBytes = saved;
    }
  });
});
