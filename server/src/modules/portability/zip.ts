import yazl from 'yazl';
import yauzl from 'yauzl';
import type { Readable } from 'node:stream';
import { AppError } from '../../errors.js';
import type { ExportFile } from '../../platform/module.js';

export const ZIP_LIMITS = { maxEntries: 10_000, maxEntryBytes: 64 * 1024 * 1024, maxTotalBytes: 256 * 1024 * 1024 };

/** Writes files to a zip stream (deflated). */
export function zipFiles(files: ExportFile[]): Readable {
  const zip = new yazl.ZipFile();
  for (const f of files) zip.addBuffer(Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content, 'utf8'), f.path, { mtime: new Date(0) });
  zip.end();
  return zip.outputStream as unknown as Readable;
}

/**
 * Reads a zip held in memory, bounded in entry count and sizes (a zip bomb is refused, not inflated).
 * yauzl refuses absolute paths and `..` in entry names.
 */
export function unzipFiles(buf: Buffer, limits = ZIP_LIMITS): Promise<ExportFile[]> {
  return new Promise((resolve, reject) => {
    const bad = (why: string) => reject(new AppError('bad_request', { reason: why }));
    yauzl.fromBuffer(buf, { lazyEntries: true, validateEntrySizes: true, strictFileNames: true }, (err, zip) => {
      if (err || !zip) return bad('not a zip archive');
      const files: ExportFile[] = [];
      let total = 0;
      let count = 0;
      zip.on('error', () => bad('damaged zip archive'));
      zip.on('end', () => resolve(files));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (++count > limits.maxEntries) return bad('too many entries');
        if (entry.fileName.endsWith('/')) return zip.readEntry();
        if (entry.uncompressedSize > limits.maxEntryBytes || total + entry.uncompressedSize > limits.maxTotalBytes) return bad('archive too large');
        total += entry.uncompressedSize;
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return bad('damaged zip entry');
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', () => bad('damaged zip entry'));
          stream.on('end', () => {
            files.push({ path: entry.fileName, content: Buffer.concat(chunks) });
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}
