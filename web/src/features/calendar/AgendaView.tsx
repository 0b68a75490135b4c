/** The agenda: the coming days' events as a list grouped by day (the phone's default view). */
import type { CSSProperties } from 'react';
import { CalendarDays } from 'lucide-react';
import { useI18n } from '../../app/i18n';
import { EmptyState } from '../../ui/States';
import { Button } from '../../ui/Button';
import { addDays, dayKey, parseDayKey, sameDay } from './dates';
import { bucketByDay, type Item } from './layout';

export function AgendaView({ from, days, items, onOpen, onNew }: { from: Date; days: number; items: Item[]; onOpen: (i: Item) => void; onNew: () => void }) {
  const { t, locale } = useI18n();
  const buckets = bucketByDay(items, from, addDays(from, days));
  const keys = [...buckets.keys()].sort();
  const dayFmt = new Intl.DateTimeFormat(locale, { weekday: 'long', day: 'numeric', month: 'long' });
  const time = new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit' });
  if (keys.length === 0) {
    return (
      <EmptyState icon={<CalendarDays size={32} />} title={t('calendar.agendaEmpty')} action={<Button variant="primary" onClick={onNew}>{t('calendar.newEvent')}</Button>}>
        {t('calendar.agendaEmptyText')}
      </EmptyState>
    );
  }
  const today = new Date();
  return (
    <div className="cal-agenda" data-testid="cal-agenda">
      {keys.map((k) => {
        const d = parseDayKey(k)!;
        return (
          <section key={k} className="cal-agenda-day" aria-labelledby={`agenda-${k}`}>
            <h2 id={`agenda-${k}`} className={`cal-agenda-date${sameDay(d, today) ? ' is-today' : ''}`}>
              {dayFmt.format(d)}
            </h2>
            <ul>
              {buckets.get(k)!.map((it) => (
                <li key={it.key}>
                  <button type="button" className="cal-agenda-item" style={{ '--cal-color': it.cal.color } as CSSProperties} data-testid="cal-event" onClick={() => onOpen(it)}>
                    <span className="cal-agenda-time">
                      {it.allDay || (dayKey(new Date(it.start)) !== k && dayKey(new Date(it.end - 1)) !== k) ? t('calendar.allDay') : `${time.format(it.start)} – ${time.format(it.end)}`}
                    </span>
                    <span className="cal-dot" aria-hidden="true" />
                    <span className="cal-agenda-text">
                      <span className="cal-agenda-title">{it.occ.summary || t('calendar.untitled')}</span>
                      {it.occ.location && <span className="muted">{it.occ.location}</span>}
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          </section>
        );
      })}
    </div>
  );
}
