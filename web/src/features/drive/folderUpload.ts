/**
 * Folder uploads: what was picked (input webkitdirectory: File.webkitRelativePath) or dropped
 * (DataTransferItem.webkitGetAsEntry, read recursively) becomes a list of folders to create, parents
 * first, and of files with their relative path.
 */
export interface TreeUpload {
  /** Relative folder paths ("Photos", "Photos/2026"), parents before children, empty folders included. */
  folders: string[];
  files: Array<{ rel: string; file: File }>;
}

/** Bounds, so that a dropped home folder does not freeze the tab. */
export const MAX_TREE_FILES = 10_000;
const MAX_DEPTH = 32;

function addParents(folders: Set<string>, rel: string): void {
  const parts = rel.split('/');
  for (let i = 1; i < parts.length; i++) folders.add(parts.slice(0, i).join('/'));
}

function sorted(folders: Set<string>): string[] {
  return [...folders].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
}

/** From an <input webkitdirectory> selection. */
export function treeFromFileList(list: FileList | File[]): TreeUpload {
  const folders = new Set<string>();
  const files: TreeUpload['files'] = [];
  for (const file of Array.from(list).slice(0, MAX_TREE_FILES)) {
    const rel = (file.webkitRelativePath || file.name).replace(/^\/+/, '');
    addParents(folders, rel);
    files.push({ rel, file });
  }
  return { folders: sorted(folders), files };
}

function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  // readEntries answers in batches (100 in Chromium) until it answers with none.
  return new Promise((resolve, reject) => {
    const out: FileSystemEntry[] = [];
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(out);
        else {
          out.push(...batch);
          if (out.length > MAX_TREE_FILES) resolve(out);
          else next();
        }
      }, reject);
    next();
  });
}

const fileOf = (entry: FileSystemFileEntry) => new Promise<File>((resolve, reject) => entry.file(resolve, reject));

/** True when a drop carries at least one folder. */
export function dropHasFolders(items: DataTransferItemList): boolean {
  return Array.from(items).some((i) => i.kind === 'file' && i.webkitGetAsEntry?.()?.isDirectory === true);
}

/** From a drop: entries are taken synchronously (they die with the event), then read. */
export function entriesOf(items: DataTransferItemList): FileSystemEntry[] {
  return Array.from(items)
    .filter((i) => i.kind === 'file')
    .map((i) => i.webkitGetAsEntry?.())
    .filter((e): e is FileSystemEntry => !!e);
}

export async function treeFromEntries(entries: FileSystemEntry[]): Promise<TreeUpload> {
  const folders = new Set<string>();
  const files: TreeUpload['files'] = [];
  async function walk(entry: FileSystemEntry, prefix: string, depth: number): Promise<void> {
    if (files.length >= MAX_TREE_FILES || depth > MAX_DEPTH) return;
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory) {
      folders.add(rel);
      for (const child of await readAll((entry as FileSystemDirectoryEntry).createReader())) await walk(child, rel, depth + 1);
    } else if (entry.isFile) {
      files.push({ rel, file: await fileOf(entry as FileSystemFileEntry) });
    }
  }
  for (const e of entries) await walk(e, '', 0);
  return { folders: sorted(folders), files };
}
