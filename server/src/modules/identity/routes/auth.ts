import { Type } from '@sinclair/typebox';
import type { App, Platform } from '../../../platform/module.js';
import { AppError } from '../../../errors.js';
import { requireUser } from '../../../platform/policy.js';
import { completeSetup, login, loginMfa, needsSetup } from '../commands/auth.js';
import { endSession } from '../commands/sessions.js';
import { meView, users } from '../repo.js';
import { LoginBody, LoginReply, Me, MfaBody, SetupBody } from '../schema.js';
import { clearSessionCookie, setSessionCookie } from './util.js';

export function authRoutes(app: App, platform: Platform): void {
  const tags = ['session'];
  app.get('/setup/status', { schema: { tags, response: { 200: Type.Object({ needsSetup: Type.Boolean() }) } } }, async () => ({
    needsSetup: await needsSetup(platform),
  }));

  app.post('/setup', { schema: { tags, body: SetupBody, response: { 201: Type.Object({ user: Me }) } } }, async (req, reply) => {
    const { user, session } = await completeSetup(platform, req.body, { ip: req.ip, userAgent: req.headers['user-agent'] });
    setSessionCookie(reply, platform, session);
    return reply.status(201).send({ user: await meView(platform.db, user) });
  });

  app.post('/auth/login', { schema: { tags, body: LoginBody, response: { 200: LoginReply } } }, async (req, reply) => {
    const out = await login(platform, req.body.login, req.body.password, { ip: req.ip, userAgent: req.headers['user-agent'] });
    if (out.status === 'mfa_required') return { status: 'mfa_required' as const, mfaToken: out.mfaToken };
    setSessionCookie(reply, platform, out.session);
    return { status: 'ok' as const, user: await meView(platform.db, out.user) };
  });

  app.post('/auth/login/mfa', { schema: { tags, body: MfaBody, response: { 200: LoginReply } } }, async (req, reply) => {
    const out = await loginMfa(platform, req.body.mfaToken, req.body.code, { ip: req.ip, userAgent: req.headers['user-agent'] });
    setSessionCookie(reply, platform, out.session);
    return { status: 'ok' as const, user: await meView(platform.db, out.user) };
  });

  app.post('/auth/logout', { schema: { tags } }, async (req, reply) => {
    if (req.actor.kind === 'user' && req.actor.sessionId) await endSession(platform, req.actor.sessionId);
    clearSessionCookie(reply, platform);
    return reply.status(204).send();
  });

  app.get(
    '/session',
    { schema: { tags, response: { 200: Type.Object({ user: Me, csrfToken: Type.Union([Type.String(), Type.Null()]) }) } } },
    async (req) => {
      const me = requireUser(req.actor);
      const user = await users.byId(platform.db, me.userId);
      if (!user) throw new AppError('unauthenticated');
      return { user: await meView(platform.db, user), csrfToken: req.csrfToken ?? null };
    },
  );
}
