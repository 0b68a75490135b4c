import { useId, useState } from 'react';
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import { FileClock, ShieldAlert, ShieldCheck } from 'lucide-react';
import { api, withQuery } from '../../app/api';
import { errorText, useI18n } from '../../app/i18n';
import { QueryView } from '../../app/QueryView';
import { Link } from '../../app/router';
import type { AuditEntry, AuditVerify, Page } from '../../app/types';
import { Button } from '../../ui/Button';
import { TextField } from '../../ui/Field';
import { ErrorBox } from '../../ui/ErrorBox';
import { PageHeader, useDocumentTitle } from '../../ui/Page';
import { EmptyState } from '../../ui/States';
import { AdminNav, Pager, useCursorPaging, useDebounced } from './common';

const LIMIT = 50;

function hasDetails(d: unknown): boolean {
  if (d === null || d === undefined) return false;
  if (typeof d === 'object') return Object.keys(d as object).length > 0;
  return true;
}

export function AuditPage() {
  const { t, fmt } = useI18n();
  useDocumentTitle(t('admin.audit.title'));
  const listId = useId();
  const [action, setAction] = useState('');
  const a = useDebounced(action.trim());
  const paging = useCursorPaging();
  const [known, setKnown] = useState<string[]>([]);

  const query = useQuery({
    queryKey: ['admin', 'audit', { action: a, cursor: paging.cursor }],
    queryFn: async ({ signal }) => {
      const res = await api.get<Page<AuditEntry>>(withQuery('/api/admin/audit', { action: a, cursor: paging.cursor, limit: LIMIT }), { signal });
      setKnown((k) => {
        const s = new Set(k);
        for (const e of res.items) s.add(e.action);
        return s.size === k.length ? k : [...s].sort();
      });
      return res;
    },
    placeholderData: keepPreviousData,
  });

  const verify = useMutation({ mutationFn: () => api.get<AuditVerify>('/api/admin/audit/verify') });

  return (
    <div className="page">
      <PageHeader
        title={t('admin.title')}
        actions={
          <Button icon={<ShieldCheck size={16} aria-hidden="true" />} loading={verify.isPending} onClick={() => verify.mutate()}>
            {t('admin.audit.verify')}
          </Button>
        }
      />
      <AdminNav />
      <h2 className="visually-hidden">{t('admin.audit.title')}</h2>
      <div role="status" className="verify-result">
        {verify.data &&
          (verify.data.ok ? (
            <div className="form-success row">
              <ShieldCheck size={18} aria-hidden="true" />
              {t('admin.audit.verifyOk', { count: verify.data.count })}
            </div>
          ) : (
            <div className="form-error row">
              <ShieldAlert size={18} aria-hidden="true" />
              {verify.data.brokenAt !== null ? t('admin.audit.verifyBroken', { seq: verify.data.brokenAt, count: verify.data.count }) : t('admin.audit.verifyBrokenNoSeq')}
            </div>
          ))}
      </div>
      {verify.isError && <ErrorBox message={errorText(t, verify.error)} />}
      <p className="muted" style={{ marginBottom: 'var(--s-4)' }}>
        {t('admin.audit.intro')}
      </p>
      <div className="toolbar" role="search" aria-label={t('admin.audit.filter')}>
        <TextField
          label={t('admin.audit.action')}
          description={t('admin.audit.actionHelp')}
          value={action}
          onChange={(v) => {
            setAction(v);
            paging.reset();
          }}
          list={`${listId}-actions`}
          autoComplete="off"
          spellCheck={false}
          placeholder="identity.user.created"
        />
        <datalist id={`${listId}-actions`}>
          {known.map((k) => (
            <option key={k} value={k} />
          ))}
        </datalist>
      </div>
      <QueryView
        query={query}
        errorTitle={t('admin.audit.loadError')}
        lines={10}
        isEmpty={(d) => d.items.length === 0}
        empty={
          <EmptyState icon={<FileClock size={28} />} title={a ? t('admin.audit.noMatch', { action: a }) : t('admin.audit.emptyTitle')}>
            {a ? t('admin.audit.noMatchText') : t('admin.audit.emptyText')}
          </EmptyState>
        }
      >
        {(d) => (
          <>
            <div className="table-wrap">
              <table className="table" aria-busy={query.isFetching || undefined}>
                <caption className="visually-hidden">{t('admin.audit.caption')}</caption>
                <thead>
                  <tr>
                    <th scope="col" className="num hide-sm">
                      #
                    </th>
                    <th scope="col">{t('admin.audit.date')}</th>
                    <th scope="col">{t('admin.audit.actor')}</th>
                    <th scope="col">{t('admin.audit.actionCol')}</th>
                    <th scope="col" className="hide-sm">
                      {t('admin.audit.target')}
                    </th>
                    <th scope="col" className="hide-sm">
                      {t('admin.audit.ip')}
                    </th>
                    <th scope="col">{t('admin.audit.details')}</th>
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((e) => (
                    <tr key={e.seq}>
                      <td className="num hide-sm">{fmt.number(e.seq)}</td>
                      <td className="tabular nowrap">
                        <time dateTime={new Date(e.at).toISOString()}>{fmt.dateTime(e.at)}</time>
                      </td>
                      <td>
                        {e.actorId && e.actorLogin ? (
                          <Link href={`/admin/users/${encodeURIComponent(e.actorId)}`} className="mono">
                            {e.actorLogin}
                          </Link>
                        ) : (
                          <span className="muted">{e.actorLogin === null ? t('admin.audit.anonymous') : e.actorLogin === 'system' ? t('admin.audit.system') : e.actorLogin}</span>
                        )}
                      </td>
                      <td>
                        <code>{e.action}</code>
                      </td>
                      <td className="hide-sm">
                        {e.targetType ? (
                          <span>
                            {e.targetType}
                            {e.targetId && <span className="muted small mono"> {e.targetId}</span>}
                          </span>
                        ) : (
                          '—'
                        )}
                      </td>
                      <td className="hide-sm mono small">{e.ip ?? '—'}</td>
                      <td>
                        {hasDetails(e.details) ? (
                          <details className="audit-details">
                            <summary>{t('admin.audit.show')}</summary>
                            <pre>{JSON.stringify(e.details, null, 2)}</pre>
                          </details>
                        ) : (
                          '—'
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager page={paging.page} hasPrev={paging.page > 1} nextCursor={d.nextCursor} onPrev={paging.prev} onNext={paging.next} prevLabel={t('admin.audit.newer')} nextLabel={t('admin.audit.older')} />
          </>
        )}
      </QueryView>
    </div>
  );
}
