/** Links inside the contacts app: ?book=<id>|directory &group=<name> &contact=<id> &mode=edit|new. */
export const DIRECTORY = 'directory';

export function hrefOf(p: { book?: string | null; contact?: string | null; mode?: string | null; group?: string | null }): string {
  const s = new URLSearchParams();
  if (p.book) s.set('book', p.book);
  if (p.group) s.set('group', p.group);
  if (p.contact) s.set('contact', p.contact);
  if (p.mode) s.set('mode', p.mode);
  const q = s.toString();
  return q ? `/contacts?${q}` : '/contacts';
}

/** Folds accents and case, for search as you type. */
export const fold = (s: string): string => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
