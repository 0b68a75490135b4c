/**
 * A tiny client-side router on the History API: a location store, navigate(), <Link>, and a
 * pattern matcher for paths like "/admin/users/:id".
 */
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

type Listener = () => void;
const listeners = new Set<Listener>();
let current = readLocation();

function readLocation(): string {
  return window.location.pathname + window.location.search;
}

function emit(): void {
  current = readLocation();
  for (const l of listeners) l();
}

window.addEventListener('popstate', emit);

function subscribe(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === readLocation()) return;
  if (opts.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  emit();
  if (!opts.replace) window.scrollTo(0, 0);
}

/** The current path + search string, e.g. "/setup?token=abc". */
export function useLocation(): string {
  return useSyncExternalStore(subscribe, () => current);
}

export function usePathname(): string {
  return useLocation().split('?')[0] ?? '/';
}

export function useSearchParams(): URLSearchParams {
  return new URLSearchParams(useLocation().split('?')[1] ?? '');
}

/** Matches "/admin/users/:id" against a path; returns the params or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const seg = p[i] as string;
    const val = s[i] as string;
    if (seg.startsWith(':')) params[seg.slice(1)] = decodeURIComponent(val);
    else if (seg !== val) return null;
  }
  return params;
}

export type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { href: string; replace?: boolean };

export function Link({ href, replace, onClick, target, ...rest }: LinkProps) {
  function handle(e: MouseEvent<HTMLAnchorElement>) {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    if (target && target !== '_self') return;
    e.preventDefault();
    navigate(href, { replace });
  }
  return <a href={href} target={target} onClick={handle} {...rest} />;
}

/** Only same-origin, path-only targets are followed after sign-in. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  if (next.startsWith('/login') || next.startsWith('/setup')) return '/';
  return next;
}
