import { BellOff, CheckCheck } from 'lucide-react';
import { Button as AriaButton } from 'react-aria-components/Button';
import { Dialog, DialogTrigger, Heading } from 'react-aria-components/Dialog';
import { Popover } from 'react-aria-components/Popover';
import { errorText, useI18n } from './i18n';
import { navigate } from './router';
import type { Notification } from './types';
import type { NotificationsModel } from './Notifications';
import { BellContent } from './triggers';
import { Button } from '../ui/Button';
import { EmptyState, ErrorState, Skeleton } from '../ui/States';

export function NotificationsPopover({ model, defaultOpen }: { model: NotificationsModel; defaultOpen?: boolean }) {
  const { t, fmt } = useI18n();
  const { q, markRead, unread, label } = model;

  function open(n: Notification, close: () => void) {
    if (!n.readAt) markRead.mutate([n.id]);
    if (n.link && n.link.startsWith('/') && !n.link.startsWith('//')) {
      close();
      navigate(n.link);
    }
  }

  return (
    <DialogTrigger defaultOpen={defaultOpen}>
      <AriaButton className="btn btn-ghost btn-icon topbar-btn" aria-label={label}>
        <BellContent unread={unread} format={fmt.number} />
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
