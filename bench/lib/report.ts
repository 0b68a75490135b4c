/**
 * One line of the final table. `ratio` is always relative to a peer or a limit measured or fixed in the
 * same run; `pass` is null for context lines (peers, informational figures) and skipped figures.
 */
export interface Figure {
  id: string;
  name: string;
  /** Human-readable measured value (with unit). */
  measured: string;
  /** Human-readable target, e.g. "≤ 1500 ms" or "≥ 0.60 × peer". */
  target: string;
  ratio: number | null;
  pass: boolean | null;
  /** Raw numbers for results.json. */
  values?: Record<string, unknown>;
  note?: string;
}

export const ms = (x: number): string => `${x.toFixed(x < 10 ? 2 : 0)} ms`;
export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
export const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
export const rps = (x: number): string => `${Math.round(x).toLocaleString('en-US')} req/s`;

/** A figure whose value must stay at or under `limit` (ratio = value / limit, ≤ 1 passes). */
export function underLimit(
  id: string,
  name: string,
  value: number,
  limit: number,
  fmt: (x: number) => string,
  extra: Partial<Figure> = {},
): Figure {
  const ratio = value / limit;
  return { id, name, measured: fmt(value), target: `≤ ${fmt(limit)}`, ratio, pass: ratio <= 1, ...extra, values: { value, limit, ...extra.values } };
}

export function context(id: string, name: string, measured: string, values: Record<string, unknown> = {}, note?: string): Figure {
  return { id, name, measured, target: '—', ratio: null, pass: null, values, ...(note ? { note } : {}) };
}

export function skipped(id: string, name: string, why: string): Figure {
  return { id, name, measured: 'skipped', target: '—', ratio: null, pass: null, note: why };
}

export function table(figures: Figure[]): string {
  const rows = [
    ['figure', 'measured', 'target', 'ratio', 'result'],
    ...figures.map((f) => [
      f.name,
      f.measured,
      f.target,
      f.ratio === null ? '' : f.ratio.toFixed(2),
      f.pass === null ? (f.measured === 'skipped' ? 'skip' : 'info') : f.pass ? 'pass' : 'FAIL',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...r[i]!].length)));
  const line = (r: string[]): string => r.map((c, i) => c + ' '.repeat(widths[i]! - [...c].length)).join(' │ ');
  const rule = widths.map((w) => '─'.repeat(w)).join('─┼─');
  const out = [line(rows[0]!), rule, ...rows.slice(1).map(line)];
  const notes = figures.filter((f) => f.note).map((f) => `  · ${f.name}: ${f.note}`);
  return [...out, ...(notes.length ? ['', 'notes:', ...notes] : [])].join('\n');
}
