/**
 * The signed-in user: GET /api/session through TanStack Query (key ['session']); null when signed out.
 * The CSRF token it returns is kept in memory by the API client.
 */
import { createContext, useContext, type ReactNode } from 'react';
import { useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { api, ApiError, setCsrfToken } from './api';
import type { Me, SessionInfo } from './types';
import { navigate } from './router';
import { stopRealtime } from './realtime';

export const SESSION_KEY = ['session'] as const;

export async function fetchSession(): Promise<SessionInfo | null> {
  try {
    const s = await api.get<SessionInfo>('/api/session', { quiet401: true });
    setCsrfToken(s.csrfToken);
    return s;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      setCsrfToken(null);
      return null;
    }
    throw e;
  }
}

export function useSessionQuery() {
  return useQuery({ queryKey: SESSION_KEY, queryFn: fetchSession, staleTime: 5 * 60_000, retry: 1 });
}

/** After a successful login or setup: load the session (and its CSRF token) before going on. */
export async function afterSignIn(qc: QueryClient): Promise<void> {
  await qc.fetchQuery({ queryKey: SESSION_KEY, queryFn: fetchSession, staleTime: 0 });
}

export function signedOut(qc: QueryClient): void {
  stopRealtime();
  setCsrfToken(null);
  qc.cancelQueries();
  qc.removeQueries({ predicate: (q) => q.queryKey[0] !== 'session' });
  qc.setQueryData(SESSION_KEY, null);
}

export function useSignOut() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api.post<void>('/api/auth/logout'),
    onSettled: () => {
      signedOut(qc);
      navigate('/login', { replace: true });
    },
  });
}

const MeContext = createContext<Me | null>(null);

export function MeProvider({ me, children }: { me: Me; children: ReactNode }) {
  return <MeContext.Provider value={me}>{children}</MeContext.Provider>;
}

/** The current user; only inside the signed-in shell. */
export function useMe(): Me {
  const me = useContext(MeContext);
  if (!me) throw new Error('useMe outside the signed-in shell');
  return me;
}

/** PATCH /api/me with an optimistic update of the session. */
export function useUpdateMe() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (patch: Partial<Pick<Me, 'displayName' | 'email' | 'language' | 'theme'>>) =>
      api.patch<{ user: Me }>('/api/me', patch),
    onMutate: async (patch) => {
      await qc.cancelQueries({ queryKey: SESSION_KEY });
      const prev = qc.getQueryData<SessionInfo | null>(SESSION_KEY);
      if (prev) qc.setQueryData<SessionInfo>(SESSION_KEY, { ...prev, user: { ...prev.user, ...patch } });
      return { prev };
    },
    onError: (_e, _patch, ctx) => {
      if (ctx?.prev) qc.setQueryData(SESSION_KEY, ctx.prev);
    },
    onSuccess: ({ user }) => {
      const prev = qc.getQueryData<SessionInfo | null>(SESSION_KEY);
      if (prev) qc.setQueryData<SessionInfo>(SESSION_KEY, { ...prev, user });
    },
  });
}
