import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startTestServer, type ApiClient, type TestServer } from '../../test/helpers/server.js';
import { adminClient, raw } from '../../test/helpers/api.js';
import { runCli, storageEnv } from '../../test/helpers/cli.js';

/** The tamper-evident audit log: a hash chain that verify() walks, over HTTP and from the CLI. */
describe('audit log', () => {
  let srv: TestServer;
  let admin: ApiClient;

  before(async () => {
    srv = await startTestServer();
    admin = (await adminClient(srv)).client;
    for (let i = 0; i < 5; i++) await admin.post('/api/admin/groups', { name: `Group ${i}` });
    await raw(srv.url, 'POST', '/api/auth/login', { json: { login: 'admin', password: 'wrong-password-here' } });
  });
  after(() => srv.close());

  const db = () => srv.bastide.platform.db;
  const rows = () => db().selectFrom('audit_log').selectAll().orderBy('seq').execute();
  const verify = () => srv.bastide.platform.audit.verify();

  test('entries form a chain from the genesis hash, in seq order without gaps', async () => {
    const all = await rows();
    assert.ok(all.length >= 8, `${all.length} entries`);
    let prev = '0'.repeat(64);
    all.forEach((r, i) => {
      assert.equal(Number(r.seq), i + 1);
      assert.equal(r.prev_hash, prev, `entry ${r.seq} links to the previous one`);
      assert.match(r.hash, /^[0-9a-f]{64}$/);
      assert.doesNotThrow(() => JSON.parse(r.details));
      prev = r.hash;
    });
    assert.equal(new Set(all.map((r) => r.hash)).size, all.length);
    assert.deepEqual(await verify(), { ok: true, count: all.length, brokenAt: null });
    const http = await admin.get('/api/admin/audit/verify');
    assert.deepEqual(http.json, { ok: true, count: all.length, brokenAt: null });
  });

  test('the list is newest first, pages with a cursor, filters by action', async () => {
    const total = (await rows()).length;
    const p1 = await admin.get('/api/admin/audit?limit=3');
    assert.deepEqual(p1.json.items.map((e: any) => e.seq), [total, total - 1, total - 2]);
    assert.equal(p1.json.nextCursor, String(total - 2));
    const p2 = await admin.get(`/api/admin/audit?limit=3&cursor=${p1.json.nextCursor}`);
    assert.deepEqual(p2.json.items.map((e: any) => e.seq), [total - 3, total - 4, total - 5]);
    const created = await admin.get('/api/admin/audit?action=identity.group.created');
    assert.equal(created.json.items.length, 5);
    assert.ok(created.json.items.every((e: any) => e.actorLogin === 'admin' && e.targetType === 'group' && typeof e.details.name === 'string'), 'created.json.items.every((e: any) => e.actorLogin === \'admin\' && e.targetType === \'grou...');
    assert.equal(created.json.nextCursor, null);
  });

  test('concurrent writers still make one unbroken chain', async () => {
    const before = (await rows()).length;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => admin.post('/api/admin/groups', { name: `Concurrent ${i}` })));
    assert.ok(results.every((r) => r.status === 201), JSON.stringify(results.map((r) => r.status)));
    const all = await rows();
    assert.equal(all.length, before + 20);
    assert.deepEqual(await verify(), { ok: true, count: all.length, brokenAt: null });
  });

  test('editing one entry breaks the chain at that entry; the CLI exits 1', async () => {
    const all = await rows();
    const target = all[3]!;
    const seq = Number(target.seq);
    await sql`update audit_log set details = ${'{"name":"nothing to see"}'} where seq = ${seq}`.execute(db());
    assert.deepEqual(await verify(), { ok: false, count: seq - 1, brokenAt: seq });
    assert.deepEqual((await admin.get('/api/admin/audit/verify')).json, { ok: false, count: seq - 1, brokenAt: seq });
    const cli = await runCli(['audit', 'verify'], { env: storageEnv(srv.storage) });
    assert.equal(cli.code, 1, cli.stderr);
    assert.match(cli.stdout, new RegExp(`BROKEN at entry ${seq}\\b`));
    // Put it back: intact again.
    await sql`update audit_log set details = ${target.details} where seq = ${seq}`.execute(db());
    assert.equal((await verify()).ok, true);
  });

  test('recomputing the edited entry’s own hash does not help: the next link breaks', async () => {
    const all = await rows();
    const seq = 5;
    const victim = all[seq - 1]!;
    // Change the time and the actor, and forge a hash: the following entry no longer links to it.
    await sql`update audit_log set at = ${Number(victim.at) + 1}, actor_login = ${'someone-else'}, hash = ${'f'.repeat(64)} where seq = ${seq}`.execute(db());
    const r = await verify();
    assert.equal(r.ok, false);
    assert.equal(r.brokenAt, seq);
    await sql`update audit_log set at = ${victim.at}, actor_login = ${victim.actor_login}, hash = ${victim.hash} where seq = ${seq}`.execute(db());
    // Only the hash changed (the content is intact): the entry itself now fails, never the one before.
    await sql`update audit_log set hash = ${'0'.repeat(64)} where seq = ${seq}`.execute(db());
    assert.equal((await verify()).brokenAt, seq);
    await sql`update audit_log set hash = ${victim.hash} where seq = ${seq}`.execute(db());
    assert.equal((await verify()).ok, true);
  });

  test('deleting an entry breaks the chain; the CLI exits 1', async () => {
    const all = await rows();
    const seq = 7;
    await sql`delete from audit_log where seq = ${seq}`.execute(db());
    const r = await verify();
    assert.equal(r.ok, false);
    assert.equal(r.brokenAt, seq + 1, 'the entry after the gap');
    assert.equal(r.count, seq - 1);
    const cli = await runCli(['audit', 'verify'], { env: storageEnv(srv.storage) });
    assert.equal(cli.code, 1, cli.stderr);
    assert.match(cli.stdout, /BROKEN/);
    // New entries are still written after a broken chain (recording never stops).
    assert.equal((await admin.post('/api/admin/groups', { name: 'After the gap' })).status, 201);
    assert.equal((await rows()).length, all.length);
  });
});
