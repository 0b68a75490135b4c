import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import type { Tx } from '../../platform/db/index.js';
import type { Platform } from '../../platform/module.js';
import type { UserActor } from '../../platform/policy.js';
import { authorizeRead, resolvePath, type DriveContext, type NodeRow, type Owner } from '../../modules/drive/commands.js';
import { activeLocks, assertMayWrite, covering, protecting, type LockRow } from '../../modules/drive/locks.js';
import { cleanNodeName, pathKey } from '../../modules/drive/names.js';
import { bareEtag, parseIfHeader, submittedTokens, type IfList } from './if-header.js';
import { MAX_XML_BYTES, parseXml, type XmlElement } from './xml.js';

export const DAV_PREFIX = '/dav/files/';
/** Space drives: /dav/spaces/<space id>/ (members only). */
export const DAV_SPACES_PREFIX = '/dav/spaces/';
/** What a share gives its recipients: /dav/shares/<share id>/ (the shared node is the root). */
export const DAV_SHARES_PREFIX = '/dav/shares/';

export interface DavRequest {
  platform: Platform;
  req: FastifyRequest;
  reply: FastifyReply;
  actor: UserActor;
  ctx: DriveContext;
  owner: Owner;
  /** Cleaned path segments below the drive's root. */
  segments: string[];
  /** Path of the drive's root, e.g. /dav/files/alice/ or /dav/spaces/<id>/ */
  base: string;
}

/** Encodes one path segment for an href. */
export const encodeSegment = (s: string): string => encodeURIComponent(s).replace(/%40/g, '@').replace(/'/g, '%27');

export function hrefOf(d: Pick<DavRequest, 'base'>, segments: string[], folder: boolean): string {
  const p = d.base + segments.map(encodeSegment).join('/');
  return folder && segments.length > 0 ? `${p}/` : p;
}

/**
 * Splits and cleans the path below `base` (a drive's root: /dav/files/<login>/ or /dav/spaces/<id>/) of
 * an URL or absolute path; null when it is elsewhere.
 */
export function segmentsOf(url: string, base: string): string[] | null {
  let path = url;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    try {
      path = new URL(path).pathname;
    } catch {
      throw new AppError('bad_request');
    }
  }
  path = path.split('?')[0]!.split('#')[0]!;
  const raw = path.split('/').slice(1);
  if (raw.at(-1) === '') raw.pop();
  let decoded: string[];
  try {
    decoded = raw.map((s) => decodeURIComponent(s));
  } catch {
    throw new AppError('bad_request', { reason: 'invalid_percent_encoding' });
  }
  const baseParts = base.split('/').filter(Boolean).map((s) => decodeURIComponent(s).toLowerCase());
  if (decoded.length < baseParts.length || baseParts.some((b, i) => decoded[i]!.toLowerCase() !== b)) return null;
  return decoded.slice(baseParts.length).map(cleanNodeName);
}

export async function readBody(req: FastifyRequest, limit = MAX_XML_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req.raw) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new AppError('payload_too_large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The XML body, or null when empty. */
export async function readXml(req: FastifyRequest): Promise<XmlElement | null> {
  const buf = await readBody(req);
  const text = buf.toString('utf8');
  if (text.trim() === '') return null;
  return parseXml(text);
}

export function depthHeader(req: FastifyRequest, fallback: string): string {
  const d = req.headers.depth;
  return typeof d === 'string' ? d.trim().toLowerCase() : fallback;
}

export function etagOf(n: NodeRow): string {
  return `"${n.etag}"`;
}

export async function readAllowed(d: DavRequest): Promise<void> {
  await authorizeRead(d.ctx, d.owner);
}

export async function resolve(d: DavRequest, segments = d.segments, db = d.platform.db): Promise<NodeRow | 'root' | null> {
  return resolvePath(db, d.owner, segments);
}

export interface WriteTarget {
  segments: string[];
  membership?: boolean;
  subtree?: boolean;
}

/**
 * RFC 4918 §10.4 and §7: evaluates the If header (412 when false), then checks that every lock protecting
 * the targets had its token submitted (423). Run it before streaming a body and again in the transaction.
 */
export async function checkConditions(d: DavRequest, targets: WriteTarget[], db: Tx | Platform['db'] = d.platform.db): Promise<{ tokens: Set<string>; locks: LockRow[] }> {
  const now = d.platform.clock.now();
  const locks = await activeLocks(db, d.owner, now);
  const header = d.req.headers.if;
  let tokens = new Set<string>();
  if (typeof header === 'string' && header.trim() !== '') {
    const lists = parseIfHeader(header);
    tokens = submittedTokens(lists);
    if (!(await evaluateIf(d, lists, locks, db))) throw new AppError('precondition_failed');
  }
  for (const t of targets) assertMayWrite(protecting(locks, pathKey(t.segments), t), tokens, d.actor.userId);
  return { tokens, locks };
}

async function evaluateIf(d: DavRequest, lists: IfList[], locks: LockRow[], db: Tx | Platform['db']): Promise<boolean> {
  for (const list of lists) {
    const segs = list.resource === null ? d.segments : segmentsOf(list.resource, d.base);
    const node = segs ? await resolvePath(db, d.owner, segs) : null;
    const lockTokens = segs ? new Set(covering(locks, pathKey(segs)).map((l) => l.token)) : new Set<string>();
    const etag = node && node !== 'root' ? node.etag : null;
    const ok = list.conditions.every((c) => {
      const match = c.kind === 'token' ? lockTokens.has(c.value) : etag !== null && bareEtag(c.value) === etag;
      return c.not ? !match : match;
    });
    if (ok) return true;
  }
  return false;
}

/** RFC 9110 If-Match / If-None-Match for a write (412 when false). */
export function checkEtagPreconditions(req: FastifyRequest, node: NodeRow | null): void {
  const im = req.headers['if-match'];
  if (typeof im === 'string') {
    const ok = node !== null && (im.trim() === '*' || im.split(',').some((t) => bareEtag(t) === node.etag && !t.trim().startsWith('W/')));
    if (!ok) throw new AppError('precondition_failed');
  }
  const inm = req.headers['if-none-match'];
  if (typeof inm === 'string' && node !== null) {
    if (inm.trim() === '*' || inm.split(',').some((t) => bareEtag(t) === node.etag)) throw new AppError('precondition_failed');
  }
}

export function multistatus(reply: FastifyReply, body: string): FastifyReply {
  return reply
    .status(207)
    .type('application/xml; charset=utf-8')
    .send(`<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:">${body}</D:multistatus>`);
}

/** Parses a Destination header into segments of the same user's tree (502 elsewhere). */
export function destination(d: DavRequest): string[] {
  const dest = d.req.headers.destination;
  if (typeof dest !== 'string' || dest === '') throw new AppError('bad_request', { reason: 'destination_required' });
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dest)) {
    const u = new URL(dest);
    const host = d.req.headers.host;
    if (host && u.host !== host) throw new AppError('bad_gateway');
  }
  const segs = segmentsOf(dest, d.base);
  if (segs === null) throw new AppError('bad_gateway');
  return segs;
}

export function overwriteHeader(d: DavRequest): boolean {
  const o = d.req.headers.overwrite;
  if (typeof o !== 'string') return true;
  if (o.trim().toUpperCase() === 'F') return false;
  if (o.trim().toUpperCase() === 'T') return true;
  throw new AppError('bad_request', { reason: 'invalid_overwrite' });
}
