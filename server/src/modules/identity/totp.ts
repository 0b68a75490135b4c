import { authenticator } from 'otplib';

// RFC 6238: SHA-1, 6 digits, 30 s steps; one step of drift either side.
authenticator.options = { step: 30, window: 1, digits: 6 };

export function newTotpSecret(): string {
  return authenticator.generateSecret(20);
}

export function otpauthUrl(login: string, issuer: string, secret: string): string {
  return authenticator.keyuri(login, issuer, secret);
}

export async function qrSvg(url: string): Promise<string> {
  // Loaded on first use: most starts never draw a QR code.
  const { default: QRCode } = await import('qrcode');
  return QRCode.toString(url, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' });
}

/**
 * Checks a code; returns the time step it matched (to refuse a replay of the same code), or null.
 */
export function checkTotp(secret: string, code: string, now: number, lastStep: number | null): number | null {
  const clean = code.replace(/\s/g, '');
  if (!/^\d{6}$/.test(clean)) return null;
  const step = Math.floor(now / 30000);
  for (const delta of [0, -1, 1]) {
    const s = step + delta;
    if (lastStep !== null && s <= lastStep) continue;
    const expected = authenticator.clone({ epoch: s * 30000, window: 0 }).generate(secret);
    if (expected === clean) return s;
  }
  return null;
}

export function totpCode(secret: string, now: number): string {
  return authenticator.clone({ epoch: now, window: 0 }).generate(secret);
}
