import { AppError } from '../../errors.js';
import { assertFits, putFile } from '../../modules/drive/commands.js';
import { checkConditions, checkEtagPreconditions, etagOf, resolve, type DavRequest } from './context.js';

export async function put(d: DavRequest): Promise<void> {
  if (d.segments.length === 0) throw new AppError('method_not_allowed');
  if (typeof d.req.headers['content-range'] === 'string') throw new AppError('bad_request', { reason: 'content_range_not_supported' });
  const existing = await resolve(d);
  if (existing === 'root' || (existing && existing.kind === 'folder')) throw new AppError('method_not_allowed');
  checkEtagPreconditions(d.req, existing);
  const target = { segments: d.segments, membership: existing === null };
  // Refuse before reading the body: preconditions, locks and the announced size.
  await checkConditions(d, [target]);
  const length = Number(d.req.headers['content-length'] ?? 0);
  await assertFits(d.platform, d.owner, length, Number(existing?.size ?? 0));
  const ct = d.req.headers['content-type'];
  const { node, created } = await putFile(d.ctx, d.owner, d.segments, d.req.raw, {
    contentType: typeof ct === 'string' ? ct : undefined,
    check: (e) => checkEtagPreconditions(d.req, e),
    guard: async (trx) => {
      await checkConditions(d, [target], trx);
    },
  });
  await d.reply.status(created ? 201 : 204).header('etag', etagOf(node)).send();
}
