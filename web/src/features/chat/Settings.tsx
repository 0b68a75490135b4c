/** Channel settings: about (name, topic, @channel, retention, archive, leave), members, integrations, notifications. */
import { useState, type FormEvent } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Tab, TabList, TabPanel, Tabs } from 'react-aria-components/Tabs';
import { Trash2, UserMinus } from 'lucide-react';
import { errorText, useI18n } from '../../app/i18n';
import { navigate } from '../../app/router';
import { useMe } from '../../app/session';
import { Button } from '../../ui/Button';
import { CopyButton } from '../../ui/Copy';
import { AppDialog, ConfirmDialog } from '../../ui/Dialog';
import { Checkbox, FormError, SelectField, TextField } from '../../ui/Field';
import { EmptyState, ErrorState, Skeleton } from '../../ui/States';
import { useToast } from '../../ui/Toast';
import { UserPicker } from '../admin/UserPicker';
import { chatApi, chatKeys, channelTitle, type Channel, type ChannelNotify, type MentionAll, type NotifyLevel } from './api';
import { notificationsSupported, setNotifyPref, useNotifyPref } from './live';
import { forgetChannel } from './store';

export function ChannelSettingsDialog({ channel, onClose }: { channel: Channel; onClose: () => void }) {
  const { t } = useI18n();
  const me = useMe();
  const isDm = channel.kind === 'dm' || channel.kind === 'group';
  return (
    <AppDialog isOpen onClose={onClose} title={t('chat.settings.title', { name: channelTitle(channel, me.id) })} closeLabel={t('common.close')} size="lg" testId="chat-settings">
      <Tabs className="chat-tabs">
        <TabList aria-label={t('chat.settings.sections')} className="chat-tablist">
          <Tab id="about" className="chat-tab">
            {t('chat.settings.about')}
          </Tab>
          <Tab id="members" className="chat-tab">
            {t('chat.settings.members')}
          </Tab>
          {!isDm && (
            <Tab id="hooks" className="chat-tab">
              {t('chat.settings.hooks')}
            </Tab>
          )}
          <Tab id="notify" className="chat-tab">
            {t('chat.settings.notifications')}
          </Tab>
        </TabList>
        <TabPanel id="about" className="chat-tabpanel">
          <About channel={channel} onClose={onClose} />
        </TabPanel>
        <TabPanel id="members" className="chat-tabpanel">
          <Members channel={channel} />
        </TabPanel>
        {!isDm && (
          <TabPanel id="hooks" className="chat-tabpanel">
            <Hooks channel={channel} />
          </TabPanel>
        )}
        <TabPanel id="notify" className="chat-tabpanel">
          <Notifications channel={channel} />
        </TabPanel>
      </Tabs>
    </AppDialog>
  );
}

function About({ channel, onClose }: { channel: Channel; onClose: () => void }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const toast = useToast();
  const isDm = channel.kind === 'dm' || channel.kind === 'group';
  const [name, setName] = useState(channel.name);
  const [topic, setTopic] = useState(channel.topic);
  const [mentionAll, setMentionAll] = useState<MentionAll>(channel.mentionAll);
  const [retain, setRetain] = useState(channel.retentionDays !== null);
  const [days, setDays] = useState(String(channel.retentionDays ?? 365));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirm, setConfirm] = useState<'leave' | null>(null);
  const can = channel.canManage;

  async function save(e: FormEvent) {
    e.preventDefault();
    const n = Number(days);
    if (retain && (!Number.isInteger(n) || n < 1 || n > 36500)) {
      setError(t('chat.settings.retentionInvalid'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await chatApi.updateChannel(channel.id, {
        ...(isDm ? {} : { name: name.trim() }),
        topic: topic.trim(),
        mentionAll,
        retentionDays: retain ? n : null,
      });
      await qc.invalidateQueries({ queryKey: chatKeys.channels });
      await qc.invalidateQueries({ queryKey: chatKeys.channel(channel.id) });
      toast(t('chat.settings.saved'), 'success');
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  }

  async function archive(on: boolean) {
    try {
      await chatApi.updateChannel(channel.id, { archived: on });
      await qc.invalidateQueries({ queryKey: chatKeys.channels });
      await qc.invalidateQueries({ queryKey: chatKeys.channel(channel.id) });
      toast(on ? t('chat.settings.archivedToast') : t('chat.settings.unarchivedToast'), 'success');
    } catch (err) {
      toast(errorText(t, err), 'error');
    }
  }

  return (
    <div className="stack">
      <form className="stack" onSubmit={(e) => void save(e)} noValidate>
        {!isDm && <TextField label={t('chat.create.name')} value={name} onChange={setName} maxLength={80} disabled={!can} />}
        <TextField label={t('chat.create.topic')} value={topic} onChange={setTopic} maxLength={250} disabled={!can} />
        {!isDm && (
          <SelectField
            label={t('chat.settings.mentionAll')}
            value={mentionAll}
            onChange={setMentionAll}
            disabled={!can}
            options={[
              { value: 'all', label: t('chat.settings.mentionAll.all') },
              { value: 'managers', label: t('chat.settings.mentionAll.managers') },
              { value: 'none', label: t('chat.settings.mentionAll.none') },
            ]}
          />
        )}
        <Checkbox label={t('chat.settings.retention')} checked={retain} onChange={setRetain} disabled={!can} description={t('chat.settings.retentionHelp')} />
        {retain && <TextField label={t('chat.settings.retentionDays')} type="number" min={1} max={36500} value={days} onChange={setDays} disabled={!can} />}
        <FormError>{error}</FormError>
        {can ? (
          <div>
            <Button type="submit" variant="primary" loading={busy}>
              {t('common.save')}
            </Button>
          </div>
        ) : (
          <p className="muted small">{t('chat.settings.managersOnly')}</p>
        )}
      </form>
      <div className="chat-settings-danger">
        {can && !isDm && (
          <Button onClick={() => void archive(!channel.archived)}>{channel.archived ? t('chat.settings.unarchive') : t('chat.settings.archive')}</Button>
        )}
        {channel.member && !(channel.kind === 'space' && channel.visibility === 'public') && (
          <Button variant="danger" onClick={() => setConfirm('leave')}>
            {t('chat.settings.leave')}
          </Button>
        )}
        {channel.kind === 'space' && channel.visibility === 'public' && <p className="muted small">{t('chat.settings.spaceMembersHelp')}</p>}
      </div>
      <ConfirmDialog
        isOpen={confirm === 'leave'}
        onClose={() => setConfirm(null)}
        title={t('chat.settings.leaveTitle')}
        body={channel.visibility === 'private' || isDm ? t('chat.settings.leaveBodyPrivate') : t('chat.settings.leaveBody')}
        confirmLabel={t('chat.settings.leave')}
        cancelLabel={t('common.cancel')}
        closeLabel={t('common.close')}
        danger
        errorText={(e) => errorText(t, e)}
        onConfirm={async () => {
          await chatApi.leave(channel.id);
          forgetChannel(channel.id);
          await qc.invalidateQueries({ queryKey: chatKeys.channels });
          onClose();
          navigate('/chat');
        }}
      />
    </div>
  );
}

function Members({ channel }: { channel: Channel }) {
  const { t } = useI18n();
  const me = useMe();
  const qc = useQueryClient();
  const toast = useToast();
  const q = useQuery({ queryKey: chatKeys.members(channel.id), queryFn: ({ signal }) => chatApi.members(channel.id, signal) });
  const canEdit = channel.canManage && (channel.kind === 'org' || (channel.kind === 'space' && channel.visibility === 'private'));
  const run = async (p: Promise<unknown>) => {
    try {
      await p;
      await qc.invalidateQueries({ queryKey: chatKeys.members(channel.id) });
    } catch (e) {
      toast(errorText(t, e), 'error');
    }
  };
  if (q.isPending) return <Skeleton label={t('common.loading')} lines={4} />;
  if (q.isError) return <ErrorState title={t('chat.members.error')} message={errorText(t, q.error)} retryLabel={t('common.retry')} onRetry={() => void q.refetch()} />;
  return (
    <div className="stack">
      {canEdit && <UserPicker label={t('chat.members.add')} exclude={new Set(q.data.map((m) => m.id))} onPick={(u) => void run(chatApi.setMember(channel.id, u.id, 'member'))} />}
      <p className="muted small">{t('chat.members.count', { count: q.data.length })}</p>
      <ul className="chat-members">
        {q.data.map((m) => (
          <li key={m.id} className="chat-member">
            <span>
              {m.displayName} <span className="muted small">@{m.login}</span>
            </span>
            {canEdit && m.id !== me.id ? (
              <>
                <select
                  className="input select chat-member-role"
                  aria-label={t('chat.members.roleOf', { name: m.displayName })}
                  value={m.role}
                  onChange={(e) => void run(chatApi.setMember(channel.id, m.id, e.target.value as 'manager' | 'member'))}
                >
                  <option value="member">{t('chat.members.member')}</option>
                  <option value="manager">{t('chat.members.manager')}</option>
                </select>
                <button type="button" className="btn btn-ghost btn-icon btn-sm" aria-label={t('chat.members.remove', { name: m.displayName })} title={t('chat.members.remove', { name: m.displayName })} onClick={() => void run(chatApi.removeMember(channel.id, m.id))}>
                  <UserMinus size={16} aria-hidden="true" />
                </button>
              </>
            ) : (
              <span className="muted small">{m.role === 'manager' ? t('chat.members.manager') : t('chat.members.member')}</span>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

function Hooks({ channel }: { channel: Channel }) {
  const { t, fmt } = useI18n();
  const qc = useQueryClient();
  const toast = useToast();
  const q = useQuery({ queryKey: chatKeys.hooks(channel.id), queryFn: ({ signal }) => chatApi.hooks(channel.id, signal), enabled: channel.canManage });
  const [name, setName] = useState('');
  const [created, setCreated] = useState<{ name: string; url: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!channel.canManage) return <p className="muted">{t('chat.hooks.managersOnly')}</p>;

  async function create(e: FormEvent) {
    e.preventDefault();
    if (!name.trim()) {
      setError(t('form.required'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const h = await chatApi.createHook(channel.id, name.trim());
      setCreated({ name: name.trim(), url: h.url });
      setName('');
      await qc.invalidateQueries({ queryKey: chatKeys.hooks(channel.id) });
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="stack">
      <p className="muted">{t('chat.hooks.help')}</p>
      <form className="chat-inline-form" onSubmit={(e) => void create(e)} noValidate>
        <TextField label={t('chat.hooks.name')} value={name} onChange={setName} maxLength={80} error={error} />
        <Button type="submit" variant="primary" loading={busy}>
          {t('chat.hooks.create')}
        </Button>
      </form>
      {created && (
        <div className="chat-hook-created" role="status">
          <p>
            <strong>{t('chat.hooks.createdTitle', { name: created.name })}</strong>
          </p>
          <p className="muted small">{t('chat.hooks.createdHelp')}</p>
          <div className="chat-hook-url">
            <input className="input mono" readOnly value={created.url} aria-label={t('chat.hooks.url')} data-testid="chat-hook-url" />
            <CopyButton text={created.url} label={t('common.copy')} copiedLabel={t('common.copied')} />
          </div>
        </div>
      )}
      {q.isPending ? (
        <Skeleton label={t('common.loading')} lines={2} />
      ) : q.isError ? (
        <ErrorState title={t('chat.hooks.error')} message={errorText(t, q.error)} retryLabel={t('common.retry')} onRetry={() => void q.refetch()} />
      ) : q.data.length === 0 ? (
        <EmptyState title={t('chat.hooks.empty')} />
      ) : (
        <ul className="chat-members">
          {q.data.map((h) => (
            <li key={h.id} className="chat-member">
              <span>
                {h.name}{' '}
                <span className="muted small">
                  {t('chat.hooks.by', { name: h.createdBy?.displayName ?? '—', date: fmt.date(h.createdAt) })}
                </span>
              </span>
              <button
                type="button"
                className="btn btn-ghost btn-icon btn-sm"
                aria-label={t('chat.hooks.revoke', { name: h.name })}
                title={t('chat.hooks.revoke', { name: h.name })}
                onClick={() =>
                  void chatApi.revokeHook(h.id).then(
                    () => qc.invalidateQueries({ queryKey: chatKeys.hooks(channel.id) }),
                    (e) => toast(errorText(t, e), 'error'),
                  )
                }
              >
                <Trash2 size={16} aria-hidden="true" />
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Notifications({ channel }: { channel: Channel }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const toast = useToast();
  const notify = useNotifyPref();
  const supported = notificationsSupported();
  const denied = supported && Notification.permission === 'denied';
  const [prefs, setPrefs] = useState<ChannelNotify | undefined>(channel.notify);
  async function change(next: Partial<ChannelNotify>) {
    if (!prefs) return;
    const before = prefs;
    setPrefs({ ...prefs, ...next });
    try {
      setPrefs(await chatApi.setNotify(channel.id, next));
      await qc.invalidateQueries({ queryKey: chatKeys.channels });
    } catch (e) {
      setPrefs(before);
      toast(errorText(t, e), 'error');
    }
  }
  const levels: NotifyLevel[] = ['all', 'mentions', 'none'];
  return (
    <div className="stack">
      {prefs && channel.member ? (
        <>
          <fieldset className="chat-radio">
            <legend className="field-label">{t('chat.notify.levelLegend')}</legend>
            {levels.map((l) => (
              <label key={l}>
                <input type="radio" name="chat-level" checked={prefs.level === l} onChange={() => void change({ level: l })} /> {t(`chat.notify.level.${l}`)}
              </label>
            ))}
          </fieldset>
          <Checkbox label={t('chat.notify.mute')} checked={prefs.muted} onChange={(muted) => void change({ muted })} description={t('chat.notify.muteHelp')} />
        </>
      ) : (
        <div className="chat-note" role="note">
          <p>
            <strong>{t('chat.notify.levelTitle')}</strong>
          </p>
          <p className="muted">{t('chat.notify.levelMissing')}</p>
        </div>
      )}
      <Checkbox
        label={t('chat.notify.toggle')}
        checked={notify}
        disabled={!supported || denied}
        onChange={(on) => void setNotifyPref(on)}
        description={!supported ? t('chat.notify.unsupported') : denied ? t('chat.notify.denied') : t('chat.notify.help')}
      />
    </div>
  );
}
