import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ArrowLeft, KeyRound, Trash2, UsersRound } from 'lucide-react';
import { api, ApiError } from '../../app/api';
import { errorText, useI18n } from '../../app/i18n';
import { describeError } from '../../app/errors';
import { QueryView } from '../../app/QueryView';
import { Link, navigate } from '../../app/router';
import { useMe } from '../../app/session';
import type { AdminUser } from '../../app/types';
import { Button } from '../../ui/Button';
import { Checkbox, TextField } from '../../ui/Field';
import { ErrorBox } from '../../ui/ErrorBox';
import { AppDialog, ConfirmDialog } from '../../ui/Dialog';
import { Badge, Card, PageHeader, useDocumentTitle } from '../../ui/Page';
import { SecretValue } from '../../ui/Copy';
import { EmptyState } from '../../ui/States';
import { useToast } from '../../ui/Toast';
import { AdminNav } from './common';
import { UserStatusBadges } from './UsersPage';
import { StorageCard } from './StorageCard';

interface Detail {
  user: AdminUser;
  groups: { id: string; name: string }[];
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function UserDetailPage({ id }: { id: string }) {
  const { t } = useI18n();
  const q = useQuery({
    queryKey: ['admin', 'user', id],
    queryFn: () => api.get<Detail>(`/api/admin/users/${encodeURIComponent(id)}`),
  });
  useDocumentTitle(q.data?.user.displayName ?? t('admin.users.title'));

  if (q.isError && q.error instanceof ApiError && q.error.status === 404) {
    return (
      <div className="page">
        <PageHeader title={t('admin.users.notFound')} description={t('admin.users.notFoundText')} />
        <Link href="/admin/users">{t('admin.users.backToList')}</Link>
      </div>
    );
  }

  return (
    <div className="page">
      <Link href="/admin/users" className="back-link">
        <ArrowLeft size={16} aria-hidden="true" />
        {t('admin.users.backToList')}
      </Link>
      <QueryView query={q} errorTitle={t('admin.users.loadOneError')} lines={8}>
        {(d) => <UserDetail detail={d} />}
      </QueryView>
    </div>
  );
}

function UserDetail({ detail }: { detail: Detail }) {
  const { t, fmt } = useI18n();
  const me = useMe();
  const qc = useQueryClient();
  const toast = useToast();
  const u = detail.user;
  const [displayName, setDisplayName] = useState(u.displayName);
  const [email, setEmail] = useState(u.email ?? '');
  const [isAdmin, setIsAdmin] = useState(u.isAdmin);
  const [disabled, setDisabled] = useState(u.disabled);
  const [error, setError] = useState<string | null>(null);
  const [fe, setFe] = useState<{ displayName?: string; email?: string }>({});
  const [resetOpen, setResetOpen] = useState(false);
  const [deleteOpen, setDeleteOpen] = useState(false);

  const save = useMutation({
    mutationFn: (patch: { displayName?: string; email?: string; isAdmin?: boolean; disabled?: boolean }) =>
      api.patch<{ user: AdminUser }>(`/api/admin/users/${encodeURIComponent(u.id)}`, patch),
    onSuccess: (res) => {
      qc.setQueryData<Detail>(['admin', 'user', u.id], (old) => (old ? { ...old, user: res.user } : old));
      void qc.invalidateQueries({ queryKey: ['admin', 'users'] });
      if (res.user.id === me.id) void qc.invalidateQueries({ queryKey: ['session'] });
      toast(t('admin.users.saved'), 'success');
    },
    onError: (e) => {
      setError(errorText(t, e));
      setIsAdmin(u.isAdmin);
      setDisabled(u.disabled);
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    const errs: typeof fe = {};
    if (!displayName.trim()) errs.displayName = t('form.required');
    if (email.trim() && !EMAIL.test(email.trim())) errs.email = t('form.invalidEmail');
    else if (!email.trim() && u.email) errs.email = t('form.required');
    setFe(errs);
    setError(null);
    if (Object.keys(errs).length) return;
    const patch: { displayName?: string; email?: string; isAdmin?: boolean; disabled?: boolean } = {};
    if (displayName.trim() !== u.displayName) patch.displayName = displayName.trim();
    if (email.trim() && email.trim() !== u.email) patch.email = email.trim();
    if (isAdmin !== u.isAdmin) patch.isAdmin = isAdmin;
    if (disabled !== u.disabled) patch.disabled = disabled;
    if (!Object.keys(patch).length) {
      toast(t('profile.nothingChanged'));
      return;
    }
    save.mutate(patch);
  }

  const isSelf = u.id === me.id;

  return (
    <>
      <PageHeader title={u.displayName} description={<span className="mono">{u.login}</span>} actions={<UserStatusBadges user={u} />} />
      <AdminNav />
      <div className="detail-grid">
        <Card labelledBy="ud-edit">
          <h2 id="ud-edit" className="card-title-gap">
            {t('admin.users.editTitle')}
          </h2>
          <form className="form" onSubmit={submit} noValidate aria-labelledby="ud-edit">
            <TextField label={t('admin.users.displayName')} value={displayName} onChange={setDisplayName} required error={fe.displayName} autoComplete="off" />
            <TextField label={t('admin.users.email')} type="email" value={email} onChange={setEmail} required={Boolean(u.email)} error={fe.email} autoComplete="off" />
            <Checkbox label={t('admin.users.isAdmin')} description={t('admin.users.isAdminHelp')} checked={isAdmin} onChange={setIsAdmin} />
            <Checkbox label={t('admin.users.disabledLabel')} description={isSelf ? t('admin.users.disabledSelf') : t('admin.users.disabledHelp')} checked={disabled} onChange={setDisabled} />
            <ErrorBox message={error} />
            <div>
              <Button type="submit" variant="primary" loading={save.isPending}>
                {t('common.save')}
              </Button>
            </div>
          </form>
        </Card>
        <div className="detail-col">
          <Card labelledBy="ud-info">
            <h2 id="ud-info" className="card-title-gap">
              {t('admin.users.infoTitle')}
            </h2>
            <dl className="readonly-list">
              <dt>{t('admin.users.createdAt')}</dt>
              <dd>{fmt.dateTime(u.createdAt)}</dd>
              <dt>{t('admin.users.lastLogin')}</dt>
              <dd>{u.lastLoginAt ? fmt.dateTime(u.lastLoginAt) : t('admin.users.never')}</dd>
              <dt>{t('admin.users.twoStep')}</dt>
              <dd>{u.totpEnabled ? <Badge tone="success">{t('security.totpOn')}</Badge> : <Badge>{t('security.totpOff')}</Badge>}</dd>
            </dl>
          </Card>
          <Card labelledBy="ud-groups">
            <h2 id="ud-groups" className="card-title-gap">
              {t('admin.users.groupsTitle')}
            </h2>
            {detail.groups.length === 0 ? (
              <EmptyState icon={<UsersRound size={24} />} title={t('admin.users.noGroups')} action={<Link href="/admin/groups">{t('admin.users.goGroups')}</Link>}>
                {t('admin.users.noGroupsText')}
              </EmptyState>
            ) : (
              <ul className="list">
                {detail.groups.map((g) => (
                  <li key={g.id}>
                    <Link href={`/admin/groups/${encodeURIComponent(g.id)}`}>{g.name}</Link>
                  </li>
                ))}
              </ul>
            )}
          </Card>
          <StorageCard ownerType="user" ownerId={u.id} />
          <Card labelledBy="ud-actions">
            <h2 id="ud-actions" className="card-title-gap">
              {t('admin.users.actionsTitle')}
            </h2>
            <div className="stack-sm">
              <div>
                <Button icon={<KeyRound size={16} aria-hidden="true" />} onClick={() => setResetOpen(true)}>
                  {t('admin.users.resetPassword')}
                </Button>
              </div>
              <div>
                <Button variant="danger" icon={<Trash2 size={16} aria-hidden="true" />} onClick={() => setDeleteOpen(true)}>
                  {t('admin.users.delete')}
                </Button>
              </div>
            </div>
          </Card>
        </div>
      </div>
      <ResetPasswordDialog user={u} isOpen={resetOpen} onClose={() => setResetOpen(false)} />
      <ConfirmDialog
        isOpen={deleteOpen}
        onClose={() => setDeleteOpen(false)}
        title={t('admin.users.deleteTitle', { name: u.displayName })}
        body={t('admin.users.deleteText', { name: u.displayName })}
        confirmLabel={t('admin.users.delete')}
        cancelLabel={t('common.cancel')}
        closeLabel={t('common.close')}
        danger
        errorText={(e) => errorText(t, e)}
        onConfirm={async () => {
          await api.del(`/api/admin/users/${encodeURIComponent(u.id)}`);
          qc.removeQueries({ queryKey: ['admin', 'user', u.id] });
          void qc.invalidateQueries({ queryKey: ['admin', 'users'] });
          toast(t('admin.users.deleted', { name: u.displayName }), 'success');
          navigate('/admin/users', { replace: true });
        }}
      />
    </>
  );
}

function ResetPasswordDialog({ user, isOpen, onClose }: { user: AdminUser; isOpen: boolean; onClose: () => void }) {
  const { t } = useI18n();
  const toast = useToast();
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; rules: string[] } | null>(null);
  const [temp, setTemp] = useState<string | null>(null);

  function close() {
    setPassword('');
    setError(null);
    setTemp(null);
    onClose();
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const res = await api.post<{ temporaryPassword?: string } | undefined>(`/api/admin/users/${encodeURIComponent(user.id)}/reset-password`, password ? { password } : {});
      if (res?.temporaryPassword) setTemp(res.temporaryPassword);
      else {
        toast(t('admin.users.resetDone', { name: user.displayName }), 'success');
        close();
      }
    } catch (err) {
      setError(describeError(t, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AppDialog isOpen={isOpen} onClose={close} title={t('admin.users.resetTitle', { name: user.displayName })} closeLabel={t('common.close')} dismissable={false}>
      {temp ? (
        <div className="stack">
          <p>{t('admin.users.resetTempText', { name: user.displayName })}</p>
          <SecretValue value={temp} label={t('admin.users.tempPassword')} copyLabel={t('common.copy')} copiedLabel={t('common.copied')} testId="temporary-password" />
          <p className="muted small">{t('admin.users.tempPasswordOnce')}</p>
          <div className="row-end">
            <Button variant="primary" onClick={close}>
              {t('common.done')}
            </Button>
          </div>
        </div>
      ) : (
        <form className="form" onSubmit={(e) => void submit(e)} noValidate>
          <p>{t('admin.users.resetText')}</p>
          <TextField label={t('admin.users.newPasswordOptional')} description={t('admin.users.passwordHelp')} type="password" value={password} onChange={setPassword} autoComplete="new-password" autoFocus />
          <ErrorBox message={error?.message ?? null} items={error?.rules} />
          <div className="row-end">
            <Button onClick={close}>{t('common.cancel')}</Button>
            <Button type="submit" variant="primary" loading={busy}>
              {t('admin.users.resetSubmit')}
            </Button>
          </div>
        </form>
      )}
    </AppDialog>
  );
}
