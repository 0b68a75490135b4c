import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';
import { makeUser, startTestServer, type TestServer } from './helpers/server.js';
import { appPassword, IMAP_CONFIG, imapPorts } from './helpers/imap.js';

/**
 * Real IMAP clients against the running server: Python's imaplib (a scripted session), imapflow
 * (the Node client), and mbsync (Debian isync) syncing a mailbox to a Maildir and back.
 * mbsync is skipped with a notice when missing, unless BASTIDE_TEST_MAIL=required.
 */

const run = promisify(execFile);
const required = process.env.BASTIDE_TEST_MAIL === 'required';

describe('imap: real clients', () => {
  let server: TestServer;
  let port: number;

  before(async () => {
    server = await startTestServer({ config: { ...IMAP_CONFIG } });
    port = imapPorts(server).imap;
  });
  after(async () => {
    await server.close();
  });

  test('python3 imaplib: scripted session (LOGIN … IDLE with a second connection)', async () => {
    const u = await makeUser(server, 'pyuser');
    const pw = await appPassword(server, u.id);
    const script = join(import.meta.dirname, 'imap-clients.py');
    try {
      const r = await run('python3', [script], { env: { ...process.env, IMAP_PORT: String(port), IMAP_USER: 'pyuser', IMAP_PASSWORD: pw }, timeout: 60000 });
      assert.match(r.stdout, /imaplib: all checks passed/);
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      assert.fail(`imaplib script failed:\n${err.stdout ?? ''}\n${err.stderr ?? String(e)}`);
    }
  });

  test('imapflow: list, append, fetch, search, flags, move, and IDLE push between two clients', async () => {
    const u = await makeUser(server, 'flowuser');
    const pw = await appPassword(server, u.id);
    const opts = { host: '127.0.0.1', port, secure: false, auth: { user: 'flowuser', pass: pw }, logger: false as const, doSTARTTLS: false };
    const a = new ImapFlow(opts);
    const b = new ImapFlow(opts);
    await a.connect();
    await b.connect();
    try {
      assert.ok((a as unknown as { _deflate?: unknown })._deflate, 'imapflow negotiated COMPRESS=DEFLATE');
      const list = await a.list();
      assert.deepEqual(list.map((m) => m.specialUse ?? m.path).sort(), ['\\Archive', '\\Drafts', '\\Inbox', '\\Junk', '\\Sent', '\\Trash']);
      const raw = 'From: Zoé <zoe@example.org>\r\nTo: flowuser@example.org\r\nSubject: =?UTF-8?Q?Caf=C3=A9?=\r\nMessage-ID: <cafe@example.org>\r\n\r\nUn café ?\r\n';
      const appended = await a.append('INBOX', raw, ['\\Seen']);
      assert.ok(appended && appended.uid === 1);
      const lock = await a.getMailboxLock('INBOX');
      const block = await b.getMailboxLock('INBOX');
      try {
        const msg = await a.fetchOne('1', { envelope: true, bodyStructure: true, source: true, flags: true, uid: true });
        assert.ok(msg);
        assert.equal(msg.envelope?.subject, 'Café');
        assert.equal(msg.envelope?.from?.[0]?.address, 'zoe@example.org');
        assert.equal(msg.bodyStructure?.type, 'text/plain');
        assert.equal(msg.source?.toString(), raw);
        assert.ok(msg.flags?.has('\\Seen'));
        const found = await a.search({ subject: 'café' }, { uid: true });
        assert.deepEqual(found, [1]);
        // IDLE on b, a change on a.
        const exists = new Promise<number>((resolve) => b.once('exists', (d: { count: number }) => resolve(d.count)));
        void b.idle();
        await new Promise((r) => setTimeout(r, 100));
        await a.append('INBOX', 'Subject: two\r\n\r\ntwo\r\n');
        await a.noop();
        assert.equal(await exists, 2);
        const flagged = new Promise<Set<string>>((resolve) => b.once('flags', (d: { flags: Set<string> }) => resolve(d.flags)));
        await a.messageFlagsAdd('2', ['\\Flagged']);
        assert.ok((await flagged).has('\\Flagged'));
        const expunged = new Promise<number>((resolve) => b.once('expunge', (d: { seq: number }) => resolve(d.seq)));
        const moved = await a.messageMove('1', 'Archive');
        assert.ok(moved && moved.uidMap && moved.uidMap.get(1) === 1);
        assert.equal(await expunged, 1);
      } finally {
        lock.release();
        block.release();
      }
      const status = await a.status('Archive', { messages: true, unseen: true });
      assert.ok(status);
      assert.equal(status.messages, 1);
      assert.equal(status.unseen, 0);
    } finally {
      await a.logout();
      await b.logout();
    }
  });

  test('mbsync (isync): two-way sync with a Maildir, no duplicate, no loss', async (t) => {
    if (!existsSync('/usr/bin/mbsync')) {
      if (required) assert.fail('mbsync is missing and BASTIDE_TEST_MAIL=required');
      t.skip('mbsync (Debian isync) is not installed: skipped');
      return;
    }
    const u = await makeUser(server, 'syncuser');
    const pw = await appPassword(server, u.id);
    const flow = new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user: 'syncuser', pass: pw }, logger: false, doSTARTTLS: false });
    await flow.connect();
    for (let i = 1; i <= 5; i++) await flow.append('INBOX', `Message-ID: <sync-${i}@example.org>\r\nSubject: server ${i}\r\n\r\nbody ${i}\r\n`, i % 2 ? ['\\Seen'] : []);
    await flow.mailboxCreate('Projets');
    await flow.append('Projets', 'Subject: in projets\r\n\r\nx\r\n');
    const dir = join(server.storage.dataDir, 'mbsync');
    const maildir = join(dir, 'Mail');
    mkdirSync(maildir, { recursive: true });
    const rc = join(dir, 'mbsyncrc');
    writeFileSync(
      rc,
      [
        'IMAPAccount bastide',
        'Host 127.0.0.1',
        `Port ${port}`,
        'User syncuser',
        `Pass "${pw}"`,
        'SSLType None',
        'AuthMechs LOGIN',
        '',
        'IMAPStore remote',
        'Account bastide',
        '',
        'MaildirStore local',
        `Path ${maildir}/`,
        `Inbox ${maildir}/INBOX`,
        'SubFolders Verbatim',
        '',
        'Channel bastide',
        'Far :remote:',
        'Near :local:',
        'Patterns INBOX Projets',
        'Create Both',
        'Expunge Both',
        'SyncState *',
        'Sync All',
        '',
      ].join('\n'),
    );
    const sync = async (): Promise<string> => {
      try {
        const r = await run('mbsync', ['-c', rc, '-a'], { timeout: 60000 });
        return r.stdout + r.stderr;
      } catch (e) {
        const err = e as { stdout?: string; stderr?: string };
        assert.fail(`mbsync failed:\n${err.stdout ?? ''}\n${err.stderr ?? String(e)}`);
      }
    };
    const files = (box: string): string[] => ['cur', 'new'].flatMap((d) => (existsSync(join(maildir, box, d)) ? readdirSync(join(maildir, box, d)).map((f) => join(maildir, box, d, f)) : []));
    try {
      await sync();
      assert.equal(files('INBOX').length, 5, 'every server message reached the Maildir');
      assert.equal(files('Projets').length, 1);
      const subjects = files('INBOX').map((f) => /Subject: (.*)\r?\n/.exec(readFileSync(f, 'utf8'))?.[1]).sort();
      assert.deepEqual(subjects, ['server 1', 'server 2', 'server 3', 'server 4', 'server 5']);
      // Seen flags became the Maildir S flag.
      assert.equal(files('INBOX').filter((f) => /:2,[A-Z]*S/.test(f)).length, 3);
      // Local changes: a new message, a flag, a deletion.
      writeFileSync(join(maildir, 'INBOX', 'new', `${Date.now()}.local.host`), 'Message-ID: <local-1@example.org>\r\nSubject: from maildir\r\n\r\nlocal\r\n');
      const unseen = files('INBOX').find((f) => !/:2,[A-Z]*S/.test(f))!;
      const { renameSync, unlinkSync } = await import('node:fs');
      renameSync(unseen, unseen.replace(/:2,([A-Z]*)$/, (_m, fl: string) => `:2,${[...fl, 'F'].sort().join('')}`));
      const victim = files('INBOX').find((f) => readFileSync(f, 'utf8').includes('server 5'))!;
      unlinkSync(victim);
      await sync();
      await flow.mailboxOpen('INBOX');
      const server1 = [];
      for await (const m of flow.fetch('1:*', { envelope: true, flags: true })) server1.push(m);
      const subjectsOnServer = server1.map((m) => m.envelope?.subject).sort();
      assert.deepEqual(subjectsOnServer, ['from maildir', 'server 1', 'server 2', 'server 3', 'server 4'], 'the local message arrived once, the deleted one is gone');
      assert.equal(server1.filter((m) => m.flags?.has('\\Flagged')).length, 1, 'the local flag reached the server');
      // A third sync changes nothing and duplicates nothing.
      await sync();
      assert.equal(files('INBOX').length, 5);
      const again = [];
      for await (const m of flow.fetch('1:*', { uid: true })) again.push(m.uid);
      assert.equal(again.length, 5);
    } finally {
      await flow.logout();
    }
  });
});
