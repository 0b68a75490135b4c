import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Info } from 'lucide-react';
import { api, ApiError } from '../../app/api';
import { errorText, useI18n } from '../../app/i18n';
import { navigate, safeNext, useSearchParams } from '../../app/router';
import { afterSignIn } from '../../app/session';
import type { LoginAnswer } from '../../app/types';
import { Button } from '../../ui/Button';
import { TextField } from '../../ui/Field';
import { ErrorBox } from '../../ui/ErrorBox';
import { useDocumentTitle } from '../../ui/Page';
import { AuthFrame } from './AuthFrame';

/** Seconds left before a rate-limited sign-in may be tried again (ticks once a second while locked). */
function useCountdown(until: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!until) return;
    const h = window.setInterval(() => {
      const n = Date.now();
      setNow(n);
      if (n >= until) window.clearInterval(h);
    }, 1000);
    return () => window.clearInterval(h);
  }, [until]);
  return until ? Math.max(0, Math.ceil((until - now) / 1000)) : 0;
}

export function LoginPage() {
  const { t } = useI18n();
  const qc = useQueryClient();
  const params = useSearchParams();
  const next = safeNext(params.get('next'));
  const [step, setStep] = useState<'password' | 'mfa'>('password');
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [mfaToken, setMfaToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [lockedUntil, setLockedUntil] = useState<number | null>(null);
  const left = useCountdown(lockedUntil);
  const codeRef = useRef<HTMLInputElement>(null);
  const loginRef = useRef<HTMLInputElement>(null);
  useDocumentTitle(step === 'mfa' ? t('login.mfaTitle') : t('login.title'));

  const setup = useQuery({
    queryKey: ['setup-status'],
    queryFn: () => api.get<{ needsSetup: boolean }>('/api/setup/status'),
    staleTime: 60_000,
    retry: false,
  });

  useEffect(() => {
    if (step === 'mfa') codeRef.current?.focus();
  }, [step]);

  function fail(e: unknown) {
    if (e instanceof ApiError && e.code === 'too_many_attempts') {
      const s = Number(e.details.retryAfterSeconds);
      if (Number.isFinite(s) && s > 0) setLockedUntil(Date.now() + s * 1000);
    }
    setError(errorText(t, e));
  }

  async function done() {
    await afterSignIn(qc);
    navigate(next, { replace: true });
  }

  async function submitPassword(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    setError(null);
    if (!login.trim() || !password) {
      setError(t('login.missing'));
      return;
    }
    setBusy(true);
    try {
      const res = await api.post<LoginAnswer>('/api/auth/login', { login: login.trim(), password }, { quiet401: true });
      if (res.status === 'mfa_required') {
        setMfaToken(res.mfaToken);
        setCode('');
        setStep('mfa');
      } else {
        await done();
      }
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  }

  async function submitCode(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    setError(null);
    const c = code.replace(/\s+/g, '');
    if (!c) {
      setError(t('login.codeMissing'));
      return;
    }
    setBusy(true);
    try {
      await api.post<LoginAnswer>('/api/auth/login/mfa', { mfaToken, code: c }, { quiet401: true });
      await done();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'mfa_token_expired') {
        back();
      }
      fail(err);
      setCode('');
      codeRef.current?.focus();
    } finally {
      setBusy(false);
    }
  }

  function back() {
    setStep('password');
    setMfaToken('');
    setPassword('');
    setCode('');
    window.setTimeout(() => loginRef.current?.focus(), 0);
  }

  const locked = left > 0;
  const shownError = !locked
    ? error
    : left >= 90
      ? t('error.too_many_attempts_minutes', { count: Math.ceil(left / 60) })
      : t('error.too_many_attempts_seconds', { count: left });

  return (
    <AuthFrame>
      {step === 'password' ? (
        <>
          <h1>{t('login.title')}</h1>
          <p className="muted">{t('login.intro')}</p>
          {setup.data?.needsSetup && (
            <div className="notice notice-info" role="note">
              <Info size={18} aria-hidden="true" />
              <p>{t('login.needsSetup')}</p>
            </div>
          )}
          <form className="form" onSubmit={(e) => void submitPassword(e)} noValidate aria-label={t('login.title')}>
            <TextField
              ref={loginRef}
              label={t('login.login')}
              value={login}
              onChange={setLogin}
              autoComplete="username"
              autoCapitalize="none"
              spellCheck={false}
              required
              autoFocus
            />
            <TextField label={t('login.password')} type="password" value={password} onChange={setPassword} autoComplete="current-password" required />
            <ErrorBox message={shownError} />
            <Button type="submit" variant="primary" loading={busy} disabled={locked}>
              {t('login.submit')}
            </Button>
          </form>
          <p className="muted small auth-help">{t('login.forgot')}</p>
        </>
      ) : (
        <>
          <h1>{t('login.mfaTitle')}</h1>
          <p className="muted">{t('login.mfaIntro')}</p>
          <form className="form" onSubmit={(e) => void submitCode(e)} noValidate aria-label={t('login.mfaTitle')}>
            <TextField
              ref={codeRef}
              label={t('login.code')}
              description={t('login.codeHelp')}
              value={code}
              onChange={setCode}
              autoComplete="one-time-code"
              autoCapitalize="none"
              spellCheck={false}
              required
            />
            <ErrorBox message={shownError} />
            <Button type="submit" variant="primary" loading={busy} disabled={locked}>
              {t('login.verify')}
            </Button>
            <Button variant="ghost" onClick={back}>
              {t('login.back')}
            </Button>
          </form>
        </>
      )}
    </AuthFrame>
  );
}
