import { AppError } from '../../../errors.js';
import { readXml } from '../context.js';
import { clark } from '../xml.js';
import type { DavCtx } from './context.js';

/** REPORT: dispatched on the root element to the reports of the collection's kind (each in its own file). */
export async function report(d: DavCtx): Promise<void> {
  const body = await readXml(d.req);
  if (!body) throw new AppError('bad_request', { reason: 'report body missing' });
  const run = d.kind.reports[clark(body.ns, body.local)];
  if (!run) throw new AppError('forbidden', { precondition: 'supported-report' });
  if (d.slug === undefined) throw new AppError('forbidden', { precondition: 'supported-report' });
  await run(d, body);
}
