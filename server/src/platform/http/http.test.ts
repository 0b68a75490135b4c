import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ApiClient, startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { adminClient, assertError, assertErrorShape, countRows, prng, raw, snapshot, snapshotAll, userClient, type Res } from '../../../test/helpers/api.js';

/**
 * The HTTP layer against bad input: every refusal is a 4xx in the documented error shape and changes
 * nothing; no input produces a 5xx. Also the operational endpoints, the OpenAPI document and headers.
 */
const BODY_LIMIT = 8192;
const TABLES = ['users', 'groups', 'group_members', 'sessions', 'app_passwords', 'api_tokens', 'audit_log', 'login_throttle', 'spaces', 'space_members', 'notifications', 'outbox'];

describe('bad input and HTTP surface', () => {
  let srv: TestServer;
  let admin: { id: string; client: ApiClient };
  let user: { id: string; client: ApiClient };

  before(async () => {
    // loginMaxAttempts is high so the fuzzing of the login route does not lock 127.0.0.1 out.
    srv = await startTestServer({ config: { bodyLimitBytes: BODY_LIMIT, loginMaxAttempts: 100 } });
    admin = await adminClient(srv);
    user = await userClient(srv, 'ursula');
  });
  after(() => srv.close());

  // What the relay and the session touch do in the background is not a change made by a request.
  const state = async () => ({
    ...(await snapshotAll(srv.bastide.platform.db, TABLES.filter((t) => t !== 'outbox' && t !== 'sessions'))),
    outbox: await snapshot(srv.bastide.platform.db, 'outbox', ['published_at']),
    sessions: await snapshot(srv.bastide.platform.db, 'sessions', ['last_seen_at', 'expires_at']),
  });

  /** Sends with the admin's cookie and CSRF token (so only the input is wrong). */
  function send(method: string, path: string, body: string | Buffer | undefined, contentType: string | null = 'application/json'): Promise<Res> {
    const headers: Record<string, string> = { cookie: admin.client.cookie, 'x-csrf-token': admin.client.csrf };
    if (contentType) headers['content-type'] = contentType;
    return raw(srv.url, method, path, { headers, ...(body !== undefined ? { body } : {}) });
  }

  /** Runs the cases; each must be refused with `status` (and `code`), and the database must not move. */
  async function refused(cases: Array<{ name: string; method: string; path: string; body?: string | Buffer; type?: string | null; status: number; code: string; check?: (r: Res) => void }>): Promise<void> {
    const before = await state();
    for (const c of cases) {
      const r = await send(c.method, c.path, c.body, c.type === undefined ? 'application/json' : c.type);
      try {
        assertError(r, c.status, c.code);
        c.check?.(r);
      } catch (e) {
        throw new Error(`${c.name}: ${(e as Error).message}`);
      }
    }
    assert.deepEqual(await state(), before, 'a refused request changed the database');
  }

  test('malformed JSON is 400 invalid_json', async () => {
    await refused(
      ['{"login":', '{bad json}', '[1,2', '{"displayName":"x"} x', "{'displayName':'x'}", '{"displayName":"x",}', '\u0000', 'undefined', 'NaN'].flatMap((body) => [
        { name: `me ${body}`, method: 'PATCH', path: '/api/me', body, status: 400, code: 'invalid_json' },
        { name: `login ${body}`, method: 'POST', path: '/api/auth/login', body, status: 400, code: 'invalid_json' },
      ]),
    );
  });

  test('a body that is not an object, or no body where one is required, is 400 validation_failed', async () => {
    await refused([
      ...['"a string"', '123', 'null', '[]', 'true', '[{"displayName":"x"}]'].map((body) => ({ name: body, method: 'PATCH', path: '/api/me', body, status: 400, code: 'validation_failed' })),
      { name: 'empty login', method: 'POST', path: '/api/auth/login', body: '', status: 400, code: 'validation_failed' },
      { name: 'blank login', method: 'POST', path: '/api/auth/login', body: '  \n ', status: 400, code: 'validation_failed' },
      { name: 'no body, no type', method: 'POST', path: '/api/auth/login', type: null, status: 400, code: 'validation_failed' },
      { name: 'empty group', method: 'POST', path: '/api/admin/groups', body: '', status: 400, code: 'validation_failed' },
      { name: 'empty user', method: 'POST', path: '/api/admin/users', body: '{}', status: 400, code: 'validation_failed' },
      {
        name: 'missing password',
        method: 'POST',
        path: '/api/auth/login',
        body: '{"login":"admin"}',
        status: 400,
        code: 'validation_failed',
        check: (r) => assert.equal(r.json.error.details.fields[0].path, 'password'),
      },
    ]);
  });

  test('a body over bodyLimitBytes is 413 payload_too_large', async () => {
    const big = JSON.stringify({ displayName: 'x'.repeat(BODY_LIMIT) });
    await refused([
      { name: 'me', method: 'PATCH', path: '/api/me', body: big, status: 413, code: 'payload_too_large' },
      { name: 'login', method: 'POST', path: '/api/auth/login', body: JSON.stringify({ login: 'a', password: 'p'.repeat(BODY_LIMIT) }), status: 413, code: 'payload_too_large' },
      { name: 'users', method: 'POST', path: '/api/admin/users', body: Buffer.alloc(BODY_LIMIT * 4, 0x20), status: 413, code: 'payload_too_large' },
    ]);
  });

  test('unknown fields are 400 validation_failed naming the field', async () => {
    const unknown = (field: string) => (r: Res) => assert.equal(r.json.error.details.fields[0].unknownField, field);
    await refused([
      { name: 'me isAdmin', method: 'PATCH', path: '/api/me', body: '{"displayName":"x","isAdmin":true}', status: 400, code: 'validation_failed', check: unknown('isAdmin') },
      { name: 'me login', method: 'PATCH', path: '/api/me', body: '{"login":"root"}', status: 400, code: 'validation_failed', check: unknown('login') },
      { name: 'login remember', method: 'POST', path: '/api/auth/login', body: '{"login":"a","password":"b","remember":true}', status: 400, code: 'validation_failed', check: unknown('remember') },
      { name: 'user id', method: 'POST', path: '/api/admin/users', body: '{"login":"zed","displayName":"Z","id":"01J0000000000000000000000Z"}', status: 400, code: 'validation_failed', check: unknown('id') },
      { name: 'group memberCount', method: 'POST', path: '/api/admin/groups', body: '{"name":"g","memberCount":3}', status: 400, code: 'validation_failed', check: unknown('memberCount') },
      { name: 'unknown query', method: 'GET', path: '/api/admin/users?sort=password_hash', type: null, status: 400, code: 'validation_failed' },
    ]);
  });

  test('wrong types are 400 validation_failed (JSON bodies are not coerced)', async () => {
    const cases: Array<[string, string, string]> = [
      ['PATCH', '/api/me', '{"displayName":123}'],
      ['PATCH', '/api/me', '{"displayName":true}'],
      ['PATCH', '/api/me', '{"displayName":null}'],
      ['PATCH', '/api/me', '{"displayName":["a"]}'],
      ['PATCH', '/api/me', '{"displayName":{}}'],
      ['PATCH', '/api/me', '{"displayName":""}'],
      ['PATCH', '/api/me', '{"theme":"blue"}'],
      ['PATCH', '/api/me', '{"language":"de"}'],
      ['PATCH', '/api/me', '{"email":5}'],
      ['POST', '/api/admin/users', '{"login":"typed","displayName":"T","isAdmin":"true"}'],
      ['POST', '/api/admin/users', '{"login":"typed","displayName":"T","isAdmin":1}'],
      ['POST', '/api/admin/users', '{"login":12345,"displayName":"T"}'],
      ['POST', '/api/auth/login', '{"login":["admin"],"password":"x"}'],
      ['POST', '/api/auth/login', '{"login":"admin","password":{"$ne":null}}'],
      ['POST', '/api/me/tokens', '{"name":"t","expiresInDays":"30"}'],
      ['POST', '/api/me/tokens', '{"name":"t","expiresInDays":1.5}'],
      ['POST', '/api/notifications/read', '{"ids":"all"}'],
      ['POST', '/api/admin/groups', '{"name":"g","description":42}'],
    ];
    await refused(cases.map(([method, path, body]) => ({ name: `${path} ${body}`, method, path, body, status: 400, code: 'validation_failed' })));
    // Query strings are text and are coerced: ?limit=2 is a number.
    assert.equal((await admin.client.get('/api/admin/users?limit=2')).json.items.length, 2);
  });

  test('invalid UTF-8 is 400 invalid_encoding', async () => {
    const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
    await refused(
      [
        bytes('{"displayName":"caf', [0xe9], '"}'), // Latin-1
        bytes('{"displayName":"', [0xc0, 0xaf], '"}'), // overlong
        bytes('{"displayName":"', [0xed, 0xa0, 0x80], '"}'), // surrogate half
        bytes('{"displayName":"', [0xff, 0xfe], '"}'),
        bytes('{"displayName":"', [0xe2, 0x82], '"}'), // truncated sequence
      ].flatMap((body, i) => [
        { name: `me ${i}`, method: 'PATCH', path: '/api/me', body, status: 400, code: 'invalid_encoding' },
        { name: `login ${i}`, method: 'POST', path: '/api/auth/login', body, status: 400, code: 'invalid_encoding' },
      ]),
    );
    // A correct multi-byte body is fine, with or without a BOM.
    const ok = await send('PATCH', '/api/me', bytes([0xef, 0xbb, 0xbf], '{"displayName":"Zoé Ünal 日本"}'));
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.equal(ok.json.user.displayName, 'Zoé Ünal 日本');
  });

  test('__proto__ and constructor.prototype payloads are refused and pollute nothing', async () => {
    await refused(
      [
        '{"__proto__":{"isAdmin":true}}',
        '{"displayName":"x","__proto__":{"polluted":1}}',
        '{"constructor":{"prototype":{"isAdmin":true}}}',
        '{"displayName":"x","nested":{"__proto__":{"polluted":1}}}',
        '{"\\u005f_proto__":{"polluted":1}}',
      ].flatMap((body) => [
        { name: `me ${body}`, method: 'PATCH', path: '/api/me', body, status: 400, code: 'invalid_json' },
        { name: `users ${body}`, method: 'POST', path: '/api/admin/users', body, status: 400, code: 'invalid_json' },
      ]),
    );
    assert.equal(({} as any).isAdmin, undefined);
    assert.equal(({} as any).polluted, undefined);
    assert.equal((await user.client.get('/api/session')).json.user.isAdmin, false);
  });

  test('the NUL character is refused everywhere (PostgreSQL cannot store it)', async () => {
    await refused([
      { name: 'display name', method: 'PATCH', path: '/api/me', body: '{"email":"a\\u0000b@example.org"}', status: 400, code: 'validation_failed' },
      { name: 'login', method: 'POST', path: '/api/auth/login', body: '{"login":"adm\\u0000in","password":"x"}', status: 400, code: 'validation_failed' },
      { name: 'group description', method: 'POST', path: '/api/admin/groups', body: '{"name":"nul","description":"a\\u0000b"}', status: 400, code: 'validation_failed' },
      { name: 'key', method: 'PATCH', path: '/api/me', body: '{"display\\u0000Name":"x"}', status: 400, code: 'validation_failed' },
      { name: 'query', method: 'GET', path: '/api/admin/users?q=a%00b', type: null, status: 400, code: 'bad_request' },
      { name: 'directory', method: 'GET', path: '/api/directory/users?q=%00', type: null, status: 400, code: 'bad_request' },
    ]);
  });

  test('SQL and HTML injection strings are stored verbatim or refused, never executed', async () => {
    const db = srv.bastide.platform.db;
    const users = await countRows(db, 'users');
    const groups = await countRows(db, 'groups');
    const nasty = [
      "Robert'); DROP TABLE users;--",
      "' OR '1'='1",
      '"; DELETE FROM groups; --',
      '<script>alert(document.cookie)</script>',
      '<img src=x onerror=alert(1)>',
      '${7*7} {{7*7}} %s %n',
      'Ｓｅｌｅｃｔ \u202etxt.exe',
    ];
    for (const s of nasty) {
      const r = await user.client.patch('/api/me', { displayName: s });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.user.displayName, s);
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal((await user.client.get('/api/session')).json.user.displayName, s);
      const g = await admin.client.post('/api/admin/groups', { name: s, description: s });
      assert.equal(g.status, 201, JSON.stringify(g.json));
      assert.equal(g.json.group.name, s);
      assert.equal((await admin.client.get(`/api/admin/groups/${g.json.group.id}`)).json.group.description, s);
      // In searches they are text, not patterns or SQL: they find the one user whose name they are.
      const q = await admin.client.get(`/api/admin/users?q=${encodeURIComponent(s)}`);
      assert.equal(q.status, 200);
      const exact = await admin.client.get(`/api/directory/users?q=${encodeURIComponent(s.slice(0, 12))}`);
      assert.equal(exact.status, 200);
      if (/^[\x20-\x7e]*$/.test(s)) {
        assert.deepEqual(q.json.items.map((u: any) => u.login), ['ursula'], s);
        assert.deepEqual(exact.json.items.map((u: any) => u.login), ['ursula'], s);
      }
      // As a login they are refused (not a valid login) or simply wrong.
      assertError(await raw(srv.url, 'POST', '/api/auth/login', { json: { login: s, password: s } }), 401, 'invalid_credentials');
      assertError(await admin.client.post('/api/admin/users', { login: s, displayName: s }), 400, 'validation_failed');
    }
    assert.equal(await countRows(db, 'users'), users);
    assert.equal(await countRows(db, 'groups'), groups + nasty.length);
    for (const w of ['%', '_', 'a%', '\\']) {
      assertError(await raw(srv.url, 'POST', '/api/auth/login', { json: { login: w, password: 'x' } }), 401, 'invalid_credentials');
    }
    assert.equal((await admin.client.get(`/api/admin/users?q=${encodeURIComponent('%')}`)).json.items.length, 0);
    assert.equal((await user.client.patch('/api/me', { displayName: 'Ursula' })).status, 200);
  });

  test('overlong strings are 400 validation_failed', async () => {
    await refused([
      { name: 'displayName', method: 'PATCH', path: '/api/me', body: JSON.stringify({ displayName: 'x'.repeat(201) }), status: 400, code: 'validation_failed' },
      { name: 'email', method: 'PATCH', path: '/api/me', body: JSON.stringify({ email: `${'a'.repeat(250)}@x.org` }), status: 400, code: 'validation_failed' },
      { name: 'login', method: 'POST', path: '/api/auth/login', body: JSON.stringify({ login: 'l'.repeat(321), password: 'x' }), status: 400, code: 'validation_failed' },
      { name: 'password', method: 'POST', path: '/api/auth/login', body: JSON.stringify({ login: 'admin', password: 'p'.repeat(1025) }), status: 400, code: 'validation_failed' },
      { name: 'new login', method: 'POST', path: '/api/admin/users', body: JSON.stringify({ login: 'l'.repeat(64), displayName: 'L' }), status: 400, code: 'validation_failed' },
      { name: 'group', method: 'POST', path: '/api/admin/groups', body: JSON.stringify({ name: 'g'.repeat(101) }), status: 400, code: 'validation_failed' },
      { name: 'description', method: 'POST', path: '/api/admin/groups', body: JSON.stringify({ name: 'g', description: 'd'.repeat(1001) }), status: 400, code: 'validation_failed' },
      { name: 'token name', method: 'POST', path: '/api/me/tokens', body: JSON.stringify({ name: 'n'.repeat(101) }), status: 400, code: 'validation_failed' },
      { name: 'query', method: 'GET', path: `/api/admin/users?q=${'q'.repeat(201)}`, type: null, status: 400, code: 'validation_failed' },
      { name: 'deep nesting', method: 'PATCH', path: '/api/me', body: `{"displayName":${'['.repeat(3000)}${']'.repeat(3000)}}`, status: 400, code: 'validation_failed' },
    ]);
  });

  test('bad ids in path parameters and bad query values are 400', async () => {
    const ids = ['123', 'not-an-id', '01j0000000000000000000000z', '01J0000000000000000000000ZZ', '01J000000000000000000000I0', "1' OR '1'='1", '..%2F..%2Fetc%2Fpasswd', '%00'];
    await refused([
      ...ids.flatMap((id) => [
        { name: `get user ${id}`, method: 'GET', path: `/api/admin/users/${id}`, type: null, status: 400, code: id === '%00' ? 'bad_request' : 'validation_failed' },
        { name: `delete user ${id}`, method: 'DELETE', path: `/api/admin/users/${id}`, type: null, status: 400, code: id === '%00' ? 'bad_request' : 'validation_failed' },
        { name: `member ${id}`, method: 'PUT', path: `/api/admin/groups/${id}/members/${admin.id}`, type: null, status: 400, code: id === '%00' ? 'bad_request' : 'validation_failed' },
        { name: `token ${id}`, method: 'DELETE', path: `/api/me/tokens/${id}`, type: null, status: 400, code: id === '%00' ? 'bad_request' : 'validation_failed' },
      ]),
      ...['limit=abc', 'limit=0', 'limit=100000', 'limit=-1', 'limit=1e3', 'limit=2&limit=3'].map((q) => ({ name: q, method: 'GET', path: `/api/admin/users?${q}`, type: null, status: 400, code: 'validation_failed' })),
      { name: 'audit cursor', method: 'GET', path: '/api/admin/audit?cursor=1;drop', type: null, status: 400, code: 'validation_failed' },
    ]);
  });

  test('unsupported content types are 415', async () => {
    await refused(
      [
        ['application/xml', '<displayName>x</displayName>'],
        ['application/x-www-form-urlencoded', 'displayName=x'],
        ['multipart/form-data; boundary=xyz', '--xyz\r\nContent-Disposition: form-data; name="displayName"\r\n\r\nx\r\n--xyz--\r\n'],
        ['text/plain', '{"displayName":"x"}'],
        ['text/html', '<b>x</b>'],
        ['application/javascript', 'alert(1)'],
      ].flatMap(([type, body]) => [
        { name: `me ${type}`, method: 'PATCH', path: '/api/me', body, type, status: 415, code: 'unsupported_media_type' },
        { name: `login ${type}`, method: 'POST', path: '/api/auth/login', body, type, status: 415, code: 'unsupported_media_type' },
      ]),
    );
  });

  test('CSRF: a cookie-authenticated change without the right token is 403 and changes nothing', async () => {
    const before = await state();
    for (const token of [undefined, '', 'wrong', admin.client.csrf.slice(1)]) {
      const headers: Record<string, string> = { cookie: user.client.cookie, 'content-type': 'application/json' };
      if (token !== undefined) headers['x-csrf-token'] = token;
      assertError(await raw(srv.url, 'PATCH', '/api/me', { headers, body: '{"displayName":"csrf"}' }), 403, 'csrf_failed');
      assertError(await raw(srv.url, 'POST', '/api/auth/logout', { headers }), 403, 'csrf_failed');
    }
    assert.deepEqual(await state(), before);
  });

  test('unknown routes are 404 in the error shape; non-API paths do not leak details', async () => {
    for (const [m, p] of [
      ['GET', '/api/nope'],
      ['POST', '/api/admin/users/01J0000000000000000000000Z/promote'],
      ['DELETE', '/api/session'],
    ] as const) {
      const r = await send(m, p, undefined, null);
      assertError(r, 404, 'not_found');
    }
    const stack = await send('PATCH', '/api/me', '{', 'application/json');
    assert.ok(!JSON.stringify(stack.json).includes('node_modules') && !JSON.stringify(stack.json).includes(' at '), 'no stack on the wire');
  });

  test('seeded fuzz: 300 mutated bodies never produce a 5xx', async () => {
    const rnd = prng(0xb457);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const weird: unknown[] = [
      null, true, false, 0, -1, 1e308, -0, 3.14, '', ' ', 'x'.repeat(300), '\u0000', 'a\u0000b', '\ud800', '\udfff\ud800', '🏰'.repeat(50), 'é', '\u202e',
      "' OR 1=1 --", '<script>', '%', '_', '\\', [], [1, 'a'], {}, { a: { b: { c: [] } } }, 'fr', 'en', 'dark', 'admin', 'a@b.co', 'Zz-1234567890!',
      '01J0000000000000000000000Z', Number.MAX_SAFE_INTEGER + 2, '__proto__', 'constructor',
    ];
    const bases: Array<{ method: string; path: string; body: Record<string, unknown> }> = [
      { method: 'POST', path: '/api/auth/login', body: { login: 'ursula', password: 'Wrong-Password-123' } },
      { method: 'PATCH', path: '/api/me', body: { displayName: 'Fuzzy', email: 'fuzzy@example.org', language: 'fr', theme: 'dark' } },
      { method: 'POST', path: '/api/admin/users', body: { login: 'fuzz', displayName: 'Fuzz', email: 'fuzz@example.org', isAdmin: false } },
    ];
    const keys = ['login', 'password', 'displayName', 'email', 'language', 'theme', 'isAdmin', 'name', '__proto__', 'constructor', 'prototype', '', 'a'.repeat(100)];
    const seen = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const base = bases[i % bases.length]!;
      const body: Record<string, unknown> = JSON.parse(JSON.stringify(base.body));
      const n = 1 + Math.floor(rnd() * 3);
      for (let k = 0; k < n; k++) {
        const key = pick(Object.keys(body).length && rnd() < 0.7 ? Object.keys(body) : keys);
        const op = rnd();
        if (op < 0.2) delete body[key];
        else if (op < 0.8) body[key] = pick(weird);
        else if (typeof body[key] === 'string') body[key] = `${body[key] as string}${String(pick(weird))}`;
        else body[key] = `${i}`;
      }
      if (base.path === '/api/admin/users' && typeof body.login === 'string' && rnd() < 0.5) body.login = `fz${i}`;
      let text = JSON.stringify(body);
      const textOp = rnd();
      if (textOp < 0.1) text = text.slice(0, Math.floor(rnd() * text.length));
      else if (textOp < 0.15) text = text.replace('{', '{"__proto__":{"x":1},');
      else if (textOp < 0.2) text = `${text.slice(0, -1)},"${pick(keys)}":${JSON.stringify(pick(weird))}}`;
      else if (textOp < 0.25) {
        const at = Math.floor(rnd() * text.length);
        text = text.slice(0, at) + String.fromCharCode(Math.floor(rnd() * 128)) + text.slice(at);
      }
      let payload: string | Buffer = text;
      if (rnd() < 0.05) payload = Buffer.concat([Buffer.from(text.slice(0, 3)), Buffer.from([0xc3]), Buffer.from(text.slice(3))]);
      const type = rnd() < 0.05 ? pick(['text/plain', 'application/xml', 'application/json; charset=utf-8', 'application/JSON']) : 'application/json';
      const r = await send(base.method, base.path, payload, type);
      seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
      assert.ok(r.status < 500, `#${i} ${base.method} ${base.path} ${type} ${String(payload)} → ${r.status} ${JSON.stringify(r.json)}`);
      if (r.status >= 400) {
        try {
          assertErrorShape(r);
        } catch (e) {
          throw new Error(`#${i} ${String(payload)}: ${(e as Error).message}`);
        }
      }
    }
    assert.ok((seen.get(400) ?? 0) > 50, `mostly refused: ${JSON.stringify([...seen])}`);
    // The admin session survived the fuzzing, and the audit chain is intact.
    assert.equal((await admin.client.get('/api/admin/audit/verify')).json.ok, true);
  });

  test('/healthz, /readyz and /metrics', async () => {
    const h = await raw(srv.url, 'GET', '/healthz');
    assert.equal(h.status, 200);
    assert.deepEqual(h.json, { status: 'ok' });
    const r = await raw(srv.url, 'GET', '/readyz');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { status: 'ready' });
    const m = await fetch(`${srv.url}/metrics`);
    assert.equal(m.status, 200);
    assert.match(m.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await m.text();
    const users = await countRows(srv.bastide.platform.db, 'users');
    assert.match(text, /# TYPE bastide_identity_users gauge/);
    assert.match(text, new RegExp(`^bastide_identity_users ${users}$`, 'm'));
    assert.match(text, /^bastide_http_requests_total\{/m);
    assert.match(text, /^bastide_spaces_spaces \d+$/m);
    // Every line is a comment or a sample.
    for (const line of text.split('\n').filter(Boolean)) assert.match(line, /^(# (HELP|TYPE) \S+ .*|[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? -?[0-9.e+-]+|[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? (NaN|[+-]Inf))$/, line);
    // Scraped twice: still fine (gauges are reused, not registered again).
    assert.equal((await fetch(`${srv.url}/metrics`)).status, 200);
  });

  test('/api/openapi.json is an OpenAPI 3 document with every path of docs/api.md', async () => {
    const r = await raw(srv.url, 'GET', '/api/openapi.json');
    assert.equal(r.status, 200);
    const doc = r.json;
    assert.match(doc.openapi, /^3\./);
    assert.equal(typeof doc.info.title, 'string');
    assert.equal(typeof doc.info.version, 'string');
    assert.equal(typeof doc.paths, 'object');
    const md = readFileSync(fileURLToPath(new URL('../../../../docs/api.md', import.meta.url)), 'utf8');
    const documented = [...md.matchAll(/^\| (GET|POST|PUT|PATCH|DELETE) \| (\/api\/[^ |]+)/gm)].map(([, method, path]) => ({
      method: method!.toLowerCase(),
      path: path!.replace(/\?.*$/, '').replace(/:([a-zA-Z]+)/g, '{$1}'),
    }));
    assert.ok(documented.length >= 40, `parsed ${documented.length} routes from docs/api.md`);
    const missing = documented.filter((d) => !doc.paths[d.path]?.[d.method]).map((d) => `${d.method.toUpperCase()} ${d.path}`);
    assert.deepEqual(missing, []);
    // Operations carry their schemas (bodies and answers), e.g. the login.
    const loginOp = doc.paths['/api/auth/login'].post;
    assert.ok(loginOp.requestBody?.content?.['application/json']?.schema, 'login has a request body schema');
    assert.ok(loginOp.responses['200'], 'login documents its answer');
    assert.ok(doc.components?.securitySchemes?.bearer, 'bearer scheme');
  });

  test('security headers on pages, API answers and errors', async () => {
    const directives = (csp: string) => new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k!, v.join(' ')]));
    for (const path of ['/', '/some/client/route', '/healthz', '/api/openapi.json', '/api/session', '/api/nope', '/api/admin/users']) {
      const r = await fetch(srv.url + path);
      const csp = directives(r.headers.get('content-security-policy') ?? '');
      const page = !path.startsWith('/api/') || path === '/api/openapi.json';
      if (page) assert.equal(csp.get('script-src'), "'self'", `${path}: script-src 'self'`);
      // API answers are not documents: nothing at all may run or load there (default-src 'none').
      const scripts = csp.get('script-src') ?? csp.get('default-src');
      assert.ok(scripts === "'self'" || scripts === "'none'", `${path}: scripts from ${scripts}`);
      assert.ok((csp.get('object-src') ?? csp.get('default-src')) === "'none'", `${path}: object-src`);
      assert.equal(csp.get('frame-ancestors'), "'none'", `${path}: frame-ancestors`);
      for (const v of csp.values()) assert.doesNotMatch(v, /unsafe-inline|unsafe-eval/, path);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
      assert.ok(r.headers.get('referrer-policy'), `${path}: referrer-policy`);
      assert.equal(r.headers.get('x-powered-by'), null, path);
      await r.arrayBuffer();
    }
  });
});
