import { useRef, useState, type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { KeyRound, RefreshCw, ShieldCheck, ShieldOff } from 'lucide-react';
import { api } from '../../app/api';
import { errorText, useI18n } from '../../app/i18n';
import { SESSION_KEY, useMe } from '../../app/session';
import type { TotpSetup } from '../../app/types';
import { Button } from '../../ui/Button';
import { TextField } from '../../ui/Field';
import { ErrorBox } from '../../ui/ErrorBox';
import { AppDialog } from '../../ui/Dialog';
import { Badge, Card } from '../../ui/Page';
import { CopyButton } from '../../ui/Copy';
import { useToast } from '../../ui/Toast';
import { RecoveryCodes } from './RecoveryCodes';

type Stage = { kind: 'idle' } | { kind: 'setup'; data: TotpSetup } | { kind: 'codes'; codes: string[] };

/** The QR code as an image from a data: URL: the SVG never enters the page's DOM. */
function qrSrc(svg: string): string {
  return `data:image/svg+xml;utf8,${encodeURIComponent(svg)}`;
}

function groupSecret(s: string): string {
  return s.replace(/\s+/g, '').replace(/(.{4})/g, '$1 ').trim();
}

export function TotpSection() {
  const { t } = useI18n();
  const me = useMe();
  const qc = useQueryClient();
  const toast = useToast();
  const [stage, setStage] = useState<Stage>({ kind: 'idle' });
  const [starting, setStarting] = useState(false);
  const [startError, setStartError] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [enabling, setEnabling] = useState(false);
  const [enableError, setEnableError] = useState<string | null>(null);
  const [pwDialog, setPwDialog] = useState<null | 'disable' | 'regenerate'>(null);
  const codeRef = useRef<HTMLInputElement>(null);

  async function start() {
    setStarting(true);
    setStartError(null);
    try {
      const data = await api.post<TotpSetup>('/api/me/totp/setup');
      setStage({ kind: 'setup', data });
      setCode('');
      setEnableError(null);
    } catch (e) {
      setStartError(errorText(t, e));
    } finally {
      setStarting(false);
    }
  }

  async function enable(e: FormEvent) {
    e.preventDefault();
    if (enabling) return;
    const c = code.replace(/\s+/g, '');
    if (!/^\d{6,8}$/.test(c)) {
      setEnableError(t('totp.codeFormat'));
      codeRef.current?.focus();
      return;
    }
    setEnabling(true);
    setEnableError(null);
    try {
      const res = await api.post<{ recoveryCodes: string[] }>('/api/me/totp/enable', { code: c }, { quiet401: true });
      setStage({ kind: 'codes', codes: res.recoveryCodes });
      toast(t('totp.enabled'), 'success');
      void qc.invalidateQueries({ queryKey: SESSION_KEY });
    } catch (err) {
      setEnableError(errorText(t, err));
      setCode('');
      codeRef.current?.focus();
    } finally {
      setEnabling(false);
    }
  }

  let content;
  if (stage.kind === 'codes') {
    content = (
      <div className="stack">
        <h3>{t('recovery.title')}</h3>
        <RecoveryCodes codes={stage.codes} login={me.login} />
        <div>
          <Button variant="primary" onClick={() => setStage({ kind: 'idle' })}>
            {t('recovery.saved')}
          </Button>
        </div>
      </div>
    );
  } else if (stage.kind === 'setup') {
    content = (
      <div className="stack">
        <div className="totp-grid">
          <div className="qr">
            <img src={qrSrc(stage.data.qrSvg)} alt={t('totp.qrAlt')} width={184} height={184} data-testid="totp-qr" />
          </div>
          <div className="stack">
            <ol className="steps">
              <li>{t('totp.step1')}</li>
              <li>{t('totp.step2')}</li>
              <li>{t('totp.step3')}</li>
            </ol>
            <div className="secret">
              <p className="field-label" id="totp-secret-label">
                {t('totp.manual')}
              </p>
              <div className="secret-row">
                <output className="secret-value mono" aria-labelledby="totp-secret-label" data-testid="totp-secret" data-secret={stage.data.secret}>
                  {groupSecret(stage.data.secret)}
                </output>
                <CopyButton text={stage.data.secret.replace(/\s+/g, '')} label={t('totp.copySecret')} copiedLabel={t('common.copied')} />
              </div>
            </div>
          </div>
        </div>
        <form className="form" onSubmit={(e) => void enable(e)} noValidate aria-label={t('totp.confirmForm')}>
          <TextField
            ref={codeRef}
            label={t('totp.code')}
            description={t('totp.codeHelp')}
            value={code}
            onChange={setCode}
            inputMode="numeric"
            autoComplete="one-time-code"
            maxLength={10}
            required
          />
          <ErrorBox message={enableError} />
          <div className="row">
            <Button type="submit" variant="primary" loading={enabling}>
              {t('totp.turnOn')}
            </Button>
            <Button onClick={() => setStage({ kind: 'idle' })}>{t('common.cancel')}</Button>
          </div>
        </form>
      </div>
    );
  } else if (me.totpEnabled) {
    content = (
      <div className="stack">
        <p>{t('totp.onText')}</p>
        <p className={me.recoveryCodesLeft <= 3 ? 'field-error' : 'muted'}>{t('totp.codesLeft', { count: me.recoveryCodesLeft })}</p>
        <div className="row">
          <Button icon={<RefreshCw size={16} aria-hidden="true" />} onClick={() => setPwDialog('regenerate')}>
            {t('totp.regenerate')}
          </Button>
          <Button variant="danger" icon={<ShieldOff size={16} aria-hidden="true" />} onClick={() => setPwDialog('disable')}>
            {t('totp.turnOff')}
          </Button>
        </div>
      </div>
    );
  } else {
    content = (
      <div className="stack">
        <p>{t('totp.offText')}</p>
        <ErrorBox message={startError} />
        <div>
          <Button variant="primary" icon={<KeyRound size={16} aria-hidden="true" />} loading={starting} onClick={() => void start()}>
            {t('totp.setUp')}
          </Button>
        </div>
      </div>
    );
  }

  return (
    <Card labelledBy="totp-h">
      <div className="card-head">
        <div>
          <h2 id="totp-h">{t('totp.title')}</h2>
          <p className="muted">{t('totp.intro')}</p>
        </div>
        {me.totpEnabled ? (
          <Badge tone="success">
            <ShieldCheck size={14} aria-hidden="true" />
            {t('security.totpOn')}
          </Badge>
        ) : (
          <Badge>{t('security.totpOff')}</Badge>
        )}
      </div>
      {content}
      <PasswordConfirmDialog
        mode={pwDialog}
        onClose={() => setPwDialog(null)}
        onCodes={(codes) => {
          setPwDialog(null);
          setStage({ kind: 'codes', codes });
        }}
      />
    </Card>
  );
}

function PasswordConfirmDialog({ mode, onClose, onCodes }: { mode: null | 'disable' | 'regenerate'; onClose: () => void; onCodes: (codes: string[]) => void }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const toast = useToast();
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  function close() {
    setPassword('');
    setError(null);
    onClose();
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!password) {
      setError(t('form.required'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      if (mode === 'disable') {
        await api.post<void>('/api/me/totp/disable', { password }, { quiet401: true });
        toast(t('totp.disabled'), 'success');
        setPassword('');
        onClose();
      } else {
        const res = await api.post<{ recoveryCodes: string[] }>('/api/me/recovery-codes', { password }, { quiet401: true });
        setPassword('');
        onCodes(res.recoveryCodes);
      }
      void qc.invalidateQueries({ queryKey: SESSION_KEY });
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AppDialog
      isOpen={mode !== null}
      onClose={close}
      title={mode === 'disable' ? t('totp.turnOffTitle') : t('totp.regenerateTitle')}
      closeLabel={t('common.close')}
      size="sm"
      dismissable={false}
    >
      <form className="form" onSubmit={(e) => void submit(e)} noValidate>
        <p>{mode === 'disable' ? t('totp.turnOffText') : t('totp.regenerateText')}</p>
        <TextField label={t('password.current')} type="password" value={password} onChange={setPassword} autoComplete="current-password" required autoFocus />
        <ErrorBox message={error} />
        <div className="row-end">
          <Button onClick={close}>{t('common.cancel')}</Button>
          <Button type="submit" variant={mode === 'disable' ? 'danger' : 'primary'} loading={busy}>
            {mode === 'disable' ? t('totp.turnOff') : t('totp.regenerate')}
          </Button>
        </div>
      </form>
    </AppDialog>
  );
}
