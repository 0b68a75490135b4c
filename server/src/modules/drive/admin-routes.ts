import { Type } from '@sinclair/typebox';
import { AppError } from '../../errors.js';
import type { App, Platform } from '../../platform/module.js';
import { quota } from './commands.js';
import type { Owner } from './commands.js';

/**
 * Administration of drive quotas: GET and PUT /api/admin/drive/quota for one user or space. `bytes: null`
 * returns the drive to the configured default (BASTIDE_DRIVE_QUOTA / BASTIDE_DRIVE_SPACE_QUOTA).
 */
const strict = { additionalProperties: false } as const;
const tags = ['admin'];
const OwnerQuery = Type.Object({ ownerType: Type.Union([Type.Literal('user'), Type.Literal('space')]), ownerId: Type.String({ minLength: 1, maxLength: 64 }) }, strict);
const QuotaView = Type.Object({ used: Type.Number(), limit: Type.Number(), custom: Type.Boolean() });

export function adminDriveRoutes(app: App, platform: Platform): void {
  const load = async (ownerType: 'user' | 'space', ownerId: string): Promise<Owner> => {
    const exists =
      ownerType === 'user'
        ? await platform.db.selectFrom('users').select('id').where('id', '=', ownerId).executeTakeFirst()
        : await platform.db.selectFrom('spaces').select('id').where('id', '=', ownerId).executeTakeFirst();
    if (!exists) throw new AppError('not_found');
    return { type: ownerType, id: ownerId };
  };
  const view = async (owner: Owner) => {
    const q = await quota(platform, platform.db, owner);
    const custom = await platform.db.selectFrom('drive_quotas').select('bytes').where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).executeTakeFirst();
    return { used: q.used, limit: q.limit, custom: custom !== undefined };
  };

  app.get('/admin/drive/quota', { schema: { tags, querystring: OwnerQuery, response: { 200: QuotaView } } }, async (req) => {
    await platform.policy.authorize(req.actor, 'read-quota', { type: 'drive-node', ownerType: req.query.ownerType, ownerId: req.query.ownerId });
    return view(await load(req.query.ownerType, req.query.ownerId));
  });

  app.put(
    '/admin/drive/quota',
    { schema: { tags, querystring: OwnerQuery, body: Type.Object({ bytes: Type.Union([Type.Integer({ minimum: 0, maximum: 2 ** 50 }), Type.Null()]) }, strict), response: { 200: QuotaView } } },
    async (req) => {
      await platform.policy.authorize(req.actor, 'set-quota', { type: 'drive-node', ownerType: req.query.ownerType, ownerId: req.query.ownerId });
      const owner = await load(req.query.ownerType, req.query.ownerId);
      const { bytes } = req.body;
      await platform.transaction(async (trx) => {
        await trx.deleteFrom('drive_quotas').where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).execute();
        if (bytes !== null) await trx.insertInto('drive_quotas').values({ owner_type: owner.type, owner_id: owner.id, bytes }).execute();
        await platform.audit.record(trx, { actor: req.actor, action: 'drive.quota.set', targetType: owner.type, targetId: owner.id, ip: req.ip, details: { bytes } });
      });
      return view(owner);
    },
  );
}
