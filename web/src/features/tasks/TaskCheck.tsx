import { useState } from 'react';
import { useI18n } from '../../app/i18n';
import { isDone, type Task, type TaskPatch } from './api';

/** The "completed" checkbox of a task: it shows the new state on the click, before the server answers. */
export function TaskCheck({ task, onPatch }: { task: Task; onPatch: (task: Task, changes: TaskPatch) => Promise<Task | null> }) {
  const { t } = useI18n();
  const [pending, setPending] = useState<boolean | null>(null);
  const checked = pending ?? isDone(task);
  return (
    <input
      type="checkbox"
      className="tk-check"
      checked={checked}
      onChange={(e) => {
        const next = e.target.checked;
        setPending(next);
        void onPatch(task, { status: next ? 'COMPLETED' : 'NEEDS-ACTION' }).finally(() => setPending(null));
      }}
      aria-label={t(checked ? 'tasks.reopen' : 'tasks.complete', { title: task.summary })}
    />
  );
}
