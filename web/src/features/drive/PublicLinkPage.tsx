/**
 * A public link as a visitor sees it, at /s/<token>, without an account: a password form when the link
 * is protected (401 link_locked); then a file (name, size, owner, expiry, downloads left, Download), a
 * folder (its listing, navigation, downloads), or for a drop link only a drop zone that uploads with
 * per-file progress and shows the name the server kept. Expired, used-up and unknown links get a plain
 * page that says so. No app shell: the product name and the language switch only.
 */
import { useCallback, useEffect, useId, useRef, useState, type DragEvent, type FormEvent } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ChevronRight, Download, File as FileIcon, Folder, Link2Off, Lock, Upload } from 'lucide-react';
import { ApiError } from '../../app/api';
import { errorText, useI18n } from '../../app/i18n';
import { Link, navigate, useSearchParams } from '../../app/router';
import { AuthFrame } from '../auth/AuthFrame';
import { Button } from '../../ui/Button';
import { TextField, FormError } from '../../ui/Field';
import { useDocumentTitle } from '../../ui/Page';
import { EmptyState, ErrorState, Skeleton } from '../../ui/States';
import { dropFile, getPublicLink, listPublicItems, publicContentUrl, publicZipUrl, publicItemsKey, publicLinkKey, unlockPublicLink, type PublicLinkInfo } from './sharingApi';
import './sharing.css';

export default function PublicLinkPage({ token }: { token: string }) {
  const { t } = useI18n();
  const query = useQuery({ queryKey: publicLinkKey(token), queryFn: ({ signal }) => getPublicLink(token, signal), staleTime: 0 });
  useDocumentTitle(query.data?.name ?? t('publicLink.docTitle'));

  let body;
  if (query.isPending) body = <Skeleton label={t('common.loading')} lines={4} />;
  else if (query.isError) {
    const err = query.error;
    if (err instanceof ApiError && err.code === 'link_locked') body = <PasswordForm token={token} />;
    else if (err instanceof ApiError && err.code === 'link_unavailable') {
      const reason = String(err.details.reason ?? '');
      body = (
        <Gone
          title={t('publicLink.unavailableTitle')}
          text={reason === 'expired' ? t('publicLink.expiredText') : reason === 'used_up' ? t('publicLink.usedUpText') : t('publicLink.goneText')}
        />
      );
    } else if (err instanceof ApiError && (err.status === 404 || err.status === 400)) body = <Gone title={t('publicLink.notFoundTitle')} text={t('publicLink.notFoundText')} />;
    else body = <ErrorState title={t('publicLink.loadError')} message={errorText(t, err)} retryLabel={t('common.retry')} onRetry={() => void query.refetch()} />;
  } else {
    const info = query.data;
    body = info.mode === 'drop' ? <DropView token={token} info={info} /> : info.kind === 'folder' ? <FolderView token={token} info={info} /> : <FileView token={token} info={info} />;
  }
  return (
    <AuthFrame wide>
      <div className="public-link" data-testid="public-link">
        {body}
      </div>
    </AuthFrame>
  );
}

function Gone({ title, text }: { title: string; text: string }) {
  return (
    <div className="public-gone" data-testid="public-link-gone">
      <Link2Off size={32} aria-hidden="true" className="muted" />
      <h1>{title}</h1>
      <p className="muted">{text}</p>
    </div>
  );
}

function PasswordForm({ token }: { token: string }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!password) {
      setFieldError(t('form.required'));
      return;
    }
    setFieldError(null);
    setError(null);
    setBusy(true);
    try {
      await unlockPublicLink(token, password);
      await qc.invalidateQueries({ queryKey: publicLinkKey(token) });
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <p className="public-lock" aria-hidden="true">
        <Lock size={28} />
      </p>
      <h1>{t('publicLink.lockedTitle')}</h1>
      <p className="muted">{t('publicLink.lockedText')}</p>
      <form className="form stack" onSubmit={(e) => void submit(e)} noValidate>
        <TextField label={t('publicLink.password')} type="password" autoComplete="current-password" value={password} onChange={setPassword} maxLength={200} error={fieldError} autoFocus />
        <FormError>{error}</FormError>
        <Button type="submit" variant="primary" loading={busy}>
          {t('publicLink.unlock')}
        </Button>
      </form>
    </>
  );
}

function Facts({ info }: { info: PublicLinkInfo }) {
  const { t, fmt } = useI18n();
  return (
    <dl className="public-facts">
      {info.ownerName && (
        <div>
          <dt>{t('publicLink.sharedBy')}</dt>
          <dd>{info.ownerName}</dd>
        </div>
      )}
      {info.kind === 'file' && info.mode === 'read' && (
        <div>
          <dt>{t('publicLink.size')}</dt>
          <dd>{fmt.size(info.size)}</dd>
        </div>
      )}
      {info.expiresAt !== null && (
        <div>
          <dt>{t('publicLink.expires')}</dt>
          <dd>{fmt.dateTime(info.expiresAt)}</dd>
        </div>
      )}
      {info.downloadsLeft !== null && info.mode === 'read' && (
        <div>
          <dt>{t('publicLink.downloadsLeftLabel')}</dt>
          <dd data-testid="public-downloads-left">{fmt.number(info.downloadsLeft)}</dd>
        </div>
      )}
    </dl>
  );
}

/** After a download starts, the count of downloads left changes: read it again a moment later. */
function useRefreshAfterDownload(token: string): () => void {
  const qc = useQueryClient();
  return useCallback(() => {
    window.setTimeout(() => void qc.invalidateQueries({ queryKey: publicLinkKey(token) }), 1500);
  }, [qc, token]);
}

function FileView({ token, info }: { token: string; info: PublicLinkInfo }) {
  const { t } = useI18n();
  const refresh = useRefreshAfterDownload(token);
  return (
    <>
      <p className="public-kind muted small">
        <FileIcon size={16} aria-hidden="true" /> {t('publicLink.aFile')}
      </p>
      <h1 className="public-name">{info.name}</h1>
      <Facts info={info} />
      <a className="btn btn-primary public-download" href={publicContentUrl(token, '/')} download={info.name} onClick={refresh}>
        <Download size={18} aria-hidden="true" />
        <span>{t('publicLink.download')}</span>
      </a>
    </>
  );
}

function FolderView({ token, info }: { token: string; info: PublicLinkInfo }) {
  const { t, fmt } = useI18n();
  const params = useSearchParams();
  const raw = params.get('path') ?? '/';
  const path = raw.startsWith('/') ? raw : `/${raw}`;
  const segments = path.split('/').filter(Boolean);
  const refresh = useRefreshAfterDownload(token);
  const query = useQuery({ queryKey: publicItemsKey(token, path), queryFn: ({ signal }) => listPublicItems(token, path, signal) });
  const hrefFor = (segs: string[]) => (segs.length ? `/s/${token}?${new URLSearchParams({ path: `/${segs.join('/')}` }).toString()}` : `/s/${token}`);
  const join = (name: string) => (path === '/' ? `/${name}` : `${path}/${name}`);

  return (
    <>
      <p className="public-kind muted small">
        <Folder size={16} aria-hidden="true" /> {t('publicLink.aFolder')}
      </p>
      <h1 className="public-name">{info.name}</h1>
      <Facts info={info} />
      <a className="btn btn-secondary public-download" href={publicZipUrl(token, path)} download={`${segments.at(-1) ?? info.name}.zip`} onClick={refresh}>
        <Download size={18} aria-hidden="true" />
        {t('publicLink.downloadAll')}
      </a>
      {segments.length > 0 && (
        <nav aria-label={t('drive.breadcrumb')} className="public-crumbs">
          <ol>
            <li>
              <Link href={hrefFor([])} aria-current={segments.length === 0 ? 'page' : undefined}>
                {info.name}
              </Link>
            </li>
            {segments.map((s, i) => (
              <li key={`${i}-${s}`}>
                <ChevronRight size={14} aria-hidden="true" />
                <Link href={hrefFor(segments.slice(0, i + 1))} aria-current={i === segments.length - 1 ? 'page' : undefined}>
                  {s}
                </Link>
              </li>
            ))}
          </ol>
        </nav>
      )}
      {query.isPending ? (
        <Skeleton label={t('common.loading')} lines={4} />
      ) : query.isError ? (
        <ErrorState
          title={t('publicLink.folderError')}
          message={errorText(t, query.error)}
          retryLabel={t('common.retry')}
          onRetry={() => {
            if (query.error instanceof ApiError && query.error.status === 404) navigate(hrefFor([]));
            else void query.refetch();
          }}
        />
      ) : query.data.items.length === 0 ? (
        <EmptyState icon={<Folder size={28} />} title={t('publicLink.folderEmpty')} />
      ) : (
        <ul className="list public-list" aria-label={t('drive.listLabel', { folder: segments.at(-1) ?? info.name })}>
          {query.data.items.map((item) => (
            <li key={item.id} data-testid="public-item">
              <span className="public-icon" aria-hidden="true">
                {item.kind === 'folder' ? <Folder size={20} /> : <FileIcon size={20} />}
              </span>
              <div className="list-main">
                {item.kind === 'folder' ? (
                  <Link className="list-title" href={hrefFor([...segments, item.name])}>
                    {item.name}
                  </Link>
                ) : (
                  <span className="list-title">{item.name}</span>
                )}
                <span className="muted small">{item.kind === 'folder' ? t('drive.folder') : `${fmt.size(item.size)} · ${t('drive.modified', { date: fmt.date(item.updatedAt) })}`}</span>
              </div>
              {item.kind === 'file' && (
                <a className="btn btn-ghost btn-sm" href={publicContentUrl(token, join(item.name))} download={item.name} aria-label={t('drive.downloadNamed', { name: item.name })} onClick={refresh}>
                  <Download size={16} aria-hidden="true" />
                  <span className="public-hide-sm">{t('drive.download')}</span>
                </a>
              )}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

interface Drop {
  id: number;
  file: string;
  fraction: number;
  status: 'uploading' | 'done' | 'failed';
  kept?: string;
  error?: string;
}

function DropView({ token, info }: { token: string; info: PublicLinkInfo }) {
  const { t } = useI18n();
  const inputId = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const [drops, setDrops] = useState<Drop[]>([]);
  const [over, setOver] = useState(0);
  const nextId = useRef(1);
  const aborts = useRef(new Set<() => void>());
  useEffect(() => {
    const set = aborts.current;
    return () => {
      for (const a of set) a();
    };
  }, []);

  // One file at a time, in order: a visitor's connection is shared by all of them anyway.
  const queue = useRef<Promise<void>>(Promise.resolve());
  const send = useCallback(
    (files: File[]) => {
      for (const file of files) {
        const id = nextId.current++;
        setDrops((d) => [...d, { id, file: file.name, fraction: 0, status: 'uploading' }]);
        const update = (p: Partial<Drop>) => setDrops((d) => d.map((x) => (x.id === id ? { ...x, ...p } : x)));
        queue.current = queue.current.then(async () => {
          const job = dropFile(token, file, (fraction) => update({ fraction }));
          aborts.current.add(job.abort);
          try {
            const r = await job.promise;
            update({ status: 'done', fraction: 1, kept: r.name });
          } catch (e) {
            update({ status: 'failed', error: errorText(t, e) });
          } finally {
            aborts.current.delete(job.abort);
          }
        });
      }
    },
    [token, t],
  );

  const active = drops.filter((d) => d.status === 'uploading').length;
  return (
    <>
      <p className="public-kind muted small">
        <Upload size={16} aria-hidden="true" /> {t('publicLink.aDrop')}
      </p>
      <h1 className="public-name">{info.name}</h1>
      <p className="muted">{t('publicLink.dropText', { name: info.ownerName || info.name })}</p>
      <Facts info={info} />
      <div
        className={`public-drop${over > 0 ? ' public-drop-active' : ''}`}
        data-testid="public-drop"
        onDragEnter={(e: DragEvent) => {
          e.preventDefault();
          setOver((n) => n + 1);
        }}
        onDragLeave={() => setOver((n) => Math.max(0, n - 1))}
        onDragOver={(e: DragEvent) => {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'copy';
        }}
        onDrop={(e: DragEvent) => {
          e.preventDefault();
          setOver(0);
          send(Array.from(e.dataTransfer.files));
        }}
      >
        <Upload size={28} aria-hidden="true" />
        <p>{t('publicLink.dropHere')}</p>
        <input
          ref={inputRef}
          id={inputId}
          type="file"
          multiple
          className="visually-hidden"
          tabIndex={-1}
          aria-hidden="true"
          data-testid="public-drop-input"
          onChange={(e) => {
            send(Array.from(e.target.files ?? []));
            e.target.value = '';
          }}
        />
        <Button variant="primary" icon={<Upload size={16} aria-hidden="true" />} onClick={() => inputRef.current?.click()}>
          {t('publicLink.chooseFiles')}
        </Button>
      </div>
      <section className="public-drops" aria-label={t('publicLink.sent')} aria-live="polite" aria-relevant="additions text" data-testid="public-drops">
        {drops.length > 0 && (
          <>
            <p className="small muted">{active ? t('drive.uploadingCount', { count: active }) : t('publicLink.allSent')}</p>
            <ul>
              {drops.map((d) => (
                <li key={d.id} className={`public-drop-item public-drop-${d.status}`} data-testid="public-drop-item">
                  <span className="public-drop-name">{d.file}</span>
                  <progress max={1} value={d.fraction} aria-label={t('drive.progressOf', { name: d.file })} />
                  <span className="small">
                    {d.status === 'uploading'
                      ? t('drive.uploading')
                      : d.status === 'done'
                        ? d.kept && d.kept !== d.file
                          ? t('publicLink.receivedAs', { name: d.kept })
                          : t('publicLink.received')
                        : `${t('drive.uploadFailed')} ${d.error ?? ''}`}
                  </span>
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
    </>
  );
}
