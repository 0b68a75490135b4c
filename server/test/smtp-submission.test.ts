import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { sql } from 'kysely';
import { dkimVerify } from 'mailauth';
import { dnsRecords } from '../src/modules/mail/domains.js';
import { startTestServer, makeUser, type TestServer } from './helpers/server.js';
import { SmtpWire } from './helpers/smtp.js';
import { addDomain } from '../src/modules/mail/domains.js';
import { mailRuntime, nullResolver, type DnsResolver } from '../src/modules/mail/runtime.js';
import { mailStore, type MailCtx } from '../src/modules/mail/store.js';
import { createAppPassword } from '../src/modules/identity/commands/credentials.js';

/**
 * Submission (STARTTLS port and implicit-TLS port) with app passwords, sender checks, the Sent copy,
 * local delivery, and the outbound queue delivering to a second smtp-server on loopback acting as the
 * remote MX (DNS injected): DKIM signature, permanent failure → bounce, temporary failure → retry, expiry.
 */

const SYSTEM = { kind: 'system' } as const;

interface Received {
  from: string;
  to: string[];
  raw: string;
}

/** A remote MX: accepts everything except recipients starting with "reject" (550) or "later" (451). */
async function remoteMx(): Promise<{ port: number; got: Received[]; close(): Promise<void> }> {
  const got: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disableReverseLookup: true,
    logger: false,
    onRcptTo(address, _s, cb) {
      if (address.address.startsWith('reject')) return cb(Object.assign(new Error('5.1.1 No such user'), { responseCode: 550 }));
      if (address.address.startsWith('later')) return cb(Object.assign(new Error('4.2.0 Try later'), { responseCode: 451 }));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        got.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString() });
        cb();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.server.address();
  return { port: typeof addr === 'object' && addr ? addr.port : 0, got, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('submission and outbound delivery', () => {
  let srv: TestServer;
  let mx: Awaited<ReturnType<typeof remoteMx>>;
  let sys: MailCtx;
  let paul = '';
  let mailPassword = '';
  let davPassword = '';
  let ports: { submission: number; submissions: number };

  before(async () => {
    srv = await startTestServer({ config: { submissionPort: 0, submissionsPort: 0, mailHostname: 'mail.bastide.test' } });
    const platform = srv.bastide.platform;
    sys = { platform, actor: SYSTEM };
    mx = await remoteMx();
    const rt = mailRuntime(platform);
    const resolver: DnsResolver = async (name, type) => {
      if (type === 'MX' && name === 'remote.test') return [{ exchange: 'mx.remote.test', priority: 10 }];
      if (type === 'MX' && name === 'nomx.test') throw Object.assign(new Error('ENODATA'), { code: 'ENODATA' });
      if (type === 'MX' && name === 'nullmx.test') return [{ exchange: '', priority: 0 }];
      return nullResolver(name, type);
    };
    rt.resolver = resolver;
    rt.hosts.set('mx.remote.test', '127.0.0.1');
    rt.hosts.set('nomx.test', '127.0.0.1');
    rt.outboundPort = mx.port;
    ports = { submission: rt.listening.submission!, submissions: rt.listening.submissions! };
    await addDomain(sys, 'bastide.test');
    paul = (await makeUser(srv, 'paul')).id;
    await makeUser(srv, 'marie');
    mailPassword = (await createAppPassword(sys, { userId: paul, name: 'thunderbird', scopes: ['mail'] })).password;
    davPassword = (await createAppPassword(sys, { userId: paul, name: 'dav', scopes: ['dav'] })).password;
  });
  after(async () => {
    await srv.close();
    await mx.close();
  });

  const transport = (opts: { secure?: boolean; user?: string; pass?: string } = {}) =>
    nodemailer.createTransport({
      host: '127.0.0.1',
      port: opts.secure ? ports.submissions : ports.submission,
      secure: opts.secure ?? false,
      requireTLS: !opts.secure,
      auth: { user: opts.user ?? 'paul', pass: opts.pass ?? mailPassword },
      tls: { rejectUnauthorized: false },
    });

  const mailbox = async (userId: string, use: '\\Inbox' | '\\Sent') => {
    const box = await mailStore.specialMailbox(sys, { type: 'user', id: userId }, use);
    return { box, msgs: await mailStore.fetch(sys, box.id, 'all') };
  };

  /** Makes every queued job due (retries wait for their backoff otherwise) and waits until each ran once. */
  const runJobs = async (): Promise<void> => {
    const db = srv.bastide.platform.db;
    const due = await db.selectFrom('jobs').select(['id', 'attempts']).where('status', '=', 'queued').execute();
    await sql`update jobs set run_at = 0 where status = 'queued'`.execute(db);
    const deadline = Date.now() + 15_000;
    for (;;) {
      await srv.bastide.platform.jobs.runDue();
      const rows = await db.selectFrom('jobs').select(['id', 'attempts', 'status']).where('id', 'in', due.length ? due.map((d) => d.id) : ['-']).execute();
      const pending = rows.filter((r) => r.status === 'running' || (r.status === 'queued' && Number(r.attempts) === Number(due.find((d) => d.id === r.id)!.attempts)));
      if (pending.length === 0) return;
      if (Date.now() > deadline) throw new Error(`jobs did not run: ${JSON.stringify(pending)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  test('AUTH is refused before STARTTLS on the submission port', async () => {
    const c = await SmtpWire.open(ports.submission);
    await c.reply();
    const ehlo = await c.cmd('EHLO client');
    assert.ok(ehlo.includes('STARTTLS'));
    assert.match(await c.cmd(`AUTH PLAIN ${Buffer.from(`\0paul\0${mailPassword}`).toString('base64')}`), /^5\d\d /);
    assert.match(await c.cmd('MAIL FROM:<paul@bastide.test>'), /^530 /);
    c.close();
  });

  test('wrong passwords, an app password without the mail scope and a foreign sender are refused', async () => {
    await assert.rejects(transport({ pass: 'wrong-password' }).sendMail({ from: 'paul@bastide.test', to: 'marie@bastide.test', text: 'x' }), (e: { responseCode?: number }) => e.responseCode === 535);
    await assert.rejects(transport({ pass: davPassword }).sendMail({ from: 'paul@bastide.test', to: 'marie@bastide.test', text: 'x' }), (e: { responseCode?: number }) => e.responseCode === 535);
    await assert.rejects(transport().sendMail({ from: 'marie@bastide.test', to: 'marie@bastide.test', text: 'x' }), (e: { responseCode?: number }) => e.responseCode === 553);
    // Envelope sender right, From header someone else's.
    await assert.rejects(
      transport().sendMail({ envelope: { from: 'paul@bastide.test', to: ['marie@bastide.test'] }, raw: 'From: marie@bastide.test\r\nSubject: spoof\r\n\r\nx\r\n' }),
      (e: { responseCode?: number }) => e.responseCode === 553,
    );
    await assert.rejects(transport().sendMail({ from: 'paul@bastide.test', to: 'ghost@bastide.test', text: 'x' }), (e: { responseCode?: number }) => e.responseCode === 550);
  });

  test('local and remote recipients: Sent copy, local delivery, queued remote copy DKIM-signed', async () => {
    const info = await transport().sendMail({
      from: 'Paul <paul@bastide.test>',
      to: ['marie@bastide.test', 'friend@remote.test'],
      subject: 'Bonjour à tous',
      text: 'Un message.',
      messageId: '<sub1@bastide.test>',
    });
    assert.deepEqual(info.accepted.sort(), ['friend@remote.test', 'marie@bastide.test']);
    const marie = await srv.bastide.platform.db.selectFrom('users').select('id').where('login', '=', 'marie').executeTakeFirstOrThrow();
    const inMarie = (await mailbox(marie.id, '\\Inbox')).msgs.find((m) => m.messageId === 'sub1@bastide.test');
    assert.ok(inMarie, 'delivered locally at once');
    const sent = (await mailbox(paul, '\\Sent')).msgs.find((m) => m.messageId === 'sub1@bastide.test');
    assert.ok(sent && sent.flags.includes('\\Seen'), 'Sent copy, seen');
    assert.equal(sent.blobSha256, inMarie.blobSha256, 'stored once');
    assert.equal(mx.got.length, 0, 'remote copy waits for the queue');
    await runJobs();
    assert.equal(mx.got.length, 1);
    assert.deepEqual(mx.got[0]!.to, ['friend@remote.test']);
    assert.equal(mx.got[0]!.from, 'paul@bastide.test');
    assert.match(mx.got[0]!.raw, /^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=bastide\.test;/);
    assert.match(mx.got[0]!.raw, /s=bastide;/);
    // The signature verifies against the published DNS record.
    const domain = await srv.bastide.platform.db.selectFrom('mail_domains').selectAll().executeTakeFirstOrThrow();
    const txt = dnsRecords(domain, 'mail.bastide.test').find((r) => r.name === 'bastide._domainkey.bastide.test.')!.value;
    const verified = await dkimVerify(Buffer.from(mx.got[0]!.raw), {
      resolver: async (name: string, type: string) => {
        if (type === 'TXT' && name === 'bastide._domainkey.bastide.test') return [[txt]];
        throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
      },
    });
    assert.equal(verified.results[0]?.status.result, 'pass', JSON.stringify(verified.results[0]?.status));
    const row = await srv.bastide.platform.db.selectFrom('mail_outbound').selectAll().executeTakeFirstOrThrow();
    assert.equal(row.status, 'sent');
    await runJobs();
    assert.equal(mx.got.length, 1, 'never sent twice');
  });

  test('implicit TLS port; a user may log in with a mail address', async () => {
    await transport({ secure: true, user: 'paul@bastide.test' }).sendMail({ from: 'paul@bastide.test', to: 'marie@bastide.test', subject: 'via 465', text: 'x', messageId: '<tls465@bastide.test>' });
    assert.ok((await mailbox(paul, '\\Sent')).msgs.some((m) => m.messageId === 'tls465@bastide.test'));
  });

  test('permanent failure → bounce in the sender INBOX; temporary failure → retried, then bounced after 5 days', async () => {
    mx.got.length = 0;
    await transport().sendMail({ from: 'paul@bastide.test', to: ['reject-me@remote.test', 'ok@remote.test'], subject: 'Partly wrong', text: 'x', messageId: '<b1@bastide.test>' });
    await runJobs();
    assert.equal(mx.got.length, 1);
    assert.deepEqual(mx.got[0]!.to, ['ok@remote.test']);
    let inbox = (await mailbox(paul, '\\Inbox')).msgs;
    const dsn = inbox.find((m) => m.subject === 'Undelivered Mail Returned to Sender');
    assert.ok(dsn, 'bounce delivered');
    assert.equal(dsn.bodystructure.subtype, 'report');
    const raw = (await mailStore.readRaw(sys, (await mailbox(paul, '\\Inbox')).box.id, dsn.uid)).toString();
    assert.match(raw, /Final-Recipient: rfc822; reject-me@remote\.test/);
    assert.match(raw, /Status: 5\.1\.1/);
    assert.match(raw, /Subject: Partly wrong/);

    await transport().sendMail({ from: 'paul@bastide.test', to: ['later@remote.test'], subject: 'Slow', text: 'x', messageId: '<slow@bastide.test>' });
    await runJobs();
    const slow = await srv.bastide.platform.db.selectFrom('mail_outbound').selectAll().where('status', '=', 'queued').executeTakeFirstOrThrow();
    assert.equal(Number(slow.attempts), 1);
    assert.match(slow.last_error ?? '', /Try later/);
    const job = await srv.bastide.platform.db.selectFrom('jobs').selectAll().where('name', '=', 'mail.outbound').where('status', '=', 'queued').executeTakeFirstOrThrow();
    assert.ok(Number(job.run_at) > Date.now() + 30_000, 'retry waits for its backoff');
    await runJobs();
    assert.equal(Number((await srv.bastide.platform.db.selectFrom('mail_outbound').select('attempts').where('id', '=', slow.id).executeTakeFirstOrThrow()).attempts), 2);
    // Five days later the recipient fails for good.
    await srv.bastide.platform.db.updateTable('mail_outbound').set({ queued_at: Date.now() - 6 * 86_400_000 }).where('id', '=', slow.id).execute();
    await runJobs();
    assert.equal((await srv.bastide.platform.db.selectFrom('mail_outbound').select('status').where('id', '=', slow.id).executeTakeFirstOrThrow()).status, 'failed');
    inbox = (await mailbox(paul, '\\Inbox')).msgs;
    assert.equal(inbox.filter((m) => m.subject === 'Undelivered Mail Returned to Sender').length, 2);
  });

  test('BASTIDE_SMTP_RELAY sends everything through the smarthost, with its login', async () => {
    const got: Array<{ user: string; to: string[] }> = [];
    const relay = new SMTPServer({
      disableReverseLookup: true,
      logger: false,
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      onAuth(auth, _s, cb) {
        if (auth.username === 'relay-user' && auth.password === 'relay-pass') return cb(null, { user: auth.username });
        cb(Object.assign(new Error('bad'), { responseCode: 535 }));
      },
      onData(stream, session, cb) {
        stream.resume();
        stream.on('end', () => {
          got.push({ user: String(session.user), to: session.envelope.rcptTo.map((r) => r.address) });
          cb();
        });
      },
    });
    relay.on('error', () => undefined);
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const addr = relay.server.address();
    const cfg = srv.bastide.platform.config as { smtpRelay?: string };
    cfg.smtpRelay = `smtp://relay-user:relay-pass@127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    try {
      mx.got.length = 0;
      await transport().sendMail({ from: 'paul@bastide.test', to: ['someone@anywhere.example', 'friend@remote.test'], subject: 'via relay', text: 'x' });
      await runJobs();
      assert.deepEqual(got, [{ user: 'relay-user', to: ['someone@anywhere.example', 'friend@remote.test'] }]);
      assert.equal(mx.got.length, 0, 'nothing went to the MX directly');
    } finally {
      delete cfg.smtpRelay;
      await new Promise<void>((r) => relay.close(() => r()));
    }
  });

  test('a null MX fails at once; a domain without MX is reached on its address', async () => {
    mx.got.length = 0;
    await transport().sendMail({ from: 'paul@bastide.test', to: ['x@nullmx.test', 'y@nomx.test'], subject: 'MX cases', text: 'x' });
    await runJobs();
    assert.deepEqual(mx.got.map((g) => g.to), [['y@nomx.test']]);
    const row = await srv.bastide.platform.db.selectFrom('mail_outbound').selectAll().orderBy('queued_at', 'desc').executeTakeFirstOrThrow();
    const r = JSON.parse(row.recipients) as Array<{ address: string; status: string }>;
    assert.deepEqual(r.map((x) => [x.address, x.status]), [
      ['x@nullmx.test', 'failed'],
      ['y@nomx.test', 'sent'],
    ]);
  });
});
