/**
 * `npm run bench`: Bastide's performance figures, each as a ratio against a peer run on the same machine
 * in the same run, or against a fixed limit. Not a test: it prints a table, writes .bench/results.json,
 * and exits non-zero when a figure misses its target (unless --no-fail). See bench/README.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chat } from './chat.js';
import { coldStart } from './cold-start.js';
import { dav } from './dav.js';
import { driveList } from './drive-list.js';
import { httpGet } from './http-get.js';
import { ROOT, npmRun, serverBuildState } from './lib/proc.js';
import { table, type Figure } from './lib/report.js';
import { webBundle } from './web-bundle.js';

const USAGE = `Usage: npm run bench -- [options]
  --no-fail            report only; exit 0 even when a figure misses its target
  --only LIST          comma-separated groups: start (cold start + idle RSS), http (authenticated GET), web (bundle),
                       dav (WebDAV vs Apache mod_dav: 1 GiB PUT/GET, small PUTs, PROPFIND),
                       chat (fan-out to a 1,000-member channel, burst deliveries/s, 10,000 idle sockets)
  --build              rebuild the server (npm run build:server) before measuring
  --profile            write a V8 CPU profile of the server under load to .bench/profiles and summarise it
  --ladder             also measure bench/peers/fastify-ladder.js stages (Fastify → +plugins → +SQLite → +Kysely)
  --runs N             cold-start runs per series (default 5)
  --connections N      autocannon connections (default 100)
  --seconds N          measured load duration (default 8)
  --warmup N           warm-up load duration (default 2)
  --log-level L        BASTIDE_LOG_LEVEL of the server under load (default warn)
  --dav-size-mib N     size of the large WebDAV file in MiB (default 1024)
  --dav-files N        small files PUT, and listed by PROPFIND (default 1000)
  --dav-connections N  requests in flight for the small WebDAV figures (default 8)
  --dav-rounds N       interleaved Bastide/Apache rounds, median reported (default 3)
  --chat-members N     members (each with a socket) of the chat channel (default 1000)
  --chat-rate N        messages per second during the steady chat phase (default 100)
  --chat-idle N        idle sockets for the chat RSS figure (default 10000)
  --help`;

const GROUPS = ['start', 'http', 'web', 'dav', 'drive', 'chat', 'calendar'] as const;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'no-fail': { type: 'boolean', default: false },
      only: { type: 'string' },
      build: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      ladder: { type: 'boolean', default: false },
      runs: { type: 'string', default: '5' },
      connections: { type: 'string', default: '100' },
      seconds: { type: 'string', default: '8' },
      warmup: { type: 'string', default: '2' },
      'log-level': { type: 'string', default: 'warn' },
      'dav-size-mib': { type: 'string', default: '1024' },
      'dav-files': { type: 'string', default: '1000' },
      'dav-connections': { type: 'string', default: '8' },
      'dav-rounds': { type: 'string', default: '3' },
      'chat-members': { type: 'string', default: '1000' },
      'chat-rate': { type: 'string', default: '100' },
      'chat-idle': { type: 'string', default: '10000' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const int = (name: string, v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} expects a positive whole number, got "${v}"`);
    return n;
  };
  const only = new Set(values.only ? values.only.split(',').map((s) => s.trim()) : GROUPS);
  for (const g of only) if (!(GROUPS as readonly string[]).includes(g)) throw new Error(`--only: unknown group "${g}" (known: ${GROUPS.join(', ')})`);
  const opts = {
    runs: int('runs', values.runs),
    connections: int('connections', values.connections),
    seconds: int('seconds', values.seconds),
    warmupSeconds: int('warmup', values.warmup),
    logLevel: values['log-level'],
  };
  const davOpts = {
    bigMiB: int('dav-size-mib', values['dav-size-mib']),
    files: int('dav-files', values['dav-files']),
    connections: int('dav-connections', values['dav-connections']),
    rounds: int('dav-rounds', values['dav-rounds']),
    seconds: Math.min(opts.seconds, 4),
    logLevel: opts.logLevel,
  };

  const started = performance.now();
  const log = (s: string): void => console.log(s);
  const outDir = join(ROOT, '.bench');
  log(`Bastide bench — node ${process.version}, ${cpus().length} CPU(s) (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);

  if (only.has('start') || only.has('http') || only.has('dav') || only.has('drive') || only.has('chat')) {
    const state = serverBuildState();
    if (state === 'missing' || values.build) {
      log(`server build ${state === 'missing' ? 'missing' : 'requested'}: npm run build:server`);
      await npmRun('build:server');
    } else if (state === 'stale') {
      log('warning: server/src has files newer than server/dist — measuring the existing build; pass --build to rebuild first');
    }
  }

  const figures: Figure[] = [];
  const group = async (name: string, fn: () => Promise<Figure[]> | Figure[]): Promise<void> => {
    const t = performance.now();
    log(`\n▸ ${name}`);
    try {
      figures.push(...(await fn()));
    } catch (e) {
      log(`  error: ${(e as Error).stack ?? String(e)}`);
      figures.push({ id: `${name}_error`, name: `${name}: could not measure`, measured: 'error', target: '—', ratio: null, pass: false, note: (e as Error).message.split('\n')[0] ?? '' });
    }
    log(`  (${((performance.now() - t) / 1000).toFixed(1)} s)`);
  };

  if (only.has('start')) await group('cold start and idle RSS', () => coldStart({ runs: opts.runs, logLevel: 'info', log }));
  if (only.has('http')) {
    await group('authenticated GET throughput', () =>
      httpGet({ ...opts, log, ladder: values.ladder, ...(values.profile ? { profileDir: join(outDir, 'profiles') } : {}) }),
    );
  }
  if (only.has('web')) await group('web bundle', () => webBundle());
  if (only.has('drive')) await group('drive listing of 10,000 files in Chromium', () => driveList({ log }));
  if (only.has('calendar')) await group('calendar month view with 1,000 events in Chromium', async () => (await import('./calendar-month.js')).calendarMonth({ log }));
  if (only.has('chat')) {
    const chatOpts = { members: int('chat-members', values['chat-members']), rate: int('chat-rate', values['chat-rate']), seconds: 10, burst: 500, idle: int('chat-idle', values['chat-idle']), logLevel: opts.logLevel, log, ...(values.profile ? { profileDir: join(outDir, 'profiles') } : {}) };
    await group('chat fan-out and idle sockets', () => chat(chatOpts));
  }
  if (only.has('dav')) await group('WebDAV vs Apache mod_dav', () => dav({ ...davOpts, log, ...(values.profile ? { profileDir: join(outDir, 'profiles') } : {}) }));

  const seconds = (performance.now() - started) / 1000;
  log(`\n${table(figures)}\n`);
  const failed = figures.filter((f) => f.pass === false);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    join(outDir, 'results.json'),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        seconds,
        machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, loadavg: loadavg() },
        options: { ...opts, dav: davOpts, only: [...only], profile: values.profile, ladder: values.ladder },
        passed: failed.length === 0,
        figures,
      },
      null,
      2,
    )}\n`,
  );
  log(`${failed.length ? `${failed.length} figure(s) missed their target` : 'every figure met its target'} — ${seconds.toFixed(1)} s; results in .bench/results.json`);
  if (failed.length && !values.profile && failed.some((f) => f.id.startsWith('auth_get'))) log('hint: `npm run bench -- --only http --profile` shows where the server spends its time under load');
  return failed.length && !values['no-fail'] ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    console.error(USAGE);
    process.exit(2);
  },
);
