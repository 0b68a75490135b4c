/** The readable recurrence editor (interval, days, monthly by date or weekday, end) and its sentence. */
import { useId } from 'react';
import { useI18n, type Formatters, type TFunction } from '../../app/i18n';
import { WEEKDAYS, nthOf, type Rule, type Weekday } from './rrule';

function weekdayName(locale: string, day: Weekday, style: 'long' | 'short'): string {
  // 2023-01-01 was a Sunday.
  return new Intl.DateTimeFormat(locale, { weekday: style }).format(new Date(2023, 0, 1 + WEEKDAYS.indexOf(day)));
}

export function RecurrenceEditor({ rule, start, onChange }: { rule: Rule; start: Date; onChange: (r: Rule) => void }) {
  const { t, locale } = useI18n();
  const id = useId();
  const unit = rule.freq === 'DAILY' ? 'days' : rule.freq === 'WEEKLY' ? 'weeks' : rule.freq === 'MONTHLY' ? 'months' : 'years';
  const set = (p: Partial<Rule>) => onChange({ ...rule, ...p });
  const nth = nthOf(start);
  const wd = WEEKDAYS[start.getDay()]!;
  return (
    <div className="cal-rule" data-testid="cal-rule-editor">
      <label className="cal-form-inline">
        <span>{t('calendar.repeat.every')}</span>
        <input className="input cal-num" type="number" min={1} max={999} value={rule.interval} onChange={(e) => set({ interval: Math.max(1, Math.min(999, Number(e.target.value) || 1)) })} />
        <span>{t(`calendar.repeat.unit.${unit}`, { count: rule.interval })}</span>
      </label>
      {rule.freq === 'WEEKLY' && (
        <fieldset className="cal-rule-days">
          <legend className="visually-hidden">{t('calendar.repeat.onDays')}</legend>
          {WEEKDAYS.map((d) => {
            const on = rule.byDay.includes(d);
            return (
              <label key={d} className={`cal-daytoggle${on ? ' is-on' : ''}`} title={weekdayName(locale, d, 'long')}>
                <input
                  type="checkbox"
                  className="cal-overlay-input"
                  checked={on}
                  aria-label={weekdayName(locale, d, 'long')}
                  onChange={() => {
                    const next = on ? rule.byDay.filter((x) => x !== d) : [...rule.byDay, d];
                    set({ byDay: next.length ? next : [wd] });
                  }}
                />
                <span aria-hidden="true">{weekdayName(locale, d, 'short').slice(0, 2)}</span>
              </label>
            );
          })}
        </fieldset>
      )}
      {rule.freq === 'MONTHLY' && (
        <fieldset className="cal-rule-monthly">
          <legend className="visually-hidden">{t('calendar.repeat.monthlyHow')}</legend>
          <label className="cal-radio">
            <input type="radio" name={`${id}-m`} checked={rule.monthly === 'date'} onChange={() => set({ monthly: 'date' })} />
            {t('calendar.repeat.onDate', { day: start.getDate() })}
          </label>
          <label className="cal-radio">
            <input type="radio" name={`${id}-m`} checked={rule.monthly === 'weekday'} onChange={() => set({ monthly: 'weekday' })} />
            {t('calendar.repeat.onWeekday', { nth: t(`calendar.nth.${nth === -1 ? 'last' : String(nth)}` as 'calendar.nth.1'), day: weekdayName(locale, wd, 'long') })}
          </label>
        </fieldset>
      )}
      <fieldset className="cal-rule-end">
        <legend className="field-label">{t('calendar.repeat.ends')}</legend>
        <label className="cal-radio">
          <input type="radio" name={`${id}-end`} checked={rule.end === 'never'} onChange={() => set({ end: 'never' })} />
          {t('calendar.repeat.never')}
        </label>
        <label className="cal-radio">
          <input type="radio" name={`${id}-end`} checked={rule.end === 'until'} onChange={() => set({ end: 'until' })} />
          {t('calendar.repeat.until')}
          <input className="input cal-date" type="date" aria-label={t('calendar.repeat.untilDate')} value={rule.until} disabled={rule.end !== 'until'} onChange={(e) => set({ until: e.target.value })} />
        </label>
        <label className="cal-radio">
          <input type="radio" name={`${id}-end`} checked={rule.end === 'count'} onChange={() => set({ end: 'count' })} />
          {t('calendar.repeat.after')}
          <input className="input cal-num" type="number" min={1} max={9999} aria-label={t('calendar.repeat.countLabel')} value={rule.count} disabled={rule.end !== 'count'} onChange={(e) => set({ count: Math.max(1, Number(e.target.value) || 1) })} />
          {t('calendar.repeat.times', { count: rule.count })}
        </label>
      </fieldset>
    </div>
  );
}

/** "Every 2 weeks on Monday and Wednesday, 10 times" in the user's language. */
export function ruleText(t: TFunction, fmt: Formatters, rule: Rule, start: Date, locale: string): string {
  const unit = rule.freq === 'DAILY' ? 'days' : rule.freq === 'WEEKLY' ? 'weeks' : rule.freq === 'MONTHLY' ? 'months' : 'years';
  let s = rule.interval === 1 ? t(`calendar.rule.every1.${unit}`) : t('calendar.rule.everyN', { n: rule.interval, unit: t(`calendar.repeat.unit.${unit}`, { count: rule.interval }) });
  if (rule.freq === 'WEEKLY') {
    const list = new Intl.ListFormat(locale, { type: 'conjunction' }).format(WEEKDAYS.filter((d) => rule.byDay.includes(d)).map((d) => weekdayName(locale, d, 'long')));
    s += ` ${t('calendar.rule.on', { what: list })}`;
  } else if (rule.freq === 'MONTHLY') {
    const nth = nthOf(start);
    s += ` ${rule.monthly === 'date' ? t('calendar.repeat.onDate', { day: start.getDate() }) : t('calendar.repeat.onWeekday', { nth: t(`calendar.nth.${nth === -1 ? 'last' : String(nth)}` as 'calendar.nth.1'), day: weekdayName(locale, WEEKDAYS[start.getDay()]!, 'long') })}`;
  } else if (rule.freq === 'YEARLY') {
    s += ` ${t('calendar.rule.on', { what: new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'long' }).format(start) })}`;
  }
  if (rule.end === 'count') s += `, ${t('calendar.rule.times', { count: rule.count })}`;
  if (rule.end === 'until' && rule.until) s += `, ${t('calendar.rule.until', { date: fmt.date(new Date(`${rule.until}T12:00:00`).getTime()) })}`;
  return s;
}
