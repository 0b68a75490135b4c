import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext } from 'playwright-core';
import { addUser, launchBrowser, startServer, type E2EServer } from './harness.js';

/**
 * Hostile files in a real browser: an HTML page, an SVG with script, an HTML file named .pdf and a name
 * with a right-to-left override are opened by every route that hands out bytes — download, share, public
 * link, version, WebDAV GET in the browser — and no script of theirs ever runs (each would fetch
 * /hostile-marker; the browser must never ask for it).
 */
const USER = { login: 'mallory', name: 'Mallory', password: 'Hostile-Files-2026' };
const FRIEND = { login: 'trent', name: 'Trent', password: 'Trusted-Friend-2026' };
const HOSTILE = [
  { name: 'page.html', type: 'text/html', body: '<!doctype html><script>fetch("/hostile-marker?html")</script><h1>hi</h1>' },
  { name: 'image.svg', type: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg" onload="fetch(\'/hostile-marker?svg\')"><script>fetch("/hostile-marker?svg2")</script></svg>' },
  { name: 'report.pdf', type: 'application/pdf', body: '<html><body onload="fetch(\'/hostile-marker?pdf\')"><script>fetch("/hostile-marker?pdf2")</script></body></html>' },
  { name: 'invoice\u202Efdp.html', type: 'text/html', body: '<script>fetch("/hostile-marker?rtlo")</script>' },
];
let server: E2EServer;
let browser: Browser;
let davPassword = '';

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  for (const u of [USER, FRIEND]) {
    addUser(server, u);
  }
  const p = server.cli(['app-password', 'create', USER.login, '--name', 'browser', '--scopes', 'dav']);
  assert.equal(p.status, 0, p.stderr);
  davPassword = /([A-Za-z0-9-]{16,})\s*$/.exec(p.stdout.trim())?.[1] ?? '';
  assert.ok(davPassword, p.stdout);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A context signed in as `who`, recording every request its pages make. */
async function signedIn(who: typeof USER, markers: string[], extra: Parameters<Browser['newContext']>[0] = {}): Promise<{ context: BrowserContext; csrf: string }> {
  const context = await browser.newContext({ acceptDownloads: true, ...extra });
  context.on('request', (r) => {
    if (r.url().includes('/hostile-marker')) markers.push(r.url());
  });
  const login = await context.request.post(`${server.url}/api/auth/login`, { data: { login: who.login, password: who.password } });
  assert.equal(login.status(), 200, await login.text());
  const session = await (await context.request.get(`${server.url}/api/session`)).json();
  return { context, csrf: session.csrfToken as string };
}

/** Opens `url` as a top-level navigation and gives any script a moment to run. */
async function open(context: BrowserContext, url: string): Promise<void> {
  const page = await context.newPage();
  const download = page.waitForEvent('download', { timeout: 3000 }).catch(() => null);
  await page.goto(url).catch(() => undefined); // an attachment aborts the navigation: that is the point
  const d = await download;
  await d?.cancel().catch(() => undefined);
  await page.waitForTimeout(300);
  // Whatever the browser did, it did not render the file in our origin.
  const body = await page.evaluate(() => document.body?.innerHTML ?? '').catch(() => '');
  assert.doesNotMatch(body, /<h1>hi<\/h1>|hostile-marker/);
  await page.close();
}

test('no route runs an uploaded script in the browser', async () => {
  const markers: string[] = [];
  const { context, csrf } = await signedIn(USER, markers);
  // The detector works: the same payload served inline from our origin without those headers (a
  // response faked in the browser) does call the marker.
  const control = await context.newPage();
  await control.route(`${server.url}/control-page`, (r) => r.fulfill({ status: 200, contentType: 'text/html', body: HOSTILE[0]!.body }));
  await control.goto(`${server.url}/control-page`);
  await control.waitForRequest((r) => r.url().includes('/hostile-marker'), { timeout: 5000 }).catch(() => undefined);
  assert.equal(markers.length, 1);
  markers.length = 0;
  await control.close();
  const api = context.request;
  assert.equal((await api.post(`${server.url}/api/drive/folders`, { data: { path: '/', name: 'box' }, headers: { 'x-csrf-token': csrf } })).status(), 201);
  for (const f of HOSTILE) {
    for (const body of ['first version', f.body]) {
      const r = await api.put(`${server.url}/api/drive/content?path=${encodeURIComponent(`/box/${f.name}`)}`, { data: body, headers: { 'x-csrf-token': csrf, 'content-type': f.type } });
      assert.ok([200, 201].includes(r.status()), await r.text());
    }
  }
  const link = await (await api.post(`${server.url}/api/drive/links`, { data: { path: '/box', mode: 'read' }, headers: { 'x-csrf-token': csrf } })).json();
  const token = (link.link.url as string).split('/s/')[1]!;
  const friendId = (await (await api.get(`${server.url}/api/directory/users?q=trent`)).json()).items[0].id as string;
  const share = await (await api.post(`${server.url}/api/drive/shares`, { data: { path: '/box', granteeType: 'user', granteeId: friendId, permission: 'read' }, headers: { 'x-csrf-token': csrf } })).json();
  const friend = await signedIn(FRIEND, markers);
  const visitor = await browser.newContext({ acceptDownloads: true });
  visitor.on('request', (r) => {
    if (r.url().includes('/hostile-marker')) markers.push(r.url());
  });
  const dav = await browser.newContext({ acceptDownloads: true, httpCredentials: { username: USER.login, password: davPassword } });
  dav.on('request', (r) => {
    if (r.url().includes('/hostile-marker')) markers.push(r.url());
  });

  for (const f of HOSTILE) {
    const path = `/box/${f.name}`;
    const versions = await (await api.get(`${server.url}/api/drive/versions?path=${encodeURIComponent(path)}`)).json();
    await open(context, `${server.url}/api/drive/content?path=${encodeURIComponent(path)}`);
    await open(context, `${server.url}/api/drive/versions/${versions.versions[0].id}/content?path=${encodeURIComponent(path)}`);
    await open(friend.context, `${server.url}/api/drive/content?path=${encodeURIComponent(`/${f.name}`)}&drive=share:${share.id}`);
    await open(visitor, `${server.url}/api/public/links/${token}/content?path=${encodeURIComponent(`/${f.name}`)}`);
    await open(dav, `${server.url}/dav/files/${USER.login}/box/${encodeURIComponent(f.name)}`);
  }
  // The same files embedded by a page of ours (an <img> or <iframe> of the download URL) stay inert too.
  const page = await context.newPage();
  await page.goto(`${server.url}/drive`);
  await page.evaluate((urls) => {
    for (const u of urls) {
      const frame = document.createElement('iframe');
      frame.src = u;
      document.body.append(frame);
      const img = document.createElement('img');
      img.src = u;
      document.body.append(img);
    }
  }, HOSTILE.map((f) => `/api/drive/content?path=${encodeURIComponent(`/box/${f.name}`)}`));
  await page.waitForTimeout(1000);
  assert.deepEqual(markers, [], `scripts ran: ${markers.join(', ')}`);
  for (const c of [context, friend.context, visitor, dav]) await c.close();
});
