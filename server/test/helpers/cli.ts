import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TestStorage } from './db.js';

/** The repository root (where node_modules and tsx live). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = pathToFileURL(fileURLToPath(new URL('../../src/main.ts', import.meta.url))).href;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment a CLI child needs to reach `storage` (and nothing from the parent's BASTIDE_* settings). */
export function storageEnv(storage: TestStorage): Record<string, string> {
  return { BASTIDE_DATA: storage.dataDir, ...(storage.databaseUrl ? { DATABASE_URL: storage.databaseUrl } : {}) };
}

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('BASTIDE_') || k === 'DATABASE_URL' || k === 'NODE_TEST_CONTEXT' || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  return { ...env, NODE_ENV: 'test', ...extra };
}

/**
 * Runs `bastide <args>` as the real CLI does (server/src/main.ts runCli) in a child process, with `stdin`
 * written then closed. Resolves with the exit code and the captured output.
 */
export function runCli(args: string[], opts: { env?: Record<string, string>; stdin?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const script = `import(${JSON.stringify(MAIN)}).then(async (m) => process.exit(await m.runCli(process.argv.slice(1))), (e) => { console.error(e); process.exit(99); })`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script, '--', ...args], {
      cwd: REPO_ROOT,
      env: cleanEnv(opts.env ?? {}),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bastide ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (opts.stdin !== undefined) child.stdin.write(opts.stdin);
    child.stdin.end();
  });
}
