import type { BastideModule } from '../../platform/module.js';
import { startSmtp } from '../../protocols/smtp/index.js';
import { OUTBOUND_JOB, OUTBOUND_JOB_OPTIONS, outboundHandler } from './outbound.js';
import { mailAdminRule, mailboxRule } from './policy.js';
import { mailRoutes } from './routes.js';
import { mailMigrations } from './schema.js';
import { mailStore } from './store.js';

/**
 * Mail: domains and addresses (domains.ts), the message store (store.ts, shared with IMAP and the
 * webmail), inbound SMTP and submission (protocols/smtp), local delivery and submission commands
 * (delivery.ts) and the outbound queue (outbound.ts, job `mail.outbound`).
 */
export const mailModule: BastideModule = {
  name: 'mail',
  migrations: mailMigrations,
  policies: { mailbox: mailboxRule, mail_admin: mailAdminRule },
  routes: (app, platform) => mailRoutes(app, platform),
  protocols: [{ name: 'smtp', role: 'api', start: startSmtp }],
  jobs: { [OUTBOUND_JOB]: { handler: outboundHandler, options: OUTBOUND_JOB_OPTIONS } },
  usage: (platform) => mailStore.usage(platform),
  auditActions: ['mail.domain.added', 'mail.domain.removed', 'mail.address.added', 'mail.address.removed'],
};
