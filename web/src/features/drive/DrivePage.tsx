import { lazy, Suspense, useEffect, useMemo, useRef, useState, type DragEvent, type FormEvent } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ArrowDown, ArrowUp, ChevronRight, Copy, Download, FolderPlus, FolderUp, Folder, HardDrive, LayoutGrid, List, Search, Trash2, Upload, X } from 'lucide-react';
import { ApiError } from '../../app/api';
import { errorText, useI18n } from '../../app/i18n';
import { QueryView } from '../../app/QueryView';
import { Link, navigate, useSearchParams } from '../../app/router';
import { useMe } from '../../app/session';
import { Button, IconButton } from '../../ui/Button';
import { AppDialog, ConfirmDialog } from '../../ui/Dialog';
import { ErrorBox } from '../../ui/ErrorBox';
import { TextField } from '../../ui/Field';
import { PageHeader, useDocumentTitle } from '../../ui/Page';
import { EmptyState } from '../../ui/States';
import { useToast } from '../../ui/Toast';
import {
  addFavourite,
  contentUrlIn,
  copyItemIn,
  createFolderIn,
  deleteItemIn,
  driveItemsKey,
  favouritesKey,
  join,
  listFavourites,
  listItemsIn,
  moveItemIn,
  pathOf,
  quotaKey,
  removeFavourite,
  segmentsOf,
  zipUrl,
  type DriveItem,
  type Listing,
} from './api';
import { SharingNav, useSharingActions } from './DriveSharing';
import { DriveSidebar, type DriveView } from './DriveSidebar';
import { FileBrowser, startDownload, type ItemAction, type Layout } from './FileBrowser';
import { FolderPicker } from './FolderPicker';
import { dropHasFolders, entriesOf, treeFromEntries, treeFromFileList, type TreeUpload } from './folderUpload';
import { LocatedView } from './LocatedView';
import { PreviewDialog, previewKind } from './PreviewDialog';
import { uploadFile } from './uploads';
import './drive.css';

interface Upload {
  id: number;
  name: string;
  folder: string;
  fraction: number;
  status: 'queued' | 'uploading' | 'done' | 'error';
  error?: string;
}

type SortKey = 'name' | 'size' | 'modified';
interface Sort {
  key: SortKey;
  dir: 'asc' | 'desc';
}

const TrashView = lazy(() => import('./TrashView'));
const SharedWithMe = lazy(() => import('./SharedWithMe'));

const LAYOUT_KEY = 'bastide.drive.layout';
const SORT_KEY = 'bastide.drive.sort';
/** Uploads run a few at a time (a dropped folder of 1,000 files must not open 1,000 connections). */
const UPLOAD_CONCURRENCY = 3;

function readPref<T>(key: string, valid: (v: unknown) => v is T, fallback: T): T {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(key) ?? 'null');
    return valid(v) ? v : fallback;
  } catch {
    return fallback;
  }
}
function writePref(key: string, v: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(v));
  } catch {
    /* private mode: not remembered */
  }
}
const isLayout = (v: unknown): v is Layout => v === 'list' || v === 'grid';
const isSort = (v: unknown): v is Sort =>
  typeof v === 'object' && v !== null && ['name', 'size', 'modified'].includes((v as Sort).key) && ['asc', 'desc'].includes((v as Sort).dir);

/** Folders first, then by the chosen key (names compared the locale's way, numbers numerically). */
export function sortItems(items: DriveItem[], sort: Sort, collator: Intl.Collator): DriveItem[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  return [...items].sort((a, b) => {
    if (a.kind !== b.kind) return a.kind === 'folder' ? -1 : 1;
    let c = 0;
    if (sort.key === 'size') c = a.size - b.size;
    else if (sort.key === 'modified') c = a.updatedAt - b.updatedAt;
    // Ties (same size or time) stay in name order whichever the direction.
    return sign * c || sign * (sort.key === 'name' ? collator.compare(a.name, b.name) : 0) || collator.compare(a.name, b.name) || a.name.localeCompare(b.name);
  });
}

/**
 * The drive. `drive` names which one ('me' by default, 'space:<id>', 'share:<id>'; also read from the
 * `drive` query parameter) and `basePath` where it is mounted. Query parameters: `path` (a folder),
 * `view` (recent, favourites, trash), `q` (a name search).
 */
export default function DrivePage({ drive: driveProp, basePath = '/drive', extraActions }: { drive?: string; basePath?: string; extraActions?: (item: DriveItem, path: string) => ItemAction[] } = {}) {
  const { t } = useI18n();
  const params = useSearchParams();
  const drive = driveProp ?? params.get('drive') ?? 'me';
  const viewParam = params.get('view');
  const q = params.get('q')?.trim() ?? '';
  const view: DriveView = viewParam === 'trash' || viewParam === 'recent' || viewParam === 'favourites' || viewParam === 'shared' ? viewParam : q ? 'search' : 'files';
  const driveQuery = driveProp || drive === 'me' ? undefined : drive;

  const href = (p: { path?: string; view?: string; q?: string; drive?: string }) => {
    const s = new URLSearchParams();
    const d = p.drive === undefined ? driveQuery : p.drive === 'me' ? undefined : p.drive;
    if (d) s.set('drive', d);
    if (p.path && p.path !== '/') s.set('path', p.path);
    if (p.view) s.set('view', p.view);
    if (p.q) s.set('q', p.q);
    const str = s.toString();
    return str ? `${basePath}?${str}` : basePath;
  };

  let content;
  if (view === 'trash')
    content = (
      <Suspense fallback={null}>
        <TrashView drive={drive.startsWith('share:') ? 'me' : drive} />
      </Suspense>
    );
  else if (view === 'shared')
    content = (
      <Suspense fallback={null}>
        <SharedWithMe hrefFor={(d, path) => href({ drive: d, path })} />
      </Suspense>
    );
  else if (view === 'files') content = <DriveFiles drive={drive} hrefFor={(path) => href({ path })} searchHref={(q) => href({ q })} extraActions={extraActions} />;
  else content = <ViewPage view={view} drive={drive} q={q} href={href} />;

  return (
    <div className="drive-layout">
      <DriveSidebar drive={drive} current={view} hrefFor={(p) => href(p)} extra={<SharingNav drive={drive} sharedCurrent={view === 'shared'} />} />
      <div className="drive-main">{content}</div>
      <span className="visually-hidden" aria-live="polite">
        {view === 'search' ? t('drive.search.results', { q }) : ''}
      </span>
    </div>
  );
}

function ViewPage({ view, drive, q, href }: { view: 'recent' | 'favourites' | 'search'; drive: string; q: string; href: (p: { path?: string; view?: string; q?: string; drive?: string }) => string }) {
  const { t } = useI18n();
  const title = view === 'recent' ? t('drive.recent.title') : view === 'favourites' ? t('drive.fav.title') : t('drive.search.title', { q });
  useDocumentTitle(`${title} · ${t('app.drive')}`);
  return (
    <div className="page drive">
      <PageHeader title={title} icon={<HardDrive size={22} />} actions={<SearchBox initial={view === 'search' ? q : ''} onSearch={(v) => navigate(href({ q: v }))} />} />
      <LocatedView kind={view} drive={drive} q={q} hrefFor={(d, path) => href({ drive: d, path })} />
    </div>
  );
}

function SearchBox({ initial, onSearch }: { initial: string; onSearch: (q: string) => void }) {
  const { t } = useI18n();
  const [v, setV] = useState(initial);
  return (
    <form
      role="search"
      className="drive-search"
      onSubmit={(e) => {
        e.preventDefault();
        if (v.trim()) onSearch(v.trim());
      }}
    >
      <Search size={16} aria-hidden="true" />
      <input type="search" value={v} onChange={(e) => setV(e.target.value)} aria-label={t('drive.search.label')} placeholder={t('drive.search.placeholder')} maxLength={200} />
    </form>
  );
}

function useStarred() {
  const q = useQuery({ queryKey: favouritesKey, queryFn: ({ signal }) => listFavourites(signal), staleTime: 30_000 });
  return useMemo(() => new Set((q.data?.items ?? []).map((i) => i.id)), [q.data]);
}

/** A folder of the drive: list or grid, sort, selection and bulk actions, previews, uploads (files and folders). */
function DriveFiles({ drive, hrefFor, searchHref, extraActions }: { drive: string; hrefFor: (path: string) => string; searchHref: (q: string) => string; extraActions?: (item: DriveItem, path: string) => ItemAction[] }) {
  const { t, locale } = useI18n();
  const me = useMe();
  const qc = useQueryClient();
  const toast = useToast();
  const raw = useSearchParams().get('path');
  const path = raw && raw.startsWith('/') ? pathOf(segmentsOf(raw)) : '/';
  const segments = segmentsOf(path);
  const rootLabel = drive === 'me' ? t('drive.root') : t('drive.files');
  const title = t('app.drive');
  useDocumentTitle(segments.length ? `${segments.at(-1)} · ${title}` : title);

  const key = driveItemsKey(drive, path);
  const query = useQuery({ queryKey: key, queryFn: ({ signal }) => listItemsIn(drive, path, signal) });
  const collator = useMemo(() => new Intl.Collator(locale, { numeric: true, sensitivity: 'base' }), [locale]);
  const starred = useStarred();
  // "Share…" and "Versions…" in each item's menu, with their dialogs.
  const sharing = useSharingActions(drive);

  const [layout, setLayoutState] = useState<Layout>(() => readPref(LAYOUT_KEY, isLayout, 'list'));
  const [sort, setSortState] = useState<Sort>(() => readPref(SORT_KEY, isSort, { key: 'name', dir: 'asc' }));
  const setLayout = (l: Layout) => {
    setLayoutState(l);
    writePref(LAYOUT_KEY, l);
  };
  const setSort = (k: SortKey) => {
    const next: Sort = sort.key === k ? { key: k, dir: sort.dir === 'asc' ? 'desc' : 'asc' } : { key: k, dir: k === 'name' ? 'asc' : 'desc' };
    setSortState(next);
    writePref(SORT_KEY, next);
  };
  const items = useMemo(() => sortItems(query.data?.items ?? [], sort, collator), [query.data, sort, collator]);

  const [selected, setSelected] = useState<Set<string>>(new Set());
  // A new folder starts with nothing selected.
  useEffect(() => setSelected(new Set()), [drive, path]);
  const selectedItems = useMemo(() => (selected.size ? items.filter((i) => selected.has(i.id)) : []), [items, selected]);

  const [creating, setCreating] = useState(false);
  const [renaming, setRenaming] = useState<DriveItem | null>(null);
  const [deleting, setDeleting] = useState<DriveItem[] | null>(null);
  const [picking, setPicking] = useState<{ mode: 'move' | 'copy'; items: DriveItem[] } | null>(null);
  const [preview, setPreview] = useState<number | null>(null);
  const files = useMemo(() => items.filter((i) => i.kind === 'file'), [items]);
  const previewTargets = useMemo(() => files.map((f) => ({ item: f, path: join(path, f.name) })), [files, path]);

  const [uploads, setUploads] = useState<Upload[]>([]);
  const [dragDepth, setDragDepth] = useState(0);
  const nextId = useRef(1);
  const input = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const queue = useRef<Array<() => Promise<void>>>([]);
  const running = useRef(0);

  // React has no typed prop for it: the folder picker is an <input webkitdirectory>.
  useEffect(() => {
    folderInput.current?.setAttribute('webkitdirectory', '');
    folderInput.current?.setAttribute('directory', '');
  }, []);

  const [replacing, setReplacing] = useState<{ all: File[]; taken: File[] } | null>(null);
  const replaceConfirmed = useRef(false);

  const refresh = (folder = path) => {
    void qc.invalidateQueries({ queryKey: driveItemsKey(drive, folder) });
    void qc.invalidateQueries({ queryKey: quotaKey(drive) });
  };

  function pump() {
    while (running.current < UPLOAD_CONCURRENCY && queue.current.length > 0) {
      const job = queue.current.shift()!;
      running.current++;
      void job().finally(() => {
        running.current--;
        pump();
      });
    }
  }

  /** Queues one file for `target` (its full path); refreshes `folder` when done. */
  function enqueue(file: File, target: string, folder: string, label = file.name) {
    const id = nextId.current++;
    setUploads((xs) => [...xs.slice(-49), { id, name: label, folder, fraction: 0, status: 'queued' }]);
    const update = (patch: Partial<Upload>) => setUploads((xs) => xs.map((x) => (x.id === id ? { ...x, ...patch } : x)));
    queue.current.push(async () => {
      update({ status: 'uploading' });
      try {
        await uploadFile(drive, target, file, (fraction) => update({ fraction })).promise;
        update({ status: 'done', fraction: 1 });
        refresh(folder);
      } catch (e) {
        update({ status: 'error', error: errorText(t, e) });
      }
    });
    pump();
  }

  function startUploads(list: FileList | File[]) {
    const all = Array.from(list);
    const existing = new Set((query.data?.items ?? []).filter((i) => i.kind === 'file').map((i) => i.name.normalize('NFC')));
    const taken = all.filter((f) => existing.has(f.name.normalize('NFC')));
    if (taken.length > 0) setReplacing({ all, taken });
    else uploadAll(all);
  }

  function uploadAll(list: File[]) {
    for (const file of list) enqueue(file, join(path, file.name), path);
  }

  /** A folder tree: its folders are created first (a top-level name already taken gets " (2)"), then its files queued. */
  async function uploadTree(tree: TreeUpload) {
    const folder = path;
    const taken = new Set((query.data?.items ?? []).map((i) => i.name.normalize('NFC')));
    const rename = new Map<string, string>();
    for (const top of new Set(tree.folders.map((f) => f.split('/')[0]!))) {
      let name = top;
      for (let n = 2; taken.has(name.normalize('NFC')); n++) name = `${top} (${n})`;
      rename.set(top, name);
    }
    const mapRel = (rel: string) => {
      const [top, ...rest] = rel.split('/');
      return [rename.get(top!) ?? top!, ...rest].join('/');
    };
    try {
      for (const rel of tree.folders) {
        const parts = mapRel(rel).split('/');
        try {
          await createFolderIn(drive, join(folder, parts.slice(0, -1).join('/')).replace(/\/$/, '') || '/', parts.at(-1)!);
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 'name_taken')) throw e;
        }
      }
    } catch (e) {
      toast(errorText(t, e), 'error');
      return;
    }
    refresh(folder);
    for (const { rel, file } of tree.files) {
      const full = mapRel(rel);
      const dir = full.includes('/') ? join(folder, full.slice(0, full.lastIndexOf('/'))) : folder;
      enqueue(file, join(folder, full), dir, full);
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
      if (e.dataTransfer.items && dropHasFolders(e.dataTransfer.items)) {
        // Entries must be taken while the event lives; loose files dropped with folders come along.
        const entries = entriesOf(e.dataTransfer.items);
        void treeFromEntries(entries).then((tree) => {
          const loose = tree.files.filter((f) => !f.rel.includes('/'));
          void uploadTree({ folders: tree.folders, files: tree.files.filter((f) => f.rel.includes('/')) });
          if (loose.length) startUploads(loose.map((f) => f.file));
        }, (err: unknown) => toast(errorText(t, err), 'error'));
      } else if (e.dataTransfer.files.length) startUploads(e.dataTransfer.files);
    },
  };

  async function removeMany(list: DriveItem[]) {
    await qc.cancelQueries({ queryKey: key });
    const prev = qc.getQueryData<Listing>(key);
    const ids = new Set(list.map((i) => i.id));
    if (prev) qc.setQueryData<Listing>(key, { ...prev, items: prev.items.filter((i) => !ids.has(i.id)) });
    const failed: DriveItem[] = [];
    let firstError: unknown = null;
    for (const item of list) {
      try {
        await deleteItemIn(drive, join(path, item.name));
      } catch (e) {
        failed.push(item);
        firstError ??= e;
      }
    }
    setSelected(new Set());
    void qc.invalidateQueries({ queryKey: ['drive', 'trash'] });
    refresh();
    if (failed.length) throw firstError;
    toast(list.length === 1 ? t('drive.deleted', { name: list[0]!.name }) : t('drive.deletedMany', { count: list.length }), 'success');
  }

  async function transfer(mode: 'move' | 'copy', list: DriveItem[], dest: string) {
    let done = 0;
    for (const item of list) {
      const from = join(path, item.name);
      const to = join(dest, item.name);
      if (mode === 'move') {
        if (dest === path) continue;
        await moveItemIn(drive, from, to);
      } else await copyItemIn(drive, from, to);
      done++;
    }
    setSelected(new Set());
    void qc.invalidateQueries({ queryKey: ['drive'] });
    const where = dest === '/' ? t('drive.root') : dest;
    toast(mode === 'move' ? t('drive.movedMany', { count: done, folder: where }) : t('drive.copiedMany', { count: done, folder: where }), 'success');
  }

  async function toggleStar(item: DriveItem) {
    try {
      if (starred.has(item.id)) {
        await removeFavourite(item.id);
        toast(t('drive.fav.removed', { name: item.name }), 'success');
      } else {
        await addFavourite(drive, join(path, item.name));
        toast(t('drive.fav.added', { name: item.name }), 'success');
      }
    } catch (e) {
      toast(errorText(t, e), 'error');
    } finally {
      void qc.invalidateQueries({ queryKey: favouritesKey });
    }
  }

  function open(item: DriveItem) {
    if (item.kind === 'folder') navigate(hrefFor(join(path, item.name)));
    else if (previewKind(item) === 'none') startDownload(contentUrlIn(drive, join(path, item.name)), item.name);
    else setPreview(files.indexOf(item));
  }

  const davUrl = `${window.location.origin}/dav/files/${encodeURIComponent(me.login)}/`;
  const active = uploads.filter((u) => u.status === 'uploading' || u.status === 'queued').length;
  const sortLabel: Record<SortKey, string> = { name: t('drive.sort.name'), size: t('drive.sort.size'), modified: t('drive.sort.modified') };

  return (
    <div className="page drive">
      <PageHeader
        title={title}
        icon={<HardDrive size={22} />}
        actions={
          <>
            <SearchBox initial="" onSearch={(v) => navigate(searchHref(v))} />
            <Button className="drive-hdr-btn" icon={<FolderPlus size={16} aria-hidden="true" />} onClick={() => setCreating(true)}>
              {t('drive.newFolder')}
            </Button>
            <Button className="drive-hdr-btn" icon={<FolderUp size={16} aria-hidden="true" />} onClick={() => folderInput.current?.click()}>
              {t('drive.uploadFolder')}
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
            <input
              ref={folderInput}
              type="file"
              multiple
              hidden
              data-testid="drive-folder-input"
              aria-label={t('drive.uploadFolder')}
              onChange={(e) => {
                if (e.target.files?.length) void uploadTree(treeFromFileList(e.target.files));
                e.target.value = '';
              }}
            />
          </>
        }
      />
      <nav aria-label={t('drive.breadcrumb')} className="drive-crumbs">
        <ol>
          <li>{segments.length ? <Link href={hrefFor('/')}>{rootLabel}</Link> : <span aria-current="page">{rootLabel}</span>}</li>
          {segments.map((s, i) => (
            <li key={i}>
              <ChevronRight size={14} aria-hidden="true" />
              {i === segments.length - 1 ? <span aria-current="page">{s}</span> : <Link href={hrefFor(pathOf(segments.slice(0, i + 1)))}>{s}</Link>}
            </li>
          ))}
        </ol>
      </nav>

      <section className="drive-uploads" aria-label={t('drive.uploads')} aria-live="polite" aria-relevant="additions text" data-testid="drive-uploads">
        {uploads.length > 0 && (
          <>
            <p className="small muted">{active ? t('drive.uploadingCount', { count: active }) : t('drive.uploadsDone')}</p>
            <ul>
              {uploads.map((u) => (
                <li key={u.id} className={`drive-upload drive-upload-${u.status}`}>
                  <span className="drive-upload-name">{u.name}</span>
                  <progress max={1} value={u.fraction} aria-label={t('drive.progressOf', { name: u.name })} />
                  <span className="small">
                    {u.status === 'queued' ? t('drive.queued') : u.status === 'uploading' ? t('drive.uploading') : u.status === 'done' ? t('drive.uploaded') : `${t('drive.uploadFailed')} ${u.error ?? ''}`}
                  </span>
                </li>
              ))}
            </ul>
            {active === 0 && (
              <Button size="sm" variant="ghost" onClick={() => setUploads([])}>
                {t('drive.clearUploads')}
              </Button>
            )}
          </>
        )}
      </section>

      <div className="drive-toolbar">
        {selectedItems.length > 0 ? (
          <div role="toolbar" aria-label={t('drive.bulk.label')} className="drive-bulk" data-testid="drive-bulk">
            <span className="drive-bulk-count" aria-live="polite">
              {t('drive.bulk.selected', { count: selectedItems.length })}
            </span>
            <Button size="sm" icon={<Download size={16} aria-hidden="true" />} onClick={() => startDownload(zipUrl(drive, selectedItems.map((i) => join(path, i.name))), `${segments.at(-1) ?? 'files'}.zip`)}>
              {t('drive.download')}
            </Button>
            <Button size="sm" icon={<Folder size={16} aria-hidden="true" />} onClick={() => setPicking({ mode: 'move', items: selectedItems })}>
              {t('drive.moveTo')}
            </Button>
            <Button size="sm" icon={<Copy size={16} aria-hidden="true" />} onClick={() => setPicking({ mode: 'copy', items: selectedItems })}>
              {t('drive.copyTo')}
            </Button>
            <Button size="sm" variant="danger" icon={<Trash2 size={16} aria-hidden="true" />} onClick={() => setDeleting(selectedItems)}>
              {t('drive.delete')}
            </Button>
            <IconButton label={t('drive.bulk.clear')} icon={<X size={16} aria-hidden="true" />} onClick={() => setSelected(new Set())} />
          </div>
        ) : (
          <div role="group" aria-label={t('drive.sort.label')} className="drive-sort">
            <span className="small muted drive-sort-label" aria-hidden="true">
              {t('drive.sort.label')}
            </span>
            {(['name', 'size', 'modified'] as const).map((k) => (
              <Button
                key={k}
                size="sm"
                variant={sort.key === k ? 'secondary' : 'ghost'}
                aria-pressed={sort.key === k}
                aria-label={sort.key === k ? t(sort.dir === 'asc' ? 'drive.sort.byAsc' : 'drive.sort.byDesc', { key: sortLabel[k] }) : t('drive.sort.by', { key: sortLabel[k] })}
                icon={sort.key === k ? sort.dir === 'asc' ? <ArrowUp size={14} aria-hidden="true" /> : <ArrowDown size={14} aria-hidden="true" /> : undefined}
                onClick={() => setSort(k)}
              >
                {sortLabel[k]}
              </Button>
            ))}
          </div>
        )}
        <div role="group" aria-label={t('drive.layout.label')} className="drive-layout-toggle">
          <IconButton label={t('drive.layout.list')} aria-pressed={layout === 'list'} icon={<List size={18} aria-hidden="true" />} onClick={() => setLayout('list')} variant={layout === 'list' ? 'secondary' : 'ghost'} />
          <IconButton label={t('drive.layout.grid')} aria-pressed={layout === 'grid'} icon={<LayoutGrid size={18} aria-hidden="true" />} onClick={() => setLayout('grid')} variant={layout === 'grid' ? 'secondary' : 'ghost'} />
        </div>
      </div>

      <div className={`drive-drop${dragDepth > 0 ? ' drive-drop-active' : ''}`} data-testid="drive-drop" {...dropHandlers}>
        <h2 className="visually-hidden">{segments.at(-1) ?? rootLabel}</h2>
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
          {() => (
            <FileBrowser
              drive={drive}
              path={path}
              items={items}
              layout={layout}
              selected={selected}
              onSelect={setSelected}
              starred={starred}
              label={t('drive.listLabel', { folder: segments.at(-1) ?? rootLabel })}
              hrefFor={hrefFor}
              handlers={{
                onOpen: open,
                onRename: setRenaming,
                onDelete: setDeleting,
                onMove: (list) => setPicking({ mode: 'move', items: list }),
                onCopy: (list) => setPicking({ mode: 'copy', items: list }),
                onToggleStar: (item) => void toggleStar(item),
                extraActions: (item: DriveItem) => [...sharing.actions(item, join(path, item.name)), ...(extraActions?.(item, join(path, item.name)) ?? [])],
              }}
            />
          )}
        </QueryView>
        <p className="small muted drive-drop-hint">{t('drive.dropHint')}</p>
      </div>

      {drive === 'me' && (
        <p className="small muted drive-dav">
          {t('drive.davNote', { url: davUrl, login: me.login })} <Link href="/settings/security">{t('drive.appPasswords')}</Link>
        </p>
      )}

      {sharing.dialogs}
      <PreviewDialog drive={drive} items={previewTargets} index={preview} onIndex={setPreview} onClose={() => setPreview(null)} />
      <FolderPicker
        key={picking ? `${picking.mode}-open` : 'picker'}
        isOpen={picking !== null}
        drive={drive}
        start={path}
        title={picking?.mode === 'copy' ? t('drive.picker.copyTitle', { count: picking.items.length }) : t('drive.picker.moveTitle', { count: picking?.items.length ?? 0 })}
        confirmLabel={picking?.mode === 'copy' ? t('drive.picker.copyHere') : t('drive.picker.moveHere')}
        excluded={(picking?.items ?? []).filter((i) => i.kind === 'folder').map((i) => join(path, i.name))}
        onClose={() => setPicking(null)}
        onPick={async (dest) => {
          if (picking) await transfer(picking.mode, picking.items, dest);
        }}
      />
      <NameDialog
        key={creating ? 'create-open' : 'create'}
        isOpen={creating}
        onClose={() => setCreating(false)}
        title={t('drive.newFolderTitle')}
        label={t('drive.folderName')}
        submitLabel={t('common.create')}
        initial=""
        onSubmit={async (name) => {
          await createFolderIn(drive, path, name);
          refresh();
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
          await moveItemIn(drive, join(path, renaming.name), join(path, name));
          refresh();
          toast(t('drive.renamed', { name }), 'success');
        }}
      />
      <ConfirmDialog
        isOpen={replacing !== null}
        onClose={() => {
          // Closed without "Replace" (cancel, Esc): the new files go up, the taken names are skipped.
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
        title={deleting?.length === 1 ? t('drive.deleteTitle', { name: deleting[0]!.name }) : t('drive.deleteManyTitle', { count: deleting?.length ?? 0 })}
        body={
          deleting?.length === 1
            ? deleting[0]!.kind === 'folder'
              ? t('drive.deleteFolderText', { name: deleting[0]!.name })
              : t('drive.deleteFileText', { name: deleting[0]!.name })
            : t('drive.deleteManyText', { count: deleting?.length ?? 0 })
        }
        confirmLabel={t('drive.moveToTrash')}
        cancelLabel={t('common.cancel')}
        closeLabel={t('common.close')}
        danger
        errorText={(e) => errorText(t, e)}
        onConfirm={async () => {
          if (deleting) await removeMany(deleting);
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
