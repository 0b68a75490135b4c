import { useI18n } from './i18n';
import { visibleApps } from './apps';
import { AppDialog } from '../ui/Dialog';
import { Button } from '../ui/Button';

export function ShortcutsDialog({ isOpen, onClose, isAdmin }: { isOpen: boolean; onClose: () => void; isAdmin: boolean }) {
  const { t } = useI18n();
  const isMac = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
  return (
    <AppDialog
      isOpen={isOpen}
      onClose={onClose}
      title={t('shortcuts.title')}
      closeLabel={t('common.close')}
      focusableBody
      footer={
        <Button variant="primary" onClick={onClose}>
          {t('common.close')}
        </Button>
      }
    >
      <div className="stack">
        <table className="table shortcuts">
          <caption className="visually-hidden">{t('shortcuts.general')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('shortcuts.keys')}</th>
              <th scope="col">{t('shortcuts.action')}</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <td>
                <kbd>{isMac ? '⌘' : 'Ctrl'}</kbd> + <kbd>K</kbd>
              </td>
              <td>{t('shortcuts.search')}</td>
            </tr>
            <tr>
              <td>
                <kbd>?</kbd>
              </td>
              <td>{t('shortcuts.help')}</td>
            </tr>
            <tr>
              <td>
                <kbd>Esc</kbd>
              </td>
              <td>{t('shortcuts.escape')}</td>
            </tr>
          </tbody>
        </table>
        <table className="table shortcuts">
          <caption className="shortcuts-caption">{t('shortcuts.goTo')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('shortcuts.keys')}</th>
              <th scope="col">{t('shortcuts.action')}</th>
            </tr>
          </thead>
          <tbody>
            {visibleApps(isAdmin).map((a) => (
              <tr key={a.id}>
                <td>
                  <kbd>G</kbd> {t('shortcuts.then')} <kbd>{a.key.toUpperCase()}</kbd>
                </td>
                <td>{t('shortcuts.open', { app: t(`app.${a.id}`) })}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </AppDialog>
  );
}
