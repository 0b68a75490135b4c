import { useState } from 'react';
import { AlertTriangle } from 'lucide-react';
import { useI18n } from '../../app/i18n';
import { CopyButton, DownloadButton } from '../../ui/Copy';

/** The recovery codes, shown once, with copy and download. */
export function RecoveryCodes({ codes, login }: { codes: string[]; login: string }) {
  const { t, fmt } = useI18n();
  const [shownAt] = useState(() => Date.now());
  const text = `${t('recovery.fileHeader', { login, date: fmt.dateTime(shownAt) })}\n\n${codes.join('\n')}\n`;
  return (
    <div className="stack">
      <div className="notice" role="note">
        <AlertTriangle size={18} aria-hidden="true" />
        <p>{t('recovery.once')}</p>
      </div>
      <ol className="codes" aria-label={t('recovery.listLabel')} data-testid="recovery-codes">
        {codes.map((c) => (
          <li key={c}>{c}</li>
        ))}
      </ol>
      <div className="row">
        <CopyButton text={codes.join('\n')} label={t('recovery.copy')} copiedLabel={t('common.copied')} />
        <DownloadButton filename="bastide-recovery-codes.txt" text={text} label={t('recovery.download')} />
      </div>
    </div>
  );
}
