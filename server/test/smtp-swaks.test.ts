import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startTestServer, makeUser, type TestServer } from './helpers/server.js';
import { addDomain } from '../src/modules/mail/domains.js';
import { mailRuntime, nullResolver } from '../src/modules/mail/runtime.js';
import { mailStore, type MailCtx } from '../src/modules/mail/store.js';
import { createAppPassword } from '../src/modules/identity/commands/credentials.js';

/**
 * A real client: swaks (Debian) submits with AUTH over STARTTLS, and delivers inbound.
 * Skipped with a notice when swaks is missing, unless BASTIDE_TEST_MAIL=required (then it fails).
 */
const SWAKS = '/usr/bin/swaks';
const required = process.env.BASTIDE_TEST_MAIL === 'required';
const present = existsSync(SWAKS);
if (!present && !required) console.log('# notice: /usr/bin/swaks not found (apt install swaks); swaks tests skipped');

function swaks(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(SWAKS, ['--hide-informational', '--timeout', '20', ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 99) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

describe('swaks', { skip: !present && !required }, () => {
  let srv: TestServer;
  let sys: MailCtx;
  let paul = '';
  let marie = '';
  let password = '';
  let ports: { smtp: number; submission: number };

  before(async () => {
    if (!present) throw new Error(`BASTIDE_TEST_MAIL=required but ${SWAKS} is missing`);
    srv = await startTestServer({ config: { smtpPort: 0, submissionPort: 0, mailHostname: 'mail.bastide.test' } });
    const rt = mailRuntime(srv.bastide.platform);
    rt.resolver = nullResolver;
    ports = { smtp: rt.listening.smtp!, submission: rt.listening.submission! };
    sys = { platform: srv.bastide.platform, actor: { kind: 'system' } };
    await addDomain(sys, 'bastide.test');
    paul = (await makeUser(srv, 'paul')).id;
    marie = (await makeUser(srv, 'marie')).id;
    password = (await createAppPassword(sys, { userId: paul, name: 'swaks', scopes: ['mail'] })).password;
  });
  after(() => srv?.close());

  const inbox = async (userId: string, use: '\\Inbox' | '\\Sent' = '\\Inbox') => {
    const box = await mailStore.specialMailbox(sys, { type: 'user', id: userId }, use);
    return mailStore.fetch(sys, box.id, 'all');
  };

  test('submits with AUTH PLAIN and LOGIN over STARTTLS', async () => {
    for (const method of ['PLAIN', 'LOGIN']) {
      const r = await swaks([
        '--server', '127.0.0.1', '--port', String(ports.submission), '--tls', '--auth', method, '--auth-user', 'paul', '--auth-password', password,
        '--from', 'paul@bastide.test', '--to', 'marie@bastide.test', '--header', `Subject: swaks ${method}`, '--header', 'From: paul@bastide.test', '--body', 'sent by swaks',
      ]);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /STARTTLS/);
      assert.match(r.out, /235 /);
    }
    const got = (await inbox(marie)).filter((m) => m.subject.startsWith('swaks '));
    assert.deepEqual(got.map((m) => m.subject).sort(), ['swaks LOGIN', 'swaks PLAIN']);
    assert.equal((await inbox(paul, '\\Sent')).filter((m) => m.subject.startsWith('swaks ')).length, 2);
  });

  test('a wrong password and AUTH without TLS fail', async () => {
    const wrong = await swaks(['--server', '127.0.0.1', '--port', String(ports.submission), '--tls', '--auth', 'PLAIN', '--auth-user', 'paul', '--auth-password', 'nope', '--from', 'paul@bastide.test', '--to', 'marie@bastide.test']);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.out, /535 /);
    const plain = await swaks(['--server', '127.0.0.1', '--port', String(ports.submission), '--auth', 'PLAIN', '--auth-user', 'paul', '--auth-password', password, '--from', 'paul@bastide.test', '--to', 'marie@bastide.test']);
    assert.notEqual(plain.code, 0);
  });

  test('delivers inbound, with and without STARTTLS; an unknown recipient is refused at RCPT', async () => {
    const a = await swaks(['--server', '127.0.0.1', '--port', String(ports.smtp), '--from', 'someone@example.org', '--to', 'paul@bastide.test', '--header', 'Subject: inbound plain', '--body', 'hello']);
    assert.equal(a.code, 0, a.out);
    const b = await swaks(['--server', '127.0.0.1', '--port', String(ports.smtp), '--tls', '--from', 'someone@example.org', '--to', 'paul@bastide.test', '--header', 'Subject: inbound tls']);
    assert.equal(b.code, 0, b.out);
    const subjects = (await inbox(paul)).map((m) => m.subject);
    assert.ok(subjects.includes('inbound plain') && subjects.includes('inbound tls'), subjects.join(', '));
    const c = await swaks(['--server', '127.0.0.1', '--port', String(ports.smtp), '--from', 'someone@example.org', '--to', 'nobody@bastide.test']);
    assert.notEqual(c.code, 0);
    assert.match(c.out, /550 5\.1\.1/);
  });
});
