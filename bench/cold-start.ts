import { BIN, cpuMs, freePort, median, pollUntilOk, removeDir, rssBytes, sleep, spawnNode, tempDataDir } from './lib/proc.js';
import { context, mb, ms, underLimit, type Figure } from './lib/report.js';

const READY_LIMIT_MS = 1500;
const RSS_LIMIT_BYTES = 150 * 1024 * 1024;
const IDLE_MS = 3000;

/** The cold-start peer: the smallest Node HTTP server there is, started with `node -e`. */
const PEER_SOURCE = `require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')`;

interface StartRun {
  ms: number;
  /** CPU time (user + system, all threads) the process used until ready: steadier than wall time on a busy machine. */
  cpu?: number;
  rss?: number;
}

/** Spawns `node bin/bastide.js start` on `dataDir`, times spawn → first 200 from /readyz (polled every 10 ms). */
async function startBastide(dataDir: string, idleRss: boolean, logLevel: string): Promise<StartRun> {
  const port = await freePort();
  const child = spawnNode('bastide start', [BIN, 'start'], {
    BASTIDE_DATA: dataDir,
    BASTIDE_PORT: String(port),
    BASTIDE_HOST: '127.0.0.1',
    BASTIDE_LOG_LEVEL: logLevel,
    BASTIDE_SHUTDOWN_GRACE_MS: '2000',
  });
  try {
    const readyAt = await pollUntilOk(`http://127.0.0.1:${port}/readyz`, child);
    const run: StartRun = { ms: readyAt - child.spawnedAt };
    const cpu = cpuMs(child.pid);
    if (cpu !== undefined) run.cpu = cpu;
    if (idleRss) {
      await sleep(IDLE_MS);
      const rss = rssBytes(child.pid);
      if (rss !== undefined) run.rss = rss;
    }
    return run;
  } finally {
    await child.stop();
  }
}

async function startPeer(idleRss: boolean): Promise<StartRun> {
  const port = await freePort();
  const child = spawnNode('node -e http server', ['-e', PEER_SOURCE], { PORT: String(port) });
  try {
    const readyAt = await pollUntilOk(`http://127.0.0.1:${port}/`, child);
    const run: StartRun = { ms: readyAt - child.spawnedAt };
    const cpu = cpuMs(child.pid);
    if (cpu !== undefined) run.cpu = cpu;
    if (idleRss) {
      await sleep(IDLE_MS);
      const rss = rssBytes(child.pid);
      if (rss !== undefined) run.rss = rss;
    }
    return run;
  } finally {
    await child.stop();
  }
}

/** Figures 1 (cold start to /readyz, fresh and warm data folder) and 2 (idle RSS). */
export async function coldStart(opts: { runs: number; logLevel: string; log: (s: string) => void }): Promise<Figure[]> {
  const { runs, log } = opts;
  const fresh: number[] = [];
  const warm: number[] = [];
  const peer: number[] = [];
  const cpu = { fresh: [] as number[], warm: [] as number[], peer: [] as number[] };
  const dirs: string[] = [];
  let warmDir = '';
  let idle: StartRun | undefined;
  let peerIdle: StartRun | undefined;
  try {
    // Interleave fresh, warm and peer runs so that machine noise spreads over all three series.
    for (let i = 0; i < runs; i++) {
      const dir = tempDataDir('cold');
      dirs.push(dir);
      const f = await startBastide(dir, false, opts.logLevel);
      fresh.push(f.ms);
      if (f.cpu !== undefined) cpu.fresh.push(f.cpu);
      warmDir ||= dir;
      const last = i === runs - 1;
      const w = await startBastide(warmDir, last, opts.logLevel);
      warm.push(w.ms);
      if (w.cpu !== undefined) cpu.warm.push(w.cpu);
      if (last) idle = w;
      const p = await startPeer(last);
      peer.push(p.ms);
      if (p.cpu !== undefined) cpu.peer.push(p.cpu);
      if (last) peerIdle = p;
      log(`  run ${i + 1}/${runs}: fresh ${ms(f.ms)}, warm ${ms(w.ms)}, peer ${ms(p.ms)}`);
    }
  } finally {
    for (const d of dirs) removeDir(d);
  }
  const peerMedian = median(peer);
  const cpuNote = (xs: number[]): string => (xs.length ? `; CPU used until ready ${ms(median(xs))} (peer ${cpu.peer.length ? ms(median(cpu.peer)) : '?'})` : '');
  const figures: Figure[] = [
    underLimit('cold_start_fresh', `cold start → /readyz, fresh data (median of ${runs})`, median(fresh), READY_LIMIT_MS, ms, {
      values: { runs: fresh, cpu: cpu.fresh, peerMedian, vsPeer: median(fresh) / peerMedian },
      note: `includes creating the SQLite database and running every migration; ${(median(fresh) / peerMedian).toFixed(1)}× the bare-node peer${cpuNote(cpu.fresh)}`,
    }),
    underLimit('cold_start_warm', `cold start → /readyz, existing data (median of ${runs})`, median(warm), READY_LIMIT_MS, ms, {
      values: { runs: warm, cpu: cpu.warm, peerMedian, vsPeer: median(warm) / peerMedian },
      note: `${(median(warm) / peerMedian).toFixed(1)}× the bare-node peer${cpuNote(cpu.warm)}`,
    }),
    context('cold_start_peer', `peer: node -e http server → first 200 (median of ${runs})`, ms(peerMedian), { runs: peer, cpu: cpu.peer }),
  ];
  if (idle?.rss !== undefined) {
    figures.push(
      underLimit('idle_rss', `idle RSS after ready + ${IDLE_MS / 1000} s`, idle.rss, RSS_LIMIT_BYTES, mb, {
        values: { peerRss: peerIdle?.rss },
        ...(peerIdle?.rss ? { note: `the bare-node peer idles at ${mb(peerIdle.rss)}` } : {}),
      }),
    );
  }
  if (peerIdle?.rss !== undefined) figures.push(context('idle_rss_peer', 'peer: node -e http server idle RSS', mb(peerIdle.rss), { value: peerIdle.rss }));
  return figures;
}
