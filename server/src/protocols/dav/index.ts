import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import type { App, Platform } from '../../platform/module.js';
import { authenticate, REALM } from './auth.js';
import { prepareDavScope } from './scope.js';
import { DAV_PREFIX, DAV_SHARES_PREFIX, DAV_SPACES_PREFIX, segmentsOf, type DavRequest } from './context.js';
import { pathKey } from '../../modules/drive/names.js';
import { nodePath, type Owner } from '../../modules/drive/commands.js';
import { driveResource } from '../../modules/drive/policy.js';
import { copy } from './copy.js';
import { del } from './delete.js';
import { get } from './get.js';
import { lock } from './lock.js';
import { mkcol } from './mkcol.js';
import { move } from './move.js';
import { ALLOW, options } from './options.js';
import { propfind } from './propfind.js';
import { proppatch } from './proppatch.js';
import { put } from './put.js';
import { unlock } from './unlock.js';

/**
 * WebDAV (RFC 4918 class 1 and 2, RFC 4331 quota) on /dav/files/<login>/: each user's own drive.
 * Authentication is HTTP Basic with an app password that has the 'dav' scope, never a cookie.
 */
const EXTRA_METHODS = ['PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK'];
const METHODS = ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', ...EXTRA_METHODS];

function sendError(reply: FastifyReply, err: AppError): void {
  if (err.status === 401) void reply.header('www-authenticate', REALM);
  if (err.status === 405) void reply.header('allow', ALLOW);
  void reply.status(err.status).type('text/plain; charset=utf-8').send(`${err.message}\n`);
}

export async function davRoutes(app: App, platform: Platform): Promise<void> {
  // Bodies are read by each method: PUT streams to the blob store, XML is read with a bound.
  prepareDavScope(app, EXTRA_METHODS, (_req, reply, e) => sendError(reply, e), { logMessage: 'dav request failed', quiet: ['quota_exceeded', 'bad_gateway'] });

  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const path = (req.raw.url ?? '').split('?')[0]!;
    if (req.method === 'OPTIONS') return options({ reply } as DavRequest);
    const actor = await authenticate(platform, req);
    if (!actor) throw new AppError('unauthenticated');
    const home = `${DAV_PREFIX}${encodeURIComponent(actor.login)}/`;
    let base = home;
    let owner: Owner = { type: 'user', id: actor.userId };
    if (path.startsWith(DAV_SPACES_PREFIX)) {
      // A space's drive: members only; for anyone else it does not exist.
      const spaceId = path.slice(DAV_SPACES_PREFIX.length).split('/')[0] ?? '';
      if (!/^[0-9A-Za-z]{1,64}$/.test(spaceId)) throw new AppError('not_found');
      owner = { type: 'space', id: spaceId };
      if (!(await platform.policy.can(actor, 'read', await driveResource(platform.db, owner, actor)))) throw new AppError('not_found');
      base = `${DAV_SPACES_PREFIX}${spaceId}/`;
    } else if (path.startsWith(DAV_SHARES_PREFIX)) {
      // What a share gives the caller, rooted at the shared node; for anyone else it does not exist.
      const shareId = path.slice(DAV_SHARES_PREFIX.length).split('/')[0] ?? '';
      if (!/^[0-9A-Za-z]{1,64}$/.test(shareId)) throw new AppError('not_found');
      const s = await platform.db.selectFrom('drive_shares').select(['owner_type', 'owner_id', 'node_id']).where('id', '=', shareId).executeTakeFirst();
      if (!s) throw new AppError('not_found');
      const plain: Owner = { type: s.owner_type === 'space' ? 'space' : 'user', id: s.owner_id };
      const names = await nodePath(platform.db, plain, s.node_id);
      if (names === null) throw new AppError('not_found');
      owner = { ...plain, share: { id: shareId, rootId: s.node_id, prefix: pathKey(names) } };
      if (!(await platform.policy.can(actor, 'read', await driveResource(platform.db, owner, actor)))) throw new AppError('not_found');
      base = `${DAV_SHARES_PREFIX}${shareId}/`;
    } else if (!path.startsWith(DAV_PREFIX)) {
      await reply.status(301).header('location', home).send();
      return;
    }
    const segments = segmentsOf(path, base);
    // Another user's tree (or no tree at all): not found, without saying whether it exists.
    if (segments === null) throw new AppError('not_found');
    const d: DavRequest = { platform, req, reply, actor, ctx: { platform, actor, ip: req.ip }, owner, segments, base };
    switch (req.method) {
      case 'GET':
        return get(d, false);
      case 'HEAD':
        return get(d, true);
      case 'PUT':
        return put(d);
      case 'DELETE':
        return del(d);
      case 'PROPFIND':
        return propfind(d);
      case 'PROPPATCH':
        return proppatch(d);
      case 'MKCOL':
        return mkcol(d);
      case 'COPY':
        return copy(d);
      case 'MOVE':
        return move(d);
      case 'LOCK':
        return lock(d);
      case 'UNLOCK':
        return unlock(d);
      default:
        throw new AppError('method_not_allowed');
    }
  };
  for (const url of ['/dav', '/dav/*']) app.route({ method: METHODS, url, exposeHeadRoute: false, schema: { hide: true }, handler });
  // RFC 6764-style discovery: the user's home, or /dav/ for anonymous callers.
  app.route({
    method: METHODS,
    url: '/.well-known/webdav',
    exposeHeadRoute: false,
    schema: { hide: true },
    handler: async (req, reply) => {
      const actor = await authenticate(platform, req);
      await reply.status(301).header('location', actor ? `${DAV_PREFIX}${encodeURIComponent(actor.login)}/` : '/dav/').send();
    },
  });
}
