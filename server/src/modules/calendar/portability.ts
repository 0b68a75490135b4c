import { AppError } from '../../errors.js';
import type { ExportFile, Platform } from '../../platform/module.js';
import { mergeCalendars } from './bundle.js';
import { calendarStore } from './calendars.js';
import { importCalendar } from './routes.js';

/**
 * Reversibility: each calendar as calendar/<slug>.ics (every object, overrides, alarms and attendees
 * included) plus calendar/calendars.json (names, colours, components); imported back into new
 * calendars (an existing slug gets a suffix), so nothing already there is overwritten.
 */
interface Meta {
  slug: string;
  name: string;
  description: string;
  color: string;
  components: string;
  file: string;
}

export const calendarPortability = {
  async export(platform: Platform, userId: string): Promise<ExportFile[]> {
    const ctx = { platform, actor: { kind: 'system' } as const };
    const owner = { type: 'user' as const, id: userId };
    const files: ExportFile[] = [];
    const meta: Meta[] = [];
    for (const c of await calendarStore.list(ctx, owner)) {
      const objects = await calendarStore.objects(platform.db, c);
      const file = `calendar/${c.slug.replace(/[^A-Za-z0-9._-]/g, '_')}.ics`;
      files.push({ path: file, content: mergeCalendars(objects.map((o) => o.data), c.display_name) });
      meta.push({ slug: c.slug, name: c.display_name, description: c.description, color: c.color, components: c.components, file });
    }
    files.push({ path: 'calendar/calendars.json', content: JSON.stringify(meta, null, 2) });
    return files;
  },

  async import(platform: Platform, userId: string, files: ExportFile[]): Promise<{ imported: number }> {
    // Restoring an archive brings events back; it does not invite their attendees again.
    const ctx = { platform, actor: { kind: 'system' } as const, schedule: false };
    const owner = { type: 'user' as const, id: userId };
    let meta: Meta[] = [];
    const metaFile = files.find((f) => f.path === 'calendar/calendars.json');
    if (metaFile) {
      try {
        meta = JSON.parse(metaFile.content.toString()) as Meta[];
        if (!Array.isArray(meta)) throw new Error('not an array');
      } catch {
        throw new AppError('bad_request', { reason: 'calendar/calendars.json is not valid' });
      }
    }
    const existing = new Set((await calendarStore.list(ctx, owner)).map((c) => c.slug));
    let imported = 0;
    for (const f of files.filter((x) => x.path.endsWith('.ics'))) {
      const m = meta.find((x) => x.file === f.path);
      const base = (m?.slug ?? f.path.slice('calendar/'.length, -4)) || 'imported';
      let slug = base;
      for (let i = 2; existing.has(slug); i++) slug = `${base}-${i}`;
      existing.add(slug);
      const components = m?.components && /^(VEVENT|VTODO|VJOURNAL)(,(VEVENT|VTODO|VJOURNAL))*$/.test(m.components) ? m.components : 'VEVENT,VTODO';
      const coll = await calendarStore.create(ctx, owner, { slug, displayName: m?.name ?? slug, description: m?.description ?? '', color: m?.color ?? '', components });
      const text = f.content.toString();
      if (text.trim() === '') continue;
      const r = await importCalendar(ctx, coll, text);
      imported += r.imported;
    }
    return { imported };
  },
};
