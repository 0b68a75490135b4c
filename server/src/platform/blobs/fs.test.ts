import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { blobStoreContract, readAll, sha256hex } from '../../../test/helpers/blob-contract.js';
import { tempDir } from '../../../test/helpers/db.js';
import { FsBlobStore } from './fs.js';
import { openBlobStore } from './index.js';

/** Every file under `dir`, relative, except the temp folder. */
function storedFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (p !== join(dir, 'tmp')) walk(p);
      } else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

describe('FsBlobStore', () => {
  let root: string;
  let store: FsBlobStore;
  before(() => {
    root = tempDir('bastide-blobs-');
    store = new FsBlobStore(join(root, 'blobs'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  blobStoreContract(() => store);

  test('content-addressed layout dir/ab/cd/<sha256>, temp folder left empty', async () => {
    const data = Buffer.from('layout');
    const { sha256 } = await store.put(data);
    const path = join(root, 'blobs', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
    assert.equal(store.pathFor(sha256), path);
    assert.ok(statSync(path).isFile());
    assert.deepEqual(readdirSync(join(root, 'blobs', 'tmp')), []);
  });

  test('openBlobStore("fs") uses dataDir/blobs', async () => {
    const dataDir = join(root, 'data');
    const s = await openBlobStore({ blobs: 'fs', dataDir });
    assert.equal(s.kind, 'fs');
    const { sha256 } = await s.put(Buffer.from('via openBlobStore'));
    assert.ok(existsSync(join(dataDir, 'blobs', sha256.slice(0, 2), sha256.slice(2, 4), sha256)));
    await s.close();
    await assert.rejects(() => openBlobStore({ blobs: 'ftp://x', dataDir }), /BASTIDE_BLOBS/);
  });

  test('opening removes temp files older than an hour, keeps younger ones', () => {
    const dir = join(root, 'sweep');
    const first = new FsBlobStore(dir);
    const old = join(first.tmpDir, 'old.part');
    const young = join(first.tmpDir, 'young.part');
    writeFileSync(old, 'x');
    writeFileSync(young, 'y');
    const twoHoursAgo = (Date.now() - 2 * 3600 * 1000) / 1000;
    utimesSync(old, twoHoursAgo, twoHoursAgo);
    new FsBlobStore(dir);
    assert.equal(existsSync(old), false);
    assert.equal(existsSync(young), true);
  });

  test('a writer killed mid-write (kill -9) leaves no visible blob; a fresh store opens fine', async () => {
    const dir = join(root, 'crash');
    const storeUrl = new URL('./fs.ts', import.meta.url).href;
    // The child streams an endless deterministic pattern and reports once bytes reached the temp file.
    const script = `
      import { Readable } from 'node:stream';
      import { readdirSync, statSync } from 'node:fs';
      import { join } from 'node:path';
      const { FsBlobStore } = await import(${JSON.stringify(storeUrl)});
      const store = new FsBlobStore(${JSON.stringify(dir)});
      const chunk = Buffer.alloc(256 * 1024, 0x61);
      let told = false;
      const src = new Readable({ read() { setTimeout(() => this.push(chunk), 2); } });
      const poll = setInterval(() => {
        for (const f of readdirSync(store.tmpDir)) {
          if (!told && statSync(join(store.tmpDir, f)).size > 1024 * 1024) { told = true; process.stdout.write('writing\\n'); clearInterval(poll); }
        }
      }, 5);
      await store.put(src);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child never started writing: ${stderr}`)), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('writing')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', () => {
        clearTimeout(timer);
        reject(new Error(`child exited early: ${stderr}`));
      });
    });
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');

    // Only a temp file remains; nothing under the content-addressed tree.
    const temps = readdirSync(join(dir, 'tmp'));
    assert.equal(temps.length, 1);
    assert.ok(statSync(join(dir, 'tmp', temps[0]!)).size > 1024 * 1024);
    assert.deepEqual(storedFiles(dir), []);

    // A fresh store opens fine: the partial content is not a blob, and new writes work.
    const fresh = new FsBlobStore(dir);
    const partial = Buffer.alloc(256 * 1024, 0x61);
    assert.equal(await fresh.stat(sha256hex(partial)), null);
    const info = await fresh.put(Buffer.from('after the crash'));
    assert.equal((await readAll(await fresh.get(info.sha256))).toString(), 'after the crash');
    await fresh.check();
    // An hour later, opening sweeps the abandoned temp file.
    new FsBlobStore(dir, { now: () => Date.now() + 2 * 3600 * 1000 });
    assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
  });
});
