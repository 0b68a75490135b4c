/** The drive's JSON API (/api/drive/*); uploads (resumable, tus) are in ./uploads. */
import { ApiError, api, withQuery } from '../../app/api';

export interface DriveItem {
  id: string;
  name: string;
  kind: 'file' | 'folder';
  size: number;
  contentType: string;
  updatedAt: number;
  etag: string;
}

export interface Listing {
  path: string;
  items: DriveItem[];
}

export const driveKey = (path: string) => ['drive', 'items', path] as const;

/** "/a/b" + "c" → "/a/b/c". */
export function join(path: string, name: string): string {
  return path === '/' ? `/${name}` : `${path}/${name}`;
}

/** "/a/b" → ['a', 'b']. */
export function segmentsOf(path: string): string[] {
  return path.split('/').filter(Boolean);
}

export function pathOf(segments: string[]): string {
  return segments.length ? `/${segments.join('/')}` : '/';
}

export const listItems = (path: string, signal?: AbortSignal) => api.get<Listing>(withQuery('/api/drive/items', { path }), { signal });
export const createFolder = (path: string, name: string) => api.post<{ item: DriveItem }>('/api/drive/folders', { path, name });
export const moveItem = (from: string, to: string) => api.post<{ item: DriveItem }>('/api/drive/move', { from, to });
export const deleteItem = (path: string) => api.del(withQuery('/api/drive/items', { path }));
export const contentUrl = (path: string) => withQuery('/api/drive/content', { path });

/** An item deleted directly (what it contains goes and comes back with it). */
export interface TrashItem {
  id: string;
  name: string;
  kind: 'file' | 'folder';
  size: number;
  deletedAt: number;
  originalPath: string;
}

/** The trash of a drive (`me`, or `space:<id>` for its members and above). */
export const trashKey = (drive = 'me') => ['drive', 'trash', drive] as const;
const trashQuery = (drive: string) => (drive === 'me' ? '' : `?drive=${encodeURIComponent(drive)}`);
export const listTrash = (signal?: AbortSignal, drive = 'me') => api.get<{ items: TrashItem[] }>(`/api/drive/trash${trashQuery(drive)}`, { signal });
export const restoreItem = (id: string, drive = 'me') => api.post<{ item: DriveItem; path: string }>(`/api/drive/trash/${encodeURIComponent(id)}/restore${trashQuery(drive)}`);
export const purgeItem = (id: string, drive = 'me') => api.del(`/api/drive/trash/${encodeURIComponent(id)}${trashQuery(drive)}`);
export const emptyTrash = (drive = 'me') => api.del(`/api/drive/trash${trashQuery(drive)}`);

// ---- drive-aware calls (views, previews, thumbnails, favourites, recent, search, copy, quota) ----
// Every call names its drive: 'me' (default), 'space:<id>' or 'share:<id>'; paths are relative to it.

/** A file or folder with where it lives (favourites, recent, search results). */
export interface LocatedItem extends DriveItem {
  drive: string;
  path: string;
  folder: string;
}

const driveParam = (drive: string) => (drive === 'me' ? undefined : drive);
export const driveItemsKey = (drive: string, path: string) => (drive === 'me' ? driveKey(path) : (['drive', 'items', drive, path] as const));
export const listItemsIn = (drive: string, path: string, signal?: AbortSignal) => api.get<Listing>(withQuery('/api/drive/items', { drive: driveParam(drive), path }), { signal });
export const createFolderIn = (drive: string, path: string, name: string) => api.post<{ item: DriveItem }>(withQuery('/api/drive/folders', { drive: driveParam(drive) }), { path, name });
export const moveItemIn = (drive: string, from: string, to: string) => api.post<{ item: DriveItem }>(withQuery('/api/drive/move', { drive: driveParam(drive) }), { from, to });
export const copyItemIn = (drive: string, from: string, to: string) => api.post<{ item: LocatedItem }>(withQuery('/api/drive/copy', { drive: driveParam(drive) }), { from, to });
export const deleteItemIn = (drive: string, path: string) => api.del(withQuery('/api/drive/items', { drive: driveParam(drive), path }));
export const contentUrlIn = (drive: string, path: string) => withQuery('/api/drive/content', { drive: driveParam(drive), path });
export const previewUrl = (drive: string, path: string) => withQuery('/api/drive/preview', { drive: driveParam(drive), path });
export const thumbnailUrl = (drive: string, path: string, etag: string) => withQuery('/api/drive/thumbnail', { drive: driveParam(drive), path, v: etag });
/** The download of a folder or of several items as one zip (streamed by the server). */
export const zipUrl = (drive: string, paths: string[]) => {
  const q = new URLSearchParams();
  if (drive !== 'me') q.set('drive', drive);
  for (const p of paths) q.append('path', p);
  return `/api/drive/zip?${q.toString()}`;
};

export const favouritesKey = ['drive', 'favourites'] as const;
export const listFavourites = (signal?: AbortSignal) => api.get<{ items: LocatedItem[] }>('/api/drive/favourites', { signal });
export const addFavourite = (drive: string, path: string) => api.post<{ item: LocatedItem }>(withQuery('/api/drive/favourites', { drive: driveParam(drive) }), { path });
export const removeFavourite = (id: string) => api.del(`/api/drive/favourites/${encodeURIComponent(id)}`);

export const recentKey = ['drive', 'recent'] as const;
export const listRecent = (signal?: AbortSignal) => api.get<{ items: LocatedItem[] }>('/api/drive/recent', { signal });
export const markOpened = (drive: string, path: string) => api.post<void>(withQuery('/api/drive/recent', { drive: driveParam(drive) }), { path });

export interface SearchPage {
  items: LocatedItem[];
  total: number;
  nextOffset: number | null;
}
export const searchKey = (drive: string, q: string) => ['drive', 'search', drive, q] as const;
export const searchDrive = (drive: string, q: string, offset: number, signal?: AbortSignal) =>
  api.get<SearchPage>(withQuery('/api/drive/search', { drive: driveParam(drive), q, offset, limit: 50 }), { signal });

export interface Quota {
  used: number;
  available: number;
  total: number;
}
export const quotaKey = (drive: string) => ['drive', 'quota', drive] as const;
export const getQuota = (drive: string, signal?: AbortSignal) => api.get<Quota>(withQuery('/api/drive/quota', { drive: driveParam(drive) }), { signal });

/** The first bytes of a file as text (previews of text and Markdown); `truncated` when there is more. */
export async function fetchText(drive: string, path: string, maxBytes: number, signal?: AbortSignal): Promise<{ text: string; truncated: boolean }> {
  const res = await fetch(contentUrlIn(drive, path), { headers: { Range: `bytes=0-${maxBytes - 1}` }, credentials: 'same-origin', signal });
  if (!res.ok && res.status !== 206) throw new ApiError(res.status, res.status === 404 ? 'not_found' : 'unknown', res.statusText);
  const buf = await res.arrayBuffer();
  const total = Number(/\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1] ?? buf.byteLength);
  return { text: new TextDecoder('utf-8').decode(buf), truncated: total > buf.byteLength };
}

