import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { LogController, type FastifyError, type FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import fastifyStatic from '@fastify/static';
import websocket from '@fastify/websocket';
import sjson from 'secure-json-parse';
import AjvModule from 'ajv';
import ajvFormats from 'ajv-formats';
import { Counter, Gauge, Histogram } from 'prom-client';
import { AppError, CATALOG, type ErrorCode } from '../../errors.js';
import type { Actor } from '../policy.js';
import type { App, AuthResult, BastideModule, Platform } from '../module.js';
import { ping } from '../db/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor;
    csrfToken: string | undefined;
  }
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self' ws: wss:",
  "media-src 'self' blob:",
  "frame-src 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

export interface HttpState {
  ready: boolean;
  shuttingDown: boolean;
}

function mapFastifyError(err: FastifyError): AppError {
  const code = err.code ?? '';
  if (err.validation) {
    return new AppError('validation_failed', {
      fields: err.validation.map((v) => ({
        path: v.instancePath || (v.params as { missingProperty?: string }).missingProperty || '',
        message: v.message ?? 'invalid',
        ...(v.keyword === 'additionalProperties'
          ? { unknownField: (v.params as { additionalProperty?: string }).additionalProperty }
          : {}),
      })),
      in: err.validationContext,
    });
  }
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new AppError('payload_too_large');
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new AppError('unsupported_media_type');
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || code === 'FST_ERR_CTP_INVALID_JSON_BODY') return new AppError('invalid_json');
  if (code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') return new AppError('bad_request');
  if (err.statusCode === 429) return new AppError('rate_limited');
  if (err.statusCode === 404) return new AppError('not_found');
  if (err.statusCode === 405) return new AppError('method_not_allowed');
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return new AppError('bad_request');
  return new AppError('internal');
}

/** The JSON pointer of the first key or string value holding a NUL character, or null. */
function findNul(root: unknown): string | null {
  const stack: Array<[unknown, string]> = [[root, '']];
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return path;
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        const child = `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        if (k.includes('\u0000')) return child;
        stack.push([v, child]);
      }
    }
  }
  return null;
}

export async function createHttpApp(platform: Platform, modules: BastideModule[], state: HttpState): Promise<App> {
  const { config } = platform;
  const roles = new Set(config.roles);
  const app = Fastify({
    loggerInstance: platform.log,
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: config.trustProxy,
    bodyLimit: config.bodyLimitBytes,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Validation. Query strings, path parameters and headers arrive as text and are coerced to the schema's
  // types (?limit=20); JSON bodies are not: {"isAdmin": "yes"} or {"ids": "x"} is a 400, not a guess.
  const ajvOptions = { removeAdditional: false, useDefaults: true, allErrors: false, addUsedSchema: false } as const;
  const coercing = new AjvModule.default({ ...ajvOptions, coerceTypes: 'array' });
  const exact = new AjvModule.default({ ...ajvOptions, coerceTypes: false });
  for (const ajv of [coercing, exact]) ajvFormats.default(ajv);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? exact : coercing).compile(schema));

  // JSON bodies: strict UTF-8, prototype-poisoning safe, no NUL characters (PostgreSQL text cannot hold
  // them). JSON is the only body type of the API: text/plain is not parsed either (415).
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    const buf = body as Buffer;
    let text: string;
    try {
      text = utf8.decode(buf);
    } catch {
      done(new AppError('invalid_encoding'), undefined);
      return;
    }
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    let parsed: unknown;
    try {
      parsed = sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch {
      done(new AppError('invalid_json'), undefined);
      return;
    }
    // In valid JSON a NUL can only be written as the escape \u0000.
    const nulAt = text.includes('\\u0000') ? findNul(parsed) : null;
    if (nulAt !== null) {
      done(new AppError('validation_failed', { fields: [{ path: nulAt, message: 'must not contain the NUL character' }], in: 'body' }), undefined);
      return;
    }
    done(null, parsed);
  });

  const requests = new Counter({
    name: 'bastide_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [platform.metrics],
  });
  const duration = new Histogram({
    name: 'bastide_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [platform.metrics],
  });
  // Requests already running when the stop began finish, then their connection is closed too.
  // (Hooks on every request are synchronous callbacks: an async hook costs a promise per request.)
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (state.shuttingDown && !reply.sent) void reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    duration.observe({ method: req.method }, reply.elapsedTime / 1000);
    done();
  });

  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    const appErr = err instanceof AppError ? err : mapFastifyError(err);
    if (appErr.status >= 500) req.log.error({ err }, 'request failed');
    const headers: Record<string, string> = {};
    const retry = appErr.details?.retryAfterSeconds;
    if (typeof retry === 'number') headers['retry-after'] = String(retry);
    void reply.status(appErr.status).headers(headers).send(appErr.toJSON());
  });

  await app.register(cookie);
  // Security headers, computed once (what helmet sets by default, with our CSP and DENY framing).
  const securityHeaders: Record<string, string> = {
    'content-security-policy': CSP,
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'origin-agent-cluster': '?1',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-dns-prefetch-control': 'off',
    'x-download-options': 'noopen',
    'x-frame-options': 'DENY',
    'x-permitted-cross-domain-policies': 'none',
    'x-xss-protection': '0',
    ...(config.baseUrl.startsWith('https://') ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
  };
  // JSON and other API answers are never documents: a short set says so (and keeps each answer small).
  const apiHeaders: Record<string, string> = {
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'cross-origin-resource-policy': 'same-origin',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    ...(config.baseUrl.startsWith('https://') ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
  };
  app.addHook('onRequest', (req, reply, done) => {
    void reply.headers(req.url.startsWith('/api/') && req.url !== '/api/openapi.json' ? apiHeaders : securityHeaders);
    done();
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Bastide API', version: '0.1.0', description: 'The JSON API of Bastide. See docs/api.md.' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'bastide_session' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
    },
  });
  if (roles.has('realtime')) await app.register(websocket, { options: { maxPayload: 64 * 1024 } });

  // Who is calling: modules that can authenticate are asked in turn.
  app.decorateRequest('actor', null as unknown as { getter: () => Actor });
  app.decorateRequest('csrfToken', undefined);
  const authenticators = modules.filter((m) => m.authenticate);
  app.addHook('onRequest', async (req: FastifyRequest, reply) => {
    if (state.shuttingDown) {
      // Answer, then hang up: a kept-alive connection would hold the stop for the keep-alive timeout.
      void reply.header('connection', 'close');
      if (MUTATING.has(req.method)) throw new AppError('shutting_down');
    }
    // A NUL can only arrive percent-encoded in a URL; no path, parameter or query value may hold one.
    if (req.url.includes('%00')) throw new AppError('bad_request');
    req.actor = { kind: 'anonymous' };
    if (!req.url.startsWith('/api/')) return;
    let result: AuthResult | null = null;
    for (const m of authenticators) {
      result = await m.authenticate!(req, platform);
      if (result) break;
    }
    if (!result) return;
    req.actor = result.actor;
    req.csrfToken = result.csrfToken;
    if (result.csrfToken && MUTATING.has(req.method)) {
      const sent = req.headers['x-csrf-token'];
      if (sent !== result.csrfToken) throw new AppError('csrf_failed');
    }
  });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const dbOk = state.ready && (await ping(platform.db));
    if (!dbOk || state.shuttingDown) return reply.status(503).send({ status: 'not_ready' });
    return { status: 'ready' };
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    for (const m of modules) {
      if (!m.usage) continue;
      // usage gauges are refreshed on each scrape
      const values = await m.usage(platform);
      for (const [k, v] of Object.entries(values)) {
        const name = `bastide_${m.name}_${k}`.replace(/[^a-zA-Z0-9_]/g, '_');
        const gauge =
          (platform.metrics.getSingleMetric(name) as Gauge | undefined) ??
          new Gauge({ name, help: `${m.name} usage: ${k}`, registers: [platform.metrics] });
        gauge.set(v);
      }
    }
    return reply.type(platform.metrics.contentType).send(await platform.metrics.metrics());
  });

  if (roles.has('api')) {
    await app.register(
      async (api) => {
        api.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
        for (const m of modules) if (m.routes) await m.routes(api as unknown as App, platform);
      },
      { prefix: '/api' },
    );
  }

  // The web app: hashed assets are cached for a year; every other GET path serves index.html (client routing).
  const indexFile = join(config.webDir, 'index.html');
  const webBuilt = roles.has('web') && existsSync(indexFile);
  if (webBuilt) {
    await app.register(fastifyStatic, {
      root: config.webDir,
      prefix: '/',
      index: false,
      wildcard: false,
      setHeaders(res, path) {
        void res.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }
  let indexHtml: Buffer | undefined;
  app.setNotFoundHandler(async (req, reply) => {
    // API paths, other methods and missing files (an asset name, anything with an extension) are 404s;
    // every other GET is a client-side route of the web app.
    const path = req.url.split('?')[0] ?? '';
    if (req.url.startsWith('/api/') || req.method !== 'GET' || !roles.has('web') || path.startsWith('/assets/') || /\.[a-z0-9]{1,8}$/i.test(path)) {
      throw new AppError('not_found');
    }
    if (!webBuilt) {
      return reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send('The Bastide web app is not built. Run `npm run build` (or `npm start`, which builds first).\n');
    }
    indexHtml ??= readFileSync(indexFile);
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(indexHtml);
  });

  return app as unknown as App;
}

export { CATALOG, type ErrorCode };
