/**
 * Modified UTF-7 mailbox names (RFC 3501 section 5.1.3), used unless the client enabled UTF8=ACCEPT
 * (RFC 6855 / IMAP4rev2, where names are UTF-8).
 */

export function encodeMutf7(name: string): string {
  let out = '';
  let pending: number[] = [];
  const flush = (): void => {
    if (!pending.length) return;
    const bytes = Buffer.alloc(pending.length * 2);
    pending.forEach((u, i) => bytes.writeUInt16BE(u, i * 2));
    out += `&${bytes.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
    pending = [];
  };
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) {
      flush();
      out += c === 0x26 ? '&-' : name[i];
    } else pending.push(c);
  }
  flush();
  return out;
}

/** Decodes a modified UTF-7 name; null when it is not valid modified UTF-7. */
export function decodeMutf7(name: string): string | null {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const ch = name[i]!;
    const c = name.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return null;
    if (ch !== '&') {
      out += ch;
      continue;
    }
    const end = name.indexOf('-', i + 1);
    if (end < 0) return null;
    const b64 = name.slice(i + 1, end);
    i = end;
    if (b64 === '') {
      out += '&';
      continue;
    }
    if (!/^[A-Za-z0-9+,]+$/.test(b64)) return null;
    const bytes = Buffer.from(b64.replace(/,/g, '/'), 'base64');
    if (bytes.length % 2 !== 0 || bytes.length === 0) return null;
    for (let k = 0; k < bytes.length; k += 2) out += String.fromCharCode(bytes.readUInt16BE(k));
  }
  return out;
}
