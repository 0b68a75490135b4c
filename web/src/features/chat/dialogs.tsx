/** The chat's dialogs: create a channel, browse and join channels, start a conversation, pins, jump to a date. */
import { useState, type FormEvent } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Hash, Lock, X } from 'lucide-react';
import { errorText, useI18n } from '../../app/i18n';
import { navigate } from '../../app/router';
import { useMe } from '../../app/session';
import type { DirectoryUser } from '../../app/types';
import { Button } from '../../ui/Button';
import { AppDialog } from '../../ui/Dialog';
import { FormError, SelectField, TextField } from '../../ui/Field';
import { EmptyState, ErrorState, Skeleton } from '../../ui/States';
import { UserPicker } from '../admin/UserPicker';
import { useDebounced } from '../admin/common';
import { chatApi, chatKeys, type Channel } from './api';
import { ChatMarkdown } from './ChatMarkdown';

export function CreateChannelDialog({ onClose }: { onClose: () => void }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [topic, setTopic] = useState('');
  const [where, setWhere] = useState('org');
  const [visibility, setVisibility] = useState<'public' | 'private'>('public');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const spaces = useQuery({ queryKey: chatKeys.spaces, queryFn: ({ signal }) => chatApi.spaces(signal), staleTime: 5 * 60_000 });
  const mySpaces = (spaces.data ?? []).filter((s) => s.myRole && s.myRole !== 'guest');

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!name.trim()) {
      setError(t('form.required'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const c = await chatApi.createChannel({
        kind: where === 'org' ? 'org' : 'space',
        ...(where === 'org' ? {} : { spaceId: where }),
        name: name.trim(),
        ...(topic.trim() ? { topic: topic.trim() } : {}),
        visibility,
      });
      await qc.invalidateQueries({ queryKey: chatKeys.channels });
      onClose();
      navigate(`/chat/${c.id}`);
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AppDialog
      isOpen
      onClose={onClose}
      title={t('chat.create.title')}
      closeLabel={t('common.close')}
      dismissable={false}
      footer={
        <>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button variant="primary" type="submit" form="chat-create-form" loading={busy}>
            {t('common.create')}
          </Button>
        </>
      }
    >
      <form id="chat-create-form" className="stack" onSubmit={(e) => void submit(e)} noValidate>
        <TextField label={t('chat.create.name')} value={name} onChange={setName} maxLength={80} autoFocus required description={t('chat.create.nameHelp')} />
        <TextField label={t('chat.create.topic')} value={topic} onChange={setTopic} maxLength={250} />
        <SelectField
          label={t('chat.create.where')}
          value={where}
          onChange={setWhere}
          options={[{ value: 'org', label: t('chat.create.org') }, ...mySpaces.map((s) => ({ value: s.id, label: t('chat.create.inSpace', { name: s.name }) }))]}
        />
        <fieldset className="chat-radio">
          <legend className="field-label">{t('chat.create.visibility')}</legend>
          <label>
            <input type="radio" name="vis" checked={visibility === 'public'} onChange={() => setVisibility('public')} /> <Hash size={14} aria-hidden="true" /> {t('chat.create.public')}
            <span className="field-desc">{where === 'org' ? t('chat.create.publicHelpOrg') : t('chat.create.publicHelpSpace')}</span>
          </label>
          <label>
            <input type="radio" name="vis" checked={visibility === 'private'} onChange={() => setVisibility('private')} /> <Lock size={14} aria-hidden="true" /> {t('chat.create.private')}
            <span className="field-desc">{t('chat.create.privateHelp')}</span>
          </label>
        </fieldset>
        <FormError>{error}</FormError>
      </form>
    </AppDialog>
  );
}

export function BrowseDialog({ onClose }: { onClose: () => void }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const [q, setQ] = useState('');
  const term = useDebounced(q.trim(), 200);
  const [error, setError] = useState<string | null>(null);
  const res = useQuery({ queryKey: chatKeys.browse(term), queryFn: ({ signal }) => chatApi.browse(term, signal) });

  async function open(c: Channel) {
    setError(null);
    try {
      if (!c.member && c.kind === 'org') {
        await chatApi.join(c.id);
        await qc.invalidateQueries({ queryKey: chatKeys.channels });
      }
      onClose();
      navigate(`/chat/${c.id}`);
    } catch (e) {
      setError(errorText(t, e));
    }
  }

  return (
    <AppDialog isOpen onClose={onClose} title={t('chat.browse.title')} closeLabel={t('common.close')} size="md">
      <div className="stack">
        <TextField label={t('chat.browse.search')} value={q} onChange={setQ} type="search" autoFocus />
        <FormError>{error}</FormError>
        {res.isPending ? (
          <Skeleton label={t('common.loading')} lines={4} />
        ) : res.isError ? (
          <ErrorState title={t('chat.browse.error')} message={errorText(t, res.error)} retryLabel={t('common.retry')} onRetry={() => void res.refetch()} />
        ) : res.data.length === 0 ? (
          <EmptyState title={t('chat.browse.empty')}>{t('chat.browse.emptyHelp')}</EmptyState>
        ) : (
          <ul className="chat-browse">
            {res.data.map((c) => (
              <li key={c.id} className="chat-browse-item">
                <div>
                  <p className="chat-browse-name">
                    <Hash size={14} aria-hidden="true" /> {c.name}
                  </p>
                  {c.topic && <p className="muted small">{c.topic}</p>}
                </div>
                <Button size="sm" variant={c.member ? 'secondary' : 'primary'} onClick={() => void open(c)} aria-label={c.member ? t('chat.browse.openNamed', { name: c.name }) : t('chat.browse.joinNamed', { name: c.name })}>
                  {c.member ? t('chat.browse.open') : t('chat.join')}
                </Button>
              </li>
            ))}
          </ul>
        )}
      </div>
    </AppDialog>
  );
}

export function NewDmDialog({ onClose }: { onClose: () => void }) {
  const { t } = useI18n();
  const me = useMe();
  const qc = useQueryClient();
  const [people, setPeople] = useState<DirectoryUser[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function start() {
    if (people.length === 0) {
      setError(t('chat.dm.pickSomeone'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const c = await chatApi.openDm(people.map((p) => p.id));
      await qc.invalidateQueries({ queryKey: chatKeys.channels });
      onClose();
      navigate(`/chat/${c.id}`);
    } catch (e) {
      setError(errorText(t, e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AppDialog
      isOpen
      onClose={onClose}
      title={t('chat.dm.new')}
      closeLabel={t('common.close')}
      dismissable={false}
      footer={
        <>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button variant="primary" loading={busy} onClick={() => void start()}>
            {t('chat.dm.start')}
          </Button>
        </>
      }
    >
      <div className="stack chat-dialog-body">
        <p className="muted">{t('chat.dm.help')}</p>
        {people.length > 0 && (
          <ul className="chat-chips" aria-label={t('chat.dm.chosen')}>
            {people.map((p) => (
              <li key={p.id} className="chat-chip">
                {p.displayName}
                <button type="button" className="btn btn-ghost btn-icon btn-icon-sm" aria-label={t('chat.dm.remove', { name: p.displayName })} onClick={() => setPeople((xs) => xs.filter((x) => x.id !== p.id))}>
                  <X size={14} aria-hidden="true" />
                </button>
              </li>
            ))}
          </ul>
        )}
        <UserPicker
          label={t('chat.dm.who')}
          exclude={new Set([me.id, ...people.map((p) => p.id)])}
          disabled={people.length >= 8}
          onPick={(u) => setPeople((xs) => (xs.length >= 8 ? xs : [...xs, u]))}
        />
        {people.length >= 8 && <p className="muted small">{t('chat.dm.max')}</p>}
        <FormError>{error}</FormError>
      </div>
    </AppDialog>
  );
}

export function PinsDialog({ channel, onClose }: { channel: Channel; onClose: () => void }) {
  const { t, fmt } = useI18n();
  const me = useMe();
  const q = useQuery({ queryKey: chatKeys.pins(channel.id), queryFn: ({ signal }) => chatApi.pins(channel.id, signal) });
  return (
    <AppDialog isOpen onClose={onClose} title={t('chat.pins.title')} closeLabel={t('common.close')} size="md">
      {q.isPending ? (
        <Skeleton label={t('common.loading')} lines={3} />
      ) : q.isError ? (
        <ErrorState title={t('chat.pins.error')} message={errorText(t, q.error)} retryLabel={t('common.retry')} onRetry={() => void q.refetch()} />
      ) : q.data.length === 0 ? (
        <EmptyState title={t('chat.pins.empty')}>{t('chat.pins.emptyHelp')}</EmptyState>
      ) : (
        <ul className="chat-pins">
          {q.data.map((m) => (
            <li key={m.id} className="chat-pin">
              <p className="small">
                <strong>{m.author?.displayName ?? m.bot?.name ?? ''}</strong> · <span className="muted">{fmt.dateTime(m.createdAt)}</span>
              </p>
              <ChatMarkdown source={m.text} meLogin={me.login} />
              <Button
                size="sm"
                onClick={() => {
                  onClose();
                  navigate(m.rootId ? `/chat/${channel.id}?m=${m.rootId}&thread=${m.rootId}&reply=${m.id}` : `/chat/${channel.id}?m=${m.id}`);
                }}
              >
                {t('chat.pins.show')}
              </Button>
            </li>
          ))}
        </ul>
      )}
    </AppDialog>
  );
}

export function JumpToDateDialog({ onClose, onJump }: { onClose: () => void; onJump: (ms: number) => Promise<void> }) {
  const { t } = useI18n();
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function submit(e: FormEvent) {
    e.preventDefault();
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    if (!m) {
      setError(t('chat.date.invalid'));
      return;
    }
    const ms = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])).getTime();
    setBusy(true);
    try {
      await onJump(ms);
      onClose();
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <AppDialog
      isOpen
      onClose={onClose}
      title={t('chat.jumpDate')}
      closeLabel={t('common.close')}
      size="sm"
      footer={
        <>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button variant="primary" type="submit" form="chat-date-form" loading={busy}>
            {t('chat.date.go')}
          </Button>
        </>
      }
    >
      <form id="chat-date-form" className="stack" onSubmit={(e) => void submit(e)} noValidate>
        <TextField label={t('chat.date.label')} type="date" value={value} onChange={setValue} autoFocus error={error} max={new Date().toISOString().slice(0, 10)} />
      </form>
    </AppDialog>
  );
}
