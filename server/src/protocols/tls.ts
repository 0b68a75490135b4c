import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { promisify } from 'node:util';

/**
 * TLS for the mail protocols (IMAP STARTTLS and implicit TLS, SMTP STARTTLS and submissions): the
 * configured certificate and key files when given (re-read when they change on disk, so a renewed
 * certificate is used without a restart), otherwise a self-signed certificate generated once in the
 * data folder, naming the configured host name and localhost.
 */

export interface TlsFiles {
  /** PEM certificate chain and private key paths; both or neither. */
  certFile?: string | undefined;
  keyFile?: string | undefined;
  /** Where a generated certificate is kept (the data folder). */
  dataDir: string;
  /** Host name the generated certificate names (besides localhost). */
  hostname: string;
}

export interface TlsProvider {
  /** The current secure context (checks the files for a change at most every few seconds). */
  context(): SecureContext;
  /** Key and certificate PEM, for libraries that want them (smtp-server). */
  pem(): { key: Buffer; cert: Buffer };
  /** True when the certificate was generated here (self-signed). */
  readonly selfSigned: boolean;
}

const run = promisify(execFile);
const CHECK_EVERY_MS = 5000;

async function generate(dir: string, hostname: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'selfsigned-cert.pem');
  const key = join(dir, 'selfsigned-key.pem');
  if (existsSync(cert) && existsSync(key)) return { cert, key };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const names = [...new Set([hostname, 'localhost'])].filter((h) => /^[A-Za-z0-9.-]+$/.test(h));
  const san = [...names.map((n) => `DNS:${n}`), 'IP:127.0.0.1', 'IP:::1'].join(',');
  const tmpKey = `${key}.tmp`;
  const tmpCert = `${cert}.tmp`;
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', tmpKey, '-out', tmpCert, '-days', '825', '-subj', `/CN=${names[0] ?? 'localhost'}`, '-addext', `subjectAltName=${san}`]);
  const { renameSync, chmodSync } = await import('node:fs');
  chmodSync(tmpKey, 0o600);
  renameSync(tmpKey, key);
  renameSync(tmpCert, cert);
  return { cert, key };
}

const providers = new Map<string, Promise<TlsProvider>>();

/** One provider per certificate source, shared by every protocol of the process. */
export function tlsProvider(files: TlsFiles): Promise<TlsProvider> {
  const id = files.certFile ? `${files.certFile}|${files.keyFile ?? ''}` : `${files.dataDir}|${files.hostname}`;
  let p = providers.get(id);
  if (!p) {
    p = createProvider(files);
    providers.set(id, p);
    p.catch(() => providers.delete(id));
  }
  return p;
}

async function createProvider(files: TlsFiles): Promise<TlsProvider> {
  if (Boolean(files.certFile) !== Boolean(files.keyFile)) throw new Error('TLS: set both the certificate and the key file, or neither');
  const selfSigned = !files.certFile;
  const paths = files.certFile && files.keyFile ? { cert: files.certFile, key: files.keyFile } : await generate(join(files.dataDir, 'tls'), files.hostname);
  let pem = { key: readFileSync(paths.key), cert: readFileSync(paths.cert) };
  let ctx = createSecureContext(pem);
  let stamp = `${statSync(paths.cert).mtimeMs}|${statSync(paths.key).mtimeMs}`;
  let checked = Date.now();
  const refresh = (): void => {
    if (Date.now() - checked < CHECK_EVERY_MS) return;
    checked = Date.now();
    try {
      const now = `${statSync(paths.cert).mtimeMs}|${statSync(paths.key).mtimeMs}`;
      if (now === stamp) return;
      const next = { key: readFileSync(paths.key), cert: readFileSync(paths.cert) };
      ctx = createSecureContext(next);
      pem = next;
      stamp = now;
    } catch {
      // A half-written renewal: keep the current context and look again later.
    }
  };
  return {
    selfSigned,
    context() {
      refresh();
      return ctx;
    },
    pem() {
      refresh();
      return pem;
    },
  };
}
