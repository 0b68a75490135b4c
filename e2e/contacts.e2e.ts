import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { addUser, ARTIFACTS, checkA11y, launchBrowser, startServer, type E2EServer } from './harness.js';

/**
 * Contacts in a real browser: create a contact with two e-mails and a photo, find it by search, edit it,
 * import a .vcf of 3 cards (and see a bad card explained), see a colleague in the organisation directory —
 * with axe-core, on a desktop (light) and a 360 px phone (dark).
 */
const USER = { login: 'claire', name: 'Claire Martin', password: 'Liberte-Egalite-2026' };
const COLLEAGUE = { login: 'paul', name: 'Paul Durand', password: 'Fraternite-Sud-2026' };
// A 2×2 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');
let server: E2EServer;
let browser: Browser;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer();
  browser = await launchBrowser();
  for (const u of [USER, COLLEAGUE]) {
    addUser(server, { ...u, email: `${u.login}@example.org` });
  }
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function signIn(width: number, colorScheme: 'light' | 'dark', locale = 'en-GB'): Promise<Page> {
  const context = await browser.newContext({ locale, viewport: { width, height: 860 }, colorScheme });
  const page = await context.newPage();
  page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  await page.goto(`${server.url}/login`);
  await page.getByLabel(/^(Login|Identifiant)$/).fill(USER.login);
  await page.getByLabel(/^(Password|Mot de passe)$/).fill(USER.password);
  await page.getByRole('button', { name: /^(Sign in|Se connecter)$/ }).click();
  await page.waitForURL(`${server.url}/`);
  return page;
}

const vcf = (tag: string) =>
  [
    'BEGIN:VCARD', 'VERSION:3.0', `UID:${tag}-1`, `FN:Amélie Poulain ${tag}`, 'N:Poulain;Amélie;;;', 'EMAIL;TYPE=work:amelie@example.org', 'CATEGORIES:Voisins', 'END:VCARD',
    'BEGIN:VCARD', 'VERSION:4.0', `UID:${tag}-2`, `FN:Bruno Lefèvre ${tag}`, 'TEL;TYPE=cell:+33 6 12 34 56 78', 'END:VCARD',
    // A Google export: no UID (the importer gives it one).
    'BEGIN:VCARD', 'VERSION:3.0', `FN:Chloé Garnier ${tag}`, 'ORG:Région', 'END:VCARD',
    // An old vCard 2.1 card: refused, and said why.
    'BEGIN:VCARD', 'VERSION:2.1', 'FN:Old Phone', 'END:VCARD', '',
  ].join('\r\n');

async function flow(width: number, scheme: 'light' | 'dark', tag: string): Promise<void> {
  const phone = width <= 640;
  const page = await signIn(width, scheme);
  await page.goto(`${server.url}/contacts`);
  const list = page.getByTestId('contacts-list');
  const first = tag === 'desk';
  if (first) {
    await page.getByText('No contact yet').waitFor();
    await checkA11y(page, `contacts-empty-${tag}`);
  }

  // Create: two e-mails and a photo.
  await page.getByRole('link', { name: 'New contact' }).first().click();
  const form = page.getByRole('form', { name: 'New contact' });
  await form.getByLabel('First name').fill('Jeanne');
  await form.getByLabel('Last name').fill(`Martin ${tag}`);
  await form.getByLabel('Organisation').fill('Mairie de Lyon');
  await form.getByLabel('E-mail address 1', { exact: true }).fill(`jeanne.${tag}@example.org`);
  await form.getByRole('button', { name: 'Add an e-mail address' }).click();
  await form.getByLabel('E-mail address 2', { exact: true }).fill(`jm.${tag}@example.net`);
  await form.getByLabel('Type of e-mail address 2').selectOption('home');
  await form.getByLabel('Phone number 1', { exact: true }).fill('+33 4 72 10 30 30');
  await page.getByTestId('contact-photo-input').setInputFiles({ name: 'face.png', mimeType: 'image/png', buffer: PNG });
  await form.getByRole('img', { name: 'Photo' }).waitFor();
  await checkA11y(page, `contacts-form-${tag}`);
  await form.getByRole('button', { name: 'Save' }).click();
  const card = page.getByTestId('contact-card');
  await card.getByRole('heading', { name: `Jeanne Martin ${tag}` }).waitFor();
  await card.getByRole('link', { name: `jeanne.${tag}@example.org` }).waitFor();
  await card.getByRole('link', { name: `jm.${tag}@example.net` }).waitFor();
  await card.getByText('Home').waitFor();
  // The photo is served by the server and shown as the avatar.
  const avatar = card.locator('img.ct-avatar');
  await avatar.waitFor();
  assert.ok(await avatar.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth === 2), 'the photo is shown');
  await checkA11y(page, `contacts-card-${tag}`);

  // Find it by search (as you type), on a phone after going back to the list.
  if (phone) {
    assert.equal(await list.isVisible(), false, 'one screen at a time on a phone');
    await card.getByRole('link', { name: 'Back to the list' }).click();
  }
  const search = page.getByTestId('contacts-search');
  await search.fill('zzz');
  await page.getByText('No contact matches.').waitFor();
  await search.fill(`martin ${tag}`);
  await list.getByRole('link', { name: new RegExp(`Jeanne Martin ${tag}`) }).waitFor();
  assert.equal(await list.getByRole('listitem').count(), 1);
  await search.fill('jeanne.');
  await list.getByRole('link', { name: new RegExp(`Jeanne Martin ${tag}`) }).click();

  // Edit it.
  await page.getByTestId('contact-card').getByRole('link', { name: 'Edit' }).click();
  const edit = page.getByRole('form', { name: `Edit Jeanne Martin ${tag}` });
  await edit.getByLabel('Job title').fill('Directrice générale');
  await edit.getByLabel('Birthday').fill('1980-04-12');
  await edit.getByLabel('Add to a group').fill('Élus');
  await edit.getByLabel('Add to a group').press('Enter');
  await edit.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('contact-card').getByText('Directrice générale · Mairie de Lyon').waitFor();
  await page.getByTestId('contact-card').getByText(/12 April 1980/).waitFor();
  if (!phone) await page.getByRole('navigation', { name: 'Address books' }).getByRole('link', { name: /Élus/ }).waitFor();

  // Import a .vcf of 3 good cards and a bad one.
  if (phone) await page.getByTestId('contact-card').getByRole('link', { name: 'Back to the list' }).click();
  await search.fill('');
  await page.getByRole('button', { name: 'Import a .vcf file' }).click();
  const dialog = page.getByTestId('import-dialog');
  await page.getByTestId('import-file').setInputFiles({ name: 'export.vcf', mimeType: 'text/vcard', buffer: Buffer.from(vcf(tag)) });
  await dialog.getByText('4 contacts found in export.vcf.').waitFor();
  await dialog.getByRole('button', { name: 'Import 4 contacts' }).click();
  await dialog.getByText('3 contacts imported.').waitFor();
  await dialog.getByText('1 contact could not be imported:').waitFor();
  await dialog.getByText(/Old Phone.*\(2\.1\)/).waitFor();
  assert.equal(await dialog.locator('progress').getAttribute('value'), '4');
  await checkA11y(page, `contacts-import-${tag}`);
  await dialog.getByRole('button', { name: 'Done' }).click();
  for (const name of ['Amélie Poulain', 'Bruno Lefèvre', 'Chloé Garnier']) await list.getByRole('link', { name: new RegExp(`${name} ${tag}`) }).waitFor();
  // Phone numbers are found whatever their spacing.
  await search.fill('61234');
  await list.getByRole('link', { name: new RegExp(`Bruno Lefèvre ${tag}`) }).waitFor();
  await search.fill('');

  // The list is one tab stop; ↓ moves to the next contact, Enter opens it.
  if (!phone) {
    await list.getByRole('link', { name: new RegExp(`Amélie Poulain ${tag}`) }).focus();
    await page.keyboard.press('ArrowDown');
    assert.match((await page.evaluate(() => document.activeElement?.textContent)) ?? '', /Bruno Lefèvre/);
    assert.equal(await list.locator('[tabindex="0"]').count(), 1, 'one tab stop in the list');
    await page.keyboard.press('Enter');
    await page.getByTestId('contact-card').getByRole('heading', { name: `Bruno Lefèvre ${tag}` }).waitFor();
  }

  // A colleague in the organisation directory.
  await page.getByRole('link', { name: 'Organisation directory' }).click();
  const dir = page.getByTestId('directory-list');
  await dir.getByRole('link', { name: /Paul Durand/ }).click();
  const person = page.getByTestId('person-card');
  await person.getByRole('heading', { name: 'Paul Durand' }).waitFor();
  await person.getByRole('link', { name: 'paul@example.org' }).waitFor();
  await checkA11y(page, `contacts-directory-${tag}`);
  await page.context().close();
}

test('contacts on a desktop (light): create with two e-mails and a photo, search, edit, import, directory', async () => {
  await flow(1280, 'light', 'desk');
});

test('contacts on a 360 px phone (dark): the same, one screen at a time', async () => {
  await flow(360, 'dark', 'phone');
});

test('contacts in French, on a dark desktop and a light phone: translated and axe-clean', async () => {
  for (const [width, scheme] of [[1280, 'dark'], [360, 'light']] as const) {
    const page = await signIn(width, scheme, 'fr-FR');
    await page.goto(`${server.url}/contacts`);
    await page.getByRole('link', { name: 'Nouveau contact' }).first().waitFor();
    await page.getByTestId('contacts-list').getByRole('link', { name: /Jeanne Martin desk/ }).click();
    await page.getByTestId('contact-card').getByRole('link', { name: 'Modifier' }).waitFor();
    await checkA11y(page, `contacts-fr-card-${width}-${scheme}`);
    await page.goto(`${server.url}/contacts?book=directory`);
    await page.getByText('Annuaire de l’organisation').first().waitFor();
    await checkA11y(page, `contacts-fr-directory-${width}-${scheme}`);
    await page.context().close();
  }
});
