import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { LogOut, Monitor, Smartphone } from 'lucide-react';
import { api } from '../../app/api';
import { useOptimisticRemove } from '../../app/useOptimisticRemove';
import { errorText, useI18n, type TFunction } from '../../app/i18n';
import { QueryView } from '../../app/QueryView';
import { useSignOut } from '../../app/session';
import type { SessionItem } from '../../app/types';
import { Button } from '../../ui/Button';
import { ConfirmDialog } from '../../ui/Dialog';
import { Badge, Card } from '../../ui/Page';
import { EmptyState } from '../../ui/States';
import { useToast } from '../../ui/Toast';

const KEY = ['me', 'sessions'] as const;

/** "Firefox on Linux" from a user-agent string; good enough to recognise one's devices. */
export function describeAgent(t: TFunction, ua: string | null): { text: string; mobile: boolean } {
  if (!ua) return { text: t('sessions.unknownDevice'), mobile: false };
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /OPR\//.test(ua)
      ? 'Opera'
      : /Firefox\//.test(ua)
        ? 'Firefox'
        : /Chrom(e|ium)\//.test(ua)
          ? 'Chromium'
          : /Safari\//.test(ua)
            ? 'Safari'
            : /Thunderbird/.test(ua)
              ? 'Thunderbird'
              : null;
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad|iPod/.test(ua)
      ? 'iOS'
      : /Windows/.test(ua)
        ? 'Windows'
        : /Mac OS X|Macintosh/.test(ua)
          ? 'macOS'
          : /CrOS/.test(ua)
            ? 'ChromeOS'
            : /Linux/.test(ua)
              ? 'Linux'
              : null;
  const mobile = /Mobi|Android|iPhone|iPad/.test(ua);
  if (browser && os) return { text: t('sessions.browserOn', { browser, os }), mobile };
  return { text: browser ?? os ?? ua.slice(0, 60), mobile };
}

export function SessionsSection() {
  const { t, fmt } = useI18n();
  const toast = useToast();
  const signOut = useSignOut();
  const q = useQuery({ queryKey: KEY, queryFn: () => api.get<{ items: SessionItem[] }>('/api/me/sessions') });
  const [ending, setEnding] = useState<SessionItem | null>(null);

  const end = useOptimisticRemove<SessionItem>(KEY, '/api/me/sessions');

  return (
    <Card labelledBy="sessions-h">
      <div className="card-head">
        <div>
          <h2 id="sessions-h">{t('sessions.title')}</h2>
          <p className="muted">{t('sessions.intro')}</p>
        </div>
      </div>
      <QueryView
        query={q}
        errorTitle={t('sessions.loadError')}
        isEmpty={(d) => d.items.length === 0}
        empty={<EmptyState title={t('sessions.emptyTitle')} />}
      >
        {(d) => (
          <ul className="list" aria-label={t('sessions.title')}>
            {[...d.items]
              .sort((a, b) => Number(b.current) - Number(a.current) || b.lastSeenAt - a.lastSeenAt)
              .map((s) => {
                const dev = describeAgent(t, s.userAgent);
                const Icon = dev.mobile ? Smartphone : Monitor;
                return (
                  <li key={s.id}>
                    <Icon size={20} aria-hidden="true" className="muted" />
                    <div className="list-main">
                      <span className="list-title">
                        {dev.text} {s.current && <Badge tone="success">{t('sessions.current')}</Badge>}
                      </span>
                      <span className="meta">
                        {s.ip && <span>{t('sessions.ip', { ip: s.ip })}</span>}
                        <span>{t('sessions.started', { date: fmt.dateTime(s.createdAt) })}</span>
                        <span>{t('sessions.lastSeen', { date: fmt.relative(s.lastSeenAt) })}</span>
                      </span>
                    </div>
                    {s.current ? (
                      <Button size="sm" icon={<LogOut size={16} aria-hidden="true" />} onClick={() => signOut.mutate()} loading={signOut.isPending}>
                        {t('profileMenu.signOut')}
                      </Button>
                    ) : (
                      <Button size="sm" icon={<LogOut size={16} aria-hidden="true" />} aria-label={t('sessions.endNamed', { device: dev.text })} onClick={() => setEnding(s)}>
                        {t('sessions.end')}
                      </Button>
                    )}
                  </li>
                );
              })}
          </ul>
        )}
      </QueryView>
      <ConfirmDialog
        isOpen={ending !== null}
        onClose={() => setEnding(null)}
        title={t('sessions.endTitle')}
        body={t('sessions.endText', { device: ending ? describeAgent(t, ending.userAgent).text : '' })}
        confirmLabel={t('sessions.end')}
        cancelLabel={t('common.cancel')}
        closeLabel={t('common.close')}
        danger
        errorText={(e) => errorText(t, e)}
        onConfirm={async () => {
          if (!ending) return;
          await end.mutateAsync(ending.id);
          toast(t('sessions.ended'), 'success');
        }}
      />
    </Card>
  );
}
