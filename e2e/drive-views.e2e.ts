import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { addUser, ARTIFACTS, checkA11y, launchBrowser, startServer, type E2EServer } from './harness.js';

/**
 * The drive's views in a real browser: list and grid (remembered), sort, selection, previews of an image,
 * a PDF and Markdown with previous/next, hostile files that never run, favourites, recent, search, folder
 * upload and the storage bar — with axe-core on each screen, on a desktop and a 360 px wide screen.
 */
const USER = { login: 'louise', name: 'Louise Michel', password: 'Commune-de-Paris-1871' };
let server: E2EServer;
let browser: Browser;
/** Every request a hostile payload would make, and every dialog it would open: must stay empty. */
const hostileSignals: string[] = [];

/** A minimal valid one-page PDF with a line of text. */
function makePdf(text: string): Buffer {
  const stream = `BT /F1 18 Tf 20 100 Td (${text}) Tj ET`;
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objs.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

const MARK = '/api/xss-marker';
const payload = `document.title='pwned';fetch('${MARK}');parent.document.title='pwned';alert(1)`;
const HOSTILE: Array<{ name: string; type: string; body: string }> = [
  { name: 'page.html', type: 'text/html', body: `<!DOCTYPE html><html><body><script>${payload}</script></body></html>` },
  { name: 'logo.svg', type: 'image/svg+xml', body: `<svg xmlns="http://www.w3.org/2000/svg" onload="${payload}"><script>${payload}</script></svg>` },
  { name: 'report.pdf', type: 'application/pdf', body: `<html><body><img src=x onerror="${payload}"><script>${payload}</script></body></html>` },
  { name: 'fake.png', type: 'image/png', body: `<html><script>${payload}</script></html>` },
  { name: 'invoice_\u202Egnp.html', type: 'image/png', body: `<html><script>${payload}</script></html>` },
];

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer();
  browser = await launchBrowser();
  addUser(server, USER);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  assert.deepEqual(hostileSignals, [], 'no hostile payload ran');
});

async function signIn(width: number): Promise<Page> {
  const context = await browser.newContext({ locale: 'en-GB', viewport: { width, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  // Any frame, any page of the context: a hostile payload would show up here.
  context.on('request', (r) => {
    if (r.url().includes(MARK)) hostileSignals.push(`request ${r.url()}`);
  });
  context.on('page', (p) => p.on('dialog', (d) => (hostileSignals.push(`dialog ${d.message()}`), void d.dismiss())));
  page.on('dialog', (d) => (hostileSignals.push(`dialog ${d.message()}`), void d.dismiss()));
  await page.goto(`${server.url}/login`);
  await page.getByLabel('Login').fill(USER.login);
  await page.getByLabel('Password').fill(USER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${server.url}/`);
  return page;
}

/** Uploads through the JSON API with the page's session (as the app does). */
async function put(page: Page, path: string, body: Buffer | string, type: string): Promise<void> {
  const csrf = ((await (await page.request.get(`${server.url}/api/session`)).json()) as { csrfToken: string }).csrfToken;
  const r = await page.request.put(`${server.url}/api/drive/content?path=${encodeURIComponent(path)}`, { data: typeof body === 'string' ? Buffer.from(body) : body, headers: { 'x-csrf-token': csrf, 'content-type': type } });
  assert.ok(r.ok(), `${path}: ${r.status()} ${await r.text()}`);
}

const items = (page: Page) => page.getByTestId('drive-item');
const names = async (page: Page) => (await items(page).locator('.drive-name').allTextContents()).map((s) => s.trim());

test('views, sort, selection, previews, hostile files, favourites, recent, search, folder upload', async () => {
  const page = await signIn(1280);
  const colour = (c: string, w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: c } });
  await put(page, '/photo-2.jpg', await colour('#c33', 640, 400).jpeg().toBuffer(), 'image/jpeg');
  await put(page, '/photo-10.png', await colour('#36c', 300, 500).png().toBuffer(), 'image/png');
  await put(page, '/Rapport annuel.pdf', makePdf('Bonjour PDF'), 'application/pdf');
  await put(page, '/LISEZMOI.md', '# Projet\n\nUn **espace** de travail.\n\n- fichiers\n- agenda\n\n[lien](https://example.org) [bad](javascript:alert(1))\n\n<script>alert(1)</script>\n', 'text/markdown');
  for (const h of HOSTILE) await put(page, `/${h.name}`, h.body, h.type);

  await page.goto(`${server.url}/drive`);
  await items(page).first().waitFor();
  await page.getByTestId('drive-storage').getByText(/used/).waitFor();
  await checkA11y(page, 'drive-views-list');

  // Sort: names the locale's way with numbers in order; by size, largest first; back to names.
  assert.deepEqual((await names(page)).slice(0, 4), ['fake.png', 'invoice_\u202Egnp.html', 'LISEZMOI.md', 'logo.svg']);
  const byName = await names(page);
  assert.ok(byName.indexOf('photo-2.jpg') < byName.indexOf('photo-10.png'), byName.join(', '));
  await page.getByRole('button', { name: 'Sort by Size' }).click();
  await page.getByRole('button', { name: 'Sorted by Size, descending' }).waitFor();
  const listing = (await (await page.request.get(`${server.url}/api/drive/items?path=%2F`)).json()) as { items: Array<{ name: string; size: number }> };
  const expected = [...listing.items].sort((a, b) => b.size - a.size || a.name.localeCompare(b.name)).map((i) => i.name);
  assert.deepEqual(await names(page), expected);
  await page.getByRole('button', { name: 'Sort by Name' }).click();
  assert.deepEqual(await names(page), byName);

  // Grid view with thumbnails made by the server; the choice is remembered.
  await page.getByRole('button', { name: 'Grid view' }).click();
  await page.locator('.drive-card').first().waitFor();
  const thumb = items(page).filter({ hasText: 'photo-2.jpg' }).locator('img.drive-thumb');
  await thumb.waitFor();
  await page.waitForFunction((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth > 0, await thumb.elementHandle());
  await checkA11y(page, 'drive-views-grid');
  await page.reload();
  await page.locator('.drive-card').first().waitFor();
  assert.equal(await page.getByRole('button', { name: 'Grid view' }).getAttribute('aria-pressed'), 'true');
  await page.getByRole('button', { name: 'List view' }).click();
  await page.locator('.drive-row').first().waitFor();

  // Preview an image, then next / previous with the buttons and the arrow keys.
  await page.getByRole('button', { name: 'Open photo-2.jpg' }).click();
  const dialog = page.getByTestId('drive-preview');
  const img = dialog.getByTestId('preview-image');
  await img.waitFor();
  await page.waitForFunction((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth === 640, await img.elementHandle());
  await checkA11y(page, 'drive-views-preview-image');
  await dialog.getByRole('button', { name: 'Next' }).click();
  await dialog.getByRole('heading', { name: 'photo-10.png' }).waitFor();
  await page.keyboard.press('ArrowLeft');
  await dialog.getByRole('heading', { name: 'photo-2.jpg' }).waitFor();
  await dialog.getByRole('button', { name: 'Previous' }).click();
  await dialog.getByRole('heading', { name: 'page.html' }).waitFor();
  await dialog.getByText('No preview for this file').waitFor();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await dialog.getByRole('heading', { name: 'Rapport annuel.pdf' }).waitFor();
  // The PDF is shown by Chromium's viewer inside the (sandboxed) preview frame.
  const frame = dialog.getByTestId('preview-pdf');
  await frame.waitFor();
  const deadline = Date.now() + 10_000;
  while (!page.frames().some((f) => f.url().startsWith('chrome-extension://'))) {
    assert.ok(Date.now() < deadline, 'the PDF viewer did not load');
    await page.waitForTimeout(100);
  }
  await checkA11y(page, 'drive-views-preview-pdf');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });

  // Markdown is rendered by the app: elements from the text, raw HTML shown as text, unsafe links dropped.
  await page.getByRole('button', { name: 'Open LISEZMOI.md' }).click();
  const md = dialog.getByTestId('preview-text');
  await md.getByRole('heading', { name: 'Projet' }).waitFor();
  await md.locator('strong', { hasText: 'espace' }).waitFor();
  await md.getByText('<script>alert(1)</script>').waitFor();
  assert.equal(await md.getByRole('link', { name: 'lien' }).getAttribute('href'), 'https://example.org/');
  assert.equal(await md.locator('a[href^="javascript"]').count(), 0);
  await checkA11y(page, 'drive-views-preview-markdown');
  await page.keyboard.press('Escape');

  // Hostile files, opened through the preview UI: an HTML payload named .pdf or .png (or labelled image/png
  // under a right-to-left-override name) is refused by the preview route, so the app shows "No preview";
  // HTML and SVG are not previewable at all and open as a download (attachment).
  for (const name of ['report.pdf', 'fake.png']) {
    await page.getByRole('button', { name: `Open ${name}` }).click();
    if (name === 'fake.png') await dialog.getByText('No preview for this file').waitFor();
    else await dialog.getByTestId('preview-pdf').waitFor();
    await page.waitForTimeout(500);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  }
  // The RLO name was uploaded as image/png: the app tries an image preview, which the server refuses.
  await items(page).filter({ hasText: 'invoice_' }).locator('button.drive-name').click();
  await dialog.getByText('No preview for this file').waitFor();
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  for (const name of ['page.html', 'logo.svg']) {
    const button = items(page).filter({ hasText: name }).locator('button.drive-name');
    await button.waitFor({ timeout: 5000 }).catch(() => assert.fail(`no item ${name}`));
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 10_000 }), button.click()]);
    assert.ok(download.suggestedFilename().startsWith(name.slice(0, 4)), download.suggestedFilename());
  }
  // Every route a browser could be sent to, top level: the preview answers 415, the download is an attachment.
  const probe = await page.context().newPage();
  for (const h of HOSTILE) {
    const q = `?path=${encodeURIComponent(`/${h.name}`)}`;
    const r = await probe.goto(`${server.url}/api/drive/preview${q}`);
    assert.equal(r?.status(), 415, h.name);
    const dl = probe.waitForEvent('download');
    await probe.goto(`${server.url}/api/drive/content${q}`).catch(() => undefined);
    await dl;
  }
  await probe.waitForTimeout(500);
  assert.notEqual(await probe.title(), 'pwned');
  await probe.close();
  assert.notEqual(await page.title(), 'pwned');
  assert.deepEqual(hostileSignals, []);

  // Favourites: star from the item's menu, see it in the Favourites view, unstar there.
  await page.getByRole('button', { name: 'More actions for Rapport annuel.pdf' }).click();
  await page.getByRole('menuitem', { name: 'Add to favourites' }).click();
  await page.getByText('“Rapport annuel.pdf” added to favourites.').waitFor();
  await items(page).filter({ hasText: 'Rapport annuel.pdf' }).getByText('Favourite').waitFor();
  await page.getByRole('navigation', { name: 'Drive' }).getByRole('link', { name: 'Favourites' }).click();
  await page.waitForURL(`${server.url}/drive?view=favourites`);
  await page.getByTestId('drive-located').filter({ hasText: 'Rapport annuel.pdf' }).getByText('In My files').waitFor();
  await checkA11y(page, 'drive-views-favourites');

  // Recent: the files opened above.
  await page.getByRole('navigation', { name: 'Drive' }).getByRole('link', { name: 'Recent' }).click();
  await page.getByTestId('drive-located').filter({ hasText: 'LISEZMOI.md' }).waitFor();
  await checkA11y(page, 'drive-views-recent');

  // Search: accent- and case-insensitive, with where each result is.
  await page.getByRole('navigation', { name: 'Drive' }).getByRole('link', { name: 'My files' }).click();
  await page.getByRole('searchbox', { name: 'Search files by name' }).fill('RAPPORT');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/drive\?q=RAPPORT/);
  await page.getByText('1 result for “RAPPORT”').waitFor();
  await page.getByTestId('drive-located').filter({ hasText: 'Rapport annuel.pdf' }).waitFor();
  await checkA11y(page, 'drive-views-search');

  // Folder upload: a real folder tree chosen through the "Upload a folder" input.
  const dir = mkdtempSync(join(tmpdir(), 'bastide-e2e-tree-'));
  try {
    const tree = join(dir, 'Été 2026');
    mkdirSync(join(tree, 'Plages'), { recursive: true });
    writeFileSync(join(tree, 'programme.txt'), 'Lundi : départ');
    writeFileSync(join(tree, 'Plages', 'carnac.jpg'), await colour('#fa0', 120, 80).jpeg().toBuffer());
    await page.goto(`${server.url}/drive`);
    await items(page).first().waitFor();
    await page.getByTestId('drive-folder-input').setInputFiles(tree);
    const uploads = page.getByTestId('drive-uploads');
    await uploads.getByText('Uploads finished.').waitFor();
    assert.equal(await uploads.getByText('Uploaded.').count(), 2);
    await page.getByRole('link', { name: 'Été 2026' }).click();
    await items(page).filter({ hasText: 'programme.txt' }).waitFor();
    await page.getByRole('link', { name: 'Plages' }).click();
    await items(page).filter({ hasText: 'carnac.jpg' }).waitFor();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // Selection with the keyboard and the mouse, then a bulk delete (to the trash).
  await page.goto(`${server.url}/drive`);
  await items(page).first().waitFor();
  await items(page).filter({ hasText: 'fake.png' }).click({ position: { x: 4, y: 4 } });
  await page.keyboard.press('Shift+ArrowDown');
  await page.getByTestId('drive-bulk').getByText('2 selected').waitFor();
  await items(page).filter({ hasText: 'logo.svg' }).click({ position: { x: 4, y: 4 }, modifiers: ['Control'] });
  await page.getByTestId('drive-bulk').getByText('3 selected').waitFor();
  await checkA11y(page, 'drive-views-selection');
  await page.getByTestId('drive-bulk').getByRole('button', { name: 'Delete' }).click();
  const confirm = page.getByRole('alertdialog', { name: 'Delete 3 items?' });
  await confirm.getByRole('button', { name: 'Move to trash' }).click();
  await page.getByText('3 items moved to the trash.').waitFor();
  for (const n of ['fake.png', 'logo.svg']) await items(page).filter({ hasText: n }).waitFor({ state: 'detached' });
  await page.context().close();
});

test('the drive views work on a 360 px wide screen', async () => {
  const page = await signIn(360);
  await page.goto(`${server.url}/drive`);
  await items(page).first().waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling (overflow ${overflow}px)`);
  await checkA11y(page, 'drive-views-phone');
  await page.getByRole('button', { name: 'Grid view' }).click();
  await page.locator('.drive-card').first().waitFor();
  await checkA11y(page, 'drive-views-phone-grid');
  await page.getByRole('button', { name: 'Open photo-2.jpg' }).click();
  await page.getByTestId('drive-preview').getByTestId('preview-image').waitFor();
  await checkA11y(page, 'drive-views-phone-preview');
  await page.context().close();
});
