import { Type } from '@sinclair/typebox';
import type { App, Platform } from '../../../platform/module.js';
import { AppError } from '../../../errors.js';
import { createUser, deleteUser, resetPassword, updateUser } from '../commands/users.js';
import { createGroup, deleteGroup, getGroup, listGroupMembers, listGroups, setGroupMember, updateGroup } from '../commands/groups.js';
import { toAdminView, users } from '../repo.js';
import {
  AdminUser,
  AuditQuery,
  GroupCreate,
  GroupPatch,
  GroupView,
  IdParams,
  ListQuery,
  MemberParams,
  ResetBody,
  UserCreate,
  UserPatch,
} from '../schema.js';
import { cmdCtx } from './util.js';

export function adminRoutes(app: App, platform: Platform): void {
  const tags = ['admin'];
  app.get(
    '/admin/users',
    { schema: { tags, querystring: ListQuery, response: { 200: Type.Object({ items: Type.Array(AdminUser), nextCursor: Type.Union([Type.String(), Type.Null()]) }) } } },
    async (req) => {
      await platform.policy.authorize(req.actor, 'list', { type: 'user' });
      const limit = req.query.limit ?? 50;
      const rows = await users.list(platform.db, { q: req.query.q, after: req.query.cursor, limit: limit + 1 });
      const page = rows.slice(0, limit);
      return { items: page.map(toAdminView), nextCursor: rows.length > limit ? page[page.length - 1]!.login : null };
    },
  );
  app.post(
    '/admin/users',
    { schema: { tags, body: UserCreate, response: { 201: Type.Object({ user: AdminUser, temporaryPassword: Type.Optional(Type.String()) }) } } },
    async (req, reply) => {
      const out = await createUser(cmdCtx(req, platform), req.body);
      return reply.status(201).send({ user: toAdminView(out.user), ...(out.temporaryPassword ? { temporaryPassword: out.temporaryPassword } : {}) });
    },
  );
  app.get(
    '/admin/users/:id',
    { schema: { tags, params: IdParams, response: { 200: Type.Object({ user: AdminUser, groups: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })) }) } } },
    async (req) => {
      await platform.policy.authorize(req.actor, 'administer', { type: 'user', id: req.params.id });
      const u = await users.byId(platform.db, req.params.id);
      if (!u) throw new AppError('not_found');
      return { user: toAdminView(u), groups: await users.groupsOf(platform.db, u.id) };
    },
  );
  app.patch('/admin/users/:id', { schema: { tags, params: IdParams, body: UserPatch, response: { 200: Type.Object({ user: AdminUser }) } } }, async (req) => ({
    user: toAdminView(await updateUser(cmdCtx(req, platform), req.params.id, req.body)),
  }));
  app.delete('/admin/users/:id', { schema: { tags, params: IdParams } }, async (req, reply) => {
    await deleteUser(cmdCtx(req, platform), req.params.id);
    return reply.status(204).send();
  });
  app.post(
    '/admin/users/:id/reset-password',
    { schema: { tags, params: IdParams, body: ResetBody, response: { 200: Type.Object({ temporaryPassword: Type.Optional(Type.String()) }) } } },
    async (req) => resetPassword(cmdCtx(req, platform), req.params.id, req.body.password),
  );

  app.get(
    '/admin/groups',
    { schema: { tags, querystring: Type.Object({ q: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false }), response: { 200: Type.Object({ items: Type.Array(GroupView) }) } } },
    async (req) => ({ items: await listGroups(cmdCtx(req, platform), req.query.q) }),
  );
  app.post('/admin/groups', { schema: { tags, body: GroupCreate, response: { 201: Type.Object({ group: GroupView }) } } }, async (req, reply) =>
    reply.status(201).send({ group: await createGroup(cmdCtx(req, platform), req.body) }),
  );
  app.get('/admin/groups/:id', { schema: { tags, params: IdParams, response: { 200: Type.Object({ group: GroupView }) } } }, async (req) => ({
    group: await getGroup(cmdCtx(req, platform), req.params.id),
  }));
  app.patch('/admin/groups/:id', { schema: { tags, params: IdParams, body: GroupPatch, response: { 200: Type.Object({ group: GroupView }) } } }, async (req) => ({
    group: await updateGroup(cmdCtx(req, platform), req.params.id, req.body),
  }));
  app.delete('/admin/groups/:id', { schema: { tags, params: IdParams } }, async (req, reply) => {
    await deleteGroup(cmdCtx(req, platform), req.params.id);
    return reply.status(204).send();
  });
  const Member = Type.Object({ id: Type.String(), login: Type.String(), displayName: Type.String() });
  app.get('/admin/groups/:id/members', { schema: { tags, params: IdParams, response: { 200: Type.Object({ items: Type.Array(Member) }) } } }, async (req) => ({
    items: await listGroupMembers(cmdCtx(req, platform), req.params.id),
  }));
  app.put('/admin/groups/:id/members/:userId', { schema: { tags, params: MemberParams } }, async (req, reply) => {
    await setGroupMember(cmdCtx(req, platform), req.params.id, req.params.userId, true);
    return reply.status(204).send();
  });
  app.delete('/admin/groups/:id/members/:userId', { schema: { tags, params: MemberParams } }, async (req, reply) => {
    await setGroupMember(cmdCtx(req, platform), req.params.id, req.params.userId, false);
    return reply.status(204).send();
  });

  const AuditItem = Type.Object({
    seq: Type.Number(),
    at: Type.Number(),
    actorId: Type.Union([Type.String(), Type.Null()]),
    actorLogin: Type.Union([Type.String(), Type.Null()]),
    action: Type.String(),
    targetType: Type.Union([Type.String(), Type.Null()]),
    targetId: Type.Union([Type.String(), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    details: Type.Record(Type.String(), Type.Unknown()),
  });
  app.get(
    '/admin/audit',
    { schema: { tags, querystring: AuditQuery, response: { 200: Type.Object({ items: Type.Array(AuditItem), nextCursor: Type.Union([Type.String(), Type.Null()]) }) } } },
    async (req) => {
      await platform.policy.authorize(req.actor, 'read', { type: 'audit' });
      const limit = req.query.limit ?? 50;
      const items = await platform.audit.list({ beforeSeq: req.query.cursor ? Number(req.query.cursor) : undefined, limit: limit + 1, action: req.query.action });
      const page = items.slice(0, limit);
      return { items: page, nextCursor: items.length > limit ? String(page[page.length - 1]!.seq) : null };
    },
  );
  app.get(
    '/admin/audit/verify',
    { schema: { tags, response: { 200: Type.Object({ ok: Type.Boolean(), count: Type.Integer(), brokenAt: Type.Union([Type.Number(), Type.Null()]) }) } } },
    async (req) => {
      await platform.policy.authorize(req.actor, 'verify', { type: 'audit' });
      return platform.audit.verify();
    },
  );
}
