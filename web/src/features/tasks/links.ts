/** Links inside the tasks app: /tasks?list=<id>&view=list|board&task=<id>. */
export function tasksHref(p: { list?: string | null; view?: string | null; task?: string | null }): string {
  const s = new URLSearchParams();
  if (p.list) s.set('list', p.list);
  if (p.view && p.view !== 'list') s.set('view', p.view);
  if (p.task) s.set('task', p.task);
  const q = s.toString();
  return q ? `/tasks?${q}` : '/tasks';
}
