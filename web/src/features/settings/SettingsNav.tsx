import { useI18n } from '../../app/i18n';
import { Link, usePathname } from '../../app/router';
import './settings.css';

export function SettingsNav() {
  const { t } = useI18n();
  const path = usePathname();
  const items = [
    { href: '/settings/profile', label: t('settings.profile') },
    { href: '/settings/security', label: t('settings.security') },
  ];
  return (
    <nav className="subnav" aria-label={t('settings.nav')}>
      {items.map((i) => (
        <Link key={i.href} href={i.href} className="subnav-item" aria-current={path === i.href ? 'page' : undefined}>
          {i.label}
        </Link>
      ))}
    </nav>
  );
}
