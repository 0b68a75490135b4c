import { loadConfig, type Config } from '../../src/config.js';
import { createBastide, type Bastide } from '../../src/app.js';
import { createTestStorage, postgresAvailable, type TestStorage } from './db.js';
import { createUser } from '../../src/modules/identity/commands/users.js';
import type { Clock } from '../../src/platform/clock.js';

/**
 * A real Bastide server for integration tests, on port 0, with its own storage.
 * Engine: BASTIDE_TEST_ENGINE=postgres runs the same tests on PostgreSQL (as .ci/run does).
 */
export interface TestServer {
  bastide: Bastide;
  url: string;
  storage: TestStorage;
  config: Config;
  close(): Promise<void>;
}

export function testEngine(): 'sqlite' | 'postgres' {
  return process.env.BASTIDE_TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite';
}

export async function startTestServer(
  opts: { engine?: 'sqlite' | 'postgres'; config?: Partial<Config>; clock?: Clock; storage?: TestStorage; listen?: boolean } = {},
): Promise<TestServer> {
  const engine = opts.engine ?? testEngine();
  if (engine === 'postgres' && !(await postgresAvailable())) throw new Error('PostgreSQL unavailable');
  const storage = opts.storage ?? (await createTestStorage(engine));
  const config = loadConfig(
    { NODE_ENV: 'test' },
    {
      dataDir: storage.dataDir,
      ...(storage.databaseUrl ? { databaseUrl: storage.databaseUrl } : {}),
      port: 0,
      logLevel: 'silent',
      webDir: `${storage.dataDir}/no-web`,
      shutdownGraceMs: 2000,
      // With a manual clock the test moves time itself: background jobs (session clean-up, GC) would then
      // run at moments the test does not choose. Such servers run without the jobs role unless asked.
      ...(opts.clock ? { roles: ['web', 'api', 'realtime'] as Config['roles'] } : {}),
      ...opts.config,
    },
  );
  const bastide = await createBastide(config, opts.clock ? { clock: opts.clock } : {});
  let url = '';
  if (opts.listen !== false) {
    url = await bastide.listen();
    const port = new URL(url).port;
    url = `http://127.0.0.1:${port}`;
  }
  return {
    bastide,
    url,
    storage,
    config,
    async close() {
      await bastide.close();
      if (!opts.storage) await storage.cleanup();
    },
  };
}

export const DEFAULT_PASSWORD = 'Correct-Horse-Battery-42';

/** Creates a user directly through the command (as the CLI does). */
export async function makeUser(
  server: TestServer,
  login: string,
  opts: { admin?: boolean; password?: string; email?: string } = {},
): Promise<{ id: string; login: string; password: string }> {
  const password = opts.password ?? DEFAULT_PASSWORD;
  const { user } = await createUser(
    { platform: server.bastide.platform, actor: { kind: 'system' } },
    { login, displayName: login.toUpperCase(), email: opts.email ?? `${login}@example.org`, password, isAdmin: opts.admin ?? false },
  );
  return { id: user.id, login, password };
}

/** A tiny cookie-aware client that speaks the API the way the web app does (CSRF header included). */
export class ApiClient {
  cookie = '';
  csrf = '';
  constructor(readonly base: string) {}

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
    const h: Record<string, string> = { ...headers };
    if (this.cookie) h.cookie = this.cookie;
    if (this.csrf && method !== 'GET') h['x-csrf-token'] = this.csrf;
    if (body !== undefined) h['content-type'] = 'application/json';
    const res = await fetch(this.base + path, { method, headers: h, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const set = res.headers.getSetCookie();
    for (const c of set) {
      const [pair] = c.split(';');
      if (pair?.startsWith('bastide_session=')) this.cookie = pair.endsWith('=') ? '' : pair;
    }
    const text = await res.text();
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: res.status, json, headers: res.headers };
  }

  get(path: string) {
    return this.request('GET', path);
  }
  post(path: string, body?: unknown) {
    return this.request('POST', path, body);
  }
  patch(path: string, body?: unknown) {
    return this.request('PATCH', path, body);
  }
  put(path: string, body?: unknown) {
    return this.request('PUT', path, body);
  }
  delete(path: string) {
    return this.request('DELETE', path);
  }

  /** Logs in (password only) and fetches the CSRF token. */
  async login(login: string, password: string): Promise<any> {
    const r = await this.post('/api/auth/login', { login, password });
    if (r.status !== 200 || r.json.status !== 'ok') throw new Error(`login failed: ${r.status} ${JSON.stringify(r.json)}`);
    await this.refreshSession();
    return r.json.user;
  }

  async refreshSession(): Promise<any> {
    const s = await this.get('/api/session');
    if (s.status === 200) this.csrf = s.json.csrfToken ?? '';
    return s.json;
  }
}
