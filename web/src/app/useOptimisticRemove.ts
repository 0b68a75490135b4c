import { useMutation, useQueryClient, type QueryKey } from '@tanstack/react-query';
import { api } from './api';

/**
 * DELETE `${base}/${id}` with the item removed from the cached `{items}` list at once, put back if the
 * server refuses, and the list re-read either way (the realtime stream may have changed it meanwhile).
 */
export function useOptimisticRemove<T extends { id: string }>(key: QueryKey, base: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.del(`${base}/${encodeURIComponent(id)}`),
    onMutate: async (id: string) => {
      await qc.cancelQueries({ queryKey: key });
      const prev = qc.getQueryData<{ items: T[] }>(key);
      if (prev) qc.setQueryData(key, { ...prev, items: prev.items.filter((i) => i.id !== id) });
      return { prev };
    },
    onError: (_e, _id, ctx) => {
      if (ctx?.prev) qc.setQueryData(key, ctx.prev);
    },
    onSettled: () => void qc.invalidateQueries({ queryKey: key }),
  });
}
