import { Type, type Static } from '@sinclair/typebox';
import { AppError } from '../../errors.js';
import type { App, Platform } from '../../platform/module.js';
import { requireUser } from '../../platform/policy.js';
import { unzipFiles, zipFiles } from '../portability/zip.js';
import { authorizeChannel } from './commands.js';
import { getChannel } from './repo.js';
import { channelHtml, exportChannel, fromBastideExport, fromMattermostExport, fromSlackExport, writeImported } from './portability.js';

const strict = { additionalProperties: false } as const;
const IdParams = Type.Object({ id: Type.String({ pattern: '^[0-9A-HJKMNP-TV-Z]{26}$' }) }, strict);
const ExportQuery = Type.Object({ format: Type.Optional(Type.Union([Type.Literal('zip'), Type.Literal('json'), Type.Literal('html')])) }, strict);
const ImportResult = Type.Object({ channels: Type.Integer(), messages: Type.Integer() });
const MAX_IMPORT_BYTES = 512 * 1024 * 1024;

/**
 * Channel export (any member: JSON, HTML or both in a zip) and imports of whole workspaces from Slack and
 * Mattermost (administrators: they create organisation channels for many people at once). The per-user
 * archive goes through the platform's portability (module contract).
 */
export async function chatPortabilityRoutes(app: App, platform: Platform): Promise<void> {
  const tags = ['chat'];
  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof ExportQuery> }>(
    '/chat/channels/:id/export',
    { schema: { tags, summary: 'A channel with its whole history: JSON, readable HTML, or both in a zip (default)', params: IdParams, querystring: ExportQuery } },
    async (req, reply) => {
      await authorizeChannel({ platform, actor: req.actor, ip: req.ip }, req.params.id, 'read');
      const c = await getChannel(platform.db, req.params.id);
      if (!c) throw new AppError('not_found');
      const e = await exportChannel(platform, c);
      const base = `chat-${c.name.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 60) || 'channel'}`;
      reply.header('x-content-type-options', 'nosniff');
      const format = req.query.format ?? 'zip';
      if (format === 'json') return reply.type('application/json; charset=utf-8').header('content-disposition', `attachment; filename="${base}.json"`).send(JSON.stringify(e, null, 2));
      if (format === 'html') return reply.type('text/html; charset=utf-8').header('content-disposition', `attachment; filename="${base}.html"`).header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox").send(channelHtml(e));
      return reply.type('application/zip').header('content-disposition', `attachment; filename="${base}.zip"`).send(zipFiles([{ path: `${base}.json`, content: JSON.stringify(e, null, 2) }, { path: `${base}.html`, content: channelHtml(e) }]));
    },
  );

  await app.register(async (scope) => {
    // Raw bodies (a zip, JSONL). The platform's portability routes may already have declared zip bodies
    // for all of /api: a child scope cannot declare the same type again.
    for (const type of ['application/zip', 'application/x-ndjson', 'application/jsonl', 'text/plain', 'application/octet-stream']) {
      if (scope.hasContentTypeParser(type)) scope.removeContentTypeParser(type);
      scope.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: MAX_IMPORT_BYTES }, (_req, body, done) => done(null, body));
    }
    const importRoute = (path: string, summary: string, run: (body: Buffer, contentType: string) => Promise<Awaited<ReturnType<typeof fromSlackExport>>>): void => {
      scope.post(path, { schema: { tags, summary, response: { 200: ImportResult } } }, async (req) => {
        const me = requireUser(req.actor);
        await platform.policy.authorize(req.actor, 'import', { type: 'chat-import' });
        if (!Buffer.isBuffer(req.body)) throw new AppError('unsupported_media_type');
        const channels = await run(req.body, String(req.headers['content-type'] ?? ''));
        const result = await writeImported(platform, me.userId, channels);
        await platform.audit.recordNow({ actor: req.actor, action: 'chat.import.applied', targetType: 'chat', targetId: me.userId, ip: req.ip, details: { source: path.split('/').pop(), ...result } });
        return result;
      });
    };
    importRoute('/chat/import/slack', 'Import a Slack workspace export (zip): channels, threads, reactions, pins', async (body) => fromSlackExport(platform, await unzipFiles(body)));
    importRoute('/chat/import/mattermost', 'Import a Mattermost bulk export (JSONL, or a zip holding one)', async (body, type) => {
      let text: string;
      if (type.startsWith('application/zip')) {
        const jsonl = (await unzipFiles(body)).find((f) => f.path.endsWith('.jsonl'));
        if (!jsonl) throw new AppError('bad_request', { reason: 'no .jsonl file in the zip' });
        text = jsonl.content.toString();
      } else text = body.toString();
      return fromMattermostExport(platform, text);
    });
    importRoute('/chat/import/bastide', 'Import channels exported from Bastide (a channel export zip)', async (body) => fromBastideExport(platform, await unzipFiles(body)));
  });
}
