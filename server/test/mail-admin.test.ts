import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createVerify } from 'node:crypto';
import { startTestServer, type TestServer, type ApiClient } from './helpers/server.js';
import { adminClient, assertError, snapshotAll, userClient } from './helpers/api.js';
import { runCli, storageEnv } from './helpers/cli.js';
import { createTestStorage } from './helpers/db.js';
import { testEngine } from './helpers/server.js';

/** Mail domains and addresses: CLI (domain add/list/dns, doctor) and the admin JSON API, with permissions. */

describe('mail domains: CLI', () => {
  test('domain add prints the DNS records; list, dns, doctor; bad and duplicate domains refused', async () => {
    const storage = await createTestStorage(testEngine());
    try {
      const env = { ...storageEnv(storage), BASTIDE_MAIL_HOSTNAME: 'mail.exemple.fr' };
      const add = await runCli(['domain', 'add', 'Exemple.FR'], { env });
      assert.equal(add.code, 0, add.stderr);
      assert.match(add.stdout, /mail domain exemple\.fr added \(default/);
      assert.match(add.stdout, /^ {2}exemple\.fr\. IN MX 10 mail\.exemple\.fr\.$/m);
      assert.match(add.stdout, /^ {2}exemple\.fr\. IN TXT "v=spf1 mx -all"$/m);
      assert.match(add.stdout, /^ {2}bastide\._domainkey\.exemple\.fr\. IN TXT "v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+/m);
      assert.match(add.stdout, /^ {2}_dmarc\.exemple\.fr\. IN TXT "v=DMARC1; p=quarantine;/m);
      const dup = await runCli(['domain', 'add', 'exemple.fr'], { env });
      assert.equal(dup.code, 1);
      assert.match(dup.stderr, /mail_domain_taken/);
      const bad = await runCli(['domain', 'add', 'not a domain'], { env });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /validation_failed/);
      const list = await runCli(['domain', 'list'], { env });
      assert.match(list.stdout, /exemple\.fr {2}\(default\)/);
      const dns = await runCli(['domain', 'dns', 'exemple.fr'], { env });
      assert.match(dns.stdout, /_dmarc\.exemple\.fr/);
      const doctor = await runCli(['doctor'], { env });
      assert.match(doctor.stdout, /mail: host mail\.exemple\.fr/);
      assert.match(doctor.stdout, /bastide\._domainkey\.exemple\.fr\. IN TXT/);
      const incomplete = await runCli(['domain', 'add'], { env });
      assert.equal(incomplete.code, 2);
    } finally {
      await storage.cleanup();
    }
  });
});

describe('mail domains and addresses: admin API', () => {
  let srv: TestServer;
  let admin: { id: string; client: ApiClient };
  let paul: { id: string; client: ApiClient };
  let domainId = '';

  before(async () => {
    srv = await startTestServer({ config: { mailHostname: 'mail.bastide.test' } });
    admin = await adminClient(srv);
    paul = await userClient(srv, 'paul');
  });
  after(() => srv.close());

  test('add a domain: DKIM key usable, DNS records returned; duplicates and bad names refused', async () => {
    const r = await admin.client.post('/api/admin/mail/domains', { name: 'bastide.test' });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    domainId = r.json.item.id;
    assert.equal(r.json.item.isDefault, true);
    const dkim = r.json.dns.find((d: { name: string }) => d.name === 'bastide._domainkey.bastide.test.');
    const p = /p=([A-Za-z0-9+/=]+)/.exec(dkim.value)![1]!;
    const row = await srv.bastide.platform.db.selectFrom('mail_domains').selectAll().where('id', '=', domainId).executeTakeFirstOrThrow();
    const sig = (await import('node:crypto')).createSign('sha256').update('x').sign(row.dkim_private_key);
    assert.ok(createVerify('sha256').update('x').verify({ key: Buffer.from(p, 'base64'), format: 'der', type: 'spki' }, sig), 'the published key matches the signing key');
    assertError(await admin.client.post('/api/admin/mail/domains', { name: 'BASTIDE.test' }), 409, 'mail_domain_taken');
    assertError(await admin.client.post('/api/admin/mail/domains', { name: '-bad-.test' }), 400, 'validation_failed');
    assertError(await admin.client.post('/api/admin/mail/domains', { name: 'x', extra: 1 }), 400, 'validation_failed');
    const list = await admin.client.get('/api/admin/mail/domains');
    assert.deepEqual(list.json.items.map((d: { name: string }) => d.name), ['bastide.test']);
    assert.equal((await admin.client.get(`/api/admin/mail/domains/${domainId}/dns`)).json.zone.length, 4);
  });

  test('addresses: aliases, lists, shared mailboxes; conflicts and unknown targets refused', async () => {
    const alias = await admin.client.post('/api/admin/mail/addresses', { address: 'Paul.Martin@bastide.test', targetType: 'user', targetId: paul.id, primary: true });
    assert.equal(alias.status, 201, JSON.stringify(alias.json));
    assert.equal(alias.json.item.address, 'paul.martin@bastide.test');
    assertError(await admin.client.post('/api/admin/mail/addresses', { address: 'paul.martin@bastide.test', targetType: 'user', targetId: admin.id }), 409, 'mail_address_taken');
    // paul@ is paul's implicit address: nobody else may take it.
    assertError(await admin.client.post('/api/admin/mail/addresses', { address: 'paul@bastide.test', targetType: 'user', targetId: admin.id }), 409, 'mail_address_taken');
    assertError(await admin.client.post('/api/admin/mail/addresses', { address: 'x@elsewhere.test', targetType: 'user', targetId: paul.id }), 404, 'not_found');
    assertError(await admin.client.post('/api/admin/mail/addresses', { address: 'x@bastide.test', targetType: 'group', targetId: '01J0000000000000000000000Z' }), 404, 'not_found');
    assertError(await admin.client.post('/api/admin/mail/addresses', { address: 'no at sign', targetType: 'user', targetId: paul.id }), 400, 'validation_failed');
    assertError(await admin.client.post('/api/admin/mail/addresses', { address: 'x@bastide.test', targetType: 'robot', targetId: paul.id }), 400, 'validation_failed');
    const mine = await paul.client.get('/api/mail/addresses');
    assert.deepEqual(mine.json.items, ['paul.martin@bastide.test', 'paul@bastide.test']);
    const listed = await admin.client.get(`/api/admin/mail/addresses?targetType=user&targetId=${paul.id}`);
    assert.equal(listed.json.items.length, 1);
    assert.equal((await admin.client.delete(`/api/admin/mail/addresses/${alias.json.item.id}`)).status, 204);
    assertError(await admin.client.delete(`/api/admin/mail/addresses/${alias.json.item.id}`), 404, 'not_found');
    assert.deepEqual((await paul.client.get('/api/mail/addresses')).json.items, ['paul@bastide.test']);
  });

  test('a non-administrator can neither read nor change mail administration; nothing changes', async () => {
    const before = await snapshotAll(srv.bastide.platform.db, ['mail_domains', 'mail_addresses']);
    assertError(await paul.client.get('/api/admin/mail/domains'), 403, 'forbidden');
    assertError(await paul.client.post('/api/admin/mail/domains', { name: 'evil.test' }), 403, 'forbidden');
    assertError(await paul.client.delete(`/api/admin/mail/domains/${domainId}`), 403, 'forbidden');
    assertError(await paul.client.get('/api/admin/mail/addresses'), 403, 'forbidden');
    assertError(await paul.client.post('/api/admin/mail/addresses', { address: 'boss@bastide.test', targetType: 'user', targetId: paul.id }), 403, 'forbidden');
    assertError(await paul.client.get('/api/admin/mail/queue'), 403, 'forbidden');
    const anon = await fetch(`${srv.url}/api/admin/mail/domains`);
    assert.equal(anon.status, 401);
    assert.deepEqual(await snapshotAll(srv.bastide.platform.db, ['mail_domains', 'mail_addresses']), before);
  });

  test('the queue view and domain removal', async () => {
    assert.deepEqual((await admin.client.get('/api/admin/mail/queue')).json.items, []);
    assert.equal((await admin.client.delete(`/api/admin/mail/domains/${domainId}`)).status, 204);
    assert.deepEqual((await admin.client.get('/api/admin/mail/domains')).json.items, []);
    assert.deepEqual((await paul.client.get('/api/mail/addresses')).json.items, []);
  });
});
