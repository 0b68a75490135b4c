import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { addUser, ARTIFACTS, checkA11y, launchBrowser, startServer, type E2EServer } from './harness.js';

/**
 * The drive in a real browser: folders, uploads by the button and by drag and drop with progress,
 * download, rename, delete, breadcrumb — with axe-core, on a desktop and a 360 px wide screen.
 */
const USER = { login: 'claire', name: 'Claire Martin', password: 'Liberte-Egalite-2026' };
let server: E2EServer;
let browser: Browser;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer();
  browser = await launchBrowser();
  addUser(server, USER);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function signIn(width: number): Promise<Page> {
  const context = await browser.newContext({ locale: 'en-GB', viewport: { width, height: 860 }, acceptDownloads: true });
  const page = await context.newPage();
  page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  await page.goto(`${server.url}/login`);
  await page.getByLabel('Login').fill(USER.login);
  await page.getByLabel('Password').fill(USER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${server.url}/`);
  return page;
}

const row = (page: Page, name: string) => page.getByTestId('drive-item').filter({ hasText: name });

test('folders, uploads (button and drop), download, rename, delete, breadcrumb', async () => {
  const page = await signIn(1280);
  await page.getByRole('navigation', { name: 'Applications' }).getByRole('link', { name: 'Drive' }).first().click();
  await page.waitForURL(`${server.url}/drive`);
  await page.getByText('This folder is empty').waitFor();
  await page.getByText(/connect a WebDAV client/).waitFor();
  await checkA11y(page, 'drive-empty');

  // A folder, then into it.
  await page.getByRole('button', { name: 'New folder' }).click();
  const dialog = page.getByRole('dialog', { name: 'New folder' });
  await dialog.getByLabel('Folder name').fill('Rapports');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('link', { name: 'Rapports' }).click();
  await page.waitForURL(`${server.url}/drive?path=%2FRapports`);
  await page.getByRole('navigation', { name: 'Folder path' }).getByText('Rapports').waitFor();
  await page.getByText('This folder is empty').waitFor();

  // One file through the button's input, two dropped onto the list.
  await page.getByTestId('drive-upload-input').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('Bonjour à tous') });
  const dt = await page.evaluateHandle(() => {
    const d = new DataTransfer();
    d.items.add(new File(['x'.repeat(1500)], 'budget.csv', { type: 'text/csv' }));
    d.items.add(new File([new Uint8Array(2_500_000)], 'photo.bin', { type: 'application/octet-stream' }));
    return d;
  });
  await page.getByTestId('drive-drop').dispatchEvent('drop', { dataTransfer: dt });
  const uploads = page.getByTestId('drive-uploads');
  await uploads.getByText('Uploads finished.').waitFor();
  assert.equal(await uploads.getByText('Uploaded.').count(), 3);
  assert.equal(await uploads.locator('progress').count(), 3);
  await row(page, 'budget.csv').getByText('1.5 kB').waitFor();
  await row(page, 'photo.bin').getByText('2.5 MB').waitFor();
  await row(page, 'notes.txt').waitFor();
  assert.equal(await page.getByTestId('drive-item').count(), 3);
  await checkA11y(page, 'drive-folder');

  // Download.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download notes.txt' }).click()]);
  assert.equal(download.suggestedFilename(), 'notes.txt');
  assert.equal(readFileSync((await download.path())!, 'utf8'), 'Bonjour à tous');

  // Uploading a name that is taken asks first; "Replace" replaces.
  await page.getByTestId('drive-upload-input').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('Bonjour à toutes et à tous') });
  const ask = page.getByRole('alertdialog', { name: 'Replace 1 file?' });
  await ask.waitFor();
  await checkA11y(page, 'drive-replace');
  await ask.getByRole('button', { name: 'Replace', exact: true }).click();
  await ask.waitFor({ state: 'detached' });
  await assert.doesNotReject(async () => {
    for (let i = 0; i < 50; i++) {
      const [again] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download notes.txt' }).click()]);
      if (readFileSync((await again.path())!, 'utf8') === 'Bonjour à toutes et à tous') return;
      await page.waitForTimeout(100);
    }
    throw new Error('the file was not replaced');
  });
  assert.equal(await page.getByTestId('drive-item').count(), 3);

  // Rename.
  await page.getByRole('button', { name: 'Rename budget.csv' }).click();
  const rename = page.getByRole('dialog', { name: /Rename/ });
  await rename.getByLabel('New name').fill('budget-2026.csv');
  await rename.getByRole('button', { name: 'Rename', exact: true }).click();
  await row(page, 'budget-2026.csv').waitFor();
  await page.getByText('Renamed to “budget-2026.csv”.').waitFor();

  // Delete, after a confirmation that says it goes to the trash.
  await page.getByRole('button', { name: 'Delete photo.bin' }).click();
  const confirm = page.getByRole('alertdialog', { name: 'Delete “photo.bin”?' });
  await confirm.getByText(/moved to the trash/).waitFor();
  await checkA11y(page, 'drive-delete-confirm');
  await confirm.getByRole('button', { name: 'Move to trash' }).click();
  await confirm.waitFor({ state: 'detached' });
  await row(page, 'photo.bin').waitFor({ state: 'detached' });
  assert.equal(await page.getByTestId('drive-item').count(), 2);

  // The trash lists it with where it was; restoring brings it back to its folder.
  await page.getByRole('link', { name: 'Trash', exact: true }).click();
  await page.waitForURL(`${server.url}/drive?view=trash`);
  const trashed = page.getByTestId('trash-item').filter({ hasText: 'photo.bin' });
  await trashed.waitFor();
  await trashed.getByText('From /Rapports').waitFor();
  await page.getByText(/still count toward your storage quota/).waitFor();
  await checkA11y(page, 'drive-trash');
  await page.getByRole('button', { name: 'Restore photo.bin' }).click();
  await page.getByText('“photo.bin” restored to /Rapports.').waitFor();
  await page.getByText('The trash is empty').waitFor();
  await checkA11y(page, 'drive-trash-empty');
  await page.getByRole('link', { name: 'Back to my files' }).click();
  await page.waitForURL(`${server.url}/drive`);
  await row(page, 'Rapports').getByRole('link', { name: 'Rapports' }).click();
  await row(page, 'photo.bin').waitFor();
  assert.equal(await page.getByTestId('drive-item').count(), 3);

  // Back to the root through the breadcrumb.
  await page.getByRole('navigation', { name: 'Folder path' }).getByRole('link', { name: 'My files' }).click();
  await page.waitForURL(`${server.url}/drive`);
  await row(page, 'Rapports').waitFor();
  assert.equal(await page.getByTestId('drive-item').count(), 1);
  await page.context().close();
});

test('the drive works on a 360 px wide screen', async () => {
  const page = await signIn(360);
  await page.goto(`${server.url}/drive?path=%2FRapports`);
  await row(page, 'notes.txt').waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling (overflow ${overflow}px)`);
  await page.getByRole('button', { name: 'Rename notes.txt' }).waitFor();
  await checkA11y(page, 'drive-phone');
  await page.context().close();
});
