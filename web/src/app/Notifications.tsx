/** The bell: unread count, a popover with the list, mark as read (optimistic). */
import { useEffect, useRef } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Bell, BellOff, CheckCheck } from 'lucide-react';
import { Button as AriaButton } from 'react-aria-components/Button';
import { Dialog, DialogTrigger, Heading } from 'react-aria-components/Dialog';
import { Popover } from 'react-aria-components/Popover';
import { api } from './api';
import { errorText, useI18n } from './i18n';
import { navigate } from './router';
import type { Notification, NotificationList } from './types';
import { Button } from '../ui/Button';
import { EmptyState, ErrorState, Skeleton } from '../ui/States';
import { useToast } from '../ui/Toast';

const KEY = ['notifications'] as const;

export function NotificationsBell() {
  const { t, fmt } = useI18n();
  const qc = useQueryClient();
  const toast = useToast();
  const q = useQuery({
    queryKey: KEY,
    queryFn: () => api.get<NotificationList>('/api/notifications'),
    staleTime: 60_000,
  });
  const unread = q.data?.unread ?? 0;

  // Announce notifications that arrive while the page is open (pushed by the realtime socket).
  const seen = useRef<Set<string> | null>(null);
  useEffect(() => {
    if (!q.data) return;
    if (seen.current) {
      for (const n of q.data.items) {
        if (!seen.current.has(n.id) && !n.readAt) toast(t('notifications.new', { title: n.title }));
      }
    }
    seen.current = new Set(q.data.items.map((n) => n.id));
  }, [q.data, t, toast]);

  const markRead = useMutation({
    mutationFn: (ids?: string[]) => api.post<void>('/api/notifications/read', ids ? { ids } : {}),
    onMutate: async (ids) => {
      await qc.cancelQueries({ queryKey: KEY });
      const prev = qc.getQueryData<NotificationList>(KEY);
      if (prev) {
        const now = Date.now();
        const items = prev.items.map((n) => (!n.readAt && (!ids || ids.includes(n.id)) ? { ...n, readAt: now } : n));
        qc.setQueryData<NotificationList>(KEY, { items, unread: items.filter((n) => !n.readAt).length });
      }
      return { prev };
    },
    onError: (e, _ids, ctx) => {
      if (ctx?.prev) qc.setQueryData(KEY, ctx.prev);
      toast(errorText(t, e), 'error');
    },
    onSettled: () => void qc.invalidateQueries({ queryKey: KEY }),
  });

  const label = unread > 0 ? t('notifications.buttonUnread', { count: unread }) : t('notifications.button');

  function open(n: Notification, close: () => void) {
    if (!n.readAt) markRead.mutate([n.id]);
    if (n.link && n.link.startsWith('/')) {
      close();
      navigate(n.link);
    }
  }

  return (
    <DialogTrigger>
      <AriaButton className="btn btn-ghost btn-icon topbar-btn" aria-label={label}>
        <Bell size={20} aria-hidden="true" />
        {unread > 0 && (
          <span className="bell-count" aria-hidden="true">
            {unread > 99 ? '99+' : fmt.number(unread)}
          </span>
        )}
      </AriaButton>
      <Popover className="popover notif-popover" placement="bottom end" offset={6}>
        <Dialog className="notif-dialog" aria-labelledby="notif-title">
          {({ close }) => (
            <>
              <div className="notif-head">
                <Heading slot="title" id="notif-title" className="notif-title">
                  {t('notifications.title')}
                </Heading>
                {unread > 0 && (
                  <Button size="sm" variant="ghost" icon={<CheckCheck size={16} aria-hidden="true" />} onClick={() => markRead.mutate(undefined)}>
                    {t('notifications.markAllRead')}
                  </Button>
                )}
              </div>
              {q.isPending ? (
                <div className="notif-pad">
                  <Skeleton label={t('common.loading')} lines={3} />
                </div>
              ) : q.isError ? (
                <div className="notif-pad">
                  <ErrorState title={t('notifications.loadError')} message={errorText(t, q.error)} retryLabel={t('common.retry')} onRetry={() => void q.refetch()} />
                </div>
              ) : q.data.items.length === 0 ? (
                <EmptyState icon={<BellOff size={28} />} title={t('notifications.emptyTitle')}>
                  {t('notifications.emptyText')}
                </EmptyState>
              ) : (
                <ul className="notif-list">
                  {q.data.items.map((n) => (
                    <li key={n.id} className={n.readAt ? 'notif' : 'notif notif-unread'}>
                      <button type="button" className="notif-btn" onClick={() => open(n, close)}>
                        <span className="notif-line">
                          {!n.readAt && <span className="notif-dot" aria-hidden="true" />}
                          <span className="notif-item-title">{n.title}</span>
                          {!n.readAt && <span className="visually-hidden">{t('notifications.unread')}</span>}
                        </span>
                        {n.body && <span className="notif-body">{n.body}</span>}
                        <time className="muted small" dateTime={new Date(n.createdAt).toISOString()} title={fmt.dateTime(n.createdAt)}>
                          {fmt.relative(n.createdAt)}
                        </time>
                      </button>
                    </li>
                  ))}
                </ul>
              )}
            </>
          )}
        </Dialog>
      </Popover>
    </DialogTrigger>
  );
}
