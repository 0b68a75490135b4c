/** A combobox that finds people in the directory (/api/directory/users?q=) and returns the one chosen. */
import { useId, useState, type KeyboardEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api, withQuery } from '../../app/api';
import { useI18n } from '../../app/i18n';
import type { DirectoryUser } from '../../app/types';
import { useDebounced } from './common';

export function UserPicker({ label, onPick, exclude, disabled }: { label: string; onPick: (u: DirectoryUser) => void; exclude: Set<string>; disabled?: boolean }) {
  const { t } = useI18n();
  const id = useId();
  const [q, setQ] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const term = useDebounced(q.trim(), 200);
  const res = useQuery({
    queryKey: ['directory', 'users', term],
    queryFn: ({ signal }) => api.get<{ items: DirectoryUser[] }>(withQuery('/api/directory/users', { q: term }), { signal }),
    enabled: term.length >= 1,
    staleTime: 30_000,
  });
  const items = (res.data?.items ?? []).filter((u) => !exclude.has(u.id)).slice(0, 10);
  const show = open && q.trim().length >= 1;
  const idx = Math.min(active, Math.max(items.length - 1, 0));

  function pick(u: DirectoryUser | undefined) {
    if (!u) return;
    onPick(u);
    setQ('');
    setOpen(false);
  }

  function onKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setOpen(true);
      setActive((i) => (items.length ? (Math.min(i, items.length - 1) + 1) % items.length : 0));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((i) => (items.length ? (Math.min(i, items.length - 1) - 1 + items.length) % items.length : 0));
    } else if (e.key === 'Enter') {
      if (show) {
        e.preventDefault();
        pick(items[idx]);
      }
    } else if (e.key === 'Escape' && show) {
      e.preventDefault();
      e.stopPropagation();
      setOpen(false);
    }
  }

  const status = term.length < 1 ? null : res.isFetching && !res.data ? t('search.searching') : res.isError ? t('search.peopleError') : items.length === 0 ? t('picker.none') : null;

  return (
    <div className="field picker">
      <label htmlFor={`${id}-input`} className="field-label">
        {label}
      </label>
      <input
        id={`${id}-input`}
        className="input"
        role="combobox"
        aria-expanded={show}
        aria-controls={`${id}-list`}
        aria-autocomplete="list"
        aria-activedescendant={show && items[idx] ? `${id}-o-${items[idx].id}` : undefined}
        aria-describedby={`${id}-help`}
        autoComplete="off"
        spellCheck={false}
        placeholder={t('picker.placeholder')}
        value={q}
        disabled={disabled}
        onChange={(e) => {
          setQ(e.target.value);
          setOpen(true);
          setActive(0);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
        onKeyDown={onKeyDown}
      />
      <p id={`${id}-help`} className="field-desc">
        {t('picker.help')}
      </p>
      <ul id={`${id}-list`} role="listbox" aria-label={t('picker.results')} className="picker-list" hidden={!show}>
        {items.map((u, i) => (
          <li
            key={u.id}
            id={`${id}-o-${u.id}`}
            role="option"
            aria-selected={i === idx}
            className="picker-option"
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => pick(u)}
            onMouseMove={() => setActive(i)}
          >
            <span>{u.displayName}</span>
            <span className="muted small">
              {u.login}
              {u.email ? ` · ${u.email}` : ''}
            </span>
          </li>
        ))}
        {status && (
          <li role="presentation" className="picker-status">
            {status}
          </li>
        )}
      </ul>
      <span className="visually-hidden" role="status">
        {show && items.length > 0 ? t('search.count', { count: items.length }) : ''}
      </span>
    </div>
  );
}
