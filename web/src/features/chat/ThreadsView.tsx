/** "Threads": the threads one follows (started, replied, mentioned), unread ones first marked. */
import { useQuery } from '@tanstack/react-query';
import { ArrowLeft, MessagesSquare } from 'lucide-react';
import { errorText, useI18n } from '../../app/i18n';
import { Link } from '../../app/router';
import { useMe } from '../../app/session';
import { EmptyState, ErrorState, Skeleton } from '../../ui/States';
import { chatApi, chatKeys, channelTitle, type Channel } from './api';

export function ThreadsView({ channels }: { channels: Channel[] }) {
  const { t, fmt } = useI18n();
  const me = useMe();
  const q = useQuery({ queryKey: chatKeys.threads, queryFn: ({ signal }) => chatApi.threads(signal) });
  const byId = new Map(channels.map((c) => [c.id, c]));
  return (
    <section className="chat-channel" aria-labelledby="chat-threads-title">
      <header className="chat-head">
        <Link href="/chat" className="btn btn-ghost btn-icon chat-back" aria-label={t('chat.back')}>
          <ArrowLeft size={20} aria-hidden="true" />
        </Link>
        <div className="chat-head-title">
          <h2 id="chat-threads-title" className="chat-title">
            <MessagesSquare size={18} aria-hidden="true" />
            <span className="chat-title-text">{t('chat.threads.title')}</span>
          </h2>
          <p className="chat-topic">{t('chat.threads.help')}</p>
        </div>
      </header>
      <div className="chat-list-wrap chat-pad chat-scroll-y">
        {q.isPending ? (
          <Skeleton label={t('common.loading')} lines={6} />
        ) : q.isError ? (
          <ErrorState title={t('chat.threads.loadError')} message={errorText(t, q.error)} retryLabel={t('common.retry')} onRetry={() => void q.refetch()} />
        ) : q.data.length === 0 ? (
          <EmptyState icon={<MessagesSquare size={28} />} title={t('chat.threads.empty')}>
            {t('chat.threads.emptyHelp')}
          </EmptyState>
        ) : (
          <ul className="chat-threads">
            {q.data.map((th) => {
              const c = byId.get(th.root.channelId);
              return (
                <li key={th.root.id} className={th.unread > 0 ? 'chat-threads-item unread' : 'chat-threads-item'} data-testid="chat-threads-item">
                  <Link href={`/chat/${th.root.channelId}?m=${th.root.id}&thread=${th.root.id}`} className="chat-threads-link">
                    <span className="chat-threads-meta">
                      <span className="chat-threads-channel">{c ? channelTitle(c, me.id) : t('chat.someChannel')}</span>
                      <span className="muted small">{th.root.author?.displayName ?? th.root.bot?.name ?? ''}</span>
                      {th.root.lastReplyAt && <span className="muted small">{t('chat.thread.last', { when: fmt.relative(th.root.lastReplyAt) })}</span>}
                      {th.unread > 0 && <span className="chat-badge">{t('chat.thread.unread', { count: th.unread })}</span>}
                    </span>
                    <span className="chat-threads-text">{th.root.deleted ? t('chat.msg.deleted') : th.root.text.slice(0, 300)}</span>
                    <span className="muted small">{t('chat.thread.replies', { count: th.root.replyCount })}</span>
                  </Link>
                </li>
              );
            })}
          </ul>
        )}
      </div>
    </section>
  );
}
