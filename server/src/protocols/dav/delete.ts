import { AppError } from '../../errors.js';
import { deleteNode } from '../../modules/drive/commands.js';
import { removeLocksAt } from '../../modules/drive/locks.js';
import { pathKey } from '../../modules/drive/names.js';
import { checkConditions, checkEtagPreconditions, resolve, type DavRequest } from './context.js';

export async function del(d: DavRequest): Promise<void> {
  if (d.req.url.includes('#')) throw new AppError('bad_request', { reason: 'fragment' });
  const node = await resolve(d);
  if (node === null) throw new AppError('not_found');
  if (node === 'root') throw new AppError('forbidden');
  checkEtagPreconditions(d.req, node);
  const target = { segments: d.segments, membership: true, subtree: true };
  await checkConditions(d, [target]);
  await deleteNode(d.ctx, d.owner, d.segments, async (trx) => {
    await checkConditions(d, [target], trx);
    await removeLocksAt(trx, d.owner, pathKey(d.segments));
  });
  await d.reply.status(204).send();
}
