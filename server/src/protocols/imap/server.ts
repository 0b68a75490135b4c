import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, TLSSocket } from 'node:tls';
import { constants as zlibConstants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib';
import type { Platform, ProtocolServer } from '../../platform/module.js';
import { tlsProvider, type TlsProvider } from '../tls.js';
import type { MailPort } from './port.js';
import { DEFAULT_LIMITS, ImapSession, type SessionIo, type SessionLimits } from './session.js';
import { storePort } from './store-adapter.js';

/**
 * The IMAP listeners: BASTIDE_IMAP_PORT (clear, STARTTLS offered) and BASTIDE_IMAPS_PORT (implicit TLS),
 * each `off`-able. One ImapSession per connection; bounded connections per client address.
 */

export interface ImapListening {
  imap?: number;
  imaps?: number;
  sessions: Set<ImapSession>;
}

const listening = new WeakMap<Platform, ImapListening>();

/** The ports this process's IMAP listeners bound (tests use port 0). */
export function imapListening(platform: Platform): ImapListening | undefined {
  return listening.get(platform);
}

/** Connections per client address (loopback exempt: a local proxy or webmail). */
const MAX_PER_ADDRESS = 200;

export interface ImapServerOptions {
  port: number | 'off';
  tlsPort: number | 'off';
  host: string;
  tls: TlsProvider | null;
  limits: SessionLimits;
  mail: MailPort;
}

export async function startImapServer(platform: Platform, opts: ImapServerOptions): Promise<ProtocolServer & ImapListening> {
  const log = platform.log.child({ protocol: 'imap' });
  const sessions = new Set<ImapSession>();
  const perAddress = new Map<string, number>();
  const servers: Server[] = [];

  const accept = (socket: Socket | TLSSocket, secure: boolean): void => {
    const address = socket.remoteAddress ?? '';
    const n = (perAddress.get(address) ?? 0) + 1;
    if (n > MAX_PER_ADDRESS && !/^(127\.|::1$|::ffff:127\.)/.test(address)) {
      socket.end('* BYE Too many connections from your address\r\n');
      return;
    }
    perAddress.set(address, n);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60000);
    let current: Socket | TLSSocket = socket;
    let inflate: InflateRaw | null = null;
    let deflate: DeflateRaw | null = null;
    const onData = (chunk: Buffer): void => {
      if (inflate) inflate.write(chunk);
      else session.push(chunk);
    };
    const io: SessionIo = {
      remoteAddress: address,
      secure,
      tlsAvailable: opts.tls !== null,
      get compressed() {
        return deflate !== null;
      },
      write: (data) => {
        if (!current.writable) return true;
        if (!deflate) return current.write(data);
        deflate.write(data);
        deflate.flush(zlibConstants.Z_SYNC_FLUSH);
        return current.writableLength < 1024 * 1024;
      },
      startCompress: () => {
        inflate = createInflateRaw();
        deflate = createDeflateRaw({ level: 6 });
        inflate.on('data', (d: Buffer) => session.push(d));
        inflate.on('error', () => session.end());
        deflate.on('data', (d: Buffer) => {
          if (current.writable) current.write(d);
        });
      },
      drain: () =>
        new Promise<void>((resolve) => {
          if (!current.writable || current.writableLength === 0) return resolve();
          const done = (): void => {
            current.off('drain', done);
            current.off('close', done);
            resolve();
          };
          current.once('drain', done);
          current.once('close', done);
        }),
      startTls: () =>
        new Promise<void>((resolve, reject) => {
          if (!opts.tls) return reject(new Error('no TLS'));
          current.off('data', onData);
          const t = new TLSSocket(current as Socket, { isServer: true, secureContext: opts.tls.context() });
          t.once('secure', () => {
            io.secure = true;
            resolve();
          });
          t.on('data', onData);
          t.on('error', (err) => {
            log.debug({ err }, 'imap: TLS error');
            reject(err);
            t.destroy();
          });
          current = t;
        }),
      pause: () => current.pause(),
      resume: () => current.resume(),
      close: () => {
        inflate?.destroy();
        if (deflate && !current.destroyed) {
          // The last compressed bytes (BYE) go out before the socket ends.
          deflate.once('end', () => current.end());
          deflate.end();
        } else if (!current.destroyed) current.end();
        setTimeout(() => current.destroy(), 2000).unref();
      },
    };
    const session = new ImapSession(opts.mail, io, opts.limits, log);
    sessions.add(session);
    const gone = (): void => {
      if (!sessions.delete(session)) return;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
      session.end();
    };
    socket.on('data', onData);
    socket.on('error', (err) => log.debug({ err }, 'imap: socket error'));
    socket.on('close', gone);
    session.greet();
  };

  const listen = (server: Server, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, opts.host, () => {
        server.off('error', reject);
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    });

  const state: ImapListening = { sessions };
  if (opts.port !== 'off') {
    const server = createServer((s) => accept(s, false));
    state.imap = await listen(server, opts.port);
    servers.push(server);
  }
  if (opts.tlsPort !== 'off' && opts.tls) {
    const provider = opts.tls;
    const server = createTlsServer({ SNICallback: (_name, cb) => cb(null, provider.context()), ...provider.pem() }, (s) => accept(s, true));
    server.on('tlsClientError', (err) => log.debug({ err }, 'imap: TLS handshake failed'));
    state.imaps = await listen(server, opts.tlsPort);
    servers.push(server);
  }
  listening.set(platform, state);
  log.info({ imap: state.imap, imaps: state.imaps }, 'IMAP listening');

  return {
    ...state,
    async stop() {
      for (const server of servers) server.close();
      for (const s of sessions) {
        s.io.write(Buffer.from('* BYE Server shutting down\r\n'));
        s.end();
      }
      sessions.clear();
      listening.delete(platform);
    },
  };
}

/** Starts IMAP as configured (the platform's protocol entry). */
export async function startImap(platform: Platform): Promise<ProtocolServer> {
  const c = platform.config;
  if (c.imapPort === 'off' && c.imapsPort === 'off') return { stop: async () => undefined };
  let tls: TlsProvider | null = null;
  try {
    tls = await tlsProvider({ certFile: c.mailTlsCert, keyFile: c.mailTlsKey, dataDir: c.dataDir, hostname: c.mailHostname });
  } catch (err) {
    platform.log.warn({ err }, 'IMAP: no TLS certificate (STARTTLS and the implicit TLS port are off)');
  }
  const limits: SessionLimits = { ...DEFAULT_LIMITS, maxMessage: c.mailMaxMessageBytes };
  return startImapServer(platform, { port: c.imapPort, tlsPort: c.imapsPort, host: c.host, tls, limits, mail: storePort(platform) });
}
