/**
 * Tasks: task lists (calendars holding VTODO) in the second column; the tasks of the chosen list as a
 * list (inline add with Enter, checkbox to complete, sub-tasks indented, filter and sort) or as a board
 * (columns by status, cards moved by drag and drop or with the keyboard); the task's panel on the right.
 * URL: /tasks?list=<id>&view=list|board&task=<id>
 */
import { useMemo, useState, type CSSProperties } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { CheckSquare, Columns3, List, ListTodo, Pencil, Plus, Trash2 } from 'lucide-react';
import { errorText, useI18n } from '../../app/i18n';
import { QueryView } from '../../app/QueryView';
import { Link, navigate, useSearchParams } from '../../app/router';
import { Button, IconButton } from '../../ui/Button';
import { AppDialog, ConfirmDialog } from '../../ui/Dialog';
import { FormError, SelectField, TextField } from '../../ui/Field';
import { useDocumentTitle } from '../../ui/Page';
import { EmptyState } from '../../ui/States';
import { useToast } from '../../ui/Toast';
import { COLORS, createList, deleteList, dueDay, isDone, isOverdue, listLists, listName, listsKey, updateList, type Task, type TaskList } from './api';
import { AssigneesBadge, DueBadge, PriorityBadge } from './Badges';
import { Board } from './Board';
import { TaskCheck } from './TaskCheck';
import { tasksHref } from './links';
import { TaskDetail } from './TaskDetail';
import { useLiveTasks } from './useLive';
import { useTasks } from './useTasks';
import './tasks.css';

/** A list's colour for the dot in front of its name (a CSS variable: the CSP allows no inline style sheet). */
const dot = (c: string): CSSProperties => ({ '--dot': c }) as CSSProperties;

export type Filter = 'all' | 'open' | 'done' | 'overdue';
export type Sort = 'manual' | 'due' | 'priority' | 'title' | 'created';

export default function TasksPage() {
  const { t } = useI18n();
  const params = useSearchParams();
  const lists = useQuery({ queryKey: listsKey, queryFn: ({ signal }) => listLists(signal) });
  const all = lists.data ?? [];
  const list = all.find((l) => l.id === params.get('list')) ?? all[0] ?? null;
  const view = params.get('view') === 'board' ? 'board' : 'list';
  const taskId = params.get('task');
  useLiveTasks();
  useDocumentTitle(list ? `${listName(list, t('tasks.title'))} · ${t('app.tasks')}` : t('app.tasks'));
  return (
    <div className={`tk-layout${taskId ? ' tk-detail-open' : ''}`}>
      <ListsColumn lists={lists.data} loading={lists.isPending} current={list?.id ?? null} view={view} />
      <div className="tk-main">
        {lists.isError || !list ? (
          <div className="tk-pad">
            <QueryView query={lists} errorTitle={t('tasks.listsError')}>
              {() => <EmptyState icon={<ListTodo size={28} />} title={t('tasks.noLists')}>{t('tasks.noListsHint')}</EmptyState>}
            </QueryView>
          </div>
        ) : (
          <ListScreen key={list.id} list={list} view={view} taskId={taskId} />
        )}
      </div>
    </div>
  );
}

function ListsColumn({ lists, loading, current, view }: { lists: TaskList[] | undefined; loading: boolean; current: string | null; view: string }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const toast = useToast();
  const [dialog, setDialog] = useState<null | { kind: 'edit'; list: TaskList | null } | { kind: 'delete'; list: TaskList }>(null);
  const [name, setName] = useState('');
  const [color, setColor] = useState<string>(COLORS[0]);
  const [error, setError] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: () => (dialog?.kind === 'edit' && dialog.list ? updateList(dialog.list.id, { name: name.trim(), color }) : createList(name.trim(), color)),
    onSuccess: (l) => {
      void qc.invalidateQueries({ queryKey: listsKey });
      if (dialog?.kind === 'edit' && !dialog.list) navigate(tasksHref({ list: l.id, view }));
      setDialog(null);
    },
    onError: (e) => setError(errorText(t, e)),
  });
  const openEdit = (l: TaskList | null) => {
    setName(l?.name ?? '');
    setColor(l?.color || COLORS[0]);
    setError(null);
    setDialog({ kind: 'edit', list: l });
  };
  return (
    <aside className="tk-side" aria-label={t('tasks.listsNav')}>
      <div className="tk-side-head">
        <h1 className="tk-side-title">{t('app.tasks')}</h1>
        <IconButton label={t('tasks.newList')} icon={<Plus size={18} aria-hidden="true" />} onClick={() => openEdit(null)} />
      </div>
      <nav aria-label={t('tasks.lists')}>
        <ul className="tk-lists">
          {loading && <li className="muted small">{t('common.loading')}</li>}
          {(lists ?? []).map((l) => (
            <li key={l.id} className="tk-list-item">
              <Link href={tasksHref({ list: l.id, view })} className="tk-side-link" aria-current={l.id === current ? 'page' : undefined}>
                <span className="tk-dot" style={dot(l.color || COLORS[0])} aria-hidden="true" />
                <span className="tk-side-name">{listName(l, t('tasks.title'))}</span>
              </Link>
              {l.id === current && (
                <span className="tk-list-actions">
                  <IconButton label={t('tasks.editList', { name: l.name })} icon={<Pencil size={16} aria-hidden="true" />} onClick={() => openEdit(l)} />
                  <IconButton label={t('tasks.deleteList', { name: l.name })} icon={<Trash2 size={16} aria-hidden="true" />} onClick={() => setDialog({ kind: 'delete', list: l })} />
                </span>
              )}
            </li>
          ))}
        </ul>
      </nav>
      <AppDialog
        isOpen={dialog?.kind === 'edit'}
        onClose={() => setDialog(null)}
        title={dialog?.kind === 'edit' && dialog.list ? t('tasks.editListTitle') : t('tasks.newList')}
        closeLabel={t('common.close')}
        size="sm"
        footer={
          <>
            <Button onClick={() => setDialog(null)}>{t('common.cancel')}</Button>
            <Button variant="primary" type="submit" form="tk-list-form" loading={save.isPending}>
              {dialog?.kind === 'edit' && dialog.list ? t('common.save') : t('common.create')}
            </Button>
          </>
        }
      >
        <form
          id="tk-list-form"
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            if (!name.trim()) return setError(t('tasks.nameRequired'));
            save.mutate();
          }}
        >
          <TextField label={t('tasks.listName')} value={name} onChange={setName} maxLength={200} autoFocus required />
          <fieldset className="tk-colors">
            <legend className="field-label">{t('tasks.colour')}</legend>
            {COLORS.map((c, i) => (
              <label key={c} className="tk-swatch">
                <input type="radio" name="tk-colour" value={c} checked={color.toLowerCase() === c} onChange={() => setColor(c)} />
                <span className="tk-swatch-dot" style={dot(c)} aria-hidden="true" />
                <span className="visually-hidden">{t(`tasks.colour.${i}` as 'tasks.colour.0')}</span>
              </label>
            ))}
          </fieldset>
          <FormError>{error}</FormError>
        </form>
      </AppDialog>
      <ConfirmDialog
        isOpen={dialog?.kind === 'delete'}
        onClose={() => setDialog(null)}
        title={t('tasks.deleteListTitle')}
        body={dialog?.kind === 'delete' ? t('tasks.deleteListBody', { name: dialog.list.name }) : ''}
        confirmLabel={t('tasks.deleteListConfirm')}
        cancelLabel={t('common.cancel')}
        closeLabel={t('common.close')}
        danger
        errorText={(e) => errorText(t, e)}
        onConfirm={async () => {
          if (dialog?.kind !== 'delete') return;
          await deleteList(dialog.list.id);
          toast(t('tasks.listDeleted', { name: dialog.list.name }), 'success');
          await qc.invalidateQueries({ queryKey: listsKey });
          navigate('/tasks');
        }}
      />
    </aside>
  );
}

/** Tasks in display order: the chosen sort, each parent followed by its sub-tasks (indented). */
export function ordered(tasks: Task[], sort: Sort, collator: Intl.Collator): Array<{ task: Task; depth: number }> {
  const cmp = (a: Task, b: Task): number => {
    let c = 0;
    if (sort === 'due') c = (a.due ? dueDay(a.due) : '9999') < (b.due ? dueDay(b.due) : '9999') ? -1 : (a.due ? dueDay(a.due) : '9999') > (b.due ? dueDay(b.due) : '9999') ? 1 : 0;
    else if (sort === 'priority') c = (a.priority || 10) - (b.priority || 10);
    else if (sort === 'title') c = collator.compare(a.summary, b.summary);
    else if (sort === 'created') c = (b.created ?? '').localeCompare(a.created ?? '');
    else c = (a.sortOrder ?? Number.MAX_SAFE_INTEGER) - (b.sortOrder ?? Number.MAX_SAFE_INTEGER) || (a.created ?? '').localeCompare(b.created ?? '');
    return c || collator.compare(a.summary, b.summary) || a.id.localeCompare(b.id);
  };
  const uids = new Set(tasks.map((x) => x.uid));
  const children = new Map<string, Task[]>();
  const roots: Task[] = [];
  for (const x of tasks) {
    if (x.parentUid && uids.has(x.parentUid) && x.parentUid !== x.uid) children.set(x.parentUid, [...(children.get(x.parentUid) ?? []), x]);
    else roots.push(x);
  }
  const out: Array<{ task: Task; depth: number }> = [];
  const seen = new Set<string>();
  const walk = (x: Task, depth: number) => {
    if (seen.has(x.uid)) return;
    seen.add(x.uid);
    out.push({ task: x, depth });
    for (const c of (children.get(x.uid) ?? []).sort(cmp)) walk(c, Math.min(depth + 1, 4));
  };
  for (const r of roots.sort(cmp)) walk(r, 0);
  // Cycles in RELATED-TO (from other clients) must not hide tasks.
  for (const x of tasks) if (!seen.has(x.uid)) walk(x, 0);
  return out;
}

export function matchesFilter(x: Task, filter: Filter): boolean {
  if (filter === 'open') return !isDone(x);
  if (filter === 'done') return isDone(x);
  if (filter === 'overdue') return isOverdue(x);
  return true;
}

function ListScreen({ list, view, taskId }: { list: TaskList; view: 'list' | 'board'; taskId: string | null }) {
  const { t, locale } = useI18n();
  const tasks = useTasks(list.id);
  const [filter, setFilter] = useState<Filter>('all');
  const [sort, setSort] = useState<Sort>('manual');
  const collator = useMemo(() => new Intl.Collator(locale, { sensitivity: 'base', numeric: true }), [locale]);
  const selected = tasks.query.data?.find((x) => x.id === taskId) ?? null;
  const counts = useMemo(() => {
    const d = tasks.query.data ?? [];
    return { open: d.filter((x) => !isDone(x)).length, overdue: d.filter((x) => isOverdue(x)).length };
  }, [tasks.query.data]);
  return (
    <div className="tk-screen">
      <div className="tk-content">
        <header className="tk-head">
          <h2 className="tk-title">
            <span className="tk-dot tk-dot-lg" style={dot(list.color || COLORS[0])} aria-hidden="true" />
            <span>{listName(list, t('tasks.title'))}</span>
          </h2>
          <p className="small muted tk-counts">{t('tasks.counts', { count: counts.open, overdue: counts.overdue })}</p>
          <div className="tk-toolbar">
            <div className="tk-views" role="group" aria-label={t('tasks.viewLabel')}>
              <Link href={tasksHref({ list: list.id, view: 'list', task: taskId })} className="btn btn-sm btn-ghost" aria-current={view === 'list' ? 'page' : undefined}>
                <List size={16} aria-hidden="true" />
                <span>{t('tasks.view.list')}</span>
              </Link>
              <Link href={tasksHref({ list: list.id, view: 'board', task: taskId })} className="btn btn-sm btn-ghost" aria-current={view === 'board' ? 'page' : undefined}>
                <Columns3 size={16} aria-hidden="true" />
                <span>{t('tasks.view.board')}</span>
              </Link>
            </div>
            <SelectField
              className="tk-select"
              label={t('tasks.filter')}
              value={filter}
              onChange={setFilter}
              options={(['all', 'open', 'done', 'overdue'] as const).map((f) => ({ value: f, label: t(`tasks.filter.${f}`) }))}
            />
            {view === 'list' && (
              <SelectField
                className="tk-select"
                label={t('tasks.sort')}
                value={sort}
                onChange={setSort}
                options={(['manual', 'due', 'priority', 'title', 'created'] as const).map((s) => ({ value: s, label: t(`tasks.sort.${s}`) }))}
              />
            )}
          </div>
        </header>
        <QueryView query={tasks.query} errorTitle={t('tasks.itemsError')} lines={6}>
          {(items) =>
            view === 'board' ? (
              <Board list={list} tasks={items.filter((x) => matchesFilter(x, filter))} all={items} selected={taskId} onPatch={tasks.patch} />
            ) : (
              <ListView list={list} tasks={items} filter={filter} sort={sort} collator={collator} selected={taskId} view={view} actions={tasks} />
            )
          }
        </QueryView>
      </div>
      {taskId && (
        <div className="tk-detail">
          {tasks.query.isPending ? null : selected ? (
            <TaskDetail key={selected.id} list={list} task={selected} all={tasks.query.data ?? []} actions={tasks} closeHref={tasksHref({ list: list.id, view })} view={view} />
          ) : (
            <EmptyState title={t('tasks.notFound')} action={<Link href={tasksHref({ list: list.id, view })}>{t('tasks.close')}</Link>} />
          )}
        </div>
      )}
    </div>
  );
}

function ListView({
  list,
  tasks,
  filter,
  sort,
  collator,
  selected,
  view,
  actions,
}: {
  list: TaskList;
  tasks: Task[];
  filter: Filter;
  sort: Sort;
  collator: Intl.Collator;
  selected: string | null;
  view: string;
  actions: ReturnType<typeof useTasks>;
}) {
  const { t } = useI18n();
  const [title, setTitle] = useState('');
  const [busy, setBusy] = useState(false);
  const rows = useMemo(() => ordered(tasks, sort, collator).filter((r) => matchesFilter(r.task, filter)), [tasks, sort, collator, filter]);
  const byUid = useMemo(() => new Map(tasks.map((x) => [x.uid, x])), [tasks]);
  const visible = new Set(rows.map((r) => r.task.uid));
  async function add() {
    const s = title.trim();
    if (!s || busy) return;
    setBusy(true);
    const max = Math.max(0, ...tasks.map((x) => x.sortOrder ?? 0));
    const saved = await actions.create({ summary: s, sortOrder: max + 1 });
    setBusy(false);
    if (saved) setTitle('');
  }
  return (
    <div className="tk-listview">
      <form
        className="tk-add"
        onSubmit={(e) => {
          e.preventDefault();
          void add();
        }}
      >
        <Plus size={18} aria-hidden="true" />
        <input value={title} onChange={(e) => setTitle(e.target.value)} placeholder={t('tasks.addPlaceholder')} aria-label={t('tasks.add')} maxLength={1000} data-testid="task-add" disabled={busy} />
        <span className="visually-hidden">{t('tasks.addHint')}</span>
      </form>
      {tasks.length === 0 ? (
        <EmptyState icon={<CheckSquare size={28} />} title={t('tasks.empty')}>
          {t('tasks.emptyHint')}
        </EmptyState>
      ) : rows.length === 0 ? (
        <p className="muted tk-pad">{t('tasks.noMatch')}</p>
      ) : (
        <ul className="tk-rows" aria-label={t('tasks.listLabel', { name: list.name })}>
          {rows.map(({ task, depth }) => {
            const parent = task.parentUid ? byUid.get(task.parentUid) : undefined;
            const orphan = parent && !visible.has(parent.uid);
            return (
              <li key={task.id} className={`tk-row tk-depth-${depth}${isDone(task) ? ' tk-done' : ''}${task.id === selected ? ' tk-selected' : ''}`} data-testid="task-row">
                <TaskCheck task={task} onPatch={actions.patch} />
                <div className="tk-row-main">
                  <Link href={tasksHref({ list: list.id, view, task: task.id })} className="tk-row-title">
                    {task.summary || t('tasks.untitled')}
                  </Link>
                  <div className="tk-row-meta">
                    {orphan && <span className="small muted">{t('tasks.subtaskOf', { title: parent.summary })}</span>}
                    {task.status === 'IN-PROCESS' && <span className="tk-status">{t('tasks.status.IN-PROCESS')}</span>}
                    <DueBadge task={task} />
                    <PriorityBadge task={task} />
                    <AssigneesBadge task={task} />
                  </div>
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
