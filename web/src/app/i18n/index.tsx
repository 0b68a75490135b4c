/**
 * A tiny i18n: two complete dictionaries (the type forces French to have every English key),
 * {name} interpolation, plurals through Intl.PluralRules, and Intl formatters in the user's locale.
 */
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { MessageKey, Messages, PluralForms } from './en';
import type { Lang } from '../types';
import { ApiError } from '../api';

export type { MessageKey } from './en';

// Each dictionary is its own chunk: a user downloads only the language they read.
const loaders: Record<Lang, () => Promise<Messages>> = {
  en: () => import('./en').then((m) => m.en),
  fr: () => import('./fr').then((m) => m.fr),
};
const dicts: Partial<Record<Lang, Messages>> = {};
const pending: Partial<Record<Lang, Promise<Messages>>> = {};

export function loadDict(lang: Lang): Promise<Messages> {
  const have = dicts[lang];
  if (have) return Promise.resolve(have);
  pending[lang] ??= loaders[lang]().then((d) => {
    dicts[lang] = d;
    return d;
  });
  return pending[lang];
}

function anyDict(): Messages | undefined {
  return dicts.en ?? dicts.fr;
}
const PREF_KEY = 'bastide.lang';

export type Vars = Record<string, string | number>;
export type TFunction = (key: MessageKey, vars?: Vars) => string;

export function isLang(v: unknown): v is Lang {
  return v === 'fr' || v === 'en';
}

/** Language before sign-in: the one chosen on this device, else French for French browsers, else English. */
export function detectLang(): Lang {
  try {
    const saved = localStorage.getItem(PREF_KEY);
    if (isLang(saved)) return saved;
  } catch {
    /* storage may be unavailable */
  }
  return (navigator.language || 'en').toLowerCase().startsWith('fr') ? 'fr' : 'en';
}

export function saveLangPreference(lang: Lang): void {
  try {
    localStorage.setItem(PREF_KEY, lang);
  } catch {
    /* ignore */
  }
}

/** The BCP 47 locale for Intl: the browser's regional variant when it matches the language. */
export function localeFor(lang: Lang): string {
  const nav = navigator.languages?.length ? navigator.languages : [navigator.language];
  const hit = nav.find((l) => l && l.toLowerCase().startsWith(lang));
  return hit ?? (lang === 'fr' ? 'fr-FR' : 'en-GB');
}

/** Whether a key exists (both dictionaries have the same keys). */
export function hasKey(key: string): key is MessageKey {
  const d = anyDict();
  return d !== undefined && Object.prototype.hasOwnProperty.call(d, key);
}

function makeT(dict: Messages, locale: string): TFunction {
  const rules = new Intl.PluralRules(locale);
  const nf = new Intl.NumberFormat(locale);
  return (key, vars) => {
    const m: string | PluralForms = dict[key];
    let s: string;
    if (typeof m === 'string') s = m;
    else {
      const n = Number(vars?.count ?? 0);
      const cat = rules.select(n) as keyof PluralForms;
      s = m[cat] ?? m.other;
    }
    if (!vars) return s;
    return s.replace(/\{(\w+)\}/g, (whole, name: string) => {
      const v = vars[name];
      if (v === undefined) return whole;
      return typeof v === 'number' ? nf.format(v) : v;
    });
  };
}

export interface Formatters {
  date: (ms: number) => string;
  dateLong: (ms: number) => string;
  dateTime: (ms: number) => string;
  time: (ms: number) => string;
  relative: (ms: number) => string;
  number: (n: number) => string;
  size: (bytes: number) => string;
}

function makeFormatters(locale: string): Formatters {
  const d = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' });
  const dl = new Intl.DateTimeFormat(locale, { dateStyle: 'full' });
  const dt = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
  const tm = new Intl.DateTimeFormat(locale, { timeStyle: 'short' });
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const nf = new Intl.NumberFormat(locale);
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ['year', 365 * 86400e3],
    ['month', 30 * 86400e3],
    ['week', 7 * 86400e3],
    ['day', 86400e3],
    ['hour', 3600e3],
    ['minute', 60e3],
  ];
  const sizeUnits = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'] as const;
  return {
    date: (ms) => d.format(ms),
    dateLong: (ms) => dl.format(ms),
    dateTime: (ms) => dt.format(ms),
    time: (ms) => tm.format(ms),
    relative: (ms) => {
      const diff = ms - Date.now();
      for (const [unit, size] of units) {
        if (Math.abs(diff) >= size) return rtf.format(Math.round(diff / size), unit);
      }
      return rtf.format(Math.round(diff / 1000 / 60) || 0, 'minute');
    },
    number: (n) => nf.format(n),
    size: (bytes) => {
      let v = bytes;
      let i = 0;
      while (v >= 1000 && i < sizeUnits.length - 1) {
        v /= 1000;
        i++;
      }
      return new Intl.NumberFormat(locale, {
        style: 'unit',
        unit: sizeUnits[i],
        // "15 bytes" / "15 octets" (the short form would say "15 byte"), then "1.5 kB" / "1,5 ko".
        unitDisplay: i === 0 ? 'long' : 'short',
        maximumFractionDigits: i === 0 ? 0 : 1,
      }).format(v);
    },
  };
}

export interface I18n {
  lang: Lang;
  locale: string;
  t: TFunction;
  fmt: Formatters;
}

const I18nContext = createContext<I18n | null>(null);

/**
 * Provides the wanted language once its dictionary is loaded; until then (a switch of language),
 * the previous one stays on screen. main.tsx loads the first dictionary before the first render.
 */
export function I18nProvider({ lang, children }: { lang: Lang; children: ReactNode }) {
  const [, setLoaded] = useState(0);
  const ready = dicts[lang] !== undefined;
  useEffect(() => {
    if (ready) return;
    let alive = true;
    void loadDict(lang).then(() => alive && setLoaded((n) => n + 1));
    return () => {
      alive = false;
    };
  }, [lang, ready]);
  const shown: Lang = ready ? lang : dicts.en ? 'en' : 'fr';
  const dict = dicts[shown];
  const value = useMemo<I18n | null>(() => {
    if (!dict) return null;
    const locale = localeFor(shown);
    return { lang: shown, locale, t: makeT(dict, locale), fmt: makeFormatters(locale) };
  }, [shown, dict]);
  if (!value) return null;
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(I18nContext);
  if (!v) throw new Error('useI18n outside I18nProvider');
  return v;
}

export function useT(): TFunction {
  return useI18n().t;
}

/** A translated, user-safe sentence for any error (API codes, network, unknown). */
export function errorText(t: TFunction, err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'too_many_attempts') {
      const s = Number(err.details.retryAfterSeconds);
      if (Number.isFinite(s) && s > 0) {
        return s >= 90
          ? t('error.too_many_attempts_minutes', { count: Math.ceil(s / 60) })
          : t('error.too_many_attempts_seconds', { count: Math.ceil(s) });
      }
    }
    const key = `error.${err.code}`;
    if (hasKey(key)) return t(key);
    if (err.status >= 500) return t('error.internal');
  }
  return t('error.generic');
}
