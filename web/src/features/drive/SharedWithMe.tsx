/**
 * "Shared with me": what others shared with the user (directly, through a group or a space). A folder
 * opens in the drive browser on its share's drive ('share:<id>', paths from the shared folder); a file
 * opens its preview (or downloads when it has none).
 */
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Download, Users } from 'lucide-react';
import { useI18n } from '../../app/i18n';
import { QueryView } from '../../app/QueryView';
import { Link } from '../../app/router';
import { PageHeader, useDocumentTitle } from '../../ui/Page';
import { EmptyState } from '../../ui/States';
import { contentUrlIn } from './api';
import { Thumb } from './FileBrowser';
import { PreviewDialog, previewKind } from './PreviewDialog';
import { listSharedWithMe, sharedWithMeKey, type SharedItem } from './sharingApi';
import './drive.css';
import './sharing.css';

const defaultHref = (drive: string, path: string) => `/drive?${new URLSearchParams({ drive, path }).toString()}`;

export function SharedWithMe({ hrefFor = defaultHref }: { hrefFor?: (drive: string, path: string) => string }) {
  const { t, fmt } = useI18n();
  const title = t('shared.title');
  useDocumentTitle(`${title} · ${t('app.drive')}`);
  const query = useQuery({ queryKey: sharedWithMeKey, queryFn: ({ signal }) => listSharedWithMe(signal) });
  const [preview, setPreview] = useState<number | null>(null);
  const previewable = (query.data?.items ?? []).filter((s) => s.item.kind === 'file' && previewKind(s.item) !== 'none');
  const current = preview === null ? null : previewable[preview];
  const permLabel = (s: SharedItem) => (s.permission === 'write' ? t('sharing.perm.write') : t('sharing.perm.read'));

  return (
    <div className="page drive">
      <PageHeader title={title} icon={<Users size={22} />} />
      <QueryView
        query={query}
        errorTitle={t('shared.loadError')}
        lines={5}
        isEmpty={(d) => d.items.length === 0}
        empty={
          <EmptyState icon={<Users size={28} />} title={t('shared.emptyTitle')}>
            {t('shared.emptyText')}
          </EmptyState>
        }
      >
        {(d) => (
          <ul className="list drive-located shared-list" aria-label={title}>
            {d.items.map((s) => {
              const name = s.item.name;
              const canPreview = s.item.kind === 'file' && previewKind(s.item) !== 'none';
              return (
                <li key={s.shareId} data-testid="shared-item">
                  <Thumb drive={s.drive} path="/" item={s.item} size={32} />
                  <div className="list-main">
                    {s.item.kind === 'folder' ? (
                      <Link className="list-title" href={hrefFor(s.drive, '/')}>
                        {name}
                      </Link>
                    ) : canPreview ? (
                      <button type="button" className="list-title linklike" onClick={() => setPreview(previewable.indexOf(s))} aria-label={t('drive.openNamed', { name })}>
                        {name}
                      </button>
                    ) : (
                      <a className="list-title" href={contentUrlIn(s.drive, '/')} download={name}>
                        {name}
                      </a>
                    )}
                    <span className="meta">
                      <span>{t('shared.owner', { name: s.ownerName })}</span>
                      <span>{permLabel(s)}</span>
                      {s.via === 'group' && <span>{t('shared.viaGroup')}</span>}
                      {s.via === 'space' && <span>{t('shared.viaSpace')}</span>}
                      {s.item.kind === 'file' && <span>{fmt.size(s.item.size)}</span>}
                      <span>{t('shared.sharedOn', { date: fmt.date(s.sharedAt) })}</span>
                    </span>
                  </div>
                  {s.item.kind === 'file' && (
                    <a className="btn btn-ghost btn-icon" href={contentUrlIn(s.drive, '/')} download={name} aria-label={t('drive.downloadNamed', { name })} title={t('drive.downloadNamed', { name })}>
                      <Download size={18} aria-hidden="true" />
                    </a>
                  )}
                </li>
              );
            })}
          </ul>
        )}
      </QueryView>
      <PreviewDialog
        drive={current?.drive ?? 'me'}
        items={previewable.map((s) => ({ item: s.item, path: '/', drive: s.drive }))}
        index={preview}
        onIndex={setPreview}
        onClose={() => setPreview(null)}
      />
    </div>
  );
}

export default SharedWithMe;
