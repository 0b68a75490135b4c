import { randomUUID } from 'node:crypto';
import { createReadStream, mkdirSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { AppError } from '../../errors.js';
import { assertRange, isSha256, spoolToFile, sweepTempDir, TMP_SUFFIX } from './fs.js';
import type { BlobInfo, BlobStore } from './types.js';

export interface S3Location {
  accessKeyId: string;
  secretAccessKey: string;
  /** e.g. https://s3.example.org:9000 */
  endpoint: string;
  bucket: string;
  region: string;
  tls: boolean;
}

/**
 * Parses `s3://KEY:SECRET@HOST[:PORT]/BUCKET[?region=R&tls=false]`. KEY and SECRET are percent-decoded
 * (encode `/`, `+`, `@`, `:` in them). Error messages never include the secret.
 */
export function parseS3Url(value: string): S3Location {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error('blobs: not a valid URL; expected s3://KEY:SECRET@HOST[:PORT]/BUCKET[?region=R&tls=false]');
  }
  if (url.protocol !== 's3:') throw new Error(`blobs: expected an s3:// URL, got ${url.protocol}//`);
  if (!url.username || !url.password) throw new Error('blobs: the s3:// URL needs KEY:SECRET@ before the host');
  if (!url.hostname) throw new Error('blobs: the s3:// URL has no host');
  const bucket = decodeURIComponent(url.pathname.replace(/^\/+/, '').replace(/\/+$/, ''));
  if (!bucket) throw new Error('blobs: the s3:// URL has no bucket (s3://KEY:SECRET@HOST/BUCKET)');
  if (bucket.includes('/')) throw new Error(`blobs: the bucket name "${bucket}" must not contain "/"`);
  if (!/^[a-zA-Z0-9.\-_]{1,255}$/.test(bucket)) throw new Error(`blobs: "${bucket}" is not a valid bucket name`);
  const known = new Set(['region', 'tls']);
  for (const key of url.searchParams.keys()) {
    if (!known.has(key)) throw new Error(`blobs: unknown s3:// URL option "${key}" (known: region, tls)`);
  }
  const tlsParam = url.searchParams.get('tls');
  let tls = true;
  if (tlsParam !== null) {
    const v = tlsParam.toLowerCase();
    if (['false', '0', 'no', 'off'].includes(v)) tls = false;
    else if (['true', '1', 'yes', 'on'].includes(v)) tls = true;
    else throw new Error(`blobs: tls must be true or false, got "${tlsParam}"`);
  }
  const region = url.searchParams.get('region') || 'us-east-1';
  const host = url.host; // hostname[:port], IPv6 kept in brackets
  return {
    accessKeyId: decodeURIComponent(url.username),
    secretAccessKey: decodeURIComponent(url.password),
    endpoint: `${tls ? 'https' : 'http'}://${host}`,
    bucket,
    region,
    tls,
  };
}

export interface S3BlobStoreOptions {
  /** Where uploads are buffered while hashing (the object key is known only at the end). Default os.tmpdir(). */
  tmpDir?: string;
}

const SPOOL_PREFIX = 'bastide-s3-';

interface S3ErrorLike {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

function status(e: unknown): number | undefined {
  return (e as S3ErrorLike | null)?.$metadata?.httpStatusCode;
}

function isNotFound(e: unknown): boolean {
  const err = e as S3ErrorLike | null;
  return err?.name === 'NoSuchKey' || err?.name === 'NotFound' || err?.Code === 'NoSuchKey' || status(e) === 404;
}

/**
 * Blobs in an S3-compatible bucket (AWS, Garage, Ceph, MinIO, sovereign clouds), one object per blob named
 * by its SHA-256. An upload is spooled to a temp file while hashing, then sent in one PutObject with its
 * length and Content-MD5 (the server checks integrity); a PUT is atomic, so a blob is complete or absent.
 */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;
  /** Holds the secret: kept private so that logging the store never prints it. */
  private readonly location: S3Location;
  private readonly client: S3Client;
  private readonly tmpDir: string;

  constructor(location: string | S3Location, options: S3BlobStoreOptions = {}) {
    this.location = typeof location === 'string' ? parseS3Url(location) : location;
    this.tmpDir = options.tmpDir ?? tmpdir();
    mkdirSync(this.tmpDir, { recursive: true, mode: 0o700 });
    // Spool files left by a crash mid-upload.
    sweepTempDir(this.tmpDir, 60 * 60 * 1000, Date.now(), SPOOL_PREFIX);
    this.client = new S3Client({
      endpoint: this.location.endpoint,
      region: this.location.region,
      forcePathStyle: true,
      credentials: { accessKeyId: this.location.accessKeyId, secretAccessKey: this.location.secretAccessKey },
      // Many S3-compatible servers do not implement the newer flexible checksums; Content-MD5 is universal.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
    });
  }

  get bucket(): string {
    return this.location.bucket;
  }

  get endpoint(): string {
    return this.location.endpoint;
  }

  async put(data: Buffer | Readable): Promise<BlobInfo> {
    const tmp = join(this.tmpDir, `${SPOOL_PREFIX}${randomUUID()}${TMP_SUFFIX}`);
    try {
      const { sha256, size, md5 } = await spoolToFile(data, tmp, { fsync: false, md5: true });
      const existing = await this.stat(sha256);
      if (existing && existing.size === size) return existing;
      // A file stream can be read once: retry transient failures here with a fresh stream each time.
      for (let attempt = 1; ; attempt++) {
        const body = createReadStream(tmp);
        try {
          await this.client.send(
            new PutObjectCommand({
              Bucket: this.bucket,
              Key: sha256,
              Body: body,
              ContentLength: size,
              ContentMD5: md5,
              ContentType: 'application/octet-stream',
            }),
          );
          break;
        } catch (e) {
          body.destroy();
          const code = status(e);
          if (attempt >= 3 || (code !== undefined && code < 500)) throw e;
          await new Promise((r) => setTimeout(r, 200 * attempt));
        }
      }
      return { sha256, size };
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  async get(sha256: string, range?: { start: number; end: number }): Promise<Readable> {
    if (!isSha256(sha256)) throw new AppError('not_found', { blob: sha256 });
    // Same validation as the filesystem store; S3 itself clamps the end and refuses a start past the end.
    if (range) assertRange(range);
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: sha256,
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      const body = out.Body;
      if (body instanceof Readable) return body;
      if (body && typeof (body as { transformToWebStream?: unknown }).transformToWebStream === 'function') {
        return Readable.fromWeb((body as { transformToWebStream(): Parameters<typeof Readable.fromWeb>[0] }).transformToWebStream());
      }
      throw new Error('S3 GetObject returned no body');
    } catch (e) {
      if (isNotFound(e)) throw new AppError('not_found', { blob: sha256 });
      if (status(e) === 416 || (e as S3ErrorLike | null)?.name === 'InvalidRange') {
        throw new AppError('bad_request', { range }, 'The byte range is not satisfiable.');
      }
      throw e;
    }
  }

  async stat(sha256: string): Promise<BlobInfo | null> {
    if (!isSha256(sha256)) return null;
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: sha256 }));
      return { sha256, size: Number(out.ContentLength ?? 0) };
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async delete(sha256: string): Promise<void> {
    if (!isSha256(sha256)) return;
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: sha256 }));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  async check(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
