/** The tasks of a list with optimistic changes: the cache changes at once, the server's answer replaces it, a refusal puts it back. */
import { useCallback } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { errorText, useI18n } from '../../app/i18n';
import { useToast } from '../../ui/Toast';
import { createItem, deleteItem, itemsKey, listItems, patchItem, type Task, type TaskPatch } from './api';

export function useTasks(list: string) {
  const qc = useQueryClient();
  const toast = useToast();
  const { t } = useI18n();
  const key = itemsKey(list);
  const query = useQuery({ queryKey: key, queryFn: ({ signal }) => listItems(list, signal) });

  const patch = useCallback(
    async (task: Task, changes: TaskPatch, optimistic: Partial<Task> = {}): Promise<Task | null> => {
      const prev = qc.getQueryData<Task[]>(key);
      const local: Partial<Task> = { ...optimistic };
      for (const k of ['summary', 'description', 'due', 'start', 'priority', 'status', 'percentComplete', 'parentUid', 'sortOrder'] as const) {
        if (changes[k] !== undefined) (local as Record<string, unknown>)[k] = changes[k];
      }
      if (changes.status === 'COMPLETED' && changes.percentComplete === undefined) local.percentComplete = 100;
      // At once (a checkbox shows its new state on the click), then any read in flight is dropped without undoing it.
      qc.setQueryData<Task[]>(key, (old) => old?.map((x) => (x.id === task.id ? { ...x, ...local } : x)));
      await qc.cancelQueries({ queryKey: key }, { revert: false });
      try {
        const saved = await patchItem(list, task.id, changes);
        qc.setQueryData<Task[]>(key, (old) => old?.map((x) => (x.id === saved.id ? saved : x)));
        return saved;
      } catch (e) {
        if (prev) qc.setQueryData(key, prev);
        toast(errorText(t, e), 'error');
        void qc.invalidateQueries({ queryKey: key });
        return null;
      }
    },
    [qc, key, list, toast, t],
  );

  const create = useCallback(
    async (body: TaskPatch & { summary: string }): Promise<Task | null> => {
      try {
        const saved = await createItem(list, body);
        qc.setQueryData<Task[]>(key, (old) => (old ? [...old, saved] : [saved]));
        return saved;
      } catch (e) {
        toast(errorText(t, e), 'error');
        return null;
      }
    },
    [qc, key, list, toast, t],
  );

  const remove = useCallback(
    async (task: Task): Promise<boolean> => {
      const prev = qc.getQueryData<Task[]>(key);
      // Its sub-tasks go with it (as in Microsoft To Do and Planner).
      const gone = new Set<string>([task.uid]);
      for (let grew = true; grew; ) {
        grew = false;
        for (const x of prev ?? []) {
          if (x.parentUid && gone.has(x.parentUid) && !gone.has(x.uid)) {
            gone.add(x.uid);
            grew = true;
          }
        }
      }
      const victims = (prev ?? []).filter((x) => gone.has(x.uid));
      qc.setQueryData<Task[]>(key, (old) => old?.filter((x) => !gone.has(x.uid)));
      try {
        for (const v of victims.length ? victims : [task]) await deleteItem(list, v.id);
        return true;
      } catch (e) {
        if (prev) qc.setQueryData(key, prev);
        toast(errorText(t, e), 'error');
        return false;
      } finally {
        void qc.invalidateQueries({ queryKey: key });
      }
    },
    [qc, key, list, toast, t],
  );

  return { query, patch, create, remove };
}
