import { PassThrough, type Readable } from 'node:stream';
import yauzl from 'yauzl';
import { AppError } from '../../errors.js';
import type { BastideModule, ExportFile, Platform } from '../../platform/module.js';
import { assertFits, createFolder, putFile, resolvePath, type DriveContext, type Owner } from './commands.js';
import { cleanNodeName, nameKey } from './names.js';
import { MAX_ARCHIVE_NODES, walkTree, type ArchiveEntry } from './transfer.js';

/**
 * Reversibility of a drive. An export is a zip whose `drive/` folder holds the files with the folder tree
 * as it is (empty folders included), plus `drive/manifest.json`: every node with its id, path, size,
 * SHA-256, content type and dates, and the drive's shares and versions. The same layout serves the
 * platform's per-user export (module contract `portability`, under the user's archive) and
 * `GET /api/drive/export` (streamed, for my drive or a space's). Import recreates the tree: a folder
 * that exists already is merged into, a file whose name is taken gets a suffix ("a (2).txt"); nothing is
 * ever overwritten. The archive is checked whole before anything is written.
 */
export const DRIVE_EXPORT_FORMAT = 'bastide.drive/1';
export const MANIFEST_PATH = 'drive/manifest.json';
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

export interface ManifestNode {
  id: string;
  /** The node's path in the drive, "/a/b.txt". */
  path: string;
  /** Where its content is in the archive (files; folders too, as directory entries). */
  archivePath: string;
  kind: 'file' | 'folder';
  size: number;
  sha256: string | null;
  contentType: string;
  createdAt: string;
  updatedAt: string;
}

export interface DriveManifest {
  format: typeof DRIVE_EXPORT_FORMAT;
  exportedAt: string;
  owner: { type: 'user' | 'space'; id: string };
  nodes: ManifestNode[];
  shares: unknown[];
  versions: unknown[];
}

/** What an export is made of: the archive entries (read lazily from the blob store) and the manifest. */
export async function buildDriveExport(platform: Platform, owner: Owner): Promise<{ entries: ArchiveEntry[]; manifest: DriveManifest; manifestFile: { path: string; content: Buffer } }> {
  const whole: Owner = { type: owner.type, id: owner.id };
  // "manifest.json" at the top of `drive/` is the manifest's: a file of that name there is renamed in the archive.
  const entries = await walkTree(platform.db, whole, 'root', [], 'drive', new Set(['manifest.json']));
  const iso = (ms: number | string) => new Date(Number(ms)).toISOString();
  const manifest: DriveManifest = {
    format: DRIVE_EXPORT_FORMAT,
    exportedAt: new Date(platform.clock.now()).toISOString(),
    owner: { type: owner.type, id: owner.id },
    nodes: entries.map(({ node, path, archivePath }) => ({
      id: node.id,
      path: `/${path.join('/')}`,
      archivePath: node.kind === 'folder' ? `${archivePath}/` : archivePath,
      kind: node.kind === 'folder' ? 'folder' : 'file',
      size: Number(node.size),
      sha256: node.kind === 'folder' ? null : node.blob_sha256,
      contentType: node.kind === 'folder' ? '' : node.content_type,
      createdAt: iso(node.created_at),
      updatedAt: iso(node.updated_at),
    })),
    shares: [],
    versions: [],
  };
  // Shares and public links of this drive (links without their token or password: a new owner makes new
  // ones), and the kept versions of its files, whose content goes under drive-versions/<node>/<version>.
  const pathOf = new Map(entries.map((e) => [e.node.id, `/${e.path.join('/')}`]));
  const shares = await platform.db.selectFrom('drive_shares').selectAll().where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).orderBy('created_at').execute();
  const links = await platform.db.selectFrom('drive_links').selectAll().where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).orderBy('created_at').execute();
  manifest.shares = [
    ...shares.filter((r) => pathOf.has(r.node_id)).map((r) => ({ kind: 'share', id: r.id, nodeId: r.node_id, path: pathOf.get(r.node_id), granteeType: r.grantee_type, granteeId: r.grantee_id, permission: r.permission, createdAt: iso(r.created_at) })),
    ...links.filter((r) => pathOf.has(r.node_id)).map((r) => ({
      kind: 'link', id: r.id, nodeId: r.node_id, path: pathOf.get(r.node_id), mode: r.mode, hasPassword: r.password_hash !== null,
      expiresAt: r.expires_at === null ? null : iso(r.expires_at), maxDownloads: r.max_downloads, downloads: Number(r.downloads), label: r.label, createdAt: iso(r.created_at),
    })),
  ];
  const versions = await platform.db.selectFrom('drive_versions').selectAll().where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).orderBy('replaced_at').execute();
  const byId = new Map(entries.map((e) => [e.node.id, e]));
  for (const v of versions) {
    const file = byId.get(v.node_id);
    if (!file) continue;
    const archivePath = `drive-versions/${v.node_id}/${v.id}`;
    manifest.versions.push({ id: v.id, nodeId: v.node_id, path: pathOf.get(v.node_id), archivePath, size: Number(v.size), sha256: v.blob_sha256, contentType: v.content_type, createdAt: iso(v.created_at), replacedAt: iso(v.replaced_at) });
    entries.push({ node: { ...file.node, id: v.id, blob_sha256: v.blob_sha256, size: Number(v.size), content_type: v.content_type, kind: 'file' }, path: [...file.path], archivePath });
  }
  return { entries, manifest, manifestFile: { path: MANIFEST_PATH, content: Buffer.from(JSON.stringify(manifest, null, 2), 'utf8') } };
}

/** Files of an archive being imported, opened one at a time. Directory paths are kept without their '/'. */
export interface ImportSource {
  files: Map<string, { size: number; open(): Promise<Readable | Buffer> }>;
  dirs: Set<string>;
  close(): void;
}

/** An archive already in memory (the platform's per-user import hands the module its files). */
export function bufferSource(files: ExportFile[]): ImportSource {
  const map: ImportSource['files'] = new Map();
  const dirs = new Set<string>();
  for (const f of files) {
    if (f.path.endsWith('/')) dirs.add(f.path.slice(0, -1));
    else {
      const content = Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content, 'utf8');
      map.set(f.path, { size: content.length, open: () => Promise.resolve(content) });
    }
  }
  return { files: map, dirs, close: () => undefined };
}

/**
 * A zip file on disk, its central directory read up front (bounded in entries); each entry's content is
 * inflated only when opened. yauzl refuses absolute paths and '..'; sizes are checked while reading.
 */
export function openZipSource(file: string): Promise<ImportSource> {
  return new Promise((resolve, reject) => {
    const bad = (why: string) => new AppError('bad_request', { reason: why });
    yauzl.open(file, { lazyEntries: true, autoClose: false, strictFileNames: true, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return reject(bad('not a zip archive'));
      const files: ImportSource['files'] = new Map();
      const dirs = new Set<string>();
      let count = 0;
      let failed = false;
      const fail = (why: string) => {
        if (failed) return;
        failed = true;
        zip.close();
        reject(bad(why));
      };
      zip.on('error', () => fail('damaged zip archive'));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (++count > MAX_ARCHIVE_NODES + 1) return fail('too many entries');
        const name = entry.fileName;
        if (name.endsWith('/')) dirs.add(name.slice(0, -1));
        else if (!files.has(name)) {
          files.set(name, {
            size: entry.uncompressedSize,
            open: () =>
              new Promise<Readable>((res, rej) => {
                zip.openReadStream(entry, (e, stream) => {
                  if (e || !stream) return rej(bad('damaged zip entry'));
                  // A damaged or lying entry surfaces as a clean 400, not as a stream error.
                  const out = new PassThrough();
                  stream.on('error', () => out.destroy(bad('damaged zip entry')));
                  stream.pipe(out);
                  res(out);
                });
              }),
          });
        }
        zip.readEntry();
      });
      zip.on('end', () => {
        if (!failed) resolve({ files, dirs, close: () => zip.close() });
      });
      zip.readEntry();
    });
  });
}

async function readAll(r: Readable | Buffer, max: number): Promise<Buffer> {
  if (Buffer.isBuffer(r)) return r;
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of r) {
    n += (c as Buffer).length;
    if (n > max) throw new AppError('bad_request', { reason: 'manifest.json is too large' });
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

interface PlannedFolder {
  segments: string[];
}
interface PlannedFile {
  segments: string[];
  archivePath: string;
  contentType: string;
  size: number;
}

/** "/a/b" or "a/b" → cleaned segments; a bad name anywhere makes the whole archive a 400. */
function segmentsOf(path: string): string[] {
  const parts = path.split('/').filter((s) => s !== '');
  try {
    return parts.map(cleanNodeName);
  } catch {
    throw new AppError('bad_request', { reason: 'a name in the archive is not allowed', path: path.slice(0, 300) });
  }
}

/** What to create, from the manifest when there is one, else from the archive's own tree. Validates all of it. */
async function plan(source: ImportSource): Promise<{ folders: PlannedFolder[]; files: PlannedFile[] }> {
  const folders = new Map<string, PlannedFolder>();
  const files: PlannedFile[] = [];
  const addFolder = (segments: string[]) => {
    for (let i = 1; i <= segments.length; i++) {
      const key = segments.slice(0, i).map(nameKey).join('/');
      if (!folders.has(key)) folders.set(key, { segments: segments.slice(0, i) });
    }
  };
  const manifestFile = source.files.get(MANIFEST_PATH);
  if (manifestFile) {
    let m: Partial<DriveManifest>;
    try {
      m = JSON.parse((await readAll(await manifestFile.open(), MAX_MANIFEST_BYTES)).toString('utf8')) as Partial<DriveManifest>;
    } catch (e) {
      if (e instanceof AppError) throw e;
      throw new AppError('bad_request', { reason: 'manifest.json is not JSON' });
    }
    if (m.format !== DRIVE_EXPORT_FORMAT || !Array.isArray(m.nodes)) throw new AppError('bad_request', { reason: `not a ${DRIVE_EXPORT_FORMAT} manifest` });
    if (m.nodes.length > MAX_ARCHIVE_NODES) throw new AppError('bad_request', { reason: 'too many entries' });
    for (const n of m.nodes as unknown[]) {
      const node = n as Partial<ManifestNode>;
      if (!node || typeof node.path !== 'string' || (node.kind !== 'file' && node.kind !== 'folder')) throw new AppError('bad_request', { reason: 'a manifest entry is malformed' });
      const segments = segmentsOf(node.path);
      if (segments.length === 0) throw new AppError('bad_request', { reason: 'a manifest entry has no name' });
      if (node.kind === 'folder') {
        addFolder(segments);
        continue;
      }
      const archivePath = typeof node.archivePath === 'string' ? node.archivePath : '';
      const content = source.files.get(archivePath);
      if (!content) throw new AppError('bad_request', { reason: 'a file of the manifest is missing from the archive', path: node.path.slice(0, 300) });
      addFolder(segments.slice(0, -1));
      files.push({ segments, archivePath, contentType: typeof node.contentType === 'string' ? node.contentType.slice(0, 200) : '', size: content.size });
    }
  } else {
    // Any zip: its `drive/` folder when it has one (an export), else all of it.
    const all = [...source.files.keys(), ...source.dirs];
    const prefix = all.some((p) => p.startsWith('drive/')) ? 'drive/' : '';
    const inside = (p: string) => p.startsWith(prefix) && !p.startsWith(`${prefix}__MACOSX/`) && p.length > prefix.length;
    for (const d of [...source.dirs].filter(inside)) addFolder(segmentsOf(d.slice(prefix.length)));
    for (const [p, f] of source.files) {
      if (!inside(p)) continue;
      const segments = segmentsOf(p.slice(prefix.length));
      addFolder(segments.slice(0, -1));
      files.push({ segments, archivePath: p, contentType: '', size: f.size });
    }
  }
  const ordered = [...folders.values()].sort((a, b) => a.segments.length - b.segments.length);
  return { folders: ordered, files };
}

/** A free name next to `parent`: `name`, then "name (2)", "name (3).ext", ... */
async function freeName(ctx: DriveContext, owner: Owner, parent: string[], name: string, isFile: boolean): Promise<string> {
  const dot = isFile ? name.lastIndexOf('.') : -1;
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let i = 1; i <= 1000; i++) {
    const candidate = i === 1 ? name : cleanNodeName(`${stem} (${i})${ext}`);
    if ((await resolvePath(ctx.platform.db, owner, [...parent, candidate])) === null) return candidate;
  }
  throw new AppError('conflict', { reason: 'name_taken' });
}

/**
 * Imports an archive into a drive: folders are merged into existing ones of the same name, files whose
 * name is taken get a suffix. Checked whole first (names, manifest, quota): a bad archive changes nothing.
 */
export async function importDriveArchive(ctx: DriveContext, owner: Owner, source: ImportSource): Promise<{ imported: number; folders: number; files: number }> {
  const { folders, files } = await plan(source);
  await assertFits(ctx.platform, owner, files.reduce((s, f) => s + f.size, 0));
  const placed = new Map<string, string[]>(); // original folder key → where it is now
  const where = (segments: string[]) => placed.get(segments.map(nameKey).join('/')) ?? [];
  let createdFolders = 0;
  let createdFiles = 0;
  for (const f of folders) {
    const parent = where(f.segments.slice(0, -1));
    const name = f.segments.at(-1)!;
    const existing = await resolvePath(ctx.platform.db, owner, [...parent, name]);
    if (existing !== null && existing !== 'root' && existing.kind === 'folder') {
      placed.set(f.segments.map(nameKey).join('/'), [...parent, existing.name]);
      continue;
    }
    const free = await freeName(ctx, owner, parent, name, false);
    await createFolder(ctx, owner, [...parent, free]);
    createdFolders++;
    placed.set(f.segments.map(nameKey).join('/'), [...parent, free]);
  }
  for (const f of files) {
    const parent = where(f.segments.slice(0, -1));
    const content = source.files.get(f.archivePath)!;
    for (let attempt = 0; ; attempt++) {
      const name = await freeName(ctx, owner, parent, f.segments.at(-1)!, true);
      try {
        await putFile(ctx, owner, [...parent, name], await content.open(), { contentType: f.contentType || undefined, createOnly: true });
        break;
      } catch (e) {
        // Someone took the name meanwhile: the next free one (never an overwrite).
        if (attempt < 3 && e instanceof AppError && e.code === 'conflict' && e.details?.reason === 'name_taken') continue;
        throw e;
      }
    }
    createdFiles++;
  }
  return { imported: createdFolders + createdFiles, folders: createdFolders, files: createdFiles };
}

async function blobBuffer(platform: Platform, sha256: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await platform.blobs.get(sha256)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The module contract: the user's own drive in the per-user export archive (the contract hands files
 * over in memory; `GET /api/drive/export` streams the same layout for drives of any size).
 */
export const drivePortability: NonNullable<BastideModule['portability']> = {
  async export(platform, userId) {
    const { entries, manifestFile } = await buildDriveExport(platform, { type: 'user', id: userId });
    const files: ExportFile[] = [manifestFile];
    for (const { node, archivePath } of entries) {
      if (node.kind !== 'file') continue;
      files.push({ path: archivePath, content: node.blob_sha256 && Number(node.size) > 0 ? await blobBuffer(platform, node.blob_sha256) : Buffer.alloc(0) });
    }
    return files;
  },
  async import(platform, userId, files) {
    // The portability module has authorized the caller for this user's data; the drive writes as the system.
    const ctx: DriveContext = { platform, actor: { kind: 'system' } };
    const { imported } = await importDriveArchive(ctx, { type: 'user', id: userId }, bufferSource(files));
    return { imported };
  },
};
