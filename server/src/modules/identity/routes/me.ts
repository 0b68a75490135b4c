import { Type } from '@sinclair/typebox';
import type { App, Platform } from '../../../platform/module.js';
import { AppError } from '../../../errors.js';
import { requireUser } from '../../../platform/policy.js';
import { changePassword, updateProfile } from '../commands/users.js';
import { disableTotp, enableTotp, regenerateRecoveryCodes, startTotp } from '../commands/mfa.js';
import { createAppPassword, createToken, listAppPasswords, listTokens, revokeAppPassword, revokeToken } from '../commands/credentials.js';
import { endSession } from '../commands/sessions.js';
import { meView } from '../repo.js';
import {
  AppPasswordCreate,
  AppPasswordView,
  CodeOnly,
  IdParams,
  Me,
  PasswordChange,
  PasswordOnly,
  ProfilePatch,
  TokenCreate,
  TokenView,
} from '../schema.js';
import { cmdCtx } from './util.js';

const RecoveryCodes = Type.Object({ recoveryCodes: Type.Array(Type.String()) });

export function meRoutes(app: App, platform: Platform): void {
  const tags = ['me'];
  app.patch('/me', { schema: { tags, body: ProfilePatch, response: { 200: Type.Object({ user: Me }) } } }, async (req) => {
    const user = await updateProfile(cmdCtx(req, platform), req.body);
    return { user: await meView(platform.db, user) };
  });
  app.post('/me/password', { schema: { tags, body: PasswordChange } }, async (req, reply) => {
    await changePassword(cmdCtx(req, platform), req.body.currentPassword, req.body.newPassword);
    return reply.status(204).send();
  });
  app.post(
    '/me/totp/setup',
    { schema: { tags, response: { 200: Type.Object({ secret: Type.String(), otpauthUrl: Type.String(), qrSvg: Type.String() }) } } },
    async (req) => startTotp(cmdCtx(req, platform)),
  );
  app.post('/me/totp/enable', { schema: { tags, body: CodeOnly, response: { 200: RecoveryCodes } } }, async (req) =>
    enableTotp(cmdCtx(req, platform), req.body.code),
  );
  app.post('/me/totp/disable', { schema: { tags, body: PasswordOnly } }, async (req, reply) => {
    await disableTotp(cmdCtx(req, platform), req.body.password);
    return reply.status(204).send();
  });
  app.post('/me/recovery-codes', { schema: { tags, body: PasswordOnly, response: { 200: RecoveryCodes } } }, async (req) =>
    regenerateRecoveryCodes(cmdCtx(req, platform), req.body.password),
  );

  app.get('/me/app-passwords', { schema: { tags, response: { 200: Type.Object({ items: Type.Array(AppPasswordView) }) } } }, async (req) => {
    const me = requireUser(req.actor);
    await platform.policy.authorize(req.actor, 'manage-credentials', { type: 'user', id: me.userId });
    return { items: await listAppPasswords(platform, me.userId) };
  });
  app.post(
    '/me/app-passwords',
    { schema: { tags, body: AppPasswordCreate, response: { 201: Type.Object({ item: AppPasswordView, password: Type.String() }) } } },
    async (req, reply) => {
      const me = requireUser(req.actor);
      return reply.status(201).send(await createAppPassword(cmdCtx(req, platform), { userId: me.userId, ...req.body }));
    },
  );
  app.delete('/me/app-passwords/:id', { schema: { tags, params: IdParams } }, async (req, reply) => {
    requireUser(req.actor);
    await revokeAppPassword(cmdCtx(req, platform), req.params.id);
    return reply.status(204).send();
  });

  app.get('/me/tokens', { schema: { tags, response: { 200: Type.Object({ items: Type.Array(TokenView) }) } } }, async (req) => {
    const me = requireUser(req.actor);
    await platform.policy.authorize(req.actor, 'manage-credentials', { type: 'user', id: me.userId });
    return { items: await listTokens(platform, me.userId) };
  });
  app.post('/me/tokens', { schema: { tags, body: TokenCreate, response: { 201: Type.Object({ item: TokenView, token: Type.String() }) } } }, async (req, reply) =>
    reply.status(201).send(await createToken(cmdCtx(req, platform), req.body)),
  );
  app.delete('/me/tokens/:id', { schema: { tags, params: IdParams } }, async (req, reply) => {
    requireUser(req.actor);
    await revokeToken(cmdCtx(req, platform), req.params.id);
    return reply.status(204).send();
  });

  const SessionView = Type.Object({
    id: Type.String(),
    createdAt: Type.Number(),
    lastSeenAt: Type.Number(),
    userAgent: Type.Union([Type.String(), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    current: Type.Boolean(),
  });
  app.get('/me/sessions', { schema: { tags, response: { 200: Type.Object({ items: Type.Array(SessionView) }) } } }, async (req) => {
    const me = requireUser(req.actor);
    await platform.policy.authorize(req.actor, 'manage-credentials', { type: 'user', id: me.userId });
    const rows = await platform.db.selectFrom('sessions').selectAll().where('user_id', '=', me.userId).orderBy('last_seen_at', 'desc').execute();
    return {
      items: rows.map((r) => ({
        id: r.id,
        createdAt: Number(r.created_at),
        lastSeenAt: Number(r.last_seen_at),
        userAgent: r.user_agent,
        ip: r.ip,
        current: r.id === me.sessionId,
      })),
    };
  });
  app.delete('/me/sessions/:id', { schema: { tags, params: IdParams } }, async (req, reply) => {
    const me = requireUser(req.actor);
    await platform.policy.authorize(req.actor, 'manage-credentials', { type: 'user', id: me.userId });
    const s = await platform.db.selectFrom('sessions').select(['id']).where('id', '=', req.params.id).where('user_id', '=', me.userId).executeTakeFirst();
    if (!s) throw new AppError('not_found');
    await endSession(platform, s.id);
    return reply.status(204).send();
  });
}
