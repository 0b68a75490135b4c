import { parseArgs } from 'node:util';
import { createServer } from 'node:net';
import { ConfigError, loadConfig, SETTINGS, type Config } from './config.js';
import { createBastide, openStorage } from './app.js';
import { createLogger } from './platform/log.js';
import { AppError, isAppError } from './errors.js';
import { ping } from './platform/db/index.js';
import { createUser, resetPassword, updateUser } from './modules/identity/commands/users.js';
import { createAppPassword, SCOPES } from './modules/identity/commands/credentials.js';
import { users } from './modules/identity/repo.js';
import type { Scope } from './platform/policy.js';
import { DOMAIN_HELP, domainCommand, mailDoctor } from './modules/mail/cli.js';

const HELP = `Usage: bastide <command> [options]

Commands:
  start                                   start the server (all roles unless BASTIDE_ROLES says otherwise)
  migrate                                 apply pending database migrations and exit
  user add <login> [--admin] [--name N] [--email E] [--password-stdin]
                                          create a user (a password is generated and printed if none given)
  user list                               list users
  user disable <login> | user enable <login>
  user reset-password <login> [--password-stdin]
  app-password create <login> --name <label> [--scopes dav,mail,api]
                                          create an app password for protocol clients; printed once
  export <login> [--out FILE]             write all of a user's data as a zip (stdout without --out)
  import <login> <FILE>                   import an export zip into a user's account
  audit verify                            check the audit log's hash chain
${DOMAIN_HELP}
  doctor                                  check configuration, storage and ports
  help                                    this text

Configuration comes from environment variables (and an optional JSON file named by BASTIDE_CONFIG):
${SETTINGS.map((s) => `  ${s.env.padEnd(30)} ${s.doc}`).join('\n')}
`;

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function withServer<T>(config: Config, fn: (b: Awaited<ReturnType<typeof createBastide>>) => Promise<T>): Promise<T> {
  // On SQLite the running server (another process) publishes what this command changed, from the outbox.
  const b = await createBastide({ ...config, logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel }, { skipInit: true, publishEvents: Boolean(config.databaseUrl) });
  try {
    return await fn(b);
  } finally {
    await b.close();
  }
}

async function findUser(b: Awaited<ReturnType<typeof createBastide>>, login: string): Promise<NonNullable<Awaited<ReturnType<typeof users.byLogin>>>> {
  const u = await users.byLogin(b.platform.db, login);
  if (!u) throw new AppError('not_found', undefined, `no user with login "${login}"`);
  return u;
}

async function start(config: Config): Promise<number> {
  const bastide = await createBastide(config);
  const url = await bastide.listen();
  out(`Bastide is running at ${config.baseUrl} (listening on ${url}; data: ${config.databaseUrl ? 'PostgreSQL' : config.dataDir})`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    bastide.platform.log.info({ signal }, 'shutting down');
    bastide.close().then(
      () => process.exit(0),
      (err: unknown) => {
        bastide.platform.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  return new Promise<number>(() => undefined);
}

function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

async function doctor(config: Config): Promise<number> {
  let failures = 0;
  const check = (ok: boolean, what: string, hint = ''): void => {
    out(`${ok ? '✔' : '✘'} ${what}${!ok && hint ? ` — ${hint}` : ''}`);
    if (!ok) failures++;
  };
  check(true, 'configuration is valid');
  out(`  base URL ${config.baseUrl}, listening ${config.host}:${config.port}, roles ${config.roles.join(',')}`);
  try {
    const log = createLogger('warn');
    const { storage, blobs, applied } = await openStorage(config, log);
    check(await ping(storage.db), `database reachable (${storage.engine})`);
    check(true, `migrations up to date${applied.length ? ` (applied now: ${applied.length})` : ''}`);
    try {
      await blobs.check();
      check(true, `blob storage reachable (${blobs.kind})`);
    } catch (e) {
      check(false, `blob storage reachable (${blobs.kind})`, (e as Error).message);
    }
    const n = await users.count(storage.db);
    check(n > 0, `${n} user account(s)`, 'no account yet: start Bastide and open the setup link, or run `bastide user add <login> --admin`');
    await mailDoctor(storage.db, config, out);
    await blobs.close();
    await storage.close();
  } catch (e) {
    check(false, 'storage', (e as Error).message);
  }
  check(await portFree(config.port, config.host), `HTTP port ${config.port} is free`, 'another process listens there (is Bastide already running?)');
  return failures === 0 ? 0 : 1;
}

export async function runCli(argv: string[]): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
  try {
    switch (cmd) {
      case 'start':
        return await start(config);
      case 'migrate': {
        const { storage, blobs, applied } = await openStorage(config, createLogger('warn'));
        out(applied.length ? `applied ${applied.length} migration(s):\n  ${applied.join('\n  ')}` : 'database is up to date');
        await blobs.close();
        await storage.close();
        return 0;
      }
      case 'user': {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          options: { admin: { type: 'boolean' }, name: { type: 'string' }, email: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
        });
        const login = positionals[0];
        if (sub === 'list') {
          return await withServer(config, async (b) => {
            const rows = await users.list(b.platform.db, { limit: 100000 });
            for (const u of rows) out(`${u.login}\t${u.display_name}\t${u.email ?? '-'}\t${u.is_admin ? 'admin' : 'user'}\t${u.disabled ? 'disabled' : 'active'}`);
            return 0;
          });
        }
        if (!login) break;
        const ctx = (b: Awaited<ReturnType<typeof createBastide>>) => ({ platform: b.platform, actor: { kind: 'system' as const } });
        if (sub === 'add') {
          const password = values['password-stdin'] ? await readStdinLine() : undefined;
          return await withServer(config, async (b) => {
            const r = await createUser(ctx(b), { login, displayName: values.name ?? login, email: values.email, password, isAdmin: values.admin ?? false });
            out(`created ${r.user.is_admin ? 'administrator' : 'user'} ${r.user.login}`);
            if (r.temporaryPassword) out(`temporary password: ${r.temporaryPassword}`);
            return 0;
          });
        }
        if (sub === 'disable' || sub === 'enable') {
          return await withServer(config, async (b) => {
            const u = await findUser(b, login);
            await updateUser(ctx(b), u.id, { disabled: sub === 'disable' });
            out(`${sub}d ${u.login}`);
            return 0;
          });
        }
        if (sub === 'reset-password') {
          const password = values['password-stdin'] ? await readStdinLine() : undefined;
          return await withServer(config, async (b) => {
            const u = await findUser(b, login);
            const r = await resetPassword(ctx(b), u.id, password);
            out(`password reset for ${u.login}`);
            if (r.temporaryPassword) out(`temporary password: ${r.temporaryPassword}`);
            return 0;
          });
        }
        break;
      }
      case 'app-password': {
        const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { name: { type: 'string' }, scopes: { type: 'string' } } });
        const login = positionals[0];
        if (sub !== 'create' || !login || !values.name) break;
        const scopes = (values.scopes ?? SCOPES.join(',')).split(',').map((s) => s.trim()) as Scope[];
        return await withServer(config, async (b) => {
          const u = await findUser(b, login);
          const r = await createAppPassword({ platform: b.platform, actor: { kind: 'system' } }, { userId: u.id, name: values.name!, scopes });
          out(r.password);
          return 0;
        });
      }
      case 'export':
      case 'import': {
        const login = sub;
        const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { out: { type: 'string' } } });
        if (!login || (cmd === 'import' && !positionals[0])) break;
        const { exportUser, importUser } = await import('./modules/portability/index.js');
        const { zipFiles, unzipFiles } = await import('./modules/portability/zip.js');
        return await withServer(config, async (b) => {
          const u = await findUser(b, login);
          if (cmd === 'export') {
            const stream = zipFiles(await exportUser(b.platform, { kind: 'system' }, u.id));
            const { pipeline } = await import('node:stream/promises');
            const { createWriteStream } = await import('node:fs');
            await pipeline(stream, values.out ? createWriteStream(values.out) : process.stdout);
            if (values.out) out(`exported ${u.login} to ${values.out}`);
          } else {
            const { readFile } = await import('node:fs/promises');
            const counts = await importUser(b.platform, { kind: 'system' }, u.id, await unzipFiles(await readFile(positionals[0]!)));
            out(`imported into ${u.login}: ${JSON.stringify(counts)}`);
          }
          return 0;
        });
      }
      case 'audit': {
        if (sub !== 'verify') break;
        return await withServer(config, async (b) => {
          const r = await b.platform.audit.verify();
          out(r.ok ? `audit log intact: ${r.count} entries` : `audit log BROKEN at entry ${r.brokenAt} (after ${r.count} good entries)`);
          return r.ok ? 0 : 1;
        });
      }
      case 'domain': {
        const code = await withServer(config, (b) => domainCommand(b.platform, sub, rest, out));
        if (code === null) break;
        return code;
      }
      case 'doctor':
        return await doctor(config);
      case 'help':
      case '--help':
      case '-h':
      case undefined:
        out(HELP);
        return cmd === undefined ? 2 : 0;
      default:
        break;
    }
  } catch (e) {
    if (isAppError(e)) {
      const details = e.details ? ` ${JSON.stringify(e.details)}` : '';
      process.stderr.write(`error: ${e.message} (${e.code})${details}\n`);
      return 1;
    }
    throw e;
  }
  process.stderr.write(`unknown or incomplete command: ${argv.join(' ')}\n\n${HELP}`);
  return 2;
}
