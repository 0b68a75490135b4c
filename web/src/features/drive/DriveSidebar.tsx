/** The drive's second column: its views (files, recent, favourites, trash) and the storage bar. */
import type { ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Clock, HardDrive, Star, Trash2 } from 'lucide-react';
import { useI18n } from '../../app/i18n';
import { Link } from '../../app/router';
import { getQuota, quotaKey } from './api';

export type DriveView = 'files' | 'recent' | 'favourites' | 'trash' | 'search' | 'shared';

/** `extra`: more entries of the views column (shared with me, the spaces' drives). */
export function DriveSidebar({ drive, current, hrefFor, extra }: { drive: string; current: DriveView; hrefFor: (p: { view?: string }) => string; extra?: ReactNode }) {
  const { t } = useI18n();
  const links: Array<{ view: DriveView; label: string; icon: ReactNode }> = [
    { view: 'files', label: drive === 'me' ? t('drive.root') : t('drive.files'), icon: <HardDrive size={18} aria-hidden="true" /> },
    { view: 'recent', label: t('drive.recent.title'), icon: <Clock size={18} aria-hidden="true" /> },
    { view: 'favourites', label: t('drive.fav.title'), icon: <Star size={18} aria-hidden="true" /> },
    { view: 'trash', label: t('drive.trash'), icon: <Trash2 size={18} aria-hidden="true" /> },
  ];
  return (
    <aside className="drive-side">
      <nav aria-label={t('drive.views')}>
        <ul>
          {links.map((l) => (
            <li key={l.view}>
              <Link href={hrefFor({ view: l.view === 'files' ? undefined : l.view })} aria-current={current === l.view ? 'page' : undefined} className="drive-side-link">
                {l.icon}
                <span>{l.label}</span>
              </Link>
            </li>
          ))}
        </ul>
        {extra}
      </nav>
      <StorageBar drive={drive} />
    </aside>
  );
}

export function StorageBar({ drive }: { drive: string }) {
  const { t, fmt } = useI18n();
  const q = useQuery({ queryKey: quotaKey(drive), queryFn: ({ signal }) => getQuota(drive, signal), staleTime: 30_000 });
  if (!q.data) return <div className="drive-storage" aria-hidden="true" />;
  const { used, total } = q.data;
  const ratio = total > 0 ? Math.min(1, used / total) : 0;
  const tone = ratio >= 0.95 ? 'danger' : ratio >= 0.8 ? 'warn' : 'ok';
  return (
    <div className={`drive-storage drive-storage-${tone}`} data-testid="drive-storage">
      <span id="drive-storage-label" className="small">
        {t('drive.storage.label')}
      </span>
      <meter min={0} max={total} value={used} low={total * 0.8} high={total * 0.95} optimum={0} aria-labelledby="drive-storage-label" aria-describedby="drive-storage-text" />
      <span id="drive-storage-text" className="small muted">
        {t('drive.storage.used', { used: fmt.size(used), total: fmt.size(total) })}
      </span>
    </div>
  );
}
