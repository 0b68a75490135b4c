import {
  Home,
  Mail,
  CalendarDays,
  Contact,
  MessagesSquare,
  HardDrive,
  FileText,
  CheckSquare,
  Users,
  ShieldCheck,
  type LucideIcon,
} from 'lucide-react';

export type AppId = 'home' | 'mail' | 'calendar' | 'contacts' | 'chat' | 'drive' | 'docs' | 'tasks' | 'spaces' | 'admin';
export type PlaceholderAppId = Exclude<AppId, 'home' | 'admin' | 'drive'>;

export interface AppDef {
  id: AppId;
  path: string;
  icon: LucideIcon;
  /** The letter after "g" that opens it. */
  key: string;
  adminOnly?: boolean;
  /** Shown in the phone bottom bar (the five most used). */
  phone?: boolean;
}

export const APPS: AppDef[] = [
  { id: 'home', path: '/', icon: Home, key: 'h', phone: true },
  { id: 'mail', path: '/mail', icon: Mail, key: 'm', phone: true },
  { id: 'calendar', path: '/calendar', icon: CalendarDays, key: 'c', phone: true },
  { id: 'contacts', path: '/contacts', icon: Contact, key: 'p' },
  { id: 'chat', path: '/chat', icon: MessagesSquare, key: 't', phone: true },
  { id: 'drive', path: '/drive', icon: HardDrive, key: 'd', phone: true },
  { id: 'docs', path: '/docs', icon: FileText, key: 'o' },
  { id: 'tasks', path: '/tasks', icon: CheckSquare, key: 'k' },
  { id: 'spaces', path: '/spaces', icon: Users, key: 's' },
  { id: 'admin', path: '/admin/users', icon: ShieldCheck, key: 'a', adminOnly: true },
];

/** Apps not built yet (an honest page says so); Drive is a real app (features/drive). */
export const PLACEHOLDER_APPS: PlaceholderAppId[] = ['mail', 'docs', 'spaces'];

export function visibleApps(isAdmin: boolean): AppDef[] {
  return APPS.filter((a) => !a.adminOnly || isAdmin);
}

/** Which app a path belongs to (null for settings and unknown pages). */
export function appForPath(path: string): AppId | null {
  if (path === '/') return 'home';
  if (path.startsWith('/admin')) return 'admin';
  const hit = APPS.find((a) => a.path !== '/' && a.id !== 'admin' && (path === a.path || path.startsWith(a.path + '/')));
  return hit?.id ?? null;
}
