/**
 * Contacts app strings, English and French. The French object must have every English key (the type
 * makes a missing or extra key a compile error); both are spread into en.ts and fr.ts.
 */
import type { PluralForms } from './en';

export const contactsEn = {
  'contacts.title': 'Contacts',
} satisfies Record<string, string | PluralForms>;

export const contactsFr: { [K in keyof typeof contactsEn]: (typeof contactsEn)[K] extends string ? string : PluralForms } = {
  'contacts.title': 'Contacts',
};
