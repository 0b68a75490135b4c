/**
 * The day and week views: an all-day row, then a 24-hour grid per day with overlapping events side by
 * side, the current-time line, click-drag to create, drag to move (also to another day) and the bottom
 * edge to resize. Every event is a button (Enter opens it); pointer gestures are an addition.
 */
import { useEffect, useMemo, useRef, useState, type CSSProperties, type PointerEvent as ReactPointerEvent } from 'react';
import { useI18n } from '../../app/i18n';
import { addDays, dayKey, sameDay, startOfDay } from './dates';
import { isLong, layoutDay, type Item } from './layout';
import { canWrite } from './api';

export const HOUR_PX = 48;
const SNAP = 15;
const MIN_PX = HOUR_PX / 60;

interface Drag {
  item: Item;
  mode: 'move' | 'resize';
  x0: number;
  y0: number;
  day0: number;
  moved: boolean;
  /** Minutes moved (or added to the end), and days moved. */
  dMin: number;
  dDay: number;
}

interface Draft {
  day: number;
  a: number;
  b: number;
}

export function TimeGrid({
  days,
  items,
  onCreate,
  onOpen,
  onMove,
  onDay,
}: {
  days: Date[];
  items: Item[];
  onCreate: (start: number, end: number, allDay: boolean) => void;
  onOpen: (item: Item) => void;
  onMove: (item: Item, start: number, end: number) => void;
  onDay: (d: Date) => void;
}) {
  const { t, locale } = useI18n();
  const scrollRef = useRef<HTMLDivElement>(null);
  const colRefs = useRef<Array<HTMLDivElement | null>>([]);
  const [now, setNow] = useState(() => Date.now());
  const [draft, setDraft] = useState<Draft | null>(null);
  const [drag, setDrag] = useState<Drag | null>(null);
  const suppressClick = useRef(false);

  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), 60_000);
    return () => window.clearInterval(id);
  }, []);
  useEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const today = days.some((d) => sameDay(d, new Date()));
    const h = today ? Math.max(0, new Date().getHours() - 2) : 7;
    el.scrollTop = h * HOUR_PX;
    // Only when the range changes.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [dayKey(days[0]!), days.length]);

  const timed = useMemo(() => days.map((d) => layoutDay(items, d)), [days, items]);
  const long = useMemo(
    () =>
      days.map((d) => {
        const a = startOfDay(d).getTime();
        const b = addDays(startOfDay(d), 1).getTime();
        return items.filter((i) => isLong(i) && i.start < b && i.end > a);
      }),
    [days, items],
  );

  const weekday = new Intl.DateTimeFormat(locale, { weekday: days.length > 1 ? 'short' : 'long' });
  const dayNum = new Intl.DateTimeFormat(locale, { day: 'numeric' });
  const fullDay = new Intl.DateTimeFormat(locale, { dateStyle: 'full' });
  const hourFmt = new Intl.DateTimeFormat(locale, { hour: 'numeric' });
  const timeFmt = new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit' });

  const minutesAt = (clientY: number, col: HTMLElement): number => {
    const y = clientY - col.getBoundingClientRect().top;
    return Math.max(0, Math.min(24 * 60, Math.floor(y / MIN_PX / SNAP) * SNAP));
  };
  const at = (day: number, min: number): number => {
    const d = startOfDay(days[day]!);
    return new Date(d.getFullYear(), d.getMonth(), d.getDate(), 0, min).getTime();
  };
  const dayUnder = (clientX: number): number => {
    for (let i = 0; i < days.length; i++) {
      const r = colRefs.current[i]?.getBoundingClientRect();
      if (r && clientX >= r.left && clientX < r.right) return i;
    }
    return -1;
  };

  // ---- create by click-drag on the empty grid
  const onColDown = (e: ReactPointerEvent<HTMLDivElement>, day: number) => {
    if (e.button !== 0 || e.target !== e.currentTarget) return;
    e.preventDefault();
    e.currentTarget.setPointerCapture(e.pointerId);
    const m = minutesAt(e.clientY, e.currentTarget);
    setDraft({ day, a: m, b: m + SNAP });
  };
  const onColMove = (e: ReactPointerEvent<HTMLDivElement>) => {
    if (!draft) return;
    // The end is the quarter hour nearest the pointer.
    const y = e.clientY - e.currentTarget.getBoundingClientRect().top;
    const m = Math.max(0, Math.min(24 * 60, Math.round(y / MIN_PX / SNAP) * SNAP));
    setDraft({ ...draft, b: Math.max(m, draft.a + SNAP) });
  };
  const onColUp = () => {
    if (!draft) return;
    const single = draft.b - draft.a <= SNAP;
    const a = draft.a;
    const b = single ? Math.min(24 * 60, a + 60) : draft.b;
    setDraft(null);
    onCreate(at(draft.day, a), at(draft.day, b), false);
  };

  // ---- move and resize
  const onEvDown = (e: ReactPointerEvent<HTMLElement>, item: Item, day: number, mode: Drag['mode']) => {
    if (e.button !== 0 || !canWrite(item.cal)) return;
    e.stopPropagation();
    e.currentTarget.setPointerCapture(e.pointerId);
    setDrag({ item, mode, x0: e.clientX, y0: e.clientY, day0: day, moved: false, dMin: 0, dDay: 0 });
  };
  const onEvMove = (e: ReactPointerEvent<HTMLElement>) => {
    if (!drag) return;
    const dy = e.clientY - drag.y0;
    const dx = e.clientX - drag.x0;
    if (!drag.moved && Math.abs(dy) < 5 && Math.abs(dx) < 5) return;
    const dMin = Math.round(dy / MIN_PX / SNAP) * SNAP;
    const under = dayUnder(e.clientX);
    const dDay = drag.mode === 'move' && under >= 0 ? under - drag.day0 : drag.dDay;
    setDrag({ ...drag, moved: true, dMin, dDay: drag.mode === 'move' ? dDay : 0 });
  };
  const onEvUp = () => {
    if (!drag) return;
    setDrag(null);
    if (!drag.moved) return;
    suppressClick.current = true;
    window.setTimeout(() => (suppressClick.current = false), 0);
    const { item } = drag;
    if (drag.mode === 'resize') {
      const end = Math.max(item.start + SNAP * 60_000, item.end + drag.dMin * 60_000);
      if (end !== item.end) onMove(item, item.start, end);
      return;
    }
    if (drag.dMin === 0 && drag.dDay === 0) return;
    const s = addDays(new Date(item.start), drag.dDay).getTime() + drag.dMin * 60_000;
    onMove(item, s, s + (item.end - item.start));
  };

  /** What the screen shows by colour and position, said in words (calendar, series, all day). */
  const more = (i: Item): string => `${i.allDay ? `${t('calendar.allDay')}, ` : ''}${i.cal.name}${i.occ.recurring ? `, ${t('calendar.recurring')}` : ''}`;
  const colorStyle = (i: Item): CSSProperties => ({ '--cal-color': i.cal.color } as CSSProperties);
  const today = new Date(now);
  const nowMin = today.getHours() * 60 + today.getMinutes();

  return (
    <div className={`cal-tg${days.length === 1 ? ' cal-tg-day' : ''}`} data-testid="cal-timegrid">
      <div className="cal-tg-head" role="presentation">
        <div className="cal-tg-gutter" />
        {days.map((d) => (
          <div key={dayKey(d)} className={`cal-tg-dayhead${sameDay(d, today) ? ' is-today' : ''}`}>
            <button type="button" className="cal-tg-daybtn" onClick={() => onDay(d)} title={fullDay.format(d)}>
              <span className="cal-tg-wd">{weekday.format(d)}</span>
              <span className="cal-tg-dn">{dayNum.format(d)}</span>
            </button>
          </div>
        ))}
      </div>
      <div className="cal-tg-allday">
        <div className="cal-tg-gutter cal-tg-alldaylabel">{t('calendar.allDay')}</div>
        {days.map((d, i) => (
          <div
            key={dayKey(d)}
            className="cal-tg-alldaycell"
            data-day={dayKey(d)}
            onDoubleClick={(e) => e.target === e.currentTarget && onCreate(startOfDay(d).getTime(), addDays(startOfDay(d), 1).getTime(), true)}
          >
            {long[i]!.map((it) => (
              <button key={it.key} type="button" className="cal-chip" style={colorStyle(it)} data-testid="cal-event" onClick={() => onOpen(it)}>
                <span className="cal-chip-title">{it.occ.summary || t('calendar.untitled')}</span>
                <span className="visually-hidden">{`, ${more(it)}`}</span>
              </button>
            ))}
          </div>
        ))}
      </div>
      <div className="cal-tg-scroll" ref={scrollRef} tabIndex={0} role="region" aria-label={t('calendar.hoursRegion')}>
        <div className="cal-tg-body">
          <div className="cal-tg-gutter cal-tg-hours" aria-hidden="true">
            {Array.from({ length: 24 }, (_, h) => (
              <div key={h} className="cal-tg-hour">
                {h > 0 && <span>{hourFmt.format(new Date(2026, 0, 1, h))}</span>}
              </div>
            ))}
          </div>
          {days.map((d, di) => (
            <div
              key={dayKey(d)}
              ref={(el) => {
                colRefs.current[di] = el;
              }}
              className="cal-tg-col"
              data-day={dayKey(d)}
              data-testid="cal-day-column"
              onPointerDown={(e) => onColDown(e, di)}
              onPointerMove={onColMove}
              onPointerUp={onColUp}
              onPointerCancel={() => setDraft(null)}
            >
              {timed[di]!.map((p) => {
                const dragging = drag?.item.key === p.item.key && drag.moved;
                const style: CSSProperties = {
                  ...colorStyle(p.item),
                  top: p.from * MIN_PX,
                  height: Math.max(18, (p.to - p.from) * MIN_PX - 2),
                  left: `calc(${(p.col / p.cols) * 100}% + 2px)`,
                  width: `calc(${100 / p.cols}% - 4px)`,
                };
                const short = p.to - p.from < 45;
                return (
                  <button
                    key={p.item.key}
                    type="button"
                    className={`cal-ev${dragging ? ' is-ghost' : ''}${short ? ' is-short' : ''}`}
                    style={style}
                    data-testid="cal-event"
                    onPointerDown={(e) => onEvDown(e, p.item, di, 'move')}
                    onPointerMove={onEvMove}
                    onPointerUp={onEvUp}
                    onPointerCancel={() => setDrag(null)}
                    onClick={() => !suppressClick.current && onOpen(p.item)}
                  >
                    <span className="cal-ev-title">{p.item.occ.summary || t('calendar.untitled')}</span>{' '}
                    <span className="cal-ev-time">
                      {timeFmt.format(p.item.start)}
                      <span className="visually-hidden">{` – ${timeFmt.format(p.item.end)}, ${more(p.item)}`}</span>
                    </span>
                    <span
                      className="cal-ev-resize"
                      data-testid="cal-event-resize"
                      aria-hidden="true"
                      onPointerDown={(e) => onEvDown(e, p.item, di, 'resize')}
                      onPointerMove={(e) => {
                        e.stopPropagation();
                        onEvMove(e);
                      }}
                      onPointerUp={(e) => {
                        e.stopPropagation();
                        onEvUp();
                      }}
                    />
                  </button>
                );
              })}
              {drag?.moved && (() => {
                const it = drag.item;
                const day0 = startOfDay(days[drag.day0]!).getTime();
                const from = Math.round((it.start - day0) / 60_000) + (drag.mode === 'move' ? drag.dMin : 0);
                const to = Math.round((it.end - day0) / 60_000) + drag.dMin;
                if (drag.day0 + drag.dDay !== di) return null;
                return <div className="cal-ev cal-ev-preview" style={{ ...colorStyle(it), top: Math.max(0, from) * MIN_PX, height: Math.max(18, (to - Math.max(0, from)) * MIN_PX - 2) }} aria-hidden="true">{it.occ.summary}</div>;
              })()}
              {draft?.day === di && (
                <div className="cal-ev cal-ev-draft" style={{ top: draft.a * MIN_PX, height: (draft.b - draft.a) * MIN_PX - 2 }} aria-hidden="true">
                  {timeFmt.format(at(di, draft.a))} – {timeFmt.format(at(di, draft.b))}
                </div>
              )}
              {sameDay(d, today) && <div className="cal-now" style={{ top: nowMin * MIN_PX }} aria-hidden="true" data-testid="cal-now" />}
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}
