import { AppError } from '../../errors.js';
import { copyNode } from '../../modules/drive/commands.js';
import { removeLocksAt } from '../../modules/drive/locks.js';
import { pathKey } from '../../modules/drive/names.js';
import { checkConditions, depthHeader, destination, overwriteHeader, resolve, type DavRequest } from './context.js';

export async function copy(d: DavRequest): Promise<void> {
  const to = destination(d);
  const overwrite = overwriteHeader(d);
  const depth = depthHeader(d.req, 'infinity');
  if (depth !== '0' && depth !== 'infinity') throw new AppError('bad_request', { reason: 'invalid_depth' });
  const src = await resolve(d);
  if (src === null) throw new AppError('not_found');
  if (to.length === 0) throw new AppError('forbidden');
  const dest = { segments: to, membership: true, subtree: true };
  await checkConditions(d, [dest]);
  const { created } = await copyNode(d.ctx, d.owner, d.segments, to, {
    overwrite,
    shallow: depth === '0',
    guard: async (trx) => {
      await checkConditions(d, [dest], trx);
      await removeLocksAt(trx, d.owner, pathKey(to));
    },
  });
  await d.reply.status(created ? 201 : 204).send();
}
