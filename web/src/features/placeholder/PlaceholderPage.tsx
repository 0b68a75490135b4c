import { Construction } from 'lucide-react';
import { useI18n } from '../../app/i18n';
import { APPS, type PlaceholderAppId } from '../../app/apps';
import { Link } from '../../app/router';
import { useDocumentTitle } from '../../ui/Page';
import './placeholder.css';

/** An honest page for an app that is not in this version yet: what it will do, what to do meanwhile. */
export default function PlaceholderPage({ app }: { app: PlaceholderAppId }) {
  const { t } = useI18n();
  const def = APPS.find((a) => a.id === app);
  const Icon = def?.icon ?? Construction;
  const name = t(`app.${app}`);
  useDocumentTitle(name);
  return (
    <div className="page placeholder">
      <div className="placeholder-icon" aria-hidden="true">
        <Icon size={40} />
      </div>
      <h1>{name}</h1>
      <p className="placeholder-lead">{t('placeholder.notYet', { app: name })}</p>
      <section aria-labelledby="ph-will" className="placeholder-section">
        <h2 id="ph-will">{t('placeholder.willDo')}</h2>
        <p>{t(`placeholder.${app}.will`)}</p>
      </section>
      <section aria-labelledby="ph-meanwhile" className="placeholder-section">
        <h2 id="ph-meanwhile">{t('placeholder.meanwhile')}</h2>
        <p>{t(`placeholder.${app}.meanwhile`)}</p>
      </section>
      <p>
        <Link href="/">{t('placeholder.backHome')}</Link>
      </p>
    </div>
  );
}
