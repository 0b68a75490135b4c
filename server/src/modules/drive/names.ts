import { AppError } from '../../errors.js';

const MAX_NAME_BYTES = 255;

/** Validates and NFC-normalises one name; refuses '', '.', '..', '/', NUL, control characters, >255 bytes. */
export function cleanNodeName(raw: string): string {
  const name = raw.normalize('NFC');
  // eslint-disable-next-line no-control-regex
  const bad = name === '' || name === '.' || name === '..' || name.includes('/') || /[\u0000-\u001f\u007f]/.test(name) || Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES;
  if (bad) throw new AppError('invalid_name', { name: raw.slice(0, 300) });
  return name;
}

/** The key that makes a name unique in its folder. */
export function nameKey(name: string): string {
  return name.normalize('NFC');
}

/** Cleans every segment of a path given as segments; returns the cleaned segments. */
export function cleanPath(segments: string[]): string[] {
  return segments.map(cleanNodeName);
}

/** Path key ("/a/b", "" for the root) used by locks. */
export function pathKey(segments: string[]): string {
  return segments.map((s) => `/${nameKey(s)}`).join('');
}
