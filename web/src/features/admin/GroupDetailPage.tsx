import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ArrowLeft, Trash2, UserMinus, Users } from 'lucide-react';
import { api } from '../../app/api';
import { errorText, useI18n } from '../../app/i18n';
import { QueryView } from '../../app/QueryView';
import { Link, navigate } from '../../app/router';
import type { DirectoryUser, Group, GroupMember } from '../../app/types';
import { initials } from '../../app/triggers';
import { Button } from '../../ui/Button';
import { TextAreaField, TextField } from '../../ui/Field';
import { ErrorBox } from '../../ui/ErrorBox';
import { ConfirmDialog } from '../../ui/Dialog';
import { Card, PageHeader, useDocumentTitle } from '../../ui/Page';
import { EmptyState } from '../../ui/States';
import { useToast } from '../../ui/Toast';
import { AdminNav } from './common';
import { UserPicker } from './UserPicker';

const ALL_GROUPS = ['admin', 'groups', { q: '' }] as const;

export function GroupDetailPage({ id }: { id: string }) {
  const { t } = useI18n();
  // There is no GET /api/admin/groups/:id: the group comes from the list.
  const q = useQuery({
    queryKey: ALL_GROUPS,
    queryFn: ({ signal }) => api.get<{ items: Group[] }>('/api/admin/groups', { signal }),
  });
  const group = q.data?.items.find((g) => g.id === id);
  useDocumentTitle(group?.name ?? t('admin.groups.title'));

  return (
    <div className="page">
      <Link href="/admin/groups" className="back-link">
        <ArrowLeft size={16} aria-hidden="true" />
        {t('admin.groups.backToList')}
      </Link>
      <QueryView query={q} errorTitle={t('admin.groups.loadError')} lines={8}>
        {() =>
          group ? (
            <GroupDetail group={group} />
          ) : (
            <>
              <PageHeader title={t('admin.groups.notFound')} description={t('admin.groups.notFoundText')} />
              <Link href="/admin/groups">{t('admin.groups.backToList')}</Link>
            </>
          )
        }
      </QueryView>
    </div>
  );
}

function GroupDetail({ group }: { group: Group }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState(group.name);
  const [description, setDescription] = useState(group.description ?? '');
  const [error, setError] = useState<string | null>(null);
  const [nameError, setNameError] = useState<string | undefined>();
  const [deleteOpen, setDeleteOpen] = useState(false);
  const membersKey = ['admin', 'groups', group.id, 'members'] as const;

  const members = useQuery({
    queryKey: membersKey,
    queryFn: () => api.get<{ items: GroupMember[] }>(`/api/admin/groups/${encodeURIComponent(group.id)}/members`),
  });

  const save = useMutation({
    mutationFn: (patch: { name?: string; description?: string }) => api.patch<{ group: Group }>(`/api/admin/groups/${encodeURIComponent(group.id)}`, patch),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['admin', 'groups'] });
      toast(t('admin.groups.saved'), 'success');
    },
    onError: (e) => setError(errorText(t, e)),
  });

  const add = useMutation({
    mutationFn: (u: DirectoryUser) => api.put<void>(`/api/admin/groups/${encodeURIComponent(group.id)}/members/${encodeURIComponent(u.id)}`),
    onMutate: async (u) => {
      await qc.cancelQueries({ queryKey: membersKey });
      const prev = qc.getQueryData<{ items: GroupMember[] }>(membersKey);
      if (prev) qc.setQueryData(membersKey, { items: [...prev.items, { id: u.id, login: u.login, displayName: u.displayName }] });
      return { prev };
    },
    onSuccess: (_r, u) => toast(t('admin.groups.memberAdded', { name: u.displayName }), 'success'),
    onError: (e, _u, ctx) => {
      if (ctx?.prev) qc.setQueryData(membersKey, ctx.prev);
      toast(errorText(t, e), 'error');
    },
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: membersKey });
      void qc.invalidateQueries({ queryKey: ['admin', 'groups'] });
      void qc.invalidateQueries({ queryKey: ['admin', 'user'] });
    },
  });

  const remove = useMutation({
    mutationFn: (m: GroupMember) => api.del(`/api/admin/groups/${encodeURIComponent(group.id)}/members/${encodeURIComponent(m.id)}`),
    onMutate: async (m) => {
      await qc.cancelQueries({ queryKey: membersKey });
      const prev = qc.getQueryData<{ items: GroupMember[] }>(membersKey);
      if (prev) qc.setQueryData(membersKey, { items: prev.items.filter((x) => x.id !== m.id) });
      return { prev };
    },
    onSuccess: (_r, m) => toast(t('admin.groups.memberRemoved', { name: m.displayName }), 'success'),
    onError: (e, _m, ctx) => {
      if (ctx?.prev) qc.setQueryData(membersKey, ctx.prev);
      toast(errorText(t, e), 'error');
    },
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: membersKey });
      void qc.invalidateQueries({ queryKey: ['admin', 'groups'] });
      void qc.invalidateQueries({ queryKey: ['admin', 'user'] });
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setNameError(name.trim() ? undefined : t('form.required'));
    if (!name.trim()) return;
    const patch: { name?: string; description?: string } = {};
    if (name.trim() !== group.name) patch.name = name.trim();
    if (description.trim() !== (group.description ?? '')) patch.description = description.trim();
    if (!Object.keys(patch).length) {
      toast(t('profile.nothingChanged'));
      return;
    }
    save.mutate(patch);
  }

  const memberIds = new Set((members.data?.items ?? []).map((m) => m.id));

  return (
    <>
      <PageHeader
        title={group.name}
        description={group.description || undefined}
        actions={
          <Button variant="danger" icon={<Trash2 size={16} aria-hidden="true" />} onClick={() => setDeleteOpen(true)}>
            {t('admin.groups.delete')}
          </Button>
        }
      />
      <AdminNav />
      <div className="detail-grid">
        <Card labelledBy="gd-members">
          <div className="card-head">
            <div>
              <h2 id="gd-members">{t('admin.groups.membersTitle')}</h2>
              <p className="muted">{t('admin.groups.membersIntro')}</p>
            </div>
          </div>
          <div className="stack">
            <UserPicker label={t('admin.groups.addMember')} exclude={memberIds} onPick={(u) => add.mutate(u)} disabled={members.isPending} />
            <QueryView
              query={members}
              errorTitle={t('admin.groups.membersLoadError')}
              isEmpty={(d) => d.items.length === 0}
              empty={
                <EmptyState icon={<Users size={24} />} title={t('admin.groups.noMembers')}>
                  {t('admin.groups.noMembersText')}
                </EmptyState>
              }
            >
              {(d) => (
                <ul className="list" aria-label={t('admin.groups.membersTitle')}>
                  {[...d.items]
                    .sort((a, b) => a.displayName.localeCompare(b.displayName))
                    .map((m) => (
                      <li key={m.id}>
                        <span className="avatar" aria-hidden="true">
                          {initials(m.displayName || m.login)}
                        </span>
                        <div className="list-main">
                          <Link href={`/admin/users/${encodeURIComponent(m.id)}`} className="list-title">
                            {m.displayName}
                          </Link>
                          <span className="muted small mono">{m.login}</span>
                        </div>
                        <Button size="sm" variant="ghost" icon={<UserMinus size={16} aria-hidden="true" />} aria-label={t('admin.groups.removeNamed', { name: m.displayName })} onClick={() => remove.mutate(m)}>
                          {t('admin.groups.remove')}
                        </Button>
                      </li>
                    ))}
                </ul>
              )}
            </QueryView>
          </div>
        </Card>
        <Card labelledBy="gd-edit">
          <h2 id="gd-edit" className="card-title-gap">
            {t('admin.groups.editTitle')}
          </h2>
          <form className="form" onSubmit={submit} noValidate aria-labelledby="gd-edit">
            <TextField label={t('admin.groups.name')} value={name} onChange={setName} required error={nameError} autoComplete="off" maxLength={100} />
            <TextAreaField label={t('admin.groups.descriptionOptional')} value={description} onChange={setDescription} rows={3} maxLength={500} />
            <ErrorBox message={error} />
            <div>
              <Button type="submit" variant="primary" loading={save.isPending}>
                {t('common.save')}
              </Button>
            </div>
          </form>
        </Card>
      </div>
      <ConfirmDialog
        isOpen={deleteOpen}
        onClose={() => setDeleteOpen(false)}
        title={t('admin.groups.deleteTitle', { name: group.name })}
        body={t('admin.groups.deleteText', { name: group.name })}
        confirmLabel={t('admin.groups.delete')}
        cancelLabel={t('common.cancel')}
        closeLabel={t('common.close')}
        danger
        errorText={(e) => errorText(t, e)}
        onConfirm={async () => {
          await api.del(`/api/admin/groups/${encodeURIComponent(group.id)}`);
          void qc.invalidateQueries({ queryKey: ['admin', 'groups'] });
          toast(t('admin.groups.deleted', { name: group.name }), 'success');
          navigate('/admin/groups', { replace: true });
        }}
      />
    </>
  );
}
