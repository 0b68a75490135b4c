/** The drive's JSON API (/api/drive/*) and uploads with progress (XMLHttpRequest). */
import { ApiError, api, getCsrfToken, withQuery, NETWORK_ERROR } from '../../app/api';

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

/** PUTs one file's bytes to `path`, reporting progress (0..1); rejects with an ApiError. */
export function uploadFile(path: string, file: File, onProgress: (fraction: number) => void): { promise: Promise<DriveItem>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<DriveItem>((resolve, reject) => {
    xhr.open('PUT', contentUrl(path));
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    const csrf = getCsrfToken();
    if (csrf) xhr.setRequestHeader('X-CSRF-Token', csrf);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let data: unknown;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300 && data && typeof data === 'object' && 'item' in data) {
        onProgress(1);
        resolve((data as { item: DriveItem }).item);
        return;
      }
      const err = (data as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
      reject(new ApiError(xhr.status, err?.code ?? (xhr.status >= 500 ? 'internal' : 'unknown'), err?.message ?? xhr.statusText, err?.details ?? {}));
    };
    xhr.onerror = () => reject(new ApiError(0, NETWORK_ERROR, 'The server could not be reached.'));
    xhr.onabort = () => reject(new DOMException('aborted', 'AbortError'));
    xhr.send(file);
  });
  return { promise, abort: () => xhr.abort() };
}

/** An item deleted directly (what it contains goes and comes back with it). */
export interface TrashItem {
  id: string;
  name: string;
  kind: 'file' | 'folder';
  size: number;
  deletedAt: number;
  originalPath: string;
}

export const trashKey = ['drive', 'trash'] as const;
export const listTrash = (signal?: AbortSignal) => api.get<{ items: TrashItem[] }>('/api/drive/trash', { signal });
export const restoreItem = (id: string) => api.post<{ item: DriveItem; path: string }>(`/api/drive/trash/${encodeURIComponent(id)}/restore`);
export const purgeItem = (id: string) => api.del(`/api/drive/trash/${encodeURIComponent(id)}`);
export const emptyTrash = () => api.del('/api/drive/trash');
