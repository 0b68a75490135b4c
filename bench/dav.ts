import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { summariseProfile } from './lib/cpuprofile.js';
import { BIN, freePort, median, pollUntilOk, removeDir, rssBytes, runNode, spawnNode, tempDataDir, treeCpuMs, type Child } from './lib/proc.js';
import { context, mb, rps, skipped, underLimit, type Figure } from './lib/report.js';
import { apacheMissing, startApacheDav, type ApacheDav } from './peers/apache-dav.js';

/**
 * The WebDAV figures (issue 3): Bastide's /dav/files/<login>/ against Apache httpd's mod_dav serving the
 * same kind of files from the same disk (both under the same temporary root), measured by the same
 * client (Node http, keep-alive) in this process, in interleaved rounds:
 *   - PUT and GET of one large file (1 GiB by default): MB/s, ≥ 0.9 × Apache; Bastide's RSS growth
 *     during each transfer ≤ 100 MB (the body is streamed, never held);
 *   - PUT of many small files (1,000 × 4 KiB, `connections` in flight): requests/s, ≥ 1.0 × Apache;
 *   - PROPFIND Depth 1 (allprop) on that folder of 1,000 files: requests/s, ≥ 1.0 × Apache.
 */
const LOGIN = 'davbench';
const PASSWORD = 'Sturdy-Dav-Bench-Passphrase-2024';
const BIG_RATIO = 0.9;
const SMALL_RATIO = 1.0;
const RSS_LIMIT = 100 * 1024 * 1024;
const SMALL_SIZE = 4096;
const CHUNK = 1024 * 1024;

export interface DavOptions {
  /** Size of the large file in MiB (1024 = the 1 GB figure). */
  bigMiB: number;
  /** Number of small files (and entries of the PROPFIND folder). */
  files: number;
  /** Requests in flight for the small-request figures. */
  connections: number;
  /** Interleaved rounds; each figure is the median over rounds. */
  rounds: number;
  /** Measured PROPFIND duration per server and round, seconds. */
  seconds: number;
  logLevel: string;
  /** Write a V8 CPU profile of the Bastide server into this folder and summarise it. */
  profileDir?: string;
  log: (s: string) => void;
}

interface Target {
  name: 'bastide' | 'apache';
  /** Collection URL ending with '/'. */
  url: string;
  auth: string;
  agent: Agent;
  /** The process whose RSS is sampled (Bastide only). */
  pid?: number;
  /** The process whose CPU time (with its direct children: Apache's serving processes) is counted. */
  cpuPid: number;
}

interface Answer {
  status: number;
  bytes: number;
  body?: string;
}

/** One request; the response body is counted (and kept as text when `keep`). */
function send(t: Target, method: string, path: string, headers: Record<string, string>, body?: Buffer | Readable, keep = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, t.url);
    const req = request(u, { method, agent: t.agent, headers: { authorization: t.auth, ...headers } }, (res) => {
      let bytes = 0;
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (keep) parts.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, ...(keep ? { body: Buffer.concat(parts).toString('utf8') } : {}) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

function expect(t: Target, what: string, a: Answer, ok: number[]): void {
  if (!ok.includes(a.status)) throw new Error(`${t.name}: ${what} answered ${a.status}${a.body ? `: ${a.body.slice(0, 300)}` : ''}`);
}

/** A body of `size` bytes generated on the fly from one random MiB (no file read, nothing held). */
function bigBody(size: number, block: Buffer): Readable {
  let left = size;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      if (left <= 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, block.length);
      left -= n;
      this.push(n === block.length ? block : block.subarray(0, n));
    },
  });
}

/** Samples a process's RSS every 50 ms while `fn` runs: the peak growth above the level before. */
async function withRss<T>(pid: number | undefined, fn: () => Promise<T>): Promise<{ value: T; growth?: number; before?: number; peak?: number }> {
  const before = pid === undefined ? undefined : rssBytes(pid);
  let peak = before ?? 0;
  const timer =
    pid === undefined
      ? undefined
      : setInterval(() => {
          const r = rssBytes(pid);
          if (r !== undefined && r > peak) peak = r;
        }, 50);
  try {
    const value = await fn();
    if (pid !== undefined) peak = Math.max(peak, rssBytes(pid) ?? 0);
    return before === undefined ? { value } : { value, growth: peak - before, before, peak };
  } finally {
    if (timer) clearInterval(timer);
  }
}

/** Runs `n` jobs with at most `conc` in flight. */
async function pool(n: number, conc: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(conc, n) }, worker));
}

/** Keeps `conc` requests in flight for `seconds`; the number answered. */
async function forDuration(seconds: number, conc: number, job: () => Promise<void>): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      await job();
      done++;
    }
  };
  await Promise.all(Array.from({ length: conc }, worker));
  return done;
}

const PROPFIND_ALLPROP = Buffer.from('<?xml version="1.0" encoding="utf-8"?>\n<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>');

async function putSmall(t: Target, folder: string, o: DavOptions, seed: Buffer): Promise<number> {
  expect(t, `MKCOL ${folder}`, await send(t, 'MKCOL', folder, {}), [201]);
  const started = performance.now();
  await pool(o.files, o.connections, async (i) => {
    // Distinct contents: no deduplication can help either side.
    const body = Buffer.alloc(SMALL_SIZE, seed);
    body.writeUInt32BE(i, 0);
    body.write(folder, 4);
    const a = await send(t, 'PUT', `${folder}f${String(i).padStart(5, '0')}.txt`, { 'content-type': 'text/plain', 'content-length': String(body.length) }, body);
    expect(t, 'PUT small file', a, [201]);
  });
  return (o.files * 1000) / (performance.now() - started);
}

/** Requests/s over the measured part, and every PROPFIND sent (warm-up and check included, for CPU per request). */
async function propfindRate(t: Target, folder: string, o: DavOptions): Promise<{ rate: number; requests: number }> {
  const headers = { depth: '1', 'content-type': 'application/xml; charset=utf-8', 'content-length': String(PROPFIND_ALLPROP.length) };
  const check = await send(t, 'PROPFIND', folder, headers, PROPFIND_ALLPROP, true);
  expect(t, 'PROPFIND', check, [207]);
  const entries = (check.body!.match(/<D:response[\s>]/g) ?? []).length;
  if (entries !== o.files + 1) throw new Error(`${t.name}: PROPFIND Depth 1 listed ${entries} entries, expected ${o.files + 1}`);
  // Warm-up, then the measured part.
  const warm = await forDuration(Math.min(1, o.seconds), o.connections, async () => expect(t, 'PROPFIND', await send(t, 'PROPFIND', folder, headers, PROPFIND_ALLPROP), [207]));
  const started = performance.now();
  const done = await forDuration(o.seconds, o.connections, async () => expect(t, 'PROPFIND', await send(t, 'PROPFIND', folder, headers, PROPFIND_ALLPROP), [207]));
  return { rate: (done * 1000) / (performance.now() - started), requests: 1 + warm + done };
}

interface BigRun {
  mbps: number;
  rssGrowth?: number;
}

async function putBig(t: Target, path: string, size: number, block: Buffer): Promise<BigRun> {
  const started = performance.now();
  const r = await withRss(t.pid, () => send(t, 'PUT', path, { 'content-type': 'application/octet-stream', 'content-length': String(size) }, bigBody(size, block)));
  const secs = (performance.now() - started) / 1000;
  expect(t, `PUT ${path}`, r.value, [201]);
  return { mbps: size / 1e6 / secs, ...(r.growth !== undefined ? { rssGrowth: r.growth } : {}) };
}

async function getBig(t: Target, path: string, size: number): Promise<BigRun> {
  const started = performance.now();
  const r = await withRss(t.pid, () => send(t, 'GET', path, {}));
  const secs = (performance.now() - started) / 1000;
  expect(t, `GET ${path}`, r.value, [200]);
  if (r.value.bytes !== size) throw new Error(`${t.name}: GET ${path} returned ${r.value.bytes} bytes, expected ${size}`);
  return { mbps: size / 1e6 / secs, ...(r.growth !== undefined ? { rssGrowth: r.growth } : {}) };
}

const basic = (login: string, password: string): string => `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;
const mbps = (x: number): string => `${x.toFixed(0)} MB/s`;

function ratioFigure(id: string, name: string, b: number, a: number, target: number, fmt: (x: number) => string, values: Record<string, unknown>, note: string): Figure {
  const ratio = b / a;
  return { id, name, measured: `${fmt(b)} (Apache ${fmt(a)})`, target: `≥ ${target.toFixed(2)} × Apache`, ratio, pass: ratio >= target, values: { bastide: b, apache: a, ...values }, note };
}

export async function dav(o: DavOptions): Promise<Figure[]> {
  const missing = apacheMissing();
  if (missing) {
    o.log(`  Apache httpd with mod_dav is not available (${missing}): the WebDAV figures are skipped`);
    return [skipped('dav', 'WebDAV vs Apache mod_dav', `peer unavailable: ${missing}`)];
  }
  // Both under the same temporary root (same disk): Bastide's data folder and Apache's DAV root.
  const dataDir = tempDataDir('dav');
  const apacheRoot = tempDataDir('dav-apache');
  const env = { BASTIDE_DATA: dataDir, BASTIDE_LOG_LEVEL: o.logLevel, BASTIDE_SHUTDOWN_GRACE_MS: '5000' };
  let child: Child | undefined;
  let apache: ApacheDav | undefined;
  const agents: Agent[] = [];
  try {
    await runNode('bastide user add', [BIN, 'user', 'add', LOGIN, '--password-stdin'], env, `${PASSWORD}\n`);
    const appPassword = execFileSync(process.execPath, [BIN, 'app-password', 'create', LOGIN, '--name', 'dav bench', '--scopes', 'dav'], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .at(-1)!
      .trim();
    const port = await freePort();
    const nodeArgs = o.profileDir ? ['--cpu-prof', '--cpu-prof-dir', o.profileDir] : [];
    if (o.profileDir) mkdirSync(o.profileDir, { recursive: true });
    child = spawnNode('bastide start', [...nodeArgs, BIN, 'start'], { ...env, BASTIDE_PORT: String(port), BASTIDE_HOST: '127.0.0.1' });
    await pollUntilOk(`http://127.0.0.1:${port}/readyz`, child);
    apache = await startApacheDav(apacheRoot, LOGIN, PASSWORD);
    o.log(`  peer: ${apache.version}, serving processes run as ${apache.runAs}; DAV root and Bastide data under ${dataDir.replace(/[^/]+$/, '')}`);

    const agent = (): Agent => {
      const a = new Agent({ keepAlive: true, maxSockets: o.connections });
      agents.push(a);
      return a;
    };
    const targets: Target[] = [
      { name: 'apache', url: apache.url, auth: basic(LOGIN, PASSWORD), agent: agent(), cpuPid: apache.child.pid },
      { name: 'bastide', url: `http://127.0.0.1:${port}/dav/files/${LOGIN}/`, auth: basic(LOGIN, appPassword), agent: agent(), pid: child.pid, cpuPid: child.pid },
    ];
    const [ap, bs] = targets as [Target, Target];
    const seed = randomBytes(64);
    const block = randomBytes(CHUNK);
    const size = o.bigMiB * 1024 * 1024;
    const res = {
      putSmall: { apache: [] as number[], bastide: [] as number[] },
      propfind: { apache: [] as number[], bastide: [] as number[] },
      putBig: { apache: [] as number[], bastide: [] as number[] },
      getBig: { apache: [] as number[], bastide: [] as number[] },
      rss: { put: [] as number[], get: [] as number[] },
    };
    // Server CPU time (user + system) spent on each kind of work: steadier than throughput on a busy machine.
    const cpu = {
      putSmall: { apache: 0, bastide: 0 },
      propfind: { apache: 0, bastide: 0, requests: { apache: 0, bastide: 0 } },
      putBig: { apache: 0, bastide: 0 },
      getBig: { apache: 0, bastide: 0 },
    };
    const timed = async <T>(t: Target, fn: () => Promise<T>): Promise<{ value: T; ms: number }> => {
      const before = treeCpuMs(t.cpuPid) ?? 0;
      const value = await fn();
      return { value, ms: (treeCpuMs(t.cpuPid) ?? 0) - before };
    };
    for (let r = 0; r < o.rounds; r++) {
      // The peer goes first in odd rounds, second in even ones: drift on a shared machine spreads evenly.
      const order = r % 2 === 0 ? [ap, bs] : [bs, ap];
      o.log(`  round ${r + 1}/${o.rounds}: PUT ${o.files} × ${SMALL_SIZE / 1024} KiB at ${o.connections} in flight…`);
      for (const t of order) {
        const { value, ms } = await timed(t, () => putSmall(t, `small-${r}/`, o, seed));
        res.putSmall[t.name].push(value);
        cpu.putSmall[t.name] += ms;
      }
      o.log(`  round ${r + 1}/${o.rounds}: PROPFIND Depth 1 on ${o.files} files, ${o.seconds} s at ${o.connections} in flight…`);
      for (const t of order) {
        const { value, ms } = await timed(t, () => propfindRate(t, `small-${r}/`, o));
        res.propfind[t.name].push(value.rate);
        cpu.propfind[t.name] += ms;
        cpu.propfind.requests[t.name] += value.requests;
      }
      o.log(`  round ${r + 1}/${o.rounds}: PUT and GET of ${o.bigMiB} MiB…`);
      for (const t of order) {
        const { value: p, ms } = await timed(t, () => putBig(t, `big-${r}.bin`, size, block));
        res.putBig[t.name].push(p.mbps);
        cpu.putBig[t.name] += ms;
        if (p.rssGrowth !== undefined) res.rss.put.push(p.rssGrowth);
      }
      for (const t of order) {
        const { value: g, ms } = await timed(t, () => getBig(t, `big-${r}.bin`, size));
        res.getBig[t.name].push(g.mbps);
        cpu.getBig[t.name] += ms;
        if (g.rssGrowth !== undefined) res.rss.get.push(g.rssGrowth);
      }
      const fmt = (k: 'putSmall' | 'propfind', u: string): string => `${res[k].bastide.at(-1)!.toFixed(0)} vs ${res[k].apache.at(-1)!.toFixed(0)} ${u}`;
      o.log(
        `    bastide vs apache: PUT small ${fmt('putSmall', 'req/s')}, PROPFIND ${fmt('propfind', 'req/s')}, ` +
          `PUT big ${res.putBig.bastide.at(-1)!.toFixed(0)} vs ${res.putBig.apache.at(-1)!.toFixed(0)} MB/s, GET big ${res.getBig.bastide.at(-1)!.toFixed(0)} vs ${res.getBig.apache.at(-1)!.toFixed(0)} MB/s`,
      );
    }
    const rssAfter = rssBytes(child.pid);
    const m = (xs: number[]): number => median(xs);
    const rounds = `median of ${o.rounds} interleaved round(s)`;
    const figures: Figure[] = [
      ratioFigure('dav_put_big', `WebDAV PUT ${o.bigMiB} MiB`, m(res.putBig.bastide), m(res.putBig.apache), BIG_RATIO, mbps, { rounds: res.putBig }, `one stream, ${rounds}; Bastide acknowledges after fsync + commit`),
      ratioFigure('dav_get_big', `WebDAV GET ${o.bigMiB} MiB`, m(res.getBig.bastide), m(res.getBig.apache), BIG_RATIO, mbps, { rounds: res.getBig }, `one stream, the file just written (page cache warm for both), ${rounds}`),
      underLimit('dav_put_big_rss', `Bastide RSS growth during the ${o.bigMiB} MiB PUT`, Math.max(...res.rss.put), RSS_LIMIT, mb, { values: { rounds: res.rss.put }, note: 'peak VmRSS sampled every 50 ms minus VmRSS before; worst round' }),
      underLimit('dav_get_big_rss', `Bastide RSS growth during the ${o.bigMiB} MiB GET`, Math.max(...res.rss.get), RSS_LIMIT, mb, { values: { rounds: res.rss.get }, note: 'worst round' }),
      ratioFigure('dav_put_small', `WebDAV PUT of ${o.files} × ${SMALL_SIZE / 1024} KiB files`, m(res.putSmall.bastide), m(res.putSmall.apache), SMALL_RATIO, rps, { rounds: res.putSmall }, `${o.connections} in flight, each file new, ${rounds}`),
      ratioFigure('dav_propfind', `WebDAV PROPFIND Depth 1 (allprop), ${o.files} files`, m(res.propfind.bastide), m(res.propfind.apache), SMALL_RATIO, rps, { rounds: res.propfind }, `${o.connections} in flight, ${o.seconds} s after a warm-up, ${rounds}`),
    ];
    // Server CPU per unit of work, Bastide and Apache (all its processes): independent of how the machine is shared.
    const gib = (o.rounds * size) / 1024 ** 3;
    const cpuLine = (id: string, name: string, b: number, a: number, unit: string): Figure => ({
      ...context(id, name, `${b.toFixed(unit === 'ms' ? 1 : 0)} ${unit} (Apache ${a.toFixed(unit === 'ms' ? 1 : 0)} ${unit})`, { bastide: b, apache: a }),
      ratio: a > 0 ? b / a : null,
      note: 'ratio = Bastide ÷ Apache (lower is better); user + system time of the server processes',
    });
    figures.push(
      cpuLine('dav_cpu_put_big', 'server CPU per GiB PUT', cpu.putBig.bastide / 1000 / gib, cpu.putBig.apache / 1000 / gib, 's'),
      cpuLine('dav_cpu_get_big', 'server CPU per GiB GET', cpu.getBig.bastide / 1000 / gib, cpu.getBig.apache / 1000 / gib, 's'),
      cpuLine('dav_cpu_put_small', 'server CPU per small PUT', cpu.putSmall.bastide / (o.rounds * o.files), cpu.putSmall.apache / (o.rounds * o.files), 'ms'),
      cpuLine('dav_cpu_propfind', `server CPU per PROPFIND of ${o.files}`, cpu.propfind.bastide / Math.max(1, cpu.propfind.requests.bastide), cpu.propfind.apache / Math.max(1, cpu.propfind.requests.apache), 'ms'),
    );
    if (rssAfter !== undefined) figures.push(context('dav_rss_after', 'Bastide RSS after the WebDAV figures', mb(rssAfter), { rss: rssAfter }));
    figures.push(context('dav_peer', 'peer: Apache httpd mod_dav', `${apache.version}`, { version: apache.version, runAs: apache.runAs }));
    if (o.profileDir) {
      await child.stop(10_000);
      const latest = readdirSync(o.profileDir).filter((f) => f.endsWith('.cpuprofile')).sort().at(-1);
      if (latest) o.log(`\nCPU profile of the server (start-up + every WebDAV figure): ${join(o.profileDir, latest)}\n${summariseProfile(join(o.profileDir, latest))}\n`);
    }
    return figures;
  } finally {
    for (const a of agents) a.destroy();
    await apache?.stop();
    await child?.stop(10_000);
    removeDir(dataDir);
    removeDir(apacheRoot);
  }
}
