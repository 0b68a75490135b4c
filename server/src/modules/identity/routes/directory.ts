import { Type } from '@sinclair/typebox';
import type { App, Platform } from '../../../platform/module.js';
import { requireUser } from '../../../platform/policy.js';
import { users } from '../repo.js';

export const DirectoryEntry = Type.Object({ id: Type.String(), login: Type.String(), displayName: Type.String(), email: Type.Union([Type.String(), Type.Null()]) });

export function directoryRoutes(app: App, platform: Platform): void {
  app.get(
    '/directory/users',
    {
      schema: {
        tags: ['directory'],
        querystring: Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(DirectoryEntry) }) },
      },
    },
    async (req) => {
      const me = requireUser(req.actor);
      await platform.policy.authorize(req.actor, 'read-directory', { type: 'user', id: me.userId });
      const rows = await users.list(platform.db, { q: req.query.q, limit: req.query.limit ?? 20, activeOnly: true });
      return { items: rows.map((u) => ({ id: u.id, login: u.login, displayName: u.display_name, email: u.email })) };
    },
  );
}
