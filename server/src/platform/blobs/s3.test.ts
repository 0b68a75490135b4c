import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { blobStoreContract } from '../../../test/helpers/blob-contract.js';
import { tempDir } from '../../../test/helpers/db.js';
import { openBlobStore } from './index.js';
import { parseS3Url, S3BlobStore } from './s3.js';

// s3rver ships no types: describe the little we use.
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverCtor = new (options: {
  port: number;
  address: string;
  silent: boolean;
  directory: string;
  configureBuckets: Array<{ name: string }>;
}) => S3rverInstance;
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor;

describe('parseS3Url', () => {
  test('full form', () => {
    assert.deepEqual(parseS3Url('s3://AKID:s%2Fcr%2Bt@minio.local:9000/bastide-blobs?region=eu-west-3&tls=false'), {
      accessKeyId: 'AKID',
      secretAccessKey: 's/cr+t',
      endpoint: 'http://minio.local:9000',
      bucket: 'bastide-blobs',
      region: 'eu-west-3',
      tls: false,
    });
  });

  test('defaults: https, us-east-1', () => {
    const loc = parseS3Url('s3://k:s@s3.fr-par.scw.cloud/b');
    assert.equal(loc.endpoint, 'https://s3.fr-par.scw.cloud');
    assert.equal(loc.region, 'us-east-1');
    assert.equal(loc.tls, true);
  });

  test('rejects malformed URLs without echoing the secret', () => {
    for (const bad of [
      'http://k:s@host/b',
      's3://host/b',
      's3://k:topsecret@host/',
      's3://k:topsecret@host/a/b',
      's3://k:topsecret@host/b?tls=maybe',
      's3://k:topsecret@host/b?endpoint=x',
      'not a url',
    ]) {
      assert.throws(
        () => parseS3Url(bad),
        (e: unknown) => e instanceof Error && !e.message.includes('topsecret'),
        bad,
      );
    }
  });
});

describe('S3BlobStore (s3rver)', () => {
  let root: string;
  let server: S3rverInstance;
  let store: S3BlobStore;
  let url: string;

  before(async () => {
    root = tempDir('bastide-s3-');
    server = new S3rver({
      port: 0,
      address: '127.0.0.1',
      silent: true,
      directory: join(root, 's3rver'),
      configureBuckets: [{ name: 'bastide' }],
    });
    const { port } = await server.run();
    url = `s3://S3RVER:S3RVER@127.0.0.1:${port}/bastide?tls=false`;
    store = new S3BlobStore(url, { tmpDir: join(root, 'tmp') });
  });

  after(async () => {
    await store.close();
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  blobStoreContract(() => store);

  test('openBlobStore with an s3:// URL', async () => {
    const s = await openBlobStore({ blobs: url, dataDir: join(root, 'data') });
    try {
      assert.equal(s.kind, 's3');
      await s.check();
      const info = await s.put(Buffer.from('via openBlobStore'));
      assert.deepEqual(await store.stat(info.sha256), info);
    } finally {
      await s.close();
    }
  });

  test('check fails when the bucket does not exist', async () => {
    const s = new S3BlobStore(url.replace('/bastide?', '/missing-bucket?'), { tmpDir: join(root, 'tmp') });
    try {
      await assert.rejects(s.check());
    } finally {
      await s.close();
    }
  });
});
