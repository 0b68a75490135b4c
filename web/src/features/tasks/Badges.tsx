/** The small facts shown on a task row or card: due date (late in red, with words), priority, assignees. */
import { CalendarClock, Flag, Users } from 'lucide-react';
import { useI18n } from '../../app/i18n';
import { dueDay, isOverdue, levelOf, type Task } from './api';

export function DueBadge({ task }: { task: Task }) {
  const { t, fmt } = useI18n();
  if (!task.due) return null;
  const day = dueDay(task.due);
  const ms = Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10)), 12);
  const late = isOverdue(task);
  return (
    <span className={`tk-due${late ? ' tk-due-late' : ''}`}>
      <CalendarClock size={14} aria-hidden="true" />
      <span>{late ? t('tasks.overdueOn', { date: fmt.date(ms) }) : t('tasks.dueOn', { date: fmt.date(ms) })}</span>
    </span>
  );
}

export function PriorityBadge({ task }: { task: Task }) {
  const { t } = useI18n();
  const level = levelOf(task.priority);
  if (level === 'none') return null;
  return (
    <span className={`tk-prio tk-prio-${level}`}>
      <Flag size={14} aria-hidden="true" />
      <span>{t(`tasks.priority.${level}`)}</span>
    </span>
  );
}

export function AssigneesBadge({ task }: { task: Task }) {
  const { t } = useI18n();
  if (task.assignees.length === 0) return null;
  return (
    <span className="tk-assignees" title={task.assignees.map((a) => a.name).join(', ')}>
      <Users size={14} aria-hidden="true" />
      <span>{task.assignees.length === 1 ? task.assignees[0]!.name : t('tasks.assigneesCount', { count: task.assignees.length })}</span>
    </span>
  );
}
