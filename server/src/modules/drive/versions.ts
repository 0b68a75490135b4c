import { AppError } from '../../errors.js';
import { addRef } from '../../platform/blobs/refs.js';
import type { DriveVersionsTable } from './schema.js';
import { driveAudience, newEtag, resolvePath, authorizeAction, keepVersion, type DriveContext, type NodeRow, type Owner } from './commands.js';

/**
 * Versions: every overwrite of a file keeps its previous content (commands.ts keepVersion, the newest
 * `driveVersions` per file). Here: list them, read one, restore one (the current content becomes a
 * version in turn, so a restore is itself undoable).
 */
export type VersionRow = DriveVersionsTable;

async function fileAt(ctx: DriveContext, owner: Owner, segments: string[]): Promise<NodeRow> {
  const node = await resolvePath(ctx.platform.db, owner, segments);
  if (node === null) throw new AppError('not_found');
  if (node === 'root' || node.kind !== 'file') throw new AppError('conflict', { reason: 'not_a_file' });
  return node;
}

export async function listVersions(ctx: DriveContext, owner: Owner, segments: string[]): Promise<{ node: NodeRow; versions: VersionRow[] }> {
  await authorizeAction(ctx, owner, 'read');
  const node = await fileAt(ctx, owner, segments);
  const versions = await ctx.platform.db.selectFrom('drive_versions').selectAll().where('node_id', '=', node.id).orderBy('replaced_at', 'desc').orderBy('id', 'desc').execute();
  return { node, versions };
}

export async function getVersion(ctx: DriveContext, owner: Owner, segments: string[], versionId: string): Promise<{ node: NodeRow; version: VersionRow }> {
  await authorizeAction(ctx, owner, 'read');
  const node = await fileAt(ctx, owner, segments);
  const version = await ctx.platform.db.selectFrom('drive_versions').selectAll().where('id', '=', versionId).where('node_id', '=', node.id).executeTakeFirst();
  if (!version) throw new AppError('not_found');
  return { node, version };
}

/** Makes a version the current content again; the content it replaces is kept as a version. */
export async function restoreVersion(ctx: DriveContext, owner: Owner, segments: string[], versionId: string): Promise<NodeRow> {
  await authorizeAction(ctx, owner, 'write');
  const { platform } = ctx;
  const now = platform.clock.now();
  return platform.transaction(async (trx, emit) => {
    const node = await resolvePath(trx, owner, segments);
    if (node === null) throw new AppError('not_found');
    if (node === 'root' || node.kind !== 'file') throw new AppError('conflict', { reason: 'not_a_file' });
    const version = await trx.selectFrom('drive_versions').selectAll().where('id', '=', versionId).where('node_id', '=', node.id).executeTakeFirst();
    if (!version) throw new AppError('not_found');
    if (version.blob_sha256) await addRef(trx, { sha256: version.blob_sha256, size: Number(version.size) }, now);
    const res = await trx
      .updateTable('drive_nodes')
      .set({
        blob_sha256: version.blob_sha256, size: Number(version.size), content_type: version.content_type, etag: newEtag(), updated_at: now,
        modified_by: ctx.actor.kind === 'user' ? ctx.actor.userId : null,
      })
      .where('id', '=', node.id)
      .where('etag', '=', node.etag)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new AppError('conflict', { reason: 'concurrent_write' });
    await keepVersion(trx, platform, owner, node, now);
    await platform.audit.record(trx, { actor: ctx.actor, action: 'drive.version.restored', targetType: 'drive-node', targetId: node.id, ip: ctx.ip, details: { name: node.name, version: version.id } });
    await emit('drive.node.updated', { ownerType: owner.type, ownerId: owner.id, id: node.id }, await driveAudience(trx, owner));
    return trx.selectFrom('drive_nodes').selectAll().where('id', '=', node.id).executeTakeFirstOrThrow();
  });
}
