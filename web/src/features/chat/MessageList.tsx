/**
 * The virtualised message list (only the rows near the viewport are in the page): day separators,
 * grouped consecutive messages, the "new messages" line, older history loaded on scroll up with the
 * reading position kept, sticking to the bottom while at the bottom, and centring a permalink target.
 */
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { ArrowDown } from 'lucide-react';
import { useI18n } from '../../app/i18n';
import { Spinner } from '../../ui/Spinner';
import type { Message } from './api';

type Row =
  | { kind: 'start'; key: string }
  | { kind: 'day'; key: string; ms: number }
  | { kind: 'new'; key: string }
  | { kind: 'msg'; key: string; m: Message; grouped: boolean };

const GROUP_MS = 5 * 60_000;

function dayKey(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

export function buildRows(items: Message[], hasMoreBefore: boolean, newSince: string | null, meId: string): Row[] {
  const rows: Row[] = [];
  if (!hasMoreBefore) rows.push({ kind: 'start', key: 'start' });
  let prev: Message | null = null;
  let newShown = false;
  // The line goes where the read marker really is: only once a message at or before it is loaded (or the very first one).
  let boundaryKnown = !hasMoreBefore;
  for (const m of items) {
    if (newSince !== null && !m.pending && m.id <= newSince) boundaryKnown = true;
    const day = dayKey(m.createdAt);
    const newDay = !prev || dayKey(prev.createdAt) !== day;
    if (newDay) rows.push({ kind: 'day', key: `day-${day}`, ms: m.createdAt });
    let isNew = false;
    if (!newShown && boundaryKnown && newSince !== null && !m.pending && m.id > newSince && m.author?.id !== meId) {
      rows.push({ kind: 'new', key: 'new' });
      newShown = true;
      isNew = true;
    }
    const grouped =
      !newDay && !isNew && prev !== null && !prev.deleted && !m.deleted && prev.author !== null && prev.author.id === m.author?.id && !m.bot && !prev.bot && m.createdAt - prev.createdAt < GROUP_MS;
    rows.push({ kind: 'msg', key: m.pending ? `p-${m.id}` : m.id, m, grouped });
    prev = m;
  }
  return rows;
}

interface Props {
  label: string;
  items: Message[];
  hasMoreBefore: boolean;
  hasMoreAfter: boolean;
  loadingOlder: boolean;
  generation: number;
  newSince: string | null;
  meId: string;
  target: string | null;
  start: ReactNode;
  renderMessage: (m: Message, grouped: boolean) => ReactNode;
  onLoadOlder: () => void;
  onLoadNewer: () => void;
  onJumpLatest: () => void;
  onBottomChange: (atBottom: boolean) => void;
}

export function MessageList({ label, items, hasMoreBefore, hasMoreAfter, loadingOlder, generation, newSince, meId, target, start, renderMessage, onLoadOlder, onLoadNewer, onJumpLatest, onBottomChange }: Props) {
  const { t, fmt } = useI18n();
  const scroller = useRef<HTMLDivElement>(null);
  const rows = useMemo(() => buildRows(items, hasMoreBefore, newSince, meId), [items, hasMoreBefore, newSince, meId]);
  const atBottom = useRef(true);
  const [showJump, setShowJump] = useState(false);
  const anchor = useRef<{ key: string; delta: number } | null>(null);
  const positioned = useRef<number>(-1);

  const v = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: (i) => {
      const r = rows[i];
      if (!r) return 40;
      if (r.kind === 'msg') return r.grouped ? 28 : 60;
      if (r.kind === 'start') return 96;
      return 36;
    },
    getItemKey: (i) => rows[i]?.key ?? i,
    overscan: 8,
  });

  const setBottom = useCallback(
    (b: boolean) => {
      if (atBottom.current !== b) {
        atBottom.current = b;
        onBottomChange(b);
      }
      setShowJump(!b || hasMoreAfter);
    },
    [onBottomChange, hasMoreAfter],
  );

  const toBottom = useCallback(() => {
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, []);

  // Position once per loaded window: the permalink target, else the "new messages" line, else the bottom.
  useLayoutEffect(() => {
    if (rows.length === 0 || positioned.current === generation) return;
    positioned.current = generation;
    anchor.current = null;
    const ti = target ? rows.findIndex((r) => r.key === target) : -1;
    const ni = rows.findIndex((r) => r.kind === 'new');
    if (ti >= 0) {
      setBottom(false);
      v.scrollToIndex(ti, { align: 'center' });
    } else if (ni >= 0 && rows.length - ni > 12) {
      setBottom(false);
      v.scrollToIndex(ni, { align: 'start' });
    } else {
      setBottom(!hasMoreAfter);
      v.scrollToIndex(rows.length - 1, { align: 'end' });
      requestAnimationFrame(toBottom);
    }
  }, [rows, generation, target, v, toBottom, setBottom, hasMoreAfter]);

  // A new permalink target inside the window already loaded (jump to a date, a pin): centre it.
  const targetDone = useRef<string | null>(target);
  useLayoutEffect(() => {
    if (!target || target === targetDone.current || positioned.current !== generation) return;
    const i = rows.findIndex((r) => r.key === target);
    if (i < 0) return;
    targetDone.current = target;
    anchor.current = null;
    setBottom(false);
    v.scrollToIndex(i, { align: 'center' });
  }, [target, rows, generation, v, setBottom]);

  // Older history arrived above: keep the row that was at the top where it was.
  useLayoutEffect(() => {
    const a = anchor.current;
    if (!a) return;
    const i = rows.findIndex((r) => r.key === a.key);
    if (i <= 0) return;
    anchor.current = null;
    const startAt = v.getOffsetForIndex(i, 'start')?.[0];
    if (startAt !== undefined) v.scrollToOffset(startAt + a.delta);
  }, [rows, v]);

  // While at the bottom, new messages and late measurements keep it at the bottom.
  const total = v.getTotalSize();
  useLayoutEffect(() => {
    if (atBottom.current && positioned.current === generation && !hasMoreAfter) toBottom();
  }, [total, rows.length, toBottom, generation, hasMoreAfter]);

  function onScroll() {
    const el = scroller.current;
    if (!el) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
    setBottom(bottom && !hasMoreAfter);
    if (el.scrollTop < 600 && hasMoreBefore && !loadingOlder && positioned.current === generation) {
      const first = v.getVirtualItems().find((it) => it.end > el.scrollTop && rows[it.index]?.kind === 'msg');
      if (first) anchor.current = { key: String(rows[first.index]?.key), delta: el.scrollTop - first.start };
      onLoadOlder();
    }
    if (hasMoreAfter && el.scrollHeight - el.scrollTop - el.clientHeight < 600) onLoadNewer();
  }

  // A window replaced (permalink, jump) may not fill the screen: load more around it.
  useEffect(() => {
    const el = scroller.current;
    if (!el || positioned.current !== generation) return;
    if (el.scrollHeight <= el.clientHeight + 10) {
      if (hasMoreBefore && !loadingOlder) onLoadOlder();
      else if (hasMoreAfter) onLoadNewer();
    }
  }, [generation, rows.length, hasMoreBefore, hasMoreAfter, loadingOlder, onLoadOlder, onLoadNewer]);

  return (
    <div className="chat-list-wrap">
      {loadingOlder && (
        <div className="chat-loading-older" role="status">
          <Spinner /> {t('chat.loadingOlder')}
        </div>
      )}
      <div ref={scroller} className="chat-scroller" tabIndex={0} role="region" aria-label={label} onScroll={onScroll} data-testid="chat-scroller">
        <div role="list" className="chat-virtual" style={{ height: total }}>
          {v.getVirtualItems().map((vi) => {
            const r = rows[vi.index];
            if (!r) return null;
            return (
              <div key={vi.key} role="listitem" data-index={vi.index} ref={v.measureElement} className="chat-vrow" style={{ transform: `translateY(${vi.start}px)` }}>
                {r.kind === 'start' ? (
                  start
                ) : r.kind === 'day' ? (
                  <div className="chat-day">
                    <span>{fmt.dateLong(r.ms)}</span>
                  </div>
                ) : r.kind === 'new' ? (
                  <div className="chat-new-line" data-testid="chat-new-line">
                    <span>{t('chat.newMessages')}</span>
                  </div>
                ) : (
                  renderMessage(r.m, r.grouped)
                )}
              </div>
            );
          })}
        </div>
      </div>
      {showJump && (
        <button
          type="button"
          className="btn btn-secondary btn-sm chat-jump-latest"
          onClick={() => {
            if (hasMoreAfter) onJumpLatest();
            else {
              toBottom();
              setBottom(true);
            }
          }}
        >
          <ArrowDown size={16} aria-hidden="true" />
          <span>{t('chat.jumpLatest')}</span>
        </button>
      )}
    </div>
  );
}
