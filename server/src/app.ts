import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from './config.js';
import { AuditLog, auditMigrations } from './platform/audit.js';
import { openBlobStore } from './platform/blobs/index.js';
import type { BlobStore } from './platform/blobs/types.js';
import { MemoryBus } from './platform/bus/memory.js';
import { OutboxRelay, writeEvent } from './platform/bus/outbox.js';
import type { EventBus } from './platform/bus/types.js';
import { systemClock, type Clock } from './platform/clock.js';
import { openDb, type OpenedDb } from './platform/db/index.js';
import { migrate, type Migration } from './platform/db/migrate.js';
import { createHttpApp, type HttpState } from './platform/http/server.js';
import { SqlJobQueue } from './platform/jobs/queue.js';
import { createLogger, type Logger } from './platform/log.js';
import { platformMigrations } from './platform/migrations.js';
import type { App, BastideModule, CommittedEvent, Emit, Platform, ProtocolServer } from './platform/module.js';
import { Policy } from './platform/policy.js';
import { realtimeRoutes } from './protocols/realtime/ws.js';
import { modules as featureModules } from './modules/index.js';
import { maintenanceModule } from './platform/maintenance.js';

const allModules: BastideModule[] = [maintenanceModule, ...featureModules];

export interface Bastide {
  platform: Platform;
  app: App;
  /** Listens on config.port (0 = any free port) and starts jobs and protocols per role; returns the URL. */
  listen(): Promise<string>;
  /** Graceful stop: refuse new writes, finish in-flight requests and jobs, close storage. */
  close(): Promise<void>;
}

export interface CreateOptions {
  clock?: Clock;
  log?: Logger;
  modules?: BastideModule[];
  /** Skip module init hooks (CLI commands that only need storage). */
  skipInit?: boolean;
  /**
   * Leave this process's events in the outbox for a running server to publish (CLI on SQLite: an
   * in-memory bus here would reach nobody, and publishing would mark them done). Default true.
   */
  publishEvents?: boolean;
}

/** Opens storage, runs migrations: what the CLI needs without starting a server. */
export async function openStorage(config: Config, log: Logger): Promise<{ storage: OpenedDb; blobs: BlobStore; applied: string[] }> {
  const storage = openDb({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  try {
    const applied = await migrate(storage.db, storage.engine, migrationSets(allModules));
    if (applied.length) log.info({ applied }, 'migrations applied');
    return { storage, blobs: await openBlobStore({ blobs: config.blobs, dataDir: config.dataDir }), applied };
  } catch (e) {
    await storage.close();
    throw e;
  }
}

export function migrationSets(modules: BastideModule[]): Array<{ module: string; migrations: Migration[] }> {
  return [
    { module: 'platform', migrations: platformMigrations },
    { module: 'audit', migrations: auditMigrations },
    ...modules.filter((m) => m.migrations?.length).map((m) => ({ module: m.name, migrations: m.migrations! })),
  ];
}

/** The composition root: opens every port, wires every module, returns a server ready to listen. */
export async function createBastide(config: Config, opts: CreateOptions = {}): Promise<Bastide> {
  const log = opts.log ?? createLogger(config.logLevel);
  const clock = opts.clock ?? systemClock;
  const modules = opts.modules ?? allModules;
  const publishEvents = opts.publishEvents ?? true;
  const nodeId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const { storage, blobs } = await openStorage(config, log);
  const commitListeners = new Set<(events: CommittedEvent[]) => void>();
  const resyncListeners = new Set<() => void>();
  // The PostgreSQL bus (and its driver) is loaded only on PostgreSQL.
  const PostgresBus = storage.engine === 'postgres' ? (await import('./platform/bus/postgres.js')).PostgresBus : undefined;
  const bus: EventBus =
    PostgresBus
      ? new PostgresBus(storage.databaseUrl!, {
          log,
          onReconnect: () => {
            for (const l of resyncListeners) l();
          },
        })
      : new MemoryBus(log);
  const relay = new OutboxRelay(storage.db, storage.engine, bus, log, { now: () => clock.now() });
  const jobs = new SqlJobQueue(storage.db, storage.engine, log, { nodeId, now: () => clock.now() });
  const policy = new Policy();
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'bastide_' });

  const platform: Platform = {
    config,
    log,
    clock,
    nodeId,
    storage,
    db: storage.db,
    engine: storage.engine,
    blobs,
    bus,
    jobs,
    policy,
    audit: new AuditLog(storage.db, storage.engine, () => clock.now()),
    metrics,
    modules,
    async transaction(fn) {
      const emitted: CommittedEvent[] = [];
      const result = await storage.db.transaction().execute(async (trx) => {
        const emit: Emit = async (topic, data, audience = []) => {
          await writeEvent(trx, { topic, data, audience }, clock.now());
          emitted.push({ topic, data });
        };
        return fn(trx, emit);
      });
      if (emitted.length) {
        for (const l of commitListeners) {
          try {
            l(emitted);
          } catch (err) {
            log.error({ err }, 'commit listener failed');
          }
        }
        if (publishEvents) relay.kick();
      }
      return result;
    },
    onCommit(listener) {
      commitListeners.add(listener);
      return () => commitListeners.delete(listener);
    },
    onBusResync(listener) {
      resyncListeners.add(listener);
      return () => resyncListeners.delete(listener);
    },
  };

  for (const m of modules) {
    for (const [type, rule] of Object.entries(m.policies ?? {})) policy.register(type, rule);
    for (const [name, job] of Object.entries(m.jobs ?? {})) jobs.register(name, job.handler(platform), job.options);
  }
  const unsubscribers = modules.flatMap((m) =>
    (m.events ?? []).map((consumer) =>
      bus.subscribe((e) => {
        const match = typeof consumer.topic === 'string' ? consumer.topic === e.topic : consumer.topic.test(e.topic);
        if (!match) return;
        Promise.resolve(consumer.handle(e, platform)).catch((err: unknown) => log.error({ err, topic: e.topic, module: m.name }, 'event consumer failed'));
      }),
    ),
  );

  const state: HttpState = { ready: false, shuttingDown: false };
  const app = await createHttpApp(platform, modules, state);
  let realtime: ReturnType<typeof realtimeRoutes> | undefined;
  if (config.roles.includes('realtime')) {
    await app.register(
      async (scope) => {
        realtime = realtimeRoutes(scope as unknown as App, platform);
      },
      { prefix: '/api' },
    );
  }
  // Protocol endpoints outside /api (WebDAV…): each module in its own encapsulated scope.
  if (config.roles.includes('api')) {
    for (const m of modules) if (m.rootRoutes) await app.register(async (scope) => m.rootRoutes!(scope as unknown as App, platform));
  }
  if (!opts.skipInit) for (const m of modules) if (m.init) await m.init(platform);

  const protocols: ProtocolServer[] = [];
  let listening = false;

  return {
    platform,
    app,
    async listen() {
      if (PostgresBus && bus instanceof PostgresBus) await bus.ready();
      relay.start();
      if (config.roles.includes('jobs')) jobs.start();
      for (const m of modules) {
        for (const p of m.protocols ?? []) if (config.roles.includes(p.role)) protocols.push(await p.start(platform));
      }
      const address = await app.listen({ port: config.port, host: config.host });
      listening = true;
      state.ready = true;
      log.info({ address, roles: config.roles, engine: storage.engine, blobs: blobs.kind }, 'Bastide is ready');
      return address.replace('127.0.0.1', 'localhost');
    },
    async close() {
      state.shuttingDown = true;
      state.ready = false;
      realtime?.close();
      for (const p of protocols) await p.stop().catch((err: unknown) => log.error({ err }, 'protocol stop failed'));
      // Fastify waits for in-flight requests (their writes commit) before resolving.
      const closing = app.close();
      const grace = new Promise<'grace'>((r) => setTimeout(() => r('grace'), config.shutdownGraceMs).unref());
      if ((await Promise.race([closing, grace])) === 'grace') {
        log.warn('shutdown grace period over: closing the remaining connections');
        app.server.closeAllConnections();
      }
      await jobs.stop(config.shutdownGraceMs);
      if (publishEvents) await relay.flush().catch(() => undefined);
      await relay.stop();
      for (const u of unsubscribers) u();
      await bus.close();
      await blobs.close();
      await storage.close();
      if (listening) log.info('Bastide stopped');
    },
  };
}
