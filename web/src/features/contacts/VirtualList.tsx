/**
 * A windowed list of fixed-height rows (letter headers and entries): only the rows in view (plus a margin)
 * are in the page, so 20,000 contacts scroll as smoothly as 20. Keyboard: the list is one tab stop;
 * ↑/↓/Home/End/PageUp/PageDown move between entries (a roving tabindex), Enter opens.
 */
import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';

export type Row<T> = { kind: 'header'; key: string; label: string } | { kind: 'item'; key: string; item: T };

const OVERSCAN = 8;

export function VirtualList<T>({
  rows,
  rowHeight,
  headerHeight,
  label,
  activeKey,
  renderItem,
  testId,
}: {
  rows: Row<T>[];
  rowHeight: number;
  headerHeight: number;
  label: string;
  /** The selected entry: the list's tab stop starts there. */
  activeKey?: string | null;
  renderItem: (item: T, props: { tabIndex: number; 'data-row': string; onFocus: () => void }) => ReactNode;
  testId?: string;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 600 });
  const [focusKey, setFocusKey] = useState<string | null>(null);
  const pendingFocus = useRef<string | null>(null);

  // Row offsets (headers and entries differ in height).
  const offsets: number[] = [];
  let total = 0;
  for (const r of rows) {
    offsets.push(total);
    total += r.kind === 'header' ? headerHeight : rowHeight;
  }

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const update = () => setView({ top: el.scrollTop, height: el.clientHeight || 600 });
    update();
    const ro = typeof ResizeObserver === 'function' ? new ResizeObserver(update) : null;
    ro?.observe(el);
    return () => ro?.disconnect();
  }, []);

  const items = rows.map((r, i) => ({ r, i })).filter((x) => x.r.kind === 'item');
  const keys = items.map((x) => x.r.key);
  const tabKey = focusKey && keys.includes(focusKey) ? focusKey : activeKey && keys.includes(activeKey) ? activeKey : (keys[0] ?? null);

  // First and last rows in view (binary search on the offsets).
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((offsets[mid] ?? 0) + (rows[mid]?.kind === 'header' ? headerHeight : rowHeight) <= view.top) lo = mid + 1;
    else hi = mid;
  }
  const first = Math.max(0, lo - OVERSCAN);
  let last = lo;
  while (last < rows.length && (offsets[last] ?? 0) < view.top + view.height) last++;
  last = Math.min(rows.length, last + OVERSCAN);
  const visible = new Set<number>();
  for (let i = first; i < last; i++) visible.add(i);
  // The tab stop stays in the page even when scrolled away, so Tab always reaches the list.
  const tabIndex = tabKey ? rows.findIndex((r) => r.key === tabKey) : -1;
  if (tabIndex >= 0) visible.add(tabIndex);

  useEffect(() => {
    const k = pendingFocus.current;
    if (!k) return;
    const el = scroller.current?.querySelector<HTMLElement>(`[data-row="${CSS.escape(k)}"]`);
    if (el) {
      el.focus({ preventScroll: true });
      pendingFocus.current = null;
    }
  });

  function moveTo(key: string) {
    const idx = rows.findIndex((r) => r.key === key);
    const el = scroller.current;
    if (idx < 0 || !el) return;
    const top = offsets[idx] ?? 0;
    const h = rows[idx]?.kind === 'header' ? headerHeight : rowHeight;
    // Keep the letter header above the first entry of a letter in view too.
    const prevHeader = idx > 0 && rows[idx - 1]?.kind === 'header' ? headerHeight : 0;
    if (top - prevHeader < el.scrollTop) el.scrollTop = top - prevHeader;
    else if (top + h > el.scrollTop + el.clientHeight) el.scrollTop = top + h - el.clientHeight;
    setView({ top: el.scrollTop, height: el.clientHeight || 600 });
    pendingFocus.current = key;
    setFocusKey(key);
  }

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    if (!tabKey || keys.length === 0) return;
    const at = keys.indexOf(tabKey);
    const page = Math.max(1, Math.floor((scroller.current?.clientHeight ?? 600) / rowHeight) - 1);
    let next: number | null = null;
    if (e.key === 'ArrowDown') next = Math.min(keys.length - 1, at + 1);
    else if (e.key === 'ArrowUp') next = Math.max(0, at - 1);
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = keys.length - 1;
    else if (e.key === 'PageDown') next = Math.min(keys.length - 1, at + page);
    else if (e.key === 'PageUp') next = Math.max(0, at - page);
    if (next === null) return;
    e.preventDefault();
    const k = keys[next];
    if (k) moveTo(k);
  }

  return (
    <div
      ref={scroller}
      className="vlist"
      onScroll={(e) => setView({ top: e.currentTarget.scrollTop, height: e.currentTarget.clientHeight || 600 })}
      onKeyDown={onKeyDown}
      data-testid={testId}
    >
      <div role="list" aria-label={label} className="vlist-inner" style={{ height: total }}>
        {[...visible].sort((a, b) => a - b).map((i) => {
          const r = rows[i]!;
          const style = { top: offsets[i], height: r.kind === 'header' ? headerHeight : rowHeight };
          if (r.kind === 'header')
            return (
              <div key={r.key} className="vlist-header" style={style} aria-hidden="true">
                {r.label}
              </div>
            );
          return (
            <div key={r.key} role="listitem" className="vlist-row" style={style}>
              {renderItem(r.item, { tabIndex: r.key === tabKey ? 0 : -1, 'data-row': r.key, onFocus: () => setFocusKey(r.key) })}
            </div>
          );
        })}
      </div>
    </div>
  );
}
