import { Type, type Static } from '@sinclair/typebox';
import { AppError } from '../../errors.js';
import type { Migration } from '../../platform/db/migrate.js';
import type { DbOrTx } from '../../platform/db/index.js';
import type { App, Platform } from '../../platform/module.js';
import { requireUser } from '../../platform/policy.js';

/**
 * A do-not-disturb schedule per person ("weekdays 19:00–08:00, Europe/Paris"): while it holds, the
 * person's presence reads `dnd` to everyone (unless they are offline), so the web app sends them no
 * browser notification and others see they are away for the night. Times are wall-clock times in the
 * person's time zone (daylight saving follows); a window whose end is before its start runs over
 * midnight and belongs to the day it starts on.
 */
declare module '../../platform/db/schema.js' {
  interface Database {
    chat_dnd: { user_id: string; enabled: number; days: string; start_min: number; end_min: number; time_zone: string; updated_at: number };
  }
}

export const dndMigrations: Migration[] = [
  {
    id: '0006_dnd',
    async up(db) {
      await db.schema
        .createTable('chat_dnd')
        .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('days', 'text', (c) => c.notNull())
        .addColumn('start_min', 'integer', (c) => c.notNull())
        .addColumn('end_min', 'integer', (c) => c.notNull())
        .addColumn('time_zone', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
];

const HHMM = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' });
export const DndView = Type.Object({
  enabled: Type.Boolean(),
  /** 0 = Sunday … 6 = Saturday: the days a window starts on. */
  days: Type.Array(Type.Integer({ minimum: 0, maximum: 6 }), { maxItems: 7, uniqueItems: true }),
  start: HHMM,
  end: HHMM,
  timeZone: Type.String({ minLength: 1, maxLength: 64 }),
  /** Whether the schedule holds right now. */
  active: Type.Boolean(),
});
export type DndViewT = Static<typeof DndView>;
const Body = Type.Object({ enabled: Type.Boolean(), days: DndView.properties.days, start: HHMM, end: HHMM, timeZone: DndView.properties.timeZone }, { additionalProperties: false });

const toMin = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const toHhmm = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Weekday (0–6) and minute of the day at `at` in `tz`. */
export function wallClock(at: number, tz: string): { day: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(at));
  const get = (t: string): string => parts.find((p) => p.type === t)?.value ?? '0';
  return { day: WEEKDAYS.indexOf(get('weekday')), minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

/** Whether a schedule holds at `at`. */
export function scheduleActive(s: { enabled: boolean; days: number[]; startMin: number; endMin: number; timeZone: string }, at: number): boolean {
  if (!s.enabled || s.days.length === 0 || s.startMin === s.endMin) return false;
  const { day, minute } = wallClock(at, s.timeZone);
  if (s.startMin < s.endMin) return s.days.includes(day) && minute >= s.startMin && minute < s.endMin;
  // Over midnight: the evening part on a listed day, or the morning part after one.
  return (s.days.includes(day) && minute >= s.startMin) || (s.days.includes((day + 6) % 7) && minute < s.endMin);
}

/** Of these people, those whose schedule holds now. */
export async function onScheduledDnd(db: DbOrTx, userIds: string[], at: number): Promise<Set<string>> {
  const out = new Set<string>();
  if (userIds.length === 0) return out;
  const rows = await db.selectFrom('chat_dnd').selectAll().where('user_id', 'in', userIds).where('enabled', '=', 1).execute();
  for (const r of rows) {
    const days = r.days ? r.days.split(',').map(Number) : [];
    if (scheduleActive({ enabled: true, days, startMin: Number(r.start_min), endMin: Number(r.end_min), timeZone: r.time_zone }, at)) out.add(r.user_id);
  }
  return out;
}

export function dndRoutes(app: App, platform: Platform): void {
  const tags = ['chat'];
  const view = (r: { enabled: number; days: string; start_min: number; end_min: number; time_zone: string } | undefined): DndViewT => {
    const days = r?.days ? r.days.split(',').map(Number) : [1, 2, 3, 4, 5];
    const s = { enabled: r?.enabled === 1, days, startMin: Number(r?.start_min ?? 19 * 60), endMin: Number(r?.end_min ?? 8 * 60), timeZone: r?.time_zone ?? 'Europe/Paris' };
    return { enabled: s.enabled, days, start: toHhmm(s.startMin), end: toHhmm(s.endMin), timeZone: s.timeZone, active: scheduleActive(s, platform.clock.now()) };
  };
  app.get('/chat/dnd', { schema: { tags, summary: 'My do-not-disturb schedule', response: { 200: Type.Object({ dnd: DndView }) } } }, async (req) => {
    const me = requireUser(req.actor);
    return { dnd: view(await platform.db.selectFrom('chat_dnd').selectAll().where('user_id', '=', me.userId).executeTakeFirst()) };
  });
  app.put<{ Body: Static<typeof Body> }>('/chat/dnd', { schema: { tags, summary: 'Set my do-not-disturb schedule', body: Body, response: { 200: Type.Object({ dnd: DndView }) } } }, async (req) => {
    const me = requireUser(req.actor);
    if (!validTimeZone(req.body.timeZone)) throw new AppError('validation_failed', { fields: [{ path: '/timeZone', message: 'an IANA time zone such as Europe/Paris' }] });
    const now = platform.clock.now();
    const row = { user_id: me.userId, enabled: req.body.enabled ? 1 : 0, days: [...new Set(req.body.days)].sort().join(','), start_min: toMin(req.body.start), end_min: toMin(req.body.end), time_zone: req.body.timeZone, updated_at: now };
    await platform.transaction(async (trx, emit) => {
      await trx
        .insertInto('chat_dnd')
        .values(row)
        .onConflict((oc) => oc.column('user_id').doUpdateSet({ enabled: row.enabled, days: row.days, start_min: row.start_min, end_min: row.end_min, time_zone: row.time_zone, updated_at: now }))
        .execute();
      await emit('chat.dnd.changed', {}, [me.userId]);
    });
    return { dnd: view(row) };
  });
}
