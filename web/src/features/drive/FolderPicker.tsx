/** Choose a destination folder (for move and copy): browse the drive's folders, then confirm. */
import { useMemo, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { ChevronRight, Folder, HardDrive } from 'lucide-react';
import { errorText, useI18n } from '../../app/i18n';
import { QueryView } from '../../app/QueryView';
import { Button } from '../../ui/Button';
import { AppDialog } from '../../ui/Dialog';
import { ErrorBox } from '../../ui/ErrorBox';
import { driveItemsKey, join, listItemsIn, pathOf, segmentsOf } from './api';

export function FolderPicker({
  isOpen,
  drive,
  start,
  title,
  confirmLabel,
  excluded,
  onClose,
  onPick,
}: {
  isOpen: boolean;
  drive: string;
  start: string;
  title: string;
  confirmLabel: string;
  /** Paths that cannot be entered or chosen (the folders being moved). */
  excluded: string[];
  onClose: () => void;
  onPick: (folder: string) => Promise<void>;
}) {
  const { t, locale } = useI18n();
  const [path, setPath] = useState(start);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const segments = segmentsOf(path);
  const query = useQuery({ queryKey: driveItemsKey(drive, path), queryFn: ({ signal }) => listItemsIn(drive, path, signal), enabled: isOpen });
  const collator = useMemo(() => new Intl.Collator(locale, { numeric: true, sensitivity: 'base' }), [locale]);
  const blocked = (p: string) => excluded.some((x) => p === x || p.startsWith(`${x}/`));

  async function pick() {
    setBusy(true);
    setError(null);
    try {
      await onPick(path);
      onClose();
    } catch (e) {
      setError(errorText(t, e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AppDialog
      isOpen={isOpen}
      onClose={onClose}
      title={title}
      closeLabel={t('common.close')}
      size="md"
      testId="folder-picker"
      footer={
        <>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button variant="primary" loading={busy} onClick={() => void pick()} disabled={blocked(path)}>
            {confirmLabel}
          </Button>
        </>
      }
    >
      <nav aria-label={t('drive.picker.location')} className="drive-crumbs picker-crumbs">
        <ol>
          <li>
            <Button size="sm" variant="ghost" icon={<HardDrive size={16} aria-hidden="true" />} onClick={() => setPath('/')} aria-current={segments.length === 0 ? 'location' : undefined}>
              {t('drive.root')}
            </Button>
          </li>
          {segments.map((s, i) => (
            <li key={i}>
              <ChevronRight size={14} aria-hidden="true" />
              <Button size="sm" variant="ghost" onClick={() => setPath(pathOf(segments.slice(0, i + 1)))} aria-current={i === segments.length - 1 ? 'location' : undefined}>
                {s}
              </Button>
            </li>
          ))}
        </ol>
      </nav>
      <QueryView query={query} errorTitle={t('drive.loadError')} lines={4} isEmpty={(d) => !d.items.some((i) => i.kind === 'folder')} empty={<p className="muted">{t('drive.picker.noFolders')}</p>}>
        {(d) => (
          <ul className="picker-list" aria-label={t('drive.picker.folders')}>
            {d.items
              .filter((i) => i.kind === 'folder')
              .sort((a, b) => collator.compare(a.name, b.name))
              .map((f) => {
                const p = join(path, f.name);
                return (
                  <li key={f.id}>
                    <Button variant="ghost" className="picker-item" icon={<Folder size={18} aria-hidden="true" />} disabled={blocked(p)} onClick={() => setPath(p)}>
                      {f.name}
                    </Button>
                  </li>
                );
              })}
          </ul>
        )}
      </QueryView>
      <p className="small muted">{t('drive.picker.destination', { path: segments.length ? path : t('drive.root') })}</p>
      <ErrorBox message={error} />
    </AppDialog>
  );
}
