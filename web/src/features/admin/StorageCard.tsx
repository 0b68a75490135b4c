import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, withQuery } from '../../app/api';
import { errorText, useI18n } from '../../app/i18n';
import { Button } from '../../ui/Button';
import { TextField } from '../../ui/Field';
import { ErrorBox } from '../../ui/ErrorBox';
import { Badge, Card } from '../../ui/Page';
import { useToast } from '../../ui/Toast';

interface Quota {
  used: number;
  limit: number;
  custom: boolean;
}

/** Sizes are shown in decimal units (kB, MB, GB) everywhere in the app; the quota field follows. */
const GB = 1_000_000_000;

/** A user's (or space's) drive usage as a bar, and the quota an administrator may set for it. */
export function StorageCard({ ownerType, ownerId }: { ownerType: 'user' | 'space'; ownerId: string }) {
  const { t, fmt } = useI18n();
  const qc = useQueryClient();
  const toast = useToast();
  const key = ['admin', 'drive-quota', ownerType, ownerId];
  const url = withQuery('/api/admin/drive/quota', { ownerType, ownerId });
  const q = useQuery({ queryKey: key, queryFn: ({ signal }) => api.get<Quota>(url, { signal }) });
  const [gb, setGb] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [fieldError, setFieldError] = useState<string | undefined>();
  useEffect(() => {
    if (q.data) setGb(String(Math.round((q.data.limit / GB) * 100) / 100));
  }, [q.data]);
  const save = useMutation({
    mutationFn: (bytes: number | null) => api.put<Quota>(url, { bytes }),
    onSuccess: (res) => {
      qc.setQueryData(key, res);
      toast(t('admin.storage.saved'), 'success');
    },
    onError: (e) => setError(errorText(t, e)),
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    const n = Number(gb.replace(',', '.'));
    if (!gb.trim() || !Number.isFinite(n) || n < 0 || n > 1024 * 1024) {
      setFieldError(t('admin.storage.invalid'));
      return;
    }
    setFieldError(undefined);
    save.mutate(Math.round(n * GB));
  }

  const d = q.data;
  const ratio = d && d.limit > 0 ? Math.min(1, d.used / d.limit) : 0;
  return (
    <Card labelledBy="ud-storage">
      <h2 id="ud-storage" className="card-title-gap">
        {t('admin.storage.title')}
      </h2>
      {q.isError ? (
        <ErrorBox message={errorText(t, q.error)} />
      ) : !d ? (
        <p className="muted small">{t('common.loading')}</p>
      ) : (
        <div className="stack-sm">
          <meter className="admin-storage-meter" style={{ width: '100%' }} min={0} max={d.limit || 1} value={d.used} low={d.limit * 0.8} high={d.limit * 0.95} optimum={0} aria-labelledby="ud-storage" aria-describedby="ud-storage-text" />
          <p id="ud-storage-text" className="small">
            {t('drive.storage.used', { used: fmt.size(d.used), total: fmt.size(d.limit) })} · {Math.round(ratio * 100)} %{' '}
            {d.custom ? <Badge tone="accent">{t('admin.storage.custom')}</Badge> : <Badge>{t('admin.storage.default')}</Badge>}
          </p>
          <form className="form" onSubmit={submit} noValidate aria-label={t('admin.storage.title')}>
            <TextField label={t('admin.storage.limit')} description={t('admin.storage.limitHelp')} value={gb} onChange={setGb} inputMode="decimal" error={fieldError} />
            <ErrorBox message={error} />
            <div className="row">
              <Button type="submit" variant="primary" loading={save.isPending}>
                {t('common.save')}
              </Button>
              {d.custom && (
                <Button onClick={() => save.mutate(null)} disabled={save.isPending}>
                  {t('admin.storage.useDefault')}
                </Button>
              )}
            </div>
          </form>
        </div>
      )}
    </Card>
  );
}
