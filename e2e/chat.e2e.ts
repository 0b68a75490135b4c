import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { addUser, ARTIFACTS, checkA11y, launchBrowser, startServer, type E2EServer } from './harness.js';

/**
 * The chat in a real browser, two people in two Chromium contexts: a direct message and a channel
 * message arrive within a second, typing and read state show (in two tabs of the reader), a thread
 * reply raises the thread badge, an edit and a reaction show on the other side, a context taken
 * offline gets what it missed once back (nothing lost, nothing doubled), and the phone layout —
 * with axe-core on each screen.
 */
const ALICE = { login: 'alice', name: 'Alice Martin', password: 'Liberte-Egalite-2026' };
const BOB = { login: 'bob', name: 'Bob Durand', password: 'Fraternite-Solidarite-2026' };
let server: E2EServer;
let browser: Browser;
let alice: Page;
let bob: Page;
let bobContext: BrowserContext;
let dmUrl = '';
let channelUrl = '';

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer();
  browser = await launchBrowser();
  for (const u of [ALICE, BOB]) {
    addUser(server, u);
  }
  alice = await signIn(ALICE, 1280);
  bob = await signIn(BOB, 1280);
  bobContext = bob.context();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function signIn(user: { login: string; password: string }, width: number, context?: BrowserContext): Promise<Page> {
  const ctx = context ?? (await browser.newContext({ locale: 'en-GB', viewport: { width, height: 860 } }));
  const page = await ctx.newPage();
  page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  if (!context) {
    await page.goto(`${server.url}/login`);
    await page.getByLabel('Login').fill(user.login);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${server.url}/`);
  }
  return page;
}

const message = (page: Page, text: string) => page.getByTestId('chat-message').filter({ hasText: text });
const sideItem = (page: Page, name: string) => page.getByTestId('chat-side-item').filter({ hasText: name });

async function openChat(page: Page, path = '/chat'): Promise<void> {
  await page.goto(`${server.url}${path}`);
  await page.getByRole('navigation', { name: 'Conversations' }).waitFor();
}

/** Sends with Enter; returns when the other page shows it, with the time it took. */
async function sendAndMeasure(from: Page, to: Page, text: string, shown = text): Promise<number> {
  const box = from.getByTestId('chat-composer');
  await box.fill(text);
  const t0 = Date.now();
  await box.press('Enter');
  await message(to, shown).first().waitFor({ timeout: 5000 });
  return Date.now() - t0;
}

test('a direct message: unread in both tabs of the reader, typing, arrival within a second, read state', async (t) => {
  await openChat(alice);
  await checkA11y(alice, 'chat-empty');
  await alice.getByRole('button', { name: 'New message' }).first().click();
  const dialog = alice.getByRole('dialog', { name: 'New message' });
  await dialog.getByRole('combobox', { name: 'People' }).fill('bob');
  await dialog.getByRole('option', { name: /Bob Durand/ }).click();
  await dialog.getByRole('list', { name: 'Chosen people' }).getByText('Bob Durand').waitFor();
  await checkA11y(alice, 'chat-new-dm');
  await dialog.getByRole('button', { name: 'Start the conversation' }).click();
  await alice.waitForURL(/\/chat\/[0-9A-Z]{26}$/);
  dmUrl = new URL(alice.url()).pathname;
  await alice.getByRole('heading', { name: 'Bob Durand' }).waitFor();

  // Bob has the chat open in two tabs; the first message makes the conversation unread in both.
  await openChat(bob);
  const bob2 = await signIn(BOB, 1280, bobContext);
  await openChat(bob2);
  await sendAndMeasure(alice, alice, 'Bonjour Bob, tu as une minute ?');
  for (const p of [bob, bob2]) {
    const item = sideItem(p, 'Alice Martin');
    await item.waitFor();
    await p.waitForFunction(() => document.querySelector('[data-testid="chat-side-item"][data-unread]') !== null, undefined, { timeout: 5000 });
  }
  await checkA11y(bob, 'chat-unread');

  // Bob opens it: the "new messages" line, and the unread mark goes in the other tab too.
  await sideItem(bob, 'Alice Martin').click();
  await message(bob, 'Bonjour Bob').waitFor();
  await bob.getByTestId('chat-new-line').waitFor();
  await bob2.waitForFunction(() => document.querySelector('[data-testid="chat-side-item"][data-unread]') === null, undefined, { timeout: 5000 });

  // Typing shows on the other side.
  await alice.getByTestId('chat-composer').fill('Je vou');
  await bob.getByTestId('chat-typing').getByText('Alice Martin is typing…').waitFor({ timeout: 5000 });
  await alice.getByTestId('chat-composer').fill('');

  const ms = await sendAndMeasure(alice, bob, 'Le compte rendu est prêt **ici**', 'Le compte rendu est prêt ici');
  assert.ok(ms < 1000, `the direct message took ${ms} ms`);
  t.diagnostic(`direct message shown on the other side after ${ms} ms`);
  await message(bob, 'Le compte rendu est prêt').locator('strong').getByText('ici').waitFor();
  const back = await sendAndMeasure(bob, alice, 'Merci Alice !');
  assert.ok(back < 1000, `the reply took ${back} ms`);
  t.diagnostic(`reply shown on the other side after ${back} ms`);
  await checkA11y(bob, 'chat-dm');
  await bob2.close();

  // Presence: Bob chooses "Do not disturb"; Alice sees it on the conversation.
  await alice.getByRole('heading', { name: 'Bob Durand' }).getByRole('img', { name: 'Online' }).waitFor({ timeout: 5000 });
  await bob.getByRole('button', { name: /Your status: Online/ }).click();
  await bob.getByRole('menuitem', { name: 'Do not disturb' }).click();
  await alice.getByRole('heading', { name: 'Bob Durand' }).getByRole('img', { name: 'Do not disturb' }).waitFor({ timeout: 5000 });
  await bob.getByRole('button', { name: /Your status: Do not disturb/ }).click();
  await bob.getByRole('menuitem', { name: 'Online' }).click();
  // A second change within 2 s waits for the server's limit, then arrives.
  await alice.getByRole('heading', { name: 'Bob Durand' }).getByRole('img', { name: 'Online' }).waitFor({ timeout: 6000 });
});

test('a channel: created, joined, a message within a second, a thread reply raises the badge, edit and reaction on the other side', async (t) => {
  await openChat(alice);
  await alice.getByRole('button', { name: 'New conversation' }).click();
  await alice.getByRole('menuitem', { name: 'Create a channel' }).click();
  const dialog = alice.getByRole('dialog', { name: 'Create a channel' });
  await dialog.getByLabel('Name').fill('general');
  await dialog.getByLabel('Topic (optional)').fill('Everything about the team');
  await checkA11y(alice, 'chat-create-channel');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await alice.getByRole('heading', { name: 'general' }).waitFor();
  channelUrl = new URL(alice.url()).pathname;

  await openChat(bob);
  await bob.getByRole('button', { name: 'New conversation' }).click();
  await bob.getByRole('menuitem', { name: 'Browse channels' }).click();
  const browse = bob.getByRole('dialog', { name: 'Browse channels' });
  await browse.getByRole('button', { name: 'Join general' }).waitFor();
  await checkA11y(bob, 'chat-browse');
  await browse.getByRole('button', { name: 'Join general' }).click();
  await bob.getByRole('heading', { name: 'general' }).waitFor();

  const ms = await sendAndMeasure(bob, alice, 'Qui relit le budget 2027 ?');
  assert.ok(ms < 1000, `the channel message took ${ms} ms`);
  t.diagnostic(`channel message shown on the other side after ${ms} ms`);

  // Alice answers in a thread: Bob (who started it) sees the Threads badge go to 1.
  await message(alice, 'Qui relit le budget').hover();
  await message(alice, 'Qui relit le budget').getByRole('button', { name: 'Reply in thread' }).click();
  const thread = alice.getByTestId('chat-thread');
  await thread.getByText('Qui relit le budget 2027 ?').waitFor();
  await alice.getByTestId('chat-thread-composer').fill('Moi, je le relis ce soir.');
  await alice.getByTestId('chat-thread-composer').press('Enter');
  await thread.getByText('Moi, je le relis ce soir.').waitFor();
  await checkA11y(alice, 'chat-thread');
  const badge = bob.getByTestId('chat-threads-badge');
  await badge.waitFor({ timeout: 5000 });
  assert.equal((await badge.textContent())?.trim(), '1');
  await message(bob, 'Qui relit le budget').getByTestId('chat-thread-link').getByText('1 reply').waitFor();
  // Opening the thread reads it: the badge goes.
  await message(bob, 'Qui relit le budget').getByTestId('chat-thread-link').click();
  await bob.getByTestId('chat-thread').getByText('Moi, je le relis ce soir.').waitFor();
  await badge.waitFor({ state: 'detached', timeout: 5000 });
  await bob.getByRole('button', { name: 'Close the thread' }).click();

  // Bob edits his message with ↑ in the empty composer; Alice sees the new text and "(edited)".
  await bob.getByTestId('chat-composer').click();
  await bob.getByTestId('chat-composer').press('ArrowUp');
  const edit = bob.getByRole('textbox', { name: 'Edit the message' });
  await edit.fill('Qui relit le budget 2027 avant vendredi ?');
  await edit.press('Enter');
  const edited = alice.getByTestId('chat-scroller').getByTestId('chat-message').filter({ hasText: 'avant vendredi' });
  await edited.waitFor({ timeout: 5000 });
  await edited.getByText('(edited)').waitFor();

  // Alice reacts; Bob sees it.
  await edited.hover();
  await edited.getByRole('button', { name: 'Add a reaction' }).click();
  await alice.getByRole('button', { name: 'React with 👍' }).click();
  await message(bob, 'avant vendredi').getByRole('button', { name: /👍: 1 reaction/ }).waitFor({ timeout: 5000 });

  // Right-click gives the message's menu: pin it; the pins list shows it.
  await edited.click({ button: 'right', position: { x: 200, y: 30 } });
  await alice.getByRole('menuitem', { name: 'Pin to the channel' }).click();
  await edited.getByText('Pinned', { exact: true }).waitFor({ timeout: 5000 });
  await alice.getByRole('button', { name: 'Pinned messages' }).click();
  const pins = alice.getByRole('dialog', { name: 'Pinned messages' });
  await pins.getByText('Qui relit le budget 2027 avant vendredi ?').waitFor();
  await checkA11y(alice, 'chat-pins');
  await pins.getByRole('button', { name: 'Close' }).first().click();
  await checkA11y(bob, 'chat-channel');

  // Settings: the webhook address is shown once, with a copy button.
  await alice.getByTestId('chat-settings-button').click();
  const settings = alice.getByTestId('chat-settings');
  await settings.getByRole('tab', { name: 'Integrations' }).click();
  await settings.getByLabel('Name of the integration').fill('Supervision');
  await settings.getByRole('button', { name: 'Create a webhook' }).click();
  const url = await settings.getByTestId('chat-hook-url').inputValue();
  assert.match(url, /\/api\/chat\/hooks\/[\w-]+$/);
  await checkA11y(alice, 'chat-settings-hooks');
  await settings.getByRole('button', { name: 'Close' }).first().click();
  const posted = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: 'Disque plein sur srv-2', username: 'Nagios' }) });
  assert.equal(posted.status, 200);
  await message(bob, 'Disque plein sur srv-2').getByText('Nagios').waitFor({ timeout: 5000 });

  // Notifications: a level and a mute of one's own; the muted channel is marked in the list.
  await alice.getByTestId('chat-settings-button').click();
  await settings.getByRole('tab', { name: 'Notifications' }).click();
  await settings.getByLabel('Browser notifications on this device').waitFor();
  // Per-channel preferences come with the server's PUT /api/chat/channels/:id/notify; without it the tab says so.
  if ((await settings.getByLabel('Every message').count()) > 0) {
    await settings.getByLabel('Every message').check();
    await settings.getByLabel('Mute this conversation').check();
    await sideItem(alice, 'general').getByTestId('chat-muted').waitFor({ timeout: 5000 });
    await checkA11y(alice, 'chat-settings-notify');
    await settings.getByLabel('Mute this conversation').uncheck();
    await sideItem(alice, 'general').getByTestId('chat-muted').waitFor({ state: 'detached', timeout: 5000 });
  } else {
    await settings.getByText('Per-channel notification levels and muting are not available yet').waitFor();
    await checkA11y(alice, 'chat-settings-notify');
  }
  await settings.getByRole('button', { name: 'Close' }).first().click();
});

test('offline and back: the messages missed appear, none doubled', async (t) => {
  await bob.goto(`${server.url}${channelUrl}`);
  await message(bob, 'avant vendredi').waitFor();
  await alice.goto(`${server.url}${channelUrl}`);
  await message(alice, 'avant vendredi').waitFor();

  await bobContext.setOffline(true);
  const texts = ['Hors ligne 1', 'Hors ligne 2', 'Hors ligne 3'];
  for (const text of texts) {
    await alice.getByTestId('chat-composer').fill(text);
    await alice.getByTestId('chat-composer').press('Enter');
    await message(alice, text).waitFor();
    assert.equal(await message(alice, text).count(), 1);
  }
  await new Promise((r) => setTimeout(r, 1500));
  await bobContext.setOffline(false);
  const back = Date.now();
  for (const text of texts) await message(bob, text).waitFor({ timeout: 15_000 });
  t.diagnostic(`the 3 missed messages shown ${Date.now() - back} ms after the network came back`);
  // A moment for any late replay or refetch to (wrongly) add a copy.
  await new Promise((r) => setTimeout(r, 2000));
  for (const text of [...texts, 'avant vendredi', 'Disque plein']) assert.equal(await message(bob, text).count(), 1, `"${text}" shown once`);
  // And a live message afterwards still arrives within a second.
  const ms = await sendAndMeasure(alice, bob, 'De retour en ligne ?');
  assert.ok(ms < 1000, `after the drop the message took ${ms} ms`);
  t.diagnostic(`after the drop, a live message after ${ms} ms`);
});

test('on a 360 px screen: the list, then the conversation full screen with a back button', async () => {
  const phone = await signIn(BOB, 360);
  await openChat(phone);
  const nav = phone.getByRole('navigation', { name: 'Conversations' });
  await nav.waitFor();
  await checkA11y(phone, 'chat-phone-list');
  await sideItem(phone, 'general').click();
  await phone.getByRole('heading', { name: 'general' }).waitFor();
  assert.equal(await nav.isVisible(), false, 'the list is hidden behind the conversation');
  await message(phone, 'De retour en ligne ?').waitFor();
  await checkA11y(phone, 'chat-phone-channel');
  const ms = await sendAndMeasure(phone, alice, 'Envoyé du téléphone');
  assert.ok(ms < 1000, `from the phone the message took ${ms} ms`);
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `no horizontal scroll (${width} px)`);
  await phone.getByRole('link', { name: 'Back to conversations' }).click();
  await nav.waitFor();
  await sideItem(phone, 'Alice Martin').waitFor();
  await phone.context().close();
  assert.ok(dmUrl.startsWith('/chat/'));
});

/** Posts through the API as the page's user (retrying when rate-limited); returns the ids by number. */
async function postMany(page: Page, channelId: string, from: number, to: number): Promise<Record<number, string>> {
  return page.evaluate(
    async ({ channelId, from, to }) => {
      const s = (await (await fetch('/api/session')).json()) as { csrfToken: string };
      const headers = { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrfToken };
      const ids: Record<number, string> = {};
      for (let i = from; i <= to; i++) {
        for (;;) {
          const r = await fetch(`/api/chat/channels/${channelId}/messages`, { method: 'POST', headers, body: JSON.stringify({ text: `Historique #${String(i).padStart(3, '0')}.` }) });
          if (r.status === 429) {
            await new Promise((res) => setTimeout(res, 220));
            continue;
          }
          ids[i] = ((await r.json()) as { message: { id: string } }).message.id;
          break;
        }
      }
      return ids;
    },
    { channelId, from, to },
  );
}

test('history: older pages load on scroll up and keep the reading position, only visible rows are in the page, a permalink centres its message', async () => {
  const created = await alice.evaluate(async () => {
    const s = (await (await fetch('/api/session')).json()) as { csrfToken: string };
    const r = await fetch('/api/chat/channels', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrfToken }, body: JSON.stringify({ kind: 'org', name: 'history', visibility: 'public' }) });
    return ((await r.json()) as { channel: { id: string } }).channel.id;
  });
  const ids = await postMany(alice, created, 1, 130);
  const joined = await bob.evaluate(async (id) => {
    const s = (await (await fetch('/api/session')).json()) as { csrfToken: string };
    return (await fetch(`/api/chat/channels/${id}/join`, { method: 'POST', headers: { 'X-CSRF-Token': s.csrfToken } })).status;
  }, created);
  assert.equal(joined, 200);

  await bob.goto(`${server.url}/chat/${created}`);
  await message(bob, 'Historique #130.').waitFor({ timeout: 10_000 }).catch(async (e: unknown) => {
    await bob.screenshot({ path: join(ARTIFACTS, 'chat-history-failed.png') });
    throw e;
  });
  const scroller = bob.getByTestId('chat-scroller');
  const inView = async (text: string) => {
    const box = await message(bob, text).boundingBox();
    const area = await scroller.boundingBox();
    return !!box && !!area && box.y + box.height > area.y && box.y < area.y + area.height;
  };
  // To the top of what is loaded: the next page comes and the message that was at the top stays in view.
  await scroller.evaluate((el) => (el.scrollTop = 0));
  await message(bob, 'Historique #080.').waitFor({ timeout: 5000 });
  await message(bob, 'Historique #081.').waitFor();
  assert.ok(await inView('Historique #081.'), 'the reading position is kept');
  for (let i = 0; i < 10 && !(await bob.getByText('This is the very beginning of #history.').isVisible()); i++) {
    await scroller.evaluate((el) => (el.scrollTop = 0));
    await bob.waitForTimeout(400);
  }
  await message(bob, 'Historique #001.').waitFor();
  const rendered = await bob.getByTestId('chat-message').count();
  assert.ok(rendered < 60, `virtualised: ${rendered} messages in the page for 130 loaded`);

  // A permalink far back: the window is loaded around it, centred and highlighted.
  await bob.goto(`${server.url}/chat/${created}?m=${ids[12]}`);
  const target = message(bob, 'Historique #012.');
  await target.waitFor();
  assert.match((await target.getAttribute('class')) ?? '', /chat-msg-hl/);
  assert.ok(await inView('Historique #012.'));
  await checkA11y(bob, 'chat-permalink');

  // Jump to a date: today's first message.
  await bob.getByRole('button', { name: 'Jump to a date' }).click();
  const jump = bob.getByRole('dialog', { name: 'Jump to a date' });
  const d = new Date();
  const today = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  await jump.getByLabel('Date').fill(today);
  await jump.getByRole('button', { name: 'Go' }).click();
  await bob.waitForURL(new RegExp(`m=${ids[1]}$`));
  const first = message(bob, 'Historique #001.');
  await first.waitFor();
  assert.match((await first.getAttribute('class')) ?? '', /chat-msg-hl/);
});

test('browser notifications, turned on from the status menu: a direct message and a mention notify while the tab is hidden, other messages do not', async () => {
  const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 860 } });
  await context.addCookies(await bobContext.cookies());
  // The browser's Notification and page visibility, observed (headless Chromium shows no notifications).
  // (A string: the test runner's transpiler would add helpers a function could not find in the page.)
  await context.addInitScript({
    content: `
      window.__notes = [];
      window.Notification = class {
        static permission = 'granted';
        static requestPermission() { return Promise.resolve('granted'); }
        constructor(title, opts) { window.__notes.push({ title, body: (opts && opts.body) || '' }); this.onclick = null; }
        close() {}
      };
      Object.defineProperty(document, 'hidden', { get: () => window.__hidden === true, configurable: true });
    `,
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  await openChat(page);
  await page.getByRole('button', { name: /Your status/ }).click();
  await page.getByRole('menuitem', { name: 'Turn on browser notifications' }).click();
  await page.evaluate(() => ((window as unknown as { __hidden: boolean }).__hidden = true));
  const notes = () => page.evaluate(() => (window as unknown as { __notes: { title: string; body: string }[] }).__notes);

  await alice.goto(`${server.url}${dmUrl}`);
  await sendAndMeasure(alice, alice, 'Tu es là ?');
  await page.waitForFunction(() => (window as unknown as { __notes: unknown[] }).__notes.length === 1, undefined, { timeout: 5000 });
  assert.deepEqual(await notes(), [{ title: 'Alice Martin', body: 'Tu es là ?' }]);

  await alice.goto(`${server.url}${channelUrl}`);
  await sendAndMeasure(alice, alice, 'Rien de spécial');
  await sendAndMeasure(alice, alice, '@bob tu peux regarder ?');
  await page.waitForFunction(() => (window as unknown as { __notes: unknown[] }).__notes.length === 2, undefined, { timeout: 5000 });
  const all = await notes();
  assert.equal(all[1]?.title, 'Alice Martin · general');
  assert.equal(all[1]?.body, '@bob tu peux regarder ?');
  await context.close();
});

test('in French and the dark theme: the channel, the threads, the settings and the phone list', async () => {
  for (const width of [1280, 360]) {
    const context = await browser.newContext({ locale: 'fr-FR', colorScheme: 'dark', viewport: { width, height: 860 } });
    await context.addCookies(await alice.context().cookies());
    const page = await context.newPage();
    page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
    await page.goto(`${server.url}${width === 360 ? '/chat' : channelUrl}`);
    await page.getByRole('navigation', { name: 'Conversations' }).waitFor({ state: 'attached' });
    if (width === 360) {
      await page.getByRole('link', { name: /Fils/ }).waitFor();
      await checkA11y(page, 'chat-fr-dark-phone-list');
      await context.close();
      continue;
    }
    await message(page, 'Hors ligne 3').waitFor();
    await page.getByTestId('chat-composer').fill('Réponse en cours @b');
    await page.getByRole('option', { name: /@bob/ }).waitFor();
    await checkA11y(page, 'chat-fr-dark-channel');
    await page.getByTestId('chat-composer').fill('');
    await page.getByTestId('chat-settings-button').click();
    await page.getByTestId('chat-settings').getByRole('tab', { name: 'Membres' }).click();
    await page.getByTestId('chat-settings').getByText('Bob Durand').waitFor();
    await checkA11y(page, 'chat-fr-dark-settings');
    await page.keyboard.press('Escape');
    await page.getByTestId('chat-threads-link').click();
    await page.getByTestId('chat-threads-item').first().waitFor();
    await checkA11y(page, 'chat-fr-dark-threads');
    await context.close();
  }
});
