import { useState, type FormEvent } from 'react';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { Plus, Users } from 'lucide-react';
import { api, withQuery } from '../../app/api';
import { useI18n } from '../../app/i18n';
import { describeError } from '../../app/errors';
import { QueryView } from '../../app/QueryView';
import { Link } from '../../app/router';
import type { AdminUser, Page } from '../../app/types';
import { initials } from '../../app/triggers';
import { Button } from '../../ui/Button';
import { Checkbox, TextField } from '../../ui/Field';
import { ErrorBox } from '../../ui/ErrorBox';
import { AppDialog } from '../../ui/Dialog';
import { Badge, PageHeader, useDocumentTitle } from '../../ui/Page';
import { SecretValue } from '../../ui/Copy';
import { EmptyState } from '../../ui/States';
import { useToast } from '../../ui/Toast';
import { AdminNav, Pager, useCursorPaging, useDebounced } from './common';

const LIMIT = 25;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function UserStatusBadges({ user }: { user: AdminUser }) {
  const { t } = useI18n();
  return (
    <span className="status-badges">
      {user.isAdmin && <Badge tone="accent">{t('admin.users.admin')}</Badge>}
      {user.disabled ? <Badge tone="danger">{t('admin.users.disabled')}</Badge> : <Badge tone="success">{t('admin.users.active')}</Badge>}
    </span>
  );
}

export function UsersPage() {
  const { t, fmt } = useI18n();
  useDocumentTitle(t('admin.users.title'));
  const [search, setSearch] = useState('');
  const q = useDebounced(search.trim());
  const paging = useCursorPaging();
  const [creating, setCreating] = useState(false);

  const query = useQuery({
    queryKey: ['admin', 'users', { q, cursor: paging.cursor }],
    queryFn: ({ signal }) => api.get<Page<AdminUser>>(withQuery('/api/admin/users', { q, cursor: paging.cursor, limit: LIMIT }), { signal }),
    placeholderData: keepPreviousData,
  });

  return (
    <div className="page">
      <PageHeader
        title={t('admin.title')}
        actions={
          <Button variant="primary" icon={<Plus size={16} aria-hidden="true" />} onClick={() => setCreating(true)}>
            {t('admin.users.create')}
          </Button>
        }
      />
      <AdminNav />
      <h2 className="visually-hidden">{t('admin.users.title')}</h2>
      <div className="toolbar" role="search" aria-label={t('admin.users.search')}>
        <TextField
          label={t('admin.users.search')}
          type="search"
          value={search}
          onChange={(v) => {
            setSearch(v);
            paging.reset();
          }}
          placeholder={t('admin.users.searchPlaceholder')}
        />
      </div>
      <QueryView
        query={query}
        errorTitle={t('admin.users.loadError')}
        lines={8}
        isEmpty={(d) => d.items.length === 0}
        empty={
          <EmptyState
            icon={<Users size={28} />}
            title={q ? t('admin.users.noMatch', { q }) : t('admin.users.emptyTitle')}
            action={
              !q && (
                <Button variant="primary" icon={<Plus size={16} aria-hidden="true" />} onClick={() => setCreating(true)}>
                  {t('admin.users.create')}
                </Button>
              )
            }
          >
            {q ? t('admin.users.noMatchText') : t('admin.users.emptyText')}
          </EmptyState>
        }
      >
        {(d) => (
          <>
            <div className="table-wrap">
              <table className="table" aria-busy={query.isFetching || undefined}>
                <caption className="visually-hidden">{t('admin.users.title')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('admin.users.name')}</th>
                    <th scope="col" className="hide-sm">
                      {t('admin.users.email')}
                    </th>
                    <th scope="col">{t('admin.users.status')}</th>
                    <th scope="col" className="hide-sm">
                      {t('admin.users.twoStep')}
                    </th>
                    <th scope="col" className="hide-sm">
                      {t('admin.users.lastLogin')}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((u) => (
                    <tr key={u.id}>
                      <td>
                        <div className="user-cell">
                          <span className="avatar" aria-hidden="true">
                            {initials(u.displayName || u.login)}
                          </span>
                          <span className="user-cell-text">
                            <Link href={`/admin/users/${encodeURIComponent(u.id)}`}>{u.displayName}</Link>
                            <span className="muted small mono">{u.login}</span>
                          </span>
                        </div>
                      </td>
                      <td className="hide-sm">{u.email ?? <span className="muted">—</span>}</td>
                      <td>
                        <UserStatusBadges user={u} />
                      </td>
                      <td className="hide-sm">{u.totpEnabled ? t('security.totpOn') : t('security.totpOff')}</td>
                      <td className="hide-sm tabular nowrap">{u.lastLoginAt ? fmt.dateTime(u.lastLoginAt) : t('admin.users.never')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager page={paging.page} hasPrev={paging.page > 1} nextCursor={d.nextCursor} onPrev={paging.prev} onNext={paging.next} />
          </>
        )}
      </QueryView>
      <CreateUserDialog isOpen={creating} onClose={() => setCreating(false)} />
    </div>
  );
}

function CreateUserDialog({ isOpen, onClose }: { isOpen: boolean; onClose: () => void }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const toast = useToast();
  const [login, setLogin] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [isAdmin, setIsAdmin] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; rules: string[] } | null>(null);
  const [fe, setFe] = useState<{ login?: string; displayName?: string; email?: string }>({});
  const [created, setCreated] = useState<{ user: AdminUser; temporaryPassword: string } | null>(null);

  function reset() {
    setLogin('');
    setDisplayName('');
    setEmail('');
    setPassword('');
    setIsAdmin(false);
    setError(null);
    setFe({});
    setCreated(null);
  }
  function close() {
    reset();
    onClose();
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    const errs: typeof fe = {};
    if (!login.trim()) errs.login = t('form.required');
    if (!displayName.trim()) errs.displayName = t('form.required');
    if (!email.trim()) errs.email = t('form.required');
    else if (!EMAIL.test(email.trim())) errs.email = t('form.invalidEmail');
    setFe(errs);
    setError(null);
    if (Object.keys(errs).length) return;
    setBusy(true);
    try {
      const body: Record<string, unknown> = { login: login.trim(), displayName: displayName.trim(), email: email.trim(), isAdmin };
      if (password) body.password = password;
      const res = await api.post<{ user: AdminUser; temporaryPassword?: string }>('/api/admin/users', body);
      void qc.invalidateQueries({ queryKey: ['admin', 'users'] });
      if (res.temporaryPassword) {
        setCreated({ user: res.user, temporaryPassword: res.temporaryPassword });
      } else {
        toast(t('admin.users.created', { name: res.user.displayName }), 'success');
        close();
      }
    } catch (err) {
      setError(describeError(t, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AppDialog
      isOpen={isOpen}
      onClose={close}
      title={created ? t('admin.users.createdTitle') : t('admin.users.createTitle')}
      closeLabel={t('common.close')}
      dismissable={false}
      testId="create-user-dialog"
    >
      {created ? (
        <div className="stack">
          <p>{t('admin.users.tempPasswordText', { name: created.user.displayName, login: created.user.login })}</p>
          <SecretValue value={created.temporaryPassword} label={t('admin.users.tempPassword')} copyLabel={t('common.copy')} copiedLabel={t('common.copied')} testId="temporary-password" />
          <p className="muted small">{t('admin.users.tempPasswordOnce')}</p>
          <div className="row-end">
            <Button onClick={reset}>{t('admin.users.createAnother')}</Button>
            <Button variant="primary" onClick={close}>
              {t('common.done')}
            </Button>
          </div>
        </div>
      ) : (
        <form className="form" onSubmit={(e) => void submit(e)} noValidate>
          <TextField label={t('admin.users.login')} description={t('setup.loginHelp')} value={login} onChange={setLogin} autoCapitalize="none" spellCheck={false} autoComplete="off" required error={fe.login} autoFocus />
          <TextField label={t('admin.users.displayName')} value={displayName} onChange={setDisplayName} autoComplete="off" required error={fe.displayName} />
          <TextField label={t('admin.users.email')} type="email" value={email} onChange={setEmail} autoComplete="off" required error={fe.email} />
          <TextField label={t('admin.users.passwordOptional')} description={t('admin.users.passwordHelp')} type="password" value={password} onChange={setPassword} autoComplete="new-password" />
          <Checkbox label={t('admin.users.isAdmin')} description={t('admin.users.isAdminHelp')} checked={isAdmin} onChange={setIsAdmin} />
          <ErrorBox message={error?.message ?? null} items={error?.rules} />
          <div className="row-end">
            <Button onClick={close}>{t('common.cancel')}</Button>
            <Button type="submit" variant="primary" loading={busy}>
              {t('admin.users.createSubmit')}
            </Button>
          </div>
        </form>
      )}
    </AppDialog>
  );
}
