/** A small month to jump to a date. */
import { useEffect, useState } from 'react';
import { ChevronLeft, ChevronRight } from 'lucide-react';
import { useI18n } from '../../app/i18n';
import { IconButton } from '../../ui/Button';
import { addMonths, dayKey, monthGrid, sameDay, startOfMonth } from './dates';

export function MiniMonth({ value, firstDay, onPick }: { value: Date; firstDay: number; onPick: (d: Date) => void }) {
  const { t, locale } = useI18n();
  const [month, setMonth] = useState(() => startOfMonth(value));
  useEffect(() => setMonth(startOfMonth(value)), [value]);
  const days = monthGrid(month, firstDay);
  const title = new Intl.DateTimeFormat(locale, { month: 'long', year: 'numeric' }).format(month);
  const wd = new Intl.DateTimeFormat(locale, { weekday: 'narrow' });
  const wdLong = new Intl.DateTimeFormat(locale, { weekday: 'long' });
  const full = new Intl.DateTimeFormat(locale, { dateStyle: 'full' });
  const today = new Date();
  return (
    <div className="cal-mini">
      <div className="cal-mini-head">
        <span className="cal-mini-title" aria-live="polite">{title}</span>
        <IconButton label={t('calendar.prevMonth')} icon={<ChevronLeft size={16} aria-hidden="true" />} onClick={() => setMonth(addMonths(month, -1))} />
        <IconButton label={t('calendar.nextMonth')} icon={<ChevronRight size={16} aria-hidden="true" />} onClick={() => setMonth(addMonths(month, 1))} />
      </div>
      <table className="cal-mini-grid">
        <caption className="visually-hidden">{title}</caption>
        <thead>
          <tr>
            {days.slice(0, 7).map((d) => (
              <th key={d.getDay()} scope="col" abbr={wdLong.format(d)}>
                {wd.format(d)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {[0, 1, 2, 3, 4, 5].map((w) => (
            <tr key={w}>
              {days.slice(w * 7, w * 7 + 7).map((d) => (
                <td key={dayKey(d)}>
                  <button
                    type="button"
                    className={`cal-mini-day${d.getMonth() !== month.getMonth() ? ' is-out' : ''}${sameDay(d, today) ? ' is-today' : ''}${sameDay(d, value) ? ' is-selected' : ''}`}
                    aria-label={full.format(d)}
                    aria-pressed={sameDay(d, value)}
                    onClick={() => onPick(d)}
                  >
                    {d.getDate()}
                  </button>
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
