import { randomBytes } from 'node:crypto';

// Sortable random ids (ULID layout: 48-bit time + 80 random bits, Crockford base32, 26 chars).
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let lastTime = 0;
let lastRandom: Buffer = Buffer.alloc(10);

function encode(bytes: Buffer, chars: number): string {
  let bits = 0;
  let value = 0n;
  for (const b of bytes) {
    value = (value << 8n) | BigInt(b);
    bits += 8;
  }
  let out = '';
  for (let i = 0; i < chars; i++) {
    const shift = BigInt(bits - 5 * (i + 1));
    const idx = shift >= 0n ? Number((value >> shift) & 31n) : Number((value << -shift) & 31n);
    out += ALPHABET[idx];
  }
  return out;
}

/** A new id, monotonic within one process even inside the same millisecond. */
export function newId(now: number = Date.now()): string {
  let random: Buffer;
  if (now <= lastTime) {
    now = lastTime;
    random = Buffer.from(lastRandom);
    for (let i = random.length - 1; i >= 0; i--) {
      random[i] = (random[i]! + 1) & 0xff;
      if (random[i] !== 0) break;
    }
  } else {
    random = randomBytes(10);
  }
  lastTime = now;
  lastRandom = random;
  const time = Buffer.alloc(6);
  time.writeUIntBE(now, 0, 6);
  return encode(time, 10) + encode(random, 16);
}

export function isId(value: string): boolean {
  return /^[0-9A-HJKMNP-TV-Z]{26}$/.test(value);
}

/** A URL-safe random secret of `bytes` bytes of entropy. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
