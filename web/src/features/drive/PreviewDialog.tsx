/**
 * The preview of a file, in a dialog with previous / next (buttons and the arrow keys). Images, PDF, audio
 * and video come from /api/drive/preview, which serves inline only what its bytes prove inert (with a
 * sandboxing CSP) and refuses the rest; text and Markdown are fetched as text and shown by React (the
 * Markdown renderer builds elements, never HTML). Anything else offers the download.
 */
import { useEffect, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { ChevronLeft, ChevronRight, Download, FileQuestion } from 'lucide-react';
import { useI18n } from '../../app/i18n';
import { QueryView } from '../../app/QueryView';
import { Button } from '../../ui/Button';
import { AppDialog } from '../../ui/Dialog';
import { EmptyState } from '../../ui/States';
import { contentUrlIn, fetchText, markOpened, previewUrl, type DriveItem } from './api';
import { Markdown } from './Markdown';

export type PreviewKind = 'image' | 'pdf' | 'audio' | 'video' | 'markdown' | 'text' | 'none';

const EXT: Record<string, PreviewKind> = {
  png: 'image', jpg: 'image', jpeg: 'image', gif: 'image', webp: 'image', avif: 'image',
  pdf: 'pdf',
  mp3: 'audio', ogg: 'audio', oga: 'audio', wav: 'audio', flac: 'audio', m4a: 'audio', weba: 'audio', opus: 'audio',
  mp4: 'video', m4v: 'video', webm: 'video', ogv: 'video', mov: 'video',
  md: 'markdown', markdown: 'markdown',
  txt: 'text', csv: 'text', log: 'text', json: 'text', yml: 'text', yaml: 'text', ini: 'text', conf: 'text', ts: 'text', js: 'text', py: 'text', sh: 'text', css: 'text', sql: 'text', ics: 'text', vcf: 'text', tsv: 'text',
};

/** What the app will try to show (the server still has the last word for inline content). */
export function previewKind(item: Pick<DriveItem, 'name' | 'contentType' | 'kind'>): PreviewKind {
  if (item.kind !== 'file') return 'none';
  const ext = item.name.toLowerCase().split('.').pop() ?? '';
  const byExt = EXT[ext];
  if (byExt) return byExt;
  const ct = item.contentType.split(';')[0]!.trim();
  if (ct === 'text/markdown') return 'markdown';
  if (ct === 'text/plain') return 'text';
  if (ct === 'application/pdf') return 'pdf';
  const major = ct.split('/')[0];
  if ((major === 'image' && ct !== 'image/svg+xml') || major === 'audio' || major === 'video') return major as PreviewKind;
  return 'none';
}

const TEXT_LIMIT = 512 * 1024;

export interface PreviewTarget {
  item: DriveItem;
  path: string;
  /** When the list mixes drives (favourites, recent). */
  drive?: string;
}

export function PreviewDialog({ drive, items, index, onIndex, onClose }: { drive: string; items: PreviewTarget[]; index: number | null; onIndex: (i: number) => void; onClose: () => void }) {
  const { t } = useI18n();
  const current = index === null ? null : (items[index] ?? null);
  const hasPrev = index !== null && index > 0;
  const hasNext = index !== null && index < items.length - 1;
  const currentDrive = current?.drive ?? drive;
  const currentPath = current?.path;

  useEffect(() => {
    if (currentPath !== undefined) void markOpened(currentDrive, currentPath).catch(() => undefined);
  }, [currentDrive, currentPath]);

  // Arrow keys move between files anywhere in the open dialog, unless a control (a media seek bar, a
  // field) needs them.
  useEffect(() => {
    if (index === null) return;
    const onKey = (e: globalThis.KeyboardEvent) => {
      const el = e.target as HTMLElement | null;
      if (el && (el.closest('audio, video, input, textarea, select, [role="slider"]') || !el.closest('[data-testid="drive-preview"]'))) return;
      if (e.altKey || e.ctrlKey || e.metaKey) return;
      if (e.key === 'ArrowLeft' && index > 0) {
        e.preventDefault();
        onIndex(index - 1);
      } else if (e.key === 'ArrowRight' && index < items.length - 1) {
        e.preventDefault();
        onIndex(index + 1);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [index, items.length, onIndex]);

  return (
    <AppDialog
      isOpen={current !== null}
      onClose={onClose}
      title={current?.item.name ?? ''}
      closeLabel={t('common.close')}
      size="lg"
      testId="drive-preview"
      footer={
        current && (
          <div className="preview-foot">
            <span className="small muted" aria-live="polite">
              {t('drive.preview.position', { n: (index ?? 0) + 1, total: items.length })}
            </span>
            <div className="preview-nav">
              <Button size="sm" icon={<ChevronLeft size={16} aria-hidden="true" />} onClick={() => hasPrev && onIndex((index ?? 0) - 1)} disabled={!hasPrev}>
                {t('drive.preview.previous')}
              </Button>
              <Button size="sm" icon={<ChevronRight size={16} aria-hidden="true" />} onClick={() => hasNext && onIndex((index ?? 0) + 1)} disabled={!hasNext}>
                {t('drive.preview.next')}
              </Button>
              <a className="btn btn-secondary btn-sm" href={contentUrlIn(currentDrive, current.path)} download={current.item.name}>
                <Download size={16} aria-hidden="true" />
                <span>{t('drive.download')}</span>
              </a>
            </div>
          </div>
        )
      }
    >
      <div className="preview-body">
        {current && <PreviewContent key={`${current.path}:${current.item.etag}`} drive={currentDrive} target={current} />}
      </div>
    </AppDialog>
  );
}

function PreviewContent({ drive, target }: { drive: string; target: PreviewTarget }) {
  const { t } = useI18n();
  const kind = previewKind(target.item);
  const [failed, setFailed] = useState(false);
  const src = previewUrl(drive, target.path);
  const noPreview = (
    <EmptyState icon={<FileQuestion size={28} />} title={t('drive.preview.none')}>
      {t('drive.preview.noneText')}
    </EmptyState>
  );
  if (failed) return noPreview;
  switch (kind) {
    case 'image':
      return <img className="preview-image" src={src} alt={target.item.name} onError={() => setFailed(true)} data-testid="preview-image" />;
    case 'pdf':
      return <iframe className="preview-frame" src={src} title={target.item.name} data-testid="preview-pdf" />;
    case 'audio':
      return <audio className="preview-audio" src={src} controls preload="metadata" onError={() => setFailed(true)} aria-label={target.item.name} />;
    case 'video':
      return <video className="preview-video" src={src} controls preload="metadata" onError={() => setFailed(true)} aria-label={target.item.name} />;
    case 'markdown':
    case 'text':
      return <TextPreview drive={drive} target={target} markdown={kind === 'markdown'} />;
    default:
      return noPreview;
  }
}

function TextPreview({ drive, target, markdown }: { drive: string; target: PreviewTarget; markdown: boolean }) {
  const { t } = useI18n();
  const query = useQuery({
    queryKey: ['drive', 'text', drive, target.path, target.item.etag],
    queryFn: ({ signal }) => fetchText(drive, target.path, TEXT_LIMIT, signal),
    staleTime: Infinity,
  });
  return (
    <QueryView query={query} errorTitle={t('drive.preview.loadError')} lines={8}>
      {(d) => (
        <div className="preview-text" data-testid="preview-text">
          {markdown ? <Markdown source={d.text} /> : <pre tabIndex={0}>{d.text}</pre>}
          {d.truncated && <p className="small muted">{t('drive.preview.truncated')}</p>}
        </div>
      )}
    </QueryView>
  );
}
