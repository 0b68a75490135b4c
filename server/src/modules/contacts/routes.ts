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
const ContactFields = {
  fn: Type.String({ minLength: 1, maxLength: 500 }),
  givenName: Type.Optional(Text(200)),
  familyName: Type.Optional(Text(200)),
  emails: Type.Optional(Type.Array(Typed, { maxItems: 50 })),
  phones: Type.Optional(Type.Array(Typed, { maxItems: 50 })),
  org: Type.Optional(Text(500)),
  title: Type.Optional(Text(500)),
  note: Type.Optional(Text(20_000)),
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
    return { id: o.id, uid: o.uid, etag: o.etag, fn: o.summary.split('\n')[0] ?? '', givenName: '', familyName: '', emails: [], phones: [], org: '', title: '', note: '' };
  }
  const n = card.getFirstPropertyValue('n');
  const parts = Array.isArray(n) ? n.map((x) => (Array.isArray(x) ? x.join(' ') : String(x ?? ''))) : typeof n === 'string' ? n.split(';') : [];
  return {
    id: o.id, uid: o.uid, etag: o.etag, fn: first(card, 'fn'), familyName: parts[0] ?? '', givenName: parts[1] ?? '',
    emails: typed(card, 'email'), phones: typed(card, 'tel'), org: first(card, 'org'), title: first(card, 'title'), note: first(card, 'note'),
  };
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
