import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, DEFAULT_PASSWORD, makeUser, startTestServer } from './helpers/server.js';

test('graceful shutdown: in-flight writes complete, later writes get 503, nothing half-done', async () => {
  const first = await startTestServer();
  const storage = first.storage;
  let names: string[] = [];
  const answered: Array<{ name: string; status: number }> = [];
  try {
    await makeUser(first, 'root', { admin: true });
    const c = new ApiClient(first.url);
    await c.login('root', DEFAULT_PASSWORD);
    names = Array.from({ length: 40 }, (_, i) => `group-${i}`);
    // Fire many writes, then stop while they are in flight.
    let firstAnswer: () => void = () => undefined;
    const gotOne = new Promise<void>((r) => (firstAnswer = r));
    const inflight = names.map(async (name) => {
      try {
        const r = await c.post('/api/admin/groups', { name });
        answered.push({ name, status: r.status });
        firstAnswer();
      } catch {
        answered.push({ name, status: 0 }); // connection refused after the listener closed
      }
    });
    await gotOne;
    await first.bastide.close();
    await Promise.all(inflight);
  } finally {
    // storage is reused below; close() above already ran
  }
  const second = await startTestServer({ storage });
  try {
    const c = new ApiClient(second.url);
    await c.login('root', DEFAULT_PASSWORD);
    const groups = (await c.get('/api/admin/groups')).json.items.map((g: { name: string }) => g.name);
    for (const a of answered) {
      assert.ok([201, 503, 0].includes(a.status), `unexpected status ${a.status} for ${a.name}`);
      if (a.status === 201) assert.ok(groups.includes(a.name), `${a.name} was acknowledged but is missing`);
    }
    assert.ok(answered.some((a) => a.status === 201), "some writes completed");
    console.log(`# shutdown: ${answered.filter((a) => a.status === 201).length} acknowledged, ${answered.filter((a) => a.status === 503).length} refused with 503, ${answered.filter((a) => a.status === 0).length} not connected`);
    // Every group that exists was either acknowledged or still in flight when the stop began; each has its audit entry.
    const audit = await c.get('/api/admin/audit?action=identity.group.created&limit=200');
    assert.equal(audit.json.items.length, groups.length);
    assert.equal((await c.get('/api/admin/audit/verify')).json.ok, true);
  } finally {
    await second.close();
    await storage.cleanup();
  }
});
