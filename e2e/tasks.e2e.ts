import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { addUser, ARTIFACTS, checkA11y, launchBrowser, startServer, type E2EServer } from './harness.js';

/**
 * Tasks in a real browser: create a task list, add tasks with Enter and a sub-task, complete one, filter,
 * assign a colleague from the directory, then move cards on the board by drag and drop and by keyboard —
 * with axe-core, on a desktop (light) and a 360 px phone (dark).
 */
const USER = { login: 'claire', name: 'Claire Martin', password: 'Liberte-Egalite-2026' };
const COLLEAGUE = { login: 'paul', name: 'Paul Durand', password: 'Fraternite-Sud-2026' };
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

/** The server's view of a list's tasks (what CalDAV clients get too). */
async function serverTasks(page: Page, listName: string): Promise<Array<{ summary: string; status: string; parentUid: string | null; uid: string; assignees: Array<{ name: string }> }>> {
  return page.evaluate(async (name) => {
    const cals = (await (await fetch('/api/calendars')).json()) as { calendars: Array<{ id: string; name: string }> };
    const id = cals.calendars.find((c) => c.name === name)!.id;
    return ((await (await fetch(`/api/tasklists/${id}/items`)).json()) as { items: never[] }).items;
  }, listName);
}

async function flow(width: number, scheme: 'light' | 'dark', listName: string): Promise<void> {
  const phone = width <= 640;
  const page = await signIn(width, scheme);
  await page.goto(`${server.url}/tasks`);
  await page.getByRole('navigation', { name: 'Task lists' }).getByRole('link', { name: 'Tasks' }).waitFor();

  // A new list, with a colour.
  await page.getByRole('button', { name: 'New task list' }).click();
  const dialog = page.getByRole('dialog', { name: 'New task list' });
  await dialog.getByLabel('Name').fill(listName);
  await dialog.getByLabel('Violet').check();
  await checkA11y(page, `tasks-new-list-${width}`);
  await dialog.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('heading', { name: listName }).waitFor();
  await page.getByText('Nothing to do here yet').waitFor();
  await checkA11y(page, `tasks-empty-${width}`);

  // Tasks added inline with Enter.
  const add = page.getByTestId('task-add');
  for (const s of ['Write the report', 'Book the room', 'Send the invitations']) {
    await add.fill(s);
    await add.press('Enter');
    await page.getByRole('link', { name: s }).waitFor();
  }
  assert.equal(await add.inputValue(), '');

  // A sub-task from the task panel, shown indented under its parent.
  await page.getByRole('link', { name: 'Write the report' }).click();
  const panel = page.getByTestId('task-detail');
  await panel.getByTestId('subtask-add').fill('Collect the figures');
  await panel.getByTestId('subtask-add').press('Enter');
  await panel.getByRole('link', { name: 'Collect the figures' }).waitFor();
  // Assign a colleague from the directory, and a due date in the past (overdue).
  await panel.getByRole('button', { name: 'Assign someone' }).click();
  await panel.getByTestId('assignee-search').fill('paul');
  await panel.getByRole('button', { name: /Paul Durand/ }).click();
  await panel.getByText('Paul Durand').waitFor();
  await panel.getByLabel('Due date').fill('2024-01-15');
  await panel.getByLabel('Priority').selectOption('high');
  await checkA11y(page, `tasks-detail-${width}`);
  await panel.getByRole('link', { name: 'Close the task details' }).click();
  const sub = page.getByTestId('task-row').filter({ hasText: 'Collect the figures' });
  await sub.waitFor();
  assert.match((await sub.getAttribute('class')) ?? '', /tk-depth-1/);
  const parent = page.getByTestId('task-row').filter({ hasText: 'Write the report' });
  await parent.getByText(/Overdue since/).waitFor();
  await parent.getByText('High').waitFor();

  // Complete one with its checkbox; filters.
  await page.getByRole('checkbox', { name: 'Mark “Book the room” as completed' }).check();
  await page.getByRole('checkbox', { name: 'Mark “Book the room” as not completed' }).waitFor();
  await page.getByLabel('Show').selectOption('done');
  assert.deepEqual(await page.getByTestId('task-row').allInnerTexts().then((x) => x.map((s) => s.split('\n')[0])), ['Book the room']);
  await page.getByLabel('Show').selectOption('overdue');
  await page.getByTestId('task-row').filter({ hasText: 'Write the report' }).waitFor();
  assert.equal(await page.getByTestId('task-row').count(), 1);
  await page.getByLabel('Show').selectOption('all');
  await page.getByLabel('Sort by').selectOption('title');
  await checkA11y(page, `tasks-list-${width}`);

  // The board: drag a card to "In progress".
  await page.getByRole('link', { name: 'Board' }).click();
  const board = page.getByTestId('task-board');
  const column = (c: string) => board.locator(`[data-column="${c}"]`);
  await column('COMPLETED').getByText('Book the room').waitFor();
  // With the mouse: press on the card, move onto the column (scrolled into view: on a phone the columns are stacked), release.
  const source = column('NEEDS-ACTION').getByTestId('task-card').filter({ hasText: 'Send the invitations' });
  await column('NEEDS-ACTION').evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await source.hover();
  await page.mouse.down();
  const box = (await column('IN-PROCESS').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await column('IN-PROCESS').getByText('Send the invitations').waitFor();
  await checkA11y(page, `tasks-board-${width}`);
  // And by keyboard: → twice takes "Collect the figures" to Done, focus following the card.
  const card = board.getByRole('button', { name: /^Collect the figures/ });
  await card.focus();
  await page.keyboard.press('ArrowRight');
  await column('IN-PROCESS').getByText('Collect the figures').waitFor();
  await page.getByTestId('board-announce').getByText('“Collect the figures” moved to In progress.').waitFor();
  assert.equal(await board.getByRole('button', { name: /^Collect the figures/ }).evaluate((el) => el === document.activeElement), true, 'focus stays on the moved card');
  await page.keyboard.press('ArrowRight');
  await column('COMPLETED').getByText('Collect the figures').waitFor();
  await page.keyboard.press('ArrowLeft');
  await column('IN-PROCESS').getByText('Collect the figures').waitFor();

  // What the server holds (and CalDAV clients sync).
  for (let i = 0; i < 50; i++) {
    const items = await serverTasks(page, listName);
    const by = (s: string) => items.find((x) => x.summary === s)!;
    if (by('Send the invitations').status === 'IN-PROCESS' && by('Collect the figures').status === 'IN-PROCESS') {
      assert.equal(by('Book the room').status, 'COMPLETED');
      assert.equal(by('Collect the figures').parentUid, by('Write the report').uid);
      assert.deepEqual(by('Write the report').assignees.map((a) => a.name), ['Paul Durand']);
      break;
    }
    assert.ok(i < 49, 'the server did not get the moves');
    await page.waitForTimeout(100);
  }
  if (phone) assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 360, 'no horizontal scroll at 360 px');
  await page.context().close();
}

test('tasks on a desktop (light): list, sub-task, complete, filter, assign, board by mouse and keyboard', async () => {
  await flow(1280, 'light', 'Projet Mairie');
});

test('tasks on a 360 px phone (dark): the same', async () => {
  await flow(360, 'dark', 'Projet Téléphone');
});

test('tasks in French, on a dark desktop and a light phone: translated and axe-clean', async () => {
  for (const [width, scheme] of [[1280, 'dark'], [360, 'light']] as const) {
    const page = await signIn(width, scheme, 'fr-FR');
    await page.goto(`${server.url}/tasks`);
    await page.getByRole('link', { name: 'Projet Mairie' }).click();
    await page.getByTestId('task-add').waitFor();
    await page.getByText('Ajoutez une tâche, puis appuyez sur Entrée').or(page.getByPlaceholder('Ajoutez une tâche, puis appuyez sur Entrée')).first().waitFor();
    await checkA11y(page, `tasks-fr-list-${width}-${scheme}`);
    await page.getByRole('link', { name: 'Tableau' }).click();
    await page.getByRole('heading', { name: 'En cours' }).waitFor();
    await checkA11y(page, `tasks-fr-board-${width}-${scheme}`);
    await page.getByTestId('task-board').getByRole('button', { name: /^Write the report/ }).click();
    await page.getByTestId('task-detail').getByText('Détails de la tâche').waitFor();
    await checkA11y(page, `tasks-fr-detail-${width}-${scheme}`);
    await page.context().close();
  }
});
