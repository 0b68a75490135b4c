import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { isAppError } from '../../src/errors.js';
import type { BlobStore } from '../../src/platform/blobs/types.js';

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(chunks);
}

export const sha256hex = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Deterministic pseudo-random bytes (xorshift) in `chunk`-sized pieces, so big blobs are streamed. */
export function patternStream(total: number, chunk = 64 * 1024, seed = 1): Readable {
  let sent = 0;
  let x = seed >>> 0 || 1;
  return new Readable({
    read() {
      if (sent >= total) {
        this.push(null);
        return;
      }
      const n = Math.min(chunk, total - sent);
      const buf = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        buf[i] = x & 0xff;
      }
      sent += n;
      this.push(buf);
    },
  });
}

async function rejectsWithCode(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => isAppError(e) && e.code === code);
}

/**
 * The contract every BlobStore driver meets. Registers tests under the current describe(); `open` is
 * called once per test after `before` hooks ran and must return the store under test.
 */
export function blobStoreContract(open: () => BlobStore): void {
  test('put a buffer: named by its SHA-256, get returns the bytes, stat the size', async () => {
    const store = open();
    const data = Buffer.from('Bonjour, Bastide !\n', 'utf8');
    const info = await store.put(data);
    assert.deepEqual(info, { sha256: sha256hex(data), size: data.length });
    assert.deepEqual(await store.stat(info.sha256), info);
    assert.deepEqual(await readAll(await store.get(info.sha256)), data);
  });

  test('empty blob', async () => {
    const store = open();
    const info = await store.put(Buffer.alloc(0));
    assert.equal(info.sha256, sha256hex(Buffer.alloc(0)));
    assert.equal(info.size, 0);
    assert.deepEqual(await store.stat(info.sha256), info);
    assert.equal((await readAll(await store.get(info.sha256))).length, 0);
  });

  test('put a stream; same content twice gives the same blob', async () => {
    const store = open();
    const data = randomBytes(100_000);
    const a = await store.put(Readable.from([data.subarray(0, 1000), data.subarray(1000, 50_000), data.subarray(50_000)]));
    const b = await store.put(data);
    assert.deepEqual(a, b);
    assert.equal(a.sha256, sha256hex(data));
    assert.deepEqual(await readAll(await store.get(a.sha256)), data);
  });

  test('inclusive byte ranges, end clamped to the size', async () => {
    const store = open();
    const data = Buffer.from('0123456789abcdef');
    const { sha256 } = await store.put(data);
    // (s3rver mishandles "bytes=0-0", real S3 does not; a one-byte range is checked elsewhere in the blob.)
    assert.equal((await readAll(await store.get(sha256, { start: 0, end: 1 }))).toString(), '01');
    assert.equal((await readAll(await store.get(sha256, { start: 5, end: 5 }))).toString(), '5');
    assert.equal((await readAll(await store.get(sha256, { start: 3, end: 7 }))).toString(), '34567');
    assert.equal((await readAll(await store.get(sha256, { start: 10, end: 15 }))).toString(), 'abcdef');
    assert.equal((await readAll(await store.get(sha256, { start: 12, end: 1000 }))).toString(), 'cdef');
    await rejectsWithCode(store.get(sha256, { start: 16, end: 20 }), 'bad_request');
    await rejectsWithCode(store.get(sha256, { start: 5, end: 4 }), 'bad_request');
    await rejectsWithCode(store.get(sha256, { start: -1, end: 4 }), 'bad_request');
  });

  test('absent blobs: stat null, get not_found, delete is a no-op', async () => {
    const store = open();
    const missing = sha256hex(randomBytes(16));
    assert.equal(await store.stat(missing), null);
    await rejectsWithCode(store.get(missing), 'not_found');
    await store.delete(missing);
    // Names that are not SHA-256 are never found (no path tricks).
    assert.equal(await store.stat('../../etc/passwd'), null);
    await rejectsWithCode(store.get('../x'), 'not_found');
  });

  test('delete removes the blob', async () => {
    const store = open();
    const { sha256 } = await store.put(Buffer.from('to be deleted'));
    await store.delete(sha256);
    assert.equal(await store.stat(sha256), null);
    await rejectsWithCode(store.get(sha256), 'not_found');
  });

  test('a big streamed blob (5 MB) keeps its bytes and hash', async () => {
    const store = open();
    const size = 5 * 1024 * 1024 + 123;
    const expected = await readAll(patternStream(size, 64 * 1024, 7));
    const info = await store.put(patternStream(size, 64 * 1024, 7));
    assert.equal(info.size, size);
    assert.equal(info.sha256, sha256hex(expected));
    const back = await readAll(await store.get(info.sha256));
    assert.equal(back.length, size);
    assert.equal(sha256hex(back), info.sha256);
    const slice = await readAll(await store.get(info.sha256, { start: 4_000_000, end: 4_000_999 }));
    assert.deepEqual(slice, expected.subarray(4_000_000, 4_001_000));
  });

  test('a failing source stream stores nothing', async () => {
    const store = open();
    const good = Buffer.from('partial content that never completes');
    const source = new Readable({
      read() {
        this.push(good);
        this.destroy(new Error('client went away'));
      },
    });
    await assert.rejects(store.put(source), /client went away/);
    assert.equal(await store.stat(sha256hex(good)), null);
  });

  test('check passes', async () => {
    await open().check();
  });
}
