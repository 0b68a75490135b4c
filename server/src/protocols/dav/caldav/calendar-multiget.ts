import type { XmlElement } from '../xml.js';
import type { DavCtx } from './context.js';
import { multiget } from './multiget.js';

/** REPORT calendar-multiget (RFC 4791 §7.9). */
export function calendarMultiget(d: DavCtx, body: XmlElement): Promise<void> {
  return multiget(d, body);
}
