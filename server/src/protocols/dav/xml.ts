import { SaxesParser } from 'saxes';
import { AppError } from '../../errors.js';

/**
 * WebDAV request bodies: a namespace-aware, bounded XML reader on `saxes` (strict, no DTD: a DOCTYPE is
 * refused, so no entity can be declared or expanded) and a small serializer.
 */
export const DAV_NS = 'DAV:';
export const MAX_XML_BYTES = 1024 * 1024;
const MAX_DEPTH = 64;
const MAX_NODES = 20_000;

export interface XmlAttr {
  ns: string;
  local: string;
  value: string;
}
export interface XmlElement {
  ns: string;
  local: string;
  attrs: XmlAttr[];
  children: Array<XmlElement | string>;
}

export function parseXml(text: string): XmlElement {
  const parser = new SaxesParser({ xmlns: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let nodes = 0;
  let failure: string | null = null;
  const fail = (why: string): void => {
    failure ??= why;
  };
  parser.on('error', (e) => fail(e.message));
  parser.on('doctype', () => fail('DOCTYPE is not allowed'));
  parser.on('opentag', (tag) => {
    if (++nodes > MAX_NODES || stack.length >= MAX_DEPTH) return fail('too large');
    const attrs: XmlAttr[] = [];
    for (const a of Object.values(tag.attributes)) {
      if (a.prefix === 'xmlns' || a.name === 'xmlns') {
        if (a.prefix === 'xmlns' && a.value === '') fail('empty namespace prefix binding');
        continue;
      }
      attrs.push({ ns: a.uri, local: a.local, value: a.value });
    }
    const el: XmlElement = { ns: tag.uri ?? '', local: tag.local ?? tag.name, attrs, children: [] };
    const parent = stack.at(-1);
    if (parent) parent.children.push(el);
    else if (root) fail('several roots');
    else root = el;
    stack.push(el);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  const onText = (t: string): void => {
    const parent = stack.at(-1);
    if (parent) parent.children.push(t);
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  try {
    parser.write(text).close();
  } catch (e) {
    fail(e instanceof Error ? e.message : 'invalid');
  }
  if (failure !== null || !root) throw new AppError('bad_request', { reason: 'invalid_xml', detail: failure ?? 'empty' });
  return root;
}

export function elements(el: XmlElement): XmlElement[] {
  return el.children.filter((c): c is XmlElement => typeof c !== 'string');
}

export function child(el: XmlElement, ns: string, local: string): XmlElement | undefined {
  return elements(el).find((c) => c.ns === ns && c.local === local);
}

export function textOf(el: XmlElement): string {
  return el.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
}

export const clark = (ns: string, local: string): string => `{${ns}}${local}`;
export function fromClark(name: string): { ns: string; local: string } {
  const i = name.indexOf('}');
  return { ns: name.slice(1, i), local: name.slice(i + 1) };
}

export function esc(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

/** Serializes an element standalone: it declares its own default namespace (and prefixes for attributes). */
export function serialize(el: XmlElement): string {
  const decls: string[] = [`xmlns="${esc(el.ns)}"`];
  const attrs = el.attrs.map((a, i) => {
    if (!a.ns) return ` ${a.local}="${esc(a.value)}"`;
    decls.push(`xmlns:a${i}="${esc(a.ns)}"`);
    return ` a${i}:${a.local}="${esc(a.value)}"`;
  });
  return `<${el.local} ${decls.join(' ')}${attrs.join('')}>${serializeChildren(el)}</${el.local}>`;
}

export function serializeChildren(el: XmlElement): string {
  return el.children.map((c) => (typeof c === 'string' ? esc(c) : serialize(c))).join('');
}

/** A property element with the given inner XML, in its own namespace. */
export function propElement(name: string, inner: string): string {
  const { ns, local } = fromClark(name);
  return `<${local} xmlns="${esc(ns)}">${inner}</${local}>`;
}

export const XML_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n';
