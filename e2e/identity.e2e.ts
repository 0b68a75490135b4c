import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { authenticator } from 'otplib';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, checkA11y, launchBrowser, startServer, type E2EServer } from './harness.js';

/**
 * The platform's first-run story in a real browser: the setup link, two-step verification, an
 * administrator creating a colleague who then signs in — with axe-core on every page.
 */
const ADMIN = { login: 'marianne', name: 'Marianne Dupont', email: 'marianne@mairie.example', password: 'Liberte-Egalite-2026' };
let server: E2EServer;
let browser: Browser;
let totpSecret = '';
let colleaguePassword = '';

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function newPage(opts: { locale?: string; width?: number } = {}): Promise<Page> {
  const context = await browser.newContext({ locale: opts.locale ?? 'en-GB', viewport: { width: opts.width ?? 1280, height: 860 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  return page;
}

function codeAfter(secret: string, offsetMs: number): string {
  return authenticator.clone({ epoch: Date.now() + offsetMs, window: 0 }).generate(secret);
}

test('the one-time setup link creates the administrator', async () => {
  assert.ok(server.setupLink, 'the console printed a setup link');
  const page = await newPage();
  await page.goto(server.setupLink!);
  await page.getByRole('heading', { name: 'Set up Bastide' }).waitFor();
  await checkA11y(page, 'setup');
  await page.getByLabel('Login').fill(ADMIN.login);
  await page.getByLabel('Display name').fill(ADMIN.name);
  await page.getByLabel('E-mail address').fill(ADMIN.email);
  await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
  await page.getByLabel('Password again').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Create the administrator' }).click();
  await page.waitForURL(`${server.url}/`);
  await page.getByRole('heading', { name: new RegExp(ADMIN.name) }).waitFor();
  // The shell: app switcher with honest placeholders, search, bell, profile menu.
  const nav = page.getByRole('navigation', { name: 'Applications' });
  for (const app of ['Home', 'Mail', 'Calendar', 'Contacts', 'Chat', 'Drive', 'Docs', 'Tasks', 'Spaces', 'Admin']) {
    await nav.getByRole('link', { name: app }).first().waitFor();
  }
  await page.getByRole('combobox', { name: 'Search' }).waitFor();
  await page.getByRole('button', { name: /^Notifications/ }).waitFor();
  await checkA11y(page, 'home');
  await nav.getByRole('link', { name: 'Mail' }).first().click();
  await page.waitForURL(`${server.url}/mail`);
  await page.getByText(/not available yet/i).first().waitFor();
  await checkA11y(page, 'mail-placeholder');
  // The link works once only (asked without the session, as a stranger would).
  const again = await fetch(`${server.url}/api/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: new URL(server.setupLink!).searchParams.get('token'), login: 'intruder', displayName: 'X', password: 'Another-long-pass-1' }),
  });
  assert.equal(again.status, 409);
  await page.context().close();
});

test('the administrator turns on two-step verification', async () => {
  const page = await newPage();
  await page.goto(`${server.url}/login`);
  await page.getByLabel('Login').fill(ADMIN.login);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${server.url}/`);
  await page.goto(`${server.url}/settings/security`);
  await page.getByRole('button', { name: 'Set up two-step verification' }).click();
  await page.getByTestId('totp-qr').waitFor();
  totpSecret = (await page.getByTestId('totp-secret').getAttribute('data-secret')) ?? '';
  assert.match(totpSecret, /^[A-Z2-7]{16,}$/);
  await checkA11y(page, 'totp-enrol');
  await page.getByLabel('Verification code').fill(codeAfter(totpSecret, 0));
  await page.getByRole('button', { name: 'Turn on' }).click();
  const codes = page.getByRole('list', { name: 'Recovery codes' });
  await codes.waitFor();
  assert.equal(await codes.getByRole('listitem').count(), 10);
  await checkA11y(page, 'recovery-codes');
  await page.getByRole('button', { name: 'I have saved my codes' }).click();
  await page.context().close();
});

test('the administrator creates a colleague', async () => {
  const page = await newPage();
  await page.goto(`${server.url}/login`);
  await page.getByLabel('Login').fill(ADMIN.login);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
  await checkA11y(page, 'login-mfa');
  // A wrong code is refused; the next period's code (never used before) is accepted.
  await page.getByLabel('Verification code').fill('000000');
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('alert').first().waitFor();
  await page.getByLabel('Verification code').fill(codeAfter(totpSecret, 30_000));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.waitForURL(`${server.url}/`);

  await page.goto(`${server.url}/admin/users`);
  await page.getByRole('button', { name: 'New user' }).first().click();
  const dialog = page.getByTestId('create-user-dialog');
  await dialog.waitFor();
  await dialog.getByLabel('Login').fill('jean');
  await dialog.getByLabel('Display name').fill('Jean Moulin');
  await dialog.getByLabel('E-mail address').fill('jean@mairie.example');
  await checkA11y(page, 'admin-create-user');
  await dialog.getByRole('button', { name: 'Create user' }).click();
  const temp = page.getByTestId('temporary-password');
  await temp.waitFor();
  colleaguePassword = ((await temp.textContent()) ?? '').trim();
  assert.ok(colleaguePassword.length >= 12, `temporary password shown (${colleaguePassword.length} chars)`);
  await page.getByRole('button', { name: 'Done' }).click();
  await page.getByRole('cell', { name: 'Jean Moulin' }).or(page.getByText('Jean Moulin')).first().waitFor();
  await checkA11y(page, 'admin-users');

  await page.goto(`${server.url}/admin/audit`);
  await page.getByText('identity.user.created').or(page.getByText(/user created/i)).first().waitFor();
  await checkA11y(page, 'admin-audit');
  await page.context().close();
});

test('the colleague signs in with the temporary password, on a phone, in French', async () => {
  const page = await newPage({ locale: 'fr-FR', width: 360 });
  await page.goto(`${server.url}/`);
  await page.waitForURL(/\/login/);
  await page.getByRole('heading', { name: 'Connexion' }).waitFor();
  await checkA11y(page, 'login-fr-phone');
  await page.getByLabel('Identifiant').fill('jean');
  await page.getByLabel('Mot de passe').fill(colleaguePassword);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.waitForURL(`${server.url}/`);
  await page.getByRole('heading', { name: /Jean Moulin/ }).waitFor();
  // Phone layout: a bottom bar with "more"; no horizontal scrolling at 360 px.
  await page.getByRole('button', { name: 'Plus d’applications' }).or(page.getByRole('button', { name: /applications/i })).first().waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `no horizontal scroll at 360 px (overflow ${overflow}px)`);
  await checkA11y(page, 'home-fr-phone');
  // Not an administrator: the admin pages are refused by the server.
  const r = await page.request.get(`${server.url}/api/admin/users`);
  assert.equal(r.status(), 403);

  // An app password for Thunderbird: created, shown once, listed, working for clients, then revoked.
  await page.goto(`${server.url}/settings/security`);
  await page.getByRole('button', { name: 'Nouveau mot de passe d’application' }).first().click();
  await page.getByLabel('Nom', { exact: true }).fill('Thunderbird du bureau');
  await page.getByLabel('API', { exact: true }).check();
  await checkA11y(page, 'app-password-create-fr-phone');
  await page.getByRole('button', { name: 'Créer', exact: true }).click();
  const value = page.getByTestId('app-password-value');
  await value.waitFor();
  const appPassword = ((await value.textContent()) ?? '').replace(/[^a-z0-9-]/g, '');
  assert.match(appPassword, /^[a-z0-9]{4}(-[a-z0-9]{4}){3}$/);
  await page.getByRole('button', { name: 'Terminé' }).click();
  const list = page.getByRole('list', { name: 'Mots de passe d’application' });
  await list.getByText('Thunderbird du bureau').waitFor();
  const basic = { authorization: `Basic ${Buffer.from(`jean:${appPassword}`).toString('base64')}` };
  assert.equal((await fetch(`${server.url}/api/directory/users?q=jean`, { headers: basic })).status, 200);
  await page.getByRole('button', { name: 'Révoquer Thunderbird du bureau' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Révoquer' }).click();
  await list.getByText('Thunderbird du bureau').waitFor({ state: 'detached' });
  assert.equal((await fetch(`${server.url}/api/directory/users?q=jean`, { headers: basic })).status, 401);
  await page.context().close();
});
