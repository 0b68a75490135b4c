/**
 * Tasks app strings, English and French. The French object must have every English key (the type
 * makes a missing or extra key a compile error); both are spread into en.ts and fr.ts.
 */
import type { PluralForms } from './en';

export const tasksEn = {
  'tasks.title': 'Tasks',
} satisfies Record<string, string | PluralForms>;

export const tasksFr: { [K in keyof typeof tasksEn]: (typeof tasksEn)[K] extends string ? string : PluralForms } = {
  'tasks.title': 'Tâches',
};
