import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import autocannon, { type Result } from 'autocannon';
import { BIN, ROOT, cpuMs, freePort, pollUntilOk, removeDir, rssBytes, runNode, spawnNode, tempDataDir, type Child } from './lib/proc.js';
import { context, mb, ms, rps, type Figure } from './lib/report.js';
import { summariseProfile } from './lib/cpuprofile.js';

const RATIO_TARGET = 0.6;
const P99_LIMIT_MS = 10;
const LOGIN = 'benchuser';
const PASSWORD = 'Sturdy-Bench-Passphrase-2024';
export const ROUTE = '/api/me/app-passwords';
const PEER = join(ROOT, 'bench', 'peers', 'hello-http.js');
const LADDER = join(ROOT, 'bench', 'peers', 'fastify-ladder.js');
const LADDER_STAGES = ['fastify', 'plugins', 'sqlite', 'kysely'] as const;
const LADDER_COOKIE = 'bastide_session=bench-session-token-0123456789abcdef';
/** The low-concurrency latency probe: what one request costs when the server is not queueing. */
const PROBE_CONNECTIONS = 10;
const PROBE_SECONDS = 4;

export interface LoadOptions {
  connections: number;
  warmupSeconds: number;
  seconds: number;
  logLevel: string;
  /** Write a V8 CPU profile of the Bastide server under load into this folder and summarise it. */
  profileDir?: string;
  /** Also measure the layer-by-layer peers of bench/peers/fastify-ladder.js. */
  ladder?: boolean;
  log: (s: string) => void;
}

interface Measured {
  result: Result;
  /** Server CPU time (user + system) per answered request during the measured load, in µs. */
  cpuUsPerRequest?: number;
}

/** Warm-up, then the measured load; the server's CPU time is read from /proc around the measured part. */
async function load(url: string, headers: Record<string, string>, o: LoadOptions, pid: number): Promise<Measured> {
  await autocannon({ url, headers, connections: o.connections, duration: o.warmupSeconds });
  const before = cpuMs(pid);
  const result = await autocannon({ url, headers, connections: o.connections, duration: o.seconds });
  const after = cpuMs(pid);
  const answered = result['2xx'] + result.non2xx;
  return before !== undefined && after !== undefined && answered > 0 ? { result, cpuUsPerRequest: ((after - before) * 1000) / answered } : { result };
}

function checkResult(what: string, r: Result): void {
  if (r['2xx'] === 0 || r.non2xx > r['2xx'] / 100 || r.errors > r['2xx'] / 100) {
    throw new Error(`${what}: ${r['2xx']} 2xx, ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts — the figure would be meaningless`);
  }
}

async function sessionCookie(base: string): Promise<string> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: LOGIN, password: PASSWORD }),
  });
  const body = (await res.json()) as { status?: string };
  if (res.status !== 200 || body.status !== 'ok') throw new Error(`login failed: ${res.status} ${JSON.stringify(body)}`);
  const pair = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith('bastide_session=') && !c.endsWith('='));
  if (!pair) throw new Error('login answered 200 without a bastide_session cookie');
  return pair;
}

const us = (x: number | undefined): string => (x === undefined ? '?' : `${Math.round(x)} µs`);

/**
 * Figure 3: authenticated JSON GET throughput and p99 of the built server on SQLite (its own child
 * process), against a bare Node `http` JSON server (its own child process), same autocannon settings.
 */
export async function httpGet(o: LoadOptions): Promise<Figure[]> {
  const dataDir = tempDataDir('http');
  const env = { BASTIDE_DATA: dataDir, BASTIDE_LOG_LEVEL: o.logLevel, BASTIDE_SHUTDOWN_GRACE_MS: '2000' };
  let child: Child | undefined;
  try {
    // The user and one app password (so the indexed read returns a row), through the CLI.
    await runNode('bastide user add', [BIN, 'user', 'add', LOGIN, '--password-stdin'], env, `${PASSWORD}\n`);
    await runNode('bastide app-password create', [BIN, 'app-password', 'create', LOGIN, '--name', 'bench', '--scopes', 'dav'], env);

    // Peer first: its figure is the yardstick.
    const peerPort = await freePort();
    child = spawnNode('peer http server', [PEER], { PORT: String(peerPort) });
    const peerUrl = `http://127.0.0.1:${peerPort}/`;
    await pollUntilOk(peerUrl, child);
    o.log(`  peer (bare node http): ${o.warmupSeconds} s warm-up + ${o.seconds} s at ${o.connections} connections…`);
    const peer = await load(peerUrl, {}, o, child.pid);
    checkResult('peer', peer.result);
    await child.stop();
    child = undefined;

    const ladder: Array<{ stage: string } & Measured> = [];
    for (const stage of o.ladder ? LADDER_STAGES : []) {
      const p = await freePort();
      child = spawnNode(`ladder ${stage}`, [LADDER], { PORT: String(p), STAGE: stage });
      const url = `http://127.0.0.1:${p}${ROUTE}`;
      await pollUntilOk(url, child, 10, 30_000, (status) => status > 0);
      o.log(`  ladder ${stage}: ${o.warmupSeconds} s warm-up + ${o.seconds} s…`);
      const m = await load(url, { cookie: LADDER_COOKIE }, o, child.pid);
      checkResult(`ladder ${stage}`, m.result);
      ladder.push({ stage, ...m });
      await child.stop();
      child = undefined;
    }

    const port = await freePort();
    const nodeArgs = o.profileDir ? ['--cpu-prof', '--cpu-prof-dir', o.profileDir] : [];
    if (o.profileDir) mkdirSync(o.profileDir, { recursive: true });
    child = spawnNode('bastide start', [...nodeArgs, BIN, 'start'], { ...env, BASTIDE_PORT: String(port), BASTIDE_HOST: '127.0.0.1' });
    const base = `http://127.0.0.1:${port}`;
    await pollUntilOk(`${base}/readyz`, child);
    const cookie = await sessionCookie(base);
    const probe = await fetch(base + ROUTE, { headers: { cookie } });
    const probeBody = await probe.text();
    if (probe.status !== 200) throw new Error(`GET ${ROUTE} answered ${probe.status}: ${probeBody}`);
    const readyRss = rssBytes(child.pid);
    o.log(`  bastide GET ${ROUTE} (${probeBody.length} B body): ${o.warmupSeconds} s warm-up + ${o.seconds} s at ${o.connections} connections…`);
    const bastide = await load(base + ROUTE, { cookie }, o, child.pid);
    checkResult('bastide', bastide.result);
    const loadedRss = rssBytes(child.pid);
    o.log(`  bastide at ${PROBE_CONNECTIONS} connections for ${PROBE_SECONDS} s (latency without queueing)…`);
    const light = await autocannon({ url: base + ROUTE, headers: { cookie }, connections: PROBE_CONNECTIONS, duration: PROBE_SECONDS });
    checkResult('bastide light load', light);
    await child.stop(10_000);
    child = undefined;

    const r = bastide.result;
    const pr = peer.result;
    const ratio = r.requests.average / pr.requests.average;
    const cpuRatio = bastide.cpuUsPerRequest && peer.cpuUsPerRequest ? bastide.cpuUsPerRequest / peer.cpuUsPerRequest : undefined;
    const figures: Figure[] = [
      {
        id: 'auth_get_throughput',
        name: `authenticated GET ${ROUTE} vs peer`,
        measured: `${rps(r.requests.average)} (peer ${rps(pr.requests.average)})`,
        target: `≥ ${RATIO_TARGET.toFixed(2)} × peer`,
        ratio,
        pass: ratio >= RATIO_TARGET,
        values: {
          bastide: { rps: r.requests.average, latency: r.latency, requests: r['2xx'], non2xx: r.non2xx, errors: r.errors, cpuUsPerRequest: bastide.cpuUsPerRequest },
          peer: { rps: pr.requests.average, latency: pr.latency, requests: pr['2xx'], cpuUsPerRequest: peer.cpuUsPerRequest },
          connections: o.connections,
          seconds: o.seconds,
          logLevel: o.logLevel,
        },
        note: `${o.connections} connections, ${o.seconds} s after ${o.warmupSeconds} s warm-up, BASTIDE_LOG_LEVEL=${o.logLevel}; the load generator runs in the bench process and shares the CPUs`,
      },
      {
        id: 'auth_get_p99',
        name: `authenticated GET p99 at ${o.connections} connections`,
        measured: ms(r.latency.p99),
        target: `≤ ${ms(P99_LIMIT_MS)}`,
        ratio: r.latency.p99 / P99_LIMIT_MS,
        pass: r.latency.p99 <= P99_LIMIT_MS,
        values: { p50: r.latency.p50, p99: r.latency.p99, peerP50: pr.latency.p50, peerP99: pr.latency.p99 },
        note:
          `p50 ${ms(r.latency.p50)}; the peer's p99 under the same load is ${ms(pr.latency.p99)}. With ${o.connections} connections always busy, ` +
          `mean latency ≈ connections ÷ throughput = ${ms((1000 * o.connections) / r.requests.average)}, so this p99 follows from throughput`,
      },
      context('auth_get_peer', 'peer: bare node http JSON', `${rps(pr.requests.average)}, p99 ${ms(pr.latency.p99)}`, { rps: pr.requests.average, p99: pr.latency.p99 }),
      {
        ...context('auth_get_cpu', 'server CPU per request (user+sys)', `${us(bastide.cpuUsPerRequest)} (peer ${us(peer.cpuUsPerRequest)})`, {
          bastide: bastide.cpuUsPerRequest,
          peer: peer.cpuUsPerRequest,
        }),
        ratio: cpuRatio ?? null,
        note: 'ratio = Bastide ÷ peer; independent of how the load generator shares the CPUs',
      },
      context('auth_get_light', `authenticated GET at ${PROBE_CONNECTIONS} connections`, `${rps(light.requests.average)}, p50 ${ms(light.latency.p50)}, p99 ${ms(light.latency.p99)}`, {
        rps: light.requests.average,
        latency: light.latency,
      }),
    ];
    for (const l of ladder) {
      figures.push({
        ...context(`ladder_${l.stage}`, `ladder: ${l.stage}`, `${rps(l.result.requests.average)}, p99 ${ms(l.result.latency.p99)}, ${us(l.cpuUsPerRequest)} CPU/req`, {
          rps: l.result.requests.average,
          p99: l.result.latency.p99,
          cpuUsPerRequest: l.cpuUsPerRequest,
        }),
        ratio: l.result.requests.average / pr.requests.average,
      });
    }
    if (readyRss !== undefined && loadedRss !== undefined) {
      figures.push(context('rss_under_load', 'server RSS before → after the load', `${mb(readyRss)} → ${mb(loadedRss)}`, { readyRss, loadedRss }));
    }
    if (o.profileDir) {
      const files = readdirSync(o.profileDir).filter((f) => f.endsWith('.cpuprofile'));
      const latest = files.sort().at(-1);
      if (latest) o.log(`\nCPU profile of the server (start-up + warm-up + load): ${join(o.profileDir, latest)}\n${summariseProfile(join(o.profileDir, latest))}\n`);
    }
    return figures;
  } finally {
    await child?.stop();
    removeDir(dataDir);
  }
}
