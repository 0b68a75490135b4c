/**
 * The board: one column per status (to do, in progress, done). A card moves by drag and drop with the
 * mouse (or touch where the browser supports it), or with the keyboard: ←/→ move the focused card to the
 * previous/next column, ↑/↓ go to the card above/below; Enter opens it. Each move is announced.
 */
import { useEffect, useMemo, useRef, useState, type DragEvent, type KeyboardEvent } from 'react';
import { useI18n } from '../../app/i18n';
import { navigate } from '../../app/router';
import { COLUMNS, columnOf, type Column, type Status, type Task, type TaskList, type TaskPatch } from './api';
import { AssigneesBadge, DueBadge, PriorityBadge } from './Badges';
import { tasksHref } from './links';

const MIME = 'application/x-bastide-task';

export function Board({
  list,
  tasks,
  all,
  selected,
  onPatch,
}: {
  list: TaskList;
  tasks: Task[];
  all: Task[];
  selected: string | null;
  onPatch: (task: Task, changes: TaskPatch) => Promise<Task | null>;
}) {
  const { t } = useI18n();
  const [over, setOver] = useState<Column | null>(null);
  const [dragging, setDragging] = useState<string | null>(null);
  const [announce, setAnnounce] = useState('');
  /** After a keyboard move: the card to focus again once it is in its new column. */
  const focusAfter = useRef<{ id: string; column: Column } | null>(null);
  const root = useRef<HTMLDivElement>(null);
  const byUid = useMemo(() => new Map(all.map((x) => [x.uid, x])), [all]);
  const columns = useMemo(() => {
    const m: Record<Column, Task[]> = { 'NEEDS-ACTION': [], 'IN-PROCESS': [], COMPLETED: [] };
    for (const x of tasks) m[columnOf(x)].push(x);
    for (const c of COLUMNS) m[c].sort((a, b) => (a.sortOrder ?? Number.MAX_SAFE_INTEGER) - (b.sortOrder ?? Number.MAX_SAFE_INTEGER) || (a.created ?? '').localeCompare(b.created ?? '') || a.id.localeCompare(b.id));
    return m;
  }, [tasks]);

  useEffect(() => {
    const f = focusAfter.current;
    if (!f) return;
    const el = root.current?.querySelector<HTMLElement>(`[data-column="${f.column}"] [data-card="${CSS.escape(f.id)}"]`);
    if (el) {
      el.focus();
      focusAfter.current = null;
    }
  });

  const label = (c: Column) => t(`tasks.column.${c}`);

  async function move(task: Task, to: Column) {
    if (columnOf(task) === to) return;
    const status: Status = to;
    focusAfter.current = { id: task.id, column: to };
    setAnnounce(t('tasks.moved', { title: task.summary, column: label(to) }));
    await onPatch(task, { status });
  }

  function onCardKey(e: KeyboardEvent<HTMLButtonElement>, task: Task) {
    const col = columnOf(task);
    const ci = COLUMNS.indexOf(col);
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      const next = COLUMNS[ci + (e.key === 'ArrowRight' ? 1 : -1)];
      if (!next) return;
      e.preventDefault();
      void move(task, next);
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      const list = columns[col];
      const i = list.findIndex((x) => x.id === task.id);
      const target = list[i + (e.key === 'ArrowDown' ? 1 : -1)];
      if (!target) return;
      e.preventDefault();
      root.current?.querySelector<HTMLElement>(`[data-card="${CSS.escape(target.id)}"]`)?.focus();
    }
  }

  function onDrop(e: DragEvent<HTMLElement>, to: Column) {
    e.preventDefault();
    setOver(null);
    setDragging(null);
    const id = e.dataTransfer.getData(MIME) || e.dataTransfer.getData('text/plain');
    const task = tasks.find((x) => x.id === id);
    if (task) void move(task, to);
  }

  return (
    <div className="tk-board" ref={root} data-testid="task-board">
      <p id="tk-board-help" className="small muted tk-board-help">
        {t('tasks.boardHelp')}
      </p>
      <div className="tk-columns">
        {COLUMNS.map((c) => (
          <section
            key={c}
            className={`tk-column${over === c ? ' tk-column-over' : ''}`}
            aria-labelledby={`tk-col-${c}`}
            data-column={c}
            onDragOver={(e) => {
              if (!dragging) return;
              e.preventDefault();
              e.dataTransfer.dropEffect = 'move';
              if (over !== c) setOver(c);
            }}
            onDragLeave={(e) => {
              if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setOver(null);
            }}
            onDrop={(e) => onDrop(e, c)}
          >
            <h3 id={`tk-col-${c}`} className="tk-column-title">
              <span>{label(c)}</span>
              <span className="tk-column-count">{columns[c].length}</span>
            </h3>
            {columns[c].length === 0 ? (
              <p className="small muted tk-column-empty">{t('tasks.columnEmpty')}</p>
            ) : (
              <ul className="tk-cards">
                {columns[c].map((task) => {
                  const parent = task.parentUid ? byUid.get(task.parentUid) : undefined;
                  return (
                    <li
                      key={task.id}
                      className={`tk-card${task.id === selected ? ' tk-selected' : ''}${dragging === task.id ? ' tk-card-dragging' : ''}`}
                      draggable
                      onDragStart={(e) => {
                        e.dataTransfer.setData(MIME, task.id);
                        e.dataTransfer.setData('text/plain', task.id);
                        e.dataTransfer.effectAllowed = 'move';
                        setDragging(task.id);
                      }}
                      onDragEnd={() => {
                        setDragging(null);
                        setOver(null);
                      }}
                      data-testid="task-card"
                    >
                      <button
                        type="button"
                        className="tk-card-btn"
                        data-card={task.id}
                        aria-describedby="tk-board-help"
                        onClick={() => navigate(tasksHref({ list: list.id, view: 'board', task: task.id }))}
                        onKeyDown={(e) => onCardKey(e, task)}
                      >
                        <span className="tk-card-title">{task.summary || t('tasks.untitled')}</span>
                        {parent && <span className="small muted">{t('tasks.subtaskOf', { title: parent.summary })}</span>}
                      </button>
                      <div className="tk-row-meta">
                        <DueBadge task={task} />
                        <PriorityBadge task={task} />
                        <AssigneesBadge task={task} />
                        {task.percentComplete > 0 && task.percentComplete < 100 && <span className="small muted">{t('tasks.percentShort', { n: task.percentComplete })}</span>}
                      </div>
                    </li>
                  );
                })}
              </ul>
            )}
          </section>
        ))}
      </div>
      <span className="visually-hidden" aria-live="polite" data-testid="board-announce">
        {announce}
      </span>
    </div>
  );
}
