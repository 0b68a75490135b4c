import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { authenticate as mailAuthenticate } from 'mailauth';
import { isAppError } from '../../errors.js';
import type { Platform, ProtocolServer } from '../../platform/module.js';
import { verifyAppPassword } from '../../modules/identity/commands/credentials.js';
import { assertNotLocked, clearFailures, recordFailure, throttleKeys } from '../../modules/identity/commands/throttle.js';
import { normalizeAddress, resolveRecipient, userAddresses } from '../../modules/mail/domains.js';
import { deliverLocal, submitMessage } from '../../modules/mail/delivery.js';
import { mailRuntime } from '../../modules/mail/runtime.js';
import { mailStore } from '../../modules/mail/store.js';
import { RateLimiter, readData, receivedHeader, smtpError, stripForgedResults, toSmtpError } from './common.js';
import { tlsProvider, type TlsProvider } from '../tls.js';

/**
 * The SMTP listeners (smtp-server):
 * - inbound (BASTIDE_SMTP_PORT, 25 in production): mail for local addresses only (no relay); STARTTLS
 *   offered; recipients checked at RCPT (unknown → 550 5.1.1); SPF/DKIM/DMARC/ARC verified with mailauth
 *   and recorded as Authentication-Results; per-IP message rate limit; 250 only once the message is in
 *   the store (blob fsynced, transaction committed).
 * - submission (BASTIDE_SUBMISSION_PORT, 587, STARTTLS required before AUTH) and submissions
 *   (BASTIDE_SUBMISSIONS_PORT, 465, implicit TLS): AUTH PLAIN/LOGIN with an app password carrying the
 *   'mail' scope; the sender must be one of the user's addresses; see modules/mail/delivery.ts.
 * Overlong command lines, bad syntax and unknown commands are answered by smtp-server (500/501/502).
 */

interface Listener {
  server: SMTPServer;
  port: number;
}

const MAX_RECIPIENTS = 100;

function baseOptions(platform: Platform, tls: TlsProvider): SMTPServerOptions {
  const pem = tls.pem();
  return {
    name: platform.config.mailHostname,
    banner: 'Bastide ESMTP',
    size: platform.config.mailMaxMessageBytes,
    key: pem.key,
    cert: pem.cert,
    hideENHANCEDSTATUSCODES: false,
    hideDSN: true,
    hideREQUIRETLS: true,
    disableReverseLookup: true,
    logger: false,
    maxClients: 1000,
    socketTimeout: 5 * 60_000,
    closeTimeout: 5_000,
    maxRecipients: MAX_RECIPIENTS,
    maxCommandLength: 2048,
    maxAllowedUnauthenticatedCommands: 20,
  };
}

function listen(server: SMTPServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.on('error', () => undefined); // per-connection errors are answered on the connection
    const onError = (err: Error): void => reject(err);
    server.server.once('error', onError);
    server.listen(port, host, () => {
      server.server.off('error', onError);
      const addr = server.server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

function closeServer(server: SMTPServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

const envelopeFrom = (session: SMTPServerSession): string => (session.envelope.mailFrom ? session.envelope.mailFrom.address : '');

// --------------------------------------------------------------------------------------------- inbound

function inboundServer(platform: Platform, tls: TlsProvider): SMTPServer {
  const limiter = new RateLimiter(platform.config.smtpRateLimitPerMinute, 60_000, () => platform.clock.now());
  const rt = mailRuntime(platform);
  const host = platform.config.mailHostname;
  return new SMTPServer({
    ...baseOptions(platform, tls),
    disabledCommands: ['AUTH'],
    authOptional: true,
    onMailFrom(address, session, cb) {
      if (!limiter.take(session.remoteAddress)) return cb(smtpError(421, 'Too many messages from your address; try again later'));
      if (address.address) {
        try {
          normalizeAddress(address.address);
        } catch {
          return cb(smtpError(553, 'Sender address syntax is not valid'));
        }
      }
      cb();
    },
    onRcptTo(address, _session, cb) {
      resolveRecipient(platform.db, address.address).then(
        async (r) => {
          if (!r.local) return cb(smtpError(550, 'Relay access denied: this server only accepts mail for its own domains'));
          if (!r.owners) return cb(smtpError(550, `No mailbox here by the name <${r.address}>`));
          for (const o of r.owners) {
            const q = await mailStore.quota({ platform, actor: { kind: 'system' } }, o);
            if (q.limitBytes > 0 && q.usedBytes >= q.limitBytes) return cb(smtpError(452, 'Mailbox full, try again later'));
          }
          cb();
        },
        (e: unknown) => cb(toSmtpError(e)),
      );
    },
    onData(stream, session, cb) {
      (async () => {
        const data = await readData(stream, platform.config.mailMaxMessageBytes);
        if (!data) throw smtpError(552, 'Message exceeds the fixed maximum message size');
        const body = stripForgedResults(data, host);
        const rcpts = session.envelope.rcptTo.map((r) => r.address);
        const owners = [];
        for (const a of rcpts) {
          const r = await resolveRecipient(platform.db, a);
          if (r.owners) owners.push(...r.owners);
        }
        // Every recipient went away between RCPT and the end of DATA (account disabled, address removed).
        if (owners.length === 0) throw smtpError(550, 'No mailbox here for these recipients any more');
        let authHeaders = '';
        try {
          const res = await mailAuthenticate(body, {
            ip: session.remoteAddress,
            helo: session.hostNameAppearsAs,
            sender: envelopeFrom(session),
            mta: host,
            resolver: rt.resolver as never,
            disableBimi: true,
          });
          authHeaders = res.headers;
        } catch (err) {
          platform.log.warn({ err }, 'smtp: message authentication failed');
          authHeaders = `Authentication-Results: ${host}; none\r\n`;
        }
        const now = platform.clock.now();
        const prefix = `Return-Path: <${envelopeFrom(session).replace(/[\r\n<>]/g, '')}>\r\n${authHeaders}${receivedHeader(session, host, rcpts.length === 1 ? rcpts[0]! : null, now)}`;
        const raw = Buffer.concat([Buffer.from(prefix), body]);
        await deliverLocal(platform, owners, raw);
        return `OK: message stored (${session.id})`;
      })().then(
        (msg) => cb(null, msg),
        (e: unknown) => cb(e instanceof Error && 'responseCode' in e ? (e as Error) : toSmtpError(e)),
      );
    },
  });
}

// ------------------------------------------------------------------------------------------ submission

function submissionServer(platform: Platform, tls: TlsProvider, secure: boolean): SMTPServer {
  const host = platform.config.mailHostname;
  return new SMTPServer({
    ...baseOptions(platform, tls),
    secure,
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: false,
    allowInsecureAuth: false,
    onAuth(auth, session, cb) {
      (async () => {
        const login = (auth.username ?? '').trim();
        const password = auth.password ?? '';
        if (!login || !password || login.length > 320) throw smtpError(535, 'Authentication credentials invalid');
        const keys = throttleKeys(login, session.remoteAddress);
        try {
          await assertNotLocked(platform, keys);
        } catch {
          throw smtpError(454, 'Too many failed attempts; try again later');
        }
        // A mail address as login: the user it belongs to.
        let userLogin = login;
        if (login.includes('@')) {
          const r = await resolveRecipient(platform.db, login);
          const owner = r.owners?.length === 1 && r.owners[0]!.type === 'user' ? r.owners[0] : null;
          if (owner) {
            const u = await platform.db.selectFrom('users').select('login').where('id', '=', owner.id).executeTakeFirst();
            if (u) userLogin = u.login;
          }
        }
        const found = await verifyAppPassword(platform, userLogin, password);
        if (!found || !found.scopes.includes('mail')) {
          await recordFailure(platform, keys);
          throw smtpError(535, 'Authentication credentials invalid');
        }
        await clearFailures(platform, login, session.remoteAddress);
        return { user: { id: found.user.id, login: found.user.login } };
      })().then(
        (r) => cb(null, r),
        (e: unknown) => cb(e instanceof Error && 'responseCode' in e ? (e as Error) : toSmtpError(e)),
      );
    },
    onMailFrom(address, session, cb) {
      const user = session.user as { id: string } | undefined;
      if (!user) return cb(smtpError(530, 'Authentication required'));
      (async () => {
        const mine = await userAddresses(platform.db, user.id);
        let a = '';
        try {
          a = normalizeAddress(address.address).address;
        } catch {
          /* empty or invalid */
        }
        if (!a || !mine.includes(a)) throw smtpError(553, 'Sender address is not one of yours');
      })().then(
        () => cb(),
        (e: unknown) => cb(e instanceof Error && 'responseCode' in e ? (e as Error) : toSmtpError(e)),
      );
    },
    onRcptTo(address, _session, cb) {
      resolveRecipient(platform.db, address.address).then(
        (r) => {
          if (r.local && !r.owners) return cb(smtpError(550, `No mailbox here by the name <${r.address}>`));
          if (!r.local) {
            try {
              normalizeAddress(address.address);
            } catch {
              return cb(smtpError(553, 'Recipient address syntax is not valid'));
            }
          }
          cb();
        },
        (e: unknown) => cb(toSmtpError(e)),
      );
    },
    onData(stream, session, cb) {
      (async () => {
        const body = await readData(stream, platform.config.mailMaxMessageBytes);
        if (!body) throw smtpError(552, 'Message exceeds the fixed maximum message size');
        const user = session.user as { id: string };
        const raw = Buffer.concat([Buffer.from(receivedHeader(session, host, null, platform.clock.now())), body]);
        const r = await submitMessage(platform, user.id, { from: envelopeFrom(session), to: session.envelope.rcptTo.map((x) => x.address) }, raw);
        return `OK: ${r.local} delivered here, ${r.remote} queued${r.queueId ? ` as ${r.queueId}` : ''}`;
      })().then(
        (msg) => cb(null, msg),
        (e: unknown) => {
          if (isAppError(e) && e.code === 'sender_not_allowed') return cb(smtpError(553, 'The From address is not one of yours'));
          cb(e instanceof Error && 'responseCode' in e ? (e as Error) : toSmtpError(e));
        },
      );
    },
  });
}

// ---------------------------------------------------------------------------------------- lifecycle

/** Starts the configured listeners (a port set to `off` is skipped); `stop` closes them. */
export async function startSmtp(platform: Platform): Promise<ProtocolServer> {
  const { config } = platform;
  const rt = mailRuntime(platform);
  const listeners: Listener[] = [];
  const host = config.host;
  if (config.smtpPort === 'off' && config.submissionPort === 'off' && config.submissionsPort === 'off') return { stop: async () => undefined };
  // One certificate for every mail protocol (shared with IMAP): configured files or a self-signed one.
  const tls = await tlsProvider({ certFile: config.mailTlsCert, keyFile: config.mailTlsKey, dataDir: config.dataDir, hostname: config.mailHostname });
  try {
    if (config.smtpPort !== 'off') {
      const server = inboundServer(platform, tls);
      rt.listening.smtp = await listen(server, config.smtpPort, host);
      listeners.push({ server, port: rt.listening.smtp });
    }
    if (config.submissionPort !== 'off') {
      const server = submissionServer(platform, tls, false);
      rt.listening.submission = await listen(server, config.submissionPort, host);
      listeners.push({ server, port: rt.listening.submission });
    }
    if (config.submissionsPort !== 'off') {
      const server = submissionServer(platform, tls, true);
      rt.listening.submissions = await listen(server, config.submissionsPort, host);
      listeners.push({ server, port: rt.listening.submissions });
    }
  } catch (e) {
    for (const l of listeners) await closeServer(l.server);
    throw e;
  }
  if (listeners.length) platform.log.info({ ports: rt.listening }, 'SMTP listening');
  // Configured certificate files are re-read when they change (the provider notices; new connections use them).
  let current = tls.pem();
  const timer = setInterval(() => {
    const next = tls.pem();
    if (next === current) return;
    current = next;
    for (const l of listeners) l.server.updateSecureContext({ key: next.key, cert: next.cert });
  }, 10_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(listeners.map((l) => closeServer(l.server)));
      rt.listening = {};
    },
  };
}
