import type { Config } from '../../config.js';
import type { Db } from '../../platform/db/index.js';
import type { Platform } from '../../platform/module.js';
import { addDomain, dnsRecords, getDomain, listDomains, normalizeDomain, removeDomain, zoneLines } from './domains.js';

/**
 * `bastide domain add <domain>` (creates the DKIM keys, prints the DNS records), `bastide domain list`,
 * `bastide domain dns <domain>`, `bastide domain remove <domain>`; and the mail part of `bastide doctor`.
 */
export const DOMAIN_HELP = `  domain add <domain>                     add a mail domain (DKIM keys generated) and print its DNS records
  domain list | domain dns <domain> | domain remove <domain>`;

export async function domainCommand(platform: Platform, sub: string | undefined, args: string[], out: (line: string) => void): Promise<number | null> {
  const ctx = { platform, actor: { kind: 'system' as const } };
  switch (sub) {
    case 'add': {
      if (!args[0]) return null;
      const d = await addDomain(ctx, args[0]);
      out(`mail domain ${d.name} added${d.isDefault ? ' (default: users get <login>@' + d.name + ')' : ''}`);
      out('');
      await printDns(platform.db, platform.config, d.name, out);
      return 0;
    }
    case 'list': {
      const list = await listDomains(platform);
      if (list.length === 0) out('no mail domain yet: bastide domain add <domain>');
      for (const d of list) out(`${d.name}${d.isDefault ? '  (default)' : ''}  dkim selector ${d.dkimSelector}`);
      return 0;
    }
    case 'dns': {
      if (!args[0]) return null;
      return (await printDns(platform.db, platform.config, normalizeDomain(args[0]), out)) ? 0 : 1;
    }
    case 'remove': {
      if (!args[0]) return null;
      const row = await getDomain(platform.db, normalizeDomain(args[0]));
      if (!row) {
        out(`no mail domain ${args[0]}`);
        return 1;
      }
      await removeDomain(ctx, row.id);
      out(`mail domain ${row.name} removed`);
      return 0;
    }
    default:
      return null;
  }
}

async function printDns(db: Db, config: Config, name: string, out: (line: string) => void): Promise<boolean> {
  const row = await getDomain(db, name);
  if (!row) {
    out(`no mail domain ${name}`);
    return false;
  }
  out(`DNS records for ${row.name} (mail host ${config.mailHostname}):`);
  for (const line of zoneLines(dnsRecords(row, config.mailHostname))) out(`  ${line}`);
  return true;
}

/** The mail lines of `bastide doctor`: the domains and the DNS records each needs. */
export async function mailDoctor(db: Db, config: Config, out: (line: string) => void): Promise<void> {
  const rows = await db.selectFrom('mail_domains').select('name').orderBy('created_at').execute();
  const ports = [
    ['SMTP', config.smtpPort],
    ['submission', config.submissionPort],
    ['submissions', config.submissionsPort],
  ]
    .map(([n, p]) => `${String(n)} ${String(p)}`)
    .join(', ');
  out(`  mail: host ${config.mailHostname}; ports ${ports}${config.smtpRelay ? '; outbound through a relay' : ''}`);
  if (rows.length === 0) out('  mail: no domain yet (bastide domain add <domain>)');
  for (const r of rows) await printDns(db, config, r.name, (l) => out(`  ${l}`));
}
