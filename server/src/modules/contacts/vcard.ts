import ICAL from 'ical.js';
import { AppError } from '../../errors.js';
import { decodeText } from '../calendar/ical.js';
import { TIME_MAX, TIME_MIN } from '../calendar/schema.js';
import type { ParsedObject } from '../calendar/store.js';

/**
 * vCard objects (RFC 6350 and 3.0, RFC 2426) as CardDAV stores them (RFC 6352 §5.1): one VCARD with a UID,
 * strict UTF-8, bounded size; folded lines and LF-only line ends are accepted.
 */
export const MAX_VCARD_BYTES = 1024 * 1024;

export function invalidVcard(reason: string): AppError {
  return new AppError('invalid_vcard', { precondition: 'valid-address-data', reason });
}

export function parseVcardComponent(text: string): ICAL.Component {
  let jcal: unknown;
  try {
    jcal = ICAL.parse(text);
  } catch (e) {
    throw invalidVcard(e instanceof Error ? e.message.slice(0, 200) : 'unparsable');
  }
  if (!Array.isArray(jcal) || jcal.length === 0) throw invalidVcard('empty');
  if (Array.isArray(jcal[0])) throw invalidVcard('several vCards in one resource');
  const card = new ICAL.Component(jcal as unknown[]);
  if (card.name !== 'vcard') throw invalidVcard('not a VCARD');
  return card;
}

export interface ParsedVcard extends ParsedObject {
  card: ICAL.Component;
}

export function parseVcard(raw: Buffer | string): ParsedVcard {
  const text = decodeText(raw, 'invalid_vcard', 'valid-address-data');
  if (Buffer.byteLength(text) > MAX_VCARD_BYTES) throw new AppError('payload_too_large', { precondition: 'max-resource-size' });
  const card = parseVcardComponent(text);
  const version = card.getFirstPropertyValue('version');
  if (version !== '3.0' && version !== '4.0') throw invalidVcard('VERSION must be 3.0 or 4.0');
  const uid = card.getFirstPropertyValue('uid');
  if (typeof uid !== 'string' || uid.trim() === '' || uid.length > 1000) throw invalidVcard('UID missing');
  const fn = card.getFirstPropertyValue('fn');
  if (typeof fn !== 'string') throw invalidVcard('FN missing');
  const texts: string[] = [fn];
  for (const p of ['email', 'tel', 'org', 'nickname', 'note']) {
    for (const prop of card.getAllProperties(p)) {
      const v = prop.getFirstValue();
      texts.push(Array.isArray(v) ? v.join(' ') : String(v ?? ''));
    }
  }
  return { text, card, uid, component: 'VCARD', rangeStart: TIME_MIN, rangeEnd: TIME_MAX, recurring: false, summary: texts.join('\n').slice(0, 4000) };
}

/** Splits a .vcf file holding several vCards (import); each keeps its own text. */
export function splitVcards(text: string): string[] {
  const out: string[] = [];
  const re = /BEGIN:VCARD\r?\n[\s\S]*?\r?\nEND:VCARD/gi;
  for (const m of text.matchAll(re)) out.push(`${m[0].replace(/\r?\n/g, '\r\n')}\r\n`);
  return out;
}
