import { useState, type FormEvent } from 'react';
import { api } from '../../app/api';
import { useI18n } from '../../app/i18n';
import { describeError } from '../../app/errors';
import { Button } from '../../ui/Button';
import { TextField } from '../../ui/Field';
import { ErrorBox } from '../../ui/ErrorBox';
import { Card } from '../../ui/Page';
import { useToast } from '../../ui/Toast';

export function PasswordSection() {
  const { t } = useI18n();
  const toast = useToast();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [next2, setNext2] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; rules: string[] } | null>(null);
  const [fe, setFe] = useState<{ current?: string; next?: string; next2?: string }>({});

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    const errs: typeof fe = {};
    if (!current) errs.current = t('form.required');
    if (!next) errs.next = t('form.required');
    if (next && next !== next2) errs.next2 = t('form.passwordsDiffer');
    setFe(errs);
    setError(null);
    if (Object.keys(errs).length) return;
    setBusy(true);
    try {
      await api.post<void>('/api/me/password', { currentPassword: current, newPassword: next }, { quiet401: true });
      setCurrent('');
      setNext('');
      setNext2('');
      toast(t('password.changed'), 'success');
    } catch (err) {
      setError(describeError(t, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card labelledBy="pw-h">
      <div className="card-head">
        <div>
          <h2 id="pw-h">{t('password.title')}</h2>
          <p className="muted">{t('password.intro')}</p>
        </div>
      </div>
      <form className="form" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="pw-h">
        <TextField label={t('password.current')} type="password" value={current} onChange={setCurrent} autoComplete="current-password" required error={fe.current} />
        <TextField label={t('password.new')} description={t('setup.passwordHelp')} type="password" value={next} onChange={setNext} autoComplete="new-password" required error={fe.next} />
        <TextField label={t('password.confirm')} type="password" value={next2} onChange={setNext2} autoComplete="new-password" required error={fe.next2} />
        <ErrorBox message={error?.message ?? null} items={error?.rules} />
        <div>
          <Button type="submit" variant="primary" loading={busy}>
            {t('password.submit')}
          </Button>
        </div>
      </form>
    </Card>
  );
}
