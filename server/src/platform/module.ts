import type { FastifyInstance, FastifyBaseLogger, RawServerDefault, FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config, Role } from '../config.js';
import type { Clock } from './clock.js';
import type { Db, Engine, OpenedDb, Tx } from './db/index.js';
import type { Migration } from './db/migrate.js';
import type { Logger } from './log.js';
import type { Actor, Policy, Rule } from './policy.js';
import type { AuditLog } from './audit.js';
import type { BlobStore } from './blobs/types.js';
import type { BusEvent, EventBus } from './bus/types.js';
import type { JobHandler, JobOptions, JobQueue } from './jobs/types.js';
import type { Registry } from 'prom-client';

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

/** Emits an event inside the current transaction; it is published on the bus after commit. */
export type Emit = (topic: string, data: Record<string, unknown>, audience?: string[]) => Promise<void>;

/** What every module receives: the platform's ports, already opened. */
export interface Platform {
  readonly config: Config;
  readonly log: Logger;
  readonly clock: Clock;
  readonly nodeId: string;
  readonly storage: OpenedDb;
  readonly db: Db;
  readonly engine: Engine;
  readonly blobs: BlobStore;
  readonly bus: EventBus;
  readonly jobs: JobQueue;
  readonly policy: Policy;
  readonly audit: AuditLog;
  readonly metrics: Registry;
  /** Every module of this process (for cross-module services: search, portability). */
  readonly modules: readonly BastideModule[];
  /** One transaction; events emitted inside are written to the outbox and published after commit. */
  transaction<T>(fn: (trx: Tx, emit: Emit) => Promise<T>): Promise<T>;
  /**
   * Synchronous, this node only: called right after a transaction commits with the events it emitted,
   * before the command returns (so a cache here is never stale for this node's next request). Other
   * nodes learn the same through the bus. Returns the unsubscribe function.
   */
  onCommit(listener: (events: CommittedEvent[]) => void): () => void;
  /** Called when the bus may have missed events (PostgreSQL listener reconnected): drop caches. */
  onBusResync(listener: () => void): () => void;
}

export interface CommittedEvent {
  topic: string;
  data: Record<string, unknown>;
}

export interface AuthResult {
  actor: Actor;
  /** Set for cookie sessions: writes must echo it in X-CSRF-Token. */
  csrfToken?: string;
}

export interface SearchHit {
  type: string;
  id: string;
  title: string;
  subtitle?: string;
  link: string;
}

export interface ExportFile {
  path: string;
  content: Buffer | string;
}

export interface ProtocolServer {
  stop(): Promise<void>;
}

/**
 * The module contract. A module declares what it brings; the composition root (app.ts) wires it.
 * Adding a module touches no other module: write the folder, add it to the list in modules/index.ts.
 */
export interface BastideModule {
  name: string;
  /** Forward-only migrations, the same set on SQLite and PostgreSQL. */
  migrations?: Migration[];
  /** Policy rules for the resource types this module owns. */
  policies?: Record<string, Rule>;
  /** JSON routes (under /api/...), registered on nodes with the 'api' role. */
  routes?(app: App, platform: Platform): void | Promise<void>;
  /**
   * Routes outside /api (protocol endpoints over HTTP such as WebDAV), each module in its own
   * encapsulated scope so its methods, body parsers and auth stay its own; on nodes with the 'api' role.
   */
  rootRoutes?(app: App, platform: Platform): void | Promise<void>;
  /** Resolves the actor of an HTTP request (identity module). First non-null answer wins. */
  authenticate?(request: FastifyRequest, platform: Platform): Promise<AuthResult | null>;
  /** Wire protocol listeners (IMAP, SMTP, ...), each started on nodes with its role. */
  protocols?: Array<{ name: string; role: Role; start(platform: Platform): Promise<ProtocolServer> }>;
  /** Consumers of bus events (run on every node). */
  events?: Array<{ topic: string | RegExp; handle(event: BusEvent, platform: Platform): Promise<void> | void }>;
  /** Durable job handlers. */
  jobs?: Record<string, { handler(platform: Platform): JobHandler; options?: JobOptions }>;
  /** Contribution to the unified search; results already filtered by what the actor may see. */
  search?(platform: Platform, actor: Actor, query: string, limit: number): Promise<SearchHit[]>;
  /** Reversibility: what a user owns in this module, in open formats, and the way back. */
  portability?: {
    export(platform: Platform, userId: string): Promise<ExportFile[]>;
    import(platform: Platform, userId: string, files: ExportFile[]): Promise<{ imported: number }>;
  };
  /** Usage counters for the admin dashboard and /metrics (gauges). */
  usage?(platform: Platform): Promise<Record<string, number>>;
  /** The audit actions this module writes (documentation and the admin filter). */
  auditActions?: string[];
  /** Runs once at start, after migrations (e.g. to print the setup link). */
  init?(platform: Platform): Promise<void>;
}

export type { Actor, Tx };
