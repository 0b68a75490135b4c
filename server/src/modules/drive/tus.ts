import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, CATALOG } from '../../errors.js';
import type { App, BastideModule, Platform } from '../../platform/module.js';
import { requireUser } from '../../platform/policy.js';
import { DriveRefT, driveTarget } from './access.js';
import { assertFits, authorizeAction, putFile, resolvePath, type NodeRow, type Owner } from './commands.js';
import { cleanNodeName } from './names.js';
import { parsePath } from './routes.js';

/**
 * Resumable uploads: the tus protocol 1.0.0 (https://tus.io/protocols/resumable-upload) at
 * /api/drive/uploads/, with the creation, creation-with-upload, termination, expiration and checksum
 * extensions. Partial uploads live in the data folder (`<dataDir>/tus/<id>` and `<id>.json`); the offset
 * of an upload is the size of its file on disk, so what reached the disk before a crash is kept.
 *
 * Upload-Metadata names the target: `drive` (me | space:<id>, default me), `folder` (default "/"),
 * `filename` (required), `filetype` (content type). Creation authorizes the write and checks the quota;
 * only the creator may then inspect, continue or terminate the upload (others get 404). When the last
 * byte arrives the file is streamed into the drive with `putFile` (which checks the quota again), the
 * partial file is deleted and the answer is `200 {item}` (a deviation: tus says 204 with no body).
 * Finishing is idempotent: a HEAD on an upload whose bytes are all on disk but which was not yet put in
 * the drive (the process died in between) finishes it, and a second finish never writes the file twice.
 */

export const TUS_VERSION = '1.0.0';
export const TUS_EXTENSIONS = 'creation,creation-with-upload,termination,expiration,checksum';
export const TUS_CHECKSUMS = ['sha1', 'sha256', 'md5'] as const;
/** An upload untouched this long expires; the clean-up job removes it. */
export const UPLOAD_TTL_MS = 24 * 3600_000;
export const TUS_CLEANUP_JOB = 'drive.tus.cleanup';
const CLEANUP_EVERY_MS = 3600_000;
const OCTET = 'application/offset+octet-stream';
const ID_PATTERN = '^[a-f0-9]{32}$';
const ID_RE = new RegExp(ID_PATTERN);
const DRIVE_RE = new RegExp(DriveRefT.pattern as string);
const MAX_METADATA = 16 * 1024;

interface Item {
  id: string;
  name: string;
  kind: 'file' | 'folder';
  size: number;
  contentType: string;
  updatedAt: number;
  etag: string;
}

export interface UploadInfo {
  v: 1;
  id: string;
  /** The creator: the only user who may touch the upload. */
  userId: string;
  drive: string;
  owner: Owner;
  /** The file's path in the drive (folder segments and the file name). */
  segments: string[];
  contentType: string;
  length: number;
  createdAt: number;
  expiresAt: number;
  /** Set once the file is in the drive (the partial file is then gone). */
  item?: Item;
}

function itemOf(n: NodeRow): Item {
  return {
    id: n.id,
    name: n.name,
    kind: n.kind === 'folder' ? 'folder' : 'file',
    size: Number(n.size),
    contentType: n.kind === 'folder' ? '' : n.content_type,
    updatedAt: Number(n.updated_at),
    etag: n.etag,
  };
}

/** Partial uploads on disk: the bytes in `<id>`, the description in `<id>.json` (written atomically). */
export class TusStore {
  constructor(readonly dir: string) {}
  dataPath(id: string): string {
    return join(this.dir, id);
  }
  private infoPath(id: string): string {
    return join(this.dir, `${id}.json`);
  }
  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }
  async read(id: string): Promise<UploadInfo | null> {
    if (!ID_RE.test(id)) return null;
    try {
      return JSON.parse(await readFile(this.infoPath(id), 'utf8')) as UploadInfo;
    } catch {
      return null;
    }
  }
  async write(info: UploadInfo): Promise<void> {
    const tmp = `${this.infoPath(info.id)}.${randomBytes(4).toString('hex')}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(info));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.infoPath(info.id));
  }
  /** Bytes received so far: the size of the partial file. */
  async offset(info: UploadInfo): Promise<number> {
    if (info.item) return info.length;
    try {
      return (await stat(this.dataPath(info.id))).size;
    } catch {
      return 0;
    }
  }
  async remove(id: string): Promise<void> {
    await rm(this.dataPath(id), { force: true });
    await rm(this.infoPath(id), { force: true });
  }
  /** Every upload id present (descriptions and orphaned data files). */
  async ids(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const ids = new Set<string>();
    for (const n of names) {
      const id = n.split('.')[0]!;
      if (ID_RE.test(id)) ids.add(id);
    }
    return [...ids];
  }
}

/**
 * One request at a time per upload on this node. A newcomer asks the holder to stop (a PATCH whose
 * client went away may not have noticed yet) and waits for it to let go.
 */
class UploadLocks {
  private held = new Map<string, { stop: () => void; released: Promise<void> }>();
  async acquire(id: string, stop: () => void): Promise<() => void> {
    for (let h = this.held.get(id); h; h = this.held.get(id)) {
      h.stop();
      await h.released;
    }
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    this.held.set(id, { stop, released });
    return () => {
      if (this.held.get(id)?.released === released) this.held.delete(id);
      release();
    };
  }
  isHeld(id: string): boolean {
    return this.held.has(id);
  }
}

/** Parses Upload-Metadata: "key base64,key base64,key" (keys unique, values base64). */
export function parseMetadata(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (header === undefined || header.trim() === '') return out;
  if (header.length > MAX_METADATA) throw new AppError('bad_request', { reason: 'Upload-Metadata is too long' });
  for (const pair of header.split(',')) {
    const parts = pair.trim().split(' ');
    const key = parts[0] ?? '';
    if (parts.length > 2 || !/^[\x21-\x7e]+$/.test(key) || key in out) throw new AppError('bad_request', { reason: 'malformed Upload-Metadata' });
    const value = parts[1] ?? '';
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) throw new AppError('bad_request', { reason: 'malformed Upload-Metadata' });
    const text = Buffer.from(value, 'base64').toString('utf8');
    if (Buffer.from(text, 'utf8').toString('base64') !== value) throw new AppError('bad_request', { reason: 'Upload-Metadata values must be UTF-8' });
    out[key] = text;
  }
  return out;
}

function headerOf(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function nonNegativeInt(raw: string | undefined, name: string): number {
  if (raw === undefined || !/^\d{1,16}$/.test(raw.trim())) throw new AppError('bad_request', { reason: `${name} must be a non-negative integer` });
  const n = Number(raw.trim());
  if (!Number.isSafeInteger(n)) throw new AppError('bad_request', { reason: `${name} is too large` });
  return n;
}

function checksumOf(req: FastifyRequest): { algo: string; expected: Buffer; hash: Hash } | null {
  const raw = headerOf(req, 'upload-checksum');
  if (raw === undefined) return null;
  const m = /^([a-z0-9-]+) ([A-Za-z0-9+/]+={0,2})$/.exec(raw.trim());
  if (!m) throw new AppError('bad_request', { reason: 'malformed Upload-Checksum' });
  const algo = m[1]!;
  if (!(TUS_CHECKSUMS as readonly string[]).includes(algo)) throw new AppError('bad_request', { reason: 'unsupported checksum algorithm', supported: [...TUS_CHECKSUMS] });
  return { algo, expected: Buffer.from(m[2]!, 'base64'), hash: createHash(algo) };
}

/** Counts (and hashes) the bytes of a PATCH body; refuses more than `max`. */
function meter(max: number, hash: Hash | undefined): Transform & { bytes: number } {
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      t.bytes += chunk.length;
      if (t.bytes > max) return cb(new AppError('payload_too_large', { reason: 'the body goes past Upload-Length' }));
      hash?.update(chunk);
      cb(null, chunk);
    },
  }) as Transform & { bytes: number };
  t.bytes = 0;
  return t;
}

/**
 * How a request holding an upload's lock is asked to stop: while it receives bytes, by closing its
 * connection; once they are in, it finishes undisturbed (a newcomer waits for it).
 */
function stopper(req: FastifyRequest): { stop: () => void; done: () => void } {
  let receiving = true;
  return {
    stop: () => {
      if (receiving) req.raw.destroy();
    },
    done: () => {
      receiving = false;
    },
  };
}

/** Thrown inside putFile's transaction when the file already holds this upload: nothing is written twice. */
class AlreadyInDrive extends Error {
  constructor(readonly node: NodeRow) {
    super('already in the drive');
  }
}

export interface TusService {
  store: TusStore;
  /** Removes expired uploads; the number removed. */
  cleanup(): Promise<number>;
}

const services = new WeakMap<Platform, TusService & { locks: UploadLocks }>();

function serviceFor(platform: Platform): TusService & { locks: UploadLocks } {
  let s = services.get(platform);
  if (!s) {
    const store = new TusStore(join(platform.config.dataDir, 'tus'));
    const locks = new UploadLocks();
    s = {
      store,
      locks,
      async cleanup() {
        const now = platform.clock.now();
        let removed = 0;
        for (const id of await store.ids()) {
          if (locks.isHeld(id)) continue;
          const info = await store.read(id);
          if (info && info.expiresAt > now) continue;
          if (!info) {
            // A data file without its description: creation died half-way. Old enough → gone.
            const st = await stat(store.dataPath(id)).catch(() => null);
            if (st && now - st.mtimeMs < UPLOAD_TTL_MS) continue;
          }
          await store.remove(id);
          removed++;
        }
        // Descriptions half-written when a process died (`<id>.json.<random>.tmp`).
        for (const name of await readdir(store.dir).catch(() => [] as string[])) {
          if (!name.endsWith('.tmp')) continue;
          const st = await stat(join(store.dir, name)).catch(() => null);
          if (st && now - st.mtimeMs > CLEANUP_EVERY_MS) await rm(join(store.dir, name), { force: true });
        }
        if (removed > 0) platform.log.info({ removed }, 'expired tus uploads removed');
        return removed;
      },
    };
    services.set(platform, s);
  }
  return s;
}

export function tusService(platform: Platform): TusService {
  return serviceFor(platform);
}

async function ensureCleanupScheduled(platform: Platform): Promise<void> {
  const pending = await platform.db.selectFrom('jobs').select('id').where('name', '=', TUS_CLEANUP_JOB).where('status', 'in', ['queued', 'running']).executeTakeFirst();
  if (!pending) await platform.jobs.enqueue(TUS_CLEANUP_JOB, {}, { runAt: platform.clock.now() + CLEANUP_EVERY_MS });
}

/** The drive module's durable jobs for tus: the periodic clean-up of expired partial uploads. */
export const tusJobs: NonNullable<BastideModule['jobs']> = {
  [TUS_CLEANUP_JOB]: {
    handler: (platform) => async () => {
      await serviceFor(platform).cleanup();
      if ((await serviceFor(platform).store.ids()).length > 0) await ensureCleanupScheduledAfterRun(platform);
    },
    options: { maxAttempts: 3 },
  },
};

/** Called from inside the running job (its own row is still 'running'): always enqueue the next run. */
async function ensureCleanupScheduledAfterRun(platform: Platform): Promise<void> {
  await platform.jobs.enqueue(TUS_CLEANUP_JOB, {}, { runAt: platform.clock.now() + CLEANUP_EVERY_MS });
}

export async function tusRoutes(app: App, platform: Platform): Promise<void> {
  const svc = serviceFor(platform);
  const { store, locks } = svc;
  await store.init();
  const finishing = new Map<string, Promise<Item>>();
  const tags = ['drive'];
  const IdParams = Type.Object({ id: Type.String({ pattern: ID_PATTERN }) }, { additionalProperties: false });

  /** The upload if the caller created it and it has not expired; 404 / 410 otherwise. */
  async function mine(req: FastifyRequest, id: string): Promise<UploadInfo> {
    const me = requireUser(req.actor);
    const info = await store.read(id);
    if (!info || info.userId !== me.userId) throw new AppError('not_found');
    if (info.expiresAt <= platform.clock.now()) {
      if (!locks.isHeld(id)) await store.remove(id);
      throw new AppError('upload_expired');
    }
    return info;
  }

  function checkResumable(req: FastifyRequest, reply: FastifyReply): void {
    if (headerOf(req, 'tus-resumable') !== TUS_VERSION) {
      void reply.header('tus-version', TUS_VERSION);
      throw new AppError('precondition_failed', { reason: `Tus-Resumable ${TUS_VERSION} is required` });
    }
  }

  function expiresHeader(info: UploadInfo): string {
    return new Date(info.expiresAt).toUTCString();
  }

  /**
   * Puts the complete upload into the drive, once: concurrent callers share the same run; a finished
   * upload answers its item. A refusal (quota, name, missing folder) ends the upload.
   */
  function finish(req: FastifyRequest, info: UploadInfo): Promise<Item> {
    if (info.item) return Promise.resolve(info.item);
    const running = finishing.get(info.id);
    if (running) return running;
    const run = (async (): Promise<Item> => {
      const { ctx, owner } = await driveTarget(req, platform, info.drive);
      const hash = createHash('sha256');
      const hashing = new Transform({
        transform(chunk: Buffer, _e, cb) {
          hash.update(chunk);
          cb(null, chunk);
        },
      });
      const src = createReadStream(store.dataPath(info.id));
      src.on('error', (e) => hashing.destroy(e));
      const body: Readable = src.pipe(hashing);
      let node: NodeRow;
      try {
        node = (
          await putFile(ctx, owner, info.segments, body, {
            contentType: info.contentType,
            check: (existing) => {
              // Already put there by an earlier finish whose bookkeeping did not survive (crash): keep it.
              if (existing && existing.blob_sha256 === hash.digest('hex') && Number(existing.updated_at) >= info.createdAt) throw new AlreadyInDrive(existing);
            },
          })
        ).node;
      } catch (e) {
        if (e instanceof AlreadyInDrive) node = e.node;
        else {
          src.destroy();
          // A definite refusal (quota, name taken by a folder, folder gone) ends the upload; a temporary failure keeps it for a retry.
          if (e instanceof AppError && !('temporary' in CATALOG[e.code])) await store.remove(info.id);
          throw e;
        }
      }
      const item = itemOf(node);
      await store.write({ ...info, item });
      await rm(store.dataPath(info.id), { force: true });
      return item;
    })();
    finishing.set(info.id, run);
    const forget = () => finishing.delete(info.id);
    run.then(forget, forget);
    return run;
  }

  /**
   * Appends the request body at `offset` (which must be the current size): bytes that arrived stay
   * even when the connection drops, except when a checksum is given (then all or nothing).
   */
  async function append(req: FastifyRequest, info: UploadInfo, offset: number): Promise<number> {
    const checksum = checksumOf(req);
    const declared = headerOf(req, 'content-length');
    if (declared !== undefined && offset + nonNegativeInt(declared, 'Content-Length') > info.length) throw new AppError('payload_too_large', { reason: 'the body goes past Upload-Length' });
    const counter = meter(info.length - offset, checksum?.hash);
    const rollback = () => truncate(store.dataPath(info.id), offset).catch(() => undefined);
    try {
      await pipeline(req.raw, counter, createWriteStream(store.dataPath(info.id), { flags: 'a' }));
    } catch (e) {
      if (checksum || e instanceof AppError) await rollback();
      if (e instanceof AppError) throw e;
      throw new AppError('bad_request', { reason: 'the upload was interrupted', offset: await store.offset(info) });
    }
    if (checksum && !checksum.hash.digest().equals(checksum.expected)) {
      await rollback();
      throw new AppError('checksum_mismatch', { algorithm: checksum.algo });
    }
    return store.offset(info);
  }

  /** After bytes were added: renew the expiry; finish when complete. The answer's status and body. */
  async function progressed(req: FastifyRequest, reply: FastifyReply, info: UploadInfo, offset: number): Promise<Item | null> {
    const renewed = { ...info, expiresAt: platform.clock.now() + UPLOAD_TTL_MS };
    await store.write(renewed);
    void reply.headers({ 'upload-offset': String(offset), 'upload-expires': expiresHeader(renewed) });
    if (offset < info.length) return null;
    return finish(req, renewed);
  }

  app.options('/drive/uploads', { schema: { tags, hide: true } }, async (_req, reply) => {
    return reply
      .status(204)
      .headers({ 'tus-version': TUS_VERSION, 'tus-extension': TUS_EXTENSIONS, 'tus-checksum-algorithm': TUS_CHECKSUMS.join(',') })
      .send();
  });

  await app.register(async (scope) => {
    // The body of a PATCH (or of a creation-with-upload POST) is the raw stream: nothing parses it.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req: FastifyRequest, _payload: unknown, done: (err: Error | null, body?: unknown) => void) => done(null));
    scope.addHook('onRequest', (_req, reply, done) => {
      void reply.header('tus-resumable', TUS_VERSION);
      void reply.header('cache-control', 'no-store');
      done();
    });

    scope.post('/drive/uploads', { schema: { tags, summary: 'Create a resumable upload (tus creation, creation-with-upload)' } }, async (req, reply) => {
      checkResumable(req, reply);
      const me = requireUser(req.actor);
      if (headerOf(req, 'upload-defer-length') !== undefined) throw new AppError('bad_request', { reason: 'Upload-Defer-Length is not supported' });
      const length = nonNegativeInt(headerOf(req, 'upload-length'), 'Upload-Length');
      const meta = parseMetadata(headerOf(req, 'upload-metadata'));
      const drive = meta.drive ?? 'me';
      if (!DRIVE_RE.test(drive)) throw new AppError('bad_request', { reason: 'unknown drive' });
      if (!meta.filename) throw new AppError('bad_request', { reason: 'Upload-Metadata needs a filename' });
      const segments = [...parsePath(meta.folder ?? '/'), cleanNodeName(meta.filename)];
      const { ctx, owner } = await driveTarget(req, platform, drive);
      await authorizeAction(ctx, owner, 'write');
      // Fail early, before any byte travels: the folder must exist, the name must not be a folder, the quota must hold it.
      const parent = await resolvePath(platform.db, owner, segments.slice(0, -1));
      if (parent === null || (parent !== 'root' && parent.kind !== 'folder')) throw new AppError('conflict', { reason: 'no_parent' });
      const existing = await resolvePath(platform.db, owner, segments);
      if (existing !== null && existing !== 'root' && existing.kind === 'folder') throw new AppError('conflict', { reason: 'is_folder' });
      const previous = existing && existing !== 'root' ? Number(existing.size) : 0;
      await assertFits(platform, owner, length, previous);
      const contentType = (meta.filetype ?? '').slice(0, 200).trim();

      const now = platform.clock.now();
      const info: UploadInfo = {
        v: 1, id: randomBytes(16).toString('hex'), userId: me.userId, drive, owner, segments, contentType, length, createdAt: now, expiresAt: now + UPLOAD_TTL_MS,
      };
      await writeFile(store.dataPath(info.id), '', { flag: 'wx' });
      await store.write(info);
      await ensureCleanupScheduled(platform);
      void reply.headers({ location: `/api/drive/uploads/${info.id}`, 'upload-expires': expiresHeader(info) });

      const withBody = headerOf(req, 'content-type') === OCTET;
      if (!withBody && length > 0) return reply.status(201).headers({ 'upload-offset': '0' }).send();
      const writer = stopper(req);
      const release = await locks.acquire(info.id, writer.stop);
      try {
        const offset = withBody ? await append(req, info, 0) : 0;
        writer.done();
        const item = await progressed(req, reply, info, offset);
        return reply.status(201).send(item ? { item } : undefined);
      } finally {
        release();
      }
    });

    scope.head('/drive/uploads/:id', { schema: { tags, summary: 'The offset of a resumable upload (tus)', params: IdParams } }, async (req, reply) => {
      checkResumable(req, reply);
      const { id } = req.params as typeof IdParams.static;
      let info = await mine(req, id);
      // A PATCH still running for this upload belongs to a client that has come back: stop it first.
      const release = await locks.acquire(id, () => undefined);
      try {
        info = (await store.read(id)) ?? info;
        const offset = await store.offset(info);
        // All bytes are on disk but the file never reached the drive (the process died in between).
        if (!info.item && offset === info.length) await finish(req, info);
        return reply
          .status(200)
          .headers({ 'upload-offset': String(offset), 'upload-length': String(info.length), 'upload-expires': expiresHeader(info) })
          .send();
      } finally {
        release();
      }
    });

    scope.get(
      '/drive/uploads/:id',
      {
        exposeHeadRoute: false,
        schema: {
          tags,
          summary: 'The state of a resumable upload, with the drive item once complete',
          params: IdParams,
          response: {
            200: Type.Object({
              id: Type.String(),
              offset: Type.Number(),
              length: Type.Number(),
              expiresAt: Type.Number(),
              item: Type.Union([Type.Null(), Type.Object({ id: Type.String(), name: Type.String(), kind: Type.String(), size: Type.Number(), contentType: Type.String(), updatedAt: Type.Number(), etag: Type.String() })]),
            }),
          },
        },
      },
      async (req) => {
        const { id } = req.params as typeof IdParams.static;
        const info = await mine(req, id);
        return { id, offset: await store.offset(info), length: info.length, expiresAt: info.expiresAt, item: info.item ?? null };
      },
    );

    scope.patch('/drive/uploads/:id', { schema: { tags, summary: 'Append bytes to a resumable upload (tus)', params: IdParams } }, async (req, reply) => {
      checkResumable(req, reply);
      const { id } = req.params as typeof IdParams.static;
      if (headerOf(req, 'content-type') !== OCTET) throw new AppError('unsupported_media_type', { expected: OCTET });
      const claimed = nonNegativeInt(headerOf(req, 'upload-offset'), 'Upload-Offset');
      await mine(req, id);
      const writer = stopper(req);
      const release = await locks.acquire(id, writer.stop);
      try {
        const info = await mine(req, id);
        const offset = await store.offset(info);
        if (claimed !== offset) {
          void reply.header('upload-offset', String(offset));
          throw new AppError('conflict', { reason: 'offset_mismatch', offset });
        }
        if (info.item) return reply.status(200).headers({ 'upload-offset': String(offset) }).send({ item: info.item });
        const next = await append(req, info, offset);
        writer.done();
        const item = await progressed(req, reply, info, next);
        return item ? reply.status(200).send({ item }) : reply.status(204).send();
      } finally {
        release();
      }
    });

    scope.delete('/drive/uploads/:id', { schema: { tags, summary: 'Terminate a resumable upload (tus termination)', params: IdParams } }, async (req, reply) => {
      checkResumable(req, reply);
      const { id } = req.params as typeof IdParams.static;
      await mine(req, id);
      const release = await locks.acquire(id, () => req.raw.destroy());
      try {
        await finishing.get(id)?.catch(() => undefined);
        await store.remove(id);
      } finally {
        release();
      }
      return reply.status(204).send();
    });
  });
}
