/**
 * Resumable uploads to the drive with the tus protocol (/api/drive/uploads, see docs/api.md): the file
 * goes in chunks; a dropped connection is retried from the last byte the server holds, and a reload
 * resumes too (the upload's URL is remembered in localStorage under a fingerprint of drive, path and
 * file). Small files go in a single request (the data rides with the creation request).
 * Progress 0..1, a promise of the item, and abort.
 */
import { Upload, type DetailedError, type HttpResponse } from 'tus-js-client';
import { ApiError, NETWORK_ERROR, api, getCsrfToken } from '../../app/api';
import type { DriveItem } from './api';

export const UPLOADS_ENDPOINT = '/api/drive/uploads';
/** Bytes per PATCH: what a dropped connection can cost at most; files up to this size take one request. */
export const CHUNK_SIZE = 8 * 1024 * 1024;
/** Waits between retries after a network failure or a server restart (then the upload fails). */
const RETRY_DELAYS = [0, 1000, 3000, 5000, 10_000, 20_000, 30_000];

/** "/a/b/c.txt" → folder "/a/b", name "c.txt". */
function split(path: string): { folder: string; filename: string } {
  const parts = path.split('/').filter(Boolean);
  const filename = parts.pop() ?? '';
  return { folder: parts.length ? `/${parts.join('/')}` : '/', filename };
}

function parseItem(body: string | undefined): DriveItem | null {
  if (!body) return null;
  try {
    const data = JSON.parse(body) as { item?: DriveItem };
    return data && typeof data === 'object' && data.item ? data.item : null;
  } catch {
    return null;
  }
}

/** A tus failure as the app's ApiError (the server answers errors as `{error: {code, message}}`). */
function toApiError(err: Error | DetailedError): ApiError {
  const res: HttpResponse | null | undefined = 'originalResponse' in err ? err.originalResponse : undefined;
  if (!res || res.getStatus() === 0) return new ApiError(0, NETWORK_ERROR, 'The server could not be reached.');
  const status = res.getStatus();
  let body: { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined;
  try {
    body = JSON.parse(res.getBody()) as typeof body;
  } catch {
    body = undefined;
  }
  const e = body?.error;
  return new ApiError(status, e?.code ?? (status >= 500 ? 'internal' : 'unknown'), e?.message ?? `HTTP ${status}`, e?.details ?? {});
}

/**
 * Retry what may pass later: no answer (network), a server restarting, a chunk whose offset must be
 * re-checked (409 on PATCH: the client asks HEAD again). A refusal (quota 507, bad name, no folder) is final.
 */
function shouldRetry(err: DetailedError): boolean {
  const status = err.originalResponse?.getStatus() ?? 0;
  if (status === 0) return true;
  if (status === 409) return err.originalRequest.getMethod() === 'PATCH';
  return status >= 500 && status !== 507;
}

/**
 * Uploads `file` to `path` (the file's full path) in `drive` ("me", "space:<id>", "share:<id>"),
 * resuming an earlier attempt of the same file to the same place when there is one.
 */
export function uploadFile(drive: string, path: string, file: File, onProgress: (fraction: number) => void): { promise: Promise<DriveItem>; abort: () => void } {
  const { folder, filename } = split(path);
  let upload: Upload | null = null;
  let aborted = false;
  let rejectOnAbort: ((e: unknown) => void) | null = null;
  const promise = new Promise<DriveItem>((resolve, reject) => {
    rejectOnAbort = reject;
    const u = new Upload(file, {
      endpoint: UPLOADS_ENDPOINT,
      chunkSize: CHUNK_SIZE,
      uploadDataDuringCreation: true,
      retryDelays: RETRY_DELAYS,
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      fingerprint: (f: File) => Promise.resolve(['bastide-tus', drive, folder, filename, f.size, f.lastModified, f.type].join('|')),
      metadata: { drive, folder, filename, filetype: file.type || 'application/octet-stream' },
      // The CSRF token is read at each request: a session renewed during a long upload keeps working.
      onBeforeRequest: (req) => {
        const csrf = getCsrfToken();
        if (csrf) req.setHeader('X-CSRF-Token', csrf);
        req.setHeader('Accept', 'application/json');
      },
      onProgress: (sent, total) => {
        if (total > 0) onProgress(Math.min(1, sent / total));
      },
      onShouldRetry: (err) => shouldRetry(err),
      onSuccess: ({ lastResponse }) => {
        onProgress(1);
        const item = parseItem(lastResponse.getBody());
        if (item) return resolve(item);
        // Finished by an earlier attempt (the resume found every byte there): ask the server for the item.
        const url = u.url ? new URL(u.url, window.location.origin).pathname : null;
        if (!url) return reject(new ApiError(0, 'unknown', 'The upload finished without an answer.'));
        api.get<{ item: DriveItem | null }>(url).then(
          (s) => (s.item ? resolve(s.item) : reject(new ApiError(0, 'unknown', 'The upload finished without an answer.'))),
          reject,
        );
      },
      onError: (err) => {
        if (!aborted) reject(toApiError(err));
      },
    });
    upload = u;
    u.findPreviousUploads().then(
      (previous) => {
        if (aborted) return;
        const last = previous.sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime))[0];
        if (last) u.resumeFromPreviousUpload(last);
        u.start();
      },
      () => {
        if (!aborted) u.start();
      },
    );
  });
  return {
    promise,
    abort: () => {
      if (aborted) return;
      aborted = true;
      // Cancelled by the user: the partial upload is deleted on the server too (tus termination).
      void upload?.abort(true).catch(() => undefined);
      rejectOnAbort?.(new DOMException('aborted', 'AbortError'));
    },
  };
}
