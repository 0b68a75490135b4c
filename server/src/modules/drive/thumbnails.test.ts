import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { startTestServer, type ApiClient, type TestServer } from '../../../test/helpers/server.js';
import { assertError, eventually, raw, userClient } from '../../../test/helpers/api.js';
import { refCount } from '../../platform/blobs/refs.js';
import { MAX_INPUT_PIXELS, releaseOrphanThumbnails, THUMB_SIZE } from './thumbnails.js';

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** A valid small PNG whose header claims width × height (a decompression bomb's shape). */
async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } }).png().toBuffer());
  // Signature (8), IHDR length (4), "IHDR" (4), width, height...
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

describe('drive thumbnails', () => {
  let srv: TestServer;
  let nina: ApiClient;
  let omar: ApiClient;

  before(async () => {
    srv = await startTestServer();
    nina = (await userClient(srv, 'nina')).client;
    omar = (await userClient(srv, 'omar')).client;
  });
  after(() => srv.close());

  const q = (p: string) => `?path=${encodeURIComponent(p)}`;
  const upload = async (path: string, body: string | Buffer, type = 'image/jpeg') => {
    const r = await raw(srv.url, 'PUT', `/api/drive/content${q(path)}`, { body, headers: { cookie: nina.cookie, 'x-csrf-token': nina.csrf, 'content-type': type } });
    assert.ok(r.status === 201 || r.status === 200, JSON.stringify(r.json));
    return r.json.item as { etag: string };
  };
  const thumb = (path: string, c: ApiClient = nina, headers: Record<string, string> = {}, extra = '') => fetch(`${srv.url}/api/drive/thumbnail${q(path)}${extra}`, { headers: { cookie: c.cookie, ...headers } });

  test('an uploaded photo gets a bounded, upright, metadata-free WebP thumbnail made by the job', async () => {
    // 800×400 pixels stored sideways: EXIF orientation 6 says "rotate 90° clockwise to view".
    const photo = await sharp({ create: { width: 800, height: 400, channels: 3, background: '#3a6' } })
      .jpeg()
      .withMetadata({ orientation: 6, exif: { IFD0: { Copyright: 'secret-owner', Software: 'camera' } } })
      .toBuffer();
    assert.equal((await sharp(photo).metadata()).orientation, 6);
    const item = await upload('/photo.jpg', photo);
    const sha = (await srv.bastide.platform.db.selectFrom('drive_nodes').select('blob_sha256').where('name', '=', 'photo.jpg').executeTakeFirstOrThrow()).blob_sha256!;
    // The background job (started by the upload event) makes it without anyone asking.
    const row = await eventually(() => srv.bastide.platform.db.selectFrom('drive_thumbnails').selectAll().where('source_sha256', '=', sha).executeTakeFirst(), 10_000, 'thumbnail job');
    assert.equal(row.status, 'ready');
    assert.equal(await refCount(srv.bastide.platform.db, row.thumb_sha256!), 1);

    const r = await thumb('/photo.jpg');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/webp');
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('cache-control'), 'private, no-cache');
    const body = Buffer.from(await r.arrayBuffer());
    const meta = await sharp(body).metadata();
    assert.equal(meta.format, 'webp');
    // Upright (portrait) and bounded.
    assert.deepEqual([meta.width, meta.height], [THUMB_SIZE / 2, THUMB_SIZE]);
    assert.equal(meta.exif, undefined);
    assert.equal(meta.orientation, undefined);
    assert.ok(!body.includes('secret-owner'));
    // Cacheable by etag; immutable when the URL names the file's version.
    assert.equal((await thumb('/photo.jpg', nina, { 'if-none-match': r.headers.get('etag') ?? '' })).status, 304);
    assert.match((await thumb('/photo.jpg', nina, {}, `&v=${item.etag}`)).headers.get('cache-control') ?? '', /immutable/);

    // The same bytes under another name share the thumbnail (one reference).
    await upload('/copy.jpg', photo);
    assert.equal((await thumb('/copy.jpg')).status, 200);
    assert.equal(await refCount(srv.bastide.platform.db, row.thumb_sha256!), 1);

    // When no file holds the source any more, the thumbnail's reference is released.
    for (const p of ['/photo.jpg', '/copy.jpg']) assert.equal((await nina.delete(`/api/drive/items${q(p)}`)).status, 204);
    assert.equal((await nina.delete('/api/drive/trash')).status, 200);
    assert.equal(await releaseOrphanThumbnails(srv.bastide.platform), 1);
    assert.equal(await refCount(srv.bastide.platform.db, row.thumb_sha256!), 0);
    assert.equal(await srv.bastide.platform.db.selectFrom('drive_thumbnails').select('status').where('source_sha256', '=', sha).executeTakeFirst(), undefined);
  });

  test('no thumbnail for pixel bombs, SVG, HTML or broken images; others’ files stay unreachable', async () => {
    const bomb = await pngClaiming(10_000, 10_000);
    assert.ok(10_000 * 10_000 > MAX_INPUT_PIXELS);
    await upload('/bomb.png', bomb, 'image/png');
    await upload('/vector.png', '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>', 'image/png');
    await upload('/page.jpg', '<html><script>alert(1)</script></html>', 'image/jpeg');
    await upload('/broken.jpg', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 1, 2, 3]), 'image/jpeg');
    for (const p of ['/bomb.png', '/vector.png', '/page.jpg', '/broken.jpg']) {
      const r = await raw(srv.url, 'GET', `/api/drive/thumbnail${q(p)}`, { headers: { cookie: nina.cookie } });
      assertError(r, 404, 'not_found');
      assert.equal(r.json.error.details.reason, 'no_thumbnail', p);
    }
    const good = await sharp({ create: { width: 50, height: 50, channels: 3, background: '#123' } }).png().toBuffer();
    await upload('/small.png', good, 'image/png');
    const small = await thumb('/small.png');
    assert.equal(small.status, 200);
    // Never enlarged.
    assert.equal((await sharp(Buffer.from(await small.arrayBuffer())).metadata()).width, 50);
    assert.equal((await thumb('/small.png', omar)).status, 404);
    assertError(await raw(srv.url, 'GET', `/api/drive/thumbnail${q('/')}`, { headers: { cookie: nina.cookie } }), 409, 'conflict');
    assertError(await raw(srv.url, 'GET', `/api/drive/thumbnail${q('a/../b')}`, { headers: { cookie: nina.cookie } }), 400, 'invalid_name');
  });
});
