import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { AppError } from '../../errors.js';

/**
 * Outbound HTTP on behalf of users (link previews, outgoing webhooks): the server must not become a way
 * into the network it sits in (SSRF). Every request — and every redirect hop — resolves the host first
 * and refuses any address that is not public unicast (loopback, private, link-local, CGNAT, multicast,
 * reserved, IPv4-mapped forms of those…) unless an operator listed it in `allow` (CIDRs, e.g. an intranet
 * whose pages should get previews). The connection then goes to the address that was checked (no second
 * DNS answer can swap it: DNS rebinding), over http or https only, with a deadline and a size cap.
 */
export interface SafeFetchOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Bytes of response body read at most; beyond, the body is cut (`truncated`). */
  maxBytes?: number;
  timeoutMs?: number;
  maxRedirects?: number;
  /** CIDRs that may be reached even though they are not public. */
  allow?: readonly string[];
  /** For tests: resolve names with this instead of the system resolver. */
  resolve?: (host: string) => Promise<string[]>;
}

export interface SafeResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  truncated: boolean;
  /** The URL finally answered (after redirects). */
  url: string;
}

const DEFAULTS = { maxBytes: 1024 * 1024, timeoutMs: 5000, maxRedirects: 3 };

function parseCidrs(list: readonly string[]): Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> {
  const out: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> = [];
  for (const c of list) {
    try {
      if (c.includes('/')) out.push(ipaddr.parseCIDR(c));
      else {
        const a = ipaddr.parse(c);
        out.push([a, a.kind() === 'ipv4' ? 32 : 128]);
      }
    } catch {
      // an invalid entry allows nothing (the config schema reports it)
    }
  }
  return out;
}

/** Whether an address may be reached: public unicast, or inside an allowed range. */
export function addressAllowed(address: string, allow: readonly string[] = []): boolean {
  let a: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    a = ipaddr.parse(address);
  } catch {
    return false;
  }
  if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) a = (a as ipaddr.IPv6).toIPv4Address();
  for (const [range, bits] of parseCidrs(allow)) if (range.kind() === a.kind() && a.match(range, bits)) return true;
  return a.range() === 'unicast';
}

async function resolveChecked(host: string, opts: SafeFetchOptions): Promise<{ address: string; family: 4 | 6 }> {
  const literal = host.startsWith('[') ? host.slice(1, -1) : host;
  let addresses: string[];
  if (ipaddr.isValid(literal)) addresses = [literal];
  else if (opts.resolve) addresses = await opts.resolve(literal);
  else addresses = (await dnsLookup(literal, { all: true, verbatim: true })).map((r) => r.address);
  if (addresses.length === 0) throw new AppError('bad_request', { reason: 'unresolvable_host' });
  // Every answer must be allowed: otherwise a name with one public and one private address could be
  // steered to the private one.
  for (const a of addresses) if (!addressAllowed(a, opts.allow)) throw new AppError('forbidden', { reason: 'private_address' });
  const address = addresses[0]!;
  return { address, family: ipaddr.parse(address).kind() === 'ipv6' ? 6 : 4 };
}

function once(url: URL, opts: SafeFetchOptions, target: { address: string; family: 4 | 6 }, deadline: number): Promise<SafeResponse> {
  const maxBytes = opts.maxBytes ?? DEFAULTS.maxBytes;
  return new Promise((resolve, reject) => {
    const pinned: LookupFunction = (_host, options, cb) => {
      if ((options as { all?: boolean }).all) (cb as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [target]);
      else cb(null, target.address, target.family);
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body);
    const req = send(
      url,
      {
        method: opts.method ?? 'GET',
        lookup: pinned,
        headers: { 'user-agent': 'Bastide (link preview; +https://bastide.example/bot)', ...(opts.headers ?? {}), ...(body ? { 'content-length': String(body.length) } : {}) },
        timeout: Math.max(1, deadline - Date.now()),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let truncated = false;
        res.on('data', (c: Buffer) => {
          if (truncated) return;
          if (size + c.length > maxBytes) {
            chunks.push(c.subarray(0, maxBytes - size));
            size = maxBytes;
            truncated = true;
            res.destroy();
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), truncated, url: url.toString() });
            return;
          }
          size += c.length;
          chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), truncated, url: url.toString() }));
        res.on('error', (e) => (truncated ? undefined : reject(e)));
      },
    );
    const timer = setTimeout(() => req.destroy(new Error('outbound request timed out')), Math.max(1, deadline - Date.now()));
    req.on('timeout', () => req.destroy(new Error('outbound request timed out')));
    req.on('error', (e) => reject(e));
    req.on('close', () => clearTimeout(timer));
    req.end(body);
  });
}

export async function safeFetch(input: string, opts: SafeFetchOptions = {}): Promise<SafeResponse> {
  const deadline = Date.now() + (opts.timeoutMs ?? DEFAULTS.timeoutMs);
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new AppError('bad_request', { reason: 'invalid_url' });
  }
  for (let hop = 0; ; hop++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AppError('bad_request', { reason: 'unsupported_scheme' });
    if (url.username || url.password) throw new AppError('bad_request', { reason: 'credentials_in_url' });
    const target = await resolveChecked(url.hostname, opts);
    const res = await once(url, opts, target, deadline);
    const location = res.headers.location;
    if (res.status >= 300 && res.status < 400 && typeof location === 'string') {
      if (hop >= (opts.maxRedirects ?? DEFAULTS.maxRedirects)) throw new AppError('bad_request', { reason: 'too_many_redirects' });
      url = new URL(location, url);
      // A redirect turns a POST into a GET without body (what browsers do for 301/302/303).
      if (res.status !== 307 && res.status !== 308) opts = { ...opts, method: 'GET', body: undefined };
      continue;
    }
    return res;
  }
}
