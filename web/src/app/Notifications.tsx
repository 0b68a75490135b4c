/**
 * Notifications: the data (query, mark as read with an optimistic update, announcements of new
 * ones) lives in the shell; the popover itself is loaded with the other overlays.
 */
import { lazy, Suspense, useEffect, useRef, useState } from 'react';
import { useMutation, useQuery, useQueryClient, type UseMutationResult, type UseQueryResult } from '@tanstack/react-query';
import { api } from './api';
import { errorText, useI18n } from './i18n';
import type { NotificationList } from './types';
import { BellContent } from './triggers';
import { useToast } from '../ui/Toast';

const KEY = ['notifications'] as const;
const NotificationsPopover = lazy(() => import('./overlays').then((m) => ({ default: m.NotificationsPopover })));

export interface NotificationsModel {
  q: UseQueryResult<NotificationList>;
  markRead: UseMutationResult<void, Error, string[] | undefined, { prev: NotificationList | undefined }>;
  unread: number;
  label: string;
}

function useNotifications(): NotificationsModel {
  const { t } = useI18n();
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
  return { q, markRead, unread, label };
}

export function NotificationsBell() {
  const { fmt } = useI18n();
  const model = useNotifications();
  const [wantOpen, setWantOpen] = useState(false);
  return (
    <Suspense
      fallback={
        <button type="button" className="btn btn-ghost btn-icon topbar-btn" aria-label={model.label} aria-haspopup="dialog" aria-expanded="false" onClick={() => setWantOpen(true)}>
          <BellContent unread={model.unread} format={fmt.number} />
        </button>
      }
    >
      <NotificationsPopover model={model} defaultOpen={wantOpen} />
    </Suspense>
  );
}
