import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../platform/clock.js';
import { type ApiClient, DEFAULT_PASSWORD, startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { assertError, basicAuth, raw, userClient } from '../../../test/helpers/api.js';
import { totpCode } from './totp.js';

/** Two-step sign-in: enrolment, codes, replay refusal, recovery codes, switching it off. */
describe('TOTP', () => {
  let srv: TestServer;
  const clock = new ManualClock(Date.UTC(2026, 2, 1, 8, 0, 0));
  let tina: ApiClient;
  let secret = '';
  let recovery: string[] = [];

  before(async () => {
    srv = await startTestServer({ clock });
    tina = (await userClient(srv, 'tina')).client;
  });
  after(() => srv.close());

  const login = () => raw(srv.url, 'POST', '/api/auth/login', { json: { login: 'tina', password: DEFAULT_PASSWORD } });
  const mfa = (mfaToken: string, code: string) => raw(srv.url, 'POST', '/api/auth/login/mfa', { json: { mfaToken, code } });
  const step = () => clock.advance(30_000);

  test('setup gives a secret, an otpauth URL and an SVG QR code; nothing is enabled yet', async () => {
    const r = await tina.post('/api/me/totp/setup');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    secret = r.json.secret;
    assert.match(secret, /^[A-Z2-7]{16,}$/);
    assert.match(r.json.otpauthUrl, /^otpauth:\/\/totp\/Bastide:tina\?/);
    assert.ok(r.json.otpauthUrl.includes(`secret=${secret}`), 'r.json.otpauthUrl.includes(`secret=${secret}`)');
    assert.match(r.json.qrSvg, /^<svg[\s\S]*<\/svg>\s*$/);
    assert.equal((await tina.get('/api/session')).json.user.totpEnabled, false);
    // Until confirmed, the password alone still signs in.
    assert.equal((await login()).json.status, 'ok');
  });

  test('enable refuses a wrong code, then accepts a right one and returns 10 recovery codes', async () => {
    const wrong = await tina.post('/api/me/totp/enable', { code: totpCode(secret, clock.now() + 10 * 60_000) });
    assertError(wrong, 401, 'invalid_mfa_code');
    assert.equal((await tina.get('/api/session')).json.user.totpEnabled, false);
    const r = await tina.post('/api/me/totp/enable', { code: totpCode(secret, clock.now()) });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    recovery = r.json.recoveryCodes;
    assert.equal(recovery.length, 10);
    assert.equal(new Set(recovery).size, 10);
    const me = (await tina.get('/api/session')).json.user;
    assert.equal(me.totpEnabled, true);
    assert.equal(me.recoveryCodesLeft, 10);
    // A second enrolment is refused while one is active.
    assertError(await tina.post('/api/me/totp/setup'), 409, 'totp_already_enabled');
  });

  test('the code used to enable cannot sign in (replay); wrong codes are refused', async () => {
    const enableCode = totpCode(secret, clock.now());
    const first = await login();
    assert.equal(first.status, 200);
    assert.equal(first.json.status, 'mfa_required');
    assert.equal(first.headers.get('set-cookie'), null, 'no session before the second step');
    assert.ok(first.json.mfaToken.length > 20, 'first.json.mfaToken.length > 20');
    assertError(await mfa(first.json.mfaToken, enableCode), 401, 'invalid_mfa_code');
    assertError(await mfa(first.json.mfaToken, '000000'), 401, 'invalid_mfa_code');
    assertError(await mfa(first.json.mfaToken, 'not-a-code'), 401, 'invalid_mfa_code');
    assertError(await mfa('a-token-that-was-never-issued', enableCode), 401, 'mfa_token_expired');
  });

  test('the right code signs in once; the same code cannot be replayed', async () => {
    step();
    const code = totpCode(secret, clock.now());
    const a = await login();
    const ok = await mfa(a.json.mfaToken, code);
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.equal(ok.json.status, 'ok');
    assert.equal(ok.json.user.login, 'tina');
    const cookie = ok.headers.getSetCookie().find((c) => c.startsWith('bastide_session='))!.split(';')[0]!;
    assert.equal((await raw(srv.url, 'GET', '/api/session', { headers: { cookie } })).status, 200);
    // The challenge is consumed.
    assertError(await mfa(a.json.mfaToken, code), 401, 'mfa_token_expired');
    // A new sign-in with the same code (still within its 30 s) is a replay.
    const b = await login();
    assertError(await mfa(b.json.mfaToken, code), 401, 'invalid_mfa_code');
    // One step later, the next code works (codes from one step back are accepted for drift, not older).
    step();
    const ok2 = await mfa(b.json.mfaToken, totpCode(secret, clock.now()));
    assert.equal(ok2.status, 200, JSON.stringify(ok2.json));
  });

  test('the challenge expires after 5 minutes', async () => {
    step();
    const a = await login();
    clock.advance(5 * 60_000 + 1);
    assertError(await mfa(a.json.mfaToken, totpCode(secret, clock.now())), 401, 'mfa_token_expired');
  });

  test('a recovery code works once; recoveryCodesLeft goes down', async () => {
    step();
    const code = recovery[0]!;
    const a = await login();
    // Typed in upper case without the dash: still the same code.
    const r = await mfa(a.json.mfaToken, code.toUpperCase().replace('-', ''));
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.user.recoveryCodesLeft, 9);
    const b = await login();
    assertError(await mfa(b.json.mfaToken, code), 401, 'invalid_mfa_code');
    const c = await mfa(b.json.mfaToken, recovery[1]!);
    assert.equal(c.status, 200);
    assert.equal(c.json.user.recoveryCodesLeft, 8);
    assert.equal((await tina.get('/api/session')).json.user.recoveryCodesLeft, 8);
  });

  test('regenerating recovery codes needs the password and replaces the old ones', async () => {
    assertError(await tina.post('/api/me/recovery-codes', { password: 'not-my-password' }), 401, 'invalid_credentials');
    const r = await tina.post('/api/me/recovery-codes', { password: DEFAULT_PASSWORD });
    assert.equal(r.status, 200);
    assert.equal(r.json.recoveryCodes.length, 10);
    assert.equal((await tina.get('/api/session')).json.user.recoveryCodesLeft, 10);
    const a = await login();
    assertError(await mfa(a.json.mfaToken, recovery[2]!), 401, 'invalid_mfa_code');
    recovery = r.json.recoveryCodes;
    assert.equal((await mfa(a.json.mfaToken, recovery[0]!)).status, 200);
  });

  test('five wrong codes end the challenge and lock the account for a while', async () => {
    step();
    const a = await login();
    for (let i = 0; i < 4; i++) assertError(await mfa(a.json.mfaToken, String(100000 + i)), 401, 'invalid_mfa_code');
    // The fifth failure reaches loginMaxAttempts (5) for the account.
    const fifth = await mfa(a.json.mfaToken, '100009');
    assertError(fifth, 429, 'too_many_attempts');
    assert.ok(Number(fifth.headers.get('retry-after')) > 0, 'Number(fifth.headers.get(\'retry-after\')) > 0');
    assertError(await login(), 429, 'too_many_attempts');
    assertError(await mfa(a.json.mfaToken, totpCode(secret, clock.now())), 401, 'mfa_token_expired');
    // Failures were counted for the account: let the window pass.
    clock.advance(901_000);
  });

  test('an app password cannot switch two-step sign-in off, even with the password', async () => {
    const ap = await tina.post('/api/me/app-passwords', { name: 'phone', scopes: ['dav', 'mail', 'api'] });
    assert.equal(ap.status, 201);
    const r = await raw(srv.url, 'POST', '/api/me/totp/disable', { headers: basicAuth('tina', ap.json.password), json: { password: DEFAULT_PASSWORD } });
    assert.ok(r.status === 401 || r.status === 403, `${r.status}`);
    assertError(r, r.status);
    const r2 = await raw(srv.url, 'POST', '/api/me/recovery-codes', { headers: basicAuth('tina', ap.json.password), json: { password: DEFAULT_PASSWORD } });
    assert.ok(r2.status === 401 || r2.status === 403, `${r2.status}`);
    assert.equal((await tina.get('/api/session')).json.user.totpEnabled, true);
    assert.equal((await tina.get('/api/session')).json.user.recoveryCodesLeft, 9);
  });

  test('disable requires the password; then the password alone signs in again', async () => {
    assertError(await tina.post('/api/me/totp/disable', { password: 'wrong-password-here' }), 401, 'invalid_credentials');
    assertError(await tina.post('/api/me/totp/disable', {}), 400, 'validation_failed');
    assert.equal((await tina.get('/api/session')).json.user.totpEnabled, true);
    assert.equal((await tina.post('/api/me/totp/disable', { password: DEFAULT_PASSWORD })).status, 204);
    const me = (await tina.get('/api/session')).json.user;
    assert.equal(me.totpEnabled, false);
    assert.equal(me.recoveryCodesLeft, 0);
    const r = await login();
    assert.equal(r.json.status, 'ok');
    // Enabling needs a fresh setup.
    assertError(await tina.post('/api/me/totp/enable', { code: totpCode(secret, clock.now()) }), 409, 'totp_not_started');
  });
});
