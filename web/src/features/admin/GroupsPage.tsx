import { useState, type FormEvent } from 'react';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { Plus, UsersRound } from 'lucide-react';
import { api, withQuery } from '../../app/api';
import { errorText, useI18n } from '../../app/i18n';
import { QueryView } from '../../app/QueryView';
import { Link, navigate } from '../../app/router';
import type { Group } from '../../app/types';
import { Button } from '../../ui/Button';
import { TextAreaField, TextField } from '../../ui/Field';
import { ErrorBox } from '../../ui/ErrorBox';
import { AppDialog } from '../../ui/Dialog';
import { PageHeader, useDocumentTitle } from '../../ui/Page';
import { EmptyState } from '../../ui/States';
import { useToast } from '../../ui/Toast';
import { AdminNav, useDebounced } from './common';

export function GroupsPage() {
  const { t, fmt } = useI18n();
  useDocumentTitle(t('admin.groups.title'));
  const [search, setSearch] = useState('');
  const q = useDebounced(search.trim());
  const [creating, setCreating] = useState(false);
  const query = useQuery({
    queryKey: ['admin', 'groups', { q }],
    queryFn: ({ signal }) => api.get<{ items: Group[] }>(withQuery('/api/admin/groups', { q }), { signal }),
    placeholderData: keepPreviousData,
  });

  return (
    <div className="page">
      <PageHeader
        title={t('admin.title')}
        actions={
          <Button variant="primary" icon={<Plus size={16} aria-hidden="true" />} onClick={() => setCreating(true)}>
            {t('admin.groups.create')}
          </Button>
        }
      />
      <AdminNav />
      <h2 className="visually-hidden">{t('admin.groups.title')}</h2>
      <div className="toolbar" role="search" aria-label={t('admin.groups.search')}>
        <TextField label={t('admin.groups.search')} type="search" value={search} onChange={setSearch} placeholder={t('admin.groups.searchPlaceholder')} />
      </div>
      <QueryView
        query={query}
        errorTitle={t('admin.groups.loadError')}
        lines={6}
        isEmpty={(d) => d.items.length === 0}
        empty={
          <EmptyState
            icon={<UsersRound size={28} />}
            title={q ? t('admin.groups.noMatch', { q }) : t('admin.groups.emptyTitle')}
            action={
              !q && (
                <Button variant="primary" icon={<Plus size={16} aria-hidden="true" />} onClick={() => setCreating(true)}>
                  {t('admin.groups.create')}
                </Button>
              )
            }
          >
            {q ? t('admin.users.noMatchText') : t('admin.groups.emptyText')}
          </EmptyState>
        }
      >
        {(d) => (
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">{t('admin.groups.title')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('admin.groups.name')}</th>
                  <th scope="col" className="hide-sm">
                    {t('admin.groups.description')}
                  </th>
                  <th scope="col" className="num">
                    {t('admin.groups.members')}
                  </th>
                  <th scope="col" className="hide-sm">
                    {t('admin.groups.createdAt')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {d.items.map((g) => (
                  <tr key={g.id}>
                    <td className="cell-main">
                      <Link href={`/admin/groups/${encodeURIComponent(g.id)}`}>{g.name}</Link>
                    </td>
                    <td className="hide-sm muted">{g.description || '—'}</td>
                    <td className="num">{fmt.number(g.memberCount)}</td>
                    <td className="hide-sm tabular nowrap">{fmt.date(g.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryView>
      <CreateGroupDialog isOpen={creating} onClose={() => setCreating(false)} />
    </div>
  );
}

function CreateGroupDialog({ isOpen, onClose }: { isOpen: boolean; onClose: () => void }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [nameError, setNameError] = useState<string | undefined>();

  function close() {
    setName('');
    setDescription('');
    setError(null);
    setNameError(undefined);
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
      const body = description.trim() ? { name: name.trim(), description: description.trim() } : { name: name.trim() };
      const res = await api.post<{ group: Group }>('/api/admin/groups', body);
      void qc.invalidateQueries({ queryKey: ['admin', 'groups'] });
      toast(t('admin.groups.created', { name: res.group.name }), 'success');
      close();
      navigate(`/admin/groups/${encodeURIComponent(res.group.id)}`);
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AppDialog isOpen={isOpen} onClose={close} title={t('admin.groups.createTitle')} closeLabel={t('common.close')} dismissable={false}>
      <form className="form" onSubmit={(e) => void submit(e)} noValidate>
        <TextField label={t('admin.groups.name')} value={name} onChange={setName} required error={nameError} autoFocus autoComplete="off" maxLength={100} />
        <TextAreaField label={t('admin.groups.descriptionOptional')} value={description} onChange={setDescription} rows={3} maxLength={500} />
        <ErrorBox message={error} />
        <div className="row-end">
          <Button onClick={close}>{t('common.cancel')}</Button>
          <Button type="submit" variant="primary" loading={busy}>
            {t('common.create')}
          </Button>
        </div>
      </form>
    </AppDialog>
  );
}
