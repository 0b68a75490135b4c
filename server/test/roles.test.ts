import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer } from './helpers/server.js';
import { createTestStorage } from './helpers/db.js';

test('roles decide what one process serves', async () => {
  const storage = await createTestStorage('sqlite');
  const webDir = join(storage.dataDir, 'web');
  mkdirSync(webDir, { recursive: true });
  writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>Bastide</title>');
  try {
    // A worker node: health and metrics, no API, no web app, no socket.
    const worker = await startTestServer({ storage, config: { roles: ['jobs'], webDir } });
    try {
      assert.equal((await fetch(`${worker.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${worker.url}/readyz`)).status, 200);
      assert.equal((await fetch(`${worker.url}/metrics`)).status, 200);
      assert.equal((await fetch(`${worker.url}/api/setup/status`)).status, 404);
      assert.equal((await fetch(`${worker.url}/login`)).status, 404);
    } finally {
      await worker.close();
    }
    // A front node with everything: the web app's routes serve index.html, missing assets are 404.
    const front = await startTestServer({ storage, config: { webDir } });
    try {
      const page = await fetch(`${front.url}/settings/profile`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
      assert.equal((await fetch(`${front.url}/assets/missing-abc123.js`)).status, 404);
      assert.equal((await fetch(`${front.url}/favicon.ico`)).status, 404);
      assert.equal((await fetch(`${front.url}/api/setup/status`)).status, 200);
      assert.equal((await fetch(`${front.url}/api/nope`)).status, 404);
    } finally {
      await front.close();
    }
    // An API-only node: no web app.
    const api = await startTestServer({ storage, config: { roles: ['api'], webDir } });
    try {
      assert.equal((await fetch(`${api.url}/api/setup/status`)).status, 200);
      assert.equal((await fetch(`${api.url}/settings/profile`)).status, 404);
    } finally {
      await api.close();
    }
  } finally {
    await storage.cleanup();
  }
});
