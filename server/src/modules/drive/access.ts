import type { FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { AppError } from '../../errors.js';
import type { Platform } from '../../platform/module.js';
import { requireUser } from '../../platform/policy.js';
import type { DriveContext, Owner } from './commands.js';
import { driveResource } from './policy.js';

/**
 * Which drive a JSON request addresses: `me` (the caller's own drive, the default), `space:<id>`
 * (a space's drive) or `share:<id>` (what a share gives the caller: paths start at the shared node). Every drive route takes it as the `drive` query parameter; paths are relative to
 * that drive's root. The policy ('drive-node') decides what the caller may do there.
 */
export const DriveRefT = Type.String({ minLength: 1, maxLength: 80, pattern: '^(me|space:[A-Za-z0-9_-]{1,64}|share:[A-Za-z0-9_-]{1,64})$' });

export interface DriveTarget {
  ctx: DriveContext;
  owner: Owner;
}

export async function driveTarget(req: FastifyRequest, platform: Platform, drive: string | undefined): Promise<DriveTarget> {
  const me = requireUser(req.actor);
  const ctx: DriveContext = { platform, actor: req.actor, ip: req.ip };
  const ref = drive ?? 'me';
  if (ref === 'me') return { ctx, owner: { type: 'user', id: me.userId } };
  let owner: Owner;
  if (ref.startsWith('space:')) owner = { type: 'space', id: ref.slice('space:'.length) };
  else if (ref.startsWith('share:')) {
    const id = ref.slice('share:'.length);
    const s = await platform.db.selectFrom('drive_shares').select(['owner_type', 'owner_id', 'node_id']).where('id', '=', id).executeTakeFirst();
    if (!s) throw new AppError('not_found');
    owner = { type: s.owner_type === 'space' ? 'space' : 'user', id: s.owner_id, share: { id, rootId: s.node_id } };
  } else throw new AppError('not_found');
  // A space the caller is not in, or a share not (or no longer) given to them: as if it did not exist.
  if (!(await platform.policy.can(req.actor, 'read', await driveResource(platform.db, owner, req.actor)))) throw new AppError('not_found');
  return { ctx, owner };
}

/** The drive ref of an owner, as the web app and the JSON API spell it. */
export function driveRefOf(owner: Owner): string {
  if (owner.share) return `share:${owner.share.id}`;
  return owner.type === 'space' ? `space:${owner.id}` : 'me';
}
