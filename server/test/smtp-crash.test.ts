import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { openDb } from '../src/platform/db/index.js';
import { createTestStorage, type TestStorage } from './helpers/db.js';
import { testEngine } from './helpers/server.js';
import { REPO_ROOT } from './helpers/cli.js';
import { SmtpWire } from './helpers/smtp.js';

/**
 * Crash safety of inbound SMTP: a real server process is killed with SIGKILL during a burst of inbound
 * messages on 4 connections; after a restart on the same storage every message that got 250 is in the
 * INBOX exactly once, none is there twice, UIDs are unique, blob references are consistent, and a
 * message queued for a remote domain before the kill is delivered after the restart.
 */
const FIXTURE = fileURLToPath(new URL('./fixtures/smtp-crash-server.ts', import.meta.url));
const children: ChildProcess[] = [];
let storage: TestStorage | undefined;

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await storage?.cleanup();
});

interface Started {
  child: ChildProcess;
  smtp: number;
  submission: number;
  password: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startServer(env: Record<string, string>): Promise<Started> {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BASTIDE_') && k !== 'DATABASE_URL' && k !== 'NODE_TEST_CONTEXT') base[k] = v;
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    cwd: REPO_ROOT,
    env: { ...base, NODE_ENV: 'test', BASTIDE_DATA: storage!.dataDir, ...(storage!.databaseUrl ? { DATABASE_URL: storage!.databaseUrl } : {}), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const lines = createInterface({ input: child.stdout! });
  const info = await new Promise<{ smtp: number; submission: number; password: string }>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 60_000);
    lines.once('line', (line) => {
      clearTimeout(t);
      resolve(JSON.parse(line) as { smtp: number; submission: number; password: string });
    });
    void exited.then((e) => reject(new Error(`server exited early (${e.code ?? e.signal}): ${stderr}`)));
  });
  return { child, ...info, exited };
}

test('kill -9 during an inbound burst: every 250-acked message is stored once; a queued message is delivered after restart', { timeout: 180_000 }, async () => {
  storage = await createTestStorage(testEngine());
  // The remote MX (for the queued message), up only for the second run.
  const received: string[] = [];
  const mx = new SMTPServer({
    authOptional: true,
    disableReverseLookup: true,
    logger: false,
    onData(stream, _s, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push(Buffer.concat(chunks).toString());
        cb();
      });
    },
  });
  mx.on('error', () => undefined);
  await new Promise<void>((r) => mx.listen(0, '127.0.0.1', r));
  const mxAddr = mx.server.address();
  const mxPort = typeof mxAddr === 'object' && mxAddr ? mxAddr.port : 0;

  // First run without the jobs role: the outbound message stays queued.
  const first = await startServer({ BASTIDE_ROLES: 'web,api,realtime', CRASH_MX_PORT: String(mxPort) });
  const password = first.password;
  await nodemailer
    .createTransport({ host: '127.0.0.1', port: first.submission, secure: false, requireTLS: true, auth: { user: 'paul', pass: password }, tls: { rejectUnauthorized: false } })
    .sendMail({ from: 'paul@bastide.test', to: 'friend@remote.test', subject: 'queued before the crash', text: 'x', messageId: '<queued@bastide.test>' });

  const acked = new Set<string>();
  const inFlight = new Set<string>();
  const KILL_AFTER = 60;
  let next = 0;
  let killed = false;
  const worker = async (): Promise<void> => {
    const c = await SmtpWire.open(first.smtp);
    try {
      await c.reply();
      await c.cmd('EHLO burst.example.org');
      while (!killed) {
        const id = `crash-${next++}`;
        inFlight.add(id);
        try {
          if (!/^250/.test(await c.cmd('MAIL FROM:<burst@example.org>'))) throw new Error('MAIL refused');
          if (!/^250/.test(await c.cmd('RCPT TO:<paul@bastide.test>'))) throw new Error('RCPT refused');
          if (!/^354/.test(await c.cmd('DATA'))) throw new Error('DATA refused');
          const reply = await c.cmd(`From: burst@example.org\r\nTo: paul@bastide.test\r\nSubject: ${id}\r\nMessage-ID: <${id}@example.org>\r\n\r\n${'body line\r\n'.repeat(100)}.`);
          if (!/^250/.test(reply)) throw new Error(`DATA answered ${reply}`);
          inFlight.delete(id);
          acked.add(id);
          if (acked.size >= KILL_AFTER && !killed) {
            killed = true;
            first.child.kill('SIGKILL');
          }
        } catch (e) {
          if (!killed) throw e;
        }
      }
    } catch (e) {
      if (!killed) throw e;
    } finally {
      c.close();
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  const exit = await first.exited;
  assert.equal(exit.signal, 'SIGKILL');
  assert.ok(acked.size >= KILL_AFTER);

  // Restart with every role: the queued message goes out.
  const second = await startServer({ CRASH_MX_PORT: String(mxPort) });
  try {
    const deadline = Date.now() + 30_000;
    while (!received.some((r) => r.includes('<queued@bastide.test>')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(received.filter((r) => r.includes('<queued@bastide.test>')).length, 1, 'the queued message is delivered once after the restart');
    // The restarted server accepts mail again.
    const c = await SmtpWire.open(second.smtp);
    await c.reply();
    await c.cmd('EHLO again.example.org');
    await c.cmd('MAIL FROM:<a@example.org>');
    await c.cmd('RCPT TO:<paul@bastide.test>');
    await c.cmd('DATA');
    assert.match(await c.cmd('Subject: after\r\nMessage-ID: <after@example.org>\r\n\r\nx\r\n.'), /^250/);
    c.close();
  } finally {
    second.child.kill('SIGTERM');
    assert.equal((await second.exited).code, 0, 'graceful stop');
    await new Promise<void>((r) => mx.close(() => r()));
  }

  const db = openDb({ dataDir: storage.dataDir, databaseUrl: storage.databaseUrl });
  try {
    const rows = await db.db.selectFrom('mail_messages').innerJoin('mailboxes', 'mailboxes.id', 'mail_messages.mailbox_id').select(['mail_messages.message_id', 'mail_messages.uid', 'mailboxes.name', 'mail_messages.blob_sha256']).where('mailboxes.name', '=', 'INBOX').execute();
    const count = new Map<string, number>();
    for (const r of rows) count.set(r.message_id, (count.get(r.message_id) ?? 0) + 1);
    for (const id of acked) assert.equal(count.get(`${id}@example.org`), 1, `${id} was acknowledged with 250: stored exactly once`);
    for (const [id, n] of count) assert.equal(n, 1, `${id} stored ${n} times`);
    for (const id of count.keys()) {
      const bare = id.replace(/@example\.org$/, '');
      assert.ok(id === 'after@example.org' || acked.has(bare) || inFlight.has(bare), `unexpected ${id}`);
    }
    assert.equal(new Set(rows.map((r) => Number(r.uid))).size, rows.length, 'UIDs unique');
    // Every message's blob is referenced at least as many times as there are rows pointing at it.
    const refs = await db.db.selectFrom('blobs').select(['sha256', 'refcount']).execute();
    const refMap = new Map(refs.map((r) => [r.sha256, Number(r.refcount)]));
    for (const r of rows) assert.ok((refMap.get(r.blob_sha256) ?? 0) >= 1, 'blob referenced');
    const mb = await db.db.selectFrom('mailboxes').select(['uidnext']).where('name', '=', 'INBOX').executeTakeFirstOrThrow();
    assert.ok(Number(mb.uidnext) > Math.max(...rows.map((r) => Number(r.uid))), 'UIDNEXT above every UID');
    if (storage.engine === 'sqlite') {
      const check = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(db.db);
      assert.deepEqual(check.rows, [{ integrity_check: 'ok' }]);
    }
  } finally {
    await db.close();
  }
});
