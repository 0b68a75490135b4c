import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import './ui/tokens.css';
import './ui/base.css';
import { App, queryClient } from './app/App';
import { detectLang, loadDict } from './app/i18n';
import { fetchSession, SESSION_KEY } from './app/session';
import type { SessionInfo } from './app/types';

/**
 * Boot: ask for the session and load the dictionary at the same time, so the first screen is
 * already in the user's language; never wait more than a moment for the server.
 */
async function boot(): Promise<void> {
  const session = queryClient.fetchQuery({ queryKey: SESSION_KEY, queryFn: fetchSession }).catch(() => null);
  await loadDict(detectLang()).catch(() => loadDict('en'));
  const s = await Promise.race([session, new Promise<null>((r) => setTimeout(() => r(null), 1500))]);
  const saved = (s as SessionInfo | null)?.user.language;
  if (saved) await loadDict(saved).catch(() => undefined);
  const root = document.getElementById('root');
  if (!root) return;
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}

void boot();
