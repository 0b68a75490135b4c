// Peers for `npm run bench -- --ladder`: the authenticated GET rebuilt one layer at a time, so the gap
// between bare Node and Bastide can be split into what each layer costs. Each stage adds to the previous:
//   fastify  Fastify, no logger, one route with a TypeBox response schema, a fixed JSON body
//   plugins  + @fastify/cookie, @fastify/helmet (Bastide's CSP), an async onRequest hook that hashes the
//            session cookie (sha256), prom-client counter + histogram in onResponse
//   sqlite   + the two reads Bastide does (session⋈user by token hash, app passwords by user id) on a WAL
//            SQLite file through better-sqlite3 statements prepared once
//   kysely   the same two reads through Kysely (query built, compiled and prepared on every request)
// Started as a child process by bench/run.ts with STAGE and PORT; answers on /api/me/app-passwords.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { Type } from '@sinclair/typebox';

const STAGES = ['fastify', 'plugins', 'sqlite', 'kysely'];
const stage = STAGES.indexOf(process.env.STAGE ?? '');
if (stage < 0) throw new Error(`STAGE must be one of ${STAGES.join(', ')}`);
const at = (name) => stage >= STAGES.indexOf(name);

const TOKEN = 'bench-session-token-0123456789abcdef';
const sha256 = (s) => createHash('sha256').update(s).digest('hex');
const View = Type.Object({
  id: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  createdAt: Type.Number(),
  lastUsedAt: Type.Union([Type.Number(), Type.Null()]),
});
const fixed = [{ id: '01J0000000000000000000000', name: 'bench', scopes: ['dav'], createdAt: 1700000000000, lastUsedAt: null }];

let dir;
let readSession = () => ({ uid: 'u1', disabled: 0, expires_at: Date.now() + 1e9 });
let listAppPasswords = () => fixed;
if (at('sqlite')) {
  const { default: SQLite } = await import('better-sqlite3');
  dir = mkdtempSync(join(tmpdir(), 'bastide-bench-ladder-'));
  const handle = new SQLite(join(dir, 'ladder.sqlite'));
  handle.pragma('journal_mode = WAL');
  handle.pragma('synchronous = NORMAL');
  handle.exec(`
    create table users (id text primary key, login text not null, is_admin integer not null, disabled integer not null);
    create table sessions (id text primary key, user_id text not null references users(id), token_hash text not null unique,
      csrf_token text not null, expires_at bigint not null, last_seen_at bigint not null);
    create table app_passwords (id text primary key, user_id text not null references users(id), name text not null,
      scopes text not null, secret_hash text not null unique, created_at bigint not null, last_used_at bigint);
    create index app_passwords_user on app_passwords(user_id);`);
  handle.prepare(`insert into users values ('u1', 'benchuser', 0, 0)`).run();
  handle.prepare(`insert into sessions values ('s1', 'u1', ?, 'csrf', ?, ?)`).run(sha256(TOKEN), Date.now() + 1e9, Date.now());
  handle.prepare(`insert into app_passwords values ('a1', 'u1', 'bench', '["dav"]', 'h', 1700000000000, null)`).run();
  const toView = (r) => ({ id: r.id, name: r.name, scopes: JSON.parse(r.scopes), createdAt: Number(r.created_at), lastUsedAt: r.last_used_at });
  if (!at('kysely')) {
    const s1 = handle.prepare(`select sessions.id as sid, sessions.csrf_token, sessions.expires_at, sessions.last_seen_at, users.id as uid,
      users.login, users.is_admin, users.disabled from sessions inner join users on users.id = sessions.user_id where sessions.token_hash = ?`);
    const s2 = handle.prepare(`select * from app_passwords where user_id = ? order by created_at desc`);
    readSession = (hash) => s1.get(hash);
    listAppPasswords = (uid) => s2.all(uid).map(toView);
  } else {
    const { Kysely, SqliteDialect } = await import('kysely');
    const db = new Kysely({ dialect: new SqliteDialect({ database: handle }) });
    readSession = (hash) =>
      db
        .selectFrom('sessions')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .select(['sessions.id as sid', 'sessions.csrf_token', 'sessions.expires_at', 'sessions.last_seen_at', 'users.id as uid', 'users.login', 'users.is_admin', 'users.disabled'])
        .where('sessions.token_hash', '=', hash)
        .executeTakeFirst();
    listAppPasswords = async (uid) =>
      (await db.selectFrom('app_passwords').selectAll().where('user_id', '=', uid).orderBy('created_at', 'desc').execute()).map(toView);
  }
}

const app = Fastify({ logger: false });
if (at('plugins')) {
  const { default: cookie } = await import('@fastify/cookie');
  const { default: helmet } = await import('@fastify/helmet');
  const { Registry, Counter, Histogram } = await import('prom-client');
  await app.register(cookie);
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:', 'blob:'], fontSrc: ["'self'"],
        connectSrc: ["'self'", 'ws:', 'wss:'], mediaSrc: ["'self'", 'blob:'], frameSrc: ["'self'"], frameAncestors: ["'none'"],
        objectSrc: ["'none'"], baseUri: ["'none'"], formAction: ["'self'"],
      },
    },
    crossOriginEmbedderPolicy: false,
    strictTransportSecurity: false,
  });
  const registry = new Registry();
  const requests = new Counter({ name: 'requests', help: 'r', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const duration = new Histogram({ name: 'duration', help: 'd', labelNames: ['method'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [registry] });
  app.decorateRequest('uid', null);
  app.addHook('onRequest', async (req) => {
    const token = req.cookies.bastide_session;
    if (!token) return;
    const row = await readSession(sha256(token));
    if (row && row.disabled === 0 && Number(row.expires_at) > Date.now()) req.uid = row.uid;
  });
  app.addHook('onResponse', async (req, reply) => {
    requests.inc({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
    duration.observe({ method: req.method }, reply.elapsedTime / 1000);
  });
}

app.get('/api/me/app-passwords', { schema: { response: { 200: Type.Object({ items: Type.Array(View) }) } } }, async (req, reply) => {
  if (at('plugins') && !req.uid) return reply.status(401).send({ error: 'unauthenticated' });
  return { items: await listAppPasswords(req.uid ?? 'u1') };
});

const stop = () => {
  void app.close().finally(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
