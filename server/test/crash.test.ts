import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { openDb } from '../src/platform/db/index.js';
import { AuditLog } from '../src/platform/audit.js';
import { tempDir } from './helpers/db.js';
import { ApiClient } from './helpers/server.js';
import { REPO_ROOT } from './helpers/cli.js';

/**
 * Crash safety on SQLite: a real server process is killed with SIGKILL while it creates users; after a
 * restart on the same data folder, every user whose creation was answered 201 exists (with its audit
 * entry), the audit chain verifies and the database passes its integrity check.
 */
const FIXTURE = fileURLToPath(new URL('./fixtures/crash-server.ts', import.meta.url));
const ADMIN_PASSWORD = 'Crash-Boss-Pass-4242';
const dataDir = tempDir('bastide-crash-');
const children: ChildProcess[] = [];

after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function startServer(): Promise<{ child: ChildProcess; url: string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BASTIDE_') && k !== 'DATABASE_URL' && k !== 'NODE_TEST_CONTEXT') env[k] = v;
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    cwd: REPO_ROOT,
    env: { ...env, NODE_ENV: 'test', BASTIDE_DATA: dataDir, CRASH_ADMIN_PASSWORD: ADMIN_PASSWORD },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 30_000);
    lines.once('line', (line) => {
      clearTimeout(t);
      resolve((JSON.parse(line) as { url: string }).url);
    });
    void exited.then((e) => reject(new Error(`server exited early (${e.code ?? e.signal}): ${stderr}`)));
  });
  return { child, url, exited };
}

test('kill -9 while creating users: every answered creation survives, the audit chain and the database are intact', async () => {
  const first = await startServer();
  const admin = new ApiClient(first.url);
  await admin.login('admin', ADMIN_PASSWORD);

  const created = new Map<string, string>(); // login → id, for every 201
  const unknown = new Set<string>(); // in flight when the process died
  const KILL_AFTER = 12;
  let next = 0;
  let killed = false;
  const worker = async (): Promise<void> => {
    while (!killed) {
      const login = `crash${next++}`;
      try {
        const r = await admin.post('/api/admin/users', { login, displayName: `Crash ${login}`, email: `${login}@example.org` });
        if (r.status === 201) {
          created.set(login, r.json.user.id);
          if (created.size >= KILL_AFTER && !killed) {
            killed = true;
            first.child.kill('SIGKILL');
          }
        } else if (!killed) {
          throw new Error(`${login}: ${r.status} ${JSON.stringify(r.json)}`);
        }
      } catch (e) {
        if (!killed) throw e;
        unknown.add(login);
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  const exit = await first.exited;
  assert.equal(exit.signal, 'SIGKILL');
  assert.ok(created.size >= KILL_AFTER, `${created.size} users created before the kill`);

  // Restart on the same folder.
  const second = await startServer();
  try {
    const again = new ApiClient(second.url);
    await again.login('admin', ADMIN_PASSWORD);
    assert.equal((await fetch(`${second.url}/readyz`)).status, 200);
    const list = await again.get('/api/admin/users?limit=200');
    assert.equal(list.status, 200);
    const byLogin = new Map<string, string>(list.json.items.map((u: any) => [u.login, u.id]));
    for (const [login, id] of created) assert.equal(byLogin.get(login), id, `${login} was answered 201 and must exist`);
    // Nothing exists that was never asked for; in-flight ones may or may not.
    for (const login of byLogin.keys()) assert.ok(login === 'admin' || created.has(login) || unknown.has(login), `unexpected ${login}`);
    const verify = await again.get('/api/admin/audit/verify');
    assert.equal(verify.json.ok, true, JSON.stringify(verify.json));
    // Each user exists with its audit entry (same transaction): never one without the other.
    const audit = await again.get('/api/admin/audit?action=identity.user.created&limit=200');
    const audited = new Set(audit.json.items.map((e: any) => e.targetId));
    for (const id of byLogin.values()) assert.ok(audited.has(id), `user ${id} has its audit entry`);
    assert.equal(audited.size, byLogin.size);
    // The restarted server works: it can create again.
    assert.equal((await again.post('/api/admin/users', { login: 'after-restart', displayName: 'After' })).status, 201);
  } finally {
    second.child.kill('SIGTERM');
    const e = await second.exited;
    assert.equal(e.code, 0, 'graceful stop');
  }

  // The database file itself is sound.
  const db = openDb({ dataDir });
  try {
    const check = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(db.db);
    assert.deepEqual(check.rows, [{ integrity_check: 'ok' }]);
    const fk = await sql`pragma foreign_key_check`.execute(db.db);
    assert.deepEqual(fk.rows, []);
    const v = await new AuditLog(db.db, 'sqlite', () => Date.now()).verify();
    assert.equal(v.ok, true);
    // Events written with the users were all published after the restart (none stuck in the outbox).
    const pending = await db.db.selectFrom('outbox').select('seq').where('published_at', 'is', null).execute();
    assert.equal(pending.length, 0);
  } finally {
    await db.close();
  }
});
