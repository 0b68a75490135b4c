/** The profile menu: profile, security, language, theme, keyboard shortcuts, sign out. */
import { Check, Keyboard, LogOut, Shield, UserRound } from 'lucide-react';
import { Button as AriaButton } from 'react-aria-components/Button';
import { Header, Menu, MenuItem, MenuSection, MenuTrigger, Popover, Separator } from 'react-aria-components/Menu';
import type { Selection } from 'react-aria-components/Menu';
import { errorText, useI18n } from './i18n';
import { navigate } from './router';
import { useMe, useSignOut, useUpdateMe } from './session';
import { setLocalLang, setLocalTheme } from './prefs';
import type { Lang, Theme } from './types';
import { useToast } from '../ui/Toast';
import { ProfileButtonContent } from './triggers';

function firstKey(s: Selection): string | null {
  if (s === 'all') return null;
  const v = [...s][0];
  return v === undefined ? null : String(v);
}

export function ProfileMenu({ onShortcuts, defaultOpen }: { onShortcuts: () => void; defaultOpen?: boolean }) {
  const { t, lang } = useI18n();
  const me = useMe();
  const update = useUpdateMe();
  const signOut = useSignOut();
  const toast = useToast();

  function setLang(l: Lang) {
    setLocalLang(l);
    update.mutate({ language: l }, { onError: (e) => toast(errorText(t, e), 'error') });
  }
  function setTheme(th: Theme) {
    setLocalTheme(th);
    update.mutate({ theme: th }, { onError: (e) => toast(errorText(t, e), 'error') });
  }

  return (
    <MenuTrigger defaultOpen={defaultOpen}>
      <AriaButton className="btn btn-ghost profile-btn" aria-label={t('profileMenu.button', { name: me.displayName })}>
        <ProfileButtonContent me={me} />
      </AriaButton>
      <Popover className="popover" placement="bottom end" offset={6}>
        <Menu className="menu" aria-label={t('profileMenu.label')}>
          <MenuSection className="menu-section">
            <Header className="menu-who">
              <span className="menu-who-name">{me.displayName}</span>
              <span className="muted small">{me.email || me.login}</span>
            </Header>
            <MenuItem id="profile" className="menu-item" textValue={t('profileMenu.profile')} onAction={() => navigate('/settings/profile')}>
              <UserRound size={18} aria-hidden="true" />
              {t('profileMenu.profile')}
            </MenuItem>
            <MenuItem id="security" className="menu-item" textValue={t('profileMenu.security')} onAction={() => navigate('/settings/security')}>
              <Shield size={18} aria-hidden="true" />
              {t('profileMenu.security')}
            </MenuItem>
          </MenuSection>
          <MenuSection
            className="menu-section"
            aria-label={t('profileMenu.language')}
            selectionMode="single"
            disallowEmptySelection
            selectedKeys={[lang]}
            onSelectionChange={(s) => {
              const k = firstKey(s);
              if (k === 'fr' || k === 'en') setLang(k);
            }}
          >
            <Header className="menu-header">{t('profileMenu.language')}</Header>
            <MenuItem id="fr" className="menu-item" textValue="Français">
              <span lang="fr">Français</span>
              <Check size={16} className="menu-check" aria-hidden="true" />
            </MenuItem>
            <MenuItem id="en" className="menu-item" textValue="English">
              <span lang="en">English</span>
              <Check size={16} className="menu-check" aria-hidden="true" />
            </MenuItem>
          </MenuSection>
          <MenuSection
            className="menu-section"
            aria-label={t('profileMenu.theme')}
            selectionMode="single"
            disallowEmptySelection
            selectedKeys={[me.theme]}
            onSelectionChange={(s) => {
              const k = firstKey(s);
              if (k === 'light' || k === 'dark' || k === 'system') setTheme(k);
            }}
          >
            <Header className="menu-header">{t('profileMenu.theme')}</Header>
            {(['light', 'dark', 'system'] as const).map((th) => (
              <MenuItem key={th} id={th} className="menu-item" textValue={t(`theme.${th}`)}>
                {t(`theme.${th}`)}
                <Check size={16} className="menu-check" aria-hidden="true" />
              </MenuItem>
            ))}
          </MenuSection>
          <Separator className="menu-sep" />
          <MenuItem id="shortcuts" className="menu-item" textValue={t('shortcuts.title')} onAction={onShortcuts}>
            <Keyboard size={18} aria-hidden="true" />
            {t('shortcuts.title')}
          </MenuItem>
          <MenuItem id="signout" className="menu-item" textValue={t('profileMenu.signOut')} onAction={() => signOut.mutate()}>
            <LogOut size={18} aria-hidden="true" />
            {t('profileMenu.signOut')}
          </MenuItem>
        </Menu>
      </Popover>
    </MenuTrigger>
  );
}
