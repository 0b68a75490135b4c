import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../../errors.js';
import type { App, Platform } from '../../../platform/module.js';
import { authenticate, REALM } from '../auth.js';
import { prepareDavScope } from '../scope.js';
import { collectionHref, preconditionXml, splitPath, type DavCtx, type Kind } from './context.js';
import { del } from './delete.js';
import { get } from './get.js';
import { mkcalendar } from './mkcalendar.js';
import { ALLOW, options } from './options.js';
import { propfind } from './propfind.js';
import { proppatch } from './proppatch.js';
import { put } from './put.js';
import { report } from './report.js';
import { isBox, scheduleBox } from './schedule.js';

/**
 * The HTTP side shared by CalDAV and CardDAV: methods, body parsing left to each method (bounded),
 * HTTP Basic with a 'dav' app password, errors as DAV error bodies (preconditions as 403 with the
 * element named by RFC 4791/6352/6578), and the dispatch of /dav/<kind>/<login>/<collection>/<object>.
 */
export const EXTRA_METHODS = ['PROPFIND', 'PROPPATCH', 'MKCOL', 'MKCALENDAR', 'REPORT', 'COPY', 'MOVE', 'LOCK', 'UNLOCK'];
export const METHODS = ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'POST', ...EXTRA_METHODS];

/** Per scope: methods, the raw body parser and the DAV error handler. */
export function prepareScope(app: App, kindOf: (req: FastifyRequest) => Kind | null): void {
  prepareDavScope(app, EXTRA_METHODS, (req, reply, e) => sendError(reply, e, kindOf(req)), { logMessage: 'caldav/carddav request failed' });
}

export function sendError(reply: FastifyReply, e: AppError, kind: Kind | null): void {
  if (e.status === 401) void reply.header('www-authenticate', REALM);
  if (e.status === 405) void reply.header('allow', ALLOW);
  const xml = preconditionXml(e, kind);
  if (xml) {
    // RFC 4918 §16: a failed precondition is a 403 naming it, whatever the catalog status.
    void reply.status(403).type('application/xml; charset=utf-8').send(xml);
    return;
  }
  void reply.status(e.status).type('text/plain; charset=utf-8').send(`${e.message}\n`);
}

async function ownerByLogin(platform: Platform, login: string): Promise<{ id: string; login: string } | null> {
  const u = await platform.db.selectFrom('users').select(['id', 'login']).where('login', '=', login.toLowerCase()).executeTakeFirst();
  return u ?? null;
}

/** Registers `/dav/<kind>` and `/dav/<kind>/*` for one kind. */
export function collectionRoutes(app: App, platform: Platform, kind: Kind): void {
  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (req.method === 'OPTIONS') return options(reply);
    const actor = await authenticate(platform, req);
    if (!actor) throw new AppError('unauthenticated');
    const path = (req.raw.url ?? '').split('?')[0]!;
    const parts = splitPath(path.endsWith('/') ? path : `${path}/`, kind.prefix) ?? [];
    if (parts.length === 0) {
      await reply.status(301).header('location', `${kind.prefix}${encodeURIComponent(actor.login)}/`).send();
      return;
    }
    if (parts.length > 3) throw new AppError('not_found');
    // The owner is named in the URL; the store asks the policy (another user's tree is a 404).
    const user = await ownerByLogin(platform, parts[0]!);
    if (!user) throw new AppError('not_found');
    const d: DavCtx = {
      platform, req, reply, actor, ctx: { platform, actor }, kind, owner: { type: 'user', id: user.id }, login: user.login,
      home: `${kind.prefix}${encodeURIComponent(user.login)}/`, slug: parts[1], name: parts[2],
    };
    await kind.store.authorize(d.ctx, d.owner, 'read');
    // RFC 6638 scheduling inbox and outbox of one's own calendar home.
    if (kind.name === 'calendar' && isBox(d.slug)) return scheduleBox(d, d.slug);
    // An object URL ending with a slash, or a collection URL without one, still designates the same thing.
    switch (req.method) {
      case 'GET':
        return d.slug === undefined || d.name === undefined ? collectionGet(d) : get(d, false);
      case 'HEAD':
        return d.slug === undefined || d.name === undefined ? collectionGet(d) : get(d, true);
      case 'PUT':
        return put(d);
      case 'DELETE':
        return del(d);
      case 'PROPFIND':
        return propfind(d);
      case 'PROPPATCH':
        return proppatch(d);
      case 'MKCALENDAR':
        return mkcalendar(d, 'MKCALENDAR');
      case 'MKCOL':
        return mkcalendar(d, 'MKCOL');
      case 'REPORT':
        return report(d);
      default:
        throw new AppError('method_not_allowed');
    }
  };
  const base = kind.prefix.replace(/\/$/, '');
  for (const url of [base, `${base}/*`]) app.route({ method: METHODS, url, exposeHeadRoute: false, schema: { hide: true }, handler });
}

/** A browser opening a collection URL gets a short plain-text answer rather than an error. */
async function collectionGet(d: DavCtx): Promise<void> {
  if (d.slug !== undefined) await d.kind.store.bySlug(d.ctx, d.owner, d.slug).then((c) => {
    if (!c) throw new AppError('not_found');
  });
  const where = d.slug === undefined ? d.home : collectionHref(d, d.slug);
  await d.reply.status(200).type('text/plain; charset=utf-8').send(`${where}: use a CalDAV or CardDAV client.\n`);
}

/** RFC 6764: /.well-known/caldav and /.well-known/carddav lead to the principal (or the principals root). */
export function wellKnown(app: App, platform: Platform, path: string): void {
  app.route({
    method: METHODS,
    url: path,
    exposeHeadRoute: false,
    schema: { hide: true },
    handler: async (req, reply) => {
      const actor = await authenticate(platform, req);
      await reply.status(301).header('location', actor ? `/dav/principals/${encodeURIComponent(actor.login)}/` : '/dav/principals/').send();
    },
  });
}
