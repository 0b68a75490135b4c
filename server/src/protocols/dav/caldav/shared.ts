import { AppError } from '../../../errors.js';
import { SHARED_PREFIX, sharedWith } from '../../../modules/calendar/sharing.js';
import type { CollectionRow } from '../../../modules/calendar/store.js';
import type { DavCtx } from './context.js';

/**
 * Calendars shared with a user, as CalDAV clients see them: mounted in the sharee's own home as
 * `/dav/calendars/<sharee>/shared-<calendar id>/` (what Nextcloud and SOGo do, which every client
 * understands without calendar-proxy or CalendarServer sharing support). The same mount works for a
 * resource's calendar (busy time only). Reads and writes go to the owner's calendar within the share.
 */
const MOUNT = new RegExp(`^${SHARED_PREFIX}([0-9A-Z]{26})$`);

async function nameOf(d: DavCtx, c: CollectionRow): Promise<string> {
  if (c.owner_type !== 'user') return c.display_name;
  const u = await d.platform.db.selectFrom('users').select('display_name').where('id', '=', c.owner_id).executeTakeFirst();
  return u ? `${c.display_name} (${u.display_name})` : c.display_name;
}

/** The calendar a mount slug of the caller's own home designates (null: not a mount, or not theirs to see). */
export async function mountedCollection(d: DavCtx, slug: string): Promise<CollectionRow | null> {
  if (d.kind.name !== 'calendar' || d.owner.type !== 'user' || d.owner.id !== d.actor.userId) return null;
  const m = MOUNT.exec(slug);
  if (!m) return null;
  let row: CollectionRow;
  try {
    row = await d.kind.store.byId(d.ctx, m[1]!);
  } catch (e) {
    if (e instanceof AppError && e.code === 'not_found') return null;
    throw e;
  }
  if (row.owner_type === 'user' && row.owner_id === d.actor.userId) return null;
  return d.kind.store.mounted(row, slug, await nameOf(d, row));
}

/** Every calendar shared with the caller, mounted (for the listing of their home). */
export async function mountsOf(d: DavCtx): Promise<CollectionRow[]> {
  if (d.kind.name !== 'calendar' || d.owner.type !== 'user' || d.owner.id !== d.actor.userId) return [];
  const out: CollectionRow[] = [];
  for (const s of await sharedWith(d.platform.db, d.actor.userId)) {
    const c = await mountedCollection(d, `${SHARED_PREFIX}${s.coll.id}`);
    if (c) out.push(c);
  }
  return out;
}
