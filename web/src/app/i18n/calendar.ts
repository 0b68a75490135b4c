/**
 * Calendar app strings, English and French. The French object must have every English key (the type
 * makes a missing or extra key a compile error); both are spread into en.ts and fr.ts.
 */
import type { PluralForms } from './en';

export const calendarEn = {
  'calendar.title': 'Calendar',
} satisfies Record<string, string | PluralForms>;

export const calendarFr: { [K in keyof typeof calendarEn]: (typeof calendarEn)[K] extends string ? string : PluralForms } = {
  'calendar.title': 'Agenda',
};
