import { createHash, randomUUID } from 'node:crypto';
import { close as fsClose, createReadStream, fsync as fsFsync, mkdirSync, open as fsOpen, readdirSync, rmSync, statSync } from 'node:fs';
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

/** Incoming chunks are gathered into writes of about this size (one syscall instead of ~16 socket chunks). */
const WRITE_BATCH_BYTES = 1024 * 1024;
/** …or of this many chunks, whichever comes first (a slow sender's tiny chunks are not hoarded). */
const WRITE_BATCH_CHUNKS = 64;
/**
 * While a large file is spooled with `fsync`, its pages are flushed in the background every this many
 * bytes (fdatasync on the thread pool, one at a time), so the disk writes while the body still arrives
 * and the final fsync, which the caller waits for, has little left to do.
 */
const BACKGROUND_SYNC_BYTES = 32 * 1024 * 1024;
/** Read-stream buffer for blob reads: fewer, larger reads than the 64 KiB default for big files. */
export const READ_CHUNK_BYTES = 512 * 1024;

async function writeFully(fh: FileHandle, bufs: Buffer[]): Promise<void> {
  let rest = bufs;
  while (rest.length > 0) {
    let { bytesWritten } = rest.length === 1 ? await fh.write(rest[0]!, 0, rest[0]!.length) : await fh.writev(rest);
    // Short write: drop what went out and retry with the remainder.
    const next: Buffer[] = [];
    for (const b of rest) {
      if (bytesWritten >= b.length) bytesWritten -= b.length;
      else {
        next.push(bytesWritten > 0 ? b.subarray(bytesWritten) : b);
        bytesWritten = 0;
      }
    }
    rest = next;
  }
}

/**
 * Streams `data` into a new file at `path` while hashing it. Returns the SHA-256, the size and (when asked)
 * the MD5 (S3 Content-MD5). The file is fsynced when `fsync` is true. On failure the file is removed.
 * Hashing the next chunks overlaps the write of the previous batch (one write in flight, so at most two
 * batches are held), and a long file is flushed to disk in the background as it grows.
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
  let writing: Promise<void> | undefined;
  let syncing: Promise<void> | undefined;
  let syncError: unknown;
  let unsynced = 0;
  let batch: Buffer[] = [];
  let batchBytes = 0;
  const flush = async (): Promise<void> => {
    if (writing) await writing;
    writing = undefined;
    if (batchBytes === 0) return;
    const bufs = batch;
    unsynced += batchBytes;
    batch = [];
    batchBytes = 0;
    writing = writeFully(fh, bufs);
    // Observed now (a failure surfaces at the next flush), so it is never an unhandled rejection.
    writing.catch(() => undefined);
    if (opts.fsync && unsynced >= BACKGROUND_SYNC_BYTES && !syncing) {
      unsynced = 0;
      // Flushes what the earlier writes left in the page cache; the write just started goes on meanwhile.
      syncing = fh.datasync().then(
        () => {
          syncing = undefined;
        },
        (e: unknown) => {
          syncError ??= e;
          syncing = undefined;
        },
      );
    }
  };
  try {
    for await (const chunk of chunksOf(data)) {
      sha.update(chunk);
      md5?.update(chunk);
      size += chunk.length;
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes >= WRITE_BATCH_BYTES || batch.length >= WRITE_BATCH_CHUNKS) await flush();
    }
    await flush();
    if (writing) await writing;
    writing = undefined;
    if (syncing) await syncing;
    if (syncError) throw syncError;
    if (opts.fsync) await fh.sync();
  } catch (e) {
    // Let an in-flight write or flush finish before closing the handle under it.
    await writing?.catch(() => undefined);
    await syncing;
    await fh.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    if (!Buffer.isBuffer(data) && !data.destroyed) data.destroy();
    throw e;
  }
  await fh.close();
  return { sha256: sha.digest('hex'), size, ...(md5 ? { md5: md5.digest('base64') } : {}) };
}

/**
 * fsync of a directory (so a rename or a new entry in it survives a crash). Plain descriptors and
 * callbacks: three FileHandle promises per call cost more main-thread time than the call itself.
 */
function fsyncDir(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    fsOpen(path, 'r', (err, fd) => {
      if (err) return reject(err);
      fsFsync(fd, (syncErr) => {
        fsClose(fd, (closeErr) => {
          const e = syncErr ?? closeErr;
          if (e) reject(e);
          else resolve();
        });
      });
    });
  });
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
  /** Leaf folders (`ab/cd`) known to exist: 65,536 at most, so the set stays small. */
  private readonly knownDirs = new Set<string>();

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
      // Leaf folders only ever get created (never removed while the store is open): remember them.
      const created = this.knownDirs.has(leaf) ? undefined : await mkdir(leaf, { recursive: true, mode: 0o700 });
      await rename(tmp, target);
      await fsyncDir(leaf);
      if (created !== undefined) {
        // New directories must reach the disk too: fsync each parent up to the store root.
        await fsyncDir(dirname(leaf));
        await fsyncDir(this.dir);
      }
      if (this.knownDirs.size >= 70_000) this.knownDirs.clear();
      this.knownDirs.add(leaf);
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
    if (!range) return createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
    const r = resolveRange(range, info.size);
    return createReadStream(path, { start: r.start, end: r.end, highWaterMark: READ_CHUNK_BYTES });
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
