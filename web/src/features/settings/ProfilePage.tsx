import { useState, type FormEvent } from 'react';
import { errorText, useI18n } from '../../app/i18n';
import { useMe, useUpdateMe } from '../../app/session';
import { setLocalLang, setLocalTheme } from '../../app/prefs';
import type { Lang, Theme } from '../../app/types';
import { Button } from '../../ui/Button';
import { SelectField, TextField } from '../../ui/Field';
import { ErrorBox } from '../../ui/ErrorBox';
import { Card, PageHeader, useDocumentTitle } from '../../ui/Page';
import { useToast } from '../../ui/Toast';
import { SettingsNav } from './SettingsNav';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function ProfilePage() {
  const { t, fmt, lang } = useI18n();
  const me = useMe();
  const update = useUpdateMe();
  const toast = useToast();
  useDocumentTitle(t('settings.profile'));

  const [displayName, setDisplayName] = useState(me.displayName);
  const [email, setEmail] = useState(me.email ?? '');
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<{ displayName?: string; email?: string }>({});

  function save(e: FormEvent) {
    e.preventDefault();
    const fe: typeof fieldErrors = {};
    if (!displayName.trim()) fe.displayName = t('form.required');
    if (email.trim() && !EMAIL.test(email.trim())) fe.email = t('form.invalidEmail');
    else if (!email.trim() && me.email) fe.email = t('form.required');
    setFieldErrors(fe);
    setError(null);
    if (Object.keys(fe).length) return;
    const patch: { displayName?: string; email?: string } = {};
    if (displayName.trim() !== me.displayName) patch.displayName = displayName.trim();
    if (email.trim() && email.trim() !== me.email) patch.email = email.trim();
    if (!Object.keys(patch).length) {
      toast(t('profile.nothingChanged'));
      return;
    }
    update.mutate(patch, {
      onSuccess: () => toast(t('profile.saved'), 'success'),
      onError: (err) => setError(errorText(t, err)),
    });
  }

  function setLanguage(l: Lang) {
    setLocalLang(l);
    update.mutate({ language: l }, { onError: (err) => toast(errorText(t, err), 'error') });
  }
  function setTheme(th: Theme) {
    setLocalTheme(th);
    update.mutate({ theme: th }, { onError: (err) => toast(errorText(t, err), 'error') });
  }

  return (
    <div className="page">
      <PageHeader title={t('settings.title')} />
      <SettingsNav />
      <Card labelledBy="profile-h">
        <div className="card-head">
          <div>
            <h2 id="profile-h">{t('profile.title')}</h2>
            <p className="muted">{t('profile.intro')}</p>
          </div>
        </div>
        <form className="form" onSubmit={save} noValidate aria-labelledby="profile-h">
          <TextField label={t('profile.displayName')} value={displayName} onChange={setDisplayName} autoComplete="name" required error={fieldErrors.displayName} />
          <TextField label={t('profile.email')} type="email" value={email} onChange={setEmail} autoComplete="email" required={Boolean(me.email)} error={fieldErrors.email} />
          <ErrorBox message={error} />
          <div>
            <Button type="submit" variant="primary" loading={update.isPending && (update.variables?.displayName !== undefined || update.variables?.email !== undefined)}>
              {t('common.save')}
            </Button>
          </div>
        </form>
      </Card>

      <Card labelledBy="prefs-h">
        <div className="card-head">
          <div>
            <h2 id="prefs-h">{t('profile.preferences')}</h2>
            <p className="muted">{t('profile.preferencesIntro')}</p>
          </div>
        </div>
        <div className="form">
          <SelectField
            label={t('profile.language')}
            value={me.language ?? lang}
            onChange={setLanguage}
            options={[
              { value: 'fr', label: 'Français' },
              { value: 'en', label: 'English' },
            ]}
          />
          <fieldset className="radio-group">
            <legend>{t('profile.theme')}</legend>
            <div className="radio-options">
              {(['light', 'dark', 'system'] as const).map((th) => (
                <label key={th} className="radio-option">
                  <input type="radio" name="theme" value={th} checked={me.theme === th} onChange={() => setTheme(th)} />
                  {t(`theme.${th}`)}
                </label>
              ))}
            </div>
          </fieldset>
        </div>
      </Card>

      <Card labelledBy="account-h">
        <h2 id="account-h" className="card-title-gap">{t('profile.account')}</h2>
        <dl className="readonly-list">
          <dt>{t('profile.login')}</dt>
          <dd className="mono">{me.login}</dd>
          <dt>{t('profile.createdAt')}</dt>
          <dd>{fmt.date(me.createdAt)}</dd>
          <dt>{t('profile.role')}</dt>
          <dd>{me.isAdmin ? t('profile.roleAdmin') : t('profile.roleUser')}</dd>
        </dl>
      </Card>
    </div>
  );
}
