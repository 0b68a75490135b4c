import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { startTestServer, type ApiClient, type TestServer } from '../../../test/helpers/server.js';
import { assertError, raw, userClient } from '../../../test/helpers/api.js';
import { inlineDisposition, looksActive, sniff } from './previews.js';

const HTML_PAGE = '<!DOCTYPE html><html><head><title>x</title></head><body><script>document.title="pwned";fetch("/marker")</script></body></html>';
const SVG_SCRIPT = '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(document.domain)</script></svg>';
/** A PDF header (what the name claims) nowhere: the bytes are an HTML page. */
const HTML_AS_PDF = '\n\n  <html><body><img src=x onerror="fetch(\'/marker\')"></body></html>';
/** U+202E RIGHT-TO-LEFT OVERRIDE: shown as "invoice_lmth.png" but it ends in ".html". */
const RLO_NAME = 'invoice_\u202Egnp.html';
const MINIMAL_PDF = '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n';

describe('sniffing', () => {
  test('active markup is recognised, wherever a browser would see it', () => {
    for (const s of [HTML_PAGE, SVG_SCRIPT, HTML_AS_PDF, '\ufeff<html>', '<svg/onload=alert(1)>', '  <!-- c --><p>x', 'text then <script>x</script>', '<\0h\0t\0m\0l\0>\0']) {
      assert.ok(looksActive(Buffer.from(s)), s);
      assert.equal(sniff(Buffer.from(s), 'a.txt', true), null, s);
    }
    assert.ok(!looksActive(Buffer.from('# Title\n\nSome *text* with a < b and x > y.\n')));
  });

  test('only magic bytes decide the type, never the name', async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#f00' } }).png().toBuffer();
    assert.deepEqual(sniff(png, 'photo.pdf', true), { kind: 'image', type: 'image/png' });
    assert.deepEqual(sniff(Buffer.from(MINIMAL_PDF), 'x.bin', true), { kind: 'pdf', type: 'application/pdf' });
    assert.deepEqual(sniff(Buffer.from('plain words\n'), 'x.html', true), { kind: 'text', type: 'text/plain; charset=utf-8' });
    assert.equal(sniff(Buffer.from([0, 1, 2, 3, 0xfe, 0xff]), 'x.txt', true), null);
    assert.equal(sniff(Buffer.from('\x00\x00\x00\x18ftypXXXX'), 'x.mp4', true), null);
    assert.deepEqual(sniff(Buffer.from('\x00\x00\x00\x18ftypisom'), 'x.bin', true), { kind: 'video', type: 'video/mp4' });
  });

  test('names with bidirectional overrides cannot lie in the headers', () => {
    const d = inlineDisposition(RLO_NAME);
    assert.ok(!d.includes('\u202E') && !d.includes('%E2%80%AE'), d);
    assert.match(d, /^inline; filename="invoice__gnp\.html"/);
  });
});

/** The preview route over HTTP: inert types inline with a sandboxing CSP; hostile files refused, downloads attachments. */
describe('drive preview route', () => {
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
  const upload = async (path: string, body: string | Buffer, type: string) => {
    const r = await raw(srv.url, 'PUT', `/api/drive/content${q(path)}`, { body, headers: { cookie: nina.cookie, 'x-csrf-token': nina.csrf, 'content-type': type } });
    assert.ok(r.status === 201 || r.status === 200, JSON.stringify(r.json));
  };
  const get = (route: 'preview' | 'content', path: string, c: ApiClient = nina, headers: Record<string, string> = {}) =>
    fetch(`${srv.url}/api/drive/${route}${q(path)}`, { headers: { cookie: c.cookie, ...headers } });

  test('hostile files are refused inline and only ever downloaded as attachments', async () => {
    const hostile: Array<[string, string, string]> = [
      ['/page.html', HTML_PAGE, 'text/html'],
      ['/logo.svg', SVG_SCRIPT, 'image/svg+xml'],
      ['/report.pdf', HTML_AS_PDF, 'application/pdf'],
      [`/${RLO_NAME}`, HTML_PAGE, 'image/png'],
    ];
    for (const [path, body, type] of hostile) {
      await upload(path, body, type);
      const p = await get('preview', path);
      assert.equal(p.status, 415, path);
      assert.equal(p.headers.get('content-type')?.split(';')[0], 'application/json', path);
      const err = (await p.json()) as { error: { code: string } };
      assert.equal(err.error.code, 'unsupported_media_type');
      assert.equal(p.headers.get('x-content-type-options'), 'nosniff');
      const d = await get('content', path);
      assert.equal(d.status, 200, path);
      assert.match(d.headers.get('content-disposition') ?? '', /^attachment;/, path);
      assert.equal(d.headers.get('x-content-type-options'), 'nosniff');
      assert.match(d.headers.get('content-security-policy') ?? '', /sandbox/);
      assert.equal(await d.text(), body);
    }
    // The RLO name's download: the ASCII fallback has no override; the browser gets the real extension.
    const rlo = await get('content', `/${RLO_NAME}`);
    assert.match(rlo.headers.get('content-disposition') ?? '', /filename="invoice__gnp\.html"/);
  });

  test('inert types are served inline with the type their bytes show and a sandboxing CSP', async () => {
    const png = await sharp({ create: { width: 8, height: 6, channels: 3, background: '#0a0' } }).png().toBuffer();
    await upload('/photo.png', png, 'text/html');
    const p = await get('preview', '/photo.png');
    assert.equal(p.status, 200);
    assert.equal(p.headers.get('content-type'), 'image/png');
    assert.match(p.headers.get('content-disposition') ?? '', /^inline; filename="photo\.png"/);
    assert.equal(p.headers.get('x-content-type-options'), 'nosniff');
    const csp = p.headers.get('content-security-policy') ?? '';
    assert.match(csp, /^sandbox; default-src 'none'/);
    assert.match(csp, /frame-ancestors 'self'/);
    assert.deepEqual(Buffer.from(await p.arrayBuffer()), png);

    await upload('/doc.pdf', MINIMAL_PDF, 'application/octet-stream');
    const pdf = await get('preview', '/doc.pdf');
    assert.equal(pdf.status, 200);
    assert.equal(pdf.headers.get('content-type'), 'application/pdf');
    assert.match(pdf.headers.get('content-security-policy') ?? '', /^sandbox; default-src 'none'.*script-src 'none'/);

    await upload('/readme.md', '# Hello\n\n<b>not markup</b> here\n', 'text/markdown');
    const md = await get('preview', '/readme.md');
    assert.equal(md.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.match(md.headers.get('content-security-policy') ?? '', /^sandbox; default-src 'none'/);

    // Ranges (media seeking) and revalidation.
    const part = await get('preview', '/photo.png', nina, { range: 'bytes=0-7' });
    assert.equal(part.status, 206);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), png.subarray(0, 8));
    const etag = p.headers.get('etag') ?? '';
    assert.equal((await get('preview', '/photo.png', nina, { 'if-none-match': etag })).status, 304);
  });

  test('permissions and bad input', async () => {
    assert.equal((await get('preview', '/photo.png', omar)).status, 404);
    assert.equal((await fetch(`${srv.url}/api/drive/preview${q('/photo.png')}`)).status, 401);
    assertError(await raw(srv.url, 'GET', `/api/drive/preview${q('/../photo.png')}`, { headers: { cookie: nina.cookie } }), 400, 'invalid_name');
    assertError(await raw(srv.url, 'GET', `/api/drive/preview${q('/')}`, { headers: { cookie: nina.cookie } }), 409, 'conflict');
    assertError(await raw(srv.url, 'GET', `/api/drive/preview${q('/absent.png')}`, { headers: { cookie: nina.cookie } }), 404, 'not_found');
    assertError(await raw(srv.url, 'GET', `/api/drive/preview?path=%2Fphoto.png&drive=nobody`, { headers: { cookie: nina.cookie } }), 400, 'validation_failed');
  });
});
