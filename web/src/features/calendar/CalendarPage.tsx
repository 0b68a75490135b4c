/**
 * The calendar app: day, week, month and agenda views of the user's calendars (several, coloured, shown or
 * hidden — remembered on this device), a mini month, keyboard shortcuts, events created by click-drag or
 * by the form, moved and resized by dragging; series edited "this one / this and following / all".
 */
import { useCallback, useEffect, useMemo, useState, type CSSProperties } from 'react';
import { useQueries, useQuery } from '@tanstack/react-query';
import { ChevronLeft, ChevronRight, Keyboard, ListFilter, Pencil, Plus } from 'lucide-react';
import { errorText, useI18n } from '../../app/i18n';
import { navigate, useSearchParams } from '../../app/router';
import { Button, IconButton } from '../../ui/Button';
import { useDocumentTitle } from '../../ui/Page';
import { ErrorState, Skeleton } from '../../ui/States';
import { useToast } from '../../ui/Toast';
import { calendarsKey, listCalendars, listOccurrences, listShared, occurrencesKey, sharedKey, type Calendar, type Scope } from './api';
import { useEventActions } from './actions';
import { AgendaView } from './AgendaView';
import { addDays, addMonths, dayKey, firstDayOf, monthGrid, parseDayKey, startOfDay, startOfMonth, startOfWeek } from './dates';
import { CalendarDialog, ScopeDialog, ShortcutsHelp } from './Dialogs';
import { EventForm, type FormMode } from './EventForm';
import { toItem, type Item } from './layout';
import { MiniMonth } from './MiniMonth';
import { MonthView } from './MonthView';
import { TimeGrid } from './TimeGrid';
import './calendar.css';

export type View = 'day' | 'week' | 'month' | 'agenda';
const VIEWS: View[] = ['day', 'week', 'month', 'agenda'];
const HIDDEN_KEY = 'bastide.calendar.hidden';
const AGENDA_DAYS = 30;

function readHidden(): string[] {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(HIDDEN_KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

function usePhone(): boolean {
  const q = '(max-width: 640px)';
  const [phone, setPhone] = useState(() => window.matchMedia(q).matches);
  useEffect(() => {
    const m = window.matchMedia(q);
    const on = () => setPhone(m.matches);
    m.addEventListener('change', on);
    return () => m.removeEventListener('change', on);
  }, []);
  return phone;
}

function isEditable(el: EventTarget | null): boolean {
  if (!(el instanceof HTMLElement)) return false;
  return el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) || el.closest('[role="combobox"],[role="menu"],[role="listbox"]') !== null;
}

export function rangeOf(view: View, date: Date, firstDay: number): { from: Date; to: Date; days: Date[] } {
  if (view === 'day') return { from: startOfDay(date), to: addDays(startOfDay(date), 1), days: [startOfDay(date)] };
  if (view === 'week') {
    const s = startOfWeek(date, firstDay);
    return { from: s, to: addDays(s, 7), days: Array.from({ length: 7 }, (_, i) => addDays(s, i)) };
  }
  if (view === 'month') {
    const days = monthGrid(date, firstDay);
    return { from: days[0]!, to: addDays(days[41]!, 1), days };
  }
  return { from: startOfDay(date), to: addDays(startOfDay(date), AGENDA_DAYS), days: [] };
}

export default function CalendarPage() {
  const { t, locale } = useI18n();
  const toast = useToast();
  const params = useSearchParams();
  const phone = usePhone();
  const v = params.get('view');
  const view: View = VIEWS.includes(v as View) ? (v as View) : phone ? 'agenda' : 'week';
  const date = useMemo(() => parseDayKey(params.get('date')) ?? startOfDay(new Date()), [params]);
  const firstDay = useMemo(() => firstDayOf(locale), [locale]);
  const [hidden, setHidden] = useState<string[]>(readHidden);
  const [form, setForm] = useState<FormMode | null>(null);
  const [scopeAsk, setScopeAsk] = useState<{ kind: 'edit' | 'delete'; allowThis: boolean; resolve: (s: Scope | null) => void } | null>(null);
  const [calDialog, setCalDialog] = useState<{ calendar: Calendar | null } | null>(null);
  const [help, setHelp] = useState(false);
  const [sideOpen, setSideOpen] = useState(false);
  const [moved, setMoved] = useState<Record<string, { start: number; end: number }>>({});
  const actions = useEventActions();
  useDocumentTitle(t('calendar.title'));

  const go = useCallback(
    (p: { view?: View; date?: Date }) => {
      const s = new URLSearchParams();
      s.set('view', p.view ?? view);
      s.set('date', dayKey(p.date ?? date));
      navigate(`/calendar?${s.toString()}`, { replace: true });
    },
    [view, date],
  );
  const step = useCallback(
    (n: number) => {
      if (view === 'day') go({ date: addDays(date, n) });
      else if (view === 'week') go({ date: addDays(date, 7 * n) });
      else if (view === 'month') go({ date: addMonths(startOfMonth(date), n) });
      else go({ date: addDays(date, AGENDA_DAYS * n) });
    },
    [view, date, go],
  );

  const defaultName = t('calendar.defaultName');
  const calendars = useQuery({
    queryKey: calendarsKey,
    queryFn: ({ signal }) => listCalendars(signal),
    // The calendar made on first access is named in English by the server: shown in the user's language.
    select: useCallback((d: { calendars: Calendar[] }) => ({ calendars: d.calendars.map((c) => (c.slug === 'default' && c.name === 'Calendar' ? { ...c, name: defaultName } : c)) }), [defaultName]),
  });
  const shared = useQuery({ queryKey: sharedKey, queryFn: ({ signal }) => listShared(signal) });
  const eventCals = useMemo(() => (calendars.data?.calendars ?? []).filter((c) => c.components.includes('VEVENT')), [calendars.data]);
  const sharedCals = useMemo(() => (shared.data?.calendars ?? []).filter((c) => c.components.includes('VEVENT')), [shared.data]);
  const visible = useMemo(() => [...eventCals, ...sharedCals].filter((c) => !hidden.includes(c.id)), [eventCals, sharedCals, hidden]);
  const range = useMemo(() => rangeOf(view, date, firstDay), [view, date, firstDay]);
  const fromIso = range.from.toISOString();
  const toIso = range.to.toISOString();
  const occ = useQueries({
    queries: visible.map((c) => ({
      queryKey: occurrencesKey(c.id, fromIso, toIso),
      queryFn: ({ signal }: { signal: AbortSignal }) => listOccurrences(c.id, fromIso, toIso, signal),
      placeholderData: (prev: unknown) => prev as { occurrences: [] } | undefined,
    })),
  });
  const occData = occ.map((q) => q.data);
  const items = useMemo(() => {
    const out: Item[] = [];
    visible.forEach((c, i) => {
      for (const o of occData[i]?.occurrences ?? []) {
        if (o.component !== 'VEVENT') continue;
        const it = toItem(o, c);
        if (!it) continue;
        const m = moved[it.key];
        out.push(m ? { ...it, start: m.start, end: m.end } : it);
      }
    });
    return out;
    // occData identity changes each render; its members are stable between fetches.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [visible, moved, ...occData]);
  const loading = calendars.isPending || occ.some((q) => q.isPending);
  const failed = occ.find((q) => q.isError);

  const defaultCal = visible.find((c) => !c.shared)?.id ?? eventCals[0]?.id ?? '';
  const newEvent = useCallback(
    (start?: number, end?: number, allDay = false) => {
      if (!defaultCal) return;
      const base = new Date(date);
      const now = new Date();
      const s = start ?? new Date(base.getFullYear(), base.getMonth(), base.getDate(), now.getHours() + 1).getTime();
      setForm({ kind: 'new', start: s, end: end ?? s + 3_600_000, allDay });
    },
    [date, defaultCal],
  );

  const askScope = useCallback((kind: 'edit' | 'delete', allowThis: boolean) => new Promise<Scope | null>((resolve) => setScopeAsk({ kind, allowThis, resolve })), []);

  const onMove = useCallback(
    async (item: Item, start: number, end: number) => {
      let scope: Scope = 'all';
      if (item.occ.recurring) {
        const s = await askScope('edit', true);
        if (!s) return;
        scope = s;
      }
      setMoved((m) => ({ ...m, [item.key]: { start, end } }));
      try {
        await actions.move(item, start, end, scope);
      } catch (e) {
        toast(errorText(t, e), 'error');
      } finally {
        setMoved((m) => {
          const n = { ...m };
          delete n[item.key];
          return n;
        });
      }
    },
    [actions, askScope, t, toast],
  );

  // Keyboard shortcuts of the app (the shell keeps "?" and "g" then a letter).
  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
      if (isEditable(e.target) || document.querySelector('.modal-overlay')) return;
      const k = e.key;
      const map: Record<string, () => void> = {
        t: () => go({ date: startOfDay(new Date()) }),
        d: () => go({ view: 'day' }),
        w: () => go({ view: 'week' }),
        m: () => go({ view: 'month' }),
        a: () => go({ view: 'agenda' }),
        j: () => step(1),
        n: () => step(1),
        ArrowRight: () => step(1),
        k: () => step(-1),
        p: () => step(-1),
        ArrowLeft: () => step(-1),
        c: () => newEvent(),
      };
      const f = map[k.length === 1 ? k.toLowerCase() : k];
      if (!f || (e.shiftKey && k.length === 1)) return;
      // Arrows keep their meaning inside the views' controls.
      if ((k === 'ArrowRight' || k === 'ArrowLeft') && e.target instanceof HTMLElement && e.target.closest('.cal-mini, input, select')) return;
      e.preventDefault();
      f();
    }
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [go, step, newEvent]);

  const toggle = (id: string) => {
    const next = hidden.includes(id) ? hidden.filter((x) => x !== id) : [...hidden, id];
    setHidden(next);
    try {
      localStorage.setItem(HIDDEN_KEY, JSON.stringify(next));
    } catch {
      /* not remembered */
    }
  };

  const title = useMemo(() => {
    if (view === 'day') return new Intl.DateTimeFormat(locale, { dateStyle: 'full' }).format(date);
    if (view === 'month') return new Intl.DateTimeFormat(locale, { month: 'long', year: 'numeric' }).format(date);
    const f = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', year: 'numeric' });
    const end = addDays(range.to, -1);
    return (f as Intl.DateTimeFormat & { formatRange: (a: Date, b: Date) => string }).formatRange(range.from, end);
  }, [view, date, locale, range]);

  if (calendars.isError) {
    return (
      <div className="page">
        <ErrorState title={t('calendar.loadError')} message={errorText(t, calendars.error)} retryLabel={t('common.retry')} onRetry={() => void calendars.refetch()} />
      </div>
    );
  }

  return (
    <div className={`cal${sideOpen ? ' is-side-open' : ''}`} data-view={view}>
      <aside className="cal-side" aria-label={t('calendar.sidebar')}>
        <Button variant="primary" icon={<Plus size={18} aria-hidden="true" />} onClick={() => newEvent()} className="cal-new" disabled={!defaultCal}>
          {t('calendar.newEvent')}
        </Button>
        <MiniMonth value={date} firstDay={firstDay} onPick={(d) => go({ date: d })} />
        <section className="cal-list" aria-labelledby="cal-list-title">
          <div className="cal-list-head">
            <h2 id="cal-list-title">{t('calendar.myCalendars')}</h2>
            <IconButton label={t('calendar.cal.newTitle')} icon={<Plus size={16} aria-hidden="true" />} onClick={() => setCalDialog({ calendar: null })} />
          </div>
          {calendars.isPending ? (
            <Skeleton label={t('common.loading')} lines={2} />
          ) : (
            <ul>
              {eventCals.map((c) => (
                <li key={c.id} className="cal-list-item" style={{ '--cal-color': c.color } as CSSProperties}>
                  <label className="cal-list-check">
                    <input type="checkbox" checked={!hidden.includes(c.id)} onChange={() => toggle(c.id)} />
                    <span className="cal-list-name">{c.name}</span>
                  </label>
                  <IconButton label={t('calendar.cal.editNamed', { name: c.name })} icon={<Pencil size={14} aria-hidden="true" />} onClick={() => setCalDialog({ calendar: c })} className="btn-icon-sm" />
                </li>
              ))}
            </ul>
          )}
        </section>
        {sharedCals.length > 0 && (
          <section className="cal-list" aria-labelledby="cal-shared-title">
            <div className="cal-list-head">
              <h2 id="cal-shared-title">{t('calendar.sharedWithMe')}</h2>
            </div>
            <ul>
              {sharedCals.map((c) => (
                <li key={c.id} className="cal-list-item" style={{ '--cal-color': c.color } as CSSProperties}>
                  <label className="cal-list-check">
                    <input type="checkbox" checked={!hidden.includes(c.id)} onChange={() => toggle(c.id)} />
                    <span className="cal-list-name">
                      {c.name}
                      <span className="cal-list-owner">{` · ${c.owner?.displayName ?? ''}${c.permission === 'read' ? ` (${t('calendar.readOnlyShort')})` : ''}`}</span>
                    </span>
                  </label>
                </li>
              ))}
            </ul>
          </section>
        )}
      </aside>
      <section className="cal-main" aria-labelledby="cal-title">
        <div className="cal-toolbar">
          <Button onClick={() => go({ date: startOfDay(new Date()) })}>{t('calendar.today')}</Button>
          <IconButton label={t('calendar.previous')} icon={<ChevronLeft size={18} aria-hidden="true" />} onClick={() => step(-1)} />
          <IconButton label={t('calendar.next')} icon={<ChevronRight size={18} aria-hidden="true" />} onClick={() => step(1)} />
          <h1 id="cal-title" className="cal-title" aria-live="polite">
            {title}
          </h1>
          <div className="cal-views" role="group" aria-label={t('calendar.view')}>
            {VIEWS.map((x) => (
              <button key={x} type="button" className="cal-view-btn" aria-pressed={view === x} onClick={() => go({ view: x })}>
                {t(`calendar.view.${x}`)}
              </button>
            ))}
          </div>
          <IconButton label={t('calendar.keys.title')} icon={<Keyboard size={18} aria-hidden="true" />} onClick={() => setHelp(true)} className="cal-keys-btn" />
          <IconButton label={t('calendar.showCalendars')} icon={<ListFilter size={18} aria-hidden="true" />} onClick={() => setSideOpen(!sideOpen)} aria-expanded={sideOpen} className="cal-side-toggle" />
        </div>
        <div className="cal-body" aria-busy={loading || undefined}>
          {failed ? (
            <ErrorState title={t('calendar.loadError')} message={errorText(t, failed.error)} retryLabel={t('common.retry')} onRetry={() => occ.forEach((q) => q.isError && void q.refetch())} />
          ) : calendars.isPending ? (
            <Skeleton label={t('common.loading')} lines={8} />
          ) : eventCals.length === 0 ? (
            <ErrorState title={t('calendar.noCalendar')} message={t('calendar.noCalendarText')} retryLabel={t('calendar.cal.newTitle')} onRetry={() => setCalDialog({ calendar: null })} />
          ) : view === 'month' ? (
            <MonthView month={date} days={range.days} items={items} onOpen={(i) => setForm({ kind: 'edit', item: i })} onMove={(i, s, e) => void onMove(i, s, e)} onCreate={(s, e, a) => newEvent(s, e, a)} onDay={(d) => go({ view: 'day', date: d })} />
          ) : view === 'agenda' ? (
            <AgendaView from={range.from} days={AGENDA_DAYS} items={items} onOpen={(i) => setForm({ kind: 'edit', item: i })} onNew={() => newEvent()} />
          ) : (
            <TimeGrid days={range.days} items={items} onCreate={(s, e, a) => newEvent(s, e, a)} onOpen={(i) => setForm({ kind: 'edit', item: i })} onMove={(i, s, e) => void onMove(i, s, e)} onDay={(d) => go({ view: 'day', date: d })} />
          )}
          {loading && !calendars.isPending && <span className="visually-hidden" role="status">{t('common.loading')}</span>}
        </div>
      </section>
      <Button variant="primary" icon={<Plus size={22} aria-hidden="true" />} onClick={() => newEvent()} className="cal-fab" aria-label={t('calendar.newEvent')} disabled={!defaultCal} />
      {form && (
        <EventForm
          key={form.kind === 'edit' ? form.item.key : 'new'}
          mode={form}
          calendars={[...(calendars.data?.calendars ?? []), ...sharedCals]}
          defaultCalendarId={defaultCal}
          onClose={() => setForm(null)}
          askScope={askScope}
        />
      )}
      {scopeAsk && (
        <ScopeDialog
          kind={scopeAsk.kind}
          allowThis={scopeAsk.allowThis}
          onDone={(s) => {
            scopeAsk.resolve(s);
            setScopeAsk(null);
          }}
        />
      )}
      {calDialog && <CalendarDialog calendar={calDialog.calendar} canDelete={eventCals.length > 1} onClose={() => setCalDialog(null)} />}
      {help && <ShortcutsHelp onClose={() => setHelp(false)} />}
    </div>
  );
}
