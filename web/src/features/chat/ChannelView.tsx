/** A channel: its header, the message history, who is typing, and the composer. */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ArrowLeft, CalendarSearch, Hash, Lock, Pin, Settings, Users } from 'lucide-react';
import { errorText, useI18n } from '../../app/i18n';
import { Link, navigate } from '../../app/router';
import { useMe } from '../../app/session';
import { Button, IconButton } from '../../ui/Button';
import { ConfirmDialog } from '../../ui/Dialog';
import { ErrorState, Skeleton } from '../../ui/States';
import { useToast } from '../../ui/Toast';
import { chatApi, chatKeys, channelTitle, idAtTime, type Channel, type Message } from './api';
import { useMessageActions, useSend } from './actions';
import { Composer } from './Composer';
import { JumpToDateDialog, PinsDialog } from './dialogs';
import { MessageItem, PresenceDot } from './MessageItem';
import { MessageList } from './MessageList';
import { ChannelSettingsDialog } from './Settings';
import { channelState, jumpTo, loadNewer, loadOlder, openChannel, reloadLatest, useChannelMessages, usePresenceMap, useTyping, wantPresence } from './store';

export function TypingLine({ channelId, rootId, names }: { channelId: string; rootId: string | null; names: Map<string, string> }) {
  const { t } = useI18n();
  const typing = useTyping(channelId, rootId);
  const who = [...typing.keys()].map((id) => names.get(id) ?? t('chat.someone'));
  let text = '';
  if (who.length === 1) text = t('chat.typing.one', { name: who[0]! });
  else if (who.length === 2) text = t('chat.typing.two', { a: who[0]!, b: who[1]! });
  else if (who.length > 2) text = t('chat.typing.many');
  return (
    <div className="chat-typing" aria-live="polite" data-testid={rootId ? 'chat-thread-typing' : 'chat-typing'}>
      {text}
    </div>
  );
}

export function ChannelView({ channel, target, threadOpen, onOpenThread, threadUnread }: { channel: Channel; target: string | null; threadOpen: boolean; onOpenThread: (m: Message) => void; threadUnread: Map<string, number> }) {
  const { t } = useI18n();
  const me = useMe();
  const qc = useQueryClient();
  const toast = useToast();
  const state = useChannelMessages(channel.id);
  const title = channelTitle(channel, me.id);
  const isDm = channel.kind === 'dm' || channel.kind === 'group';
  const [editing, setEditing] = useState<string | null>(null);
  const [dialog, setDialog] = useState<'settings' | 'pins' | 'date' | null>(null);
  const [bottom, setBottom] = useState(true);
  const [visible, setVisible] = useState(!document.hidden);
  const [announce, setAnnounce] = useState('');
  // The read marker when the channel was opened: the "new messages" line stays there for this visit.
  const [newSince] = useState(() => (channel.unread > 0 ? (channel.lastReadId ?? '') : null));
  const [hl, setHl] = useState<string | null>(target);
  const presence = usePresenceMap();
  const { actions, confirmDelete, setConfirmDelete, doDelete } = useMessageActions(onOpenThread);
  const send = useSend(channel.id, null);

  useEffect(() => {
    if (channel.member) openChannel(channel.id, target ?? undefined);
    setHl(target);
    if (!target) return;
    const timer = setTimeout(() => setHl(null), 4000);
    return () => clearTimeout(timer);
  }, [channel.id, channel.member, target]);

  useEffect(() => {
    const onVis = () => setVisible(!document.hidden);
    document.addEventListener('visibilitychange', onVis);
    return () => document.removeEventListener('visibilitychange', onVis);
  }, []);

  const others = useMemo(() => (channel.people ?? []).filter((p) => p.id !== me.id), [channel.people, me.id]);
  useEffect(() => wantPresence(others.map((p) => p.id)), [others]);

  // Read state: at the bottom of the latest messages, tab visible → the marker moves to the newest.
  const lastReal = useMemo(() => [...state.items].reverse().find((m) => !m.pending), [state.items]);
  const sentRead = useRef<string | null>(null);
  useEffect(() => {
    if (!lastReal || !bottom || !visible || state.hasMoreAfter || !channel.member) return;
    if (channel.lastReadId && channel.lastReadId >= lastReal.id) return;
    if (sentRead.current && sentRead.current >= lastReal.id) return;
    sentRead.current = lastReal.id;
    chatApi.read(channel.id, lastReal.id).then(
      () => void qc.invalidateQueries({ queryKey: chatKeys.channels }),
      () => (sentRead.current = null),
    );
  }, [lastReal, bottom, visible, state.hasMoreAfter, channel.id, channel.lastReadId, channel.member, qc]);

  // New messages from others are announced to screen readers (the list itself is virtualised).
  const lastAnnounced = useRef<string | null>(null);
  useEffect(() => {
    if (!lastReal || state.status !== 'ready') return;
    if (lastAnnounced.current === null) {
      lastAnnounced.current = lastReal.id;
      return;
    }
    if (lastReal.id > lastAnnounced.current) {
      lastAnnounced.current = lastReal.id;
      if (lastReal.author?.id !== me.id) setAnnounce(t('chat.announce', { name: lastReal.author?.displayName ?? lastReal.bot?.name ?? '', text: lastReal.text.slice(0, 140) }));
    }
  }, [lastReal, state.status, me.id, t]);

  const names = useMemo(() => {
    const n = new Map<string, string>();
    for (const p of channel.people ?? []) n.set(p.id, p.displayName);
    for (const m of state.items) if (m.author) n.set(m.author.id, m.author.displayName);
    const mem = qc.getQueryData<{ id: string; displayName: string }[]>(chatKeys.members(channel.id));
    for (const p of mem ?? []) n.set(p.id, p.displayName);
    return n;
  }, [channel.people, state.items, qc, channel.id]);

  const editLast = useCallback(() => {
    const mine = [...state.items].reverse().find((m) => m.author?.id === me.id && !m.deleted && !m.pending);
    if (mine) setEditing(mine.id);
  }, [state.items, me.id]);

  const renderMessage = useCallback(
    (m: Message, grouped: boolean) => (
      <MessageItem
        m={m}
        grouped={grouped}
        meId={me.id}
        meLogin={me.login}
        canManage={channel.canManage}
        highlighted={hl === m.id}
        editing={editing === m.id}
        onEditingChange={(on) => setEditing(on ? m.id : null)}
        actions={actions}
        threadUnread={threadUnread.get(m.id)}
      />
    ),
    [me.id, me.login, channel.canManage, hl, editing, actions, threadUnread],
  );

  const join = async () => {
    try {
      await chatApi.join(channel.id);
      await qc.invalidateQueries({ queryKey: chatKeys.all });
    } catch (e) {
      toast(errorText(t, e), 'error');
    }
  };

  const start = (
    <div className="chat-start">
      <p className="chat-start-title">{isDm ? t('chat.start.dm', { name: title }) : t('chat.start.channel', { name: title })}</p>
      {channel.topic && <p className="muted">{channel.topic}</p>}
    </div>
  );

  const presenceLabel = (s: string | undefined) => t(`chat.presence.${s ?? 'offline'}` as 'chat.presence.online');

  return (
    <section className={`chat-channel${threadOpen ? ' chat-channel-with-thread' : ''}`} aria-labelledby="chat-channel-title">
      <header className="chat-head">
        <Link href="/chat" className="btn btn-ghost btn-icon chat-back" aria-label={t('chat.back')}>
          <ArrowLeft size={20} aria-hidden="true" />
        </Link>
        <div className="chat-head-title">
          <h2 id="chat-channel-title" className="chat-title">
            {isDm ? (
              others.length === 1 ? (
                <PresenceDot status={presence.get(others[0]!.id)} label={presenceLabel(presence.get(others[0]!.id))} />
              ) : (
                <Users size={18} aria-hidden="true" />
              )
            ) : channel.visibility === 'private' ? (
              <span role="img" aria-label={t('chat.private')} className="chat-icon">
                <Lock size={18} aria-hidden="true" />
              </span>
            ) : (
              <Hash size={18} aria-hidden="true" />
            )}
            <span className="chat-title-text">{title}</span>
            {channel.archived && <span className="chat-badge-muted">{t('chat.archived')}</span>}
          </h2>
          {channel.topic && <p className="chat-topic">{channel.topic}</p>}
        </div>
        <div className="chat-head-actions">
          <IconButton label={t('chat.jumpDate')} icon={<CalendarSearch size={18} aria-hidden="true" />} onClick={() => setDialog('date')} disabled={!channel.member} />
          <IconButton label={t('chat.pins.title')} icon={<Pin size={18} aria-hidden="true" />} onClick={() => setDialog('pins')} disabled={!channel.member} />
          <IconButton label={t('chat.settings.open')} icon={<Settings size={18} aria-hidden="true" />} onClick={() => setDialog('settings')} data-testid="chat-settings-button" />
        </div>
      </header>
      {!channel.member ? (
        <div className="chat-join">
          <p>{t('chat.notMember', { name: title })}</p>
          <Button variant="primary" onClick={() => void join()}>
            {t('chat.join')}
          </Button>
        </div>
      ) : state.status === 'loading' && state.items.length === 0 ? (
        <div className="chat-list-wrap chat-pad">
          <Skeleton label={t('common.loading')} lines={8} />
        </div>
      ) : state.status === 'error' && state.items.length === 0 ? (
        <div className="chat-list-wrap chat-pad">
          <ErrorState title={t('chat.loadError')} message={errorText(t, state.error)} retryLabel={t('common.retry')} onRetry={() => void reloadLatest(channel.id)} />
        </div>
      ) : (
        <MessageList
          label={t('chat.historyOf', { name: title })}
          items={state.items}
          hasMoreBefore={state.hasMoreBefore}
          hasMoreAfter={state.hasMoreAfter}
          loadingOlder={state.loadingOlder}
          generation={state.generation}
          newSince={newSince}
          meId={me.id}
          target={target}
          start={start}
          renderMessage={renderMessage}
          onLoadOlder={() => void loadOlder(channel.id)}
          onLoadNewer={() => void loadNewer(channel.id)}
          onJumpLatest={() => {
            navigate(`/chat/${channel.id}`, { replace: true });
            void reloadLatest(channel.id);
          }}
          onBottomChange={setBottom}
        />
      )}
      <div className="visually-hidden" aria-live="polite" data-testid="chat-announce">
        {announce}
      </div>
      {channel.member && (
        <div className="chat-foot">
          <TypingLine channelId={channel.id} rootId={null} names={names} />
          {channel.archived ? (
            <p className="chat-archived-note">{t('chat.archivedNote')}</p>
          ) : (
            <Composer
              key={channel.id}
              channelId={channel.id}
              rootId={null}
              draftKey={channel.id}
              label={t('chat.composer.label', { name: title })}
              placeholder={isDm ? t('chat.composer.placeholderDm', { name: title }) : t('chat.composer.placeholder', { name: title })}
              onSend={send}
              onEditLast={editLast}
              mentionAll={channel.mentionAll}
              canManage={channel.canManage}
            />
          )}
        </div>
      )}
      {dialog === 'settings' && <ChannelSettingsDialog channel={channel} onClose={() => setDialog(null)} />}
      {dialog === 'pins' && <PinsDialog channel={channel} onClose={() => setDialog(null)} />}
      {dialog === 'date' && (
        <JumpToDateDialog
          onClose={() => setDialog(null)}
          onJump={async (ms) => {
            const around = idAtTime(ms);
            await jumpTo(channel.id, around);
            const first = firstAtOrAfter(channel.id, around);
            if (first) {
              navigate(`/chat/${channel.id}?m=${first}`, { replace: true });
              setHl(first);
            }
          }}
        />
      )}
      <ConfirmDialog
        isOpen={confirmDelete !== null}
        onClose={() => setConfirmDelete(null)}
        title={t('chat.delete.title')}
        body={t('chat.delete.body')}
        confirmLabel={t('chat.delete.confirm')}
        cancelLabel={t('common.cancel')}
        closeLabel={t('common.close')}
        danger
        onConfirm={() => (confirmDelete ? doDelete(confirmDelete) : Promise.resolve())}
        errorText={(e) => errorText(t, e)}
      />
    </section>
  );
}

/** The first message at or after a cursor in the loaded window (or the last one before it). */
function firstAtOrAfter(channelId: string, cursor: string): string | null {
  const items = (channelState(channelId)?.items ?? []).filter((m) => !m.pending);
  return items.find((m) => m.id >= cursor)?.id ?? items[items.length - 1]?.id ?? null;
}

/** A channel from the caller's list, or read alone (a public channel not joined, opened by a link). */
export function useChannel(id: string, list: Channel[] | undefined, listReady: boolean) {
  const inList = list?.find((c) => c.id === id);
  const q = useQuery({
    queryKey: chatKeys.channel(id),
    queryFn: ({ signal }) => chatApi.channel(id, signal),
    enabled: listReady && !inList,
  });
  return { channel: inList ?? q.data, isPending: !inList && (!listReady || q.isPending), error: inList ? null : q.error, refetch: q.refetch };
}
