/** The contacts JSON API (/api/addressbooks/*, /api/directory): types, calls and query keys. */
import { api, getCsrfToken, withQuery, ApiError, NETWORK_ERROR } from '../../app/api';

export interface Book {
  id: string;
  slug: string;
  name: string;
  description: string;
  syncToken: string;
  davUrl: string;
}

export interface Typed {
  value: string;
  type?: string;
}

export interface Address {
  type?: string;
  street: string;
  locality: string;
  region: string;
  postalCode: string;
  country: string;
}

export interface Contact {
  id: string;
  uid: string;
  etag: string;
  fn: string;
  givenName: string;
  familyName: string;
  emails: Typed[];
  phones: Typed[];
  org: string;
  title: string;
  note: string;
  addresses: Address[];
  birthday: string;
  categories: string[];
  hasPhoto: boolean;
}

export interface Photo {
  mediaType: 'image/jpeg' | 'image/png' | 'image/webp';
  data: string;
}

export interface ContactInput {
  fn: string;
  givenName?: string;
  familyName?: string;
  emails?: Typed[];
  phones?: Typed[];
  org?: string;
  title?: string;
  note?: string;
  addresses?: Array<Partial<Address>>;
  birthday?: string;
  categories?: string[];
  photo?: Photo | null;
  etag?: string;
}

export interface Person {
  id: string;
  login: string;
  displayName: string;
  email: string | null;
  groups: string[];
}

export const booksKey = ['contacts', 'books'] as const;
export const contactsKey = (book: string) => ['contacts', 'list', book] as const;
export const directoryKey = ['directory', 'all'] as const;

export const listBooks = (signal?: AbortSignal) => api.get<{ addressbooks: Book[] }>('/api/addressbooks', { signal }).then((r) => r.addressbooks);
export const createBook = (name: string) => api.post<Book>('/api/addressbooks', { name });
export const renameBook = (id: string, name: string) => api.patch<Book>(`/api/addressbooks/${encodeURIComponent(id)}`, { name });
export const deleteBook = (id: string) => api.del(`/api/addressbooks/${encodeURIComponent(id)}`);
export const listContacts = (book: string, signal?: AbortSignal) =>
  api.get<{ contacts: Contact[] }>(`/api/addressbooks/${encodeURIComponent(book)}/contacts`, { signal }).then((r) => r.contacts);
export const createContact = (book: string, c: ContactInput) => api.post<Contact>(`/api/addressbooks/${encodeURIComponent(book)}/contacts`, c);
export const updateContact = (book: string, id: string, c: ContactInput) => api.put<Contact>(`/api/addressbooks/${encodeURIComponent(book)}/contacts/${encodeURIComponent(id)}`, c);
export const deleteContact = (book: string, id: string) => api.del(`/api/addressbooks/${encodeURIComponent(book)}/contacts/${encodeURIComponent(id)}`);
export const photoUrl = (book: string, c: Pick<Contact, 'id' | 'etag'>) => `/api/addressbooks/${encodeURIComponent(book)}/contacts/${encodeURIComponent(c.id)}/photo?v=${encodeURIComponent(c.etag)}`;
export const exportUrl = (book: string) => `/api/addressbooks/${encodeURIComponent(book)}/export`;

/** The whole directory, page after page (it is in login order). */
export async function listDirectory(signal?: AbortSignal): Promise<{ people: Person[]; scope: 'organisation' | 'spaces' }> {
  const people: Person[] = [];
  let after: string | undefined;
  let scope: 'organisation' | 'spaces' = 'organisation';
  for (let i = 0; i < 200; i++) {
    const page = await api.get<{ people: Person[]; scope: 'organisation' | 'spaces' }>(withQuery('/api/directory', { limit: 500, after }), { signal });
    scope = page.scope;
    people.push(...page.people);
    if (page.people.length < 500) break;
    after = page.people.at(-1)?.login;
  }
  return { people, scope };
}

/** Uploads some vCards (one .vcf text) to a book; answers which were imported and which were refused. */
export async function importVcf(book: string, text: string, signal?: AbortSignal): Promise<{ imported: number; failed: Array<{ uid: string; code: string }> }> {
  const headers: Record<string, string> = { 'Content-Type': 'text/vcard; charset=utf-8', Accept: 'application/json' };
  const csrf = getCsrfToken();
  if (csrf) headers['X-CSRF-Token'] = csrf;
  let res: Response;
  try {
    res = await fetch(`/api/addressbooks/${encodeURIComponent(book)}/import`, { method: 'POST', headers, body: text, credentials: 'same-origin', signal });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, NETWORK_ERROR, 'The server could not be reached.');
  }
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const err = (body as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, err?.code ?? (res.status >= 500 ? 'internal' : 'unknown'), err?.message ?? res.statusText);
  }
  return body as { imported: number; failed: Array<{ uid: string; code: string }> };
}

/** One card of a .vcf file as the importer sees it: its text (with a UID added if it had none), UID and name. */
export interface VcfCard {
  text: string;
  uid: string;
  name: string;
  /** The VERSION line's value ("" when missing). */
  version: string;
}

function unfold(text: string): string {
  return text.replace(/\r?\n[ \t]/g, '');
}

function randomUid(): string {
  return typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** Splits a .vcf file into cards. Cards without a UID (Google and Outlook exports) get one, so they can be imported. */
export function splitVcf(text: string): VcfCard[] {
  const out: VcfCard[] = [];
  for (const m of text.replace(/^\uFEFF/, '').matchAll(/BEGIN:VCARD\r?\n[\s\S]*?\r?\nEND:VCARD/gi)) {
    let card = m[0].replace(/\r?\n/g, '\r\n');
    const lines = unfold(card).split('\r\n');
    const uidLine = lines.find((l) => /^UID[;:]/i.test(l));
    let uid = uidLine ? uidLine.slice(uidLine.indexOf(':') + 1).trim() : '';
    if (!uid) {
      uid = randomUid();
      card = card.replace(/^BEGIN:VCARD\r\n/i, `BEGIN:VCARD\r\nUID:${uid}\r\n`);
    }
    const fnLine = lines.find((l) => /^FN[;:]/i.test(l));
    const name = fnLine ? fnLine.slice(fnLine.indexOf(':') + 1).replace(/\\,/g, ',').replace(/\\;/g, ';').trim() : '';
    const versionLine = lines.find((l) => /^VERSION[;:]/i.test(l));
    const version = versionLine ? versionLine.slice(versionLine.indexOf(':') + 1).trim() : '';
    out.push({ text: `${card}\r\n`, uid, name, version });
  }
  return out;
}

/** Initials for an avatar: first letters of the first two words. */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.slice(0, 2).map((w) => Array.from(w)[0] ?? '');
  return letters.join('').toUpperCase() || '?';
}

/** The letter a name is filed under (accents folded; digits and symbols under "#"). */
export function letterOf(name: string): string {
  const c = (Array.from(name.trim())[0] ?? '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toUpperCase();
  return /^[A-Z]$/.test(c) ? c : '#';
}

/** Reads an image file and makes a square JPEG of at most `size` pixels (what the server stores as PHOTO). */
export async function photoFromFile(file: File, size = 256): Promise<Photo> {
  if (!/^image\/(jpeg|png|webp|gif)$/.test(file.type)) throw new Error('type');
  const url = URL.createObjectURL(file);
  try {
    const img = await new Promise<HTMLImageElement>((resolve, reject) => {
      const i = new Image();
      i.onload = () => resolve(i);
      i.onerror = () => reject(new Error('decode'));
      i.src = url;
    });
    const side = Math.min(img.naturalWidth, img.naturalHeight);
    if (!side) throw new Error('decode');
    const out = Math.min(size, side);
    const canvas = document.createElement('canvas');
    canvas.width = out;
    canvas.height = out;
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('decode');
    ctx.drawImage(img, (img.naturalWidth - side) / 2, (img.naturalHeight - side) / 2, side, side, 0, 0, out, out);
    const dataUrl = canvas.toDataURL('image/jpeg', 0.85);
    return { mediaType: 'image/jpeg', data: dataUrl.slice(dataUrl.indexOf(',') + 1) };
  } finally {
    URL.revokeObjectURL(url);
  }
}
