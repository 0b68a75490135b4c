import { useI18n } from '../../app/i18n';
import { PageHeader, useDocumentTitle } from '../../ui/Page';
import { SettingsNav } from './SettingsNav';
import { PasswordSection } from './PasswordSection';
import { TotpSection } from './TotpSection';
import { AppPasswordsSection } from './AppPasswordsSection';
import { TokensSection } from './TokensSection';
import { SessionsSection } from './SessionsSection';

export function SecurityPage() {
  const { t } = useI18n();
  useDocumentTitle(t('settings.security'));
  return (
    <div className="page">
      <PageHeader title={t('settings.title')} />
      <SettingsNav />
      <PasswordSection />
      <TotpSection />
      <AppPasswordsSection />
      <TokensSection />
      <SessionsSection />
    </div>
  );
}
