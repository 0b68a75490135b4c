import { randomBytes } from 'node:crypto';
import { AppError } from '../../errors.js';
import { newId } from '../../platform/ids.js';
import type { DbOrTx, Tx } from '../../platform/db/index.js';
import type { Actor, Platform } from '../../platform/module.js';
import { uniqueViolation } from '../identity/repo.js';
import type { DavCollectionsTable, DavObjectsTable } from './schema.js';

/**
 * A store of DAV collections holding text objects (calendars with iCalendar, address books with vCard):
 * the one place that reads and writes the calendar and contacts tables, authorizes through the policy
 * and keeps the change log (RFC 6578). The CalDAV/CardDAV adapters and the JSON API both call it.
 */
export type CollectionRow = DavCollectionsTable;
export type ObjectRow = DavObjectsTable;

export interface Owner {
  /** A person, a space, or a bookable resource (room, vehicle, equipment) of the organisation. */
  type: 'user' | 'space' | 'resource';
  id: string;
}
export interface StoreContext {
  platform: Platform;
  actor: Actor;
  /** false: a write made by scheduling itself (a delivered copy), which must not schedule again. */
  schedule?: boolean;
  /** Scheduling: the user whose reply caused this write (their own copy is not rewritten). */
  replyFrom?: string;
}

/** How much of a collection the actor sees: everything, private items as busy time, or only busy time. */
export type Visibility = 'full' | 'read' | 'busy';

/**
 * Calls around writes (implicit scheduling, scheduling.ts): `beforePut` may return the text to store
 * instead (SCHEDULE-STATUS, a resource's answer); `afterPut`/`afterDelete` run after the commit.
 */
export interface StoreHooks {
  beforePut?(ctx: StoreContext, store: CollectionStore, coll: CollectionRow, parsed: ParsedObject, existing: () => Promise<ObjectRow | null>): Promise<string | undefined>;
  afterPut?(ctx: StoreContext, store: CollectionStore, coll: CollectionRow, before: ObjectRow | null, after: ObjectRow): Promise<void>;
  afterDelete?(ctx: StoreContext, store: CollectionStore, coll: CollectionRow, before: ObjectRow): Promise<void>;
}

/** What a store needs to know of a parsed object. */
export interface ParsedObject {
  text: string;
  uid: string;
  component: string;
  rangeStart: number;
  rangeEnd: number;
  recurring: boolean;
  summary: string;
}

export interface StoreSpec {
  prefix: 'calendar' | 'contacts';
  /** The policy resource type of its collections. */
  resourceType: string;
  /** The event topic prefix ("calendar" → "calendar.object.changed"). */
  topic: string;
  parse(raw: Buffer | string): ParsedObject;
  /** Created for an owner on first access. */
  defaults: Array<{ slug: string; displayName: string; components: string; color: string }>;
  /** A share of the collection reaching the user (policy fact `grant`). */
  grant?(db: DbOrTx, collectionId: string, userId: string): Promise<'read' | 'write' | null>;
  /** Other users told of changes in a collection (those it is shared with), besides its owner. */
  audience?(db: DbOrTx, collectionId: string): Promise<string[]>;
  /** The object as someone with `read` or `busy` visibility sees it (private items as busy time). */
  redact?(o: ObjectRow, level: 'read' | 'busy'): ObjectRow;
}

export interface Conditions {
  ifMatch?: string | undefined;
  ifNoneMatch?: string | undefined;
}

const MAX_NAME = 255;
export const MAX_COLLECTIONS = 200;
export const MAX_OBJECTS_PER_COLLECTION = 100_000;

export const newEtag = (): string => randomBytes(12).toString('hex');

/** A resource or collection name: 1–255 characters, no slash, no control character, not "." or "..". */
export function checkName(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (name.length === 0 || name.length > MAX_NAME || /[/\\\u0000-\u001f\u007f]/.test(name) || name === '.' || name === '..') {
    throw new AppError('invalid_name', { name: name.slice(0, 300) });
  }
  return name.normalize('NFC');
}

const bare = (t: string): string => t.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');

/** RFC 9110 If-Match / If-None-Match against the current etag (null: no object). */
export function checkConditions(c: Conditions, etag: string | null): void {
  if (c.ifMatch !== undefined) {
    const ok = etag !== null && (c.ifMatch.trim() === '*' || c.ifMatch.split(',').some((t) => bare(t) === etag));
    if (!ok) throw new AppError('precondition_failed');
  }
  if (c.ifNoneMatch !== undefined && etag !== null) {
    if (c.ifNoneMatch.trim() === '*' || c.ifNoneMatch.split(',').some((t) => bare(t) === etag)) throw new AppError('precondition_failed');
  }
}

export class CollectionStore {
  hooks: StoreHooks = {};
  /** Collections handed out by byId/bySlug to someone who sees them partly (objects are redacted). */
  private readonly partial = new WeakMap<CollectionRow, 'read' | 'busy'>();

  constructor(readonly spec: StoreSpec) {}

  // Both modules have tables of the same shape: the calendar names type the queries for both.
  private get tc(): 'calendar_collections' {
    return `${this.spec.prefix}_collections` as 'calendar_collections';
  }
  private get to(): 'calendar_objects' {
    return `${this.spec.prefix}_objects` as 'calendar_objects';
  }
  private get tch(): 'calendar_changes' {
    return `${this.spec.prefix}_changes` as 'calendar_changes';
  }

  /** The policy resource of a collection (or home), with the share reaching the actor as a fact. */
  private async resource(ctx: StoreContext, owner: Owner, id?: string): Promise<{ type: string; ownerType: string; ownerId: string; id?: string; grant?: 'read' | 'write' | null }> {
    const r = { type: this.spec.resourceType, ownerType: owner.type, ownerId: owner.id, ...(id ? { id } : {}) };
    const a = ctx.actor;
    if (id && this.spec.grant && a.kind === 'user' && !(owner.type === 'user' && owner.id === a.userId)) return { ...r, grant: await this.spec.grant(ctx.platform.db, id, a.userId) };
    return r;
  }

  /**
   * Authorizes `action` on an owner's collection (or home). Whoever may not even read it gets 404, so a
   * collection of someone else is indistinguishable from one that does not exist. Returns what the
   * actor sees of it: everything (write access), or private items as busy time ('read' through a share),
   * or busy time only ('busy': a resource's calendar for users who do not manage it).
   */
  async authorize(ctx: StoreContext, owner: Owner, action: 'read' | 'write' | 'admin', id?: string): Promise<Visibility> {
    const r = await this.resource(ctx, owner, id);
    if (!(await ctx.platform.policy.can(ctx.actor, 'read', r))) {
      if (ctx.actor.kind === 'anonymous') throw new AppError('unauthenticated');
      throw new AppError('not_found');
    }
    if (action !== 'read') {
      await ctx.platform.policy.authorize(ctx.actor, action, r);
      return 'full';
    }
    if (await ctx.platform.policy.can(ctx.actor, 'write', r)) return 'full';
    return owner.type === 'resource' ? 'busy' : 'read';
  }

  /** What the actor sees of a collection obtained through byId/bySlug. */
  visibility(coll: CollectionRow): Visibility {
    return this.partial.get(coll) ?? 'full';
  }

  /** The same collection under another slug and name (a shared calendar mounted in someone's home). */
  mounted(coll: CollectionRow, slug: string, displayName: string): CollectionRow {
    const copy = { ...coll, slug, display_name: displayName };
    const v = this.partial.get(coll);
    if (v) this.partial.set(copy, v);
    return copy;
  }

  private seen(coll: CollectionRow, v: Visibility): CollectionRow {
    if (v !== 'full') this.partial.set(coll, v);
    return coll;
  }

  private shown(coll: CollectionRow, o: ObjectRow): ObjectRow {
    const v = this.partial.get(coll);
    return v && this.spec.redact ? this.spec.redact(o, v) : o;
  }

  /** The owner's collections (the defaults created on first access). */
  async list(ctx: StoreContext, owner: Owner): Promise<CollectionRow[]> {
    await this.authorize(ctx, owner, 'read');
    let rows = await this.rows(ctx.platform.db, owner);
    // An owner without any collection (first access, or all deleted) gets the defaults again, as clients
    // expect at least one calendar and one address book to exist.
    if (rows.length === 0) {
      await this.createDefaults(ctx.platform, owner);
      rows = await this.rows(ctx.platform.db, owner);
    }
    return rows;
  }

  private rows(db: DbOrTx, owner: Owner): Promise<CollectionRow[]> {
    return db.selectFrom(this.tc).selectAll().where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).orderBy('created_at').orderBy('slug').execute();
  }

  private async createDefaults(platform: Platform, owner: Owner): Promise<void> {
    const now = platform.clock.now();
    try {
      await platform.transaction(async (trx) => {
        for (const d of this.spec.defaults) {
          await trx
            .insertInto(this.tc)
            .values({
              id: newId(now), owner_type: owner.type, owner_id: owner.id, slug: d.slug, display_name: d.displayName, description: '', color: d.color,
              components: d.components, sync_seq: 0, props: '{}', created_at: now, updated_at: now,
            })
            .execute();
        }
      });
    } catch (e) {
      // Two first requests raced: the other one created them.
      if (uniqueViolation(e) === null) throw e;
    }
  }

  async bySlug(ctx: StoreContext, owner: Owner, slug: string): Promise<CollectionRow | null> {
    await this.list(ctx, owner);
    const row = await ctx.platform.db.selectFrom(this.tc).selectAll().where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).where('slug', '=', slug).executeTakeFirst();
    if (!row) return null;
    return this.seen(row, await this.authorize(ctx, owner, 'read', row.id));
  }

  /** A collection by id, after checking the actor may read it (404 otherwise). */
  async byId(ctx: StoreContext, id: string): Promise<CollectionRow> {
    const row = await ctx.platform.db.selectFrom(this.tc).selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) {
      if (ctx.actor.kind === 'anonymous') throw new AppError('unauthenticated');
      throw new AppError('not_found');
    }
    return this.seen(row, await this.authorize(ctx, ownerOf(row), 'read', row.id));
  }

  async create(
    ctx: StoreContext,
    owner: Owner,
    input: { slug: string; displayName: string; description?: string; color?: string; components: string; props?: Record<string, string> },
  ): Promise<CollectionRow> {
    await this.authorize(ctx, owner, 'write');
    await this.list(ctx, owner);
    const slug = checkName(input.slug);
    const now = ctx.platform.clock.now();
    const row: CollectionRow = {
      id: newId(now), owner_type: owner.type, owner_id: owner.id, slug, display_name: input.displayName.slice(0, 500), description: (input.description ?? '').slice(0, 10_000),
      color: (input.color ?? '').slice(0, 64), components: input.components, sync_seq: 0, props: JSON.stringify(input.props ?? {}), created_at: now, updated_at: now,
    };
    return ctx.platform.transaction(async (trx, emit) => {
      const n = await trx.selectFrom(this.tc).select((eb) => eb.fn.countAll<number>().as('n')).where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).executeTakeFirst();
      if (Number(n?.n ?? 0) >= MAX_COLLECTIONS) throw new AppError('conflict', { reason: 'too_many_collections' });
      try {
        await trx.insertInto(this.tc).values(row).execute();
      } catch (e) {
        if (uniqueViolation(e) !== null) throw new AppError('already_exists');
        throw e;
      }
      await emit(`${this.spec.topic}.collection.created`, { id: row.id }, audience(owner));
      return row;
    });
  }

  async update(ctx: StoreContext, coll: CollectionRow, changes: { displayName?: string; description?: string; color?: string; props?: Record<string, string | null> }): Promise<CollectionRow> {
    // Renaming or recolouring is the owner's (someone a calendar is shared with only uses it).
    await this.authorize(ctx, ownerOf(coll), 'admin', coll.id);
    return ctx.platform.transaction(async (trx, emit) => {
      const cur = await trx.selectFrom(this.tc).selectAll().where('id', '=', coll.id).executeTakeFirst();
      if (!cur) throw new AppError('not_found');
      const props = JSON.parse(cur.props) as Record<string, string>;
      for (const [k, v] of Object.entries(changes.props ?? {})) {
        if (v === null) delete props[k];
        else props[k] = v;
      }
      if (JSON.stringify(props).length > 64 * 1024) throw new AppError('payload_too_large');
      const next = {
        display_name: changes.displayName !== undefined ? changes.displayName.slice(0, 500) : cur.display_name,
        description: changes.description !== undefined ? changes.description.slice(0, 10_000) : cur.description,
        color: changes.color !== undefined ? changes.color.slice(0, 64) : cur.color,
        props: JSON.stringify(props),
        updated_at: ctx.platform.clock.now(),
      };
      await trx.updateTable(this.tc).set(next).where('id', '=', coll.id).execute();
      await emit(`${this.spec.topic}.collection.updated`, { id: coll.id }, audience(ownerOf(coll)));
      return { ...cur, ...next };
    });
  }

  async remove(ctx: StoreContext, coll: CollectionRow): Promise<void> {
    await this.authorize(ctx, ownerOf(coll), 'admin', coll.id);
    await ctx.platform.transaction(async (trx, emit) => {
      await trx.deleteFrom(this.tch).where('collection_id', '=', coll.id).execute();
      await trx.deleteFrom(this.to).where('collection_id', '=', coll.id).execute();
      await trx.deleteFrom(this.tc).where('id', '=', coll.id).execute();
      await ctx.platform.audit.record(trx, { actor: ctx.actor, action: `${this.spec.topic}.collection.deleted`, targetType: this.spec.resourceType, targetId: coll.id, details: { slug: coll.slug, name: coll.display_name } });
      await emit(`${this.spec.topic}.collection.deleted`, { id: coll.id }, audience(ownerOf(coll)));
    });
  }

  // ------------------------------------------------------------------------------------------ objects
  // Reads below take a collection the caller obtained through bySlug/byId (already authorized).

  // Someone who sees the collection partly (a read share, a resource's calendar) gets redacted objects.

  async objects(db: DbOrTx, coll: CollectionRow, range?: { from: number; to: number }): Promise<ObjectRow[]> {
    let q = db.selectFrom(this.to).selectAll().where('collection_id', '=', coll.id);
    if (range) q = q.where('range_start', '<', range.to).where('range_end', '>=', range.from);
    return (await q.orderBy('name').execute()).map((o) => this.shown(coll, o));
  }

  async object(db: DbOrTx, coll: CollectionRow, name: string): Promise<ObjectRow | null> {
    const o = await db.selectFrom(this.to).selectAll().where('collection_id', '=', coll.id).where('name', '=', name).executeTakeFirst();
    return o ? this.shown(coll, o) : null;
  }

  async objectById(db: DbOrTx, coll: CollectionRow, id: string): Promise<ObjectRow | null> {
    const o = await db.selectFrom(this.to).selectAll().where('collection_id', '=', coll.id).where('id', '=', id).executeTakeFirst();
    return o ? this.shown(coll, o) : null;
  }

  async objectsByName(db: DbOrTx, coll: CollectionRow, names: string[]): Promise<ObjectRow[]> {
    const out: ObjectRow[] = [];
    for (let i = 0; i < names.length; i += 500) {
      const part = names.slice(i, i + 500);
      if (part.length) out.push(...(await db.selectFrom(this.to).selectAll().where('collection_id', '=', coll.id).where('name', 'in', part).execute()));
    }
    return out.map((o) => this.shown(coll, o));
  }

  /** The stored object, never redacted (scheduling and the store's own checks). */
  async rawObject(db: DbOrTx, collectionId: string, name: string): Promise<ObjectRow | null> {
    return (await db.selectFrom(this.to).selectAll().where('collection_id', '=', collectionId).where('name', '=', name).executeTakeFirst()) ?? null;
  }

  /**
   * Creates or replaces the object `name` (If-Match / If-None-Match checked in the transaction). The UID
   * is unique per collection: another resource with the same UID is a conflict (CALDAV:no-uid-conflict).
   */
  async put(
    ctx: StoreContext,
    coll: CollectionRow,
    name: string,
    raw: Buffer | string,
    cond: Conditions = {},
    accept?: (p: ParsedObject) => void,
  ): Promise<{ created: boolean; row: ObjectRow; modified: boolean }> {
    await this.authorize(ctx, ownerOf(coll), 'write', coll.id);
    name = checkName(name);
    let parsed = this.spec.parse(raw);
    accept?.(parsed);
    const scheduled = ctx.schedule !== false;
    let modified = false;
    if (scheduled && this.hooks.beforePut) {
      const text = await this.hooks.beforePut(ctx, this, coll, parsed, () => this.rawObject(ctx.platform.db, coll.id, name));
      if (text !== undefined && text !== parsed.text) {
        parsed = this.spec.parse(text);
        modified = true;
      }
    }
    const now = ctx.platform.clock.now();
    let before: ObjectRow | null = null;
    const result = await ctx.platform.transaction(async (trx, emit) => {
      const cur = await this.rawObject(trx, coll.id, name);
      before = cur;
      checkConditions(cond, cur?.etag ?? null);
      const same = await trx.selectFrom(this.to).select(['name']).where('collection_id', '=', coll.id).where('uid', '=', parsed.uid).executeTakeFirst();
      if (same && same.name !== name) throw new AppError('uid_conflict', { precondition: 'no-uid-conflict', href: same.name });
      if (!cur) {
        const n = await trx.selectFrom(this.to).select((eb) => eb.fn.countAll<number>().as('n')).where('collection_id', '=', coll.id).executeTakeFirst();
        if (Number(n?.n ?? 0) >= MAX_OBJECTS_PER_COLLECTION) throw new AppError('quota_exceeded');
      }
      await this.bump(trx, coll.id, name, false, now);
      const fields = {
        uid: parsed.uid, component: parsed.component, etag: newEtag(), data: parsed.text, size: Buffer.byteLength(parsed.text), range_start: parsed.rangeStart, range_end: parsed.rangeEnd,
        recurring: parsed.recurring ? 1 : 0, summary: parsed.summary, updated_at: now,
      };
      let row: ObjectRow;
      try {
        if (cur) {
          await trx.updateTable(this.to).set(fields).where('id', '=', cur.id).execute();
          row = { ...cur, ...fields };
        } else {
          row = { id: newId(now), collection_id: coll.id, name, created_at: now, ...fields };
          await trx.insertInto(this.to).values(row).execute();
        }
      } catch (e) {
        if (uniqueViolation(e) !== null) throw new AppError('uid_conflict', { precondition: 'no-uid-conflict' });
        throw e;
      }
      await emit(`${this.spec.topic}.object.changed`, { collectionId: coll.id, id: row.id }, await this.audienceOf(trx, coll));
      return { created: !cur, row, modified };
    });
    if (scheduled && this.hooks.afterPut) await this.hooks.afterPut(ctx, this, coll, before, result.row);
    return result;
  }

  async delete(ctx: StoreContext, coll: CollectionRow, name: string, cond: Conditions = {}): Promise<void> {
    await this.authorize(ctx, ownerOf(coll), 'write', coll.id);
    const now = ctx.platform.clock.now();
    const before = await ctx.platform.transaction(async (trx, emit) => {
      const cur = await this.rawObject(trx, coll.id, name);
      if (!cur) throw new AppError('not_found');
      checkConditions(cond, cur.etag);
      await trx.deleteFrom(this.to).where('id', '=', cur.id).execute();
      await this.bump(trx, coll.id, name, true, now);
      await emit(`${this.spec.topic}.object.deleted`, { collectionId: coll.id, id: cur.id }, await this.audienceOf(trx, coll));
      return cur;
    });
    if (ctx.schedule !== false && this.hooks.afterDelete) await this.hooks.afterDelete(ctx, this, coll, before);
  }

  private async audienceOf(db: DbOrTx, coll: CollectionRow): Promise<string[]> {
    const base = audience(ownerOf(coll));
    if (!this.spec.audience) return base;
    return [...new Set([...base, ...(await this.spec.audience(db, coll.id))])];
  }

  /** Next change number of the collection (the row update serialises concurrent writers), logged for `name`. */
  private async bump(trx: Tx, collectionId: string, name: string, deleted: boolean, now: number): Promise<number> {
    const r = await trx
      .updateTable(this.tc)
      .set((eb) => ({ sync_seq: eb('sync_seq', '+', 1), updated_at: now }))
      .where('id', '=', collectionId)
      .returning('sync_seq')
      .executeTakeFirst();
    if (!r) throw new AppError('not_found');
    const seq = Number(r.sync_seq);
    // One row per resource: older entries of the same name are superseded by this one.
    await trx.deleteFrom(this.tch).where('collection_id', '=', collectionId).where('name', '=', name).execute();
    await trx.insertInto(this.tch).values({ collection_id: collectionId, seq, name, deleted: deleted ? 1 : 0, at: now }).execute();
    return seq;
  }

  /** Resources changed or deleted after `since` (RFC 6578), and the current sequence number. */
  async changesSince(db: DbOrTx, coll: CollectionRow, since: number): Promise<{ seq: number; changes: Array<{ name: string; deleted: boolean }> }> {
    const cur = await db.selectFrom(this.tc).select('sync_seq').where('id', '=', coll.id).executeTakeFirst();
    const rows = await db.selectFrom(this.tch).select(['name', 'deleted', 'seq']).where('collection_id', '=', coll.id).where('seq', '>', since).orderBy('seq').execute();
    return { seq: Number(cur?.sync_seq ?? coll.sync_seq), changes: rows.map((r) => ({ name: r.name, deleted: Number(r.deleted) === 1 })) };
  }

  async count(db: DbOrTx): Promise<{ collections: number; objects: number }> {
    const a = await db.selectFrom(this.tc).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    const b = await db.selectFrom(this.to).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    return { collections: Number(a?.n ?? 0), objects: Number(b?.n ?? 0) };
  }
}

export const ownerOf = (c: CollectionRow): Owner => ({ type: c.owner_type === 'space' ? 'space' : c.owner_type === 'resource' ? 'resource' : 'user', id: c.owner_id });
const audience = (o: Owner): string[] => (o.type === 'user' ? [o.id] : []);
