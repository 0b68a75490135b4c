import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { addUser, ARTIFACTS, checkA11y, launchBrowser, startServer, type E2EServer } from './harness.js';

/**
 * Sharing in a real browser: a password-protected public link opened by a visitor without an account
 * (in French, the default for a French browser, on a phone-sized screen), a file-drop link, a folder
 * shared with a colleague who finds it in "Shared with me", and restoring an earlier version — with
 * axe-core on each new screen.
 */
const ALICE = { login: 'alice', name: 'Alice Martin', password: 'Liberte-Egalite-2026' };
const BOB = { login: 'bob', name: 'Bob Durand', password: 'Fraternite-Solidarite-2026' };
let server: E2EServer;
let browser: Browser;
let alice: Page;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer();
  browser = await launchBrowser();
  for (const u of [ALICE, BOB]) {
    addUser(server, u);
  }
  alice = await signIn(ALICE, 1280);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function signIn(user: { login: string; password: string }, width: number): Promise<Page> {
  const context = await browser.newContext({ locale: 'en-GB', viewport: { width, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  await page.goto(`${server.url}/login`);
  await page.getByLabel('Login').fill(user.login);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${server.url}/`);
  return page;
}

/** A visitor: a fresh browser (no cookie), French, phone-sized. */
async function visitor(): Promise<Page> {
  const context = await browser.newContext({ locale: 'fr-FR', viewport: { width: 360, height: 780 }, acceptDownloads: true });
  const page = await context.newPage();
  page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  return page;
}

const row = (page: Page, name: string) => page.getByTestId('drive-item').filter({ hasText: name });

async function openDrive(page: Page, path = '/'): Promise<void> {
  await page.goto(path === '/' ? `${server.url}/drive` : `${server.url}/drive?path=${encodeURIComponent(path)}`);
  await page.getByRole('navigation', { name: 'Folder path' }).waitFor();
}

async function upload(page: Page, name: string, text: string): Promise<void> {
  await page.getByTestId('drive-upload-input').setInputFiles({ name, mimeType: 'text/plain', buffer: Buffer.from(text) });
}

async function newFolder(page: Page, name: string): Promise<void> {
  await page.getByRole('button', { name: 'New folder' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'New folder' });
  await dialog.getByLabel('Folder name').fill(name);
  await dialog.getByRole('button', { name: 'Create' }).click();
  await row(page, name).waitFor();
}

async function itemMenu(page: Page, name: string, entry: string): Promise<void> {
  await page.getByRole('button', { name: `More actions for ${name}` }).first().click();
  await page.getByRole('menuitem', { name: entry }).click();
}

/** Creates a link from the share dialog; returns its address. */
async function createLink(page: Page, name: string, opts: { password?: string; drop?: boolean }): Promise<string> {
  await itemMenu(page, name, 'Share…');
  const dialog = page.getByRole('dialog', { name: `Share “${name}”` });
  await dialog.getByText('Not shared with anyone yet.').waitFor();
  await dialog.getByRole('button', { name: 'Create a link' }).click();
  if (opts.drop) await dialog.getByLabel('File drop — upload only').check();
  if (opts.password) {
    await dialog.getByLabel('Protect with a password').check();
    await dialog.getByLabel('Password', { exact: true }).fill(opts.password);
  }
  await dialog.getByRole('button', { name: 'Create the link' }).click();
  const url = dialog.getByTestId('link-url');
  await url.waitFor();
  return url.inputValue();
}

test('a public link with a password: created in the dialog, opened and downloaded by a visitor', async () => {
  await openDrive(alice);
  await upload(alice, 'rapport.txt', 'Le rapport annuel 2026');
  await row(alice, 'rapport.txt').waitFor();

  const url = await createLink(alice, 'rapport.txt', { password: 'sésame ouvre-toi' });
  assert.match(url, new RegExp(`^${server.url}/s/[A-Za-z0-9_-]{16,}$`));
  const dialog = alice.getByRole('dialog', { name: 'Share “rapport.txt”' });
  const link = dialog.getByTestId('link-row');
  await link.getByText('0 downloads').waitFor();
  await link.getByText('Password').waitFor();
  await checkA11y(alice, 'sharing-dialog-link');
  await dialog.getByRole('button', { name: 'Close' }).first().click();
  await dialog.waitFor({ state: 'detached' });

  // A visitor without an account: the password first (a wrong one is refused), then the file.
  const page = await visitor();
  await page.goto(url);
  await page.getByRole('heading', { name: 'Ce lien est protégé' }).waitFor();
  await checkA11y(page, 'public-link-locked');
  await page.getByLabel('Mot de passe').fill('pas le bon');
  await page.getByRole('button', { name: 'Ouvrir' }).click();
  await page.getByText('Ce mot de passe n’est pas le bon.').waitFor();
  await page.getByLabel('Mot de passe').fill('sésame ouvre-toi');
  await page.getByRole('button', { name: 'Ouvrir' }).click();
  await page.getByRole('heading', { name: 'rapport.txt' }).waitFor();
  await page.getByText('Alice Martin').waitFor();
  await checkA11y(page, 'public-link-file');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Télécharger' }).click()]);
  assert.equal(download.suggestedFilename(), 'rapport.txt');
  assert.equal(readFileSync((await download.path())!, 'utf8'), 'Le rapport annuel 2026');

  // The owner sees the download counted.
  await itemMenu(alice, 'rapport.txt', 'Share…');
  const again = alice.getByRole('dialog', { name: 'Share “rapport.txt”' });
  await again.getByTestId('link-row').getByText('1 download').waitFor();
  // Limited to one download, now used: the link stops working for the visitor.
  await again.getByRole('button', { name: 'Edit the link View and download' }).click();
  await again.getByLabel('Download limit (optional)').fill('1');
  await again.getByRole('button', { name: 'Save' }).click();
  await again.getByTestId('link-row').getByText('1 of 1 download').waitFor();
  await again.getByTestId('link-row').getByText('No longer works').waitFor();
  await alice.keyboard.press('Escape');
  await again.waitFor({ state: 'detached' });
  await page.reload();
  await page.getByRole('heading', { name: 'Ce lien n’est plus disponible' }).waitFor();
  await page.getByText(/nombre maximal de téléchargements/).waitFor();
  await checkA11y(page, 'public-link-used-up');

  // An unknown link is a plain page, not an error.
  await page.goto(`${server.url}/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`);
  await page.getByRole('heading', { name: 'Ce lien n’existe pas' }).waitFor();
  await checkA11y(page, 'public-link-unknown');
  await page.context().close();
});

test('a folder link: the visitor browses into a subfolder and downloads', async () => {
  await openDrive(alice);
  await newFolder(alice, 'Archives');
  await row(alice, 'Archives').getByRole('link', { name: 'Archives' }).click();
  await alice.getByText('This folder is empty').waitFor();
  await newFolder(alice, '2025');
  await row(alice, '2025').getByRole('link', { name: '2025' }).click();
  await alice.getByText('This folder is empty').waitFor();
  await upload(alice, 'bilan.txt', 'le bilan 2025');
  await row(alice, 'bilan.txt').waitFor();
  await openDrive(alice);
  const url = await createLink(alice, 'Archives', {});
  await alice.keyboard.press('Escape');

  const page = await visitor();
  await page.goto(url);
  await page.getByRole('heading', { name: 'Archives' }).waitFor();
  await page.getByTestId('public-item').filter({ hasText: '2025' }).waitFor();
  await checkA11y(page, 'public-link-folder');
  await page.getByRole('link', { name: '2025' }).click();
  await page.waitForURL(/\?path=%2F2025$/);
  const file = page.getByTestId('public-item').filter({ hasText: 'bilan.txt' });
  await file.waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), file.getByRole('link', { name: 'Télécharger bilan.txt' }).click()]);
  assert.equal(readFileSync((await download.path())!, 'utf8'), 'le bilan 2025');
  // Back up through the breadcrumb.
  await page.getByRole('navigation', { name: 'Chemin du dossier' }).getByRole('link', { name: 'Archives' }).click();
  await page.getByTestId('public-item').filter({ hasText: '2025' }).waitFor();
  await page.context().close();
});

test('a file-drop link receives files from a visitor who sees nothing of the folder', async () => {
  await openDrive(alice);
  await newFolder(alice, 'Dépôt');
  await row(alice, 'Dépôt').getByRole('link', { name: 'Dépôt' }).click();
  await alice.getByText('This folder is empty').waitFor();
  await upload(alice, 'privé.txt', 'à ne pas montrer');
  await row(alice, 'privé.txt').waitFor();
  await openDrive(alice);
  const url = await createLink(alice, 'Dépôt', { drop: true });
  await alice.getByRole('dialog', { name: 'Share “Dépôt”' }).getByTestId('link-row').getByText('File drop — upload only').first().waitFor();
  await alice.keyboard.press('Escape');

  const page = await visitor();
  await page.goto(url);
  await page.getByRole('heading', { name: 'Dépôt' }).waitFor();
  await page.getByText('Dépôt de fichiers', { exact: true }).waitFor();
  await checkA11y(page, 'public-link-drop');
  assert.equal(await page.getByText('privé.txt').count(), 0);
  const input = page.getByTestId('public-drop-input');
  await input.setInputFiles({ name: 'facture.txt', mimeType: 'text/plain', buffer: Buffer.from('facture numéro un') });
  const drops = page.getByTestId('public-drops');
  await drops.getByText('Reçu.').waitFor();
  await input.setInputFiles({ name: 'facture.txt', mimeType: 'text/plain', buffer: Buffer.from('facture numéro deux') });
  await drops.getByText('Reçu sous le nom « facture (2).txt ».').waitFor();
  assert.equal(await drops.locator('progress').count(), 2);
  await checkA11y(page, 'public-link-drop-sent');
  await page.context().close();

  // The owner finds both, under the names the visitor was shown.
  await openDrive(alice, '/Dépôt');
  await row(alice, 'facture (2).txt').waitFor();
  await row(alice, 'facture.txt').waitFor();
  const text = await alice.evaluate(async () => (await fetch('/api/drive/content?path=%2FD%C3%A9p%C3%B4t%2Ffacture%20(2).txt')).text());
  assert.equal(text, 'facture numéro deux');
});

test('a folder shared with a colleague appears in "Shared with me" and opens', async () => {
  await openDrive(alice);
  await newFolder(alice, 'Projets');
  await row(alice, 'Projets').getByRole('link', { name: 'Projets' }).click();
  await alice.getByText('This folder is empty').waitFor();
  await upload(alice, 'plan.txt', 'le plan');
  await row(alice, 'plan.txt').waitFor();
  await openDrive(alice);

  await itemMenu(alice, 'Projets', 'Share…');
  const dialog = alice.getByRole('dialog', { name: 'Share “Projets”' });
  const picker = dialog.getByRole('combobox', { name: 'Share with' });
  await picker.fill('Bob');
  const option = dialog.getByRole('option', { name: /Bob Durand/ });
  await option.waitFor();
  await checkA11y(alice, 'sharing-dialog-picker');
  await option.click();
  await dialog.getByTestId('share-picked').getByText('Bob Durand').waitFor();
  await dialog.getByLabel('Permission', { exact: true }).selectOption('write');
  await dialog.getByRole('button', { name: 'Share', exact: true }).click();
  const share = dialog.getByTestId('share-row').filter({ hasText: 'Bob Durand' });
  await share.waitFor();
  assert.equal(await share.getByLabel('Permission of Bob Durand').inputValue(), 'write');
  // Lowered to read only from the list.
  await share.getByLabel('Permission of Bob Durand').selectOption('read');
  await alice.getByText('Permission of Bob Durand changed.').waitFor();
  await checkA11y(alice, 'sharing-dialog-people');
  await alice.setViewportSize({ width: 360, height: 780 });
  await checkA11y(alice, 'sharing-dialog-phone');
  await alice.setViewportSize({ width: 1280, height: 900 });
  await alice.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });

  const bob = await signIn(BOB, 1280);
  await bob.goto(`${server.url}/drive`);
  await bob.getByRole('link', { name: 'Shared with me' }).click();
  await bob.waitForURL(/view=shared/);
  const item = bob.getByTestId('shared-item').filter({ hasText: 'Projets' });
  await item.getByText('From Alice Martin').waitFor();
  await item.getByText('Can view').waitFor();
  await checkA11y(bob, 'shared-with-me');
  await item.getByRole('link', { name: 'Projets' }).click();
  await bob.waitForURL(/drive=share%3A/);
  await row(bob, 'plan.txt').waitFor();
  const [download] = await Promise.all([bob.waitForEvent('download'), bob.getByRole('link', { name: 'Download plan.txt' }).click()]);
  assert.equal(readFileSync((await download.path())!, 'utf8'), 'le plan');
  await bob.context().close();
});

test('a file uploaded twice: the versions dialog restores the first content', async () => {
  await openDrive(alice);
  await upload(alice, 'journal.txt', 'première version');
  await row(alice, 'journal.txt').waitFor();

  // No version yet: the empty state says when they appear.
  await itemMenu(alice, 'journal.txt', 'Versions…');
  const dialog = alice.getByRole('dialog', { name: 'Versions of “journal.txt”' });
  await dialog.getByText('No earlier version').waitFor();
  await dialog.getByText(/appear when the file is overwritten/).waitFor();
  await alice.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });

  await upload(alice, 'journal.txt', 'seconde version, plus longue');
  const ask = alice.getByRole('alertdialog', { name: 'Replace 1 file?' });
  await ask.getByRole('button', { name: 'Replace', exact: true }).click();
  await ask.waitFor({ state: 'detached' });
  const current = () => alice.evaluate(async () => (await fetch('/api/drive/content?path=%2Fjournal.txt', { cache: 'no-store' })).text());
  for (let i = 0; i < 50 && (await current()) !== 'seconde version, plus longue'; i++) await alice.waitForTimeout(100);
  assert.equal(await current(), 'seconde version, plus longue');

  await itemMenu(alice, 'journal.txt', 'Versions…');
  await dialog.getByTestId('version-current').waitFor();
  const versions = dialog.getByTestId('version-row');
  await versions.first().waitFor();
  assert.equal(await versions.count(), 1);
  await versions.getByText('By Alice Martin').waitFor();
  await checkA11y(alice, 'versions-dialog');
  await alice.setViewportSize({ width: 360, height: 780 });
  await checkA11y(alice, 'versions-dialog-phone');
  await alice.setViewportSize({ width: 1280, height: 900 });
  const [old] = await Promise.all([alice.waitForEvent('download'), versions.getByRole('link', { name: /^Download the version of/ }).click()]);
  assert.equal(readFileSync((await old.path())!, 'utf8'), 'première version');

  await versions.getByRole('button', { name: /^Restore the version of/ }).click();
  const confirm = alice.getByRole('alertdialog', { name: 'Restore this version?' });
  await confirm.getByRole('button', { name: 'Restore', exact: true }).click();
  await confirm.waitFor({ state: 'detached' });
  await alice.getByText('Earlier version of “journal.txt” restored.').waitFor();
  assert.equal(await current(), 'première version');
  // What was current is now a version in turn.
  await dialog.getByTestId('version-row').nth(1).waitFor();
  assert.equal(await dialog.getByTestId('version-row').count(), 2);
  await alice.keyboard.press('Escape');
});

test("a space's drive is in the sidebar; its files are shared like one's own", async () => {
  const created = await alice.evaluate(async () => {
    const { csrfToken } = (await (await fetch('/api/session')).json()) as { csrfToken: string };
    const r = await fetch('/api/spaces', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken }, body: JSON.stringify({ name: 'Mairie', visibility: 'secret' }) });
    return r.status;
  });
  assert.equal(created, 201);
  await openDrive(alice);
  await upload(alice, 'personnel.txt', 'à moi');
  await row(alice, 'personnel.txt').waitFor();
  await alice.getByRole('link', { name: 'Mairie' }).click();
  await alice.waitForURL(/drive=space%3A/);
  await alice.getByText('This folder is empty').waitFor();
  await upload(alice, 'compte-rendu.txt', 'conseil municipal');
  await row(alice, 'compte-rendu.txt').waitFor();
  const url = await createLink(alice, 'compte-rendu.txt', {});
  await alice.keyboard.press('Escape');

  const page = await visitor();
  await page.goto(url);
  await page.getByRole('heading', { name: 'compte-rendu.txt' }).waitFor();
  await page.getByText('Mairie').waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Télécharger' }).click()]);
  assert.equal(readFileSync((await download.path())!, 'utf8'), 'conseil municipal');
  await page.context().close();

  // Back to one's own drive from the sidebar.
  await alice.getByRole('link', { name: 'My files' }).click();
  await alice.waitForURL(`${server.url}/drive`);
  await alice.getByRole('navigation', { name: 'Folder path' }).getByText('My files').waitFor();
  await row(alice, 'personnel.txt').waitFor();
  assert.equal(await row(alice, 'compte-rendu.txt').count(), 0);
});
