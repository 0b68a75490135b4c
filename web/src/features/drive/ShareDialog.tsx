/**
 * Sharing one file or folder: with people, groups and spaces (a typeahead on /api/drive/share-targets,
 * read or write), the list of current shares (change the permission, stop sharing), and public links
 * ("view and download", or for a folder "file drop — upload only") with an optional password, expiry
 * date, download limit and label; each link shows its address with a copy button and its downloads.
 */
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent, type RefObject } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Building2, Link2, Pencil, Trash2, User, Users, X } from 'lucide-react';
import { errorText, useI18n, type TFunction } from '../../app/i18n';
import { Button, IconButton } from '../../ui/Button';
import { CopyButton } from '../../ui/Copy';
import { AppDialog, ConfirmDialog } from '../../ui/Dialog';
import { Checkbox, FormError, SelectField, TextField } from '../../ui/Field';
import { ErrorState, Skeleton } from '../../ui/States';
import { useToast } from '../../ui/Toast';
import type { DriveItem } from './api';
import {
  createLink,
  createShare,
  deleteLink,
  deleteShare,
  findShareTargets,
  getShares,
  sharesKey,
  shareTargetsKey,
  updateLink,
  updateShare,
  type GranteeType,
  type LinkMode,
  type LinkOptions,
  type Permission,
  type PublicLink,
  type Share,
  type ShareTarget,
} from './sharingApi';
import './sharing.css';

export interface ShareDialogProps {
  /** 'me', 'space:<id>' or 'share:<id>'. */
  drive: string;
  /** The item's path in that drive. */
  path: string;
  item: DriveItem;
  onClose: () => void;
}

export function ShareDialog({ drive, path, item, onClose }: ShareDialogProps) {
  const { t } = useI18n();
  const query = useQuery({ queryKey: sharesKey(drive, path), queryFn: ({ signal }) => getShares(drive, path, signal), staleTime: 0 });
  return (
    <AppDialog isOpen onClose={onClose} title={t('sharing.title', { name: item.name })} closeLabel={t('common.close')} size="lg" testId="share-dialog">
      {query.isPending ? (
        <Skeleton label={t('common.loading')} lines={5} />
      ) : query.isError ? (
        <ErrorState title={t('sharing.loadError')} message={errorText(t, query.error)} retryLabel={t('common.retry')} onRetry={() => void query.refetch()} />
      ) : (
        <div className="stack sharing">
          <PeopleSection drive={drive} path={path} shares={query.data.shares} />
          <LinksSection drive={drive} path={path} item={item} links={query.data.links} />
        </div>
      )}
    </AppDialog>
  );
}

function granteeIcon(type: GranteeType | string) {
  if (type === 'group') return <Users size={18} aria-hidden="true" />;
  if (type === 'space') return <Building2 size={18} aria-hidden="true" />;
  return <User size={18} aria-hidden="true" />;
}

function granteeTypeLabel(t: TFunction, type: GranteeType | string): string {
  return type === 'group' ? t('sharing.type.group') : type === 'space' ? t('sharing.type.space') : t('sharing.type.user');
}

// ---- people, groups and spaces ----

function PeopleSection({ drive, path, shares }: { drive: string; path: string; shares: Share[] }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const toast = useToast();
  const headingId = useId();
  const [target, setTarget] = useState<ShareTarget | null>(null);
  const [permission, setPermission] = useState<Permission>('read');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [rowBusy, setRowBusy] = useState<string | null>(null);
  // The picker and the chip replace each other: keep the keyboard focus where the user goes next.
  const pickerRef = useRef<HTMLInputElement>(null);
  const shareRef = useRef<HTMLButtonElement>(null);
  const [focusTo, setFocusTo] = useState<'picker' | 'share' | null>(null);
  useEffect(() => {
    if (focusTo === 'picker') pickerRef.current?.focus();
    else if (focusTo === 'share') shareRef.current?.focus();
    setFocusTo(null);
  }, [focusTo, target]);
  const refresh = () => qc.invalidateQueries({ queryKey: sharesKey(drive, path) });
  const permissionOptions = [
    { value: 'read' as const, label: t('sharing.perm.read') },
    { value: 'write' as const, label: t('sharing.perm.write') },
  ];

  async function add(e: FormEvent) {
    e.preventDefault();
    if (!target) {
      setError(t('sharing.pickFirst'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await createShare(drive, path, target, permission);
      toast(t('sharing.shared', { name: target.name }), 'success');
      setTarget(null);
      setFocusTo('picker');
      await refresh();
    } catch (err) {
      setError(errorText(t, err));
      setFocusTo('share');
    } finally {
      setBusy(false);
    }
  }

  async function change(s: Share, p: Permission) {
    setRowBusy(s.id);
    setError(null);
    try {
      await updateShare(drive, s.id, p);
      toast(t('sharing.permChanged', { name: s.granteeName }), 'success');
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setRowBusy(null);
      void refresh();
    }
  }

  async function remove(s: Share) {
    setRowBusy(s.id);
    setError(null);
    try {
      await deleteShare(drive, s.id);
      toast(t('sharing.removed', { name: s.granteeName }), 'success');
      setFocusTo('picker');
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setRowBusy(null);
      void refresh();
    }
  }

  return (
    <section className="stack-sm" aria-labelledby={headingId}>
      <h3 id={headingId} className="sharing-heading">
        {t('sharing.people')}
      </h3>
      <form className="sharing-add" onSubmit={(e) => void add(e)}>
        {target ? (
          <div className="field sharing-picked">
            <span className="field-label">{t('sharing.with')}</span>
            <span className="sharing-chip" data-testid="share-picked">
              {granteeIcon(target.type)}
              <span>
                {target.name} <span className="muted small">({granteeTypeLabel(t, target.type)})</span>
              </span>
              <IconButton
                label={t('sharing.unpick', { name: target.name })}
                icon={<X size={16} aria-hidden="true" />}
                onClick={() => {
                  setTarget(null);
                  setFocusTo('picker');
                }}
              />
            </span>
          </div>
        ) : (
          <TargetPicker
            inputRef={pickerRef}
            exclude={new Set(shares.map((s) => `${s.granteeType}:${s.granteeId}`))}
            onPick={(x) => {
              setTarget(x);
              setFocusTo('share');
            }}
          />
        )}
        <SelectField label={t('sharing.permission')} value={permission} onChange={setPermission} options={permissionOptions} className="sharing-perm" />
        <Button ref={shareRef} type="submit" variant="primary" loading={busy} disabled={!target}>
          {t('sharing.share')}
        </Button>
      </form>
      <FormError>{error}</FormError>
      {shares.length === 0 ? (
        <p className="muted small">{t('sharing.noShares')}</p>
      ) : (
        <ul className="list sharing-list" aria-label={t('sharing.currentShares')}>
          {shares.map((s) => (
            <li key={s.id} data-testid="share-row">
              <span className="sharing-icon">{granteeIcon(s.granteeType)}</span>
              <div className="list-main">
                <span className="list-title">{s.granteeName}</span>
                <span className="muted small">{granteeTypeLabel(t, s.granteeType)}</span>
              </div>
              <select
                className="input select sharing-row-perm"
                aria-label={t('sharing.permissionFor', { name: s.granteeName })}
                value={s.permission}
                aria-busy={rowBusy === s.id || undefined}
                onChange={(e) => void change(s, e.target.value === 'write' ? 'write' : 'read')}
              >
                {permissionOptions.map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
              </select>
              <IconButton label={t('sharing.removeNamed', { name: s.granteeName })} icon={<Trash2 size={18} aria-hidden="true" />} disabled={rowBusy === s.id} onClick={() => void remove(s)} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const h = window.setTimeout(() => setV(value), ms);
    return () => window.clearTimeout(h);
  }, [value, ms]);
  return v;
}

/** A combobox over people, groups and spaces (WAI-ARIA combobox with a listbox popup). */
function TargetPicker({ exclude, onPick, inputRef }: { exclude: Set<string>; onPick: (t: ShareTarget) => void; inputRef: RefObject<HTMLInputElement | null> }) {
  const { t } = useI18n();
  const id = useId();
  const [q, setQ] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const term = useDebounced(q.trim(), 200);
  const res = useQuery({
    queryKey: shareTargetsKey(term),
    queryFn: ({ signal }) => findShareTargets(term, signal),
    enabled: term.length >= 1,
    staleTime: 30_000,
  });
  const items = (res.data?.items ?? []).filter((x) => !exclude.has(`${x.type}:${x.id}`));
  const show = open && q.trim().length >= 1;
  const idx = Math.min(active, Math.max(items.length - 1, 0));
  const optId = (x: ShareTarget) => `${id}-o-${x.type}-${x.id}`;

  function pick(x: ShareTarget | undefined) {
    if (!x) return;
    onPick(x);
    setQ('');
    setOpen(false);
  }

  function onKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setOpen(true);
      setActive((i) => (items.length ? (Math.min(i, items.length - 1) + 1) % items.length : 0));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((i) => (items.length ? (Math.min(i, items.length - 1) - 1 + items.length) % items.length : 0));
    } else if (e.key === 'Enter') {
      if (show) {
        e.preventDefault();
        pick(items[idx]);
      }
    } else if (e.key === 'Escape' && show) {
      // Close the list, not the dialog.
      e.preventDefault();
      e.stopPropagation();
      setOpen(false);
    }
  }

  const waiting = term !== q.trim() || (res.isFetching && !res.data);
  const status = q.trim().length < 1 ? null : waiting ? t('sharing.searching') : res.isError ? errorText(t, res.error) : items.length === 0 ? t('sharing.noMatch') : null;

  return (
    <div className="field sharing-picker">
      <label htmlFor={`${id}-input`} className="field-label">
        {t('sharing.with')}
      </label>
      <div className="sharing-combo">
        <input
          ref={inputRef}
          id={`${id}-input`}
          className="input"
          role="combobox"
          aria-expanded={show}
          aria-controls={`${id}-list`}
          aria-autocomplete="list"
          aria-activedescendant={show && items[idx] ? optId(items[idx]) : undefined}
          aria-describedby={`${id}-help`}
          autoComplete="off"
          spellCheck={false}
          placeholder={t('sharing.pickerPlaceholder')}
          value={q}
          maxLength={100}
          onChange={(e) => {
            setQ(e.target.value);
            setOpen(true);
            setActive(0);
          }}
          onFocus={() => setOpen(true)}
          onBlur={() => setOpen(false)}
          onKeyDown={onKeyDown}
        />
        <ul id={`${id}-list`} role="listbox" aria-label={t('sharing.pickerResults')} className="sharing-options" hidden={!show}>
          {items.map((x, i) => (
            <li
              key={`${x.type}:${x.id}`}
              id={optId(x)}
              role="option"
              aria-selected={i === idx}
              className="sharing-option"
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => pick(x)}
              onMouseMove={() => setActive(i)}
            >
              <span className="sharing-option-name">
                {granteeIcon(x.type)}
                <span>{x.name}</span>
              </span>
              <span className="muted small">
                {granteeTypeLabel(t, x.type)}
                {x.detail ? ` · ${x.detail}` : ''}
              </span>
            </li>
          ))}
          {status && (
            <li role="presentation" className="sharing-status">
              {status}
            </li>
          )}
        </ul>
      </div>
      <p id={`${id}-help`} className="field-desc">
        {t('sharing.pickerHelp')}
      </p>
      <span className="visually-hidden" role="status">
        {show && !waiting ? (items.length > 0 ? t('sharing.matches', { count: items.length }) : t('sharing.noMatch')) : ''}
      </span>
    </div>
  );
}

// ---- public links ----

function LinksSection({ drive, path, item, links }: { drive: string; path: string; item: DriveItem; links: PublicLink[] }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const toast = useToast();
  const headingId = useId();
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<PublicLink | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: sharesKey(drive, path) });
  // Forms replace buttons: after one closes, the focus goes back to the button that opened it.
  const newRef = useRef<HTMLButtonElement>(null);
  const [focusTo, setFocusTo] = useState<string | null>(null);
  useEffect(() => {
    if (focusTo === 'new') newRef.current?.focus();
  }, [focusTo]);
  const closeCreate = () => {
    setCreating(false);
    setFocusTo('new');
  };
  const closeEdit = (id: string) => {
    setEditing(null);
    setFocusTo(id);
  };

  return (
    <section className="stack-sm" aria-labelledby={headingId}>
      <div className="sharing-section-head">
        <h3 id={headingId} className="sharing-heading">
          {t('sharing.links')}
        </h3>
        {!creating && (
          <Button
            ref={newRef}
            size="sm"
            icon={<Link2 size={16} aria-hidden="true" />}
            onClick={() => {
              setFocusTo(null);
              setCreating(true);
            }}
          >
            {t('sharing.newLink')}
          </Button>
        )}
      </div>
      <p className="muted small">{t('sharing.linksHelp')}</p>
      {creating && (
        <LinkForm
          isFolder={item.kind === 'folder'}
          onCancel={closeCreate}
          onSubmit={async (mode, opts) => {
            await createLink(drive, path, mode, opts);
            toast(t('sharing.linkCreated'), 'success');
            closeCreate();
            await refresh();
          }}
        />
      )}
      {links.length === 0 && !creating ? (
        <p className="muted small">{t('sharing.noLinks')}</p>
      ) : (
        links.length > 0 && (
          <ul className="list sharing-list" aria-label={t('sharing.currentLinks')}>
            {links.map((l) => (
              <li key={l.id} data-testid="link-row" className="sharing-link">
                {editing === l.id ? (
                  <LinkForm
                    isFolder={item.kind === 'folder'}
                    link={l}
                    onCancel={() => closeEdit(l.id)}
                    onSubmit={async (_mode, opts) => {
                      await updateLink(drive, l.id, opts);
                      toast(t('sharing.linkSaved'), 'success');
                      closeEdit(l.id);
                      await refresh();
                    }}
                  />
                ) : (
                  <LinkView
                    link={l}
                    focusEdit={focusTo === l.id}
                    onEdit={() => {
                      setFocusTo(null);
                      setEditing(l.id);
                    }}
                    onDelete={() => setDeleting(l)}
                  />
                )}
              </li>
            ))}
          </ul>
        )
      )}
      <ConfirmDialog
        isOpen={deleting !== null}
        onClose={() => setDeleting(null)}
        title={t('sharing.deleteLinkTitle')}
        body={t('sharing.deleteLinkText')}
        confirmLabel={t('sharing.deleteLink')}
        cancelLabel={t('common.cancel')}
        closeLabel={t('common.close')}
        danger
        errorText={(e) => errorText(t, e)}
        onConfirm={async () => {
          if (!deleting) return;
          await deleteLink(drive, deleting.id);
          toast(t('sharing.linkDeleted'), 'success');
          setFocusTo('new');
          await refresh();
        }}
      />
    </section>
  );
}

function LinkView({ link, focusEdit, onEdit, onDelete }: { link: PublicLink; focusEdit: boolean; onEdit: () => void; onDelete: () => void }) {
  const { t, fmt } = useI18n();
  const editRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (focusEdit) editRef.current?.focus();
  }, [focusEdit]);
  const name = link.label || (link.mode === 'drop' ? t('sharing.mode.drop') : t('sharing.mode.read'));
  const expired = link.expiresAt !== null && link.expiresAt <= Date.now();
  const usedUp = link.maxDownloads !== null && link.downloads >= link.maxDownloads;
  return (
    <div className="sharing-link-view">
      <div className="list-main">
        <span className="list-title">{name}</span>
        <span className="meta sharing-meta">
          {link.label && <span>{link.mode === 'drop' ? t('sharing.mode.drop') : t('sharing.mode.read')}</span>}
          {link.hasPassword && <span>{t('sharing.hasPassword')}</span>}
          <span>{link.expiresAt === null ? t('sharing.noExpiry') : expired ? t('sharing.expiredOn', { date: fmt.date(link.expiresAt) }) : t('sharing.expiresOn', { date: fmt.date(link.expiresAt) })}</span>
          {link.mode === 'read' && (
            <span data-testid="link-downloads">
              {link.maxDownloads === null ? t('sharing.downloads', { count: link.downloads }) : t('sharing.downloadsOf', { count: link.downloads, max: link.maxDownloads })}
            </span>
          )}
          {(expired || usedUp) && <span className="sharing-warn">{t('sharing.inactive')}</span>}
        </span>
        <div className="sharing-url-row">
          <input className="input mono sharing-url" readOnly value={link.url} aria-label={t('sharing.urlOf', { name })} onFocus={(e) => e.currentTarget.select()} data-testid="link-url" />
          <CopyButton text={link.url} label={t('sharing.copyLink')} copiedLabel={t('common.copied')} />
        </div>
      </div>
      <div className="row">
        <Button ref={editRef} size="sm" variant="ghost" icon={<Pencil size={16} aria-hidden="true" />} aria-label={t('sharing.editNamed', { name })} onClick={onEdit}>
          {t('sharing.edit')}
        </Button>
        <Button size="sm" variant="ghost" icon={<Trash2 size={16} aria-hidden="true" />} aria-label={t('sharing.deleteNamed', { name })} onClick={onDelete}>
          {t('sharing.deleteLink')}
        </Button>
      </div>
    </div>
  );
}

/** "2026-11-25" ↔ the end of that day in the user's time zone (a link valid "until" a date). */
function dateInputOf(ms: number | null): string {
  if (ms === null) return '';
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
function endOfDay(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59, 0).getTime();
}

function LinkForm({ isFolder, link, onCancel, onSubmit }: { isFolder: boolean; link?: PublicLink; onCancel: () => void; onSubmit: (mode: LinkMode, opts: LinkOptions) => Promise<void> }) {
  const { t } = useI18n();
  const legendId = useId();
  const [mode, setMode] = useState<LinkMode>(link?.mode ?? 'read');
  const [protect, setProtect] = useState(link?.hasPassword ?? false);
  const [password, setPassword] = useState('');
  const [expiry, setExpiry] = useState(dateInputOf(link?.expiresAt ?? null));
  const [limit, setLimit] = useState(link?.maxDownloads === null || link?.maxDownloads === undefined ? '' : String(link.maxDownloads));
  const [label, setLabel] = useState(link?.label ?? '');
  const [errors, setErrors] = useState<{ password?: string; expiry?: string; limit?: string }>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const today = dateInputOf(Date.now());
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(() => {
    formRef.current?.querySelector<HTMLInputElement>('input')?.focus();
  }, []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const errs: typeof errors = {};
    const opts: LinkOptions = { label: label.trim() };
    if (protect) {
      if (password) opts.password = password;
      else if (!link?.hasPassword) errs.password = t('sharing.passwordNeeded');
    } else if (!link || link.hasPassword) opts.password = null;
    if (expiry) {
      const at = endOfDay(expiry);
      if (at === null) errs.expiry = t('sharing.expiryInvalid');
      else if (at <= Date.now()) errs.expiry = t('sharing.expiryPast');
      else opts.expiresAt = at;
    } else opts.expiresAt = null;
    if (mode === 'read') {
      if (limit.trim()) {
        const n = Number(limit.trim());
        if (!Number.isInteger(n) || n < 1 || n > 1_000_000) errs.limit = t('sharing.limitInvalid');
        else opts.maxDownloads = n;
      } else opts.maxDownloads = null;
    }
    setErrors(errs);
    setError(null);
    if (Object.keys(errs).length) return;
    setBusy(true);
    try {
      await onSubmit(mode, opts);
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form ref={formRef} className="sharing-form stack-sm" onSubmit={(e) => void submit(e)} aria-label={link ? t('sharing.editLink') : t('sharing.newLink')} noValidate>
      {!link && isFolder && (
        <fieldset className="fieldset" aria-labelledby={legendId}>
          <legend id={legendId}>{t('sharing.linkMode')}</legend>
          <div className="check">
            <input id={`${legendId}-read`} type="radio" name={`${legendId}-mode`} checked={mode === 'read'} onChange={() => setMode('read')} />
            <div>
              <label htmlFor={`${legendId}-read`}>{t('sharing.mode.read')}</label>
            </div>
          </div>
          <div className="check">
            <input id={`${legendId}-drop`} type="radio" name={`${legendId}-mode`} checked={mode === 'drop'} onChange={() => setMode('drop')} aria-describedby={`${legendId}-drop-desc`} />
            <div>
              <label htmlFor={`${legendId}-drop`}>{t('sharing.mode.drop')}</label>
              <p id={`${legendId}-drop-desc`} className="field-desc">
                {t('sharing.mode.dropHelp')}
              </p>
            </div>
          </div>
        </fieldset>
      )}
      <TextField label={t('sharing.label')} value={label} onChange={setLabel} maxLength={200} description={t('sharing.labelHelp')} />
      <Checkbox label={t('sharing.protect')} checked={protect} onChange={setProtect} />
      {protect && (
        <TextField
          label={t('sharing.password')}
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={setPassword}
          maxLength={200}
          description={link?.hasPassword ? t('sharing.passwordKeep') : undefined}
          error={errors.password}
        />
      )}
      <div className="sharing-form-row">
        <TextField label={t('sharing.expiry')} type="date" min={today} max="2099-12-31" value={expiry} onChange={setExpiry} description={t('sharing.expiryHelp')} error={errors.expiry} />
        {mode === 'read' && (
          <TextField label={t('sharing.limit')} type="number" inputMode="numeric" min={1} max={1000000} step={1} value={limit} onChange={setLimit} description={t('sharing.limitHelp')} error={errors.limit} />
        )}
      </div>
      <FormError>{error}</FormError>
      <div className="row-end">
        <Button onClick={onCancel}>{t('common.cancel')}</Button>
        <Button type="submit" variant="primary" loading={busy}>
          {link ? t('common.save') : t('sharing.createLink')}
        </Button>
      </div>
    </form>
  );
}
