import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import type { App, Platform } from '../../platform/module.js';
import { requireUser } from '../../platform/policy.js';
import { users } from '../identity/repo.js';
import { DriveRefT, driveTarget } from './access.js';
import { sendContent } from './content.js';
import { Item, itemOf, parsePath, PathT } from './routes.js';
import { createLink, createShare, revokeLink, revokeShare, sharedWithMe, sharesOf, updateLink, updateShare, type LinkRow } from './shares.js';
import { getVersion, listVersions, restoreVersion } from './versions.js';

/**
 * JSON routes of sharing (shares with people, groups and spaces; public links), "shared with me" and
 * versions. Thin: parse, resolve the drive (access.ts), call the command, present.
 */
const strict = { additionalProperties: false } as const;
const tags = ['drive'];
const DriveQuery = Type.Object({ drive: Type.Optional(DriveRefT) }, strict);
const PathQuery = Type.Object({ path: PathT, drive: Type.Optional(DriveRefT) }, strict);
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, strict);
const Permission = Type.Union([Type.Literal('read'), Type.Literal('write')]);
const GranteeType = Type.Union([Type.Literal('user'), Type.Literal('group'), Type.Literal('space')]);
const Share = Type.Object({ id: Type.String(), granteeType: Type.String(), granteeId: Type.String(), granteeName: Type.String(), permission: Type.String(), createdAt: Type.Number() });
const Link = Type.Object({
  id: Type.String(),
  url: Type.String(),
  mode: Type.String(),
  hasPassword: Type.Boolean(),
  expiresAt: Type.Union([Type.Number(), Type.Null()]),
  maxDownloads: Type.Union([Type.Number(), Type.Null()]),
  downloads: Type.Number(),
  label: Type.String(),
  createdAt: Type.Number(),
});
const Version = Type.Object({
  id: Type.String(),
  size: Type.Number(),
  contentType: Type.String(),
  createdAt: Type.Number(),
  replacedAt: Type.Number(),
  author: Type.Union([Type.Object({ id: Type.String(), displayName: Type.String() }), Type.Null()]),
});
const Password = Type.String({ minLength: 1, maxLength: 200 });
/** Up to ten years ahead; the command refuses dates in the past. */
const Expiry = Type.Union([Type.Integer({ minimum: 0, maximum: 4102444800000 }), Type.Null()]);
const MaxDownloads = Type.Union([Type.Integer({ minimum: 1, maximum: 1000000 }), Type.Null()]);

export function linkView(platform: Platform, l: LinkRow): typeof Link.static {
  return {
    id: l.id,
    url: `${platform.config.baseUrl}/s/${l.token}`,
    mode: l.mode,
    hasPassword: l.password_hash !== null,
    expiresAt: l.expires_at === null ? null : Number(l.expires_at),
    maxDownloads: l.max_downloads === null ? null : Number(l.max_downloads),
    downloads: Number(l.downloads),
    label: l.label,
    createdAt: Number(l.created_at),
  };
}

export function shareRoutes(app: App, platform: Platform): void {
  const scope = (req: FastifyRequest) => driveTarget(req, platform, (req.query as { drive?: string } | undefined)?.drive);

  app.get('/drive/shares', { schema: { tags, querystring: PathQuery, response: { 200: Type.Object({ item: Item, shares: Type.Array(Share), links: Type.Array(Link) }) } } }, async (req) => {
    const { ctx, owner } = await scope(req);
    const { node, shares, links } = await sharesOf(ctx, owner, parsePath(req.query.path));
    return { item: itemOf(node), shares, links: links.map((l) => linkView(platform, l)) };
  });

  app.post(
    '/drive/shares',
    { schema: { tags, querystring: DriveQuery, body: Type.Object({ path: PathT, granteeType: GranteeType, granteeId: Type.String({ minLength: 1, maxLength: 64 }), permission: Permission }, strict), response: { 201: Type.Object({ id: Type.String() }) } } },
    async (req, reply) => {
      const { ctx, owner } = await scope(req);
      const row = await createShare(ctx, owner, parsePath(req.body.path), { type: req.body.granteeType, id: req.body.granteeId }, req.body.permission);
      return reply.status(201).send({ id: row.id });
    },
  );

  app.patch('/drive/shares/:id', { schema: { tags, params: IdParams, querystring: DriveQuery, body: Type.Object({ permission: Permission }, strict), response: { 200: Type.Object({ id: Type.String(), permission: Type.String() }) } } }, async (req) => {
    const { ctx, owner } = await scope(req);
    const row = await updateShare(ctx, owner, req.params.id, req.body.permission);
    return { id: row.id, permission: row.permission };
  });

  app.delete('/drive/shares/:id', { schema: { tags, params: IdParams, querystring: DriveQuery } }, async (req, reply) => {
    const { ctx, owner } = await scope(req);
    await revokeShare(ctx, owner, req.params.id);
    return reply.status(204).send();
  });

  const SharedItem = Type.Object({ shareId: Type.String(), drive: Type.String(), item: Item, permission: Type.String(), ownerName: Type.String(), via: Type.String(), sharedAt: Type.Number() });
  app.get('/drive/shared-with-me', { schema: { tags, response: { 200: Type.Object({ items: Type.Array(SharedItem) }) } } }, async (req) => {
    requireUser(req.actor);
    const rows = await sharedWithMe({ platform, actor: req.actor, ip: req.ip });
    return { items: rows.map((r) => ({ shareId: r.shareId, drive: `share:${r.shareId}`, item: itemOf(r.node), permission: r.permission, ownerName: r.ownerName, via: r.via, sharedAt: r.sharedAt })) };
  });

  // People, groups and spaces one may share with (the share dialog's picker).
  const Target = Type.Object({ type: GranteeType, id: Type.String(), name: Type.String(), detail: Type.String() });
  app.get(
    '/drive/share-targets',
    { schema: { tags, querystring: Type.Object({ q: Type.String({ minLength: 1, maxLength: 100 }) }, strict), response: { 200: Type.Object({ items: Type.Array(Target) }) } } },
    async (req) => {
      const me = requireUser(req.actor);
      await platform.policy.authorize(req.actor, 'read-directory', { type: 'user', id: me.userId });
      const q = req.query.q.trim().toLowerCase();
      const like = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const people = (await users.list(platform.db, { q, limit: 10, activeOnly: true })).filter((u) => u.id !== me.userId);
      const groups = await platform.db.selectFrom('groups').select(['id', 'name', 'description']).where('name_key', 'like', like).orderBy('name_key').limit(10).execute();
      const spaces = await platform.db
        .selectFrom('spaces')
        .innerJoin('space_members', 'space_members.space_id', 'spaces.id')
        .select(['spaces.id', 'spaces.name', 'spaces.description'])
        .where('space_members.user_id', '=', me.userId)
        .where('spaces.archived', '=', 0)
        .orderBy('spaces.name')
        .limit(200)
        .execute();
      return {
        items: [
          ...people.map((u) => ({ type: 'user' as const, id: u.id, name: u.display_name, detail: u.email ?? u.login })),
          ...groups.map((g) => ({ type: 'group' as const, id: g.id, name: g.name, detail: g.description })),
          ...spaces.filter((s) => s.name.toLowerCase().includes(q)).slice(0, 10).map((s) => ({ type: 'space' as const, id: s.id, name: s.name, detail: s.description })),
        ],
      };
    },
  );

  const LinkBody = {
    password: Type.Optional(Type.Union([Password, Type.Null()])),
    expiresAt: Type.Optional(Expiry),
    maxDownloads: Type.Optional(MaxDownloads),
    label: Type.Optional(Type.String({ maxLength: 200 })),
  };
  app.post(
    '/drive/links',
    { schema: { tags, querystring: DriveQuery, body: Type.Object({ path: PathT, mode: Type.Union([Type.Literal('read'), Type.Literal('drop')]), ...LinkBody }, strict), response: { 201: Type.Object({ link: Link }) } } },
    async (req, reply) => {
      const { ctx, owner } = await scope(req);
      const { path, ...opts } = req.body;
      const row = await createLink(ctx, owner, parsePath(path), opts);
      return reply.status(201).send({ link: linkView(platform, row) });
    },
  );

  app.patch('/drive/links/:id', { schema: { tags, params: IdParams, querystring: DriveQuery, body: Type.Object(LinkBody, strict), response: { 200: Type.Object({ link: Link }) } } }, async (req) => {
    const { ctx, owner } = await scope(req);
    return { link: linkView(platform, await updateLink(ctx, owner, req.params.id, req.body)) };
  });

  app.delete('/drive/links/:id', { schema: { tags, params: IdParams, querystring: DriveQuery } }, async (req, reply) => {
    const { ctx, owner } = await scope(req);
    await revokeLink(ctx, owner, req.params.id);
    return reply.status(204).send();
  });

  // Versions.
  app.get('/drive/versions', { schema: { tags, querystring: PathQuery, response: { 200: Type.Object({ item: Item, versions: Type.Array(Version) }) } } }, async (req) => {
    const { ctx, owner } = await scope(req);
    const { node, versions } = await listVersions(ctx, owner, parsePath(req.query.path));
    const authors = new Map<string, string>();
    for (const v of versions) {
      if (v.author_id && !authors.has(v.author_id)) authors.set(v.author_id, (await users.byId(platform.db, v.author_id))?.display_name ?? '');
    }
    return {
      item: itemOf(node),
      versions: versions.map((v) => ({
        id: v.id,
        size: Number(v.size),
        contentType: v.content_type,
        createdAt: Number(v.created_at),
        replacedAt: Number(v.replaced_at),
        author: v.author_id ? { id: v.author_id, displayName: authors.get(v.author_id) ?? '' } : null,
      })),
    };
  });

  app.get('/drive/versions/:id/content', { schema: { tags, params: IdParams, querystring: PathQuery } }, async (req, reply) => {
    const { ctx, owner } = await scope(req);
    const { node, version } = await getVersion(ctx, owner, parsePath(req.query.path), req.params.id);
    return sendContent(req, reply, platform, { ...version, name: node.name, updated_at: version.created_at });
  });

  app.post('/drive/versions/:id/restore', { schema: { tags, params: IdParams, querystring: PathQuery, response: { 200: Type.Object({ item: Item }) } } }, async (req) => {
    const { ctx, owner } = await scope(req);
    const segments = parsePath(req.query.path);
    if (segments.length === 0 && !owner.share) throw new AppError('forbidden', { reason: 'root' });
    return { item: itemOf(await restoreVersion(ctx, owner, segments, req.params.id)) };
  });
}
