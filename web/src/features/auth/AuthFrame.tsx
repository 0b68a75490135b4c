import type { ReactNode } from 'react';
import { useI18n } from '../../app/i18n';
import { setLocalLang } from '../../app/prefs';
import { Logo } from '../../app/Shell';
import './auth.css';

/** The frame of the signed-out pages: logo, a card, and a language switch. */
export function AuthFrame({ children, wide }: { children: ReactNode; wide?: boolean }) {
  const { t, lang } = useI18n();
  return (
    <div className="auth">
      <a className="skip-link" href="#main">
        {t('shell.skipToContent')}
      </a>
      <header className="auth-brand">
        <Logo />
        <span>Bastide</span>
      </header>
      <main id="main" tabIndex={-1} className={wide ? 'auth-card auth-card-wide' : 'auth-card'}>
        {children}
      </main>
      <footer className="auth-foot">
        <nav aria-label={t('auth.languageNav')} className="row">
          <button type="button" className="btn btn-ghost btn-sm" lang="fr" aria-pressed={lang === 'fr'} onClick={() => setLocalLang('fr')}>
            Français
          </button>
          <button type="button" className="btn btn-ghost btn-sm" lang="en" aria-pressed={lang === 'en'} onClick={() => setLocalLang('en')}>
            English
          </button>
        </nav>
      </footer>
    </div>
  );
}
