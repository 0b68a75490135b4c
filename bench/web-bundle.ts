import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { constants, gzipSync } from 'node:zlib';
import { ROOT } from './lib/proc.js';
import { kb, skipped, underLimit, type Figure } from './lib/report.js';

const SHELL_LIMIT = 150 * 1024;
const CHUNK_LIMIT = 200 * 1024;
export const WEB_DIST = join(ROOT, 'web', 'dist');

const gz = (file: string): number => gzipSync(readFileSync(file), { level: constants.Z_BEST_COMPRESSION }).length;

function attr(tag: string, name: string): string | undefined {
  return new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag)?.slice(1).find((v) => v !== undefined);
}

/** The JavaScript index.html makes the browser fetch at once: module scripts and modulepreloads. */
export function initialScripts(html: string): string[] {
  const urls: string[] = [];
  for (const m of html.matchAll(/<script\b[^>]*>/gi)) {
    const src = attr(m[0], 'src');
    if (src) urls.push(src);
  }
  for (const m of html.matchAll(/<link\b[^>]*>/gi)) {
    const rel = attr(m[0], 'rel')?.toLowerCase().split(/\s+/) ?? [];
    const href = attr(m[0], 'href');
    if (href && rel.includes('modulepreload')) urls.push(href);
  }
  return [...new Set(urls)].filter((u) => !/^[a-z]+:\/\//i.test(u) && !u.startsWith('//'));
}

/** Static imports of a built chunk (`import … from "./x.js"`, `import "./x.js"`), not dynamic `import()`. */
export function staticImports(code: string): string[] {
  const out: string[] = [];
  for (const m of code.matchAll(/(?:^|[;}\n\s])import\s*(?:[\w$*{}\s,]+?\s*from\s*)?["']([^"']+\.js)["']/g)) out.push(m[1]!);
  for (const m of code.matchAll(/(?:^|[;}\n\s])export\s*(?:\*|\{[^}]*\})\s*from\s*["']([^"']+\.js)["']/g)) out.push(m[1]!);
  return out;
}

const toFile = (url: string, base: string): string => join(WEB_DIST, url.startsWith('/') ? url.slice(1) : posix.join(base, url));

function allJs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? allJs(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : [],
  );
}

/** Figure 4: the shell's initial JavaScript (gzip -9) and lazy chunks over the per-app budget. */
export function webBundle(): Figure[] {
  const index = join(WEB_DIST, 'index.html');
  if (!existsSync(index)) {
    return [skipped('shell_initial_js', 'shell initial JS (gzip -9)', 'web/dist/index.html is missing: run `npm run build:web` first')];
  }
  const html = readFileSync(index, 'utf8');
  const tagged = initialScripts(html).map((u) => toFile(u, ''));
  // Follow static imports too: a chunk the entry imports statically is loaded up front whether or not
  // index.html preloads it (if it does not, that is an extra round trip, reported below).
  const initial = new Set<string>();
  const queue = [...tagged];
  while (queue.length) {
    const f = queue.shift()!;
    if (initial.has(f) || !existsSync(f)) continue;
    initial.add(f);
    for (const imp of staticImports(readFileSync(f, 'utf8'))) {
      queue.push(imp.startsWith('/') ? join(WEB_DIST, imp.slice(1)) : join(dirname(f), imp));
    }
  }
  const missing = tagged.filter((f) => !existsSync(f)).map((f) => relative(WEB_DIST, f));
  const unpreloaded = [...initial].filter((f) => !tagged.includes(f)).map((f) => relative(WEB_DIST, f));
  const sizes = [...initial].map((f) => ({ file: relative(WEB_DIST, f), gzip: gz(f) }));
  const total = sizes.reduce((a, s) => a + s.gzip, 0);
  const lazy = allJs(WEB_DIST)
    .filter((f) => !initial.has(f))
    .map((f) => ({ file: relative(WEB_DIST, f), gzip: gz(f) }))
    .sort((a, b) => b.gzip - a.gzip);
  const over = lazy.filter((c) => c.gzip > CHUNK_LIMIT);
  const notes = [`${sizes.length} file(s): ${sizes.map((s) => `${s.file} ${kb(s.gzip)}`).join(', ')}`];
  if (unpreloaded.length) notes.push(`statically imported but not preloaded by index.html (extra round trip): ${unpreloaded.join(', ')}`);
  if (missing.length) notes.push(`referenced by index.html but missing: ${missing.join(', ')}`);
  const figures: Figure[] = [
    underLimit('shell_initial_js', 'shell initial JS (gzip -9)', total, SHELL_LIMIT, kb, { values: { files: sizes }, note: notes.join('; ') }),
  ];
  const largest = lazy[0];
  if (largest) {
    figures.push(
      underLimit('largest_lazy_chunk', `largest lazy chunk of ${lazy.length} (gzip -9)`, largest.gzip, CHUNK_LIMIT, kb, {
        values: { chunks: lazy, overBudget: over },
        note: over.length
          ? `over the ${kb(CHUNK_LIMIT)} per-app budget: ${over.map((c) => `${c.file} ${kb(c.gzip)}`).join(', ')}`
          : `${largest.file}; no lazy chunk is over the ${kb(CHUNK_LIMIT)} per-app budget`,
      }),
    );
  }
  return figures;
}
