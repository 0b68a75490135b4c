import type { Handler } from './commands.js';
import type { Command, CommandOf } from './parser.js';
import type { ImapSession, Result } from './session.js';
import { AppError } from '../../errors.js';

/** CAPABILITY, NOOP, LOGOUT, STARTTLS, LOGIN, AUTHENTICATE, ID, ENABLE, NAMESPACE (RFC 9051 6.1–6.3, RFC 2971, 5161, 2342). */

type C<N extends Command['name']> = CommandOf<N>;
const ANY = ['notauth', 'auth', 'selected'] as const;

const MAX_AUTH_FAILURES = 3;

async function login(s: ImapSession, user: string, password: string): Promise<Result> {
  if (!s.plaintextAllowed) return 'NO [PRIVACYREQUIRED] Use STARTTLS or the implicit TLS port before logging in';
  let found = null;
  try {
    found = await s.port.authenticate(user, password);
  } catch (err) {
    if (err instanceof AppError && err.code === 'too_many_attempts') return 'NO [UNAVAILABLE] Too many attempts; try again later';
    throw err;
  }
  if (!found) {
    s.authFailures++;
    if (s.authFailures >= MAX_AUTH_FAILURES) {
      s.send('* BYE Too many failed logins');
      s.state = 'logout';
    }
    // A small delay slows password guessing without holding other sessions.
    await new Promise((r) => setTimeout(r, 300));
    return 'NO [AUTHENTICATIONFAILED] Invalid credentials (use an app password with the mail scope)';
  }
  s.user = found;
  s.state = 'auth';
  return `OK [CAPABILITY ${s.capabilities().join(' ')}] Logged in`;
}

function decodePlain(b64: string): { user: string; password: string } | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return null;
  const parts = Buffer.from(b64, 'base64').toString('utf8').split('\0');
  if (parts.length !== 3) return null;
  const [authz, user, password] = parts as [string, string, string];
  if (authz && authz !== user) return null;
  return { user, password };
}

export const authHandlers = {
  CAPABILITY: {
    states: [...ANY],
    async run(s: ImapSession) {
      s.send(`* CAPABILITY ${s.capabilities().join(' ')}`);
      return 'OK Capability completed';
    },
  },
  NOOP: {
    states: [...ANY],
    expungeOk: true,
    async run() {
      return 'OK Noop completed';
    },
  },
  LOGOUT: {
    states: [...ANY],
    sync: false,
    async run(s: ImapSession) {
      s.send('* BYE Logging out');
      s.state = 'logout';
      return 'OK Logout completed';
    },
  },
  STARTTLS: {
    states: ['notauth'],
    async run(s: ImapSession) {
      if (s.io.secure) return 'BAD TLS is already active';
      if (!s.io.tlsAvailable) return 'NO TLS is not available';
      return 'OK Begin TLS negotiation now';
    },
  },
  LOGIN: {
    states: ['notauth'],
    async run(s: ImapSession, c: C<'LOGIN'>) {
      return login(s, c.user, c.password);
    },
  },
  AUTHENTICATE: {
    states: ['notauth'],
    async run(s: ImapSession, c: C<'AUTHENTICATE'>) {
      if (c.mechanism !== 'PLAIN') return 'NO [CANNOT] Only AUTHENTICATE PLAIN is supported';
      if (!s.plaintextAllowed) return 'NO [PRIVACYREQUIRED] Use STARTTLS or the implicit TLS port before logging in';
      const finish = async (b64: string): Promise<Result> => {
        if (b64 === '*') return 'BAD Authentication cancelled';
        const creds = decodePlain(b64);
        if (!creds) return 'BAD Invalid PLAIN response';
        return login(s, creds.user, creds.password);
      };
      if (c.initial !== undefined) return finish(c.initial);
      s.continuation('', async (frame) => {
        const line = (frame.segments[0] ?? Buffer.alloc(0)).toString('latin1').trim();
        const result = await finish(frame.segments.length === 1 ? line : '').catch((err: unknown) => s.errorResult(err));
        s.send(`${c.tag} ${result}`);
        await s.flush();
        if (s.state === 'logout') s.end();
      });
      return '';
    },
  },
  ID: {
    states: [...ANY],
    async run(s: ImapSession, c: C<'ID'>) {
      s.clientId = c.params;
      s.send('* ID ("name" "Bastide" "vendor" "Bastide")');
      return 'OK ID completed';
    },
  },
  ENABLE: {
    states: ['auth', 'selected'],
    async run(s: ImapSession, c: C<'ENABLE'>) {
      const known = new Set(['CONDSTORE', 'QRESYNC', 'UTF8=ACCEPT', 'IMAP4REV2']);
      const now: string[] = [];
      for (const cap of c.capabilities) {
        if (!known.has(cap) || s.enabled.has(cap)) continue;
        s.enabled.add(cap);
        now.push(cap);
        if (cap === 'QRESYNC') s.enabled.add('CONDSTORE');
        if (cap === 'CONDSTORE' || cap === 'QRESYNC') s.condstore = true;
      }
      s.send(`* ENABLED${now.map((x) => ` ${x === 'IMAP4REV2' ? 'IMAP4rev2' : x}`).join('')}`);
      return 'OK Enabled';
    },
  },
  COMPRESS: {
    states: ['auth', 'selected'],
    sync: false,
    async run(s: ImapSession, c: C<'COMPRESS'>) {
      if (c.mechanism !== 'DEFLATE') return 'BAD Only COMPRESS DEFLATE is supported';
      if (s.io.compressed) return 'NO [COMPRESSIONACTIVE] Compression is already active';
      return 'OK DEFLATE active';
    },
  },
  NAMESPACE: {
    states: ['auth', 'selected'],
    async run(s: ImapSession) {
      s.send('* NAMESPACE (("" "/")) NIL (("Shared/" "/"))');
      return 'OK Namespace completed';
    },
  },
} satisfies Record<string, Handler<never>>;
