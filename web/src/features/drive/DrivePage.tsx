import { lazy, Suspense, useMemo, useRef, useState, type DragEvent, type FormEvent } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ChevronRight, Download, File as FileIcon, Folder, FolderPlus, HardDrive, Pencil, Trash2, Upload } from 'lucide-react';
import { errorText, useI18n } from '../../app/i18n';
import { QueryView } from '../../app/QueryView';
import { Link, useSearchParams } from '../../app/router';
import { useMe } from '../../app/session';
import { Button } from '../../ui/Button';
import { AppDialog, ConfirmDialog } from '../../ui/Dialog';
import { ErrorBox } from '../../ui/ErrorBox';
import { TextField } from '../../ui/Field';
import { PageHeader, useDocumentTitle } from '../../ui/Page';
import { EmptyState } from '../../ui/States';
import { useToast } from '../../ui/Toast';
import { contentUrl, createFolder, deleteItem, driveKey, join, listItems, moveItem, pathOf, segmentsOf, uploadFile, type DriveItem, type Listing } from './api';
import './drive.css';

const hrefFor = (path: string) => (path === '/' ? '/drive' : `/drive?path=${encodeURIComponent(path)}`);

interface Upload {
  id: number;
  name: string;
  folder: string;
  fraction: number;
  status: 'uploading' | 'done' | 'error';
  error?: string;
}

const TrashView = lazy(() => import('./TrashView'));

/** /drive?view=trash is the trash; /drive?path=… a folder. */
export default function DrivePage() {
  const view = useSearchParams().get('view');
  if (view === 'trash')
    return (
      <Suspense fallback={null}>
        <TrashView />
      </Suspense>
    );
  return <DriveFiles />;
}

/** The user's own files: folders, upload with progress (button or drop), download, rename, delete (to the trash). */
function DriveFiles() {
  const { t, fmt, locale } = useI18n();
  const me = useMe();
  const qc = useQueryClient();
  const toast = useToast();
  const raw = useSearchParams().get('path');
  const path = raw && raw.startsWith('/') ? pathOf(segmentsOf(raw)) : '/';
  const segments = segmentsOf(path);
  const title = t('app.drive');
  useDocumentTitle(segments.length ? `${segments.at(-1)} · ${title}` : title);

  const query = useQuery({ queryKey: driveKey(path), queryFn: ({ signal }) => listItems(path, signal) });
  const collator = useMemo(() => new Intl.Collator(locale, { numeric: true, sensitivity: 'base' }), [locale]);

  const [creating, setCreating] = useState(false);
  const [renaming, setRenaming] = useState<DriveItem | null>(null);
  const [deleting, setDeleting] = useState<DriveItem | null>(null);
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [dragDepth, setDragDepth] = useState(0);
  const nextId = useRef(1);
  const input = useRef<HTMLInputElement>(null);

  // Files whose name is already taken in this folder wait for the user's word before replacing anything.
  const [replacing, setReplacing] = useState<{ all: File[]; taken: File[] } | null>(null);
  const replaceConfirmed = useRef(false);

  function startUploads(files: FileList | File[]) {
    const all = Array.from(files);
    const existing = new Set((query.data?.items ?? []).filter((i) => i.kind === 'file').map((i) => i.name.normalize('NFC')));
    const taken = all.filter((f) => existing.has(f.name.normalize('NFC')));
    if (taken.length > 0) setReplacing({ all, taken });
    else uploadAll(all);
  }

  function uploadAll(files: File[]) {
    const folder = path;
    for (const file of files) {
      const id = nextId.current++;
      setUploads((xs) => [...xs.slice(-19), { id, name: file.name, folder, fraction: 0, status: 'uploading' }]);
      const update = (patch: Partial<Upload>) => setUploads((xs) => xs.map((x) => (x.id === id ? { ...x, ...patch } : x)));
      const { promise } = uploadFile(join(folder, file.name), file, (fraction) => update({ fraction }));
      promise.then(
        () => {
          update({ status: 'done', fraction: 1 });
          void qc.invalidateQueries({ queryKey: driveKey(folder) });
        },
        (e: unknown) => update({ status: 'error', error: errorText(t, e) }),
      );
    }
  }

  const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer.types).includes('Files');
  const dropHandlers = {
    onDragEnter: (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      setDragDepth((d) => d + 1);
    },
    onDragLeave: (e: DragEvent) => {
      if (!hasFiles(e)) return;
      setDragDepth((d) => Math.max(0, d - 1));
    },
    onDragOver: (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    },
    onDrop: (e: DragEvent) => {
      e.preventDefault();
      setDragDepth(0);
      if (e.dataTransfer.files.length) startUploads(e.dataTransfer.files);
    },
  };

  async function remove(item: DriveItem) {
    const key = driveKey(path);
    await qc.cancelQueries({ queryKey: key });
    const prev = qc.getQueryData<Listing>(key);
    if (prev) qc.setQueryData<Listing>(key, { ...prev, items: prev.items.filter((i) => i.id !== item.id) });
    try {
      await deleteItem(join(path, item.name));
      toast(t('drive.deleted', { name: item.name }), 'success');
      void qc.invalidateQueries({ queryKey: ['drive', 'trash'] });
    } catch (e) {
      if (prev) qc.setQueryData(key, prev);
      throw e;
    } finally {
      void qc.invalidateQueries({ queryKey: key });
    }
  }

  const davUrl = `${window.location.origin}/dav/files/${encodeURIComponent(me.login)}/`;
  const uploading = uploads.filter((u) => u.status === 'uploading').length;

  return (
    <div className="page drive">
      <PageHeader
        title={title}
        icon={<HardDrive size={22} />}
        actions={
          <>
            <Button icon={<FolderPlus size={16} aria-hidden="true" />} onClick={() => setCreating(true)}>
              {t('drive.newFolder')}
            </Button>
            <Button variant="primary" icon={<Upload size={16} aria-hidden="true" />} onClick={() => input.current?.click()}>
              {t('drive.upload')}
            </Button>
            <input
              ref={input}
              type="file"
              multiple
              hidden
              data-testid="drive-upload-input"
              aria-label={t('drive.upload')}
              onChange={(e) => {
                if (e.target.files?.length) startUploads(e.target.files);
                e.target.value = '';
              }}
            />
          </>
        }
      />
      <div className="drive-crumbs-bar">
        <nav aria-label={t('drive.breadcrumb')} className="drive-crumbs">
          <ol>
            <li>
              {segments.length ? <Link href="/drive">{t('drive.root')}</Link> : <span aria-current="page">{t('drive.root')}</span>}
            </li>
            {segments.map((s, i) => (
              <li key={i}>
                <ChevronRight size={14} aria-hidden="true" />
                {i === segments.length - 1 ? <span aria-current="page">{s}</span> : <Link href={hrefFor(pathOf(segments.slice(0, i + 1)))}>{s}</Link>}
              </li>
            ))}
          </ol>
        </nav>
        <Link href="/drive?view=trash" className="drive-trash-link">
          <Trash2 size={16} aria-hidden="true" />
          <span>{t('drive.trash')}</span>
        </Link>
      </div>

      <section className="drive-uploads" aria-label={t('drive.uploads')} aria-live="polite" aria-relevant="additions text" data-testid="drive-uploads">
        {uploads.length > 0 && (
          <>
            <p className="small muted">{uploading ? t('drive.uploadingCount', { count: uploading }) : t('drive.uploadsDone')}</p>
            <ul>
              {uploads.map((u) => (
                <li key={u.id} className={`drive-upload drive-upload-${u.status}`}>
                  <span className="drive-upload-name">{u.name}</span>
                  <progress max={1} value={u.fraction} aria-label={t('drive.progressOf', { name: u.name })} />
                  <span className="small">
                    {u.status === 'uploading' ? t('drive.uploading') : u.status === 'done' ? t('drive.uploaded') : `${t('drive.uploadFailed')} ${u.error ?? ''}`}
                  </span>
                </li>
              ))}
            </ul>
            {uploading === 0 && (
              <Button size="sm" variant="ghost" onClick={() => setUploads([])}>
                {t('drive.clearUploads')}
              </Button>
            )}
          </>
        )}
      </section>

      <div className={`drive-drop${dragDepth > 0 ? ' drive-drop-active' : ''}`} data-testid="drive-drop" {...dropHandlers}>
        <h2 className="visually-hidden">{segments.at(-1) ?? t('drive.root')}</h2>
        <QueryView
          query={query}
          errorTitle={t('drive.loadError')}
          lines={6}
          isEmpty={(d) => d.items.length === 0}
          empty={
            <EmptyState icon={<Folder size={28} />} title={t('drive.emptyTitle')} action={
              <Button variant="primary" icon={<Upload size={16} aria-hidden="true" />} onClick={() => input.current?.click()}>
                {t('drive.upload')}
              </Button>
            }>
              {t('drive.emptyText')}
            </EmptyState>
          }
        >
          {(d) => (
            <ul className="list drive-list" aria-label={t('drive.listLabel', { folder: segments.at(-1) ?? t('drive.root') })}>
              {[...d.items]
                .sort((a, b) => (a.kind === b.kind ? collator.compare(a.name, b.name) : a.kind === 'folder' ? -1 : 1))
                .map((item) => {
                  const itemPath = join(path, item.name);
                  return (
                    <li key={item.id} data-testid="drive-item">
                      <span className="drive-icon" aria-hidden="true">
                        {item.kind === 'folder' ? <Folder size={20} /> : <FileIcon size={20} />}
                      </span>
                      <div className="list-main">
                        {item.kind === 'folder' ? (
                          <Link className="list-title" href={hrefFor(itemPath)}>
                            {item.name}
                          </Link>
                        ) : (
                          <span className="list-title">{item.name}</span>
                        )}
                        <span className="meta">
                          <span>{item.kind === 'folder' ? t('drive.folder') : fmt.size(item.size)}</span>
                          <span>{t('drive.modified', { date: fmt.dateTime(item.updatedAt) })}</span>
                        </span>
                      </div>
                      <div className="drive-actions">
                        {item.kind === 'file' && (
                          <a className="btn btn-ghost btn-sm" href={contentUrl(itemPath)} download={item.name} aria-label={t('drive.downloadNamed', { name: item.name })}>
                            <Download size={16} aria-hidden="true" />
                            <span>{t('drive.download')}</span>
                          </a>
                        )}
                        <Button size="sm" variant="ghost" icon={<Pencil size={16} aria-hidden="true" />} aria-label={t('drive.renameNamed', { name: item.name })} onClick={() => setRenaming(item)}>
                          {t('drive.rename')}
                        </Button>
                        <Button size="sm" variant="ghost" icon={<Trash2 size={16} aria-hidden="true" />} aria-label={t('drive.deleteNamed', { name: item.name })} onClick={() => setDeleting(item)}>
                          {t('drive.delete')}
                        </Button>
                      </div>
                    </li>
                  );
                })}
            </ul>
          )}
        </QueryView>
        <p className="small muted drive-drop-hint">{t('drive.dropHint')}</p>
      </div>

      <p className="small muted drive-dav">
        {t('drive.davNote', { url: davUrl, login: me.login })} <Link href="/settings/security">{t('drive.appPasswords')}</Link>
      </p>

      <NameDialog
        key={creating ? 'create-open' : 'create'}
        isOpen={creating}
        onClose={() => setCreating(false)}
        title={t('drive.newFolderTitle')}
        label={t('drive.folderName')}
        submitLabel={t('common.create')}
        initial=""
        onSubmit={async (name) => {
          await createFolder(path, name);
          void qc.invalidateQueries({ queryKey: driveKey(path) });
          toast(t('drive.folderCreated', { name }), 'success');
        }}
      />
      <NameDialog
        key={renaming?.id ?? 'rename'}
        isOpen={renaming !== null}
        onClose={() => setRenaming(null)}
        title={t('drive.renameTitle', { name: renaming?.name ?? '' })}
        label={t('drive.newName')}
        submitLabel={t('drive.rename')}
        initial={renaming?.name ?? ''}
        onSubmit={async (name) => {
          if (!renaming || name === renaming.name) return;
          await moveItem(join(path, renaming.name), join(path, name));
          void qc.invalidateQueries({ queryKey: driveKey(path) });
          toast(t('drive.renamed', { name }), 'success');
        }}
      />
      <ConfirmDialog
        isOpen={replacing !== null}
        onClose={() => {
          // Closed without "Replace" (cancel, Esc): the new files go up, the taken names are skipped.
          // After "Replace", onConfirm has already sent everything and cleared `replacing`.
          if (replacing && !replaceConfirmed.current) uploadAll(replacing.all.filter((f) => !replacing.taken.includes(f)));
          replaceConfirmed.current = false;
          setReplacing(null);
        }}
        title={t('drive.replaceTitle', { count: replacing?.taken.length ?? 0 })}
        body={t('drive.replaceText', { names: (replacing?.taken ?? []).map((f) => f.name).join(', ') })}
        confirmLabel={t('drive.replace')}
        cancelLabel={t('drive.skipExisting')}
        closeLabel={t('common.close')}
        danger
        errorText={(e) => errorText(t, e)}
        onConfirm={async () => {
          replaceConfirmed.current = true;
          if (replacing) uploadAll(replacing.all);
        }}
      />
      <ConfirmDialog
        isOpen={deleting !== null}
        onClose={() => setDeleting(null)}
        title={t('drive.deleteTitle', { name: deleting?.name ?? '' })}
        body={deleting?.kind === 'folder' ? t('drive.deleteFolderText', { name: deleting.name }) : t('drive.deleteFileText', { name: deleting?.name ?? '' })}
        confirmLabel={t('drive.moveToTrash')}
        cancelLabel={t('common.cancel')}
        closeLabel={t('common.close')}
        danger
        errorText={(e) => errorText(t, e)}
        onConfirm={async () => {
          if (deleting) await remove(deleting);
        }}
      />
    </div>
  );
}

function NameDialog({ isOpen, onClose, title, label, submitLabel, initial, onSubmit }: { isOpen: boolean; onClose: () => void; title: string; label: string; submitLabel: string; initial: string; onSubmit: (name: string) => Promise<void> }) {
  const { t } = useI18n();
  const [name, setName] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fieldError, setFieldError] = useState<string | undefined>();

  function close() {
    setName(initial);
    setError(null);
    setFieldError(undefined);
    onClose();
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    const v = name.trim();
    if (!v) return setFieldError(t('form.required'));
    if (v === '.' || v === '..' || v.includes('/')) return setFieldError(t('error.invalid_name'));
    setFieldError(undefined);
    setBusy(true);
    setError(null);
    try {
      await onSubmit(v);
      close();
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AppDialog isOpen={isOpen} onClose={close} title={title} closeLabel={t('common.close')} size="sm">
      <form className="form" onSubmit={(e) => void submit(e)} noValidate>
        <TextField label={label} value={name} onChange={setName} required error={fieldError} autoFocus maxLength={255} />
        <ErrorBox message={error} />
        <div className="row-end">
          <Button onClick={close}>{t('common.cancel')}</Button>
          <Button type="submit" variant="primary" loading={busy}>
            {submitLabel}
          </Button>
        </div>
      </form>
    </AppDialog>
  );
}
