import { AppError } from '../../errors.js';
import { moveNode } from '../../modules/drive/commands.js';
import { removeLocksAt } from '../../modules/drive/locks.js';
import { pathKey } from '../../modules/drive/names.js';
import { checkConditions, depthHeader, destination, overwriteHeader, resolve, type DavRequest } from './context.js';

export async function move(d: DavRequest): Promise<void> {
  const to = destination(d);
  const overwrite = overwriteHeader(d);
  // RFC 4918 §9.9.2: MOVE on a collection acts as Depth infinity.
  if (depthHeader(d.req, 'infinity') !== 'infinity') throw new AppError('bad_request', { reason: 'invalid_depth' });
  const src = await resolve(d);
  if (src === null) throw new AppError('not_found');
  if (src === 'root' || to.length === 0) throw new AppError('forbidden');
  const targets = [
    { segments: d.segments, membership: true, subtree: true },
    { segments: to, membership: true, subtree: true },
  ];
  await checkConditions(d, targets);
  const { created } = await moveNode(d.ctx, d.owner, d.segments, to, {
    overwrite,
    guard: async (trx) => {
      await checkConditions(d, targets, trx);
      await removeLocksAt(trx, d.owner, pathKey(d.segments));
      await removeLocksAt(trx, d.owner, pathKey(to));
    },
  });
  await d.reply.status(created ? 201 : 204).send();
}
