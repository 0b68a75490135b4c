import { Compass, Lock } from 'lucide-react';
import { useI18n } from './i18n';
import { Link } from './router';
import { useDocumentTitle } from '../ui/Page';

export function NotFoundPage() {
  const { t } = useI18n();
  useDocumentTitle(t('notFound.title'));
  return (
    <div className="page">
      <div className="empty">
        <div className="empty-icon" aria-hidden="true">
          <Compass size={40} />
        </div>
        <h1>{t('notFound.title')}</h1>
        <p className="muted">{t('notFound.text')}</p>
        <Link href="/" className="btn btn-primary">
          {t('notFound.home')}
        </Link>
      </div>
    </div>
  );
}

export function ForbiddenPage() {
  const { t } = useI18n();
  useDocumentTitle(t('forbidden.title'));
  return (
    <div className="page">
      <div className="empty">
        <div className="empty-icon" aria-hidden="true">
          <Lock size={40} />
        </div>
        <h1>{t('forbidden.title')}</h1>
        <p className="muted">{t('forbidden.text')}</p>
        <Link href="/" className="btn btn-primary">
          {t('notFound.home')}
        </Link>
      </div>
    </div>
  );
}
