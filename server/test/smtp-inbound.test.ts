import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, makeUser, type TestServer } from './helpers/server.js';
import { SmtpWire } from './helpers/smtp.js';
import { addAddress, addDomain } from '../src/modules/mail/domains.js';
import { mailRuntime, nullResolver } from '../src/modules/mail/runtime.js';
import { mailStore, type MailCtx } from '../src/modules/mail/store.js';
import { createGroup, setGroupMember } from '../src/modules/identity/commands/groups.js';

/**
 * Inbound SMTP from raw wire transcripts: extensions, pipelining, RCPT checks, 8-bit headers, bad syntax,
 * unknown commands, overlong lines, size limits, Authentication-Results, rate limit; the server stays up.
 */

const SYSTEM = { kind: 'system' } as const;

describe('inbound SMTP', () => {
  let srv: TestServer;
  let port = 0;
  let paul = '';
  let sys: MailCtx;

  before(async () => {
    srv = await startTestServer({ config: { smtpPort: 0, mailMaxMessageBytes: 64 * 1024, mailHostname: 'mx.bastide.test' } });
    mailRuntime(srv.bastide.platform).resolver = nullResolver;
    port = mailRuntime(srv.bastide.platform).listening.smtp!;
    sys = { platform: srv.bastide.platform, actor: SYSTEM };
    await addDomain(sys, 'bastide.test');
    paul = (await makeUser(srv, 'paul')).id;
    const marie = await makeUser(srv, 'marie');
    const g = (await createGroup(sys, { name: 'team' })).id;
    await setGroupMember(sys, g, paul, true);
    await setGroupMember(sys, g, marie.id, true);
    await addAddress(sys, { address: 'team@bastide.test', targetType: 'group', targetId: g });
    await addAddress(sys, { address: 'p.martin@bastide.test', targetType: 'user', targetId: paul });
  });
  after(() => srv.close());

  const inbox = async (userId: string) => {
    const box = await mailStore.specialMailbox(sys, { type: 'user', id: userId }, '\\Inbox');
    return mailStore.fetch(sys, box.id, 'all');
  };

  test('greeting and EHLO extensions', async () => {
    const c = await SmtpWire.open(port);
    assert.match(await c.reply(), /^220 mx\.bastide\.test .*ESMTP/);
    const ehlo = await c.cmd('EHLO client.example.org');
    for (const ext of ['STARTTLS', 'SIZE 65536', '8BITMIME', 'SMTPUTF8', 'PIPELINING', 'ENHANCEDSTATUSCODES']) assert.ok(ehlo.includes(ext), `${ext} in ${ehlo}`);
    assert.ok(!ehlo.includes('AUTH'), 'no AUTH on the inbound port');
    assert.match(await c.cmd('QUIT'), /^221/);
    c.close();
  });

  test('pipelined transaction: unknown recipient refused at RCPT, 8-bit headers, stored with Authentication-Results', async () => {
    const c = await SmtpWire.open(port);
    await c.reply();
    await c.cmd('EHLO client.example.org');
    c.write('MAIL FROM:<sender@example.org> BODY=8BITMIME SMTPUTF8\r\nRCPT TO:<paul@bastide.test>\r\nRCPT TO:<nobody@bastide.test>\r\nRCPT TO:<P.Martin@Bastide.TEST>\r\nDATA\r\n');
    assert.match(await c.reply(), /^250 2\.1\.0/);
    assert.match(await c.reply(), /^250 2\.1\.5/);
    assert.match(await c.reply(), /^550 5\.1\.1 /);
    assert.match(await c.reply(), /^250 2\.1\.5/);
    assert.match(await c.reply(), /^354/);
    c.write(
      Buffer.from(
        'Authentication-Results: mx.bastide.test;\r\n dkim=pass header.d=forged.example\r\nAuthentication-Results: other.example; spf=pass\r\nFrom: Zoé <sender@example.org>\r\nTo: paul@bastide.test\r\nSubject: Réunion à 8 h — café\r\nMessage-ID: <w1@example.org>\r\n\r\nCorps en UTF-8 : été.\r\n..leading dot\r\n.\r\n',
        'utf8',
      ),
    );
    assert.match(await c.reply(), /^250 2\.[06]\.0 OK/);
    assert.match(await c.cmd('QUIT'), /^221/);
    c.close();
    const msgs = await inbox(paul);
    const m = msgs.find((x) => x.messageId === 'w1@example.org');
    assert.ok(m, 'delivered once to paul (two addresses of the same user)');
    assert.equal(msgs.filter((x) => x.messageId === 'w1@example.org').length, 1);
    assert.equal(m.subject, 'Réunion à 8 h — café');
    const box = await mailStore.specialMailbox(sys, { type: 'user', id: paul }, '\\Inbox');
    const raw = (await mailStore.readRaw(sys, box.id, m.uid)).toString('utf8');
    assert.match(raw, /^Return-Path: <sender@example\.org>\r\n/);
    assert.match(raw, /Authentication-Results: mx\.bastide\.test;/);
    assert.match(raw, /spf=(none|temperror)/);
    assert.match(raw, /Received: from client\.example\.org \(\[127\.0\.0\.1\]\)/);
    assert.match(raw, /\r\n\.leading dot\r\n/, 'dot-stuffing undone');
    assert.ok(!raw.includes('forged.example'), 'results forged in our name are removed');
    assert.match(raw, /Authentication-Results: other\.example; spf=pass/, 'other hosts\' results are kept');
  });

  test('a distribution list delivers one copy to each member', async () => {
    const c = await SmtpWire.open(port);
    await c.reply();
    await c.cmd('EHLO client.example.org');
    assert.match(await c.cmd('MAIL FROM:<>'), /^250/);
    assert.match(await c.cmd('RCPT TO:<team@bastide.test>'), /^250/);
    assert.match(await c.cmd('DATA'), /^354/);
    assert.match(await c.cmd('Subject: to the team\r\nMessage-ID: <team1@example.org>\r\n\r\nhello team\r\n.'), /^250/);
    c.close();
    const marie = await srv.bastide.platform.db.selectFrom('users').select('id').where('login', '=', 'marie').executeTakeFirstOrThrow();
    assert.equal((await inbox(paul)).filter((m) => m.messageId === 'team1@example.org').length, 1);
    assert.equal((await inbox(marie.id)).filter((m) => m.messageId === 'team1@example.org').length, 1);
  });

  test('bad syntax, unknown commands, wrong order, relay attempts and overlong lines: right codes, server stays up', async () => {
    const c = await SmtpWire.open(port);
    await c.reply();
    assert.match(await c.cmd('FOO bar'), /^50[02] /);
    assert.match(await c.cmd('EHLO client.example.org'), /^250/);
    assert.match(await c.cmd('RCPT TO:<paul@bastide.test>'), /^503 /, 'RCPT before MAIL');
    assert.match(await c.cmd('MAIL FROM:<<bad@@>'), /^501 /);
    assert.match(await c.cmd('MAIL FROM:<sender@example.org>'), /^250/);
    assert.match(await c.cmd('RCPT TO:<someone@gmail.example>'), /^550 .*[Rr]elay/);
    assert.match(await c.cmd('RCPT TO:not-an-address'), /^501 /);
    assert.match(await c.cmd('DATA'), /^503 /, 'DATA without a valid recipient');
    assert.match(await c.cmd('RSET'), /^250/);
    assert.match(await c.cmd('NOOP'), /^250/);
    // An overlong command line ends the session (smtp-server answers 421 and closes).
    assert.match(await c.cmd(`NOOP ${'x'.repeat(5000)}`), /^(500|421) /);
    c.close();
    const d = await SmtpWire.open(port);
    assert.match(await d.reply(), /^220/);
    d.close();
  });

  test('size: SIZE parameter over the limit → 552; a message over the limit → 552 and nothing stored', async () => {
    const before = (await inbox(paul)).length;
    const c = await SmtpWire.open(port);
    await c.reply();
    await c.cmd('EHLO client.example.org');
    assert.match(await c.cmd('MAIL FROM:<sender@example.org> SIZE=10000000'), /^552 /);
    assert.match(await c.cmd('MAIL FROM:<sender@example.org>'), /^250/);
    assert.match(await c.cmd('RCPT TO:<paul@bastide.test>'), /^250/);
    assert.match(await c.cmd('DATA'), /^354/);
    const line = `${'y'.repeat(998)}\r\n`;
    c.write(`Subject: huge\r\n\r\n${line.repeat(100)}.\r\n`);
    assert.match(await c.reply(), /^552 /);
    assert.match(await c.cmd('NOOP'), /^250/);
    c.close();
    assert.equal((await inbox(paul)).length, before);
  });

  test('STARTTLS upgrades the inbound connection', async () => {
    const { connect } = await import('node:tls');
    const c = await SmtpWire.open(port);
    await c.reply();
    await c.cmd('EHLO client.example.org');
    assert.match(await c.cmd('STARTTLS'), /^220/);
    const secure = connect({ socket: c.socket, rejectUnauthorized: false, servername: 'mx.bastide.test' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    const cert = secure.getPeerX509Certificate();
    assert.ok(cert?.subjectAltName?.includes('DNS:mx.bastide.test') && cert.subjectAltName.includes('DNS:localhost'), cert?.subjectAltName);
    let buf = '';
    secure.on('data', (d: Buffer) => (buf += d.toString()));
    secure.write('EHLO client.example.org\r\n');
    for (let i = 0; i < 50 && !/^250 /m.test(buf); i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(buf, /^250[ -]/m);
    assert.ok(!buf.includes('STARTTLS'));
    secure.destroy();
  });
});

describe('inbound SMTP rate limit', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ config: { smtpPort: 0, smtpRateLimitPerMinute: 2 } });
    mailRuntime(srv.bastide.platform).resolver = nullResolver;
    await addDomain({ platform: srv.bastide.platform, actor: SYSTEM }, 'rate.test');
    await makeUser(srv, 'rita');
  });
  after(() => srv.close());

  test('a client over its per-minute limit gets 421 at MAIL', async () => {
    const c = await SmtpWire.open(mailRuntime(srv.bastide.platform).listening.smtp!);
    await c.reply();
    await c.cmd('EHLO client.example.org');
    for (let i = 0; i < 2; i++) {
      assert.match(await c.cmd('MAIL FROM:<a@example.org>'), /^250/);
      assert.match(await c.cmd('RSET'), /^250/);
    }
    assert.match(await c.cmd('MAIL FROM:<a@example.org>'), /^421 /);
    c.close();
  });
});
