import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, DEFAULT_PASSWORD, makeUser, startTestServer } from '../../../test/helpers/server.js';

test('login, session, CSRF and logout', async () => {
  const srv = await startTestServer();
  try {
    await makeUser(srv, 'alice');
    const c = new ApiClient(srv.url);
    assert.equal((await c.get('/api/session')).status, 401);
    const me = await c.login('alice', DEFAULT_PASSWORD);
    assert.equal(me.login, 'alice');
    assert.ok(c.csrf.length > 10);
    // A cookie-authenticated write without the CSRF header is refused and changes nothing.
    const saved = c.csrf;
    c.csrf = '';
    const r = await c.patch('/api/me', { displayName: 'Mallory' });
    assert.equal(r.status, 403);
    assert.equal(r.json.error.code, 'csrf_failed');
    c.csrf = saved;
    assert.equal((await c.get('/api/session')).json.user.displayName, 'ALICE');
    const ok = await c.patch('/api/me', { displayName: 'Alice A.' });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.user.displayName, 'Alice A.');
    assert.equal((await c.post('/api/auth/logout')).status, 204);
    assert.equal((await c.get('/api/session')).status, 401);
  } finally {
    await srv.close();
  }
});
