import { useEffect } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { subscribeRealtime } from '../../app/realtime';

/**
 * Keeps the contacts app live: an address book changed here, in another tab or by a CardDAV client
 * (`contacts.*` events), or a user of the directory changed (`identity.*`), re-reads what is shown.
 */
export function useLiveContacts(): void {
  const qc = useQueryClient();
  useEffect(
    () =>
      subscribeRealtime((f) => {
        if (f.type !== 'event') return;
        if (f.topic.startsWith('contacts.')) void qc.invalidateQueries({ queryKey: ['contacts'] });
        else if (f.topic.startsWith('identity.')) void qc.invalidateQueries({ queryKey: ['directory'] });
      }),
    [qc],
  );
}
