/**
 * A file's versions: the current content on top, then each earlier one (when it was written, by whom,
 * its size), each downloadable; restoring one (after a confirmation) makes it current again and keeps
 * what was current as a version in turn.
 */
import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Download, History, RotateCcw } from 'lucide-react';
import { errorText, useI18n } from '../../app/i18n';
import { Button } from '../../ui/Button';
import { AppDialog, ConfirmDialog } from '../../ui/Dialog';
import { Badge } from '../../ui/Page';
import { EmptyState, ErrorState, Skeleton } from '../../ui/States';
import { useToast } from '../../ui/Toast';
import { contentUrlIn, type DriveItem } from './api';
import { listVersions, restoreVersion, versionContentUrl, versionsKey, type Version } from './sharingApi';
import './sharing.css';

export interface VersionsDialogProps {
  drive: string;
  path: string;
  item: DriveItem;
  onClose: () => void;
}

export function VersionsDialog({ drive, path, item, onClose }: VersionsDialogProps) {
  const { t, fmt } = useI18n();
  const qc = useQueryClient();
  const toast = useToast();
  const query = useQuery({ queryKey: versionsKey(drive, path), queryFn: ({ signal }) => listVersions(drive, path, signal), staleTime: 0 });
  const [restoring, setRestoring] = useState<Version | null>(null);
  const current = query.data?.item ?? item;

  const who = (v: Version) => (v.author?.displayName ? v.author.displayName : t('versions.unknownAuthor'));

  return (
    <AppDialog isOpen onClose={onClose} title={t('versions.title', { name: item.name })} closeLabel={t('common.close')} size="lg" testId="versions-dialog">
      {query.isPending ? (
        <Skeleton label={t('common.loading')} lines={4} />
      ) : query.isError ? (
        <ErrorState title={t('versions.loadError')} message={errorText(t, query.error)} retryLabel={t('common.retry')} onRetry={() => void query.refetch()} />
      ) : (
        <div className="stack-sm">
          <ul className="list sharing-list" aria-label={t('versions.listLabel', { name: item.name })}>
            <li data-testid="version-current">
              <div className="list-main">
                <span className="list-title">
                  {t('versions.current')} <Badge tone="accent">{t('versions.currentBadge')}</Badge>
                </span>
                <span className="meta">
                  <span>{fmt.dateTime(current.updatedAt)}</span>
                  <span>{fmt.size(current.size)}</span>
                </span>
              </div>
              <a className="btn btn-ghost btn-sm" href={contentUrlIn(drive, path)} download={item.name} aria-label={t('versions.downloadCurrent')}>
                <Download size={16} aria-hidden="true" />
                <span>{t('drive.download')}</span>
              </a>
            </li>
            {query.data.versions.map((v) => {
              const when = fmt.dateTime(v.createdAt);
              return (
                <li key={v.id} data-testid="version-row">
                  <div className="list-main">
                    <span className="list-title">{when}</span>
                    <span className="meta">
                      <span>{t('versions.by', { name: who(v) })}</span>
                      <span>{fmt.size(v.size)}</span>
                      <span>{t('versions.replacedOn', { date: fmt.dateTime(v.replacedAt) })}</span>
                    </span>
                  </div>
                  <div className="row">
                    <a className="btn btn-ghost btn-sm" href={versionContentUrl(drive, path, v.id)} download={item.name} aria-label={t('versions.downloadOf', { date: when })}>
                      <Download size={16} aria-hidden="true" />
                      <span>{t('drive.download')}</span>
                    </a>
                    <Button size="sm" variant="ghost" icon={<RotateCcw size={16} aria-hidden="true" />} aria-label={t('versions.restoreOf', { date: when })} onClick={() => setRestoring(v)}>
                      {t('versions.restore')}
                    </Button>
                  </div>
                </li>
              );
            })}
          </ul>
          {query.data.versions.length === 0 && (
            <EmptyState icon={<History size={28} />} title={t('versions.emptyTitle')}>
              {t('versions.emptyText')}
            </EmptyState>
          )}
        </div>
      )}
      <ConfirmDialog
        isOpen={restoring !== null}
        onClose={() => setRestoring(null)}
        title={t('versions.restoreTitle')}
        body={t('versions.restoreText', { name: item.name, date: restoring ? fmt.dateTime(restoring.createdAt) : '' })}
        confirmLabel={t('versions.restore')}
        cancelLabel={t('common.cancel')}
        closeLabel={t('common.close')}
        errorText={(e) => errorText(t, e)}
        onConfirm={async () => {
          if (!restoring) return;
          await restoreVersion(drive, path, restoring.id);
          toast(t('versions.restored', { name: item.name }), 'success');
          void qc.invalidateQueries({ queryKey: ['drive'] });
        }}
      />
    </AppDialog>
  );
}
