/**
 * Import a .vcf file (one or many cards) into a book: the cards are sent in batches so the progress is
 * real, each refused card is named with the reason, and the import goes on if the dialog is closed
 * (a notification says when it is over).
 */
import { useCallback, useRef, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { FileUp } from 'lucide-react';
import { errorText, hasKey, useI18n } from '../../app/i18n';
import { Button } from '../../ui/Button';
import { AppDialog } from '../../ui/Dialog';
import { FormError } from '../../ui/Field';
import { useToast } from '../../ui/Toast';
import { booksKey, contactsKey, importVcf, splitVcf, type Book, type VcfCard } from './api';

const BATCH = 25;
/** The biggest file read (a .vcf of 20,000 cards with photos is well under this). */
const MAX_FILE = 64 * 1024 * 1024;

export interface ImportState {
  file: string;
  total: number;
  done: number;
  imported: number;
  failed: Array<{ name: string; code: string }>;
  running: boolean;
  error: string | null;
}

export function useImporter() {
  const [isOpen, setOpen] = useState(false);
  const [state, setState] = useState<ImportState | null>(null);
  const qc = useQueryClient();
  const toast = useToast();
  const { t } = useI18n();
  const openRef = useRef(false);
  openRef.current = isOpen;

  const run = useCallback(
    async (book: Book, fileName: string, cards: VcfCard[]) => {
      let s: ImportState = { file: fileName, total: cards.length, done: 0, imported: 0, failed: [], running: true, error: null };
      setState(s);
      try {
        for (let i = 0; i < cards.length; i += BATCH) {
          const batch = cards.slice(i, i + BATCH);
          const r = await importVcf(book.id, batch.map((c) => c.text).join(''));
          const failed = r.failed.map((f) => {
            const card = batch.find((c) => c.uid === f.uid);
            // The server says "not valid vCard data"; the most frequent reason is an old vCard 2.1 export.
            const code = f.code === 'invalid_vcard' && card && card.version !== '3.0' && card.version !== '4.0' ? 'version' : f.code;
            return { name: card?.name || f.uid || '?', code };
          });
          s = { ...s, done: s.done + batch.length, imported: s.imported + r.imported, failed: [...s.failed, ...failed] };
          setState(s);
          void qc.invalidateQueries({ queryKey: contactsKey(book.id) });
        }
        s = { ...s, running: false };
        setState(s);
        if (!openRef.current) toast(t('contacts.importDone', { count: s.imported, book: book.name }), s.failed.length ? 'error' : 'success');
      } catch (e) {
        s = { ...s, running: false, error: errorText(t, e) };
        setState(s);
        if (!openRef.current) toast(s.error ?? '', 'error');
      } finally {
        void qc.invalidateQueries({ queryKey: booksKey });
      }
    },
    [qc, toast, t],
  );

  return {
    isOpen,
    state,
    open: () => {
      setOpen(true);
      setState((s) => (s?.running ? s : null));
    },
    close: () => setOpen(false),
    run,
  };
}

export function ImportDialog({ importer, book }: { importer: ReturnType<typeof useImporter>; book: Book }) {
  const { t } = useI18n();
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState<{ name: string; cards: VcfCard[] } | null>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const s = importer.state;

  async function read(file: File | undefined) {
    setError(null);
    setPending(null);
    if (!file) return;
    if (file.size > MAX_FILE) return setError(t('contacts.importTooBig'));
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(await file.arrayBuffer());
    } catch {
      return setError(t('contacts.importNotUtf8'));
    }
    const cards = splitVcf(text);
    if (cards.length === 0) return setError(t('contacts.importNoCards'));
    setPending({ name: file.name, cards });
  }

  const reason = (code: string) => {
    const k = `contacts.importError.${code}`;
    return hasKey(k) ? t(k) : hasKey(`error.${code}`) ? t(`error.${code}` as Parameters<typeof t>[0]) : code;
  };

  return (
    <AppDialog
      isOpen={importer.isOpen}
      onClose={() => {
        setPending(null);
        setError(null);
        importer.close();
      }}
      title={t('contacts.importTitle', { book: book.name })}
      closeLabel={t('common.close')}
      testId="import-dialog"
      footer={
        s && !s.running ? (
          <Button variant="primary" onClick={importer.close}>
            {t('common.done')}
          </Button>
        ) : pending && !s ? (
          <>
            <Button onClick={() => setPending(null)}>{t('common.cancel')}</Button>
            <Button
              variant="primary"
              onClick={() => {
                const p = pending;
                setPending(null);
                void importer.run(book, p.name, p.cards);
              }}
            >
              {t('contacts.importGo', { count: pending.cards.length })}
            </Button>
          </>
        ) : undefined
      }
    >
      {!s && (
        <div className="stack-sm">
          <p>{t('contacts.importIntro')}</p>
          <input ref={fileRef} type="file" accept=".vcf,.vcard,text/vcard,text/x-vcard" className="visually-hidden" tabIndex={-1} aria-hidden="true" onChange={(e) => void read(e.target.files?.[0])} data-testid="import-file" />
          <div>
            <Button icon={<FileUp size={16} aria-hidden="true" />} onClick={() => fileRef.current?.click()}>
              {t('contacts.importPick')}
            </Button>
          </div>
          {pending && <p role="status">{t('contacts.importFound', { count: pending.cards.length, file: pending.name })}</p>}
          <FormError>{error}</FormError>
        </div>
      )}
      {s && (
        <div className="stack-sm" data-testid="import-progress">
          <p className="small muted">{s.file}</p>
          <progress max={s.total} value={s.done} aria-label={t('contacts.importProgress')} className="ct-progress" />
          <p role="status">{s.running ? t('contacts.importRunning', { done: s.done, total: s.total }) : t('contacts.importResult', { count: s.imported })}</p>
          {s.failed.length > 0 && (
            <div className="ct-import-errors">
              <p className="field-error">{t('contacts.importFailed', { count: s.failed.length })}</p>
              <ul>
                {s.failed.slice(0, 200).map((f, i) => (
                  <li key={i}>
                    <strong>{f.name}</strong> — {reason(f.code)}
                  </li>
                ))}
              </ul>
            </div>
          )}
          <FormError>{s.error}</FormError>
        </div>
      )}
    </AppDialog>
  );
}
