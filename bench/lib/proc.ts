import { execSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (bench/ sits directly under it). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'bastide.js');
export const SERVER_DIST = join(ROOT, 'server', 'dist', 'main.js');

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A port nobody listens on right now (the kernel picks it; released before the child binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export function tempDataDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `bastide-bench-${label}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** One HTTP GET; resolves with the status code, rejects on connection errors or after `timeoutMs`. */
export function httpStatus(url: string, timeoutMs = 1000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Polls `url` every `everyMs` until it answers 200 (or what `accept` accepts); resolves with the
 * performance.now() of that answer. Rejects if the child exits first or after `limitMs`.
 */
export async function pollUntilOk(
  url: string,
  child: Child,
  everyMs = 10,
  limitMs = 30_000,
  accept: (status: number) => boolean = (status) => status === 200,
): Promise<number> {
  const deadline = performance.now() + limitMs;
  for (;;) {
    if (child.exited) throw new Error(`${child.label} exited (code ${child.proc.exitCode}) before ${url} answered 200\n${child.output()}`);
    try {
      if (accept(await httpStatus(url, 2000))) return performance.now();
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`${url} did not answer 200 within ${limitMs} ms\n${child.output()}`);
    await sleep(everyMs);
  }
}

export interface Child {
  label: string;
  proc: ChildProcess;
  pid: number;
  /** performance.now() just before spawn(). */
  spawnedAt: number;
  exited: boolean;
  exitPromise: Promise<number | null>;
  /** The last few KB of stdout+stderr, for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnNode(label: string, args: string[], env: NodeJS.ProcessEnv, opts: { stdin?: string } = {}): Child {
  return spawnCommand(label, process.execPath, args, env, opts);
}

/** Like spawnNode, for any executable (e.g. Apache httpd as a peer). */
export function spawnCommand(label: string, command: string, args: string[], env: NodeJS.ProcessEnv, opts: { stdin?: string } = {}): Child {
  let tail = '';
  const keep = (b: Buffer): void => {
    tail = (tail + b.toString('utf8')).slice(-8000);
  };
  const spawnedAt = performance.now();
  const proc = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  if (opts.stdin !== undefined) proc.stdin!.end(opts.stdin);
  const child: Child = {
    label,
    proc,
    pid: proc.pid ?? -1,
    spawnedAt,
    exited: false,
    exitPromise: new Promise((resolve) => {
      proc.once('exit', (code) => {
        child.exited = true;
        resolve(code);
      });
      proc.once('error', (err) => {
        keep(Buffer.from(String(err)));
        child.exited = true;
        resolve(null);
      });
    }),
    output: () => tail,
    async stop(graceMs = 5000) {
      if (child.exited) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await child.exitPromise;
      clearTimeout(t);
    },
  };
  return child;
}

/** Runs a node script to completion; rejects with its output on a non-zero exit. */
export async function runNode(label: string, args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<string> {
  const c = spawnNode(label, args, env, stdin === undefined ? {} : { stdin });
  const code = await c.exitPromise;
  if (code !== 0) throw new Error(`${label} failed (exit ${code}):\n${c.output()}`);
  return c.output();
}

/** Resident set size of a live process, in bytes (Linux /proc). */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

let clkTck: number | undefined;

/** CPU time (user + system) a live process has used so far, in milliseconds (Linux /proc). */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    clkTck ??= Number(execSync('getconf CLK_TCK', { encoding: 'utf8' }).trim()) || 100;
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clkTck;
  } catch {
    return undefined;
  }
}

export function npmRun(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('npm', ['run', script], { cwd: ROOT, stdio: 'inherit' });
    p.once('error', reject);
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`npm run ${script} exited with ${code}`))));
  });
}

function newestMtime(dir: string, ext: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p, ext));
    else if (e.name.endsWith(ext) && !e.name.endsWith(`.test${ext}`)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** 'missing' | 'stale' (a server source is newer than the build) | 'fresh'. */
export function serverBuildState(): 'missing' | 'stale' | 'fresh' {
  if (!existsSync(SERVER_DIST)) return 'missing';
  return newestMtime(join(ROOT, 'server', 'src'), '.ts') > statSync(SERVER_DIST).mtimeMs ? 'stale' : 'fresh';
}

/** The direct children of a live process (Linux /proc), e.g. Apache's serving processes. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** CPU time (user + system) of a process and its direct children, in milliseconds; undefined when unreadable. */
export function treeCpuMs(pid: number): number | undefined {
  const own = cpuMs(pid);
  if (own === undefined) return undefined;
  return childPids(pid).reduce((sum, c) => sum + (cpuMs(c) ?? 0), own);
}
