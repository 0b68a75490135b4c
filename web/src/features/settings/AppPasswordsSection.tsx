import { useState, type FormEvent } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { KeyRound, Plus, Trash2 } from 'lucide-react';
import { api } from '../../app/api';
import { useOptimisticRemove } from '../../app/useOptimisticRemove';
import { errorText, useI18n } from '../../app/i18n';
import { QueryView } from '../../app/QueryView';
import type { AppPassword, AppPasswordScope } from '../../app/types';
import { Button } from '../../ui/Button';
import { Checkbox, TextField } from '../../ui/Field';
import { ErrorBox } from '../../ui/ErrorBox';
import { AppDialog, ConfirmDialog } from '../../ui/Dialog';
import { Badge, Card } from '../../ui/Page';
import { SecretValue } from '../../ui/Copy';
import { EmptyState } from '../../ui/States';
import { useToast } from '../../ui/Toast';

const KEY = ['me', 'app-passwords'] as const;
const SCOPES: AppPasswordScope[] = ['dav', 'mail', 'api'];

export function AppPasswordsSection() {
  const { t, fmt } = useI18n();
  const toast = useToast();
  const q = useQuery({ queryKey: KEY, queryFn: () => api.get<{ items: AppPassword[] }>('/api/me/app-passwords') });
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<AppPassword | null>(null);

  const revoke = useOptimisticRemove<AppPassword>(KEY, '/api/me/app-passwords');

  return (
    <Card labelledBy="apppw-h">
      <div className="card-head">
        <div>
          <h2 id="apppw-h">{t('appPasswords.title')}</h2>
          <p className="muted">{t('appPasswords.intro')}</p>
        </div>
        <Button icon={<Plus size={16} aria-hidden="true" />} onClick={() => setCreating(true)}>
          {t('appPasswords.create')}
        </Button>
      </div>
      <QueryView
        query={q}
        errorTitle={t('appPasswords.loadError')}
        isEmpty={(d) => d.items.length === 0}
        empty={
          <EmptyState icon={<KeyRound size={28} />} title={t('appPasswords.emptyTitle')}>
            {t('appPasswords.emptyText')}
          </EmptyState>
        }
      >
        {(d) => (
          <ul className="list" aria-label={t('appPasswords.title')}>
            {d.items.map((p) => (
              <li key={p.id}>
                <div className="list-main">
                  <span className="list-title">{p.name}</span>
                  <span className="scopes">
                    {p.scopes.map((s) => (
                      <Badge key={s} tone="accent">
                        {t(`scope.${s}`)}
                      </Badge>
                    ))}
                  </span>
                  <span className="meta">
                    <span>{t('common.createdOn', { date: fmt.date(p.createdAt) })}</span>
                    <span>{p.lastUsedAt ? t('common.lastUsed', { date: fmt.dateTime(p.lastUsedAt) }) : t('common.neverUsed')}</span>
                  </span>
                </div>
                <Button size="sm" variant="ghost" icon={<Trash2 size={16} aria-hidden="true" />} aria-label={t('appPasswords.revokeNamed', { name: p.name })} onClick={() => setRevoking(p)}>
                  {t('common.revoke')}
                </Button>
              </li>
            ))}
          </ul>
        )}
      </QueryView>
      <CreateAppPasswordDialog isOpen={creating} onClose={() => setCreating(false)} />
      <ConfirmDialog
        isOpen={revoking !== null}
        onClose={() => setRevoking(null)}
        title={t('appPasswords.revokeTitle')}
        body={t('appPasswords.revokeText', { name: revoking?.name ?? '' })}
        confirmLabel={t('common.revoke')}
        cancelLabel={t('common.cancel')}
        closeLabel={t('common.close')}
        danger
        errorText={(e) => errorText(t, e)}
        onConfirm={async () => {
          if (!revoking) return;
          await revoke.mutateAsync(revoking.id);
          toast(t('appPasswords.revoked'), 'success');
        }}
      />
    </Card>
  );
}

function CreateAppPasswordDialog({ isOpen, onClose }: { isOpen: boolean; onClose: () => void }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<AppPasswordScope[]>(['dav', 'mail']);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [nameError, setNameError] = useState<string | undefined>();
  const [created, setCreated] = useState<{ name: string; password: string } | null>(null);

  function close() {
    setName('');
    setScopes(['dav', 'mail']);
    setError(null);
    setNameError(undefined);
    setCreated(null);
    onClose();
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    setNameError(name.trim() ? undefined : t('form.required'));
    if (!name.trim()) return;
    if (!scopes.length) {
      setError(t('appPasswords.scopeRequired'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const res = await api.post<{ item: AppPassword; password: string }>('/api/me/app-passwords', { name: name.trim(), scopes });
      setCreated({ name: res.item.name, password: res.password });
      void qc.invalidateQueries({ queryKey: KEY });
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AppDialog isOpen={isOpen} onClose={close} title={created ? t('appPasswords.createdTitle') : t('appPasswords.createTitle')} closeLabel={t('common.close')} dismissable={false}>
      {created ? (
        <div className="stack">
          <p>{t('appPasswords.createdText', { name: created.name })}</p>
          <SecretValue value={created.password} label={t('appPasswords.password')} copyLabel={t('common.copy')} copiedLabel={t('common.copied')} testId="app-password-value" />
          <p className="muted small">{t('appPasswords.onceWarning')}</p>
          <div className="row-end">
            <Button variant="primary" onClick={close}>
              {t('common.done')}
            </Button>
          </div>
        </div>
      ) : (
        <form className="form" onSubmit={(e) => void submit(e)} noValidate>
          <TextField label={t('appPasswords.name')} description={t('appPasswords.nameHelp')} value={name} onChange={setName} required error={nameError} autoFocus maxLength={100} />
          <fieldset className="fieldset">
            <legend>{t('appPasswords.scopes')}</legend>
            {SCOPES.map((s) => (
              <Checkbox
                key={s}
                label={t(`scope.${s}`)}
                description={t(`scope.${s}.help`)}
                checked={scopes.includes(s)}
                onChange={(on) => setScopes((xs) => (on ? [...xs, s] : xs.filter((x) => x !== s)))}
              />
            ))}
          </fieldset>
          <ErrorBox message={error} />
          <div className="row-end">
            <Button onClick={close}>{t('common.cancel')}</Button>
            <Button type="submit" variant="primary" loading={busy}>
              {t('common.create')}
            </Button>
          </div>
        </form>
      )}
    </AppDialog>
  );
}
