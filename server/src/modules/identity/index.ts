import type { BastideModule, Platform } from '../../platform/module.js';
import { identityMigrations } from './migrations.js';
import { auditRule, groupRule, userRule } from './policy.js';
import { authRoutes } from './routes/auth.js';
import { meRoutes } from './routes/me.js';
import { adminRoutes } from './routes/admin.js';
import { directoryRoutes } from './routes/directory.js';
import { authenticateRequest } from './commands/sessions.js';
import { issueSetupToken } from './commands/auth.js';
import { users } from './repo.js';

const CLEANUP_JOB = 'identity.cleanup';
const CLEANUP_EVERY_MS = 3600_000;

async function cleanup(platform: Platform): Promise<void> {
  const now = platform.clock.now();
  await platform.db.deleteFrom('sessions').where('expires_at', '<', now).execute();
  await platform.db.deleteFrom('mfa_challenges').where('expires_at', '<', now).execute();
  await platform.db
    .deleteFrom('login_throttle')
    .where((eb) => eb.and([eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]), eb('window_start', '<', now - 86400_000)]))
    .execute();
}

/** Identity: users, groups, sessions, MFA, app passwords, API tokens, the directory and first-run setup. */
export const identityModule: BastideModule = {
  name: 'identity',
  migrations: identityMigrations,
  policies: { user: userRule, group: groupRule, audit: auditRule },
  authenticate: authenticateRequest,
  routes(app, platform) {
    authRoutes(app, platform);
    meRoutes(app, platform);
    adminRoutes(app, platform);
    directoryRoutes(app, platform);
  },
  jobs: {
    [CLEANUP_JOB]: {
      handler: (platform) => async () => {
        await cleanup(platform);
        await platform.jobs.enqueue(CLEANUP_JOB, {}, { runAt: platform.clock.now() + CLEANUP_EVERY_MS });
      },
      options: { maxAttempts: 3 },
    },
  },
  async search(platform, actor, query, limit) {
    if (actor.kind !== 'user' || !(await platform.policy.can(actor, 'read-directory', { type: 'user', id: actor.userId }))) return [];
    const rows = await users.list(platform.db, { q: query, limit, activeOnly: true });
    return rows.map((u) => ({ type: 'person', id: u.id, title: u.display_name, subtitle: u.email ?? u.login, link: `/people/${u.id}` }));
  },
  portability: {
    async export(platform, userId) {
      const u = await users.byId(platform.db, userId);
      if (!u) return [];
      const profile = {
        format: 'bastide.identity.profile/1',
        login: u.login,
        displayName: u.display_name,
        email: u.email,
        language: u.language,
        theme: u.theme,
        createdAt: new Date(Number(u.created_at)).toISOString(),
        groups: (await users.groupsOf(platform.db, userId)).map((g) => g.name),
      };
      return [{ path: 'identity/profile.json', content: JSON.stringify(profile, null, 2) }];
    },
    async import(platform, userId, files) {
      const f = files.find((x) => x.path === 'identity/profile.json');
      if (!f) return { imported: 0 };
      const p = JSON.parse(f.content.toString()) as { displayName?: unknown; language?: unknown; theme?: unknown };
      const set: { display_name?: string; language?: string | null; theme?: string; updated_at: number } = { updated_at: platform.clock.now() };
      if (typeof p.displayName === 'string' && p.displayName.trim()) set.display_name = p.displayName.trim().slice(0, 200);
      if (p.language === 'fr' || p.language === 'en' || p.language === null) set.language = p.language;
      if (p.theme === 'light' || p.theme === 'dark' || p.theme === 'system') set.theme = p.theme;
      await platform.db.updateTable('users').set(set).where('id', '=', userId).execute();
      return { imported: 1 };
    },
  },
  async usage(platform) {
    const count = async (q: Promise<{ n: number | string | bigint }>): Promise<number> => Number((await q).n);
    const now = platform.clock.now();
    return {
      users: await users.count(platform.db),
      users_disabled: await count(platform.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('disabled', '=', 1).executeTakeFirstOrThrow()),
      users_active_30d: await count(
        platform.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('last_login_at', '>', now - 30 * 86400_000).executeTakeFirstOrThrow(),
      ),
      users_with_totp: await count(platform.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('totp_secret', 'is not', null).executeTakeFirstOrThrow()),
      groups: await count(platform.db.selectFrom('groups').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()),
      sessions: await count(platform.db.selectFrom('sessions').select((eb) => eb.fn.countAll<number>().as('n')).where('expires_at', '>', now).executeTakeFirstOrThrow()),
    };
  },
  auditActions: [
    'identity.setup.completed',
    'identity.login.succeeded',
    'identity.login.failed',
    'identity.login.locked',
    'identity.login.mfa_failed',
    'identity.user.created',
    'identity.user.updated',
    'identity.user.disabled',
    'identity.user.enabled',
    'identity.user.deleted',
    'identity.user.password_reset',
    'identity.profile.updated',
    'identity.password.changed',
    'identity.totp.enabled',
    'identity.totp.disabled',
    'identity.recovery_codes.regenerated',
    'identity.app_password.created',
    'identity.app_password.revoked',
    'identity.token.created',
    'identity.token.revoked',
    'identity.group.created',
    'identity.group.updated',
    'identity.group.deleted',
    'identity.group.member_added',
    'identity.group.member_removed',
  ],
  async init(platform) {
    const token = await issueSetupToken(platform);
    if (token) {
      const link = `${platform.config.baseUrl}/setup?token=${token}`;
      platform.log.info({ setupLink: link }, 'no account exists yet: open the setup link to create the administrator');
      // Also on the console in plain words, whatever the log level: this is how the first person gets in.
      if (platform.config.logLevel !== 'silent') process.stdout.write(`\n  Bastide has no account yet. Create the administrator here (one-time link):\n  ${link}\n\n`);
    }
    const pending = await platform.db.selectFrom('jobs').select('id').where('name', '=', CLEANUP_JOB).where('status', 'in', ['queued', 'running']).executeTakeFirst();
    if (!pending) await platform.jobs.enqueue(CLEANUP_JOB, {}, { runAt: platform.clock.now() + 60_000 });
  },
};

