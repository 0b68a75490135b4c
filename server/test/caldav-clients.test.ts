import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, makeUser, type TestServer } from './helpers/server.js';
import { createAppPassword } from '../src/modules/identity/commands/credentials.js';

/**
 * Real Debian clients against CalDAV/CardDAV: vdirsyncer two-way sync of a calendar and an address book
 * (changes on both sides converge), and python3-caldav scripted flows (discovery, calendar creation,
 * a recurring event with exceptions, time-range query with server-side expansion, sync tokens, free-busy).
 * A missing client skips with a notice, unless BASTIDE_TEST_DAV=required (CI).
 */
const PYTHON = '/usr/bin/python3';
const vdirsyncerAvailable = (): boolean => existsSync('/usr/bin/vdirsyncer');
const caldavAvailable = (): boolean => existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import caldav'], { stdio: 'ignore' }).status === 0;

function skipUnless(available: boolean, what: string, install: string, t: { skip(msg: string): void }): boolean {
  if (available) return false;
  if (process.env.BASTIDE_TEST_DAV === 'required') assert.fail(`${what} is required (BASTIDE_TEST_DAV=required) but is not installed (apt-get install ${install})`);
  console.log(`# notice: ${what} missing (apt-get install ${install}); test skipped`);
  t.skip(`${what} missing`);
  return true;
}

/** The environment without proxies (everything is on 127.0.0.1). */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(https?_proxy|all_proxy|no_proxy|PYTHON\w*)$/i.test(k)) env[k] = v;
  return { ...env, LC_ALL: 'C.UTF-8', ...extra };
}

function run(cmd: string, args: string[], opts: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: opts.env ?? cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out, err });
    });
    p.stdin.end(opts.input ?? '');
  });
}

async function setup(name: string): Promise<{ srv: TestServer; login: string; password: string; auth: string }> {
  const srv = await startTestServer();
  const user = await makeUser(srv, name);
  const { password } = await createAppPassword({ platform: srv.bastide.platform, actor: { kind: 'system' } }, { userId: user.id, name: 'client', scopes: ['dav'] });
  return { srv, login: user.login, password, auth: `Basic ${Buffer.from(`${user.login}:${password}`).toString('base64')}` };
}

const ics = (uid: string, summary: string): string =>
  `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260310T090000Z\r\nDTEND:20260310T100000Z\r\nSUMMARY:${summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;
const vcf = (uid: string, fn: string): string => `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${fn}\r\nN:${fn};;;;\r\nEMAIL:${uid}@example.org\r\nEND:VCARD\r\n`;

/** UID → SUMMARY/FN of every file in a vdirsyncer folder. */
function localItems(dir: string, prop: 'SUMMARY' | 'FN'): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir)) {
    const text = readFileSync(join(dir, f), 'utf8').replace(/\r?\n[ \t]/g, '');
    const uid = /^UID:(.*)$/m.exec(text)?.[1]?.trim();
    const v = new RegExp(`^${prop}[^:]*:(.*)$`, 'm').exec(text)?.[1]?.trim();
    if (uid) out.set(uid, v ?? '');
  }
  return out;
}

test('vdirsyncer (Debian) syncs a calendar and an address book both ways; changes on both sides converge', { timeout: 240_000 }, async (t) => {
  if (skipUnless(vdirsyncerAvailable(), 'vdirsyncer', 'vdirsyncer', t)) return;
  const { srv, login, password, auth } = await setup('vera');
  t.after(() => srv.close());
  const work = join(srv.storage.dataDir, 'vdirsyncer');
  const calDir = join(work, 'cal');
  const cardDir = join(work, 'card');
  mkdirSync(calDir, { recursive: true });
  mkdirSync(cardDir, { recursive: true });
  const calUrl = `${srv.url}/dav/calendars/${login}/default/`;
  const bookUrl = `${srv.url}/dav/addressbooks/${login}/contacts/`;
  const config = `[general]
status_path = "${join(work, 'status')}/"

[pair cal]
a = "cal_local"
b = "cal_remote"
collections = null
conflict_resolution = "b wins"

[storage cal_local]
type = "filesystem"
path = "${calDir}/"
fileext = ".ics"

[storage cal_remote]
type = "caldav"
url = "${calUrl}"
username = "${login}"
password = "${password}"

[pair card]
a = "card_local"
b = "card_remote"
collections = null
conflict_resolution = "b wins"

[storage card_local]
type = "filesystem"
path = "${cardDir}/"
fileext = ".vcf"

[storage card_remote]
type = "carddav"
url = "${bookUrl}"
username = "${login}"
password = "${password}"
`;
  const configFile = join(work, 'config');
  writeFileSync(configFile, config);
  const vdir = async (...args: string[]): Promise<void> => {
    const r = await run('/usr/bin/vdirsyncer', ['-c', configFile, ...args], { input: 'y\ny\ny\n', env: cleanEnv({ HOME: work }) });
    assert.equal(r.code, 0, `vdirsyncer ${args.join(' ')} failed:\n${r.out}\n${r.err}`);
  };
  const http = (method: string, url: string, body?: string, headers: Record<string, string> = {}): Promise<Response> => fetch(url, { method, headers: { authorization: auth, ...headers }, body: body ?? null });

  // Server side: two events and two contacts. Local side: one of each.
  for (const [u, s] of [['srv-1', 'Server one'], ['srv-2', 'Server two']]) assert.equal((await http('PUT', `${calUrl}${u}.ics`, ics(u!, s!))).status, 201);
  for (const [u, s] of [['csrv-1', 'Anna Server'], ['csrv-2', 'Bruno Server']]) assert.equal((await http('PUT', `${bookUrl}${u}.vcf`, vcf(u!, s!))).status, 201);
  writeFileSync(join(calDir, 'loc-1.ics'), ics('loc-1', 'Local one'));
  writeFileSync(join(cardDir, 'cloc-1.vcf'), vcf('cloc-1', 'Chloe Local'));

  await vdir('discover');
  await vdir('sync');
  const serverItems = async (url: string, prop: 'SUMMARY' | 'FN'): Promise<Map<string, string>> => {
    const r = await http('PROPFIND', url, '<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>', { depth: '1' });
    const hrefs = [...(await r.text()).matchAll(/<D:href>([^<]+)<\/D:href>/g)].map((m) => m[1]!).filter((h) => /\.(ics|vcf)$/.test(h));
    const out = new Map<string, string>();
    for (const h of hrefs) {
      const text = (await (await http('GET', `${srv.url}${h}`)).text()).replace(/\r?\n[ \t]/g, '');
      out.set(/^UID:(.*)$/m.exec(text)![1]!.trim(), new RegExp(`^${prop}[^:]*:(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '');
    }
    return out;
  };
  const expectCal = new Map([['srv-1', 'Server one'], ['srv-2', 'Server two'], ['loc-1', 'Local one']]);
  const expectCard = new Map([['csrv-1', 'Anna Server'], ['csrv-2', 'Bruno Server'], ['cloc-1', 'Chloe Local']]);
  assert.deepEqual(localItems(calDir, 'SUMMARY'), expectCal);
  assert.deepEqual(await serverItems(calUrl, 'SUMMARY'), expectCal);
  assert.deepEqual(localItems(cardDir, 'FN'), expectCard);
  assert.deepEqual(await serverItems(bookUrl, 'FN'), expectCard);

  // Changes on both sides: the server edits srv-1 and deletes srv-2; locally loc-1 is edited and loc-2 added.
  const etag1 = (await http('GET', `${calUrl}srv-1.ics`)).headers.get('etag')!;
  assert.equal((await http('PUT', `${calUrl}srv-1.ics`, ics('srv-1', 'Server one, edited'), { 'if-match': etag1 })).status, 204);
  assert.equal((await http('DELETE', `${calUrl}srv-2.ics`)).status, 204);
  const locFile = readdirSync(calDir).find((f) => readFileSync(join(calDir, f), 'utf8').includes('UID:loc-1'))!;
  writeFileSync(join(calDir, locFile), ics('loc-1', 'Local one, edited'));
  writeFileSync(join(calDir, 'loc-2.ics'), ics('loc-2', 'Local two'));
  assert.equal((await http('DELETE', `${bookUrl}csrv-2.vcf`)).status, 204);
  const cardFile = readdirSync(cardDir).find((f) => readFileSync(join(cardDir, f), 'utf8').includes('UID:csrv-1'))!;
  writeFileSync(join(cardDir, cardFile), vcf('csrv-1', 'Anna Edited'));
  writeFileSync(join(cardDir, 'cloc-2.vcf'), vcf('cloc-2', 'Dora Local'));

  await vdir('sync');
  // A second sync with no change on either side changes nothing.
  await vdir('sync');
  const expectCal2 = new Map([['srv-1', 'Server one, edited'], ['loc-1', 'Local one, edited'], ['loc-2', 'Local two']]);
  const expectCard2 = new Map([['csrv-1', 'Anna Edited'], ['cloc-1', 'Chloe Local'], ['cloc-2', 'Dora Local']]);
  assert.deepEqual(localItems(calDir, 'SUMMARY'), expectCal2);
  assert.deepEqual(await serverItems(calUrl, 'SUMMARY'), expectCal2);
  assert.deepEqual(localItems(cardDir, 'FN'), expectCard2);
  assert.deepEqual(await serverItems(bookUrl, 'FN'), expectCard2);
  rmSync(work, { recursive: true, force: true });
});

const SCRIPT = String.raw`
import sys, json, datetime
from urllib.parse import unquote
import caldav
url, user, password = sys.argv[1:4]
out = {}
client = caldav.DAVClient(url=url, username=user, password=password)
principal = client.principal()
out['principal'] = str(principal.url)
out['home'] = str(principal.calendar_home_set.url)
out['initial'] = sorted(str(c.url) for c in principal.calendars())
cal = principal.make_calendar(name="Scripted", cal_id="scripted")
out['created'] = str(cal.url)
out['names'] = sorted(c.name for c in principal.calendars())
ev = cal.save_event("""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//python caldav test//EN
BEGIN:VEVENT
UID:rec@bastide.test
DTSTAMP:20260101T000000Z
DTSTART;TZID=America/New_York:20260302T090000
DTEND;TZID=America/New_York:20260302T100000
RRULE:FREQ=DAILY;COUNT=20
EXDATE;TZID=America/New_York:20260310T090000
SUMMARY:Standup
END:VEVENT
BEGIN:VEVENT
UID:rec@bastide.test
DTSTAMP:20260101T000000Z
RECURRENCE-ID;TZID=America/New_York:20260309T090000
DTSTART;TZID=America/New_York:20260309T113000
DTEND;TZID=America/New_York:20260309T120000
SUMMARY:Late standup
END:VEVENT
END:VCALENDAR
""")
token0 = cal.objects_by_sync_token().sync_token
found = cal.search(start=datetime.datetime(2026, 3, 7, tzinfo=datetime.timezone.utc), end=datetime.datetime(2026, 3, 12, tzinfo=datetime.timezone.utc), event=True, expand=True)
occ = []
for o in found:
    for comp in o.icalendar_instance.walk('VEVENT'):
        occ.append([comp['DTSTART'].dt.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%MZ'), str(comp['SUMMARY'])])
out['occurrences'] = sorted(occ)
cal.save_event("""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//python caldav test//EN
BEGIN:VEVENT
UID:second@bastide.test
DTSTAMP:20260101T000000Z
DTSTART:20260311T150000Z
DTEND:20260311T160000Z
SUMMARY:Second
END:VEVENT
END:VCALENDAR
""")
changed = cal.objects_by_sync_token(sync_token=token0, load_objects=True)
out['changed'] = sorted(unquote(str(o.url).rsplit('/', 1)[-1]) for o in changed)
fb = cal.freebusy_request(datetime.datetime(2026, 3, 11, tzinfo=datetime.timezone.utc), datetime.datetime(2026, 3, 12, tzinfo=datetime.timezone.utc))
out['freebusy'] = [str(l) for l in fb.data.splitlines() if l.startswith('FREEBUSY')]
ev.delete()
after_delete = cal.objects_by_sync_token(sync_token=changed.sync_token)
out['after_delete'] = sorted(unquote(str(o.url).rsplit('/', 1)[-1]) for o in after_delete)
print(json.dumps(out))
`;

test('python3-caldav (Debian): discovery, calendar, recurring event with exceptions, expanded query, sync tokens, free-busy', { timeout: 120_000 }, async (t) => {
  if (skipUnless(caldavAvailable(), 'python3-caldav', 'python3-caldav', t)) return;
  const { srv, login, password } = await setup('paul');
  t.after(() => srv.close());
  const script = join(srv.storage.dataDir, 'flow.py');
  writeFileSync(script, SCRIPT);
  // Discovery starts from the well-known URL.
  const r = await run(PYTHON, [script, `${srv.url}/.well-known/caldav`, login, password]);
  assert.equal(r.code, 0, `python3-caldav failed:\n${r.out}\n${r.err}`);
  const out = JSON.parse(r.out.trim().split('\n').at(-1)!) as Record<string, unknown>;
  assert.match(String(out.principal), /\/dav\/principals\/paul\/$/);
  assert.match(String(out.home), /\/dav\/calendars\/paul\/$/);
  assert.equal((out.initial as string[]).length, 2);
  assert.match(String(out.created), /\/dav\/calendars\/paul\/scripted\/$/);
  assert.ok((out.names as string[]).includes('Scripted'));
  // Daily 09:00 New York: EST until 2026-03-08 (14:00Z), EDT after (13:00Z); 03-09 moved to 11:30; 03-10 excluded.
  assert.deepEqual(out.occurrences, [
    ['2026-03-07T14:00Z', 'Standup'],
    ['2026-03-08T13:00Z', 'Standup'],
    ['2026-03-09T15:30Z', 'Late standup'],
    ['2026-03-11T13:00Z', 'Standup'],
  ]);
  assert.deepEqual(out.changed, ['second@bastide.test.ics']);
  assert.deepEqual(out.after_delete, ['rec@bastide.test.ics']);
  assert.deepEqual(out.freebusy, ['FREEBUSY:20260311T130000Z/20260311T140000Z', 'FREEBUSY:20260311T150000Z/20260311T160000Z']);
});

/** python3-caldav as two people: RFC 6638 discovery, an invitation delivered, the attendee's answer, free-busy through the outbox. */
const SCHEDULING_SCRIPT = String.raw`
import sys, json
from datetime import datetime, timezone
import caldav
url, alogin, apw, blogin, bpw = sys.argv[1:6]
out = {}
a = caldav.DAVClient(url=url, username=alogin, password=apw).principal()
out['addresses'] = a.calendar_user_address_set()
out['inbox'] = str(a.schedule_inbox().url)
out['outbox'] = str(a.schedule_outbox().url)
acal = [c for c in a.calendars() if str(c.url).endswith('/default/')][0]
acal.save_event("""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//python caldav test//EN
BEGIN:VEVENT
UID:py-sched-1
DTSTAMP:20260101T000000Z
DTSTART:20260316T090000Z
DTEND:20260316T100000Z
SUMMARY:Budget review
ORGANIZER:mailto:%s@example.org
ATTENDEE;PARTSTAT=ACCEPTED:mailto:%s@example.org
ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:%s@example.org
END:VEVENT
END:VCALENDAR
""" % (alogin, alogin, blogin))
b = caldav.DAVClient(url=url, username=blogin, password=bpw).principal()
bcal = [c for c in b.calendars() if str(c.url).endswith('/default/')][0]
inv = bcal.event_by_uid('py-sched-1')
out['delivered'] = 'Budget review' in inv.data
inv.change_attendee_status(partstat='ACCEPTED')
inv.save()
org = acal.event_by_uid('py-sched-1')
org.load()
out['organizer_copy'] = org.data
res = a.freebusy_request(datetime(2026, 3, 16, tzinfo=timezone.utc), datetime(2026, 3, 17, tzinfo=timezone.utc), ['mailto:%s@example.org' % blogin])
# The library posts the request (it does not parse a schedule-response); the same request by hand:
fb = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//python caldav test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\nUID:py-fb\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260316T000000Z\r\nDTEND:20260317T000000Z\r\nORGANIZER:%s\r\nATTENDEE:mailto:%s@example.org\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n" % (out['addresses'][0], blogin)
resp = a.client.post(str(a.schedule_outbox().url), fb, headers={'Content-Type': 'text/calendar; charset=utf-8'})
out['freebusy_status'] = resp.status
out['freebusy'] = resp.raw if isinstance(resp.raw, str) else resp.raw.decode()
print(json.dumps(out))
`;

test('python3-caldav (Debian): scheduling between two users (invitation, answer, outbox free-busy)', { timeout: 120_000 }, async (t) => {
  if (skipUnless(caldavAvailable(), 'python3-caldav', 'python3-caldav', t)) return;
  const { srv, login, password } = await setup('olga');
  t.after(() => srv.close());
  const bob = await makeUser(srv, 'boris');
  const { password: bpw } = await createAppPassword({ platform: srv.bastide.platform, actor: { kind: 'system' } }, { userId: bob.id, name: 'client', scopes: ['dav'] });
  const script = join(srv.storage.dataDir, 'sched.py');
  writeFileSync(script, SCHEDULING_SCRIPT);
  const r = await run(PYTHON, [script, `${srv.url}/.well-known/caldav`, login, password, 'boris', bpw]);
  assert.equal(r.code, 0, `python3-caldav failed:\n${r.out}\n${r.err}`);
  const out = JSON.parse(r.out.trim().split('\n').at(-1)!) as Record<string, unknown>;
  assert.ok((out.addresses as string[]).includes('mailto:olga@example.org'));
  assert.match(String(out.inbox), /\/dav\/calendars\/olga\/inbox\/$/);
  assert.match(String(out.outbox), /\/dav\/calendars\/olga\/outbox\/$/);
  assert.equal(out.delivered, true);
  const copy = String(out.organizer_copy).replace(/\r?\n[ \t]/g, '');
  assert.match(copy, /ATTENDEE[^\n]*PARTSTAT=ACCEPTED[^\n]*:mailto:boris@example\.org/);
  assert.match(copy, /SCHEDULE-STATUS=1\.2/);
  assert.equal(out.freebusy_status, 200);
  assert.match(String(out.freebusy), /2\.0;Success/);
  assert.match(String(out.freebusy), /FREEBUSY:20260316T090000Z\/20260316T100000Z/);
});
