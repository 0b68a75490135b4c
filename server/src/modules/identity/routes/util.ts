import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Platform } from '../../../platform/module.js';
import type { CommandContext } from '../commands/context.js';
import { SESSION_COOKIE, type NewSession } from '../commands/sessions.js';

export function cmdCtx(req: FastifyRequest, platform: Platform): CommandContext {
  return { platform, actor: req.actor, ip: req.ip, userAgent: req.headers['user-agent'] };
}

export function setSessionCookie(reply: FastifyReply, platform: Platform, session: NewSession): void {
  void reply.setCookie(SESSION_COOKIE, session.token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: platform.config.baseUrl.startsWith('https://'),
    path: '/',
    maxAge: platform.config.sessionIdleHours * 3600,
  });
}

export function clearSessionCookie(reply: FastifyReply, platform: Platform): void {
  void reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: platform.config.baseUrl.startsWith('https://') });
}
