/**
 * Sharing, public links, "shared with me" and versions: typed calls to /api/drive/shares, /links,
 * /shared-with-me, /share-targets, /versions (signed in) and /api/public/links/<token> (visitors).
 * Every signed-in call names its drive ('me' by default, 'space:<id>', 'share:<id>').
 */
import { ApiError, NETWORK_ERROR, api, getCsrfToken, withQuery } from '../../app/api';
import type { DriveItem } from './api';

const driveParam = (drive: string) => (drive === 'me' ? undefined : drive);

export type Permission = 'read' | 'write';
export type GranteeType = 'user' | 'group' | 'space';
export type LinkMode = 'read' | 'drop';

export interface Share {
  id: string;
  granteeType: GranteeType;
  granteeId: string;
  granteeName: string;
  permission: Permission;
  createdAt: number;
}

export interface PublicLink {
  id: string;
  /** The address to give out: <baseUrl>/s/<token>. */
  url: string;
  mode: LinkMode;
  hasPassword: boolean;
  expiresAt: number | null;
  maxDownloads: number | null;
  downloads: number;
  label: string;
  createdAt: number;
}

export interface SharesOf {
  item: DriveItem;
  shares: Share[];
  links: PublicLink[];
}

export interface ShareTarget {
  type: GranteeType;
  id: string;
  name: string;
  detail: string;
}

export interface SharedItem {
  shareId: string;
  /** The drive ref to browse it: 'share:<shareId>' (paths start at the shared item). */
  drive: string;
  item: DriveItem;
  permission: Permission;
  ownerName: string;
  via: string;
  sharedAt: number;
}

export interface Version {
  id: string;
  size: number;
  contentType: string;
  createdAt: number;
  replacedAt: number;
  author: { id: string; displayName: string } | null;
}

/** What a link's settings may change; null clears (no password, no expiry, no limit). */
export interface LinkOptions {
  password?: string | null;
  expiresAt?: number | null;
  maxDownloads?: number | null;
  label?: string;
}

// ---- query keys ----
export const sharesKey = (drive: string, path: string) => ['drive', 'shares', drive, path] as const;
export const sharedWithMeKey = ['drive', 'shared-with-me'] as const;
export const shareTargetsKey = (q: string) => ['drive', 'share-targets', q] as const;
export const versionsKey = (drive: string, path: string) => ['drive', 'versions', drive, path] as const;
export const spacesKey = ['spaces', 'list'] as const;
export const publicLinkKey = (token: string) => ['public-link', token] as const;
export const publicItemsKey = (token: string, path: string) => ['public-link', token, 'items', path] as const;

// ---- shares with people, groups and spaces ----
export const getShares = (drive: string, path: string, signal?: AbortSignal) => api.get<SharesOf>(withQuery('/api/drive/shares', { drive: driveParam(drive), path }), { signal });
export const createShare = (drive: string, path: string, target: { type: GranteeType; id: string }, permission: Permission) =>
  api.post<{ id: string }>(withQuery('/api/drive/shares', { drive: driveParam(drive) }), { path, granteeType: target.type, granteeId: target.id, permission });
export const updateShare = (drive: string, id: string, permission: Permission) =>
  api.patch<{ id: string; permission: Permission }>(withQuery(`/api/drive/shares/${encodeURIComponent(id)}`, { drive: driveParam(drive) }), { permission });
export const deleteShare = (drive: string, id: string) => api.del(withQuery(`/api/drive/shares/${encodeURIComponent(id)}`, { drive: driveParam(drive) }));
export const findShareTargets = (q: string, signal?: AbortSignal) => api.get<{ items: ShareTarget[] }>(withQuery('/api/drive/share-targets', { q }), { signal });
export const listSharedWithMe = (signal?: AbortSignal) => api.get<{ items: SharedItem[] }>('/api/drive/shared-with-me', { signal });

// ---- public links (owner side) ----
export const createLink = (drive: string, path: string, mode: LinkMode, opts: LinkOptions) =>
  api.post<{ link: PublicLink }>(withQuery('/api/drive/links', { drive: driveParam(drive) }), { path, mode, ...opts });
export const updateLink = (drive: string, id: string, opts: LinkOptions) => api.patch<{ link: PublicLink }>(withQuery(`/api/drive/links/${encodeURIComponent(id)}`, { drive: driveParam(drive) }), opts);
export const deleteLink = (drive: string, id: string) => api.del(withQuery(`/api/drive/links/${encodeURIComponent(id)}`, { drive: driveParam(drive) }));

// ---- versions ----
export const listVersions = (drive: string, path: string, signal?: AbortSignal) => api.get<{ item: DriveItem; versions: Version[] }>(withQuery('/api/drive/versions', { drive: driveParam(drive), path }), { signal });
export const versionContentUrl = (drive: string, path: string, id: string) => withQuery(`/api/drive/versions/${encodeURIComponent(id)}/content`, { drive: driveParam(drive), path });
export const restoreVersion = (drive: string, path: string, id: string) => api.post<{ item: DriveItem }>(withQuery(`/api/drive/versions/${encodeURIComponent(id)}/restore`, { drive: driveParam(drive), path }));

// ---- spaces (their drives: 'space:<id>') ----
export interface SpaceSummary {
  id: string;
  name: string;
  description: string;
  archived: boolean;
  myRole: string | null;
}
export const listSpaces = (signal?: AbortSignal) => api.get<{ items: SpaceSummary[] }>('/api/spaces', { signal });

// ---- public links (visitor side, no account) ----
export interface PublicLinkInfo {
  name: string;
  kind: 'file' | 'folder';
  mode: LinkMode;
  size: number;
  expiresAt: number | null;
  downloadsLeft: number | null;
  ownerName: string;
}

const publicBase = (token: string) => `/api/public/links/${encodeURIComponent(token)}`;
export const getPublicLink = (token: string, signal?: AbortSignal) => api.get<PublicLinkInfo>(publicBase(token), { signal });
export const unlockPublicLink = (token: string, password: string) => api.post<void>(`${publicBase(token)}/unlock`, { password });
export const listPublicItems = (token: string, path: string, signal?: AbortSignal) => api.get<{ path: string; items: DriveItem[] }>(withQuery(`${publicBase(token)}/items`, { path }), { signal });
/** A file of a read link ('/' is the linked file itself). */
export const publicContentUrl = (token: string, path: string) => withQuery(`${publicBase(token)}/content`, { path });
/** A folder of a read link as one zip (counts as one download). */
export const publicZipUrl = (token: string, path: string) => withQuery(`${publicBase(token)}/zip`, { path });

/** The token of a link's address ("https://…/s/<token>" → "<token>"). */
export function tokenOfUrl(url: string): string {
  return url.slice(url.lastIndexOf('/s/') + 3);
}

/** Sends one file to a drop link, reporting progress (0..1); resolves with the name the server kept. */
export function dropFile(token: string, file: File, onProgress: (fraction: number) => void): { promise: Promise<{ name: string; size: number }>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<{ name: string; size: number }>((resolve, reject) => {
    xhr.open('PUT', withQuery(`${publicBase(token)}/files`, { name: file.name }));
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
      if (xhr.status >= 200 && xhr.status < 300 && data && typeof data === 'object' && 'name' in data) {
        onProgress(1);
        const d = data as { name: string; size: number };
        resolve({ name: d.name, size: Number(d.size) });
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
