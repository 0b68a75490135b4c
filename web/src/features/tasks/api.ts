/**
 * The tasks API: task lists are calendars whose components include VTODO (/api/calendars), their tasks
 * come from /api/tasklists/:id/items (every VTODO field, assignees, manual order). One task model for
 * all of Bastide, the same objects CalDAV clients sync.
 */
import { api } from '../../app/api';

export interface TaskList {
  id: string;
  slug: string;
  name: string;
  description: string;
  color: string;
  components: string[];
  davUrl: string;
}

export type Status = 'NEEDS-ACTION' | 'IN-PROCESS' | 'COMPLETED' | 'CANCELLED';

export interface Assignee {
  userId: string | null;
  email: string | null;
  name: string;
}

export interface Task {
  id: string;
  uid: string;
  etag: string;
  summary: string;
  description: string;
  due: string | null;
  start: string | null;
  priority: number;
  status: Status | string;
  percentComplete: number;
  completed: string | null;
  created: string | null;
  parentUid: string | null;
  assignees: Assignee[];
  sortOrder: number | null;
  recurring: boolean;
}

export interface TaskPatch {
  summary?: string;
  description?: string;
  due?: string | null;
  start?: string | null;
  priority?: number;
  status?: Status;
  percentComplete?: number;
  parentUid?: string | null;
  assignees?: string[];
  sortOrder?: number | null;
  etag?: string;
}

export const listsKey = ['tasks', 'lists'] as const;
export const itemsKey = (list: string) => ['tasks', 'items', list] as const;

export const COLORS = ['#2f5bd3', '#059669', '#d97706', '#dc2626', '#7c3aed', '#db2777', '#0891b2', '#4b5563'] as const;

export const listLists = (signal?: AbortSignal) =>
  api.get<{ calendars: TaskList[] }>('/api/calendars', { signal }).then((r) => r.calendars.filter((c) => c.components.includes('VTODO')));
export const createList = (name: string, color: string) => api.post<TaskList>('/api/calendars', { name, color, components: ['VTODO'] });
export const updateList = (id: string, changes: { name?: string; color?: string }) => api.patch<TaskList>(`/api/calendars/${encodeURIComponent(id)}`, changes);
export const deleteList = (id: string) => api.del(`/api/calendars/${encodeURIComponent(id)}`);

export const listItems = (list: string, signal?: AbortSignal) => api.get<{ items: Task[] }>(`/api/tasklists/${encodeURIComponent(list)}/items`, { signal }).then((r) => r.items);
export const createItem = (list: string, body: TaskPatch & { summary: string }) => api.post<Task>(`/api/tasklists/${encodeURIComponent(list)}/items`, body);
export const patchItem = (list: string, id: string, body: TaskPatch) => api.patch<Task>(`/api/tasklists/${encodeURIComponent(list)}/items/${encodeURIComponent(id)}`, body);
export const deleteItem = (list: string, id: string) => api.del(`/api/calendars/${encodeURIComponent(list)}/objects/${encodeURIComponent(id)}`);

/** The list's name to show: the default list the server creates ("Tasks") in the user's language. */
export const listName = (l: Pick<TaskList, 'slug' | 'name'>, defaultName: string): string => (l.slug === 'tasks' && l.name === 'Tasks' ? defaultName : l.name);

export const isDone = (t: Pick<Task, 'status'>) => t.status === 'COMPLETED' || t.status === 'CANCELLED';

/** Today as YYYY-MM-DD in the user's time zone. */
export function todayLocal(now = new Date()): string {
  const y = now.getFullYear();
  const m = String(now.getMonth() + 1).padStart(2, '0');
  const d = String(now.getDate()).padStart(2, '0');
  return `${y}-${m}-${d}`;
}

/** A due date (YYYY-MM-DD, or an instant) as the local day it falls on. */
export function dueDay(due: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(due)) return due;
  return todayLocal(new Date(due));
}

export function isOverdue(t: Pick<Task, 'status' | 'due'>, now = new Date()): boolean {
  if (!t.due || isDone(t)) return false;
  if (/^\d{4}-\d{2}-\d{2}$/.test(t.due)) return t.due < todayLocal(now);
  return Date.parse(t.due) < now.getTime();
}

/** Board column of a task: cancelled tasks are shown with the completed ones. */
export type Column = 'NEEDS-ACTION' | 'IN-PROCESS' | 'COMPLETED';
export const COLUMNS: Column[] = ['NEEDS-ACTION', 'IN-PROCESS', 'COMPLETED'];
export function columnOf(t: Pick<Task, 'status'>): Column {
  if (t.status === 'IN-PROCESS') return 'IN-PROCESS';
  if (isDone(t)) return 'COMPLETED';
  return 'NEEDS-ACTION';
}

/** Priority as the three levels people use (RFC 5545: 1–4 high, 5 medium, 6–9 low, 0 none). */
export type Level = 'none' | 'high' | 'medium' | 'low';
export function levelOf(p: number): Level {
  if (p >= 1 && p <= 4) return 'high';
  if (p === 5) return 'medium';
  if (p >= 6) return 'low';
  return 'none';
}
export const LEVEL_VALUE: Record<Level, number> = { none: 0, high: 1, medium: 5, low: 9 };
