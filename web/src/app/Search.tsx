/**
 * The unified search (Ctrl/⌘-K): for now, people from the directory and the apps. It says plainly
 * that files, mail and messages are not searchable yet.
 */
import { forwardRef, useEffect, useId, useMemo, useState, useSyncExternalStore, type KeyboardEvent, type ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Search as SearchIcon, User } from 'lucide-react';
import { api, withQuery } from './api';
import { useI18n } from './i18n';
import { navigate } from './router';
import { visibleApps } from './apps';
import { useMe } from './session';
import type { DirectoryUser } from './types';
import { copyText } from '../ui/Copy';
import { useToast } from '../ui/Toast';
import { Spinner } from '../ui/Spinner';

interface Option {
  id: string;
  kind: 'app' | 'person';
  label: string;
  sub?: string;
  run: () => void;
  icon: ReactNode;
}

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const h = window.setTimeout(() => setV(value), ms);
    return () => window.clearTimeout(h);
  }, [value, ms]);
  return v;
}

const PHONE = '(max-width: 640px)';
function subscribePhone(cb: () => void): () => void {
  const mq = window.matchMedia(PHONE);
  mq.addEventListener('change', cb);
  return () => mq.removeEventListener('change', cb);
}
function useIsPhone(): boolean {
  return useSyncExternalStore(subscribePhone, () => window.matchMedia(PHONE).matches);
}

function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

export const GlobalSearch = forwardRef<HTMLInputElement>(function GlobalSearch(_props, ref) {
  const { t } = useI18n();
  const me = useMe();
  const toast = useToast();
  const [q, setQ] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const id = useId();
  const listId = `${id}-list`;
  const debounced = useDebounced(q.trim(), 200);
  const isMac = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
  const isPhone = useIsPhone();

  const people = useQuery({
    queryKey: ['directory', 'users', debounced],
    queryFn: ({ signal }) => api.get<{ items: DirectoryUser[] }>(withQuery('/api/directory/users', { q: debounced }), { signal }),
    enabled: open && debounced.length >= 2,
    staleTime: 30_000,
  });

  const options = useMemo<Option[]>(() => {
    const term = fold(q.trim());
    if (!term) return [];
    const apps: Option[] = visibleApps(me.isAdmin)
      .filter((a) => fold(t(`app.${a.id}`)).includes(term) || a.id.includes(term))
      .map((a) => {
        const Icon = a.icon;
        return {
          id: `app-${a.id}`,
          kind: 'app',
          label: t(`app.${a.id}`),
          run: () => navigate(a.path),
          icon: <Icon size={18} aria-hidden="true" />,
        };
      });
    const persons: Option[] = (debounced.length >= 2 ? (people.data?.items ?? []) : []).slice(0, 8).map((u) => ({
      id: `user-${u.id}`,
      kind: 'person',
      label: u.displayName,
      sub: u.email || u.login,
      icon: <User size={18} aria-hidden="true" />,
      run: () => {
        if (me.isAdmin) navigate(`/admin/users/${encodeURIComponent(u.id)}`);
        else if (u.email) {
          const email = u.email;
          void copyText(email).then((ok) => ok && toast(t('search.emailCopied', { email }), 'success'));
        }
      },
    }));
    return [...apps, ...persons];
  }, [q, debounced, people.data, me.isAdmin, t, toast]);

  const activeIndex = Math.min(active, Math.max(options.length - 1, 0));
  const showPopup = open && q.trim().length > 0;

  function choose(o: Option | undefined) {
    if (!o) return;
    o.run();
    setOpen(false);
    setQ('');
  }

  function onKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setOpen(true);
      setActive((i) => (options.length ? (Math.min(i, options.length - 1) + 1) % options.length : 0));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((i) => (options.length ? (Math.min(i, options.length - 1) - 1 + options.length) % options.length : 0));
    } else if (e.key === 'Enter') {
      if (showPopup) {
        e.preventDefault();
        choose(options[activeIndex]);
      }
    } else if (e.key === 'Escape') {
      if (showPopup) {
        e.preventDefault();
        e.stopPropagation();
        setOpen(false);
      } else if (q) {
        setQ('');
      } else {
        (e.target as HTMLInputElement).blur();
      }
    }
  }

  const apps = options.filter((o) => o.kind === 'app');
  const persons = options.filter((o) => o.kind === 'person');
  const activeId = showPopup && options[activeIndex] ? `${id}-${options[activeIndex].id}` : undefined;
  const searchingPeople = debounced.length >= 2 && people.isFetching;

  const renderOption = (o: Option) => {
    const i = options.indexOf(o);
    return (
      <li
        key={o.id}
        id={`${id}-${o.id}`}
        role="option"
        aria-selected={i === activeIndex}
        className="search-option"
        onMouseDown={(e) => e.preventDefault()}
        onClick={() => choose(o)}
        onMouseMove={() => setActive(i)}
      >
        <span className="search-option-icon">{o.icon}</span>
        <span className="search-option-text">
          <span>{o.label}</span>
          {o.sub && <span className="muted small">{o.sub}</span>}
        </span>
      </li>
    );
  };

  return (
    <div className="search" role="search" aria-label={t('search.landmark')}>
      <SearchIcon size={16} className="search-icon" aria-hidden="true" />
      <input
        ref={ref}
        id="global-search"
        type="search"
        className="search-input"
        role="combobox"
        aria-label={t('search.label')}
        aria-expanded={showPopup}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={activeId}
        aria-describedby={`${id}-hint`}
        placeholder={isPhone ? t('search.placeholderShort') : t('search.placeholder')}
        autoComplete="off"
        spellCheck={false}
        value={q}
        onChange={(e) => {
          setQ(e.target.value);
          setOpen(true);
          setActive(0);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
        onKeyDown={onKeyDown}
      />
      <kbd className="search-kbd" aria-hidden="true">
        {isMac ? '⌘ K' : 'Ctrl K'}
      </kbd>
      <span id={`${id}-hint`} className="visually-hidden">
        {t('search.hint')}
      </span>
      <div className="search-popup" hidden={!showPopup}>
        <ul id={listId} role="listbox" aria-label={t('search.results')} className="search-list">
          {apps.length > 0 && (
            <li role="presentation" className="search-group">
              {t('search.apps')}
            </li>
          )}
          {apps.map(renderOption)}
          {persons.length > 0 && (
            <li role="presentation" className="search-group">
              {t('search.people')}
            </li>
          )}
          {persons.map(renderOption)}
        </ul>
        <div className="search-status" role="status">
          {searchingPeople ? (
            <span className="row">
              <Spinner /> {t('search.searching')}
            </span>
          ) : people.isError && debounced.length >= 2 ? (
            t('search.peopleError')
          ) : options.length === 0 ? (
            t('search.noResults', { q: q.trim() })
          ) : (
            t('search.count', { count: options.length })
          )}
        </div>
        <p className="search-note">{t('search.notYet')}</p>
      </div>
    </div>
  );
});
