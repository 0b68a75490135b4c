import { createHash, timingSafeEqual } from 'node:crypto';
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import { randomToken } from '../../platform/ids.js';
import { AppError } from '../../errors.js';

// argon2id with the OWASP-recommended cost (19 MiB, 2 passes, 1 lane).
const ARGON = { memoryCost: 19456, timeCost: 2, parallelism: 1, outputLen: 32 } as const;
// Verifying against this keeps the time of a login for an unknown account equal to a known one.
let dummyHash: Promise<string> | undefined;

export async function hashPassword(password: string): Promise<string> {
  return argonHash(password, { ...ARGON, algorithm: 2 });
}

export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  if (!hash) {
    dummyHash ??= hashPassword('bastide-dummy-password');
    await argonVerify(await dummyHash, password).catch(() => false);
    return false;
  }
  try {
    return await argonVerify(hash, password);
  } catch {
    return false;
  }
}

/** Fast digest for high-entropy secrets (session tokens, app passwords, API tokens, recovery codes). */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

export interface PasswordPolicy {
  minLength: number;
}

const COMMON = new Set([
  'password', 'motdepasse', '123456789012', 'azertyuiop', 'qwertyuiop', 'bastidebastide', 'administrator', 'administrateur',
]);

/** Checks a new password; throws password_policy with the rules broken. */
export function checkPasswordPolicy(password: string, policy: PasswordPolicy, context: string[] = []): void {
  const rules: string[] = [];
  if ([...password].length < policy.minLength) rules.push(`min_length:${policy.minLength}`);
  if (password.length > 256) rules.push('max_length:256');
  const lower = password.toLowerCase();
  if (COMMON.has(lower) || /^(.)\1+$/.test(password)) rules.push('too_common');
  if (context.some((c) => c.length >= 3 && lower.includes(c.toLowerCase()))) rules.push('contains_personal_info');
  if (rules.length) throw new AppError('password_policy', { rules });
}

/** A readable generated password (for resets and first logins). */
export function generatePassword(): string {
  return randomToken(15).replace(/[-_]/g, 'x');
}

/** App passwords: 4 groups of 4 lowercase letters/digits (about 82 bits), easy to type on a phone. */
export function generateAppPassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const bytes = Buffer.from(randomToken(24), 'base64url');
  let out = '';
  for (let i = 0; i < 16; i++) {
    out += alphabet[bytes[i]! % alphabet.length];
    if (i % 4 === 3 && i < 15) out += '-';
  }
  return out;
}

export function generateRecoveryCode(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const bytes = Buffer.from(randomToken(16), 'base64url');
  let out = '';
  for (let i = 0; i < 10; i++) {
    out += alphabet[bytes[i]! % alphabet.length];
    if (i === 4) out += '-';
  }
  return out;
}

export function normalizeCode(code: string): string {
  return code.trim().toLowerCase().replace(/[\s-]/g, '');
}
