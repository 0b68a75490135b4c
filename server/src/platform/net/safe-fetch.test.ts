import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from '../../errors.js';
import { addressAllowed, safeFetch } from './safe-fetch.js';

/** Outbound requests refuse every non-public address (SSRF), on every hop, unless an operator allowed it. */
describe('safeFetch', () => {
  let server: Server;
  let base = '';
  const LOCAL = ['127.0.0.1/32'];

  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/big') return res.end('x'.repeat(100_000));
      if (req.url === '/to-metadata') return res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      if (req.url === '/to-self') return res.writeHead(301, { location: '/hello' }).end();
      if (req.url === '/loop') return res.writeHead(302, { location: '/loop' }).end();
      if (req.url === '/slow') return; // never answers
      if (req.method === 'POST') {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => res.end(`got ${body}`));
        return;
      }
      res.setHeader('content-type', 'text/plain');
      res.end('hello');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const refused = async (p: Promise<unknown>, reason: string): Promise<void> => {
    await assert.rejects(p, (e: unknown) => e instanceof AppError && e.details?.reason === reason);
  };

  test('only public unicast addresses, unless allowed', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '255.255.255.255', '224.0.0.1', '::1', '::', 'fe80::1', 'fc00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', 'not-an-ip']) {
      assert.equal(addressAllowed(a), false, a);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '2001:4860:4860::8888', '::ffff:8.8.8.8']) assert.equal(addressAllowed(a), true, a);
    assert.equal(addressAllowed('127.0.0.1', LOCAL), true);
    assert.equal(addressAllowed('127.0.0.2', LOCAL), false);
    assert.equal(addressAllowed('10.9.8.7', ['10.0.0.0/8']), true);
    assert.equal(addressAllowed('127.0.0.1', ['garbage']), false);
  });

  test('refuses loopback, a name with any private answer, other schemes and credentials', async () => {
    await refused(safeFetch(`${base}/hello`), 'private_address');
    await refused(safeFetch('http://intranet.example/', { resolve: async () => ['93.184.216.34', '127.0.0.1'] }), 'private_address');
    await refused(safeFetch('http://[::1]/'), 'private_address');
    await refused(safeFetch('http://2130706433/'), 'private_address'); // 127.0.0.1 in decimal
    await refused(safeFetch('file:///etc/passwd'), 'unsupported_scheme');
    await refused(safeFetch('gopher://example.org/'), 'unsupported_scheme');
    await refused(safeFetch(`http://user:pw@127.0.0.1/`, { allow: LOCAL }), 'credentials_in_url');
    await refused(safeFetch('not a url'), 'invalid_url');
  });

  test('an allowed address is fetched; each redirect hop is checked again', async () => {
    const r = await safeFetch(`${base}/hello`, { allow: LOCAL });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'hello');
    const self = await safeFetch(`${base}/to-self`, { allow: LOCAL });
    assert.equal(self.body.toString(), 'hello');
    assert.equal(self.url, `${base}/hello`);
    await refused(safeFetch(`${base}/to-metadata`, { allow: LOCAL }), 'private_address');
    await refused(safeFetch(`${base}/loop`, { allow: LOCAL }), 'too_many_redirects');
    const posted = await safeFetch(`${base}/echo`, { allow: LOCAL, method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
    assert.equal(posted.body.toString(), 'got {"a":1}');
  });

  test('bounded: a large body is cut, a silent server times out', async () => {
    const r = await safeFetch(`${base}/big`, { allow: LOCAL, maxBytes: 1000 });
    assert.equal(r.body.length, 1000);
    assert.equal(r.truncated, true);
    const t0 = Date.now();
    await assert.rejects(safeFetch(`${base}/slow`, { allow: LOCAL, timeoutMs: 300 }), /timed out/);
    assert.ok(Date.now() - t0 < 3000);
  });
});
