/** Shapes from docs/api.md. Times are UTC milliseconds. */
export type Lang = 'fr' | 'en';
export type Theme = 'system' | 'light' | 'dark';

export interface Me {
  id: string;
  login: string;
  displayName: string;
  /** null for accounts created without one (e.g. by the command line). */
  email: string | null;
  language: Lang | null;
  theme: Theme;
  isAdmin: boolean;
  totpEnabled: boolean;
  recoveryCodesLeft: number;
  createdAt: number;
}

export interface SessionInfo {
  user: Me;
  csrfToken: string;
}

export type LoginAnswer = { status: 'ok'; user: Me } | { status: 'mfa_required'; mfaToken: string };

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type AppPasswordScope = 'dav' | 'mail' | 'api';

export interface AppPassword {
  id: string;
  name: string;
  scopes: AppPasswordScope[];
  createdAt: number;
  lastUsedAt: number | null;
}

export interface ApiToken {
  id: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  expiresAt: number | null;
}

export interface SessionItem {
  id: string;
  createdAt: number;
  lastSeenAt: number;
  userAgent: string | null;
  ip: string | null;
  current: boolean;
}

export interface TotpSetup {
  secret: string;
  otpauthUrl: string;
  qrSvg: string;
}

export interface AdminUser {
  id: string;
  login: string;
  displayName: string;
  /** null for accounts created without one (e.g. by the command line). */
  email: string | null;
  isAdmin: boolean;
  disabled: boolean;
  totpEnabled: boolean;
  createdAt: number;
  lastLoginAt: number | null;
}

export interface Group {
  id: string;
  name: string;
  description: string;
  memberCount: number;
  createdAt: number;
}

export interface GroupMember {
  id: string;
  login: string;
  displayName: string;
}

export interface AuditEntry {
  seq: number;
  at: number;
  actorId: string | null;
  actorLogin: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  details: unknown;
}

export interface AuditVerify {
  ok: boolean;
  count: number;
  brokenAt: number | null;
}

export interface DirectoryUser {
  id: string;
  login: string;
  displayName: string;
  /** null for accounts created without one (e.g. by the command line). */
  email: string | null;
}

export interface Notification {
  id: string;
  type: string;
  title: string;
  body: string;
  link: string | null;
  createdAt: number;
  readAt: number | null;
}

export interface NotificationList {
  items: Notification[];
  unread: number;
}
