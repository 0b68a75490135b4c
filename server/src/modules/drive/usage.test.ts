import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startTestServer, type ApiClient, type TestServer } from '../../../test/helpers/server.js';
import { raw, userClient } from '../../../test/helpers/api.js';
import { createAppPassword } from '../identity/commands/credentials.js';

/**
 * drive_usage is kept by triggers: after every kind of write (upload, overwrite with versions, copy,
 * move, trash, restore, purge, version restore, WebDAV), the counter equals the sum it replaces.
 */
describe('drive usage counter', () => {
  let srv: TestServer;
  let nina: ApiClient;
  let ninaId = '';
  let davAuth = '';

  before(async () => {
    srv = await startTestServer({ config: { logLevel: (process.env.TEST_LOG as 'error') ?? 'silent' } });
    const n = await userClient(srv, 'nina');
    nina = n.client;
    ninaId = n.id;
    const { password } = await createAppPassword({ platform: srv.bastide.platform, actor: { kind: 'system' } }, { userId: n.id, name: 'dav', scopes: ['dav'] });
    davAuth = `Basic ${Buffer.from(`nina:${password}`).toString('base64')}`;
  });
  after(() => srv.close());

  const q = (p: string) => `?path=${encodeURIComponent(p)}`;
  const upload = (path: string, body: string) =>
    raw(srv.url, 'PUT', `/api/drive/content${q(path)}`, { body, headers: { cookie: nina.cookie, 'x-csrf-token': nina.csrf, 'content-type': 'text/plain' } });
  const dav = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
    fetch(`${srv.url}/dav/files/nina${path}`, { method, headers: { authorization: davAuth, ...headers }, body });

  /** The counter and the sum it stands for, for every drive that has either. */
  async function check(step: string): Promise<number> {
    const db = srv.bastide.platform.db;
    const sums = await sql<{ owner_type: string; owner_id: string; bytes: number | string }>`
      select owner_type, owner_id, sum(size) as bytes from (
        select owner_type, owner_id, size from drive_nodes where kind = 'file'
        union all select owner_type, owner_id, size from drive_versions) u
      group by owner_type, owner_id`.execute(db);
    const counters = await db.selectFrom('drive_usage').selectAll().execute();
    const want = new Map(sums.rows.map((r) => [`${r.owner_type}:${r.owner_id}`, Number(r.bytes)]));
    for (const c of counters) {
      const key = `${c.owner_type}:${c.owner_id}`;
      assert.equal(Number(c.bytes), want.get(key) ?? 0, `${step}: counter of ${key}`);
      want.delete(key);
    }
    assert.deepEqual([...want.entries()].filter(([, v]) => v !== 0), [], `${step}: drives without a counter`);
    return Number(counters.find((c) => c.owner_id === ninaId)?.bytes ?? 0);
  }

  test('every write keeps the counter equal to the sum of files, trash and versions', async () => {
    assert.equal(await check('start'), 0);
    assert.equal((await nina.post('/api/drive/folders', { path: '/', name: 'A' })).status, 201);
    assert.equal((await upload('/A/one.txt', 'x'.repeat(100))).status, 201);
    assert.equal(await check('upload'), 100);
    assert.equal((await upload('/A/one.txt', 'y'.repeat(40))).status, 200);
    assert.equal(await check('overwrite keeps a version'), 140);
    assert.equal((await nina.post(`/api/drive/copy`, { from: '/A/one.txt', to: '/A/two.txt' })).status, 201);
    assert.equal(await check('copy'), 180);
    assert.equal((await nina.post('/api/drive/move', { from: '/A/two.txt', to: '/two.txt' })).status, 200);
    assert.equal(await check('move'), 180);
    assert.equal((await dav('PUT', '/dav.bin', {}, 'z'.repeat(1000))).status, 201);
    assert.equal((await dav('PUT', '/dav.bin', {}, 'z'.repeat(10))).status, 204);
    assert.equal(await check('WebDAV overwrite'), 180 + 1000 + 10);
    assert.equal((await dav('COPY', '/A', { destination: `${srv.url}/dav/files/nina/B`, depth: 'infinity' })).status, 201);
    assert.equal(await check('WebDAV folder copy'), 1190 + 40);
    const versions = (await nina.get(`/api/drive/versions${q('/A/one.txt')}`)).json.versions as { id: string }[];
    assert.equal((await nina.post(`/api/drive/versions/${versions[0]!.id}/restore${q('/A/one.txt')}`)).status, 200);
    assert.equal(await check('version restore'), 1230 + 100);
    assert.equal((await nina.delete(`/api/drive/items${q('/A')}`)).status, 204);
    assert.equal(await check('trash'), 1330);
    const trash = (await nina.get('/api/drive/trash')).json.items as { id: string }[];
    assert.equal((await nina.post(`/api/drive/trash/${trash[0]!.id}/restore`)).status, 200);
    assert.equal((await nina.delete(`/api/drive/items${q('/A')}`)).status, 204);
    assert.equal((await nina.delete('/api/drive/trash')).status, 200);
    assert.equal(await check('empty trash (versions of purged files go too)'), 1330 - (100 + 40 + 100));
    assert.equal((await dav('DELETE', '/B')).status, 204);
    assert.equal((await nina.delete('/api/drive/trash')).status, 200);
    assert.equal(await check('WebDAV delete then purge'), 1330 - 240 - 40);
    const quota = (await nina.get('/api/drive/quota')).json as { used: number };
    assert.equal(quota.used, 1050);
  });
});
