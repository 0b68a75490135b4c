import { Type } from '@sinclair/typebox';
import type { BastideModule, SearchHit } from '../../platform/module.js';
import { requireUser } from '../../platform/policy.js';

/**
 * Unified search: asks every module that contributes (`search` in the module contract) and merges the
 * answers. Each module filters by what the actor may see. For now: people (identity). Files, mail,
 * messages and events join as their modules land; the web app says so.
 */
export const searchModule: BastideModule = {
  name: 'search',
  routes(app, platform) {
    const Hit = Type.Object({ type: Type.String(), id: Type.String(), title: Type.String(), subtitle: Type.Optional(Type.String()), link: Type.String() });
    app.get(
      '/search',
      {
        schema: {
          tags: ['search'],
          querystring: Type.Object({ q: Type.String({ minLength: 1, maxLength: 200 }), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })) }, { additionalProperties: false }),
          response: { 200: Type.Object({ items: Type.Array(Hit), sources: Type.Array(Type.String()) }) },
        },
      },
      async (req) => {
        requireUser(req.actor);
        const limit = req.query.limit ?? 20;
        const q = req.query.q.trim();
        const sources = platform.modules.filter((m) => m.search);
        const results = await Promise.all(sources.map((m) => m.search!(platform, req.actor, q, limit)));
        const items: SearchHit[] = results.flat().slice(0, limit);
        return { items, sources: sources.map((m) => m.name) };
      },
    );
  },
};
