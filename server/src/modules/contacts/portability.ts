import type { ExportFile, Platform } from '../../platform/module.js';
import { contactsStore } from './books.js';
import { importVcards } from './routes.js';

/** Reversibility: each address book as contacts/<slug>.vcf (vCards as stored), imported back into new books. */
export const contactsPortability = {
  async export(platform: Platform, userId: string): Promise<ExportFile[]> {
    const ctx = { platform, actor: { kind: 'system' } as const };
    const files: ExportFile[] = [];
    for (const c of await contactsStore.list(ctx, { type: 'user', id: userId })) {
      const objects = await contactsStore.objects(platform.db, c);
      files.push({ path: `contacts/${c.slug.replace(/[^A-Za-z0-9._-]/g, '_')}.vcf`, content: objects.map((o) => o.data.replace(/\r?\n$/, '') + '\r\n').join('') });
    }
    return files;
  },
  async import(platform: Platform, userId: string, files: ExportFile[]): Promise<{ imported: number }> {
    const ctx = { platform, actor: { kind: 'system' } as const };
    const owner = { type: 'user' as const, id: userId };
    const existing = new Set((await contactsStore.list(ctx, owner)).map((c) => c.slug));
    let imported = 0;
    for (const f of files.filter((x) => x.path.endsWith('.vcf'))) {
      const base = f.path.slice('contacts/'.length, -4) || 'imported';
      let slug = base;
      for (let i = 2; existing.has(slug); i++) slug = `${base}-${i}`;
      existing.add(slug);
      const coll = await contactsStore.create(ctx, owner, { slug, displayName: base, components: '' });
      imported += (await importVcards(ctx, coll, f.content.toString())).imported;
    }
    return { imported };
  },
};
