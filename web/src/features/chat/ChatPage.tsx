/**
 * The chat app (/chat): the channel column, the open channel (or "Threads"), and a thread beside it.
 * Routes: /chat, /chat/threads, /chat/<channelId>[?m=<messageId>][&thread=<rootId>[&reply=<id>]],
 * and the search's /chat/<channelId>/<messageId>. On a phone the column and the channel are two
 * screens, the channel with a back button.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { MessagesSquare } from 'lucide-react';
import { errorText, useI18n } from '../../app/i18n';
import { navigate, useLocation, usePathname } from '../../app/router';
import { useMe } from '../../app/session';
import { Button } from '../../ui/Button';
import { EmptyState, ErrorState, Skeleton } from '../../ui/States';
import { useToast } from '../../ui/Toast';
import { ApiError } from '../../app/api';
import { chatApi, chatKeys, channelTitle, type Message, type Presence } from './api';
import { ChannelView, useChannel } from './ChannelView';
import { BrowseDialog, CreateChannelDialog, NewDmDialog } from './dialogs';
import { useChatRealtime } from './live';
import { Sidebar, type SidebarDialog } from './Sidebar';
import { refreshPresence, setPresenceOf, usePresenceMap, wantPresence } from './store';
import { ThreadPanel } from './ThreadPanel';
import { ThreadsView } from './ThreadsView';
import './chat.css';

/**
 * One's status goes to the server by HTTP; the server takes one change per 2 s, so a quicker second
 * change waits and is sent then (only the last one chosen).
 */
let wantedStatus: Exclude<Presence, 'offline'> | null = null;
let statusTimer: ReturnType<typeof setTimeout> | null = null;
function sendStatus(s: Exclude<Presence, 'offline'>, onError: (e: unknown) => void): void {
  wantedStatus = s;
  if (statusTimer) return;
  const attempt = () => {
    const status = wantedStatus;
    if (!status) return;
    chatApi.setPresence(status).then(
      () => {
        if (wantedStatus === status) wantedStatus = null;
        else statusTimer = setTimeout(retry, 2100);
      },
      (e: unknown) => {
        if (e instanceof ApiError && e.code === 'rate_limited') statusTimer = setTimeout(retry, 2100);
        else {
          wantedStatus = null;
          onError(e);
          refreshPresence();
        }
      },
    );
  };
  const retry = () => {
    statusTimer = null;
    attempt();
  };
  attempt();
}

export default function ChatPage() {
  const { t } = useI18n();
  const me = useMe();
  const qc = useQueryClient();
  const toast = useToast();
  const path = usePathname();
  const location = useLocation();
  const params = new URLSearchParams(location.split('?')[1] ?? '');
  const segs = path.split('/').filter(Boolean).slice(1);
  const threadsView = segs[0] === 'threads';
  const channelId = !threadsView && segs[0] ? segs[0] : null;
  const target = params.get('m') ?? (segs[1] && !threadsView ? segs[1] : null);
  const reply = params.get('reply');
  // The search links a reply as /chat/<channel>/<root>?reply=<id>: the thread opens on it.
  const threadRoot = params.get('thread') ?? (reply ? target : null);
  const [dialog, setDialog] = useState<SidebarDialog | null>(null);

  useChatRealtime(qc, me.id);
  // Opening the app re-reads its lists (events received while it was closed only marked them stale).
  useEffect(() => {
    void qc.invalidateQueries({ queryKey: chatKeys.all });
  }, [qc]);

  const list = useQuery({ queryKey: chatKeys.channels, queryFn: ({ signal }) => chatApi.channels(signal) });
  const threads = useQuery({ queryKey: chatKeys.threads, queryFn: ({ signal }) => chatApi.threads(signal) });
  const threadUnreadTotal = (threads.data ?? []).reduce((n, th) => n + th.unread, 0);
  const threadUnread = useMemo(() => new Map((threads.data ?? []).filter((th) => th.unread > 0).map((th) => [th.root.id, th.unread])), [threads.data]);
  const current = useChannel(channelId ?? '', list.data, list.isSuccess && channelId !== null);

  // Presence of the people in direct messages, and one's own status.
  const presence = usePresenceMap();
  useEffect(() => {
    const ids = new Set<string>([me.id]);
    for (const c of list.data ?? []) for (const p of c.people ?? []) ids.add(p.id);
    wantPresence([...ids]);
  }, [list.data, me.id]);
  const myStatus: Presence = presence.get(me.id) ?? 'online';
  const setStatus = useCallback(
    (s: Exclude<Presence, 'offline'>) => {
      setPresenceOf([{ userId: me.id, status: s }]);
      sendStatus(s, (e) => toast(errorText(t, e), 'error'));
    },
    [me.id, t, toast],
  );

  // Unread in the tab title, so a background tab shows there is something new.
  const totalUnread = (list.data ?? []).reduce((n, c) => n + (c.mentions > 0 || c.kind === 'dm' || c.kind === 'group' ? c.unread : 0), 0);
  useEffect(() => {
    const title = current.channel ? channelTitle(current.channel, me.id) : t('chat.title');
    document.title = `${totalUnread > 0 ? `(${totalUnread}) ` : ''}${title} · Bastide`;
  }, [current.channel, totalUnread, me.id, t]);
  useEffect(() => () => void (document.title = 'Bastide'), []);

  const openThread = useCallback(
    (m: Message) => {
      const q = new URLSearchParams(params);
      q.set('thread', m.rootId ?? m.id);
      q.delete('reply');
      navigate(`/chat/${m.channelId}?${q.toString()}`);
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [location],
  );
  const closeThread = useCallback(() => {
    const q = new URLSearchParams(params);
    q.delete('thread');
    q.delete('reply');
    const s = q.toString();
    navigate(`/chat/${channelId ?? ''}${s ? `?${s}` : ''}`);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [location, channelId]);

  const view = channelId || threadsView ? 'channel' : 'list';
  const ch = current.channel;

  return (
    <div className="chat" data-view={view} data-thread={threadRoot && ch ? 'open' : undefined}>
      {list.isPending ? (
        <div className="chat-side chat-pad">
          <Skeleton label={t('common.loading')} lines={8} />
        </div>
      ) : list.isError ? (
        <div className="chat-side chat-pad">
          <ErrorState title={t('chat.side.error')} message={errorText(t, list.error)} retryLabel={t('common.retry')} onRetry={() => void list.refetch()} />
        </div>
      ) : (
        <Sidebar
          channels={list.data}
          currentId={channelId}
          threadsCurrent={threadsView}
          threadUnread={threadUnreadTotal}
          onDialog={setDialog}
          myStatus={myStatus}
          onStatus={setStatus}
        />
      )}
      <div className="chat-main">
        {threadsView ? (
          <ThreadsView channels={list.data ?? []} />
        ) : channelId ? (
          ch ? (
            <ChannelView key={ch.id} channel={ch} target={target} threadOpen={!!threadRoot} onOpenThread={openThread} threadUnread={threadUnread} />
          ) : current.isPending ? (
            <div className="chat-pad">
              <Skeleton label={t('common.loading')} lines={8} />
            </div>
          ) : (
            <div className="chat-pad">
              <ErrorState title={t('chat.channelError')} message={errorText(t, current.error)} retryLabel={t('common.retry')} onRetry={() => void current.refetch()} />
            </div>
          )
        ) : (
          <div className="chat-pad chat-welcome">
            <EmptyState icon={<MessagesSquare size={32} />} title={(list.data?.length ?? 0) === 0 ? t('chat.welcome.emptyTitle') : t('chat.welcome.title')} action={
              <div className="chat-welcome-actions">
                <Button variant="primary" onClick={() => setDialog('dm')}>
                  {t('chat.dm.new')}
                </Button>
                <Button onClick={() => setDialog('browse')}>{t('chat.browse.title')}</Button>
              </div>
            }>
              {(list.data?.length ?? 0) === 0 ? t('chat.welcome.emptyHelp') : t('chat.welcome.help')}
            </EmptyState>
          </div>
        )}
      </div>
      {threadRoot && ch && ch.member && <ThreadPanel key={threadRoot} channel={ch} rootId={threadRoot} reply={reply} onClose={closeThread} />}
      {dialog === 'create' && <CreateChannelDialog onClose={() => setDialog(null)} />}
      {dialog === 'browse' && <BrowseDialog onClose={() => setDialog(null)} />}
      {dialog === 'dm' && <NewDmDialog onClose={() => setDialog(null)} />}
    </div>
  );
}
