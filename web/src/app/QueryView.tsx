import type { ReactNode } from 'react';
import type { UseQueryResult } from '@tanstack/react-query';
import { errorText, useI18n } from './i18n';
import { ErrorState, Skeleton } from '../ui/States';

/** Skeleton while loading, an error with retry, an empty state, or the content. */
export function QueryView<T>({
  query,
  errorTitle,
  isEmpty,
  empty,
  lines = 4,
  children,
}: {
  query: UseQueryResult<T>;
  errorTitle: string;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  lines?: number;
  children: (data: T) => ReactNode;
}) {
  const { t } = useI18n();
  if (query.isPending) return <Skeleton label={t('common.loading')} lines={lines} />;
  if (query.isError) {
    return <ErrorState title={errorTitle} message={errorText(t, query.error)} retryLabel={t('common.retry')} onRetry={() => void query.refetch()} />;
  }
  if (isEmpty?.(query.data)) return <>{empty}</>;
  return <>{children(query.data)}</>;
}
