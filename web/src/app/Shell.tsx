/**
 * The frame around every signed-in page: top bar (organisation, search, notifications, profile),
 * the app rail on desktop, the bottom bar on phones, and the global keyboard shortcuts.
 */
import { lazy, Suspense, useEffect, useRef, useState, type ReactNode } from 'react';
import { useI18n } from './i18n';
import { Link, navigate, usePathname } from './router';
import { appForPath, visibleApps } from './apps';
import { useMe } from './session';
import { GlobalSearch } from './Search';
import { NotificationsBell } from './Notifications';
import { MoreButtonContent, ProfileButtonContent } from './triggers';
import { Skeleton } from '../ui/States';
import './shell.css';

function isEditable(el: EventTarget | null): boolean {
  if (!(el instanceof HTMLElement)) return false;
  return el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) || el.closest('[role="combobox"],[role="menu"],[role="listbox"]') !== null;
}

const overlays = () => import('./overlays');
const ProfileMenu = lazy(() => overlays().then((m) => ({ default: m.ProfileMenu })));
const MoreMenu = lazy(() => overlays().then((m) => ({ default: m.MoreMenu })));
const ShortcutsDialog = lazy(() => overlays().then((m) => ({ default: m.ShortcutsDialog })));

export function Logo() {
  return (
    <svg className="logo" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="7" fill="var(--c-accent)" />
      <path d="M8 25V12l4-3 4 3 4-3 4 3v13h-5v-6h-6v6z" fill="#fff" />
    </svg>
  );
}

export function Shell({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  const me = useMe();
  const path = usePathname();
  const current = appForPath(path);
  const apps = visibleApps(me.isAdmin);
  const searchRef = useRef<HTMLInputElement>(null);
  const mainRef = useRef<HTMLElement>(null);
  const [shortcutsOpen, setShortcutsOpen] = useState(false);
  // A click on a trigger before the overlay code has arrived opens it as soon as it is there.
  const [profileWanted, setProfileWanted] = useState(false);
  const [moreWanted, setMoreWanted] = useState(false);

  // Keyboard: Ctrl/⌘-K search, "?" help, "g" then a letter to open an app.
  useEffect(() => {
    let pendingG = 0;
    function onKey(e: KeyboardEvent) {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        searchRef.current?.focus();
        searchRef.current?.select();
        return;
      }
      if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
      if (isEditable(e.target) || document.querySelector('.modal-overlay')) return;
      if (e.key === '?') {
        e.preventDefault();
        setShortcutsOpen(true);
        return;
      }
      const k = e.key.toLowerCase();
      if (pendingG && Date.now() - pendingG < 1500) {
        pendingG = 0;
        const app = visibleApps(me.isAdmin).find((a) => a.key === k);
        if (app) {
          e.preventDefault();
          navigate(app.path);
        }
        return;
      }
      if (k === 'g' && !e.shiftKey) pendingG = Date.now();
    }
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [me.isAdmin]);

  // On client-side navigation, move focus to the main area so keyboard and screen-reader users start there.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    if (!mainRef.current?.contains(document.activeElement) || document.activeElement === document.body) {
      mainRef.current?.focus({ preventScroll: true });
    }
  }, [path]);

  const phoneApps = apps.filter((a) => a.phone);
  const moreApps = apps.filter((a) => !a.phone);
  const moreCurrent = moreApps.some((a) => a.id === current);

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        {t('shell.skipToContent')}
      </a>
      <header className="topbar">
        <Link href="/" className="brand" aria-label={t('shell.homeLink', { org: 'Bastide' })}>
          <Logo />
          <span className="brand-name">Bastide</span>
        </Link>
        <GlobalSearch ref={searchRef} />
        <div className="topbar-actions">
          <NotificationsBell />
          <Suspense
            fallback={
              <button type="button" className="btn btn-ghost profile-btn" aria-label={t('profileMenu.button', { name: me.displayName })} aria-haspopup="menu" aria-expanded="false" onClick={() => setProfileWanted(true)}>
                <ProfileButtonContent me={me} />
              </button>
            }
          >
            <ProfileMenu onShortcuts={() => setShortcutsOpen(true)} defaultOpen={profileWanted} />
          </Suspense>
        </div>
      </header>
      <nav className="rail" aria-label={t('shell.appsNav')}>
        <ul>
          {apps.map((a) => {
            const Icon = a.icon;
            const on = a.id === current;
            return (
              <li key={a.id}>
                <Link href={a.path} className="rail-item" aria-current={on ? 'page' : undefined}>
                  <Icon size={22} aria-hidden="true" />
                  <span className="rail-label">{t(`app.${a.id}.short`)}</span>
                </Link>
              </li>
            );
          })}
        </ul>
      </nav>
      <main id="main" ref={mainRef} tabIndex={-1} className="main">
        <Suspense fallback={<div className="page"><Skeleton label={t('common.loading')} lines={6} /></div>}>{children}</Suspense>
      </main>
      <nav className="bottombar" aria-label={t('shell.appsNav')}>
        <ul>
          {phoneApps.map((a) => {
            const Icon = a.icon;
            const on = a.id === current;
            return (
              <li key={a.id}>
                <Link href={a.path} className="bottom-item" aria-current={on ? 'page' : undefined}>
                  <Icon size={22} aria-hidden="true" />
                  <span className="bottom-label">{t(`app.${a.id}.short`)}</span>
                </Link>
              </li>
            );
          })}
          <li>
            <Suspense
              fallback={
                <button type="button" className="bottom-item" aria-label={t('shell.moreApps')} aria-haspopup="menu" aria-expanded="false" data-current={moreCurrent || undefined} onClick={() => setMoreWanted(true)}>
                  <MoreButtonContent label={t('shell.more')} />
                </button>
              }
            >
              <MoreMenu apps={moreApps} current={current} defaultOpen={moreWanted} />
            </Suspense>
          </li>
        </ul>
      </nav>
      {shortcutsOpen && (
        <Suspense fallback={null}>
          <ShortcutsDialog isOpen onClose={() => setShortcutsOpen(false)} isAdmin={me.isAdmin} />
        </Suspense>
      )}
    </div>
  );
}
