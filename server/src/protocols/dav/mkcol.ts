import { AppError } from '../../errors.js';
import { createFolder } from '../../modules/drive/commands.js';
import { checkConditions, readBody, type DavRequest } from './context.js';

export async function mkcol(d: DavRequest): Promise<void> {
  const body = await readBody(d.req);
  // RFC 4918 §9.3: extended MKCOL bodies are not supported.
  if (body.length > 0) throw new AppError('unsupported_media_type');
  if (d.segments.length === 0) throw new AppError('already_exists');
  const target = { segments: d.segments, membership: true };
  await checkConditions(d, [target]);
  await createFolder(d.ctx, d.owner, d.segments, async (trx) => {
    await checkConditions(d, [target], trx);
  });
  await d.reply.status(201).send();
}
