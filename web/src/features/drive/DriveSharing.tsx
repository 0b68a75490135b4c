/**
 * The hooks of sharing into the drive's screens: "Share…" and "Versions…" in an item's menu (with the
 * dialogs they open), and the sidebar's "Shared with me" entry with the drives of the user's spaces.
 */
import { useState, type ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Building2, HardDrive, History, Share2, Users } from 'lucide-react';
import { useI18n } from '../../app/i18n';
import { Link } from '../../app/router';
import type { DriveItem } from './api';
import type { ItemAction } from './FileBrowser';
import { ShareDialog } from './ShareDialog';
import { listSpaces, spacesKey } from './sharingApi';
import { VersionsDialog } from './VersionsDialog';

type Open = { kind: 'share' | 'versions'; item: DriveItem; path: string } | null;

/** Menu entries for an item at `path` in `drive`, and the dialog they open (render `dialogs`). */
export function useSharingActions(drive: string): { actions: (item: DriveItem, path: string) => ItemAction[]; dialogs: ReactNode } {
  const { t } = useI18n();
  const [open, setOpen] = useState<Open>(null);
  // What a share gives cannot be shared on (the owner decides); versions are there for files anywhere.
  const canShare = !drive.startsWith('share:');
  const actions = (item: DriveItem, path: string): ItemAction[] => [
    ...(canShare ? [{ id: 'share', label: t('sharing.menu'), icon: <Share2 size={18} aria-hidden="true" />, onAction: () => setOpen({ kind: 'share', item, path }) }] : []),
    ...(item.kind === 'file' ? [{ id: 'versions', label: t('versions.menu'), icon: <History size={18} aria-hidden="true" />, onAction: () => setOpen({ kind: 'versions', item, path }) }] : []),
  ];
  const close = () => setOpen(null);
  const dialogs = !open ? null : open.kind === 'share' ? (
    <ShareDialog key={`s:${open.path}`} drive={drive} path={open.path} item={open.item} onClose={close} />
  ) : (
    <VersionsDialog key={`v:${open.path}`} drive={drive} path={open.path} item={open.item} onClose={close} />
  );
  return { actions, dialogs };
}

/** The sidebar's part: "Shared with me", then the drives of the user's spaces. */
export function SharingNav({ drive, sharedCurrent }: { drive: string; sharedCurrent: boolean }) {
  const { t } = useI18n();
  const spaces = useQuery({ queryKey: spacesKey, queryFn: ({ signal }) => listSpaces(signal), staleTime: 60_000 });
  const mine = (spaces.data?.items ?? []).filter((s) => !s.archived && s.myRole !== null);
  return (
    <>
      <ul>
        {drive !== 'me' && (
          <li>
            <Link href="/drive" className="drive-side-link">
              <HardDrive size={18} aria-hidden="true" />
              <span>{t('drive.root')}</span>
            </Link>
          </li>
        )}
        <li>
          <Link href="/drive?view=shared" aria-current={sharedCurrent ? 'page' : undefined} className="drive-side-link">
            <Users size={18} aria-hidden="true" />
            <span>{t('shared.title')}</span>
          </Link>
        </li>
      </ul>
      {mine.length > 0 && (
        <>
          <p className="small muted sharing-side-head" id="drive-spaces-head">
            {t('shared.spaces')}
          </p>
          <ul aria-labelledby="drive-spaces-head">
            {mine.map((s) => (
              <li key={s.id}>
                <Link href={`/drive?${new URLSearchParams({ drive: `space:${s.id}` }).toString()}`} aria-current={drive === `space:${s.id}` ? 'page' : undefined} className="drive-side-link">
                  <Building2 size={18} aria-hidden="true" />
                  <span>{s.name}</span>
                </Link>
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}
