import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ArrowLeft, File as FileIcon, Folder, RotateCcw, Trash2 } from 'lucide-react';
import { errorText, useI18n } from '../../app/i18n';
import { QueryView } from '../../app/QueryView';
import { Link } from '../../app/router';
import { Button } from '../../ui/Button';
import { ConfirmDialog } from '../../ui/Dialog';
import { PageHeader, useDocumentTitle } from '../../ui/Page';
import { EmptyState } from '../../ui/States';
import { useToast } from '../../ui/Toast';
import { emptyTrash, listTrash, purgeItem, restoreItem, trashKey, type TrashItem } from './api';
import './drive.css';

/** The drive's trash: restore an item to where it was, delete it for good, or empty the trash. */
export default function TrashView({ drive = 'me' }: { drive?: string }) {
  const { t, fmt } = useI18n();
  const qc = useQueryClient();
  const toast = useToast();
  const title = t('drive.trashTitle');
  useDocumentTitle(`${title} · ${t('app.drive')}`);
  const query = useQuery({ queryKey: trashKey(drive), queryFn: ({ signal }) => listTrash(signal, drive) });
  const [purging, setPurging] = useState<TrashItem | null>(null);
  const [emptying, setEmptying] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);

  const refresh = () => qc.invalidateQueries({ queryKey: ['drive'] });

  async function restore(item: TrashItem) {
    setBusy(item.id);
    try {
      const r = await restoreItem(item.id, drive);
      const parent = r.path.slice(0, r.path.lastIndexOf('/')) || '/';
      toast(t('drive.restored', { name: r.item.name, path: parent === '/' ? t('drive.root') : parent }), 'success');
    } catch (e) {
      toast(errorText(t, e), 'error');
    } finally {
      setBusy(null);
      void refresh();
    }
  }

  const location = (p: string) => (p === '/' ? t('drive.root') : p);
  const count = query.data?.items.length ?? 0;

  return (
    <div className="page drive">
      <PageHeader
        title={title}
        icon={<Trash2 size={22} />}
        actions={
          count > 0 ? (
            <Button variant="danger" icon={<Trash2 size={16} aria-hidden="true" />} onClick={() => setEmptying(true)}>
              {t('drive.emptyTrash')}
            </Button>
          ) : undefined
        }
      />
      <p className="drive-crumbs-row">
        <Link href="/drive" className="drive-back">
          <ArrowLeft size={16} aria-hidden="true" />
          <span>{t('drive.backToFiles')}</span>
        </Link>
      </p>
      <p className="small muted">{t('drive.trashNote')}</p>
      <QueryView
        query={query}
        errorTitle={t('drive.trashLoadError')}
        lines={4}
        isEmpty={(d) => d.items.length === 0}
        empty={
          <EmptyState icon={<Trash2 size={28} />} title={t('drive.trashEmptyTitle')}>
            {t('drive.trashEmptyText')}
          </EmptyState>
        }
      >
        {(d) => (
          <ul className="list drive-list" aria-label={t('drive.trashListLabel')}>
            {d.items.map((item) => (
              <li key={item.id} data-testid="trash-item">
                <span className="drive-icon" aria-hidden="true">
                  {item.kind === 'folder' ? <Folder size={20} /> : <FileIcon size={20} />}
                </span>
                <div className="list-main">
                  <span className="list-title">{item.name}</span>
                  <span className="meta">
                    <span>{item.kind === 'folder' ? t('drive.folder') : fmt.size(item.size)}</span>
                    <span>{t('drive.deletedOn', { date: fmt.dateTime(item.deletedAt) })}</span>
                    <span>{t('drive.originalLocation', { path: location(item.originalPath) })}</span>
                  </span>
                </div>
                <div className="drive-actions">
                  <Button
                    size="sm"
                    variant="ghost"
                    icon={<RotateCcw size={16} aria-hidden="true" />}
                    aria-label={t('drive.restoreNamed', { name: item.name })}
                    loading={busy === item.id}
                    onClick={() => void restore(item)}
                  >
                    {t('drive.restore')}
                  </Button>
                  <Button size="sm" variant="ghost" icon={<Trash2 size={16} aria-hidden="true" />} aria-label={t('drive.deleteForeverNamed', { name: item.name })} onClick={() => setPurging(item)}>
                    {t('drive.deleteForever')}
                  </Button>
                </div>
              </li>
            ))}
          </ul>
        )}
      </QueryView>

      <ConfirmDialog
        isOpen={purging !== null}
        onClose={() => setPurging(null)}
        title={t('drive.purgeTitle', { name: purging?.name ?? '' })}
        body={t('drive.purgeText', { name: purging?.name ?? '' })}
        confirmLabel={t('drive.deleteForever')}
        cancelLabel={t('common.cancel')}
        closeLabel={t('common.close')}
        danger
        errorText={(e) => errorText(t, e)}
        onConfirm={async () => {
          if (!purging) return;
          await purgeItem(purging.id, drive);
          toast(t('drive.purged', { name: purging.name }), 'success');
          void refresh();
        }}
      />
      <ConfirmDialog
        isOpen={emptying}
        onClose={() => setEmptying(false)}
        title={t('drive.emptyTrashTitle')}
        body={t('drive.emptyTrashText')}
        confirmLabel={t('drive.emptyTrash')}
        cancelLabel={t('common.cancel')}
        closeLabel={t('common.close')}
        danger
        errorText={(e) => errorText(t, e)}
        onConfirm={async () => {
          await emptyTrash(drive);
          toast(t('drive.trashEmptied'), 'success');
          void refresh();
        }}
      />
    </div>
  );
}
