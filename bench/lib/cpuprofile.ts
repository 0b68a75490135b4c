import { readFileSync } from 'node:fs';
import { ROOT } from './proc.js';

/** The parts of a V8 .cpuprofile (as written by `node --cpu-prof`) the summary reads. */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives: an npm package, a Bastide file, a Node internal, or a V8 pseudo-frame. */
function owner(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (path.startsWith('node:')) return 'node (internal)';
  if (path.startsWith(ROOT)) return path.slice(ROOT.length);
  return path;
}

/** The file a frame is in, short: `package/file.js` for dependencies, the repo-relative path for Bastide. */
function file(url: string, fn: string): string {
  const o = owner(url, fn);
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm < 0) return o;
  const base = path.slice(path.lastIndexOf('/') + 1);
  return `${o}/${base}`;
}

function label(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url ? `${file(url, functionName)}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
}

function pct(n: number, total: number): string {
  return `${((100 * n) / total).toFixed(1).padStart(5)} %`;
}

/**
 * A plain-text summary of a CPU profile: busy share, self time by owner (package / file), the hottest
 * functions by self time, and inclusive time of the frames that matter for a request (hooks, plugins, SQL).
 */
export function summariseProfile(file: string, top = 25): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const selfTime = new Map<number, number>();
  p.samples.forEach((id, i) => selfTime.set(id, (selfTime.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));

  let idle = 0;
  let busy = 0;
  const byOwner = new Map<string, number>();
  const byFn = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, t] of selfTime) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName === '(idle)') {
      idle += t;
      continue;
    }
    busy += t;
    const o = owner(n.callFrame.url, n.callFrame.functionName);
    byOwner.set(o, (byOwner.get(o) ?? 0) + t);
    const l = label(n);
    byFn.set(l, (byFn.get(l) ?? 0) + t);
    // Inclusive: each distinct function (and owner) on the stack gets the sample once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!;
      for (const key of [label(f), `[${owner(f.callFrame.url, f.callFrame.functionName)}]`]) {
        if (seen.has(key)) continue;
        seen.add(key);
        inclusive.set(key, (inclusive.get(key) ?? 0) + t);
      }
    }
  }
  const sorted = (m: Map<string, number>, k: number): Array<[string, number]> => [...m].sort((a, b) => b[1] - a[1]).slice(0, k);
  const lines = [
    `busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s (shares below are of busy time)`,
    '',
    'self time by owner:',
    ...sorted(byOwner, 15).map(([k, t]) => `  ${pct(t, busy)}  ${k}`),
    '',
    'self time by function:',
    ...sorted(byFn, top).map(([k, t]) => `  ${pct(t, busy)}  ${k}`),
    '',
    'inclusive time by owner (on the stack):',
    ...sorted(new Map([...inclusive].filter(([k]) => k.startsWith('['))), 20).map(([k, t]) => `  ${pct(t, busy)}  ${k}`),
    '',
    'inclusive time by function:',
    ...sorted(new Map([...inclusive].filter(([k]) => !k.startsWith('[') && !k.startsWith('(root)'))), top).map(([k, t]) => `  ${pct(t, busy)}  ${k}`),
  ];
  return lines.join('\n');
}
