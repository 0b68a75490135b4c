import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * End-to-end harness: the built server (`npm run build`) started as the README says, in its own data
 * folder on SQLite, and Debian's Chromium driven by playwright-core.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

export interface E2EServer {
  url: string;
  dataDir: string;
  setupLink: string | null;
  cli(args: string[], stdin?: string): { status: number; stdout: string; stderr: string };
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function startServer(): Promise<E2EServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bastide-e2e-'));
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const env = { ...process.env, BASTIDE_DATA: dataDir, BASTIDE_PORT: String(port), BASTIDE_BASE_URL: url, BASTIDE_LOG_LEVEL: 'warn' };
  delete (env as Record<string, string | undefined>).NODE_ENV;
  // Browser tests never use the mail protocols, whose fixed default ports another server may hold.
  for (const v of ['BASTIDE_SMTP_PORT', 'BASTIDE_SUBMISSION_PORT', 'BASTIDE_SUBMISSIONS_PORT', 'BASTIDE_IMAP_PORT', 'BASTIDE_IMAPS_PORT']) (env as Record<string, string | undefined>)[v] ??= 'off';
  const child: ChildProcess = spawn(process.execPath, [join(root, 'bin/bastide.js'), 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`);
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server not ready in 20 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const m = /(http:\/\/\S+\/setup\?token=[\w-]+)/.exec(output);
  return {
    url,
    dataDir,
    setupLink: m?.[1] ?? null,
    cli(args, stdin) {
      const r = spawnSync(process.execPath, [join(root, 'bin/bastide.js'), ...args], { env, input: stdin ?? '', encoding: 'utf8' });
      return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** Runs axe-core in the page; returns the serious and critical violations (WCAG 2.1 A/AA rules). */
export async function axeSerious(page: Page): Promise<AxeViolation[]> {
  // The app's CSP forbids inline scripts in its own pages; evaluate() runs through the debugging protocol, not the page's CSP.
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    return axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
  });
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export function describeViolations(v: AxeViolation[]): string {
  return v.map((x) => `${x.id} (${x.impact}): ${x.help} at ${x.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`).join('\n');
}

/** Where the browser tests leave their screenshots (gitignored; people look at them). */
export const ARTIFACTS = join(root, 'e2e', 'artifacts');

/** A (full-page) screenshot into e2e/artifacts, then: no serious or critical axe-core violation. */
export async function checkA11y(page: Page, name: string, opts: { fullPage?: boolean } = {}): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: opts.fullPage ?? true });
  const v = await axeSerious(page);
  assert.equal(v.length, 0, `axe on ${name}:\n${describeViolations(v)}`);
}

/** Creates an account through the CLI, as an administrator's script would. */
export function addUser(server: E2EServer, u: { login: string; name: string; password: string; email?: string }): void {
  const r = server.cli(['user', 'add', u.login, '--name', u.name, ...(u.email ? ['--email', u.email] : []), '--password-stdin'], `${u.password}\n`);
  assert.equal(r.status, 0, r.stderr);
}
