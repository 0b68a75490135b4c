import { AppError } from '../../errors.js';
import { activeLocks, covering, removeLock } from '../../modules/drive/locks.js';
import { pathKey } from '../../modules/drive/names.js';
import type { DavRequest } from './context.js';

export async function unlock(d: DavRequest): Promise<void> {
  const header = d.req.headers['lock-token'];
  const m = typeof header === 'string' ? /^\s*<([^>]+)>\s*$/.exec(header) : null;
  if (!m) throw new AppError('bad_request', { reason: 'lock_token_required' });
  const token = m[1]!;
  const lock = covering(await activeLocks(d.platform.db, d.owner, d.platform.clock.now()), pathKey(d.segments)).find((l) => l.token === token);
  if (!lock) {
    await d.reply.status(409).type('application/xml; charset=utf-8').send('<?xml version="1.0" encoding="utf-8"?>\n<D:error xmlns:D="DAV:"><D:lock-token-matches-request-uri/></D:error>');
    return;
  }
  if (lock.principal_id !== d.actor.userId) throw new AppError('forbidden');
  await removeLock(d.platform.db, token);
  await d.reply.status(204).send();
}
