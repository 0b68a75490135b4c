import { useEffect } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { subscribeRealtime } from '../../app/realtime';

/** Keeps the tasks app live: a task list changed here, in another tab or by a CalDAV client (`calendar.*` events) is re-read. */
export function useLiveTasks(): void {
  const qc = useQueryClient();
  useEffect(
    () =>
      subscribeRealtime((f) => {
        if (f.type === 'event' && f.topic.startsWith('calendar.')) void qc.invalidateQueries({ queryKey: ['tasks'] });
      }),
    [qc],
  );
}
