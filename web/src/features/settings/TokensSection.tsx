import { useState, type FormEvent } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Code2, Plus, Trash2 } from 'lucide-react';
import { api } from '../../app/api';
import { useOptimisticRemove } from '../../app/useOptimisticRemove';
import { errorText, useI18n } from '../../app/i18n';
import { QueryView } from '../../app/QueryView';
import type { ApiToken } from '../../app/types';
import { Button } from '../../ui/Button';
import { SelectField, TextField } from '../../ui/Field';
import { ErrorBox } from '../../ui/ErrorBox';
import { AppDialog, ConfirmDialog } from '../../ui/Dialog';
import { Badge, Card } from '../../ui/Page';
import { SecretValue } from '../../ui/Copy';
import { EmptyState } from '../../ui/States';
import { useToast } from '../../ui/Toast';

const KEY = ['me', 'tokens'] as const;

export function TokensSection() {
  const { t, fmt } = useI18n();
  const toast = useToast();
  const q = useQuery({ queryKey: KEY, queryFn: () => api.get<{ items: ApiToken[] }>('/api/me/tokens') });
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const [now] = useState(() => Date.now());

  const revoke = useOptimisticRemove<ApiToken>(KEY, '/api/me/tokens');

  return (
    <Card labelledBy="tokens-h">
      <div className="card-head">
        <div>
          <h2 id="tokens-h">{t('tokens.title')}</h2>
          <p className="muted">{t('tokens.intro')}</p>
        </div>
        <Button icon={<Plus size={16} aria-hidden="true" />} onClick={() => setCreating(true)}>
          {t('tokens.create')}
        </Button>
      </div>
      <QueryView
        query={q}
        errorTitle={t('tokens.loadError')}
        isEmpty={(d) => d.items.length === 0}
        empty={
          <EmptyState icon={<Code2 size={28} />} title={t('tokens.emptyTitle')}>
            {t('tokens.emptyText')}
          </EmptyState>
        }
      >
        {(d) => (
          <ul className="list" aria-label={t('tokens.title')}>
            {d.items.map((tk) => {
              const expired = tk.expiresAt !== null && tk.expiresAt < now;
              return (
                <li key={tk.id}>
                  <div className="list-main">
                    <span className="list-title">
                      {tk.name} {expired && <Badge tone="danger">{t('tokens.expired')}</Badge>}
                    </span>
                    <span className="meta">
                      <span>{t('common.createdOn', { date: fmt.date(tk.createdAt) })}</span>
                      <span>{tk.lastUsedAt ? t('common.lastUsed', { date: fmt.dateTime(tk.lastUsedAt) }) : t('common.neverUsed')}</span>
                      <span>{tk.expiresAt ? t('tokens.expiresOn', { date: fmt.date(tk.expiresAt) }) : t('tokens.noExpiry')}</span>
                    </span>
                  </div>
                  <Button size="sm" variant="ghost" icon={<Trash2 size={16} aria-hidden="true" />} aria-label={t('tokens.revokeNamed', { name: tk.name })} onClick={() => setRevoking(tk)}>
                    {t('common.revoke')}
                  </Button>
                </li>
              );
            })}
          </ul>
        )}
      </QueryView>
      <CreateTokenDialog isOpen={creating} onClose={() => setCreating(false)} />
      <ConfirmDialog
        isOpen={revoking !== null}
        onClose={() => setRevoking(null)}
        title={t('tokens.revokeTitle')}
        body={t('tokens.revokeText', { name: revoking?.name ?? '' })}
        confirmLabel={t('common.revoke')}
        cancelLabel={t('common.cancel')}
        closeLabel={t('common.close')}
        danger
        errorText={(e) => errorText(t, e)}
        onConfirm={async () => {
          if (!revoking) return;
          await revoke.mutateAsync(revoking.id);
          toast(t('tokens.revoked'), 'success');
        }}
      />
    </Card>
  );
}

type Expiry = 'never' | '30' | '90' | '365';

function CreateTokenDialog({ isOpen, onClose }: { isOpen: boolean; onClose: () => void }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [expiry, setExpiry] = useState<Expiry>('90');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [nameError, setNameError] = useState<string | undefined>();
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);

  function close() {
    setName('');
    setExpiry('90');
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
    setBusy(true);
    setError(null);
    try {
      const body = expiry === 'never' ? { name: name.trim() } : { name: name.trim(), expiresInDays: Number(expiry) };
      const res = await api.post<{ item: ApiToken; token: string }>('/api/me/tokens', body);
      setCreated({ name: res.item.name, token: res.token });
      void qc.invalidateQueries({ queryKey: KEY });
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AppDialog isOpen={isOpen} onClose={close} title={created ? t('tokens.createdTitle') : t('tokens.createTitle')} closeLabel={t('common.close')} dismissable={false}>
      {created ? (
        <div className="stack">
          <p>{t('tokens.createdText', { name: created.name })}</p>
          <SecretValue value={created.token} label={t('tokens.token')} copyLabel={t('common.copy')} copiedLabel={t('common.copied')} testId="api-token-value" />
          <p className="muted small">{t('tokens.onceWarning')}</p>
          <div className="row-end">
            <Button variant="primary" onClick={close}>
              {t('common.done')}
            </Button>
          </div>
        </div>
      ) : (
        <form className="form" onSubmit={(e) => void submit(e)} noValidate>
          <TextField label={t('tokens.name')} description={t('tokens.nameHelp')} value={name} onChange={setName} required error={nameError} autoFocus maxLength={100} />
          <SelectField<Expiry>
            label={t('tokens.expiry')}
            value={expiry}
            onChange={setExpiry}
            options={[
              { value: '30', label: t('tokens.days', { count: 30 }) },
              { value: '90', label: t('tokens.days', { count: 90 }) },
              { value: '365', label: t('tokens.days', { count: 365 }) },
              { value: 'never', label: t('tokens.never') },
            ]}
          />
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
