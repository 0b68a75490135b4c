/**
 * Device preferences used before sign-in (language, theme); once signed in, the user's saved
 * choices win and are mirrored here so the sign-in page matches after signing out.
 */
import { useSyncExternalStore } from 'react';
import type { Lang, Theme } from './types';
import { detectLang, saveLangPreference } from './i18n';

const THEME_KEY = 'bastide.theme';
const listeners = new Set<() => void>();

function readTheme(): Theme {
  try {
    const v = localStorage.getItem(THEME_KEY);
    if (v === 'light' || v === 'dark' || v === 'system') return v;
  } catch {
    /* ignore */
  }
  return 'system';
}

let state: { lang: Lang; theme: Theme } = { lang: detectLang(), theme: readTheme() };

function emit() {
  for (const l of listeners) l();
}

export function setLocalLang(lang: Lang): void {
  if (state.lang === lang) return;
  saveLangPreference(lang);
  state = { ...state, lang };
  emit();
}

export function setLocalTheme(theme: Theme): void {
  if (state.theme === theme) return;
  try {
    localStorage.setItem(THEME_KEY, theme);
  } catch {
    /* ignore */
  }
  state = { ...state, theme };
  emit();
}

export function usePrefs(): { lang: Lang; theme: Theme } {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => state,
  );
}

export function applyTheme(theme: Theme): void {
  const root = document.documentElement;
  if (theme === 'system') delete root.dataset.theme;
  else root.dataset.theme = theme;
}
