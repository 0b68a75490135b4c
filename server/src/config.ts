import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * The one configuration schema. Each setting has an environment variable (which wins) and a key in the
 * optional JSON file named by BASTIDE_CONFIG. `bastide doctor` and the README list them from here.
 */
export const ROLES = ['web', 'api', 'realtime', 'jobs'] as const;
export type Role = (typeof ROLES)[number];

interface Setting {
  env: string;
  key: keyof Config;
  doc: string;
  kind: 'string' | 'int' | 'bool' | 'list' | 'port';
}

export const ConfigSchema = Type.Object(
  {
    dataDir: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 0, maximum: 65535 }),
    host: Type.String({ minLength: 1 }),
    baseUrl: Type.String({ pattern: '^https?://[^\\s/]+(/[^\\s]*)?$' }),
    databaseUrl: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
    blobs: Type.String({ pattern: '^(fs|s3://.+)$' }),
    roles: Type.Array(Type.Union(ROLES.map((r) => Type.Literal(r))), { minItems: 1 }),
    logLevel: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
    trustProxy: Type.Boolean(),
    passwordMinLength: Type.Integer({ minimum: 8, maximum: 128 }),
    loginMaxAttempts: Type.Integer({ minimum: 1, maximum: 100 }),
    loginLockoutSeconds: Type.Integer({ minimum: 1, maximum: 86400 }),
    sessionIdleHours: Type.Integer({ minimum: 1, maximum: 24 * 365 }),
    bodyLimitBytes: Type.Integer({ minimum: 1024, maximum: 1024 * 1024 * 1024 }),
    webDir: Type.String({ minLength: 1 }),
    shutdownGraceMs: Type.Integer({ minimum: 0, maximum: 600000 }),
    driveQuotaBytes: Type.Integer({ minimum: 0, maximum: 2 ** 50 }),
    driveSpaceQuotaBytes: Type.Integer({ minimum: 0, maximum: 2 ** 50 }),
    driveVersions: Type.Integer({ minimum: 0, maximum: 1000 }),
    fetchAllow: Type.Array(Type.String({ pattern: '^[0-9a-fA-F:.]+(/[0-9]{1,3})?$' })),
    mailHostname: Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.-]+$' }),
    smtpPort: Type.Union([Type.Integer({ minimum: 0, maximum: 65535 }), Type.Literal('off')]),
    submissionPort: Type.Union([Type.Integer({ minimum: 0, maximum: 65535 }), Type.Literal('off')]),
    submissionsPort: Type.Union([Type.Integer({ minimum: 0, maximum: 65535 }), Type.Literal('off')]),
    smtpRelay: Type.Optional(Type.String({ pattern: '^smtps?://' })),
    mailTlsCert: Type.Optional(Type.String({ minLength: 1 })),
    mailTlsKey: Type.Optional(Type.String({ minLength: 1 })),
    mailMaxMessageBytes: Type.Integer({ minimum: 1024, maximum: 1024 * 1024 * 1024 }),
    mailQuotaBytes: Type.Integer({ minimum: 0, maximum: 2 ** 50 }),
    smtpRateLimitPerMinute: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
    imapPort: Type.Union([Type.Integer({ minimum: 0, maximum: 65535 }), Type.Literal('off')]),
    imapsPort: Type.Union([Type.Integer({ minimum: 0, maximum: 65535 }), Type.Literal('off')]),
  },
  { additionalProperties: false },
);
export type Config = Static<typeof ConfigSchema>;

export const SETTINGS: Setting[] = [
  { env: 'BASTIDE_DATA', key: 'dataDir', kind: 'string', doc: 'Data folder (SQLite database, blobs, keys). Default ./data' },
  { env: 'BASTIDE_PORT', key: 'port', kind: 'int', doc: 'HTTP port. Default 8080' },
  { env: 'BASTIDE_HOST', key: 'host', kind: 'string', doc: 'Address to listen on. Default 127.0.0.1 (use 0.0.0.0 behind a proxy or in a container)' },
  { env: 'BASTIDE_BASE_URL', key: 'baseUrl', kind: 'string', doc: 'Public URL users reach, e.g. https://bastide.example.org. Default http://localhost:<port>' },
  { env: 'DATABASE_URL', key: 'databaseUrl', kind: 'string', doc: 'PostgreSQL URL; when unset, SQLite in the data folder' },
  { env: 'BASTIDE_BLOBS', key: 'blobs', kind: 'string', doc: 'fs (default, in the data folder) or s3://KEY:SECRET@HOST[:PORT]/BUCKET[?region=R&tls=false]' },
  { env: 'BASTIDE_ROLES', key: 'roles', kind: 'list', doc: 'Comma-separated roles this process runs: web,api,realtime,jobs (default all)' },
  { env: 'BASTIDE_LOG_LEVEL', key: 'logLevel', kind: 'string', doc: 'fatal|error|warn|info|debug|trace|silent. Default info' },
  { env: 'BASTIDE_TRUST_PROXY', key: 'trustProxy', kind: 'bool', doc: 'Trust X-Forwarded-* from a reverse proxy. Default false' },
  { env: 'BASTIDE_PASSWORD_MIN_LENGTH', key: 'passwordMinLength', kind: 'int', doc: 'Minimum password length. Default 12' },
  { env: 'BASTIDE_LOGIN_MAX_ATTEMPTS', key: 'loginMaxAttempts', kind: 'int', doc: 'Failed logins before a temporary lockout. Default 5' },
  { env: 'BASTIDE_LOGIN_LOCKOUT_SECONDS', key: 'loginLockoutSeconds', kind: 'int', doc: 'Lockout duration. Default 900' },
  { env: 'BASTIDE_SESSION_IDLE_HOURS', key: 'sessionIdleHours', kind: 'int', doc: 'A session unused this long ends. Default 336 (14 days)' },
  { env: 'BASTIDE_BODY_LIMIT', key: 'bodyLimitBytes', kind: 'int', doc: 'Largest JSON request body in bytes. Default 1048576' },
  { env: 'BASTIDE_WEB_DIR', key: 'webDir', kind: 'string', doc: 'Folder of the built web app. Default web/dist' },
  { env: 'BASTIDE_SHUTDOWN_GRACE_MS', key: 'shutdownGraceMs', kind: 'int', doc: 'How long shutdown waits for in-flight work. Default 10000' },
  { env: 'BASTIDE_DRIVE_QUOTA', key: 'driveQuotaBytes', kind: 'int', doc: 'Default drive quota of a user, in bytes (versions and trash count). Default 10000000000 (10 GB)' },
  { env: 'BASTIDE_DRIVE_SPACE_QUOTA', key: 'driveSpaceQuotaBytes', kind: 'int', doc: 'Default drive quota of a space, in bytes. Default 50000000000 (50 GB)' },
  { env: 'BASTIDE_FETCH_ALLOW', key: 'fetchAllow', kind: 'list', doc: 'Comma-separated addresses or CIDRs that link previews and outgoing webhooks may reach although not public (an intranet). Default none' },
  { env: 'BASTIDE_DRIVE_VERSIONS', key: 'driveVersions', kind: 'int', doc: 'Previous versions kept per file (the oldest go first; 0 keeps none). Default 25' },
  { env: 'BASTIDE_MAIL_HOSTNAME', key: 'mailHostname', kind: 'string', doc: 'Host name of the mail server (SMTP greeting, certificates, Received headers). Default: the host of the base URL' },
  { env: 'BASTIDE_SMTP_PORT', key: 'smtpPort', kind: 'port', doc: 'Inbound SMTP port (25 in production), or off. Default 2525' },
  { env: 'BASTIDE_SUBMISSION_PORT', key: 'submissionPort', kind: 'port', doc: 'Mail submission port with STARTTLS (587 in production), or off. Default 2587' },
  { env: 'BASTIDE_SUBMISSIONS_PORT', key: 'submissionsPort', kind: 'port', doc: 'Mail submission port with implicit TLS (465 in production), or off. Default 2465' },
  { env: 'BASTIDE_SMTP_RELAY', key: 'smtpRelay', kind: 'string', doc: 'Send all outbound mail through this smarthost: smtp[s]://user:pass@host:port. Default: direct delivery to the MX' },
  { env: 'BASTIDE_MAIL_TLS_CERT', key: 'mailTlsCert', kind: 'string', doc: 'PEM certificate file for SMTP/IMAP TLS (reloaded when it changes). Default: a self-signed one in the data folder' },
  { env: 'BASTIDE_MAIL_TLS_KEY', key: 'mailTlsKey', kind: 'string', doc: 'PEM private key file for BASTIDE_MAIL_TLS_CERT' },
  { env: 'BASTIDE_MAIL_MAX_MESSAGE', key: 'mailMaxMessageBytes', kind: 'int', doc: 'Largest message accepted (SMTP SIZE, IMAP APPEND), in bytes. Default 52428800 (50 MB)' },
  { env: 'BASTIDE_MAIL_QUOTA', key: 'mailQuotaBytes', kind: 'int', doc: 'Mail quota of each mailbox owner, in bytes (0: unlimited). Default 10000000000 (10 GB)' },
  { env: 'BASTIDE_SMTP_RATE_LIMIT', key: 'smtpRateLimitPerMinute', kind: 'int', doc: 'Inbound SMTP messages accepted per client IP per minute (0: unlimited). Default 600' },
  { env: 'BASTIDE_IMAP_PORT', key: 'imapPort', kind: 'port', doc: 'IMAP port with STARTTLS (143 in production), or off. Default 2143' },
  { env: 'BASTIDE_IMAPS_PORT', key: 'imapsPort', kind: 'port', doc: 'IMAP port with implicit TLS (993 in production), or off. Default 2993' },
];

export class ConfigError extends Error {}

function defaults(env: NodeJS.ProcessEnv, cwd: string): Omit<Config, 'baseUrl' | 'mailHostname'> & { baseUrl?: string; mailHostname?: string } {
  return {
    dataDir: resolve(cwd, 'data'),
    port: 8080,
    host: '127.0.0.1',
    blobs: 'fs',
    roles: [...ROLES],
    logLevel: 'info',
    trustProxy: false,
    passwordMinLength: 12,
    loginMaxAttempts: 5,
    loginLockoutSeconds: 900,
    sessionIdleHours: 336,
    bodyLimitBytes: 1024 * 1024,
    webDir: resolve(cwd, 'web', 'dist'),
    shutdownGraceMs: 10000,
    driveQuotaBytes: 10_000_000_000,
    driveSpaceQuotaBytes: 50_000_000_000,
    driveVersions: 25,
    fetchAllow: [],
    smtpPort: 2525,
    submissionPort: 2587,
    submissionsPort: 2465,
    mailMaxMessageBytes: 50 * 1024 * 1024,
    mailQuotaBytes: 10_000_000_000,
    smtpRateLimitPerMinute: 600,
    imapPort: 2143,
    imapsPort: 2993,
    ...(env.NODE_ENV === 'test' ? { imapPort: 'off' as const, imapsPort: 'off' as const } : {}),
    // Tests open the mail ports they need themselves (port 0), so parallel test servers never collide.
    ...(env.NODE_ENV === 'test' ? { logLevel: 'silent' as const, smtpPort: 'off' as const, submissionPort: 'off' as const, submissionsPort: 'off' as const } : {}),
  };
}

function parseValue(s: Setting, raw: string): unknown {
  switch (s.kind) {
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${s.env}: expected a whole number, got "${raw}"`);
      return Number(raw);
    }
    case 'port': {
      if (raw.trim().toLowerCase() === 'off') return 'off';
      if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${s.env}: expected a port number or off, got "${raw}"`);
      return Number(raw);
    }
    case 'bool': {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
      throw new ConfigError(`${s.env}: expected true or false, got "${raw}"`);
    }
    case 'list':
      return raw.split(',').map((x) => x.trim()).filter(Boolean);
    default:
      return raw;
  }
}

/** Reads the environment (and BASTIDE_CONFIG file), applies defaults, validates; throws ConfigError with every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}, cwd = process.cwd()): Config {
  const merged: Record<string, unknown> = { ...defaults(env, cwd) };
  if (env.BASTIDE_CONFIG) {
    let fileValues: unknown;
    try {
      fileValues = JSON.parse(readFileSync(env.BASTIDE_CONFIG, 'utf8'));
    } catch (e) {
      throw new ConfigError(`BASTIDE_CONFIG: cannot read ${env.BASTIDE_CONFIG} as JSON (${(e as Error).message})`);
    }
    if (typeof fileValues !== 'object' || fileValues === null || Array.isArray(fileValues)) {
      throw new ConfigError('BASTIDE_CONFIG: the file must hold a JSON object');
    }
    for (const [k, v] of Object.entries(fileValues)) {
      if (!SETTINGS.some((s) => s.key === k)) throw new ConfigError(`BASTIDE_CONFIG: unknown setting "${k}"`);
      merged[k] = v;
    }
  }
  for (const s of SETTINGS) {
    const raw = env[s.env];
    if (raw !== undefined && raw !== '') merged[s.key] = parseValue(s, raw);
  }
  Object.assign(merged, overrides);
  if (typeof merged.dataDir === 'string') merged.dataDir = resolve(cwd, merged.dataDir);
  if (typeof merged.webDir === 'string') merged.webDir = resolve(cwd, merged.webDir);
  if (merged.baseUrl === undefined) merged.baseUrl = `http://localhost:${String(merged.port)}`;
  if (typeof merged.baseUrl === 'string') merged.baseUrl = merged.baseUrl.replace(/\/+$/, '');
  if (merged.mailHostname === undefined && typeof merged.baseUrl === 'string') merged.mailHostname = URL.canParse(merged.baseUrl) ? new URL(merged.baseUrl).hostname : 'localhost';
  const errors = [...Value.Errors(ConfigSchema, merged)];
  if (errors.length > 0) {
    const lines = errors.map((e) => {
      const key = e.path.split('/')[1] ?? '';
      const s = SETTINGS.find((x) => x.key === key);
      return `${s ? s.env : key}: ${e.message} (got ${JSON.stringify(e.value)})`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${[...new Set(lines)].join('\n  ')}`);
  }
  return merged as Config;
}
