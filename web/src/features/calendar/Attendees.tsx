/**
 * Participants of an event: for the organizer (or a new event), people picked from the directory or by
 * e-mail address, with whether they are busy at that time; for an invitee, their answer (accept, maybe,
 * decline). Invitations and answers are delivered by the server's scheduling (RFC 6638).
 */
import { useEffect, useId, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { UserPlus, X } from 'lucide-react';
import { errorText, useI18n } from '../../app/i18n';
import { Button, IconButton } from '../../ui/Button';
import { attendeesKey, freeBusy, getAttendees, replyTo, searchDirectory, type AttendeeInput, type Partstat } from './api';
import type { Item } from './layout';

export interface Invitee {
  key: string;
  input: AttendeeInput;
  name: string;
  email: string | null;
  userId: string | null;
  partstat: string;
}

const EMAIL = /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/;

export function partstatKey(p: string): 'accepted' | 'declined' | 'tentative' | 'pending' {
  return p === 'ACCEPTED' ? 'accepted' : p === 'DECLINED' ? 'declined' : p === 'TENTATIVE' ? 'tentative' : 'pending';
}

/** The participants section; `onChange` receives the wanted list (null while unchanged). */
export function Attendees({ item, from, to, onChange }: { item: Item | null; from: number; to: number; onChange: (list: Invitee[] | null) => void }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const id = useId();
  const rid = item?.occ.recurring ? item.occ.recurrenceId : null;
  const current = useQuery({
    queryKey: item ? attendeesKey(item.cal.id, item.occ.objectId, rid) : ['calendar', 'attendees', 'none'],
    queryFn: ({ signal }) => getAttendees(item!.cal.id, item!.occ.objectId, rid, signal),
    enabled: item !== null,
    staleTime: 0,
  });
  const [list, setList] = useState<Invitee[] | null>(null);
  const [q, setQ] = useState('');
  const [debounced, setDebounced] = useState('');
  const [answerError, setAnswerError] = useState<string | null>(null);
  const [onlyThis, setOnlyThis] = useState(false);
  useEffect(() => {
    const h = window.setTimeout(() => setDebounced(q.trim()), 200);
    return () => window.clearTimeout(h);
  }, [q]);
  const found = useQuery({ queryKey: ['directory', 'users', debounced], queryFn: ({ signal }) => searchDirectory(debounced, signal), enabled: debounced.length >= 2 });

  const initial: Invitee[] = (current.data?.attendees ?? []).filter((a) => !a.self && a.cutype !== 'ROOM' && a.cutype !== 'RESOURCE').map((a) => ({
    key: a.userId ?? a.address,
    input: a.userId ? { userId: a.userId } : { email: a.email ?? a.address.replace(/^mailto:/i, ''), ...(a.name ? { name: a.name } : {}) },
    name: a.name || a.email || a.address,
    email: a.email,
    userId: a.userId,
    partstat: a.partstat,
  }));
  const shown = list ?? initial;
  const userIds = shown.map((x) => x.userId).filter((x): x is string => x !== null);
  const fromIso = new Date(from).toISOString();
  const toIso = new Date(Math.max(to, from + 60_000)).toISOString();
  const fb = useQuery({ queryKey: ['calendar', 'freebusy', userIds.join(','), fromIso, toIso], queryFn: ({ signal }) => freeBusy(userIds, fromIso, toIso, signal), enabled: userIds.length > 0 && Number.isFinite(from) });
  const busy = new Set((fb.data?.users ?? []).filter((u) => u.busy.length > 0).map((u) => u.id));

  const update = (next: Invitee[]) => {
    setList(next);
    onChange(next);
  };
  const add = (i: Invitee) => {
    if (shown.some((x) => x.key === i.key)) return;
    update([...shown, i]);
    setQ('');
  };

  if (item && current.isPending) return null;
  const role = current.data?.role ?? 'none';

  if (role === 'attendee') {
    const answer = async (p: Partstat) => {
      setAnswerError(null);
      try {
        await replyTo(item!.cal.id, item!.occ.objectId, p, onlyThis && rid ? rid : undefined);
        await qc.invalidateQueries({ queryKey: ['calendar'] });
      } catch (e) {
        setAnswerError(errorText(t, e));
      }
    };
    const org = current.data?.organizer;
    return (
      <section className="cal-form-attendees" aria-labelledby={`${id}-h`}>
        <h3 id={`${id}-h`} className="field-label">{t('calendar.form.attendees')}</h3>
        {org && <p className="muted">{t('calendar.form.organizer', { name: org.name || org.email || org.address })}</p>}
        <ul>
          {(current.data?.attendees ?? []).map((a) => (
            <li key={a.address}>
              {a.name || a.email || a.address} <span className="muted">· {t(`calendar.partstat.${partstatKey(a.partstat)}`)}</span>
            </li>
          ))}
        </ul>
        <div className="cal-rsvp" role="group" aria-label={t('calendar.rsvp.label')}>
          {(['ACCEPTED', 'TENTATIVE', 'DECLINED'] as const).map((p) => (
            <Button key={p} size="sm" variant={current.data?.myPartstat === p ? 'primary' : 'secondary'} aria-pressed={current.data?.myPartstat === p} onClick={() => void answer(p)}>
              {t(`calendar.rsvp.${partstatKey(p)}` as 'calendar.rsvp.accepted')}
            </Button>
          ))}
        </div>
        {rid && (
          <label className="cal-radio">
            <input type="checkbox" checked={onlyThis} onChange={(e) => setOnlyThis(e.target.checked)} />
            {t('calendar.rsvp.onlyThis')}
          </label>
        )}
        {answerError && <p className="field-error" role="alert">{answerError}</p>}
      </section>
    );
  }

  const looksEmail = EMAIL.test(q.trim());
  return (
    <section className="cal-form-attendees" aria-labelledby={`${id}-h`} data-testid="cal-attendees">
      <h3 id={`${id}-h`} className="field-label">{t('calendar.form.attendees')}</h3>
      {shown.length > 0 && (
        <ul className="cal-invitees">
          {shown.map((a) => (
            <li key={a.key}>
              <span className="cal-invitee-name">{a.name}</span>
              {a.email && a.email !== a.name && <span className="muted"> {a.email}</span>}
              <span className="muted"> · {t(`calendar.partstat.${partstatKey(a.partstat)}`)}</span>
              {a.userId && fb.data && (
                <span className={`cal-fb ${busy.has(a.userId) ? 'is-busy' : 'is-free'}`}>{busy.has(a.userId) ? t('calendar.fb.busy') : t('calendar.fb.free')}</span>
              )}
              <IconButton label={t('calendar.attendee.remove', { name: a.name })} icon={<X size={16} aria-hidden="true" />} onClick={() => update(shown.filter((x) => x.key !== a.key))} />
            </li>
          ))}
        </ul>
      )}
      <div className="cal-invite">
        <label className="visually-hidden" htmlFor={`${id}-q`}>{t('calendar.attendee.search')}</label>
        <input id={`${id}-q`} className="input" type="search" value={q} placeholder={t('calendar.attendee.search')} onChange={(e) => setQ(e.target.value)} autoComplete="off" />
        {looksEmail && (
          <Button size="sm" icon={<UserPlus size={16} aria-hidden="true" />} onClick={() => add({ key: `mailto:${q.trim().toLowerCase()}`, input: { email: q.trim() }, name: q.trim(), email: q.trim(), userId: null, partstat: 'NEEDS-ACTION' })}>
            {t('calendar.attendee.addEmail', { email: q.trim() })}
          </Button>
        )}
      </div>
      {debounced.length >= 2 && found.data && (
        <ul className="cal-found" aria-label={t('calendar.attendee.results')}>
          {found.data.items.filter((u) => !shown.some((x) => x.userId === u.id)).slice(0, 8).map((u) => (
            <li key={u.id}>
              <button type="button" className="cal-found-btn" onClick={() => add({ key: u.id, input: { userId: u.id }, name: u.displayName, email: u.email, userId: u.id, partstat: 'NEEDS-ACTION' })}>
                <UserPlus size={16} aria-hidden="true" />
                <span>{u.displayName}</span>
                {u.email && <span className="muted">{u.email}</span>}
              </button>
            </li>
          ))}
          {found.data.items.length === 0 && <li className="muted">{t('calendar.attendee.none')}</li>}
        </ul>
      )}
      <p className="muted">{t('calendar.attendee.note')}</p>
    </section>
  );
}
