import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, open, rename, stat, unlink, access, constants } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { AppError } from '../../errors.js';
import type { BlobInfo, BlobStore } from './types.js';

export interface FsBlobStoreOptions {
  /** Temp files older than this are removed when the store opens (a crash mid-write). Default 1 hour. */
  tmpMaxAgeMs?: number;
  /** Time source for the temp-file sweep (tests). */
  now?: () => number;
}

const SHA256 = /^[0-9a-f]{64}$/;
export const TMP_SUFFIX = '.part';

export function isSha256(value: string): boolean {
  return SHA256.test(value);
}

/** Throws AppError('bad_request') unless `range` is an inclusive range of non-negative safe integers. */
export function assertRange(range: { start: number; end: number }): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new AppError('bad_request', { range: { start, end } }, 'The byte range is malformed.');
  }
}

/**
 * Validates an inclusive byte range against a blob size and returns it with `end` clamped to the last byte
 * (HTTP semantics). Throws AppError('bad_request') when the range is malformed or starts past the end.
 */
export function resolveRange(range: { start: number; end: number }, size: number): { start: number; end: number } {
  assertRange(range);
  if (range.start >= size) {
    throw new AppError('bad_request', { range: { start: range.start, end: range.end }, size }, 'The byte range is not satisfiable.');
  }
  return { start: range.start, end: Math.min(range.end, size - 1) };
}

/** Iterates a Buffer or Readable as Buffers (string chunks are UTF-8 encoded). */
export async function* chunksOf(data: Buffer | Readable): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(data)) {
    yield data;
    return;
  }
  for await (const chunk of data as AsyncIterable<unknown>) {
    if (Buffer.isBuffer(chunk)) yield chunk;
    else if (typeof chunk === 'string') yield Buffer.from(chunk, 'utf8');
    else if (chunk instanceof Uint8Array) yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    else throw new TypeError('blob streams must produce bytes or strings');
  }
}

async function writeFully(fh: FileHandle, buf: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buf.length) {
    const { bytesWritten } = await fh.write(buf, offset, buf.length - offset);
    offset += bytesWritten;
  }
}

/**
 * Streams `data` into a new file at `path` while hashing it. Returns the SHA-256, the size and (when asked)
 * the MD5 (S3 Content-MD5). The file is fsynced when `fsync` is true. On failure the file is removed.
 */
export async function spoolToFile(
  data: Buffer | Readable,
  path: string,
  opts: { fsync: boolean; md5?: boolean },
): Promise<{ sha256: string; size: number; md5?: string }> {
  const sha = createHash('sha256');
  const md5 = opts.md5 ? createHash('md5') : undefined;
  let size = 0;
  const fh = await open(path, 'wx', 0o600);
  try {
    for await (const chunk of chunksOf(data)) {
      sha.update(chunk);
      md5?.update(chunk);
      size += chunk.length;
      await writeFully(fh, chunk);
    }
    if (opts.fsync) await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    if (!Buffer.isBuffer(data) && !data.destroyed) data.destroy();
    throw e;
  }
  await fh.close();
  return { sha256: sha.digest('hex'), size, ...(md5 ? { md5: md5.digest('base64') } : {}) };
}

async function fsyncDir(path: string): Promise<void> {
  const dh = await open(path, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/**
 * Removes `<prefix>*.part` temp files older than `maxAgeMs` from `tmpDir` (left by a crash mid-write).
 * Returns how many.
 * Younger files may belong to a write in progress in another process and are left alone.
 */
export function sweepTempDir(tmpDir: string, maxAgeMs: number, now: number, prefix = ''): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(tmpDir);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(TMP_SUFFIX)) continue;
    const path = join(tmpDir, name);
    try {
      const st = statSync(path);
      if (st.isFile() && now - st.mtimeMs > maxAgeMs) {
        rmSync(path, { force: true });
        removed++;
      }
    } catch {
      // vanished meanwhile
    }
  }
  return removed;
}

/**
 * Blobs on the local filesystem, content-addressed: `dir/ab/cd/<sha256>`. A write goes to `dir/tmp`
 * while hashing, is fsynced, renamed into place, and the directory is fsynced: a blob is visible complete
 * or not at all. A crash mid-write leaves only a temp file, removed at the next open once older than 1 h.
 */
export class FsBlobStore implements BlobStore {
  readonly kind = 'fs' as const;
  readonly tmpDir: string;

  constructor(
    readonly dir: string,
    options: FsBlobStoreOptions = {},
  ) {
    this.tmpDir = join(dir, 'tmp');
    mkdirSync(this.tmpDir, { recursive: true, mode: 0o700 });
    sweepTempDir(this.tmpDir, options.tmpMaxAgeMs ?? 60 * 60 * 1000, (options.now ?? Date.now)());
  }

  /** Where a blob lives (whether or not it exists). */
  pathFor(sha256: string): string {
    return join(this.dir, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async put(data: Buffer | Readable): Promise<BlobInfo> {
    const tmp = join(this.tmpDir, `${randomUUID()}${TMP_SUFFIX}`);
    const { sha256, size } = await spoolToFile(data, tmp, { fsync: true });
    const target = this.pathFor(sha256);
    try {
      const existing = await stat(target).catch(() => null);
      if (existing?.isFile() && existing.size === size) {
        // Same content already stored (immutable, content-addressed): keep the existing file.
        await unlink(tmp);
        return { sha256, size };
      }
      const leaf = dirname(target);
      const created = await mkdir(leaf, { recursive: true, mode: 0o700 });
      await rename(tmp, target);
      await fsyncDir(leaf);
      if (created !== undefined) {
        // New directories must reach the disk too: fsync each parent up to the store root.
        await fsyncDir(dirname(leaf));
        await fsyncDir(this.dir);
      }
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
    return { sha256, size };
  }

  async get(sha256: string, range?: { start: number; end: number }): Promise<Readable> {
    const info = await this.stat(sha256);
    if (!info) throw new AppError('not_found', { blob: sha256 });
    const path = this.pathFor(sha256);
    if (!range) return createReadStream(path);
    const r = resolveRange(range, info.size);
    return createReadStream(path, { start: r.start, end: r.end });
  }

  async stat(sha256: string): Promise<BlobInfo | null> {
    if (!isSha256(sha256)) return null;
    try {
      const st = await stat(this.pathFor(sha256));
      return st.isFile() ? { sha256, size: st.size } : null;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async delete(sha256: string): Promise<void> {
    if (!isSha256(sha256)) return;
    try {
      await unlink(this.pathFor(sha256));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  async check(): Promise<void> {
    await access(this.dir, constants.R_OK | constants.W_OK);
    await access(this.tmpDir, constants.R_OK | constants.W_OK);
  }

  async close(): Promise<void> {
    // Nothing held open.
  }
}
