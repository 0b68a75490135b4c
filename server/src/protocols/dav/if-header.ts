import { AppError } from '../../errors.js';

/** The RFC 4918 §10.4 If header: lists of conditions, optionally tagged with a resource. */
export interface IfCondition {
  not: boolean;
  kind: 'token' | 'etag';
  value: string;
}
export interface IfList {
  /** The tagged resource (an URL or absolute path), or null for the request URI. */
  resource: string | null;
  conditions: IfCondition[];
}

export function parseIfHeader(header: string): IfList[] {
  const lists: IfList[] = [];
  let i = 0;
  let tag: string | null = null;
  let sawTagged = false;
  let sawUntagged = false;
  const bad = (): never => {
    throw new AppError('bad_request', { reason: 'invalid_if_header' });
  };
  const skip = (): void => {
    while (i < header.length && /\s/.test(header[i]!)) i++;
  };
  const until = (end: string): string => {
    const j = header.indexOf(end, i);
    if (j < 0) bad();
    const v = header.slice(i, j);
    i = j + 1;
    return v;
  };
  for (;;) {
    skip();
    if (i >= header.length) break;
    const c = header[i];
    if (c === '<') {
      i++;
      tag = until('>');
      sawTagged = true;
      continue;
    }
    if (c !== '(') bad();
    i++;
    if (tag === null) sawUntagged = true;
    const conditions: IfCondition[] = [];
    for (;;) {
      skip();
      if (header[i] === ')') {
        i++;
        break;
      }
      let not = false;
      if (header.slice(i, i + 3).toLowerCase() === 'not') {
        not = true;
        i += 3;
        skip();
      }
      if (header[i] === '<') {
        i++;
        conditions.push({ not, kind: 'token', value: until('>') });
      } else if (header[i] === '[') {
        i++;
        conditions.push({ not, kind: 'etag', value: until(']') });
      } else bad();
    }
    if (conditions.length === 0) bad();
    lists.push({ resource: tag, conditions });
  }
  if (lists.length === 0 || (sawTagged && sawUntagged)) bad();
  return lists;
}

/** Every state token named in the header (the lock tokens the client submits). */
export function submittedTokens(lists: IfList[]): Set<string> {
  const out = new Set<string>();
  for (const l of lists) for (const c of l.conditions) if (c.kind === 'token') out.add(c.value);
  return out;
}

/** Strips a weak prefix and the quotes of an entity tag. */
export function bareEtag(tag: string): string {
  return tag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}
