/** The calendar app's dialogs: which occurrences a change applies to, a calendar's settings, the shortcuts. */
import { useRef, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Download, Trash2, Upload } from 'lucide-react';
import { errorText, useI18n } from '../../app/i18n';
import { Button } from '../../ui/Button';
import { AppDialog } from '../../ui/Dialog';
import { FormError, TextField } from '../../ui/Field';
import { useToast } from '../../ui/Toast';
import { calendarsKey, createCalendar, deleteCalendar, exportUrl, importIcs, updateCalendar, type Calendar, type Scope } from './api';

export function ScopeDialog({ kind, allowThis, onDone }: { kind: 'edit' | 'delete'; allowThis: boolean; onDone: (s: Scope | null) => void }) {
  const { t } = useI18n();
  const [scope, setScope] = useState<Scope>(allowThis ? 'this' : 'following');
  const opts: Scope[] = ['this', 'following', 'all'];
  return (
    <AppDialog
      isOpen
      onClose={() => onDone(null)}
      title={kind === 'edit' ? t('calendar.scope.editTitle') : t('calendar.scope.deleteTitle')}
      closeLabel={t('common.close')}
      size="sm"
      testId="cal-scope"
      footer={
        <>
          <Button onClick={() => onDone(null)}>{t('common.cancel')}</Button>
          <Button variant={kind === 'delete' ? 'danger' : 'primary'} onClick={() => onDone(scope)}>
            {kind === 'edit' ? t('common.save') : t('calendar.delete')}
          </Button>
        </>
      }
    >
      <fieldset className="cal-scope">
        <legend className="visually-hidden">{t('calendar.scope.legend')}</legend>
        {opts.map((o) => (
          <label key={o} className="cal-radio">
            <input type="radio" name="cal-scope" value={o} checked={scope === o} disabled={o === 'this' && !allowThis} onChange={() => setScope(o)} />
            {t(`calendar.scope.${o}`)}
          </label>
        ))}
      </fieldset>
      {!allowThis && <p className="muted">{t('calendar.scope.ruleChanged')}</p>}
    </AppDialog>
  );
}

export const PALETTE = ['#2563eb', '#059669', '#d97706', '#dc2626', '#7c3aed', '#db2777', '#0891b2', '#65a30d', '#475569'];

/** A new calendar, or a calendar's name, colour, import, export and deletion. */
export function CalendarDialog({ calendar, onClose, canDelete }: { calendar: Calendar | null; onClose: () => void; canDelete: boolean }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState(calendar?.name ?? '');
  const [color, setColor] = useState(calendar?.color ?? PALETTE[0]!);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<number | null>(null);
  const [importMsg, setImportMsg] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const fileRef = useRef<HTMLInputElement>(null);

  async function save() {
    if (!name.trim()) return setError(t('calendar.cal.nameRequired'));
    setBusy(true);
    setError(null);
    try {
      if (calendar) await updateCalendar(calendar.id, { name: name.trim(), color });
      else await createCalendar({ name: name.trim(), color });
      await qc.invalidateQueries({ queryKey: calendarsKey });
      onClose();
    } catch (e) {
      setError(errorText(t, e));
    } finally {
      setBusy(false);
    }
  }
  async function remove() {
    if (!calendar) return;
    if (!confirmDelete) return setConfirmDelete(true);
    setBusy(true);
    try {
      await deleteCalendar(calendar.id);
      await qc.invalidateQueries({ queryKey: ['calendar'] });
      toast(t('calendar.cal.deleted', { name: calendar.name }), 'success');
      onClose();
    } catch (e) {
      setError(errorText(t, e));
    } finally {
      setBusy(false);
    }
  }
  async function importFile(file: File) {
    if (!calendar) return;
    setError(null);
    setImportMsg(null);
    setProgress(0);
    try {
      const r = await importIcs(calendar.id, file, setProgress);
      setImportMsg(r.failed.length ? t('calendar.import.partial', { count: r.imported, failed: r.failed.length }) : t('calendar.import.done', { count: r.imported }));
      await qc.invalidateQueries({ queryKey: ['calendar', 'occurrences'] });
    } catch (e) {
      setError(errorText(t, e));
    } finally {
      setProgress(null);
      if (fileRef.current) fileRef.current.value = '';
    }
  }

  return (
    <AppDialog
      isOpen
      onClose={onClose}
      title={calendar ? t('calendar.cal.editTitle') : t('calendar.cal.newTitle')}
      closeLabel={t('common.close')}
      size="sm"
      testId="cal-calendar-dialog"
      footer={
        <>
          {calendar && canDelete && (
            <Button variant="danger" icon={<Trash2 size={16} aria-hidden="true" />} onClick={() => void remove()} disabled={busy} className="cal-left">
              {confirmDelete ? t('calendar.cal.confirmDelete') : t('calendar.cal.delete')}
            </Button>
          )}
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button variant="primary" loading={busy} onClick={() => void save()}>
            {calendar ? t('common.save') : t('common.create')}
          </Button>
        </>
      }
    >
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <TextField label={t('calendar.cal.name')} value={name} onChange={setName} autoFocus maxLength={200} required />
        <fieldset className="cal-colors">
          <legend className="field-label">{t('calendar.cal.color')}</legend>
          {PALETTE.map((c) => (
            <label key={c} className="cal-swatch-label">
              <input type="radio" name="cal-color" className="cal-overlay-input" checked={color === c} onChange={() => setColor(c)} aria-label={t(`calendar.color.${PALETTE.indexOf(c)}` as 'calendar.color.0')} />
              <span className={`cal-swatch cal-swatch-${PALETTE.indexOf(c)}${color === c ? ' is-on' : ''}`} aria-hidden="true" />
            </label>
          ))}
        </fieldset>
        {calendar && confirmDelete && <p className="cal-warning" role="alert">{t('calendar.cal.deleteWarning', { name: calendar.name })}</p>}
        {calendar && (
          <div className="cal-io stack-sm">
            <div className="cal-io-row">
              <a className="btn btn-secondary" href={exportUrl(calendar.id)} download>
                <Download size={16} aria-hidden="true" />
                <span>{t('calendar.export')}</span>
              </a>
              <Button icon={<Upload size={16} aria-hidden="true" />} onClick={() => fileRef.current?.click()} disabled={progress !== null}>
                {t('calendar.import')}
              </Button>
              <input ref={fileRef} type="file" accept=".ics,text/calendar" className="visually-hidden" tabIndex={-1} aria-label={t('calendar.importFile')} data-testid="cal-import-input" onChange={(e) => e.target.files?.[0] && void importFile(e.target.files[0])} />
            </div>
            {progress !== null && <progress className="cal-progress" value={progress} max={1} aria-label={t('calendar.import.progress')} />}
            {importMsg && <p role="status">{importMsg}</p>}
          </div>
        )}
        <FormError>{error}</FormError>
        <button type="submit" hidden />
      </form>
    </AppDialog>
  );
}

export function ShortcutsHelp({ onClose }: { onClose: () => void }) {
  const { t } = useI18n();
  const rows: Array<[string[], string]> = [
    [['T'], t('calendar.keys.today')],
    [['D'], t('calendar.keys.day')],
    [['W'], t('calendar.keys.week')],
    [['M'], t('calendar.keys.month')],
    [['A'], t('calendar.keys.agenda')],
    [['J', '→'], t('calendar.keys.next')],
    [['K', '←'], t('calendar.keys.prev')],
    [['C'], t('calendar.keys.create')],
  ];
  return (
    <AppDialog isOpen onClose={onClose} title={t('calendar.keys.title')} closeLabel={t('common.close')} size="sm" focusableBody footer={<Button variant="primary" onClick={onClose}>{t('common.close')}</Button>}>
      <table className="table shortcuts">
        <caption className="visually-hidden">{t('calendar.keys.title')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('shortcuts.keys')}</th>
            <th scope="col">{t('shortcuts.action')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([keys, what]) => (
            <tr key={what}>
              <td>
                {keys.map((k, i) => (
                  <span key={k}>
                    {i > 0 && ` ${t('calendar.keys.or')} `}
                    <kbd>{k}</kbd>
                  </span>
                ))}
              </td>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </AppDialog>
  );
}
