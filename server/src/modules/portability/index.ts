import { Type } from '@sinclair/typebox';
import { AppError } from '../../errors.js';
import type { BastideModule, ExportFile, Platform } from '../../platform/module.js';
import { requireUser, type Actor } from '../../platform/policy.js';
import { unzipFiles, zipFiles } from './zip.js';

/**
 * Reversibility: a user's data from every module that can export it, in one zip of open formats with a
 * manifest; and the way back into an account. Each module's files live under its own folder.
 */
export const EXPORT_FORMAT = 'bastide.export/1';

export async function exportUser(platform: Platform, actor: Actor, userId: string): Promise<ExportFile[]> {
  await platform.policy.authorize(actor, 'export', { type: 'user-data', id: userId });
  const user = await platform.db.selectFrom('users').select(['login']).where('id', '=', userId).executeTakeFirst();
  if (!user) throw new AppError('not_found');
  const files: ExportFile[] = [];
  const modules: Array<{ name: string; files: string[] }> = [];
  for (const m of platform.modules) {
    if (!m.portability) continue;
    const out = await m.portability.export(platform, userId);
    for (const f of out) if (!f.path.startsWith(`${m.name}/`)) throw new Error(`module ${m.name} exported ${f.path} outside its folder`);
    files.push(...out);
    modules.push({ name: m.name, files: out.map((f) => f.path) });
  }
  const manifest = { format: EXPORT_FORMAT, exportedAt: new Date(platform.clock.now()).toISOString(), login: user.login, modules };
  return [{ path: 'manifest.json', content: JSON.stringify(manifest, null, 2) }, ...files];
}

export async function importUser(platform: Platform, actor: Actor, userId: string, files: ExportFile[]): Promise<Record<string, number>> {
  await platform.policy.authorize(actor, 'import', { type: 'user-data', id: userId });
  const manifestFile = files.find((f) => f.path === 'manifest.json');
  let manifest: { format?: unknown } = {};
  try {
    manifest = manifestFile ? (JSON.parse(manifestFile.content.toString()) as { format?: unknown }) : {};
  } catch {
    throw new AppError('bad_request', { reason: 'manifest.json is not JSON' });
  }
  if (manifest.format !== EXPORT_FORMAT) throw new AppError('bad_request', { reason: `not a ${EXPORT_FORMAT} archive` });
  const counts: Record<string, number> = {};
  for (const m of platform.modules) {
    if (!m.portability) continue;
    const mine = files.filter((f) => f.path.startsWith(`${m.name}/`));
    if (mine.length === 0) continue;
    counts[m.name] = (await m.portability.import(platform, userId, mine)).imported;
  }
  await platform.audit.recordNow({ actor, action: 'portability.imported', targetType: 'user', targetId: userId, details: counts });
  return counts;
}

export const portabilityModule: BastideModule = {
  name: 'portability',
  auditActions: ['portability.exported', 'portability.imported'],
  policies: {
    // One's own data, from an interactive session or an API token; administrators for anyone (CLI: system).
    'user-data': (actor, _action, r) => actor.kind === 'user' && actor.via !== 'app-password' && (r.id === actor.userId || actor.isAdmin),
  },
  routes(app, platform) {
    app.addContentTypeParser('application/zip', { parseAs: 'buffer', bodyLimit: 256 * 1024 * 1024 }, (_req, body, done) => done(null, body));
    app.get('/me/export', { schema: { tags: ['portability'], summary: 'Download all my data as a zip' } }, async (req, reply) => {
      const me = requireUser(req.actor);
      const files = await exportUser(platform, req.actor, me.userId);
      await platform.audit.recordNow({ actor: req.actor, action: 'portability.exported', targetType: 'user', targetId: me.userId, ip: req.ip, details: { files: files.length } });
      const day = new Date(platform.clock.now()).toISOString().slice(0, 10);
      return reply
        .type('application/zip')
        .header('content-disposition', `attachment; filename="bastide-${me.login}-${day}.zip"`)
        .header('x-content-type-options', 'nosniff')
        .send(zipFiles(files));
    });
    app.post(
      '/me/import',
      { schema: { tags: ['portability'], summary: 'Import an export archive into my account', response: { 200: Type.Object({ imported: Type.Record(Type.String(), Type.Integer()) }) } } },
      async (req) => {
        const me = requireUser(req.actor);
        if (!Buffer.isBuffer(req.body)) throw new AppError('unsupported_media_type');
        return { imported: await importUser(platform, req.actor, me.userId, await unzipFiles(req.body)) };
      },
    );
  },
};
