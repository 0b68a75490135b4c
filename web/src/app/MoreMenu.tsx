/** The phone bottom bar's "More" menu: the apps that do not fit in the bar. */
import { Button as AriaButton } from 'react-aria-components/Button';
import { Menu, MenuItem, MenuTrigger, Popover } from 'react-aria-components/Menu';
import { useI18n } from './i18n';
import { navigate } from './router';
import type { AppDef, AppId } from './apps';
import { MoreButtonContent } from './triggers';

export function MoreMenu({ apps, current, defaultOpen }: { apps: AppDef[]; current: AppId | null; defaultOpen?: boolean }) {
  const { t } = useI18n();
  const moreCurrent = apps.some((a) => a.id === current);
  return (
    <MenuTrigger defaultOpen={defaultOpen}>
      <AriaButton className="bottom-item" aria-label={t('shell.moreApps')} data-current={moreCurrent || undefined}>
        <MoreButtonContent label={t('shell.more')} />
      </AriaButton>
      <Popover className="popover" placement="top end" offset={8}>
        <Menu
          className="menu"
          aria-label={t('shell.moreApps')}
          onAction={(key) => {
            const app = apps.find((a) => a.id === key);
            if (app) navigate(app.path);
          }}
        >
          {apps.map((a) => {
            const Icon = a.icon;
            return (
              <MenuItem key={a.id} id={a.id} className="menu-item" textValue={t(`app.${a.id}`)}>
                <Icon size={20} aria-hidden="true" />
                {t(`app.${a.id}`)}
                {a.id === current && <span className="visually-hidden">{t('shell.currentApp')}</span>}
              </MenuItem>
            );
          })}
        </Menu>
      </Popover>
    </MenuTrigger>
  );
}
