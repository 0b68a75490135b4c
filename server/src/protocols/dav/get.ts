import { AppError } from '../../errors.js';
import { listChildren } from '../../modules/drive/commands.js';
import { etagOf, hrefOf, readAllowed, resolve, type DavRequest } from './context.js';
import { bareEtag } from './if-header.js';

function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** GET and HEAD: files are user content, always downloaded (attachment, nosniff), never rendered here. */
export async function get(d: DavRequest, head: boolean): Promise<void> {
  await readAllowed(d);
  const node = await resolve(d);
  if (node === null) throw new AppError('not_found');
  if (node === 'root' || node.kind === 'folder') {
    // A plain-text listing (clients browse with PROPFIND; this is for people).
    const kids = await listChildren(d.platform.db, d.owner, node === 'root' ? null : node.id);
    const text = kids.map((k) => `${hrefOf(d, [...d.segments, k.name], k.kind === 'folder')}\n`).join('');
    await d.reply.status(200).type('text/plain; charset=utf-8').header('x-content-type-options', 'nosniff').send(head ? undefined : text);
    return;
  }
  const etag = etagOf(node);
  const lastModified = new Date(Math.floor(Number(node.updated_at) / 1000) * 1000);
  const h = d.req.headers;
  const base = {
    etag,
    'last-modified': lastModified.toUTCString(),
    'accept-ranges': 'bytes',
    'cache-control': 'private, no-cache',
    'x-content-type-options': 'nosniff',
    'content-disposition': contentDisposition(node.name),
    'content-security-policy': "default-src 'none'; sandbox",
  };
  if (typeof h['if-match'] === 'string' && h['if-match'].trim() !== '*' && !h['if-match'].split(',').some((t) => bareEtag(t) === node.etag)) throw new AppError('precondition_failed');
  const inm = h['if-none-match'];
  const notModified =
    typeof inm === 'string'
      ? inm.trim() === '*' || inm.split(',').some((t) => bareEtag(t) === node.etag)
      : typeof h['if-modified-since'] === 'string' && !Number.isNaN(Date.parse(h['if-modified-since'])) && lastModified.getTime() <= Date.parse(h['if-modified-since']);
  if (notModified) {
    await d.reply.status(304).headers(base).send();
    return;
  }
  const size = Number(node.size);
  let range: { start: number; end: number } | undefined;
  const rh = h.range;
  const ifRange = h['if-range'];
  const rangeApplies = typeof ifRange !== 'string' || bareEtag(ifRange) === node.etag;
  if (typeof rh === 'string' && rangeApplies) {
    const m = /^bytes=(\d*)-(\d*)$/.exec(rh.trim());
    if (m && (m[1] !== '' || m[2] !== '')) {
      let start: number;
      let end: number;
      if (m[1] === '') {
        start = Math.max(0, size - Number(m[2]));
        end = size - 1;
      } else {
        start = Number(m[1]);
        end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
      }
      if (start >= size || start > end) {
        await d.reply.status(416).headers({ ...base, 'content-range': `bytes */${size}` }).send();
        return;
      }
      range = { start, end };
    }
  }
  const headers: Record<string, string> = { ...base, 'content-type': node.content_type || 'application/octet-stream' };
  if (range) {
    headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
    headers['content-length'] = String(range.end - range.start + 1);
  } else headers['content-length'] = String(size);
  if (head || size === 0 || !node.blob_sha256) {
    await d.reply.status(range ? 206 : 200).headers(headers).send(head ? undefined : '');
    return;
  }
  const stream = await d.platform.blobs.get(node.blob_sha256, range);
  await d.reply.status(range ? 206 : 200).headers(headers).send(stream);
}
