import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startTestServer, makeUser } from './helpers/server.js';
import { createAppPassword } from '../src/modules/identity/commands/credentials.js';

/**
 * Debian's rclone against /dav/files/<login>/: a tree of ~300 files of mixed sizes (0 B to a few MB, non-ASCII
 * and URL-special names) synced up, changed on each side, synced back; every file is compared by SHA-256.
 * rclone's WebDAV vendor 'other' has neither modification times nor hashes, so it compares by size: every
 * modification below changes the size, and the content itself is checked by downloading and hashing.
 */

const rcloneAvailable = (): boolean => !spawnSync('rclone', ['version'], { stdio: 'ignore' }).error;

/** mulberry32: a small seeded generator, so the tree is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function content(rand: () => number, size: number): Buffer {
  const words = new Uint32Array(Math.ceil(size / 4));
  for (let i = 0; i < words.length; i++) words[i] = (rand() * 4294967296) >>> 0;
  return Buffer.from(words.buffer, 0, size);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** relative path ("a/b/c.txt") → SHA-256 of every regular file below dir. */
function treeHashes(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(d, e.name), r);
      else if (e.isFile()) out.set(r.normalize('NFC'), sha(readFileSync(join(d, e.name))));
    }
  };
  walk(dir, '');
  return out;
}

function assertTree(actual: Map<string, string>, expected: Map<string, string>, what: string): void {
  const missing = [...expected.keys()].filter((k) => !actual.has(k));
  const extra = [...actual.keys()].filter((k) => !expected.has(k));
  const differ = [...expected.keys()].filter((k) => actual.has(k) && actual.get(k) !== expected.get(k));
  assert.deepEqual({ missing, extra, differ }, { missing: [], extra: [], differ: [] }, `${what}: trees differ`);
  assert.equal(actual.size, expected.size);
}

test('rclone (Debian) syncs a tree up, changes on each side, syncs back; SHA-256 of every file matches', { timeout: 180_000 }, async (t) => {
  if (!rcloneAvailable()) {
    if (process.env.BASTIDE_TEST_DAV === 'required') assert.fail('rclone is required (BASTIDE_TEST_DAV=required) but is not installed (apt-get install rclone)');
    console.log('# notice: rclone missing (apt-get install rclone); rclone sync test skipped');
    t.skip('rclone missing');
    return;
  }
  const started = Date.now();
  const srv = await startTestServer();
  t.after(() => srv.close());
  const user = await makeUser(srv, 'rosalie');
  const { password } = await createAppPassword({ platform: srv.bastide.platform, actor: { kind: 'system' } }, { userId: user.id, name: 'rclone', scopes: ['dav'] });
  const dav = `${srv.url}/dav/files/${user.login}/`;
  const auth = `Basic ${Buffer.from(`${user.login}:${password}`).toString('base64')}`;
  const work = join(srv.storage.dataDir, 'rclone-work');
  mkdirSync(work, { recursive: true });

  // No config file, no proxy, nothing but 127.0.0.1: the remote is described entirely by environment variables.
  const baseEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(RCLONE_|https?_proxy$|all_proxy$|no_proxy$)/i.test(k)) baseEnv[k] = v;
  const obscured = spawnSync('rclone', ['obscure', '-'], { input: password, encoding: 'utf8', env: { ...baseEnv, RCLONE_CONFIG: '/dev/null' } });
  assert.equal(obscured.status, 0, obscured.stderr);
  const env = {
    ...baseEnv,
    HOME: work,
    XDG_CACHE_HOME: join(work, '.cache'),
    NO_PROXY: '*',
    RCLONE_CONFIG: '/dev/null',
    RCLONE_WEBDAV_URL: dav,
    RCLONE_WEBDAV_VENDOR: 'other',
    RCLONE_WEBDAV_USER: user.login,
    RCLONE_WEBDAV_PASS: obscured.stdout.trim(),
  };
  const remote = ':webdav:tree';
  /** Runs rclone, resolves with its standard output when it exits 0. */
  const rclone = (...args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      // One attempt only: a retried failure would hide a protocol bug behind a successful exit code.
      const p = spawn('rclone', [...args, '--checkers', '4', '--transfers', '4', '--retries', '1', '--low-level-retries', '1', '--stats', '0'], { env, cwd: work });
      let out = '';
      let log = '';
      p.stdout.on('data', (c: Buffer) => (out += c.toString()));
      p.stderr.on('data', (c: Buffer) => (log += c.toString()));
      p.on('error', reject);
      p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`rclone ${args.join(' ')} exited ${code}\n${log.slice(-6000)}`))));
    });

  // The tree: 4 top folders, 3 levels, ~300 files, names with accents, CJK, spaces and URL-special characters.
  const rand = rng(0x5eed);
  const expected = new Map<string, string>();
  const local = join(work, 'local');
  let written = 0;
  const write = (root: string, rel: string, data: Buffer): void => {
    written += data.length;
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), data);
    expected.set(rel.normalize('NFC'), sha(data));
  };
  const pickSize = (): number => {
    const r = rand();
    if (r < 0.04) return 0;
    if (r < 0.45) return Math.floor(rand() * 1024);
    if (r < 0.88) return Math.floor(rand() * 64 * 1024);
    if (r < 0.98) return 64 * 1024 + Math.floor(rand() * 900 * 1024);
    return 1024 * 1024 + Math.floor(rand() * 3 * 1024 * 1024);
  };
  const tops = ['docs', 'Photos été', 'über', '資料'];
  const subs = ['a', 'b b', 'ç&+', "it's (2)"];
  const stems = ['notes', 'rapport final', 'naïve', 'Grüße', '報告書', 'x#y', '50%', 'a+b=c', '[draft]', 'tilde~'];
  const dirs: string[] = [''];
  for (const top of tops) {
    dirs.push(top);
    for (const s of subs) {
      dirs.push(`${top}/${s}`);
      if (rand() < 0.5) dirs.push(`${top}/${s}/deep ${Math.floor(rand() * 10)}`);
    }
  }
  // A few multi-megabyte files, the rest drawn from the distribution above.
  let n = 0;
  for (const size of [3 * 1024 * 1024 + 17, 2 * 1024 * 1024, 4 * 1024 * 1024 - 1]) write(local, `${dirs[++n]}/big-${n}.bin`, content(rand, size));
  while (n < 300) {
    const dir = dirs[Math.floor(rand() * dirs.length)]!;
    const name = `${stems[Math.floor(rand() * stems.length)]} ${n++}.${['txt', 'bin', 'md', 'dat'][Math.floor(rand() * 4)]}`;
    write(local, dir ? `${dir}/${name}` : name, content(rand, pickSize()));
  }
  const totalBytes = written;
  assertTree(treeHashes(local), expected, 'generated tree');

  // 1. Up, check, and back down into a fresh directory.
  await rclone('sync', local, remote);
  await rclone('check', local, remote);
  const fresh1 = join(work, 'fresh1');
  await rclone('copy', remote, fresh1);
  assertTree(treeHashes(fresh1), expected, 'first download');

  // 2. Changes on the server side, through plain WebDAV requests and one rclone server-side directory move.
  const url = (rel: string): string => dav + ['tree', ...rel.split('/')].map(encodeURIComponent).join('/');
  const davReq = async (method: string, rel: string, init: { body?: Buffer; headers?: Record<string, string> } = {}): Promise<number> => {
    const r = await fetch(url(rel), { method, headers: { authorization: auth, ...init.headers }, body: init.body ? new Uint8Array(init.body) : null });
    await r.arrayBuffer();
    return r.status;
  };
  const files = [...expected.keys()].sort();
  const serverSide = rng(42);
  for (const rel of files.filter((_, i) => i % 23 === 0)) {
    const data = content(serverSide, 100 + Math.floor(serverSide() * 200_000));
    assert.equal(await davReq('PUT', rel, { body: data }), 204, rel);
    expected.set(rel, sha(data));
  }
  for (const rel of files.filter((_, i) => i % 29 === 7)) {
    assert.equal(await davReq('DELETE', rel), 204, rel);
    expected.delete(rel);
  }
  for (const rel of ['server new.txt', 'über/serveur neu 新しい.md', 'docs/a/x#y%z&.bin']) {
    const data = content(serverSide, Math.floor(serverSide() * 70_000));
    assert.equal(await davReq('PUT', rel, { body: data }), 201, rel);
    expected.set(rel, sha(data));
  }
  const movedFile = files.find((f, i) => i % 23 !== 0 && i % 29 !== 7 && f.startsWith('docs/'))!;
  assert.equal(await davReq('MOVE', movedFile, { headers: { destination: url('docs/renamed on server é.txt'), overwrite: 'F' } }), 201);
  expected.set('docs/renamed on server é.txt', expected.get(movedFile)!);
  expected.delete(movedFile);
  await rclone('moveto', `${remote}/資料/b b`, `${remote}/資料/b b (moved)`);
  for (const [k, v] of [...expected]) {
    if (k.startsWith('資料/b b/')) {
      expected.delete(k);
      expected.set(`資料/b b (moved)/${k.slice('資料/b b/'.length)}`, v);
    }
  }
  // Server → the original local copy (incremental) and → a fresh one.
  await rclone('sync', remote, local);
  assertTree(treeHashes(local), expected, 'local after server-side changes');
  const fresh2 = join(work, 'fresh2');
  await rclone('copy', remote, fresh2);
  assertTree(treeHashes(fresh2), expected, 'fresh copy after server-side changes');

  // 3. Changes on the local side, then local → server.
  const localSide = rng(7);
  const now = [...expected.keys()].sort();
  for (const rel of now.filter((_, i) => i % 17 === 3)) {
    const data = Buffer.concat([readFileSync(join(local, rel)), content(localSide, 1 + Math.floor(localSide() * 5000))]);
    write(local, rel, data);
  }
  for (const rel of now.filter((_, i) => i % 31 === 11)) {
    rmSync(join(local, rel));
    expected.delete(rel);
  }
  for (const rel of ['local new 1.txt', 'Photos été/new dir/nouvelle photo.bin', 'über/ç&+/neu ü 2.dat', '資料/新しい フォルダ/メモ.txt']) write(local, rel, content(localSide, Math.floor(localSide() * 300_000)));
  renameSync(join(local, 'über/a'), join(local, 'über/a renamed'));
  for (const [k, v] of [...expected]) {
    if (k.startsWith('über/a/')) {
      expected.delete(k);
      expected.set(`über/a renamed/${k.slice('über/a/'.length)}`, v);
    }
  }
  assertTree(treeHashes(local), expected, 'local after local changes');
  await rclone('sync', local, remote);
  await rclone('check', local, remote);
  // Folders too: the renamed and emptied ones are gone from the server, nothing else is.
  const localDirs = new Set<string>();
  for (const k of expected.keys()) for (let i = k.indexOf('/'); i > 0; i = k.indexOf('/', i + 1)) localDirs.add(`${k.slice(0, i)}/`);
  const remoteDirs = (await rclone('lsf', '-R', '--dirs-only', remote)).split('\n').filter(Boolean).map((l) => l.normalize('NFC'));
  assert.deepEqual(remoteDirs.sort(), [...localDirs].sort());
  assert.ok(!remoteDirs.includes('über/a/') && remoteDirs.includes('über/a renamed/'));
  const fresh3 = join(work, 'fresh3');
  await rclone('copy', remote, fresh3);
  assertTree(treeHashes(fresh3), expected, 'fresh copy after local changes');

  // The server's own record agrees: the live files below tree/ are exactly the expected ones.
  const live = await srv.bastide.platform.db.selectFrom('drive_nodes').select(['blob_sha256']).where('kind', '=', 'file').where('deleted_at', 'is', null).execute();
  assert.equal(live.length, expected.size);
  assert.deepEqual(live.map((r) => r.blob_sha256).sort(), [...expected.values()].sort());

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`rclone: ${files.length} files (${(totalBytes / 1024 / 1024).toFixed(1)} MiB) synced up, changed on both sides, ${expected.size} files verified at the end, ${seconds} s`);
});
