import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { addUser, ARTIFACTS, checkA11y, launchBrowser, startServer, type E2EServer } from './harness.js';

/**
 * The calendar web app in a real browser: an event created by dragging on the week grid, a weekly series
 * created by the form, one occurrence edited ("this one") with the others unchanged, an event moved by
 * dragging, "this and following" deleted, the views switched, .ics import with a clear error for a bad
 * file, and the phone layout (360 px) in dark mode — with axe-core on each screen.
 */
const USER = { login: 'olympe', name: 'Olympe de Gouges', password: 'Declaration-1791-Femme' };
let server: E2EServer;
let browser: Browser;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  // The calendar needs no mail listener (and other servers on this machine may hold their default ports).
  for (const p of ['SMTP', 'SUBMISSION', 'SUBMISSIONS', 'IMAP', 'IMAPS']) process.env[`BASTIDE_${p}_PORT`] = 'off';
  server = await startServer();
  browser = await launchBrowser();
  addUser(server, USER);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function signIn(opts: BrowserContextOptions): Promise<Page> {
  const context = await browser.newContext({ locale: 'en-GB', timezoneId: 'Europe/Paris', ...opts });
  const page = await context.newPage();
  page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  await page.goto(`${server.url}/login`);
  await page.getByLabel('Login').fill(USER.login);
  await page.getByLabel('Password').fill(USER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${server.url}/`);
  return page;
}

interface Occ { summary: string; start: string; end: string; recurrenceId: string | null }
async function occurrences(page: Page, from: string, to: string): Promise<Occ[]> {
  const cals = (await (await page.request.get(`${server.url}/api/calendars`)).json()) as { calendars: Array<{ id: string; slug: string }> };
  const id = cals.calendars.find((c) => c.slug === 'default')!.id;
  const r = (await (await page.request.get(`${server.url}/api/calendars/${id}/events?from=${from}&to=${to}`)).json()) as { occurrences: Occ[] };
  return r.occurrences;
}

const events = (page: Page) => page.getByTestId('cal-event');
const column = (page: Page, day: string) => page.locator(`[data-testid="cal-day-column"][data-day="${day}"]`);

/** Y of a time of day inside a day column (48 px per hour). */
async function yAt(page: Page, day: string, hours: number): Promise<{ x: number; y: number }> {
  const box = (await column(page, day).boundingBox())!;
  return { x: box.x + box.width / 2, y: box.y + hours * 48 + 2 };
}

test('week grid: drag to create, a weekly series by the form, this one, move by drag, this and following, views', async () => {
  const page = await signIn({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${server.url}/calendar?view=week&date=2026-03-23`);
  await page.getByTestId('cal-timegrid').waitFor();
  await page.getByRole('heading', { level: 1, name: /23.*29 Mar 2026/ }).waitFor();
  await checkA11y(page, 'calendar-week-empty');

  // 1. Click-drag on Tuesday from 10:00 to 11:30: the form opens with those times.
  const a = await yAt(page, '2026-03-24', 10);
  const b = await yAt(page, '2026-03-24', 11.5);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move(a.x, (a.y + b.y) / 2, { steps: 4 });
  await page.mouse.move(b.x, b.y, { steps: 4 });
  await page.mouse.up();
  const form = page.getByTestId('cal-event-form');
  await form.waitFor();
  assert.equal(await form.getByLabel('Start time').inputValue(), '10:00');
  assert.equal(await form.getByLabel('End time').inputValue(), '11:30');
  assert.equal(await form.getByLabel('Time zone').inputValue(), 'Europe/Paris');
  await form.getByLabel('Title').fill('Design review');
  await form.getByLabel('Location').fill('Salle des fêtes');
  await checkA11y(page, 'calendar-form');
  await form.getByRole('button', { name: 'Save' }).click();
  await form.waitFor({ state: 'detached' });
  await events(page).filter({ hasText: 'Design review' }).waitFor();

  // 2. A weekly series by the form: Monday 09:00–09:30, 4 times.
  await page.getByRole('button', { name: 'New event' }).first().click();
  await form.waitFor();
  await form.getByLabel('Title').fill('Team sync');
  await form.getByLabel('Start date').fill('2026-03-23');
  await form.getByLabel('Start time').fill('09:00');
  await form.getByLabel('End date').fill('2026-03-23');
  await form.getByLabel('End time').fill('09:30');
  await form.getByLabel('Repeat').selectOption('WEEKLY');
  await form.getByRole('radio', { name: /After/ }).check();
  await form.getByLabel('Number of occurrences').fill('4');
  await form.getByTestId('cal-rule-text').getByText('Every week on Monday, 4 times').waitFor();
  await page.screenshot({ path: join(ARTIFACTS, 'calendar-form-recurrence.png') });
  await form.getByRole('button', { name: 'Save' }).click();
  await form.waitFor({ state: 'detached' });
  await events(page).filter({ hasText: 'Team sync' }).waitFor();
  let occ = (await occurrences(page, '2026-03-01T00:00:00Z', '2026-05-01T00:00:00Z')).filter((o) => o.summary.startsWith('Team sync'));
  assert.deepEqual(occ.map((o) => o.start), ['2026-03-23T08:00:00.000Z', '2026-03-30T07:00:00.000Z', '2026-04-06T07:00:00.000Z', '2026-04-13T07:00:00.000Z']);

  // 3. This one: the next week's occurrence moves to 14:00 and is renamed; the others are unchanged.
  await page.keyboard.press('j');
  await page.getByRole('heading', { level: 1, name: /30 Mar.*5 Apr 2026/ }).waitFor();
  await events(page).filter({ hasText: 'Team sync' }).click();
  await form.waitFor();
  await form.getByLabel('Title').fill('Team sync (moved)');
  await form.getByLabel('Start time').fill('14:00');
  await form.getByLabel('End time').fill('14:30');
  await form.getByRole('button', { name: 'Save' }).click();
  const scope = page.getByTestId('cal-scope');
  await scope.waitFor();
  await scope.getByRole('radio', { name: 'This event' }).check();
  await checkA11y(page, 'calendar-scope');
  await scope.getByRole('button', { name: 'Save' }).click();
  await form.waitFor({ state: 'detached' });
  await events(page).filter({ hasText: 'Team sync (moved)' }).waitFor();
  occ = (await occurrences(page, '2026-03-01T00:00:00Z', '2026-05-01T00:00:00Z')).filter((o) => o.summary.startsWith('Team sync'));
  assert.deepEqual(occ.map((o) => [o.start, o.summary]), [
    ['2026-03-23T08:00:00.000Z', 'Team sync'],
    ['2026-03-30T12:00:00.000Z', 'Team sync (moved)'],
    ['2026-04-06T07:00:00.000Z', 'Team sync'],
    ['2026-04-13T07:00:00.000Z', 'Team sync'],
  ]);
  await page.keyboard.press('k');
  await page.getByRole('heading', { level: 1, name: /23.*29 Mar 2026/ }).waitFor();
  await events(page).filter({ hasText: /^Team sync/ }).filter({ hasNotText: 'moved' }).waitFor();

  // 4. Drag "Design review" from Tuesday 10:00 to Wednesday 11:00.
  const chip = events(page).filter({ hasText: 'Design review' });
  const box = (await chip.boundingBox())!;
  const wed = (await column(page, '2026-03-25').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + 10);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 20, box.y + 30, { steps: 3 });
  await page.mouse.move(wed.x + wed.width / 2, box.y + 10 + 48, { steps: 6 });
  await page.mouse.up();
  await page.waitForFunction(async () => true);
  for (let i = 0; i < 50; i++) {
    const o = (await occurrences(page, '2026-03-23T00:00:00Z', '2026-03-30T00:00:00Z')).find((x) => x.summary === 'Design review');
    if (o?.start === '2026-03-25T10:00:00.000Z') break;
    await page.waitForTimeout(100);
    assert.ok(i < 49, `moved: ${JSON.stringify(o)}`);
  }
  const moved = (await occurrences(page, '2026-03-23T00:00:00Z', '2026-03-30T00:00:00Z')).find((x) => x.summary === 'Design review')!;
  assert.equal(moved.end, '2026-03-25T11:30:00.000Z', 'the length is kept');
  await column(page, '2026-03-25').getByTestId('cal-event').filter({ hasText: 'Design review' }).waitFor();
  // Its bottom edge dragged down by half an hour: it ends at 13:00 (Paris).
  const edge = (await column(page, '2026-03-25').getByTestId('cal-event').filter({ hasText: 'Design review' }).getByTestId('cal-event-resize').boundingBox())!;
  await page.mouse.move(edge.x + edge.width / 2, edge.y + edge.height / 2);
  await page.mouse.down();
  await page.mouse.move(edge.x + edge.width / 2, edge.y + edge.height / 2 + 12, { steps: 3 });
  await page.mouse.move(edge.x + edge.width / 2, edge.y + edge.height / 2 + 24, { steps: 3 });
  await page.mouse.up();
  for (let i = 0; i < 50; i++) {
    const o = (await occurrences(page, '2026-03-23T00:00:00Z', '2026-03-30T00:00:00Z')).find((x) => x.summary === 'Design review');
    if (o?.end === '2026-03-25T12:00:00.000Z') break;
    assert.ok(i < 49, `resized: ${JSON.stringify(o)}`);
    await page.waitForTimeout(100);
  }

  // 5. This and following, from the third occurrence: two remain.
  await page.goto(`${server.url}/calendar?view=week&date=2026-04-06`);
  await events(page).filter({ hasText: 'Team sync' }).click();
  await form.waitFor();
  await form.getByRole('button', { name: 'Delete' }).click();
  await scope.waitFor();
  await scope.getByRole('radio', { name: 'This and following events' }).check();
  await scope.getByRole('button', { name: 'Delete' }).click();
  await form.waitFor({ state: 'detached' });
  await events(page).filter({ hasText: 'Team sync' }).waitFor({ state: 'detached' });
  occ = (await occurrences(page, '2026-03-01T00:00:00Z', '2026-05-01T00:00:00Z')).filter((o) => o.summary.startsWith('Team sync'));
  assert.deepEqual(occ.map((o) => o.summary), ['Team sync', 'Team sync (moved)']);

  // 6. Views by keyboard and buttons; the month shows the moved events; the agenda lists them.
  await page.goto(`${server.url}/calendar?view=week&date=2026-03-23`);
  await page.getByTestId('cal-timegrid').waitFor();
  await page.keyboard.press('m');
  await page.getByTestId('cal-month').waitFor();
  await page.getByRole('heading', { level: 1, name: 'March 2026' }).waitFor();
  await page.locator('[data-month-day="2026-03-25"]').getByText('Design review').waitFor();
  await checkA11y(page, 'calendar-month');
  await page.keyboard.press('a');
  await page.getByTestId('cal-agenda').waitFor();
  await page.getByTestId('cal-agenda').getByText('Salle des fêtes').waitFor();
  await checkA11y(page, 'calendar-agenda');
  await page.getByRole('button', { name: 'Day', exact: true }).click();
  await page.locator('.cal-tg-day').waitFor();
  await page.keyboard.press('t');
  await page.getByTestId('cal-now').waitFor();
  await page.getByRole('button', { name: 'Week', exact: true }).click();
  await page.getByTestId('cal-now').waitFor();
  await checkA11y(page, 'calendar-week-today');
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(`${server.url}/calendar?view=week&date=2026-03-23`);
  await events(page).filter({ hasText: 'Design review' }).waitFor();
  await checkA11y(page, 'calendar-week-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.getByRole('button', { name: 'Calendar keyboard shortcuts' }).click();
  await page.getByRole('dialog').getByText('Next period').waitFor();
  await page.keyboard.press('Escape');
  await page.context().close();
});

test('calendars: create, colour, hide (remembered), import with a clear error for a bad file, export', async () => {
  const page = await signIn({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${server.url}/calendar?view=month&date=2026-03-01`);
  await page.getByTestId('cal-month').waitFor();
  await page.getByRole('button', { name: 'New calendar' }).click();
  const dlg = page.getByTestId('cal-calendar-dialog');
  await dlg.getByLabel('Name').fill('Conseil municipal');
  await dlg.getByLabel('Violet').check();
  await dlg.getByRole('button', { name: 'Create' }).click();
  await dlg.waitFor({ state: 'detached' });
  await page.getByRole('button', { name: 'Settings of Conseil municipal' }).click();
  await dlg.waitFor();
  // A bad file: a clear error, nothing imported.
  await dlg.getByTestId('cal-import-input').setInputFiles({ name: 'broken.ics', mimeType: 'text/calendar', buffer: Buffer.from('BEGIN:VCALENDAR\r\nthis is not iCalendar\r\n') });
  await dlg.getByRole('alert').getByText(/not a valid calendar file/).waitFor();
  await page.screenshot({ path: join(ARTIFACTS, 'calendar-import-error.png') });
  const ics = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//e2e//EN',
    'BEGIN:VEVENT', 'UID:council-1@e2e', 'DTSTAMP:20260301T000000Z', 'DTSTART:20260312T180000Z', 'DTEND:20260312T200000Z', 'SUMMARY:Séance du conseil', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:council-2@e2e', 'DTSTAMP:20260301T000000Z', 'DTSTART;VALUE=DATE:20260316', 'SUMMARY:Fermeture mairie', 'RRULE:FREQ=MONTHLY;BYDAY=3MO;COUNT=3', 'END:VEVENT',
    'END:VCALENDAR', ''].join('\r\n');
  await dlg.getByTestId('cal-import-input').setInputFiles({ name: 'council.ics', mimeType: 'text/calendar', buffer: Buffer.from(ics) });
  await dlg.getByRole('status').getByText('2 items imported.').waitFor();
  const exp = await page.request.get(`${server.url}${await dlg.getByRole('link', { name: 'Export (.ics)' }).getAttribute('href')}`);
  assert.match(await exp.text(), /UID:council-2@e2e/);
  await dlg.getByRole('button', { name: 'Cancel' }).click();
  await page.locator('[data-month-day="2026-03-12"]').getByText('Séance du conseil').waitFor();
  // Dragged to the next day in the month view.
  const from = (await page.locator('[data-month-day="2026-03-12"]').getByTestId('cal-event').boundingBox())!;
  const to = (await page.locator('[data-month-day="2026-03-13"]').boundingBox())!;
  await page.mouse.move(from.x + 10, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(from.x + 30, from.y + from.height / 2, { steps: 3 });
  await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 6 });
  await page.mouse.up();
  await page.locator('[data-month-day="2026-03-13"]').getByText('Séance du conseil').waitFor();
  // A rule the editor cannot show is shown as text and kept.
  await page.locator('[data-month-day="2026-03-16"]').getByText('Fermeture mairie').click();
  const form = page.getByTestId('cal-event-form');
  await form.waitFor();
  await form.getByLabel('Repeat').selectOption('MONTHLY');
  await form.getByRole('radio', { name: 'on the third Monday' }).waitFor();
  await form.getByRole('button', { name: 'Cancel' }).click();
  // Hide it: its events go, and stay hidden after a reload.
  await page.getByRole('checkbox', { name: 'Conseil municipal' }).uncheck();
  await page.getByText('Séance du conseil').waitFor({ state: 'detached' });
  await page.reload();
  await page.getByTestId('cal-month').waitFor();
  assert.equal(await page.getByRole('checkbox', { name: 'Conseil municipal' }).isChecked(), false);
  assert.equal(await page.getByText('Séance du conseil').count(), 0);
  await page.context().close();
});

test('phone (360 px, dark): agenda by default, a bottom-sheet form, day view', async () => {
  const page = await signIn({ viewport: { width: 360, height: 780 }, colorScheme: 'dark' });
  await page.goto(`${server.url}/calendar?date=2026-03-23`);
  await page.getByTestId('cal-agenda').waitFor();
  assert.equal(await page.locator('.cal').getAttribute('data-view'), 'agenda');
  await page.getByTestId('cal-agenda').getByText('Team sync').first().waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scroll (${overflow} px)`);
  await checkA11y(page, 'calendar-phone-agenda-dark');
  await page.locator('.cal-fab').click();
  const form = page.getByTestId('cal-event-form');
  await form.waitFor();
  await page.waitForTimeout(400);
  await checkA11y(page, 'calendar-phone-form-dark');
  await form.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Day', exact: true }).click();
  await page.locator('.cal-tg-day').waitFor();
  await page.getByTestId('cal-event').filter({ hasText: 'Team sync' }).waitFor();
  await checkA11y(page, 'calendar-phone-day-dark');
  await page.getByRole('button', { name: 'Month', exact: true }).click();
  await page.getByTestId('cal-month').waitFor();
  await checkA11y(page, 'calendar-phone-month-dark');
  await page.context().close();
});

test('participants: invited from the directory with free/busy; the invitee declines one occurrence; the organizer sees it', async () => {
  const r = server.cli(['user', 'add', 'manon', '--name', 'Manon Roland', '--password-stdin'], 'Girondine-1793-Memoires\n');
  assert.equal(r.status, 0, r.stderr);
  const page = await signIn({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${server.url}/calendar?view=week&date=2026-04-13`);
  await page.getByTestId('cal-timegrid').waitFor();
  await page.getByRole('button', { name: 'New event' }).first().click();
  const form = page.getByTestId('cal-event-form');
  await form.waitFor();
  await form.getByLabel('Title').fill('Budget meeting');
  await form.getByLabel('Start date').fill('2026-04-14');
  await form.getByLabel('Start time').fill('10:00');
  await form.getByLabel('End date').fill('2026-04-14');
  await form.getByLabel('End time').fill('11:00');
  await form.getByLabel('Repeat').selectOption('WEEKLY');
  await form.getByRole('radio', { name: /After/ }).check();
  await form.getByLabel('Number of occurrences').fill('3');
  await form.getByPlaceholder('Invite: a name or an e-mail address').fill('Manon');
  await form.getByRole('button', { name: /Manon Roland/ }).click();
  await form.getByTestId('cal-attendees').getByText('free').waitFor();
  await checkA11y(page, 'calendar-attendees');
  await form.getByRole('button', { name: 'Save' }).click();
  await form.waitFor({ state: 'detached' });
  await events(page).filter({ hasText: 'Budget meeting' }).waitFor();

  const other = await browser.newContext({ locale: 'en-GB', timezoneId: 'Europe/Paris', viewport: { width: 1280, height: 900 } });
  const mp = await other.newPage();
  await mp.goto(`${server.url}/login`);
  await mp.getByLabel('Login').fill('manon');
  await mp.getByLabel('Password').fill('Girondine-1793-Memoires');
  await mp.getByRole('button', { name: 'Sign in' }).click();
  await mp.waitForURL(`${server.url}/`);
  await mp.goto(`${server.url}/calendar?view=week&date=2026-04-20`);
  await events(mp).filter({ hasText: 'Budget meeting' }).click();
  const mform = mp.getByTestId('cal-event-form');
  await mform.waitFor();
  await mform.getByText(/Organised by Olympe de Gouges/).waitFor();
  await mform.getByLabel('Answer for this occurrence only').check();
  await mform.getByRole('button', { name: 'Decline' }).click();
  await mform.getByRole('button', { name: 'Decline', pressed: true }).waitFor();
  await checkA11y(mp, 'calendar-invitee');
  await other.close();

  await page.goto(`${server.url}/calendar?view=week&date=2026-04-20`);
  await events(page).filter({ hasText: 'Budget meeting' }).click();
  await form.waitFor();
  await form.getByTestId('cal-attendees').getByText(/Manon Roland.*declined|declined/).waitFor();
  await form.getByRole('button', { name: 'Cancel' }).click();
  await page.goto(`${server.url}/calendar?view=week&date=2026-04-13`);
  await events(page).filter({ hasText: 'Budget meeting' }).click();
  await form.waitFor();
  await form.getByTestId('cal-attendees').getByText('no answer yet').waitFor();
  await form.getByRole('button', { name: 'Cancel' }).click();

  // Olympe shares her calendar with Manon, read only: Manon sees it under "Shared with me", and cannot change its events.
  const csrf = ((await (await page.request.get(`${server.url}/api/session`)).json()) as { csrfToken: string }).csrfToken;
  const manon = ((await (await page.request.get(`${server.url}/api/directory/users?q=manon`)).json()) as { items: Array<{ id: string }> }).items[0]!.id;
  const cals = (await (await page.request.get(`${server.url}/api/calendars`)).json()) as { calendars: Array<{ id: string; slug: string }> };
  const share = await page.request.post(`${server.url}/api/calendars/${cals.calendars.find((c) => c.slug === 'default')!.id}/shares`, { data: { granteeType: 'user', granteeId: manon, permission: 'read' }, headers: { 'x-csrf-token': csrf } });
  assert.ok(share.ok(), `share: ${share.status()} ${await share.text()}`);
  await page.context().close();
  const again = await browser.newContext({ locale: 'en-GB', timezoneId: 'Europe/Paris', viewport: { width: 1280, height: 900 } });
  const mp2 = await again.newPage();
  await mp2.goto(`${server.url}/login`);
  await mp2.getByLabel('Login').fill('manon');
  await mp2.getByLabel('Password').fill('Girondine-1793-Memoires');
  await mp2.getByRole('button', { name: 'Sign in' }).click();
  await mp2.waitForURL(`${server.url}/`);
  await mp2.goto(`${server.url}/calendar?view=week&date=2026-03-23`);
  await mp2.getByRole('heading', { name: 'Shared with me' }).waitFor();
  await events(mp2).filter({ hasText: 'Design review' }).click();
  const roForm = mp2.getByTestId('cal-event-form');
  await roForm.getByRole('note').getByText(/for reading only/).waitFor();
  assert.equal(await roForm.getByRole('button', { name: 'Save' }).count(), 0);
  await checkA11y(mp2, 'calendar-shared-readonly');
  await again.close();
});
