import { useEffect, useState } from 'react';
import { ChevronLeft, ChevronRight } from 'lucide-react';
import { useI18n } from '../../app/i18n';
import { Link, usePathname } from '../../app/router';
import { Button } from '../../ui/Button';
import './admin.css';

export function AdminNav() {
  const { t } = useI18n();
  const path = usePathname();
  const items = [
    { href: '/admin/users', label: t('admin.users.title') },
    { href: '/admin/groups', label: t('admin.groups.title') },
    { href: '/admin/audit', label: t('admin.audit.title') },
  ];
  return (
    <nav className="subnav" aria-label={t('admin.nav')}>
      {items.map((i) => (
        <Link key={i.href} href={i.href} className="subnav-item" aria-current={path === i.href || path.startsWith(i.href + '/') ? 'page' : undefined}>
          {i.label}
        </Link>
      ))}
    </nav>
  );
}

export function useDebounced<T>(value: T, ms = 250): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const h = window.setTimeout(() => setV(value), ms);
    return () => window.clearTimeout(h);
  }, [value, ms]);
  return v;
}

/** Cursor paging: a stack of the cursors that led to the current page. */
export function useCursorPaging() {
  const [stack, setStack] = useState<(string | null)[]>([null]);
  const cursor = stack[stack.length - 1] ?? null;
  return {
    cursor,
    page: stack.length,
    next: (c: string) => setStack((s) => [...s, c]),
    prev: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
    reset: () => setStack([null]),
  };
}

export function Pager({ page, hasPrev, nextCursor, onPrev, onNext, prevLabel, nextLabel }: { page: number; hasPrev: boolean; nextCursor: string | null | undefined; onPrev: () => void; onNext: (c: string) => void; prevLabel?: string; nextLabel?: string }) {
  const { t } = useI18n();
  if (!hasPrev && !nextCursor) return null;
  return (
    <nav className="pager" aria-label={t('pager.label')}>
      <span className="muted small" aria-live="polite">
        {t('pager.page', { page })}
      </span>
      <Button size="sm" icon={<ChevronLeft size={16} aria-hidden="true" />} disabled={!hasPrev} onClick={onPrev}>
        {prevLabel ?? t('pager.prev')}
      </Button>
      <Button size="sm" disabled={!nextCursor} onClick={() => nextCursor && onNext(nextCursor)}>
        {nextLabel ?? t('pager.next')}
        <ChevronRight size={16} aria-hidden="true" />
      </Button>
    </nav>
  );
}
