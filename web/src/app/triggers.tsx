/**
 * What the shell's overlay triggers show (profile, bell, "More"): shared by the plain placeholder
 * buttons rendered while the overlay code (react-aria-components) loads, and by the real triggers.
 */
import { Bell, MoreHorizontal } from 'lucide-react';
import type { Me } from './types';

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const first = parts[0]?.[0] ?? '?';
  const last = parts.length > 1 ? (parts[parts.length - 1]?.[0] ?? '') : '';
  return (first + last).toUpperCase();
}

export function ProfileButtonContent({ me }: { me: Me }) {
  return (
    <>
      {/* Initials drawn by CSS: text here would not be part of the button's accessible name. */}
      <span className="avatar avatar-css" aria-hidden="true" data-initials={initials(me.displayName || me.login)} />
      <span className="profile-name">{me.displayName}</span>
    </>
  );
}

export function MoreButtonContent({ label }: { label: string }) {
  return (
    <>
      <MoreHorizontal size={22} aria-hidden="true" />
      <span className="bottom-label" aria-hidden="true">
        {label}
      </span>
    </>
  );
}

export function BellContent({ unread, format }: { unread: number; format: (n: number) => string }) {
  return (
    <>
      <Bell size={20} aria-hidden="true" />
      {unread > 0 && (
        <span className="bell-count" aria-hidden="true">
          {unread > 99 ? '99+' : format(unread)}
        </span>
      )}
    </>
  );
}
