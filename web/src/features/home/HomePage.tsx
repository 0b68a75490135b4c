import { ChevronRight, FileClock, Info, ShieldCheck, UserRound, Users, UsersRound } from 'lucide-react';
import { useState, type ReactNode } from 'react';
import { useI18n } from '../../app/i18n';
import { Link } from '../../app/router';
import { useMe } from '../../app/session';
import { Badge, useDocumentTitle } from '../../ui/Page';
import './home.css';

function LinkCard({ href, icon, title, text, extra }: { href: string; icon: ReactNode; title: string; text: string; extra?: ReactNode }) {
  return (
    <li>
      <Link href={href} className="link-card">
        <span className="link-card-icon" aria-hidden="true">
          {icon}
        </span>
        <span className="link-card-text">
          <span className="link-card-title">{title}</span>
          <span className="muted small">{text}</span>
          {extra}
        </span>
        <ChevronRight size={18} className="link-card-chevron" aria-hidden="true" />
      </Link>
    </li>
  );
}

export default function HomePage() {
  const { t, fmt } = useI18n();
  const me = useMe();
  useDocumentTitle(t('app.home'));
  const [now] = useState(() => Date.now());
  const hour = new Date(now).getHours();
  const greeting = hour < 5 || hour >= 18 ? t('home.greetingEvening', { name: me.displayName }) : t('home.greeting', { name: me.displayName });
  const today = fmt.dateLong(now);

  return (
    <div className="page home">
      <div className="home-hero">
        <h1>{greeting}</h1>
        <p className="muted home-date">
          <time dateTime={new Date(now).toISOString().slice(0, 10)}>{today.charAt(0).toUpperCase() + today.slice(1)}</time>
        </p>
      </div>

      <section aria-labelledby="home-account" className="home-section">
        <h2 id="home-account">{t('home.account')}</h2>
        <ul className="link-cards">
          <LinkCard href="/settings/profile" icon={<UserRound size={22} />} title={t('home.profileTitle')} text={t('home.profileText')} />
          <LinkCard
            href="/settings/security"
            icon={<ShieldCheck size={22} />}
            title={t('home.securityTitle')}
            text={t('home.securityText')}
            extra={
              me.totpEnabled ? (
                <Badge tone="success">{t('security.totpOn')}</Badge>
              ) : (
                <Badge tone="warning">{t('home.totpOffHint')}</Badge>
              )
            }
          />
        </ul>
      </section>

      {me.isAdmin && (
        <section aria-labelledby="home-admin" className="home-section">
          <h2 id="home-admin">{t('home.admin')}</h2>
          <ul className="link-cards">
            <LinkCard href="/admin/users" icon={<Users size={22} />} title={t('admin.users.title')} text={t('home.usersText')} />
            <LinkCard href="/admin/groups" icon={<UsersRound size={22} />} title={t('admin.groups.title')} text={t('home.groupsText')} />
            <LinkCard href="/admin/audit" icon={<FileClock size={22} />} title={t('admin.audit.title')} text={t('home.auditText')} />
          </ul>
        </section>
      )}

      <div className="notice notice-info home-later">
        <Info size={18} aria-hidden="true" />
        <p>{t('home.later')}</p>
      </div>
    </div>
  );
}
