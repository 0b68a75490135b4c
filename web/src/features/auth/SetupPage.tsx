import { useState, type FormEvent } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { CheckCircle2, Link2Off } from 'lucide-react';
import { api } from '../../app/api';
import { errorText, useI18n } from '../../app/i18n';
import { describeError } from '../../app/errors';
import { Link, navigate, useSearchParams } from '../../app/router';
import { afterSignIn } from '../../app/session';
import { setLocalLang } from '../../app/prefs';
import type { Lang, Me } from '../../app/types';
import { Button } from '../../ui/Button';
import { SelectField, TextField } from '../../ui/Field';
import { ErrorBox } from '../../ui/ErrorBox';
import { useDocumentTitle } from '../../ui/Page';
import { ErrorState, Skeleton } from '../../ui/States';
import { AuthFrame } from './AuthFrame';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function SetupPage() {
  const { t, lang } = useI18n();
  const qc = useQueryClient();
  const token = useSearchParams().get('token') ?? '';
  useDocumentTitle(t('setup.title'));

  const status = useQuery({
    queryKey: ['setup-status'],
    queryFn: () => api.get<{ needsSetup: boolean }>('/api/setup/status'),
    staleTime: 0,
    retry: 1,
  });

  const [login, setLogin] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [password2, setPassword2] = useState('');
  const [language, setLanguage] = useState<Lang>(lang);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; rules: string[] } | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<'login' | 'displayName' | 'email' | 'password' | 'password2', string>>>({});

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    const fe: typeof fieldErrors = {};
    if (!login.trim()) fe.login = t('form.required');
    if (!displayName.trim()) fe.displayName = t('form.required');
    if (!email.trim()) fe.email = t('form.required');
    else if (!EMAIL.test(email.trim())) fe.email = t('form.invalidEmail');
    if (!password) fe.password = t('form.required');
    if (password !== password2) fe.password2 = t('form.passwordsDiffer');
    setFieldErrors(fe);
    setError(null);
    if (Object.keys(fe).length) return;
    setBusy(true);
    try {
      await api.post<{ user: Me }>('/api/setup', {
        token,
        login: login.trim(),
        displayName: displayName.trim(),
        email: email.trim(),
        password,
        language,
      });
      setLocalLang(language);
      await afterSignIn(qc);
      qc.setQueryData(['setup-status'], { needsSetup: false });
      navigate('/', { replace: true });
    } catch (err) {
      setError(describeError(t, err));
    } finally {
      setBusy(false);
    }
  }

  let body;
  if (status.isPending) {
    body = <Skeleton label={t('common.loading')} lines={6} />;
  } else if (status.isError) {
    body = <ErrorState title={t('setup.statusError')} message={errorText(t, status.error)} retryLabel={t('common.retry')} onRetry={() => void status.refetch()} />;
  } else if (!status.data.needsSetup) {
    body = (
      <div className="empty">
        <div className="empty-icon" aria-hidden="true">
          <CheckCircle2 size={36} />
        </div>
        <p className="empty-title">{t('setup.doneTitle')}</p>
        <p className="muted">{t('setup.doneText')}</p>
        <Link href="/login" className="btn btn-primary">
          {t('setup.goLogin')}
        </Link>
      </div>
    );
  } else if (!token) {
    body = (
      <div className="empty">
        <div className="empty-icon" aria-hidden="true">
          <Link2Off size={36} />
        </div>
        <p className="empty-title">{t('setup.noTokenTitle')}</p>
        <p className="muted">{t('setup.noTokenText')}</p>
      </div>
    );
  } else {
    body = (
      <form className="form" onSubmit={(e) => void submit(e)} noValidate aria-label={t('setup.title')}>
        <TextField label={t('setup.login')} description={t('setup.loginHelp')} value={login} onChange={setLogin} autoComplete="username" autoCapitalize="none" spellCheck={false} required error={fieldErrors.login} autoFocus />
        <TextField label={t('setup.displayName')} value={displayName} onChange={setDisplayName} autoComplete="name" required error={fieldErrors.displayName} />
        <TextField label={t('setup.email')} type="email" value={email} onChange={setEmail} autoComplete="email" required error={fieldErrors.email} />
        <TextField label={t('setup.password')} description={t('setup.passwordHelp')} type="password" value={password} onChange={setPassword} autoComplete="new-password" required error={fieldErrors.password} />
        <TextField label={t('setup.password2')} type="password" value={password2} onChange={setPassword2} autoComplete="new-password" required error={fieldErrors.password2} />
        <SelectField
          label={t('setup.language')}
          value={language}
          onChange={(v) => {
            setLanguage(v);
            setLocalLang(v);
          }}
          options={[
            { value: 'fr', label: 'Français' },
            { value: 'en', label: 'English' },
          ]}
        />
        <ErrorBox message={error?.message ?? null} items={error?.rules} />
        <Button type="submit" variant="primary" loading={busy}>
          {t('setup.submit')}
        </Button>
      </form>
    );
  }

  return (
    <AuthFrame wide>
      <h1>{t('setup.title')}</h1>
      <p className="muted">{t('setup.intro')}</p>
      {body}
    </AuthFrame>
  );
}
