import { lazy, Suspense, useEffect, type ReactNode } from 'react';
import { QueryClient, QueryClientProvider, useQueryClient } from '@tanstack/react-query';
import { ApiError, setUnauthenticatedHandler } from './api';
import { I18nProvider, errorText, useI18n } from './i18n';
import { applyTheme, setLocalLang, setLocalTheme, usePrefs } from './prefs';
import { match, navigate, safeNext, useLocation, usePathname } from './router';
import { MeProvider, signedOut, useSessionQuery } from './session';
import { startRealtime, stopRealtime } from './realtime';
import { PLACEHOLDER_APPS, type PlaceholderAppId } from './apps';
import { Shell } from './Shell';
import { NotFoundPage, ForbiddenPage } from './NotFound';
import type { Me } from './types';
import { ToastProvider } from '../ui/Toast';
import { ErrorState, Skeleton } from '../ui/States';

const auth = () => import('../features/auth');
const LoginPage = lazy(() => auth().then((m) => ({ default: m.LoginPage })));
const SetupPage = lazy(() => auth().then((m) => ({ default: m.SetupPage })));
const HomePage = lazy(() => import('../features/home/HomePage'));
const PlaceholderPage = lazy(() => import('../features/placeholder/PlaceholderPage'));
const DrivePage = lazy(() => import('../features/drive/DrivePage'));
const CalendarPage = lazy(() => import('../features/calendar/CalendarPage'));
const ContactsPage = lazy(() => import('../features/contacts/ContactsPage'));
const TasksPage = lazy(() => import('../features/tasks/TasksPage'));
const ChatPage = lazy(() => import('../features/chat/ChatPage'));
const PublicLinkPage = lazy(() => import('../features/drive/PublicLinkPage'));
const settings = () => import('../features/settings');
const ProfilePage = lazy(() => settings().then((m) => ({ default: m.ProfilePage })));
const SecurityPage = lazy(() => settings().then((m) => ({ default: m.SecurityPage })));
const admin = () => import('../features/admin');
const UsersPage = lazy(() => admin().then((m) => ({ default: m.UsersPage })));
const UserDetailPage = lazy(() => admin().then((m) => ({ default: m.UserDetailPage })));
const GroupsPage = lazy(() => admin().then((m) => ({ default: m.GroupsPage })));
const GroupDetailPage = lazy(() => admin().then((m) => ({ default: m.GroupDetailPage })));
const AuditPage = lazy(() => admin().then((m) => ({ default: m.AuditPage })));

function makeClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        refetchOnWindowFocus: false,
        retry: (count, err) => {
          if (err instanceof ApiError && err.status >= 400 && err.status < 500) return false;
          return count < 2;
        },
      },
      mutations: { retry: false },
    },
  });
}

export const queryClient = makeClient();

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <Root />
    </QueryClientProvider>
  );
}

function Root() {
  const qc = useQueryClient();
  const session = useSessionQuery();
  const prefs = usePrefs();
  const user = session.data?.user ?? null;
  const lang = user?.language ?? prefs.lang;
  const theme = user?.theme ?? prefs.theme;

  useEffect(() => {
    setUnauthenticatedHandler(() => signedOut(qc));
  }, [qc]);

  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  useEffect(() => applyTheme(theme), [theme]);

  // Mirror the user's saved choices on this device, for the sign-in page after signing out.
  useEffect(() => {
    if (!user) return;
    if (user.language) setLocalLang(user.language);
    setLocalTheme(user.theme);
  }, [user]);

  const userId = user?.id;
  useEffect(() => {
    if (!userId) return;
    startRealtime(qc);
    return () => stopRealtime();
  }, [userId, qc]);

  return (
    <I18nProvider lang={lang}>
      <ToastHost>
        <Routes />
      </ToastHost>
    </I18nProvider>
  );
}

function ToastHost({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  return (
    <ToastProvider dismissLabel={t('common.dismiss')} regionLabel={t('common.notificationsRegion')}>
      {children}
    </ToastProvider>
  );
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

function BootScreen({ children }: { children: ReactNode }) {
  return (
    <main className="boot" id="main">
      <div className="auth-card-min">{children}</div>
    </main>
  );
}

function Routes() {
  const { t } = useI18n();
  const location = useLocation();
  const path = usePathname();
  const session = useSessionQuery();

  // A public link (/s/<token>): for visitors without an account, whatever the session.
  if (path.startsWith('/s/') && path.length > 3) {
    return (
      <Suspense fallback={<BootScreen><Skeleton label={t('common.loading')} lines={5} /></BootScreen>}>
        <PublicLinkPage token={path.slice(3)} />
      </Suspense>
    );
  }
  if (path === '/setup') {
    return (
      <Suspense fallback={<BootScreen><Skeleton label={t('common.loading')} lines={5} /></BootScreen>}>
        <SetupPage />
      </Suspense>
    );
  }
  if (session.isPending) {
    return (
      <BootScreen>
        <Skeleton label={t('common.loading')} lines={5} />
      </BootScreen>
    );
  }
  if (session.isError) {
    return (
      <BootScreen>
        <ErrorState title={t('boot.error')} message={errorText(t, session.error)} retryLabel={t('common.retry')} onRetry={() => void session.refetch()} />
      </BootScreen>
    );
  }
  const me = session.data?.user ?? null;
  if (path === '/login') {
    if (me) return <Redirect to={safeNext(new URLSearchParams(location.split('?')[1] ?? '').get('next'))} />;
    return (
      <Suspense fallback={<BootScreen><Skeleton label={t('common.loading')} lines={5} /></BootScreen>}>
        <LoginPage />
      </Suspense>
    );
  }
  if (!me) {
    return <Redirect to={path === '/' ? '/login' : `/login?next=${encodeURIComponent(location)}`} />;
  }
  return (
    <MeProvider me={me}>
      <Shell>
        <SignedInPage path={path} me={me} />
      </Shell>
    </MeProvider>
  );
}

function SignedInPage({ path, me }: { path: string; me: Me }) {
  if (path === '/') return <HomePage />;
  if (path === '/drive') return <DrivePage />;
  if (path === '/calendar') return <CalendarPage />;
  if (path === '/contacts') return <ContactsPage />;
  if (path === '/tasks') return <TasksPage />;
  if (path === '/chat' || path.startsWith('/chat/')) return <ChatPage />;
  const app = path.slice(1);
  if ((PLACEHOLDER_APPS as string[]).includes(app)) return <PlaceholderPage key={app} app={app as PlaceholderAppId} />;
  if (path === '/settings/profile') return <ProfilePage />;
  if (path === '/settings/security') return <SecurityPage />;
  if (path === '/settings') return <Redirect to="/settings/profile" />;
  if (path === '/admin' || path.startsWith('/admin/')) {
    if (!me.isAdmin) return <ForbiddenPage />;
    if (path === '/admin') return <Redirect to="/admin/users" />;
    if (path === '/admin/users') return <UsersPage />;
    if (path === '/admin/groups') return <GroupsPage />;
    if (path === '/admin/audit') return <AuditPage />;
    const u = match('/admin/users/:id', path);
    if (u?.id) return <UserDetailPage key={u.id} id={u.id} />;
    const g = match('/admin/groups/:id', path);
    if (g?.id) return <GroupDetailPage key={g.id} id={g.id} />;
  }
  return <NotFoundPage />;
}
