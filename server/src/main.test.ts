import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { createTestStorage, type TestStorage } from '../test/helpers/db.js';
import { startTestServer, testEngine } from '../test/helpers/server.js';
import { assertError, basicAuth, raw } from '../test/helpers/api.js';
import { runCli, storageEnv } from '../test/helpers/cli.js';

/** The `bastide` command line, run as a child process against a real data folder (or database). */
describe('CLI', () => {
  let storage: TestStorage;
  let env: Record<string, string>;
  let bobPassword = '';
  let appPassword = '';

  before(async () => {
    storage = await createTestStorage(testEngine());
    env = storageEnv(storage);
  });
  after(() => storage.cleanup());

  const cli = (args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) =>
    runCli(args, { env: { ...env, ...(opts.env ?? {}) }, ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}) });

  /**
   * Checks through HTTP on a server over the same storage. It is stopped before the next CLI command:
   * see the note on SQLite writers from several processes in the report (deferred transactions).
   */
  async function withServer(fn: (url: string) => Promise<void>): Promise<void> {
    const srv = await startTestServer({ storage });
    try {
      await fn(srv.url);
    } finally {
      await srv.close();
    }
  }
  const login = (url: string, l: string, password: string) => raw(url, 'POST', '/api/auth/login', { json: { login: l, password } });

  test('migrate applies every migration once', async () => {
    const first = await cli(['migrate']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^applied \d+ migration\(s\):/);
    assert.match(first.stdout, /identity\/0001_identity/);
    const again = await cli(['migrate']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout.trim(), 'database is up to date');
  });

  test('usage errors exit 2: unknown command, incomplete command, no command, bad configuration', async () => {
    const [unknown, incomplete, badPort, badMany] = await Promise.all([
      cli(['frobnicate']),
      cli(['app-password', 'create', 'alice']),
      cli(['user', 'list'], { env: { BASTIDE_PORT: 'abc' } }),
      cli(['doctor'], { env: { BASTIDE_PORT: '70000', DATABASE_URL: 'mysql://x' } }),
    ]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown or incomplete command: frobnicate/);
    assert.match(unknown.stderr, /Usage: bastide/);
    assert.equal(incomplete.code, 2);
    assert.match(incomplete.stderr, /unknown or incomplete command: app-password create alice/);
    assert.equal(badPort.code, 2);
    assert.match(badPort.stderr, /BASTIDE_PORT/);
    assert.match(badPort.stderr, /abc/);
    assert.equal(badPort.stdout, '');
    assert.equal(badMany.code, 2);
    assert.match(badMany.stderr, /BASTIDE_PORT/);
    assert.match(badMany.stderr, /DATABASE_URL/);
  });

  test('user add: with a password on stdin, and with a generated one', async () => {
    // Writers run one at a time (two CLI processes writing to one SQLite file at once: see the report).
    const alice = await cli(['user', 'add', 'alice', '--admin', '--name', 'Alice Admin', '--email', 'alice@example.org', '--password-stdin'], {
      stdin: 'Strong-Pass-For-A-9\n',
    });
    assert.equal(alice.code, 0, alice.stderr);
    assert.equal(alice.stdout, 'created administrator alice\n');
    const bob = await cli(['user', 'add', 'bob']);
    assert.equal(bob.code, 0, bob.stderr);
    const m = /^created user bob\ntemporary password: (\S+)\n$/.exec(bob.stdout);
    assert.ok(m, bob.stdout);
    bobPassword = m[1]!;
    // Refused before any write: these may run together.
    const [dup, weak] = await Promise.all([cli(['user', 'add', 'Alice']), cli(['user', 'add', 'carl', '--password-stdin'], { stdin: 'short\n' })]);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /login_taken/);
    assert.equal(weak.code, 1);
    assert.match(weak.stderr, /password_policy/);
    await withServer(async (url) => {
      const a = await login(url, 'alice@example.org', 'Strong-Pass-For-A-9');
      assert.equal(a.status, 200, JSON.stringify(a.json));
      assert.equal(a.json.user.isAdmin, true);
      assert.equal(a.json.user.displayName, 'Alice Admin');
      assert.equal((await login(url, 'bob', bobPassword)).status, 200);
      assertError(await login(url, 'carl', 'short'), 401, 'invalid_credentials');
    });
  });

  test('user list, disable and enable; the last administrator cannot be disabled', async () => {
    const [list, last, nobody] = await Promise.all([cli(['user', 'list']), cli(['user', 'disable', 'alice']), cli(['user', 'reset-password', 'nobody'])]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.stdout.trim().split('\n'), ['alice\tAlice Admin\talice@example.org\tadmin\tactive', 'bob\tbob\t-\tuser\tactive']);
    assert.equal(last.code, 1);
    assert.match(last.stderr, /last_admin/);
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, /no user with login "nobody"/);
    const dis = await cli(['user', 'disable', 'bob']);
    assert.equal(dis.code, 0, dis.stderr);
    assert.equal(dis.stdout, 'disabled bob\n');
    await withServer(async (url) => {
      assertError(await login(url, 'bob', bobPassword), 401, 'invalid_credentials');
      assert.equal((await login(url, 'alice', 'Strong-Pass-For-A-9')).status, 200);
    });
    const en = await cli(['user', 'enable', 'bob']);
    assert.equal(en.code, 0);
    assert.equal(en.stdout, 'enabled bob\n');
  });

  test('user reset-password: generated or from stdin; the new one works', async () => {
    const gen = await cli(['user', 'reset-password', 'bob']);
    assert.equal(gen.code, 0, gen.stderr);
    const m = /^password reset for bob\ntemporary password: (\S+)\n$/.exec(gen.stdout);
    assert.ok(m, gen.stdout);
    const chosen = await cli(['user', 'reset-password', 'alice', '--password-stdin'], { stdin: 'Another-Pass-For-A-3\r\nignored second line\n' });
    assert.equal(chosen.code, 0, chosen.stderr);
    assert.equal(chosen.stdout, 'password reset for alice\n');
    await withServer(async (url) => {
      assertError(await login(url, 'bob', bobPassword), 401, 'invalid_credentials');
      assert.equal((await login(url, 'bob', m[1]!)).status, 200);
      assert.equal((await login(url, 'alice', 'Another-Pass-For-A-3')).status, 200);
    });
    bobPassword = m[1]!;
  });

  test('app-password create prints a password that opens HTTP Basic', async () => {
    const r = await cli(['app-password', 'create', 'alice', '--name', 'Thunderbird']);
    assert.equal(r.code, 0, r.stderr);
    appPassword = r.stdout.trim();
    assert.match(appPassword, /^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    const dav = await cli(['app-password', 'create', 'bob', '--name', 'phone', '--scopes', 'dav']);
    assert.equal(dav.code, 0, dav.stderr);
    await withServer(async (url) => {
      const s = await raw(url, 'GET', '/api/session', { headers: basicAuth('alice', appPassword) });
      assert.equal(s.status, 200, JSON.stringify(s.json));
      assert.equal(s.json.user.login, 'alice');
      // Listed for its owner (without the secret).
      const c = await login(url, 'alice', 'Another-Pass-For-A-3');
      const cookie = c.headers.getSetCookie()[0]!.split(';')[0]!;
      const list = await raw(url, 'GET', '/api/me/app-passwords', { headers: { cookie } });
      assert.deepEqual(list.json.items.map((i: any) => [i.name, i.scopes]), [['Thunderbird', ['dav', 'mail', 'api']]]);
      // A dav-only password does not open the JSON API.
      assertError(await raw(url, 'GET', '/api/session', { headers: basicAuth('bob', dav.stdout.trim()) }), 401);
    });
  });

  test('audit verify reports an intact log; doctor exits 0 on a good setup, 1 when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const [audit, busy] = await Promise.all([cli(['audit', 'verify']), cli(['doctor'], { env: { BASTIDE_PORT: String(port) } })]);
      assert.equal(audit.code, 0, audit.stderr);
      assert.match(audit.stdout, /^audit log intact: \d+ entries$/m);
      const n = Number(/intact: (\d+)/.exec(audit.stdout)![1]);
      assert.ok(n >= 8, `${n} entries: users, updates, resets, app passwords, logins`);
      assert.equal(busy.code, 1, busy.stdout + busy.stderr);
      assert.match(busy.stdout, new RegExp(`✘ HTTP port ${port} is free`));
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
    const ok = await cli(['doctor'], { env: { BASTIDE_PORT: String(port) } });
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /✔ configuration is valid/);
    assert.match(ok.stdout, new RegExp(`✔ database reachable \\(${storage.engine}\\)`));
    assert.match(ok.stdout, /✔ migrations up to date/);
    assert.match(ok.stdout, /✔ blob storage reachable/);
    assert.match(ok.stdout, /✔ 2 user account\(s\)/);
    assert.doesNotMatch(ok.stdout, /✘/);
  });
});
