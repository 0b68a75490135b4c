/**
 * The event form (a dialog; a bottom sheet on phones): title, calendar, all-day, start and end with a
 * time zone, repetition, reminders, location, description; attendees already in the event are shown.
 */
import { useId, useMemo, useState, type FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Plus, Trash2, X } from 'lucide-react';
import { errorText, useI18n } from '../../app/i18n';
import { Button, IconButton } from '../../ui/Button';
import { AppDialog } from '../../ui/Dialog';
import { Checkbox, FormError, SelectField, TextAreaField, TextField } from '../../ui/Field';
import { Skeleton } from '../../ui/States';
import { canWrite, detailsKey, getDetails, setAttendees, type Calendar, type EventDetails, type EventInput, type Scope } from './api';
import { useEventActions } from './actions';
import { DAY_MS, addDays, browserZone, dayKey, instantOf, isZone, localDate, parseDayKey, wallIn, zones } from './dates';
import type { Item } from './layout';
import { Attendees, type Invitee } from './Attendees';
import { RecurrenceEditor, ruleText } from './RecurrenceEditor';
import { WEEKDAYS, defaultRule, formatRule, parseRule, type Freq, type Rule } from './rrule';

export type FormMode = { kind: 'new'; start: number; end: number; allDay: boolean } | { kind: 'edit'; item: Item };

const REMINDERS = [0, 5, 10, 15, 30, 60, 120, 1440, 2880, 10080];

export function EventForm({
  mode,
  calendars,
  defaultCalendarId,
  onClose,
  askScope,
}: {
  mode: FormMode;
  calendars: Calendar[];
  defaultCalendarId: string;
  onClose: () => void;
  askScope: (kind: 'edit' | 'delete', allowThis: boolean) => Promise<Scope | null>;
}) {
  const { t } = useI18n();
  const item = mode.kind === 'edit' ? mode.item : null;
  const details = useQuery({
    queryKey: item ? detailsKey(item.cal.id, item.occ.objectId, item.occ.recurring ? item.occ.recurrenceId : null) : ['calendar', 'details', 'none'],
    queryFn: ({ signal }) => getDetails(item!.cal.id, item!.occ.objectId, item!.occ.recurring ? item!.occ.recurrenceId : null, signal),
    enabled: item !== null,
    staleTime: 0,
  });
  const title = item ? t('calendar.editEvent') : t('calendar.newEvent');
  return (
    <AppDialog isOpen onClose={onClose} title={title} closeLabel={t('common.close')} size="lg" dismissable={false} testId="cal-event-form">
      {item && details.isPending ? (
        <Skeleton label={t('common.loading')} lines={6} />
      ) : item && details.isError ? (
        <FormError>{errorText(t, details.error)}</FormError>
      ) : (
        <FormBody mode={mode} details={details.data ?? null} calendars={calendars} defaultCalendarId={defaultCalendarId} onClose={onClose} askScope={askScope} />
      )}
    </AppDialog>
  );
}

function FormBody({
  mode,
  details,
  calendars,
  defaultCalendarId,
  onClose,
  askScope,
}: {
  mode: FormMode;
  details: EventDetails | null;
  calendars: Calendar[];
  defaultCalendarId: string;
  onClose: () => void;
  askScope: (kind: 'edit' | 'delete', allowThis: boolean) => Promise<Scope | null>;
}) {
  const { t, fmt, locale } = useI18n();
  const actions = useEventActions();
  const item = mode.kind === 'edit' ? mode.item : null;
  const init = useMemo(() => {
    const allDay = item ? item.allDay : mode.kind === 'new' && mode.allDay;
    const tz = details?.timeZone && isZone(details.timeZone) ? details.timeZone : browserZone();
    const s = item ? item.start : mode.kind === 'new' ? mode.start : Date.now();
    const e = item ? item.end : mode.kind === 'new' ? mode.end : Date.now();
    const sw = allDay ? `${dayKey(new Date(s))}T00:00` : wallIn(s, tz);
    const ew = allDay ? `${dayKey(new Date(Math.max(s, e - DAY_MS)))}T00:00` : wallIn(e, tz);
    return { allDay, tz, sw, ew };
  }, [item, mode, details]);
  const startDate0 = parseDayKey(init.sw.slice(0, 10)) ?? new Date();
  const parsedRule = details?.rrule ? parseRule(details.rrule, startDate0) : null;

  const [summary, setSummary] = useState(details?.summary ?? '');
  const [calendarId, setCalendarId] = useState(item?.cal.id ?? defaultCalendarId);
  const [allDay, setAllDay] = useState(init.allDay);
  const [startDate, setStartDate] = useState(init.sw.slice(0, 10));
  const [startTime, setStartTime] = useState(init.sw.slice(11, 16));
  const [endDate, setEndDate] = useState(init.ew.slice(0, 10));
  const [endTime, setEndTime] = useState(init.ew.slice(11, 16));
  const [tz, setTz] = useState(init.tz);
  const [location, setLocation] = useState(details?.location ?? '');
  const [description, setDescription] = useState(details?.description ?? '');
  const [alarms, setAlarms] = useState<number[]>(details ? details.alarms.map((a) => a.minutesBefore) : []);
  const [repeat, setRepeat] = useState<'none' | Freq | 'kept'>(details?.rrule ? (parsedRule ? parsedRule.freq : 'kept') : 'none');
  const [rule, setRule] = useState<Rule>(parsedRule ?? defaultRule('WEEKLY', startDate0));
  const [ruleChanged, setRuleChanged] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [invitees, setInvitees] = useState<Invitee[] | null>(null);
  const zoneList = useMemo(() => zones(), []);
  const ids = useId();
  const startDay = parseDayKey(startDate) ?? startDate0;
  const isRecurring = Boolean(item?.occ.recurring);
  const fromMs = allDay ? localDate(startDate).getTime() : instantOf(`${startDate}T${startTime}`, tz);
  const toMs = allDay ? addDays(localDate(endDate), 1).getTime() : instantOf(`${endDate}T${endTime}`, tz);
  const readOnly = item !== null && !canWrite(item.cal);
  const eventCalendars = calendars.filter((c) => c.components.includes('VEVENT') && (canWrite(c) || c.id === item?.cal.id));

  const onRepeat = (v: string) => {
    setRuleChanged(true);
    if (v === 'none' || v === 'kept') return setRepeat(v);
    const f = v as Freq;
    setRepeat(f);
    setRule((r) => ({ ...r, freq: f, byDay: r.byDay.length ? r.byDay : defaultRule(f, startDay).byDay }));
  };

  function build(): EventInput | null {
    if (!parseDayKey(startDate) || !parseDayKey(endDate)) {
      setError(t('calendar.form.badDate'));
      return null;
    }
    const input: EventInput = { summary: summary.trim(), start: startDate, location, description, alarms: alarms.map((m) => ({ minutesBefore: m })) };
    if (allDay) {
      if (endDate < startDate) {
        setError(t('calendar.form.endBeforeStart'));
        return null;
      }
      input.allDay = true;
      input.start = startDate;
      input.end = dayKey(addDays(localDate(endDate), 1));
    } else {
      if (!/^\d{2}:\d{2}$/.test(startTime) || !/^\d{2}:\d{2}$/.test(endTime)) {
        setError(t('calendar.form.badTime'));
        return null;
      }
      input.allDay = false;
      input.start = `${startDate}T${startTime}`;
      input.end = `${endDate}T${endTime}`;
      input.timeZone = tz;
      if (instantOf(input.end, tz) < instantOf(input.start, tz)) {
        setError(t('calendar.form.endBeforeStart'));
        return null;
      }
    }
    if (repeat === 'none') input.rrule = null;
    else if (repeat !== 'kept') {
      if (rule.end === 'until' && !parseDayKey(rule.until)) {
        setError(t('calendar.form.badUntil'));
        return null;
      }
      input.rrule = formatRule({ ...rule, freq: repeat }, startDay, allDay);
    }
    return input;
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    const input = build();
    if (!input) return;
    setBusy(true);
    try {
      if (!item) {
        const ref = await actions.create(calendarId, input);
        if (invitees) await setAttendees(calendarId, ref.id, invitees.map((i) => i.input));
      } else {
        let scope: Scope = 'all';
        if (isRecurring) {
          const s = await askScope('edit', !ruleChanged);
          if (!s) return;
          scope = s;
        }
        await actions.save(item, input, scope, ruleChanged || !isRecurring);
        if (invitees) await setAttendees(item.cal.id, item.occ.objectId, invitees.map((i) => i.input));
        if (calendarId !== item.cal.id && (!isRecurring || scope === 'all')) await actions.changeCalendar(item, calendarId);
      }
      onClose();
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    if (!item) return;
    setError(null);
    let scope: Scope = 'all';
    if (isRecurring) {
      const s = await askScope('delete', true);
      if (!s) return;
      scope = s;
    } else if (!confirming) {
      setConfirming(true);
      return;
    }
    setBusy(true);
    try {
      await actions.remove(item, scope);
      onClose();
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  }

  const reminderLabel = (m: number): string =>
    m === 0 ? t('calendar.reminder.atStart') : m % 1440 === 0 ? t('calendar.reminder.days', { count: m / 1440 }) : m % 60 === 0 ? t('calendar.reminder.hours', { count: m / 60 }) : t('calendar.reminder.minutes', { count: m });

  return (
    <form className="cal-form stack" onSubmit={(e) => void submit(e)} noValidate>
      {readOnly && item && <p className="cal-readonly" role="note">{t('calendar.readOnly', { name: item.cal.owner?.displayName ?? item.cal.name })}</p>}
      <fieldset className="cal-form-fields stack" disabled={readOnly}>
      <TextField label={t('calendar.form.title')} value={summary} onChange={setSummary} autoFocus maxLength={1000} placeholder={t('calendar.untitled')} />
      <div className="cal-form-row">
        <SelectField label={t('calendar.form.calendar')} value={calendarId} onChange={setCalendarId} options={eventCalendars.map((c) => ({ value: c.id, label: c.name }))} />
        <Checkbox label={t('calendar.allDay')} checked={allDay} onChange={setAllDay} className="cal-form-allday" />
      </div>
      <fieldset className="cal-form-when">
        <legend className="field-label">{t('calendar.form.when')}</legend>
        <div className="cal-form-times">
          <label className="cal-form-inline">
            <span>{t('calendar.form.startDate')}</span>
            <input className="input" type="date" value={startDate} required onChange={(e) => {
              const v = e.target.value;
              // The end follows the start, keeping the event's length in days.
              const a = parseDayKey(startDate);
              const b = parseDayKey(v);
              const en = parseDayKey(endDate);
              if (a && b && en) setEndDate(dayKey(addDays(en, Math.round((b.getTime() - a.getTime()) / DAY_MS))));
              // A weekly rule on the start's own weekday follows the start.
              if (a && b && rule.byDay.length === 1 && rule.byDay[0] === WEEKDAYS[a.getDay()]) setRule({ ...rule, byDay: [WEEKDAYS[b.getDay()]!] });
              setStartDate(v);
            }} />
          </label>
          {!allDay && (
            <label className="cal-form-inline">
              <span>{t('calendar.form.startTime')}</span>
              <input className="input" type="time" value={startTime} step={300} required onChange={(e) => setStartTime(e.target.value)} />
            </label>
          )}
          <label className="cal-form-inline">
            <span>{t('calendar.form.endDate')}</span>
            <input className="input" type="date" value={endDate} required onChange={(e) => setEndDate(e.target.value)} />
          </label>
          {!allDay && (
            <label className="cal-form-inline">
              <span>{t('calendar.form.endTime')}</span>
              <input className="input" type="time" value={endTime} step={300} required onChange={(e) => setEndTime(e.target.value)} />
            </label>
          )}
        </div>
        {!allDay && (
          <label className="cal-form-inline cal-form-tz">
            <span>{t('calendar.form.timeZone')}</span>
            <select className="input select" value={tz} onChange={(e) => setTz(e.target.value)}>
              {(zoneList.includes(tz) ? zoneList : [tz, ...zoneList]).map((z) => (
                <option key={z} value={z}>
                  {z.replace(/_/g, ' ')}
                </option>
              ))}
            </select>
          </label>
        )}
      </fieldset>

      <div className="stack-sm">
        <label className="field-label" htmlFor={`${ids}-repeat`}>
          {t('calendar.form.repeat')}
        </label>
        <select id={`${ids}-repeat`} className="input select" value={repeat} onChange={(e) => onRepeat(e.target.value)}>
          <option value="none">{t('calendar.repeat.none')}</option>
          <option value="DAILY">{t('calendar.repeat.daily')}</option>
          <option value="WEEKLY">{t('calendar.repeat.weekly')}</option>
          <option value="MONTHLY">{t('calendar.repeat.monthly')}</option>
          <option value="YEARLY">{t('calendar.repeat.yearly')}</option>
          {details?.rrule && !parsedRule && <option value="kept">{t('calendar.repeat.kept')}</option>}
        </select>
        {repeat === 'kept' && details?.rrule && (
          <p className="cal-rule-kept" data-testid="cal-rule-kept">
            {t('calendar.repeat.keptText')} <code>{details.rrule}</code>
          </p>
        )}
        {repeat !== 'none' && repeat !== 'kept' && (
          <RecurrenceEditor
            rule={{ ...rule, freq: repeat }}
            start={startDay}
            onChange={(r) => {
              setRuleChanged(true);
              setRule(r);
            }}
          />
        )}
        {repeat !== 'none' && repeat !== 'kept' && (
          <p className="muted cal-rule-text" aria-live="polite" data-testid="cal-rule-text">
            {ruleText(t, fmt, { ...rule, freq: repeat }, startDay, locale)}
          </p>
        )}
        {isRecurring && details && details.exceptions > 0 && <p className="muted">{t('calendar.form.exceptions', { count: details.exceptions })}</p>}
      </div>

      <fieldset className="cal-form-reminders">
        <legend className="field-label">{t('calendar.form.reminders')}</legend>
        <ul>
          {alarms.map((m, i) => (
            <li key={i}>
              <select className="input select" aria-label={t('calendar.form.reminderN', { n: i + 1 })} value={m} onChange={(e) => setAlarms(alarms.map((x, j) => (j === i ? Number(e.target.value) : x)))}>
                {(REMINDERS.includes(m) ? REMINDERS : [m, ...REMINDERS]).map((v) => (
                  <option key={v} value={v}>
                    {reminderLabel(v)}
                  </option>
                ))}
              </select>
              <IconButton label={t('calendar.form.removeReminder', { n: i + 1 })} icon={<X size={16} aria-hidden="true" />} onClick={() => setAlarms(alarms.filter((_, j) => j !== i))} />
            </li>
          ))}
        </ul>
        {alarms.length < 5 && (
          <Button size="sm" variant="ghost" icon={<Plus size={16} aria-hidden="true" />} onClick={() => setAlarms([...alarms, 10])}>
            {t('calendar.form.addReminder')}
          </Button>
        )}
        {details && details.otherAlarms > 0 && <p className="muted">{t('calendar.form.otherAlarms', { count: details.otherAlarms })}</p>}
      </fieldset>

      <TextField label={t('calendar.form.location')} value={location} onChange={setLocation} maxLength={1000} />
      <TextAreaField label={t('calendar.form.description')} value={description} onChange={setDescription} rows={3} maxLength={20000} />

      </fieldset>
      {!readOnly && <Attendees item={item} from={fromMs} to={toMs} onChange={setInvitees} />}

      <FormError>{error}</FormError>
      <div className="cal-form-foot">
        {item && !readOnly && (
          <Button variant="danger" icon={<Trash2 size={16} aria-hidden="true" />} onClick={() => void remove()} disabled={busy}>
            {confirming ? t('calendar.confirmDelete') : t('calendar.delete')}
          </Button>
        )}
        <span className="cal-spacer" />
        <Button onClick={onClose}>{t('common.cancel')}</Button>
        {!readOnly && (
          <Button variant="primary" type="submit" loading={busy}>
            {t('common.save')}
          </Button>
        )}
      </div>
    </form>
  );
}
