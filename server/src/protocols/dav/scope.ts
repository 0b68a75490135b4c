import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import type { App } from '../../platform/module.js';

/**
 * What every DAV scope (files, calendars, address books) sets up the same way: its extra HTTP methods,
 * bodies left unparsed (each method reads its own, bounded, or streams it), and errors mapped to the
 * catalog then answered by the protocol's own `send`. Nothing here is logged below 500; `quiet` codes
 * are 5xx that are not server faults (a full quota, another server).
 */
export function prepareDavScope(
  app: App,
  methods: string[],
  send: (req: FastifyRequest, reply: FastifyReply, err: AppError) => void,
  opts: { logMessage: string; quiet?: string[] },
): void {
  for (const m of methods) if (!app.supportedMethods.includes(m)) app.addHttpMethod(m, { hasBody: true });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req: FastifyRequest, _payload: unknown, done: (err: Error | null, body?: unknown) => void) => done(null));
  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    let e: AppError;
    if (err instanceof AppError) e = err;
    else if (err.statusCode === 413) e = new AppError('payload_too_large');
    else if (err.statusCode && err.statusCode < 500) e = new AppError('bad_request');
    else e = new AppError('internal');
    if (e.status >= 500 && !(opts.quiet ?? []).includes(e.code)) req.log.error({ err }, opts.logMessage);
    send(req, reply, e);
  });
}
