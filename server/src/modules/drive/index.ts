import { davRoutes } from '../../protocols/dav/index.js';
import type { BastideModule } from '../../platform/module.js';
import { driveNodeRule } from './policy.js';
import { driveRoutes } from './routes.js';
import { shareRoutes } from './share-routes.js';
import { adminDriveRoutes } from './admin-routes.js';
import { linkRoutes } from './links.js';
import { tusJobs, tusRoutes } from './tus.js';
import { transferRoutes } from './transfer.js';
import { drivePortability } from './portability.js';
import { driveMigrations } from './schema.js';
import { viewsEvents, viewsMigrations, viewsRoutes } from './views.js';
import { previewRoutes } from './previews.js';
import { thumbnailEvents, thumbnailJobs, thumbnailMigrations, thumbnailRoutes } from './thumbnails.js';
import { usageMigrations } from './usage.js';

/**
 * The drive: files and folders of users and spaces, content in the blob store; versions, shares and
 * public links; served to the web app (JSON, routes*.ts) and to desktop clients (WebDAV, protocols/dav).
 * Policy: policy.ts.
 */
export const driveModule: BastideModule = {
  name: 'drive',
  migrations: [...driveMigrations, ...viewsMigrations, ...thumbnailMigrations, ...usageMigrations],
  policies: { 'drive-node': driveNodeRule },
  async routes(app, platform) {
    // One line per route file of the drive (each file registers its own routes under /api/drive/...).
    await driveRoutes(app, platform);
    shareRoutes(app, platform);
    adminDriveRoutes(app, platform);
    await linkRoutes(app, platform);
    await tusRoutes(app, platform);
    await transferRoutes(app, platform);
    await viewsRoutes(app, platform);
    await previewRoutes(app, platform);
    await thumbnailRoutes(app, platform);
  },
  rootRoutes: (app, platform) => davRoutes(app, platform),
  jobs: { ...tusJobs, ...thumbnailJobs },
  portability: drivePortability,
  events: [...viewsEvents, ...thumbnailEvents],
  auditActions: [
    'drive.node.deleted', 'drive.node.restored', 'drive.node.purged', 'drive.trash.emptied', 'drive.version.restored',
    'drive.share.created', 'drive.share.updated', 'drive.share.revoked', 'drive.link.created', 'drive.link.updated', 'drive.link.revoked',
    'drive.quota.set', 'drive.exported', 'drive.imported',
  ],
  async usage(platform) {
    const r = await platform.db
      .selectFrom('drive_nodes')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('size').as('bytes')])
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return { nodes: Number(r?.n ?? 0), bytes: Number(r?.bytes ?? 0) };
  },
};
