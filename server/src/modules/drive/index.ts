import { davRoutes } from '../../protocols/dav/index.js';
import type { BastideModule } from '../../platform/module.js';
import { hasScope, type Rule } from '../../platform/policy.js';
import { driveRoutes } from './routes.js';
import { driveMigrations } from './schema.js';

/**
 * The drive: files and folders with content in the blob store. This increment serves them over WebDAV
 * (protocols/dav); the web app and sharing come later. Policy: the owner only.
 */
export const driveNodeRule: Rule = (actor, _action, r) => {
  if (actor.kind !== 'user') return false;
  if (actor.via !== 'session' && !hasScope(actor, 'dav')) return false;
  return r.ownerType === 'user' && r.ownerId === actor.userId;
};

export const driveModule: BastideModule = {
  name: 'drive',
  migrations: driveMigrations,
  policies: { 'drive-node': driveNodeRule },
  routes: (app, platform) => driveRoutes(app, platform),
  rootRoutes: (app, platform) => davRoutes(app, platform),
  auditActions: ['drive.node.deleted', 'drive.node.restored', 'drive.node.purged', 'drive.trash.emptied'],
  async usage(platform) {
    const r = await platform.db
      .selectFrom('drive_nodes')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('size').as('bytes')])
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return { nodes: Number(r?.n ?? 0), bytes: Number(r?.bytes ?? 0) };
  },
};
