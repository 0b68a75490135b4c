/**
 * Chat app strings, English and French. The French object must have every English key (the type
 * makes a missing or extra key a compile error); both are spread into en.ts and fr.ts.
 */
import type { PluralForms } from './en';

export const chatEn = {
  'chat.title': 'Chat',
} satisfies Record<string, string | PluralForms>;

export const chatFr: { [K in keyof typeof chatEn]: (typeof chatEn)[K] extends string ? string : PluralForms } = {
  'chat.title': 'Discussions',
};
