import type { Readable } from 'node:stream';

export interface BlobInfo {
  /** lowercase hex SHA-256 of the content: the blob's name. */
  sha256: string;
  size: number;
}

/**
 * Immutable, content-addressed blob storage. `put` is atomic: a blob is visible complete or not at all
 * (filesystem: temp file, fsync, rename; S3: single PUT or completed multipart upload).
 * Reference counting and garbage collection live in SQL (see platform/blobs/refs.ts).
 */
export interface BlobStore {
  readonly kind: 'fs' | 's3';
  put(data: Buffer | Readable): Promise<BlobInfo>;
  /** Throws AppError('not_found') when absent. `range` is inclusive, as in HTTP. */
  get(sha256: string, range?: { start: number; end: number }): Promise<Readable>;
  stat(sha256: string): Promise<BlobInfo | null>;
  delete(sha256: string): Promise<void>;
  /** Storage reachable (for /readyz and doctor). */
  check(): Promise<void>;
  close(): Promise<void>;
}
