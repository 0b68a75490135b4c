import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../../errors.js';
import type { App, Platform } from '../../../platform/module.js';
import { authenticate } from '../auth.js';
import { depthHeader, readXml } from '../context.js';
import { clark, DAV_NS, esc } from '../xml.js';
import { multistatus, principalHref, PRINCIPALS, splitPath } from './context.js';
import { options } from './options.js';
import { parsePropRequest, propResponse } from './propfind.js';
import { PRINCIPAL_ALLPROP, principalProp, type PrincipalInfo } from './props.js';
import { METHODS } from './router.js';

/**
 * Principals (RFC 3744 as used by RFC 4791 §6 and RFC 6352 §7): /dav/principals/<login>/ answers
 * current-user-principal (RFC 5397), the calendar and address-book homes and the user's addresses.
 * Only one's own principal is visible for now (the directory becomes visible with scheduling/sharing).
 */
export function principalRoutes(app: App, platform: Platform): void {
  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (req.method === 'OPTIONS') return options(reply);
    const actor = await authenticate(platform, req);
    if (!actor) throw new AppError('unauthenticated');
    const path = (req.raw.url ?? '').split('?')[0]!;
    const parts = splitPath(path.endsWith('/') ? path : `${path}/`, PRINCIPALS) ?? [];
    if (parts.length > 1) throw new AppError('not_found');
    if (parts.length === 1 && parts[0]!.toLowerCase() !== actor.login.toLowerCase()) throw new AppError('not_found');
    if (req.method === 'GET' || req.method === 'HEAD') {
      await reply.status(200).type('text/plain; charset=utf-8').send(`${principalHref(actor.login)}\n`);
      return;
    }
    if (req.method !== 'PROPFIND') throw new AppError('method_not_allowed');
    const depth = depthHeader(req, '0');
    if (depth !== '0' && depth !== '1') throw new AppError('forbidden', { precondition: 'propfind-finite-depth' });
    const body = await readXml(req);
    if (body && (body.ns !== DAV_NS || body.local !== 'propfind')) throw new AppError('bad_request', { reason: 'propfind_expected' });
    const pr = parsePropRequest(body);
    const u = await platform.db.selectFrom('users').select(['login', 'display_name', 'email']).where('id', '=', actor.userId).executeTakeFirst();
    if (!u) throw new AppError('not_found');
    const info: PrincipalInfo = { login: u.login, displayName: u.display_name, email: u.email };
    const me = propResponse(principalHref(u.login), pr, (n) => principalProp(info, n), PRINCIPAL_ALLPROP);
    if (parts.length === 1) {
      await multistatus(reply, me);
      return;
    }
    // The principals collection: itself (with current-user-principal), and the user's own principal at depth 1.
    const root = propResponse(
      PRINCIPALS,
      pr,
      (n) => {
        if (n === clark(DAV_NS, 'resourcetype')) return '<D:collection/>';
        if (n === clark(DAV_NS, 'current-user-principal')) return `<D:href>${esc(principalHref(u.login))}</D:href>`;
        if (n === clark(DAV_NS, 'principal-collection-set')) return `<D:href>${PRINCIPALS}</D:href>`;
        return undefined;
      },
      [clark(DAV_NS, 'resourcetype'), clark(DAV_NS, 'current-user-principal')],
    );
    await multistatus(reply, depth === '1' ? root + me : root);
  };
  for (const url of ['/dav/principals', '/dav/principals/*']) app.route({ method: METHODS, url, exposeHeadRoute: false, schema: { hide: true }, handler });
}
