/**
 * The month view: six weeks, at most a few events per day and "+N more" for the rest (a thousand events
 * render as a few hundred elements), drag an event to another day, a click on a day's empty space creates.
 */
import { useMemo, useRef, useState, type CSSProperties, type PointerEvent as ReactPointerEvent } from 'react';
import { useI18n } from '../../app/i18n';
import { AppDialog } from '../../ui/Dialog';
import { DAY_MS, addDays, dayKey, parseDayKey, sameDay, startOfDay } from './dates';
import { bucketByDay, type Item } from './layout';
import { canWrite } from './api';

const PER_DAY = 3;

export function MonthView({
  month,
  days,
  items,
  onOpen,
  onMove,
  onCreate,
  onDay,
}: {
  month: Date;
  days: Date[];
  items: Item[];
  onOpen: (item: Item) => void;
  onMove: (item: Item, start: number, end: number) => void;
  onCreate: (start: number, end: number, allDay: boolean) => void;
  onDay: (d: Date) => void;
}) {
  const { t, locale } = useI18n();
  const buckets = useMemo(() => bucketByDay(items, days[0]!, addDays(days[days.length - 1]!, 1)), [items, days]);
  const [more, setMore] = useState<Date | null>(null);
  const [drag, setDrag] = useState<{ item: Item; from: string; over: string; x: number; y: number; moved: boolean } | null>(null);
  const suppress = useRef(false);
  const wd = new Intl.DateTimeFormat(locale, { weekday: 'short' });
  const dn = new Intl.DateTimeFormat(locale, { day: 'numeric' });
  const dnMonth = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short' });
  const full = new Intl.DateTimeFormat(locale, { dateStyle: 'full' });
  const time = new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit' });
  const today = new Date();

  const onDown = (e: ReactPointerEvent<HTMLElement>, item: Item, day: string) => {
    if (e.button !== 0 || !canWrite(item.cal)) return;
    e.currentTarget.setPointerCapture(e.pointerId);
    setDrag({ item, from: day, over: day, x: e.clientX, y: e.clientY, moved: false });
  };
  const onMoveP = (e: ReactPointerEvent<HTMLElement>) => {
    if (!drag) return;
    if (!drag.moved && Math.abs(e.clientX - drag.x) < 5 && Math.abs(e.clientY - drag.y) < 5) return;
    const el = document.elementFromPoint(e.clientX, e.clientY)?.closest<HTMLElement>('[data-month-day]');
    setDrag({ ...drag, moved: true, over: el?.dataset.monthDay ?? drag.over });
  };
  const onUp = () => {
    if (!drag) return;
    setDrag(null);
    if (!drag.moved) return;
    suppress.current = true;
    window.setTimeout(() => (suppress.current = false), 0);
    const a = parseDayKey(drag.from);
    const b = parseDayKey(drag.over);
    if (!a || !b) return;
    const n = Math.round((b.getTime() - a.getTime()) / DAY_MS);
    if (n === 0) return;
    const s = addDays(new Date(drag.item.start), n).getTime();
    const e2 = addDays(new Date(drag.item.end), n).getTime();
    onMove(drag.item, s, e2);
  };

  const chip = (it: Item, day: string) => (
    <button
      key={it.key}
      type="button"
      className={`cal-chip${it.allDay || it.end - it.start >= DAY_MS ? '' : ' is-timed'}${drag?.moved && drag.item.key === it.key ? ' is-ghost' : ''}`}
      style={{ '--cal-color': it.cal.color } as CSSProperties}
      data-testid="cal-event"
      onPointerDown={(e) => onDown(e, it, day)}
      onPointerMove={onMoveP}
      onPointerUp={onUp}
      onPointerCancel={() => setDrag(null)}
      onClick={() => !suppress.current && onOpen(it)}
    >
      {!(it.allDay || it.end - it.start >= DAY_MS) && <span className="cal-chip-time">{time.format(it.start)} </span>}
      <span className="cal-chip-title">{it.occ.summary || t('calendar.untitled')}</span>
      <span className="visually-hidden">{`, ${it.allDay ? `${t('calendar.allDay')}, ` : ''}${it.cal.name}${it.occ.recurring ? `, ${t('calendar.recurring')}` : ''}`}</span>
    </button>
  );

  return (
    <div className="cal-month" data-testid="cal-month" data-events={items.length}>
      <div className="cal-month-head" aria-hidden="true">
        {days.slice(0, 7).map((d) => (
          <div key={d.getDay()} className="cal-month-wd">
            {wd.format(d)}
          </div>
        ))}
      </div>
      <div className="cal-month-grid">
        {days.map((d) => {
          const k = dayKey(d);
          const list = buckets.get(k) ?? [];
          const shown = list.length > PER_DAY ? list.slice(0, PER_DAY - 1) : list;
          const rest = list.length - shown.length;
          return (
            <div
              key={k}
              className={`cal-month-cell${d.getMonth() !== month.getMonth() ? ' is-out' : ''}${sameDay(d, today) ? ' is-today' : ''}${drag?.moved && drag.over === k ? ' is-drop' : ''}`}
              data-month-day={k}
              onClick={(e) => e.target === e.currentTarget && onCreate(startOfDay(d).getTime(), addDays(startOfDay(d), 1).getTime(), true)}
            >
              <button type="button" className="cal-month-dn" onClick={() => onDay(d)}>
                {d.getDate() === 1 ? dnMonth.format(d) : dn.format(d)}
                <span className="visually-hidden">{`, ${full.format(d)}`}</span>
              </button>
              {shown.map((it) => chip(it, k))}
              {rest > 0 && (
                <button type="button" className="cal-more" onClick={() => setMore(d)}>
                  {t('calendar.more', { count: rest })}
                  <span className="visually-hidden">{`, ${full.format(d)}`}</span>
                </button>
              )}
            </div>
          );
        })}
      </div>
      {more && (
        <AppDialog isOpen onClose={() => setMore(null)} title={full.format(more)} closeLabel={t('common.close')} size="sm">
          <ul className="cal-more-list">
            {(buckets.get(dayKey(more)) ?? []).map((it) => (
              <li key={it.key}>
                <button
                  type="button"
                  className="cal-chip"
                  style={{ '--cal-color': it.cal.color } as CSSProperties}
                  onClick={() => {
                    setMore(null);
                    onOpen(it);
                  }}
                >
                  <span className="cal-chip-time">{it.allDay ? t('calendar.allDay') : time.format(it.start)}</span>
                  <span className="cal-chip-title">{it.occ.summary || t('calendar.untitled')}</span>
                </button>
              </li>
            ))}
          </ul>
        </AppDialog>
      )}
    </div>
  );
}
