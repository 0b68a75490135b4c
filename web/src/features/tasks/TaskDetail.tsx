/**
 * The task panel: title, notes, due and start dates, priority, status, percent done, sub-tasks and
 * assignees (people from the organisation directory). Each field is saved when it changes (text fields
 * when they lose focus), as in Microsoft To Do.
 */
import { useId, useMemo, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Plus, Trash2, UserPlus, X } from 'lucide-react';
import { useI18n } from '../../app/i18n';
import { Link, navigate } from '../../app/router';
import { Button, IconButton } from '../../ui/Button';
import { ConfirmDialog } from '../../ui/Dialog';
import { SelectField, TextAreaField, TextField } from '../../ui/Field';
import { directoryKey, listDirectory } from '../contacts/api';
import { LEVEL_VALUE, dueDay, isDone, levelOf, type Level, type Status, type Task, type TaskList } from './api';
import { tasksHref } from './links';
import { TaskCheck } from './TaskCheck';
import type { useTasks } from './useTasks';

const STATUSES: Status[] = ['NEEDS-ACTION', 'IN-PROCESS', 'COMPLETED', 'CANCELLED'];

export function TaskDetail({ list, task, all, actions, closeHref, view }: { list: TaskList; task: Task; all: Task[]; actions: ReturnType<typeof useTasks>; closeHref: string; view: string }) {
  const { t } = useI18n();
  const [summary, setSummary] = useState(task.summary);
  const [description, setDescription] = useState(task.description);
  const [percent, setPercent] = useState(String(task.percentComplete));
  const [sub, setSub] = useState('');
  const [confirm, setConfirm] = useState(false);
  const subs = all.filter((x) => x.parentUid === task.uid);
  const parent = task.parentUid ? all.find((x) => x.uid === task.parentUid) : undefined;
  const titleId = useId();
  const save = (changes: Parameters<typeof actions.patch>[1]) => void actions.patch(task, changes);

  return (
    <section className="tk-panel" aria-labelledby={titleId} data-testid="task-detail">
      <div className="tk-panel-head">
        <h2 id={titleId} className="tk-panel-title">
          {t('tasks.details')}
        </h2>
        <Link href={closeHref} className="btn btn-ghost btn-icon" aria-label={t('tasks.close')} title={t('tasks.close')}>
          <X size={18} aria-hidden="true" />
        </Link>
      </div>
      {parent && (
        <p className="small">
          {t('tasks.subtaskOfLink')} <Link href={tasksHref({ list: list.id, view, task: parent.id })}>{parent.summary}</Link>
        </p>
      )}
      <TextField
        label={t('tasks.field.title')}
        value={summary}
        onChange={setSummary}
        maxLength={1000}
        onBlur={() => summary.trim() && summary !== task.summary && save({ summary: summary.trim() })}
        onKeyDown={(e) => {
          if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
        }}
        data-testid="task-title"
      />
      <div className="tk-panel-grid">
        <SelectField
          label={t('tasks.field.status')}
          value={(STATUSES as string[]).includes(task.status) ? (task.status as Status) : 'NEEDS-ACTION'}
          onChange={(v) => save({ status: v })}
          options={STATUSES.map((s) => ({ value: s, label: t(`tasks.status.${s}`) }))}
        />
        <SelectField
          label={t('tasks.field.priority')}
          value={levelOf(task.priority)}
          onChange={(v: Level) => save({ priority: LEVEL_VALUE[v] })}
          options={(['none', 'high', 'medium', 'low'] as const).map((l) => ({ value: l, label: t(`tasks.priority.${l}`) }))}
        />
        <TextField label={t('tasks.field.due')} type="date" value={task.due ? dueDay(task.due) : ''} onChange={(v) => save({ due: v || null })} />
        <TextField label={t('tasks.field.start')} type="date" value={task.start ? dueDay(task.start) : ''} onChange={(v) => save({ start: v || null })} />
        <TextField
          label={t('tasks.field.percent')}
          type="number"
          min={0}
          max={100}
          step={5}
          value={percent}
          onChange={setPercent}
          onBlur={() => {
            const n = Math.max(0, Math.min(100, Math.round(Number(percent))));
            if (Number.isFinite(n) && n !== task.percentComplete) save({ percentComplete: n, ...(n === 100 && !isDone(task) ? { status: 'COMPLETED' as const } : {}) });
            else setPercent(String(task.percentComplete));
          }}
        />
      </div>
      <TextAreaField label={t('tasks.field.notes')} value={description} onChange={setDescription} rows={4} maxLength={20000} onBlur={() => description !== task.description && save({ description })} />

      <fieldset className="tk-fieldset">
        <legend className="field-label">{t('tasks.subtasks')}</legend>
        {subs.length === 0 && <p className="small muted">{t('tasks.noSubtasks')}</p>}
        <ul className="tk-subs">
          {subs.map((s) => (
            <li key={s.id} className={isDone(s) ? 'tk-done' : undefined}>
              <TaskCheck task={s} onPatch={actions.patch} />
              <Link href={tasksHref({ list: list.id, view, task: s.id })}>{s.summary || t('tasks.untitled')}</Link>
            </li>
          ))}
        </ul>
        <form
          className="tk-add tk-add-sub"
          onSubmit={(e) => {
            e.preventDefault();
            const s = sub.trim();
            if (!s) return;
            void actions.create({ summary: s, parentUid: task.uid }).then((r) => r && setSub(''));
          }}
        >
          <Plus size={16} aria-hidden="true" />
          <input value={sub} onChange={(e) => setSub(e.target.value)} placeholder={t('tasks.addSubtask')} aria-label={t('tasks.addSubtask')} maxLength={1000} data-testid="subtask-add" />
        </form>
      </fieldset>

      <Assignees task={task} onChange={(ids) => save({ assignees: ids })} />

      <div className="tk-panel-foot">
        <Button variant="ghost" icon={<Trash2 size={16} aria-hidden="true" />} onClick={() => setConfirm(true)}>
          {t('tasks.delete')}
        </Button>
      </div>
      <ConfirmDialog
        isOpen={confirm}
        onClose={() => setConfirm(false)}
        title={t('tasks.deleteTitle')}
        body={subs.length ? t('tasks.deleteBodySubs', { title: task.summary, count: subs.length }) : t('tasks.deleteBody', { title: task.summary })}
        confirmLabel={t('tasks.delete')}
        cancelLabel={t('common.cancel')}
        closeLabel={t('common.close')}
        danger
        errorText={() => ''}
        onConfirm={async () => {
          navigate(closeHref);
          await actions.remove(task);
        }}
      />
    </section>
  );
}

function Assignees({ task, onChange }: { task: Task; onChange: (ids: string[]) => void }) {
  const { t } = useI18n();
  const [q, setQ] = useState('');
  const [open, setOpen] = useState(false);
  const dir = useQuery({ queryKey: directoryKey, queryFn: ({ signal }) => listDirectory(signal), enabled: open });
  const current = task.assignees.filter((a) => a.userId).map((a) => a.userId!);
  const matches = useMemo(() => {
    const f = q.trim().toLowerCase();
    return (dir.data?.people ?? []).filter((p) => !current.includes(p.id) && (!f || `${p.displayName} ${p.login} ${p.email ?? ''}`.toLowerCase().includes(f))).slice(0, 8);
  }, [dir.data, q, current]);
  const listId = useId();
  return (
    <fieldset className="tk-fieldset">
      <legend className="field-label">{t('tasks.assignees')}</legend>
      {task.assignees.length === 0 ? (
        <p className="small muted">{t('tasks.noAssignees')}</p>
      ) : (
        <ul className="tk-people">
          {task.assignees.map((a, i) => (
            <li key={a.userId ?? `${a.email}-${i}`} className="tk-person">
              <span>{a.name}</span>
              {a.userId && <IconButton label={t('tasks.unassign', { name: a.name })} icon={<X size={14} aria-hidden="true" />} onClick={() => onChange(current.filter((id) => id !== a.userId))} />}
            </li>
          ))}
        </ul>
      )}
      {open ? (
        <div className="tk-picker">
          <input className="input" value={q} onChange={(e) => setQ(e.target.value)} placeholder={t('tasks.findPerson')} aria-label={t('tasks.findPerson')} aria-controls={listId} autoFocus onKeyDown={(e) => e.key === 'Escape' && (e.stopPropagation(), setOpen(false))} data-testid="assignee-search" />
          <ul id={listId} className="tk-picker-list" aria-label={t('tasks.people')}>
            {dir.isPending && <li className="small muted">{t('common.loading')}</li>}
            {dir.data && matches.length === 0 && <li className="small muted">{t('tasks.nobody')}</li>}
            {matches.map((p) => (
              <li key={p.id}>
                <button
                  type="button"
                  className="tk-picker-btn"
                  onClick={() => {
                    onChange([...current, p.id]);
                    setQ('');
                    setOpen(false);
                  }}
                >
                  <span>{p.displayName}</span>
                  <span className="small muted">{p.email ?? p.login}</span>
                </button>
              </li>
            ))}
          </ul>
        </div>
      ) : (
        <div>
          <Button size="sm" icon={<UserPlus size={16} aria-hidden="true" />} onClick={() => setOpen(true)}>
            {t('tasks.assign')}
          </Button>
        </div>
      )}
    </fieldset>
  );
}
