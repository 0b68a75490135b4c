/**
 * Lists of files and folders from anywhere in the user's drives, each with the folder it sits in:
 * favourites, recent files, and the results of a name search (paged).
 */
import { useState, type ReactNode } from 'react';
import { useInfiniteQuery, useQuery, useQueryClient, type UseQueryResult } from '@tanstack/react-query';
import { Clock, Search, Star, StarOff } from 'lucide-react';
import { errorText, useI18n } from '../../app/i18n';
import { QueryView } from '../../app/QueryView';
import { Link } from '../../app/router';
import { Button, IconButton } from '../../ui/Button';
import { EmptyState } from '../../ui/States';
import { useToast } from '../../ui/Toast';
import { favouritesKey, listFavourites, listRecent, recentKey, removeFavourite, searchDrive, searchKey, type LocatedItem } from './api';
import { Thumb } from './FileBrowser';
import { PreviewDialog } from './PreviewDialog';

export type LocatedKind = 'favourites' | 'recent' | 'search';

export function LocatedView({ kind, drive, q, hrefFor }: { kind: LocatedKind; drive: string; q?: string; hrefFor: (drive: string, path: string) => string }) {
  const { t } = useI18n();
  const favs = useQuery({ queryKey: favouritesKey, queryFn: ({ signal }) => listFavourites(signal), enabled: kind === 'favourites' });
  const recent = useQuery({ queryKey: recentKey, queryFn: ({ signal }) => listRecent(signal), enabled: kind === 'recent' });
  const search = useInfiniteQuery({
    queryKey: searchKey(drive, q ?? ''),
    queryFn: ({ pageParam, signal }) => searchDrive(drive, q ?? '', pageParam, signal),
    initialPageParam: 0,
    getNextPageParam: (last) => last.nextOffset ?? undefined,
    enabled: kind === 'search' && !!q,
  });

  if (kind === 'search') {
    const items = search.data?.pages.flatMap((p) => p.items) ?? [];
    const total = search.data?.pages[0]?.total ?? 0;
    const asQuery = { ...search, data: search.data ? { items } : undefined } as unknown as UseQueryResult<{ items: LocatedItem[] }>;
    return (
      <>
        <p className="small muted" aria-live="polite">
          {search.data ? t('drive.search.count', { count: total, q: q ?? '' }) : ''}
        </p>
        <LocatedList
          query={asQuery}
          label={t('drive.search.results', { q: q ?? '' })}
          empty={<EmptyState icon={<Search size={28} />} title={t('drive.search.emptyTitle')}>{t('drive.search.emptyText')}</EmptyState>}
          hrefFor={hrefFor}
        />
        {search.hasNextPage && (
          <Button onClick={() => void search.fetchNextPage()} loading={search.isFetchingNextPage}>
            {t('drive.search.more')}
          </Button>
        )}
      </>
    );
  }
  if (kind === 'favourites')
    return (
      <LocatedList
        query={favs}
        label={t('drive.fav.title')}
        starred
        empty={<EmptyState icon={<Star size={28} />} title={t('drive.fav.emptyTitle')}>{t('drive.fav.emptyText')}</EmptyState>}
        hrefFor={hrefFor}
      />
    );
  return (
    <LocatedList
      query={recent}
      label={t('drive.recent.title')}
      empty={<EmptyState icon={<Clock size={28} />} title={t('drive.recent.emptyTitle')}>{t('drive.recent.emptyText')}</EmptyState>}
      hrefFor={hrefFor}
    />
  );
}

function LocatedList({ query, label, empty, starred, hrefFor }: { query: UseQueryResult<{ items: LocatedItem[] }>; label: string; empty: ReactNode; starred?: boolean; hrefFor: (drive: string, path: string) => string }) {
  const { t, fmt } = useI18n();
  const qc = useQueryClient();
  const toast = useToast();
  const [preview, setPreview] = useState<number | null>(null);
  const items = query.data?.items ?? [];
  const files = items.filter((i) => i.kind === 'file');
  const current = preview === null ? null : files[preview];

  async function unstar(item: LocatedItem) {
    try {
      await removeFavourite(item.id);
      toast(t('drive.fav.removed', { name: item.name }), 'success');
    } catch (e) {
      toast(errorText(t, e), 'error');
    } finally {
      void qc.invalidateQueries({ queryKey: favouritesKey });
    }
  }

  return (
    <>
      <QueryView query={query} errorTitle={t('drive.loadError')} lines={5} isEmpty={(d) => d.items.length === 0} empty={empty}>
        {(d) => (
          <ul className="list drive-located" aria-label={label}>
            {d.items.map((item) => (
              <li key={`${item.drive}:${item.id}`} data-testid="drive-located">
                <Thumb drive={item.drive} path={item.path} item={item} size={32} />
                <div className="list-main">
                  {item.kind === 'folder' ? (
                    <Link className="list-title" href={hrefFor(item.drive, item.path)}>
                      {item.name}
                    </Link>
                  ) : (
                    <button type="button" className="list-title linklike" onClick={() => setPreview(files.indexOf(item))} aria-label={t('drive.openNamed', { name: item.name })}>
                      {item.name}
                    </button>
                  )}
                  <span className="meta">
                    <Link href={hrefFor(item.drive, item.folder)}>{t('drive.inFolder', { folder: item.folder === '/' ? t('drive.root') : item.folder })}</Link>
                    {item.kind === 'file' && <span>{fmt.size(item.size)}</span>}
                    <span>{t('drive.modified', { date: fmt.dateTime(item.updatedAt) })}</span>
                  </span>
                </div>
                {starred && <IconButton label={t('drive.fav.removeNamed', { name: item.name })} icon={<StarOff size={18} aria-hidden="true" />} onClick={() => void unstar(item)} />}
              </li>
            ))}
          </ul>
        )}
      </QueryView>
      <PreviewDialog
        drive={current?.drive ?? 'me'}
        items={files.map((f) => ({ item: f, path: f.path, drive: f.drive }))}
        index={preview}
        onIndex={setPreview}
        onClose={() => setPreview(null)}
      />
    </>
  );
}
