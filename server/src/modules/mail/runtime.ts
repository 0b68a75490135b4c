import { promises as dns } from 'node:dns';
import type { Platform } from '../../platform/module.js';

/**
 * Per-process mail runtime: the DNS resolver (SPF/DKIM/DMARC checks, MX lookups) and the outbound
 * port, injectable so tests run with no network (a resolver that knows nothing, or one that points a
 * domain's MX at a loopback SMTP server), and the ports the listeners actually bound (port 0 in tests).
 */

/** Same contract as `dns.promises.resolve(name, rrtype)` (what mailauth expects). */
export type DnsResolver = (name: string, rrtype: string) => Promise<unknown>;

export interface MailRuntime {
  resolver: DnsResolver;
  /** TCP port of remote MX hosts (25; tests point it at their loopback server). */
  outboundPort: number;
  /** Host names that resolve to these addresses without DNS (tests: "mx.test" → 127.0.0.1). */
  hosts: Map<string, string>;
  /** Ports bound by the listeners of this process. */
  listening: { smtp?: number; submission?: number; submissions?: number };
}

const systemResolver = new dns.Resolver({ timeout: 5000, tries: 2 });
export const defaultResolver: DnsResolver = (name, rrtype) => systemResolver.resolve(name, rrtype);

/** A resolver that knows no name (no network): every lookup fails with ENOTFOUND. */
export const nullResolver: DnsResolver = (name) => Promise.reject(Object.assign(new Error(`queryA ENOTFOUND ${name}`), { code: 'ENOTFOUND' }));

const runtimes = new WeakMap<Platform, MailRuntime>();

export function mailRuntime(platform: Platform): MailRuntime {
  let r = runtimes.get(platform);
  if (!r) {
    r = { resolver: defaultResolver, outboundPort: 25, hosts: new Map(), listening: {} };
    runtimes.set(platform, r);
  }
  return r;
}
