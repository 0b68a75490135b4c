import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import ICAL from 'ical.js';
import { sql } from 'kysely';
import { AppError } from '../../errors.js';
import type { App, Platform, SearchHit } from '../../platform/module.js';
import { requireUser, type Actor } from '../../platform/policy.js';
import { resourceName } from '../calendar/bundle.js';
import type { CollectionRow, ObjectRow, StoreContext } from '../calendar/store.js';
import { contactsStore } from './books.js';
import { directoryRoutes } from './directory.js';
import { parseVcard, parseVcardComponent, splitVcards } from './vcard.js';

/**
 * The JSON API of address books for the web app: books, contacts as plain fields (edits keep the vCard's
 * other properties: photos, addresses, custom fields), .vcf import/export. Same store as CardDAV.
 */
const strict = { additionalProperties: false } as const;
const tags = ['contacts'];
const Text = (max: number) => Type.String({ maxLength: max });
const BookView = Type.Object({ id: Type.String(), slug: Type.String(), name: Type.String(), description: Type.String(), syncToken: Type.String(), davUrl: Type.String() });
const Typed = Type.Object({ value: Text(500), type: Type.Optional(Text(40)) }, strict);
const Address = Type.Object(
  { type: Type.Optional(Text(40)), street: Type.Optional(Text(500)), locality: Type.Optional(Text(200)), region: Type.Optional(Text(200)), postalCode: Type.Optional(Text(40)), country: Type.Optional(Text(200)) },
  strict,
);
/** A photo as base64 (at most 256 KiB decoded); JPEG, PNG or WebP. */
export const MAX_PHOTO_BYTES = 256 * 1024;
const Photo = Type.Object({ mediaType: Type.Union([Type.Literal('image/jpeg'), Type.Literal('image/png'), Type.Literal('image/webp')]), data: Type.String({ maxLength: Math.ceil((MAX_PHOTO_BYTES * 4) / 3) + 4, pattern: '^[A-Za-z0-9+/]*={0,2}$' }) }, strict);
const ContactFields = {
  fn: Type.String({ minLength: 1, maxLength: 500 }),
  givenName: Type.Optional(Text(200)),
  familyName: Type.Optional(Text(200)),
  emails: Type.Optional(Type.Array(Typed, { maxItems: 50 })),
  phones: Type.Optional(Type.Array(Typed, { maxItems: 50 })),
  org: Type.Optional(Text(500)),
  title: Type.Optional(Text(500)),
  note: Type.Optional(Text(20_000)),
  addresses: Type.Optional(Type.Array(Address, { maxItems: 20 })),
  /** YYYY-MM-DD, or "" to remove. */
  birthday: Type.Optional(Type.String({ maxLength: 10, pattern: '^(\\d{4}-\\d{2}-\\d{2})?$' })),
  /** Groups (vCard CATEGORIES, what DAVx⁵, Nextcloud and Thunderbird show as groups/labels). */
  categories: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50 })),
  /** null removes the photo. */
  photo: Type.Optional(Type.Union([Photo, Type.Null()])),
};
const ContactBody = Type.Object({ ...ContactFields, etag: Type.Optional(Text(64)) }, strict);
const ContactView = Type.Object({
  id: Type.String(),
  uid: Type.String(),
  etag: Type.String(),
  fn: Type.String(),
  givenName: Type.String(),
  familyName: Type.String(),
  emails: Type.Array(Type.Object({ value: Type.String(), type: Type.Optional(Type.String()) })),
  phones: Type.Array(Type.Object({ value: Type.String(), type: Type.Optional(Type.String()) })),
  org: Type.String(),
  title: Type.String(),
  note: Type.String(),
  addresses: Type.Array(Type.Object({ type: Type.Optional(Type.String()), street: Type.String(), locality: Type.String(), region: Type.String(), postalCode: Type.String(), country: Type.String() })),
  birthday: Type.String(),
  categories: Type.Array(Type.String()),
  hasPhoto: Type.Boolean(),
});
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) }, strict);
const ObjParams = Type.Object({ id: Type.String({ maxLength: 64 }), contactId: Type.String({ maxLength: 64 }) }, strict);

const ctxOf = (platform: Platform, actor: Actor): StoreContext => ({ platform, actor });

function bookView(c: CollectionRow, login: string): Static<typeof BookView> {
  return {
    id: c.id, slug: c.slug, name: c.display_name, description: c.description, syncToken: `urn:bastide:sync:${c.id}:${Number(c.sync_seq)}`,
    davUrl: `/dav/addressbooks/${encodeURIComponent(login)}/${encodeURIComponent(c.slug)}/`,
  };
}

const first = (card: ICAL.Component, name: string): string => {
  const v = card.getFirstPropertyValue(name);
  if (Array.isArray(v)) return v.filter((x) => typeof x === 'string' && x !== '').join(' ');
  return typeof v === 'string' ? v : '';
};

function typed(card: ICAL.Component, name: string): Array<{ value: string; type?: string }> {
  return card.getAllProperties(name).map((p) => {
    const t = p.getParameter('type');
    const type = Array.isArray(t) ? t.join(',') : typeof t === 'string' ? t : undefined;
    const value = String(p.getFirstValue() ?? '').replace(/^tel:/i, '');
    return type ? { value, type } : { value };
  });
}

export function contactView(o: ObjectRow): Static<typeof ContactView> {
  let card: ICAL.Component;
  try {
    card = parseVcardComponent(o.data);
  } catch {
    return { id: o.id, uid: o.uid, etag: o.etag, fn: o.summary.split('\n')[0] ?? '', givenName: '', familyName: '', emails: [], phones: [], org: '', title: '', note: '', addresses: [], birthday: '', categories: [], hasPhoto: false };
  }
  const n = card.getFirstPropertyValue('n');
  const parts = Array.isArray(n) ? n.map((x) => (Array.isArray(x) ? x.join(' ') : String(x ?? ''))) : typeof n === 'string' ? n.split(';') : [];
  return {
    id: o.id, uid: o.uid, etag: o.etag, fn: first(card, 'fn'), familyName: parts[0] ?? '', givenName: parts[1] ?? '',
    emails: typed(card, 'email'), phones: typed(card, 'tel'), org: first(card, 'org'), title: first(card, 'title'), note: first(card, 'note'),
    addresses: addresses(card), birthday: birthday(card), categories: card.getAllProperties('categories').flatMap((p) => p.getValues().map((v) => String(v).trim()).filter(Boolean)), hasPhoto: photoOf(card) !== null,
  };
}

function addresses(card: ICAL.Component): Array<Static<typeof ContactView>['addresses'][number]> {
  return card.getAllProperties('adr').map((p) => {
    const raw = p.getFirstValue() as unknown;
    const v = (Array.isArray(raw) ? raw : String(raw ?? '').split(';')).map((x: unknown) => (Array.isArray(x) ? x.join(' ') : String(x ?? '')));
    const t = p.getParameter('type');
    const type = Array.isArray(t) ? t.join(',') : typeof t === 'string' ? t : undefined;
    const a = { street: [v[1], v[2]].filter(Boolean).join(' '), locality: v[3] ?? '', region: v[4] ?? '', postalCode: v[5] ?? '', country: v[6] ?? '' };
    return type ? { type, ...a } : a;
  });
}

/** BDAY as YYYY-MM-DD when it is a full date ("" otherwise: year-less or free-text birthdays are kept, not shown). */
function birthday(card: ICAL.Component): string {
  const p = card.getFirstProperty('bday');
  if (!p) return '';
  const raw = String(p.toJSON()[3] ?? '');
  const m = /^(\d{4})-?(\d{2})-?(\d{2})/.exec(raw);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : '';
}

const PHOTO_TYPES: Record<string, string> = { JPEG: 'image/jpeg', JPG: 'image/jpeg', PNG: 'image/png', WEBP: 'image/webp', GIF: 'image/gif' };

/** The contact's photo when it is inline (vCard 3.0 ENCODING=b, or a 4.0 data: URI); linked photos are not fetched. */
export function photoOf(card: ICAL.Component): { mediaType: string; data: Buffer } | null {
  const p = card.getFirstProperty('photo');
  if (!p) return null;
  const raw = String(p.toJSON()[3] ?? '');
  const data = /^data:(image\/(?:jpeg|png|webp|gif));base64,([A-Za-z0-9+/=\s]+)$/i.exec(raw);
  if (data) return { mediaType: data[1]!.toLowerCase(), data: Buffer.from(data[2]!, 'base64') };
  const enc = String(p.getParameter('encoding') ?? '').toLowerCase();
  if (enc !== 'b' && enc !== 'base64') return null;
  const t = p.getParameter('type');
  const type = (Array.isArray(t) ? t[0] : t) ?? 'JPEG';
  const mediaType = PHOTO_TYPES[String(type).toUpperCase().replace(/^IMAGE\//, '')];
  if (!mediaType) return null;
  return { mediaType, data: Buffer.from(raw.replace(/\s+/g, ''), 'base64') };
}

/** The file starts like the image type it claims (a photo is served as an image only if it is one). */
function looksLike(mediaType: string, b: Buffer): boolean {
  if (mediaType === 'image/jpeg') return b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
  if (mediaType === 'image/png') return b.length > 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  if (mediaType === 'image/webp') return b.length > 12 && b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP';
  if (mediaType === 'image/gif') return b.length > 6 && b.subarray(0, 4).toString('latin1') === 'GIF8';
  return false;
}

/** The vCard text for JSON fields: a new 3.0 card, or the existing card with these fields replaced. */
export function vcardText(existing: ObjectRow | null, b: Static<typeof ContactBody>, now: number): string {
  const card = parseVcardComponent(existing ? existing.data : `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${randomUUID()}\r\nFN:x\r\nEND:VCARD\r\n`);
  const set = (name: string, value: string | undefined): void => {
    if (value === undefined) return;
    card.removeAllProperties(name);
    if (value !== '') card.addPropertyWithValue(name, value);
  };
  set('fn', b.fn);
  if (b.givenName !== undefined || b.familyName !== undefined || !existing) {
    card.removeAllProperties('n');
    const p = new ICAL.Property('n', card);
    p.setValue([b.familyName ?? '', b.givenName ?? '', '', '', ''] as unknown as string);
    card.addProperty(p);
  }
  for (const [name, list] of [['email', b.emails], ['tel', b.phones]] as const) {
    if (list === undefined) continue;
    card.removeAllProperties(name);
    for (const item of list) {
      const p = card.addPropertyWithValue(name, item.value);
      if (item.type) p.setParameter('type', item.type);
    }
  }
  set('org', b.org);
  set('title', b.title);
  set('note', b.note);
  if (b.addresses !== undefined) {
    card.removeAllProperties('adr');
    for (const a of b.addresses) {
      const p = new ICAL.Property('adr', card);
      p.setValue(['', '', a.street ?? '', a.locality ?? '', a.region ?? '', a.postalCode ?? '', a.country ?? ''] as unknown as string);
      if (a.type) p.setParameter('type', a.type);
      card.addProperty(p);
    }
  }
  if (b.birthday !== undefined) {
    card.removeAllProperties('bday');
    if (b.birthday !== '') {
      const [y, m, d] = b.birthday.split('-').map(Number) as [number, number, number];
      const date = new Date(Date.UTC(y, m - 1, d));
      if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) throw new AppError('validation_failed', { fields: [{ path: '/birthday', message: 'a real date YYYY-MM-DD' }] });
      const p = new ICAL.Property('bday', card);
      p.setValue(b.birthday);
      card.addProperty(p);
    }
  }
  if (b.categories !== undefined) {
    card.removeAllProperties('categories');
    const list = [...new Set(b.categories.map((c) => c.trim().replace(/,/g, ' ')).filter(Boolean))];
    if (list.length > 0) {
      const p = new ICAL.Property('categories', card);
      p.setValues(list);
      card.addProperty(p);
    }
  }
  if (b.photo !== undefined) {
    card.removeAllProperties('photo');
    if (b.photo !== null) {
      const bytes = Buffer.from(b.photo.data, 'base64');
      if (bytes.length > MAX_PHOTO_BYTES) throw new AppError('payload_too_large');
      if (!looksLike(b.photo.mediaType, bytes)) throw new AppError('validation_failed', { fields: [{ path: '/photo', message: `not a ${b.photo.mediaType} image` }] });
      const p = card.addPropertyWithValue('photo', bytes.toString('base64'));
      p.setParameter('encoding', 'b');
      p.setParameter('type', b.photo.mediaType.slice(6).toUpperCase());
    }
  }
  card.removeAllProperties('rev');
  card.addPropertyWithValue('rev', new Date(now).toISOString().replace(/\.\d{3}/, '').replace(/[-:]/g, ''));
  return card.toString().replace(/\r?\n/g, '\r\n') + '\r\n';
}

export async function searchContacts(platform: Platform, actor: Actor, query: string, limit: number): Promise<SearchHit[]> {
  if (actor.kind !== 'user') return [];
  const books = await contactsStore.list(ctxOf(platform, actor), { type: 'user', id: actor.userId });
  if (books.length === 0) return [];
  const q = `%${query.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const rows = await platform.db
    .selectFrom('contacts_objects')
    .select(['id', 'collection_id', 'summary'])
    .where('collection_id', 'in', books.map((c) => c.id))
    .where(sql<boolean>`lower(summary) like ${q} escape '\\'`)
    .limit(limit)
    .execute();
  return rows.map((r) => {
    const [fn, ...rest] = r.summary.split('\n');
    return { type: 'contact', id: r.id, title: fn || '(no name)', subtitle: rest.filter(Boolean).slice(0, 2).join(' · '), link: `/contacts?book=${r.collection_id}&contact=${r.id}` };
  });
}

/** Imports a .vcf file (one or several cards); a card whose UID is already in the book replaces it. */
export async function importVcards(ctx: StoreContext, coll: CollectionRow, text: string): Promise<{ imported: number; failed: Array<{ uid: string; code: string }> }> {
  let imported = 0;
  const failed: Array<{ uid: string; code: string }> = [];
  const cards = splitVcards(text);
  if (cards.length === 0 && text.trim() !== '') throw new AppError('invalid_vcard', { reason: 'no BEGIN:VCARD … END:VCARD found' });
  for (const card of cards) {
    let uid = '';
    try {
      const p = parseVcard(card);
      uid = p.uid;
      const existing = await ctx.platform.db.selectFrom('contacts_objects').select('name').where('collection_id', '=', coll.id).where('uid', '=', p.uid).executeTakeFirst();
      await contactsStore.put(ctx, coll, existing?.name ?? resourceName(p.uid, '.vcf'), card);
      imported++;
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500) throw e;
      // A card refused before its UID was read (a wrong VERSION) is still named by its UID line.
      if (!uid) uid = /^UID(?:;[^:\r\n]*)?:([^\r\n]*)$/im.exec(card.replace(/\r?\n[ \t]/g, ''))?.[1]?.trim() ?? '';
      failed.push({ uid, code: e.code });
    }
  }
  return { imported, failed };
}

export async function contactsRoutes(app: App, platform: Platform): Promise<void> {
  const load = async (req: { actor: Actor }, id: string): Promise<{ ctx: StoreContext; coll: CollectionRow; login: string }> => {
    const me = requireUser(req.actor);
    const ctx = ctxOf(platform, req.actor);
    return { ctx, coll: await contactsStore.byId(ctx, id), login: me.login };
  };
  const contactOf = async (coll: CollectionRow, id: string): Promise<ObjectRow> => {
    const o = await contactsStore.objectById(platform.db, coll, id);
    if (!o) throw new AppError('not_found');
    return o;
  };

  directoryRoutes(app, platform);

  app.get('/addressbooks', { schema: { tags, summary: 'My address books (created on first access)', response: { 200: Type.Object({ addressbooks: Type.Array(BookView) }) } } }, async (req) => {
    const me = requireUser(req.actor);
    return { addressbooks: (await contactsStore.list(ctxOf(platform, req.actor), { type: 'user', id: me.userId })).map((c) => bookView(c, me.login)) };
  });
  app.post(
    '/addressbooks',
    { schema: { tags, summary: 'Create an address book', body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), description: Type.Optional(Text(5000)) }, strict), response: { 201: BookView } } },
    async (req, reply) => {
      const me = requireUser(req.actor);
      const row = await contactsStore.create(ctxOf(platform, req.actor), { type: 'user', id: me.userId }, { slug: randomUUID(), displayName: req.body.name, description: req.body.description ?? '', components: '' });
      return reply.status(201).send(bookView(row, me.login));
    },
  );
  app.patch(
    '/addressbooks/:id',
    { schema: { tags, summary: 'Rename or describe an address book', params: IdParams, body: Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), description: Type.Optional(Text(5000)) }, strict), response: { 200: BookView } } },
    async (req) => {
      const { ctx, coll, login } = await load(req, req.params.id);
      const row = await contactsStore.update(ctx, coll, { ...(req.body.name !== undefined ? { displayName: req.body.name } : {}), ...(req.body.description !== undefined ? { description: req.body.description } : {}) });
      return bookView(row, login);
    },
  );
  app.delete('/addressbooks/:id', { schema: { tags, summary: 'Delete an address book and its contacts', params: IdParams } }, async (req, reply) => {
    const { ctx, coll } = await load(req, req.params.id);
    await contactsStore.remove(ctx, coll);
    return reply.status(204).send();
  });
  app.get('/addressbooks/:id/contacts', { schema: { tags, summary: 'The contacts of a book', params: IdParams, response: { 200: Type.Object({ contacts: Type.Array(ContactView) }) } } }, async (req) => {
    const { coll } = await load(req, req.params.id);
    const list = (await contactsStore.objects(platform.db, coll)).map(contactView);
    list.sort((a, b) => a.fn.localeCompare(b.fn));
    return { contacts: list };
  });
  app.get('/addressbooks/:id/contacts/:contactId', { schema: { tags, summary: 'One contact', params: ObjParams, response: { 200: Type.Intersect([ContactView, Type.Object({ vcard: Type.String() })]) } } }, async (req) => {
    const { coll } = await load(req, req.params.id);
    const o = await contactOf(coll, req.params.contactId);
    return { ...contactView(o), vcard: o.data };
  });
  app.get('/addressbooks/:id/contacts/:contactId/photo', { schema: { tags, summary: 'The contact\'s photo (an inline image; 404 without one)', params: ObjParams } }, async (req, reply) => {
    const { coll } = await load(req, req.params.id);
    const o = await contactOf(coll, req.params.contactId);
    let photo: ReturnType<typeof photoOf> = null;
    try {
      photo = photoOf(parseVcardComponent(o.data));
    } catch {
      photo = null;
    }
    if (!photo || !looksLike(photo.mediaType, photo.data)) throw new AppError('not_found');
    return reply
      .type(photo.mediaType)
      .header('cache-control', 'private, max-age=3600')
      .header('etag', `"${o.etag}"`)
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .send(photo.data);
  });
  app.post('/addressbooks/:id/contacts', { schema: { tags, summary: 'Create a contact', params: IdParams, body: ContactBody, response: { 201: ContactView } } }, async (req, reply) => {
    const { ctx, coll } = await load(req, req.params.id);
    const text = vcardText(null, req.body, platform.clock.now());
    const p = parseVcard(text);
    const { row } = await contactsStore.put(ctx, coll, resourceName(p.uid, '.vcf'), text, { ifNoneMatch: '*' });
    return reply.status(201).send(contactView(row));
  });
  app.put('/addressbooks/:id/contacts/:contactId', { schema: { tags, summary: 'Edit a contact (other vCard properties are kept); etag: only if unchanged', params: ObjParams, body: ContactBody, response: { 200: ContactView } } }, async (req) => {
    const { ctx, coll } = await load(req, req.params.id);
    const o = await contactOf(coll, req.params.contactId);
    const text = vcardText(o, req.body, platform.clock.now());
    const { row } = await contactsStore.put(ctx, coll, o.name, text, { ifMatch: req.body.etag !== undefined ? `"${req.body.etag}"` : '*' });
    return contactView(row);
  });
  app.delete('/addressbooks/:id/contacts/:contactId', { schema: { tags, summary: 'Delete a contact (If-Match honoured)', params: ObjParams } }, async (req, reply) => {
    const { ctx, coll } = await load(req, req.params.id);
    const o = await contactOf(coll, req.params.contactId);
    const im = req.headers['if-match'];
    await contactsStore.delete(ctx, coll, o.name, { ifMatch: typeof im === 'string' ? im : undefined });
    return reply.status(204).send();
  });
  app.get('/addressbooks/:id/export', { schema: { tags, summary: 'The whole address book as one .vcf file', params: IdParams } }, async (req, reply) => {
    const { coll } = await load(req, req.params.id);
    const objects = await contactsStore.objects(platform.db, coll);
    const ascii = coll.display_name.replace(/[^A-Za-z0-9 ._-]/g, '_') || 'contacts';
    return reply
      .type('text/vcard; charset=utf-8')
      .header('content-disposition', `attachment; filename="${ascii}.vcf"`)
      .header('x-content-type-options', 'nosniff')
      .send(objects.map((o) => o.data.replace(/\r?\n$/, '') + '\r\n').join(''));
  });
  await app.register(async (scope) => {
    scope.addContentTypeParser(['text/vcard', 'text/x-vcard'], { parseAs: 'buffer', bodyLimit: 32 * 1024 * 1024 }, (_req, body, done) => done(null, body));
    scope.post<{ Params: Static<typeof IdParams> }>(
      '/addressbooks/:id/import',
      { schema: { tags, summary: 'Import a .vcf file (a UID already in the book is replaced)', params: IdParams, response: { 200: Type.Object({ imported: Type.Integer(), failed: Type.Array(Type.Object({ uid: Type.String(), code: Type.String() })) }) } } },
      async (req) => {
        const { ctx, coll } = await load(req, req.params.id);
        if (!Buffer.isBuffer(req.body)) throw new AppError('unsupported_media_type');
        let text: string;
        try {
          text = new TextDecoder('utf-8', { fatal: true }).decode(req.body).replace(/^\uFEFF/, '');
        } catch {
          throw new AppError('invalid_vcard', { reason: 'not UTF-8' });
        }
        return importVcards(ctx, coll, text);
      },
    );
  });
}
