import { join } from 'node:path';
import { FsBlobStore } from './fs.js';
import { S3BlobStore } from './s3.js';
import type { BlobStore } from './types.js';

export type { BlobInfo, BlobStore } from './types.js';
export { FsBlobStore } from './fs.js';
export { S3BlobStore, parseS3Url } from './s3.js';

/**
 * Opens the configured blob store: `fs` keeps blobs in `dataDir/blobs`; an `s3://…` URL uses that bucket
 * (uploads are spooled in `dataDir/tmp` while hashing). Throws a clear Error on a malformed setting.
 */
export function openBlobStore(config: { blobs: string; dataDir: string }): BlobStore {
  if (config.blobs === 'fs') return new FsBlobStore(join(config.dataDir, 'blobs'));
  if (config.blobs.startsWith('s3://')) return new S3BlobStore(config.blobs, { tmpDir: join(config.dataDir, 'tmp') });
  throw new Error('BASTIDE_BLOBS: expected "fs" or s3://KEY:SECRET@HOST[:PORT]/BUCKET[?region=R&tls=false]');
}
