import { join } from 'node:path';
import { FsBlobStore } from './fs.js';
import type { BlobStore } from './types.js';

export type { BlobInfo, BlobStore } from './types.js';
export { FsBlobStore } from './fs.js';

/**
 * Opens the configured blob store: `fs` keeps blobs in `dataDir/blobs`; an `s3://…` URL uses that bucket
 * (uploads are spooled in `dataDir/tmp` while hashing). The AWS SDK is loaded only when S3 is configured
 * (it costs ~100 ms and ~15 MB at start). Throws a clear Error on a malformed setting.
 */
export async function openBlobStore(config: { blobs: string; dataDir: string }): Promise<BlobStore> {
  if (config.blobs === 'fs') return new FsBlobStore(join(config.dataDir, 'blobs'));
  if (config.blobs.startsWith('s3://')) {
    const { S3BlobStore } = await import('./s3.js');
    return new S3BlobStore(config.blobs, { tmpDir: join(config.dataDir, 'tmp') });
  }
  throw new Error('BASTIDE_BLOBS: expected "fs" or s3://KEY:SECRET@HOST[:PORT]/BUCKET[?region=R&tls=false]');
}
