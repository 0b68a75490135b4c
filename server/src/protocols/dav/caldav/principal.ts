import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../../errors.js';
import type { App, Platform } from '../../../platform/module.js';
import { authenticate } from '../auth.js';
import { depthHeader, readXml } from '../context.js';
import { users } from '../../../modules/identity/repo.js';
import type { UserActor } from '../../../platform/policy.js';
import { child, clark, DAV_NS, elements, esc, textOf } from '../xml.js';
import { CAL_NS, CS_NS, multistatus, NS_DECLS, principalHref, PRINCIPALS, splitPath } from './context.js';
import { options } from './options.js';
import { parsePropRequest, propResponse } from './propfind.js';
import { PRINCIPAL_ALLPROP, principalProp, type PrincipalInfo } from './props.js';
import { METHODS } from './router.js';

/**
 * Principals (RFC 3744 as used by RFC 4791 §6 and RFC 6352 §7): /dav/principals/<login>/ answers
 * current-user-principal (RFC 5397), the calendar and address-book homes and the user's addresses.
 * Other users' principals (the organisation's directory) answer their name and calendar user addresses
 * only (no homes: their calendars are theirs), and `principal-property-search` (RFC 3744 §9.4) on
 * /dav/principals/ finds them by name or address: what clients use to pick attendees.
 */
export function principalRoutes(app: App, platform: Platform): void {
  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (req.method === 'OPTIONS') return options(reply);
    const actor = await authenticate(platform, req);
    if (!actor) throw new AppError('unauthenticated');
    const path = (req.raw.url ?? '').split('?')[0]!;
    const parts = splitPath(path.endsWith('/') ? path : `${path}/`, PRINCIPALS) ?? [];
    if (parts.length > 1) throw new AppError('not_found');
    if (parts.length === 1 && parts[0]!.toLowerCase() !== actor.login.toLowerCase()) return otherPrincipal(platform, actor, req, reply, parts[0]!);
    if (req.method === 'REPORT' && parts.length === 0) return principalReport(platform, actor, req, reply);
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

/** Properties of someone else's principal: who they are and how to invite them, nothing of their data. */
const OTHER_PROPS = new Set([
  clark(DAV_NS, 'resourcetype'), clark(DAV_NS, 'displayname'), clark(DAV_NS, 'principal-URL'), clark(DAV_NS, 'current-user-principal'),
  clark(CAL_NS, 'calendar-user-address-set'), clark(CAL_NS, 'calendar-user-type'), clark(CS_NS, 'email-address-set'),
]);
const OTHER_ALLPROP = [clark(DAV_NS, 'resourcetype'), clark(DAV_NS, 'displayname'), clark(DAV_NS, 'principal-URL'), clark(CAL_NS, 'calendar-user-address-set')];

function otherProp(info: PrincipalInfo, actor: UserActor, name: string): string | undefined {
  if (name === clark(DAV_NS, 'current-user-principal')) return `<D:href>${esc(principalHref(actor.login))}</D:href>`;
  if (name === clark(CS_NS, 'email-address-set')) return info.email ? `<CS:email-address>${esc(info.email)}</CS:email-address>` : '';
  return OTHER_PROPS.has(name) ? principalProp(info, name) : undefined;
}

async function otherPrincipal(platform: Platform, actor: UserActor, req: FastifyRequest, reply: FastifyReply, login: string): Promise<void> {
  if (!(await platform.policy.can(actor, 'read-directory', { type: 'user', id: actor.userId }))) throw new AppError('not_found');
  const u = await platform.db.selectFrom('users').select(['login', 'display_name', 'email', 'disabled']).where('login', '=', login.toLowerCase()).executeTakeFirst();
  if (!u || Number(u.disabled) !== 0) throw new AppError('not_found');
  const info: PrincipalInfo = { login: u.login, displayName: u.display_name, email: u.email };
  if (req.method === 'GET' || req.method === 'HEAD') {
    await reply.status(200).type('text/plain; charset=utf-8').send(`${principalHref(u.login)}\n`);
    return;
  }
  if (req.method !== 'PROPFIND') throw new AppError('method_not_allowed');
  const depth = depthHeader(req, '0');
  if (depth !== '0' && depth !== '1') throw new AppError('forbidden', { precondition: 'propfind-finite-depth' });
  const body = await readXml(req);
  if (body && (body.ns !== DAV_NS || body.local !== 'propfind')) throw new AppError('bad_request', { reason: 'propfind_expected' });
  await multistatus(reply, propResponse(principalHref(u.login), parsePropRequest(body), (n) => otherProp(info, actor, n), OTHER_ALLPROP));
}

const MAX_SEARCH_RESULTS = 50;

/** REPORT on /dav/principals/: principal-property-search and principal-search-property-set (RFC 3744 §9.4, §9.5). */
async function principalReport(platform: Platform, actor: UserActor, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const body = await readXml(req);
  if (!body || body.ns !== DAV_NS) throw new AppError('forbidden', { precondition: 'supported-report' });
  if (body.local === 'principal-search-property-set') {
    const props = [['D:displayname', 'Name'], ['C:calendar-user-address-set', 'Calendar address'], ['CS:email-address-set', 'E-mail']];
    await reply
      .status(200)
      .type('application/xml; charset=utf-8')
      .send(`<?xml version="1.0" encoding="utf-8"?>\n<D:principal-search-property-set ${NS_DECLS}>${props.map(([p, d]) => `<D:principal-search-property><D:prop><${p}/></D:prop><D:description xml:lang="en">${d}</D:description></D:principal-search-property>`).join('')}</D:principal-search-property-set>`);
    return;
  }
  if (body.local !== 'principal-property-search') throw new AppError('forbidden', { precondition: 'supported-report' });
  await platform.policy.authorize(actor, 'read-directory', { type: 'user', id: actor.userId });
  const allof = (body.attrs.find((a) => a.local === 'test')?.value ?? 'allof') === 'allof';
  const matches = elements(body)
    .filter((e) => e.ns === DAV_NS && e.local === 'property-search')
    .map((ps) => {
      const m = child(ps, DAV_NS, 'match');
      return (m ? textOf(m) : '').trim().replace(/^mailto:/i, '').slice(0, 200);
    });
  if (matches.length === 0 || matches.length > 10) throw new AppError('bad_request', { reason: 'property-search' });
  // Each match is looked up in names, logins and e-mail addresses (what the searchable properties hold).
  const sets: Array<Map<string, PrincipalInfo>> = [];
  for (const q of matches) {
    const rows = q === '' ? [] : await users.list(platform.db, { q: q.toLowerCase(), limit: MAX_SEARCH_RESULTS, activeOnly: true });
    sets.push(new Map(rows.map((u) => [u.id, { login: u.login, displayName: u.display_name, email: u.email }])));
  }
  const found = new Map<string, PrincipalInfo>();
  for (const [id, info] of sets.flatMap((m) => [...m])) {
    if (!allof || sets.every((m) => m.has(id))) found.set(id, info);
  }
  const pr = parsePropRequest(body);
  let out = '';
  for (const info of [...found.values()].slice(0, MAX_SEARCH_RESULTS)) {
    out += propResponse(principalHref(info.login), pr, (n) => (info.login === actor.login ? principalProp(info, n) : otherProp(info, actor, n)), OTHER_ALLPROP);
  }
  await multistatus(reply, out);
}
