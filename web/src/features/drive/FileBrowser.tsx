/**
 * The contents of a folder as a virtualised list or grid (only the rows on screen are in the DOM, so a
 * folder of 10,000 files renders and scrolls at once). A WAI-ARIA grid: one tab stop (the focused item),
 * arrows move, Shift+arrows extend the selection, Space toggles, Ctrl/⌘+A selects all, Enter opens,
 * Delete deletes, Esc clears; the mouse selects with click, Ctrl/⌘+click and Shift+click; each item has a
 * checkbox for touch. Every item has a "⋯" menu (also on right-click) with room for more entries.
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type FocusEvent, type KeyboardEvent, type MouseEvent, type ReactNode } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { Button as AriaButton } from 'react-aria-components/Button';
import { Menu, MenuItem, MenuTrigger, Popover, Separator } from 'react-aria-components/Menu';
import { Copy, Download, Eye, File as FileIcon, FileText, Folder, FolderInput, Image as ImageIcon, MoreHorizontal, Music, Pencil, Star, StarOff, Trash2, Video } from 'lucide-react';
import { useI18n } from '../../app/i18n';
import { Link } from '../../app/router';
import { Button } from '../../ui/Button';
import { contentUrlIn, join, thumbnailUrl, zipUrl, type DriveItem } from './api';
import { previewKind } from './PreviewDialog';

export type Layout = 'list' | 'grid';

/** One entry of an item's menu; the lead adds "Share…", "Versions…" through `extraActions`. */
export interface ItemAction {
  id: string;
  label: string;
  icon?: ReactNode;
  onAction: () => void;
}

export interface BrowserHandlers {
  onOpen: (item: DriveItem) => void;
  onRename: (item: DriveItem) => void;
  onDelete: (items: DriveItem[]) => void;
  onMove: (items: DriveItem[]) => void;
  onCopy: (items: DriveItem[]) => void;
  onToggleStar: (item: DriveItem) => void;
  extraActions?: (item: DriveItem) => ItemAction[];
}

export function FileIconFor({ item, size = 20 }: { item: Pick<DriveItem, 'name' | 'contentType' | 'kind'>; size?: number }) {
  if (item.kind === 'folder') return <Folder size={size} />;
  switch (previewKind(item)) {
    case 'image':
      return <ImageIcon size={size} />;
    case 'audio':
      return <Music size={size} />;
    case 'video':
      return <Video size={size} />;
    case 'pdf':
    case 'text':
    case 'markdown':
      return <FileText size={size} />;
    default:
      return <FileIcon size={size} />;
  }
}

/** A thumbnail for images (made by the server), the type's icon otherwise or when none can be made. */
export function Thumb({ drive, path, item, size }: { drive: string; path: string; item: DriveItem; size: number }) {
  const [failed, setFailed] = useState(false);
  if (item.kind === 'file' && previewKind(item) === 'image' && !failed)
    return <img className="drive-thumb" src={thumbnailUrl(drive, path, item.etag)} alt="" loading="lazy" decoding="async" width={size} height={size} onError={() => setFailed(true)} />;
  return (
    <span className="drive-icon" aria-hidden="true">
      <FileIconFor item={item} size={Math.min(size, 40)} />
    </span>
  );
}

const GRID_MIN = 164;
const LIST_ROW = 64;
const GRID_ROW = 212;

export function FileBrowser({
  drive,
  path,
  items,
  layout,
  selected,
  onSelect,
  starred,
  label,
  hrefFor,
  handlers,
}: {
  drive: string;
  path: string;
  items: DriveItem[];
  layout: Layout;
  selected: ReadonlySet<string>;
  onSelect: (ids: Set<string>) => void;
  starred: ReadonlySet<string>;
  label: string;
  hrefFor: (path: string) => string;
  handlers: BrowserHandlers;
}) {
  const { t, fmt } = useI18n();
  const scroller = useRef<HTMLDivElement>(null);
  const [cols, setCols] = useState(1);
  const [focus, setFocus] = useState(0);
  const anchor = useRef<number | null>(null);
  const wantFocus = useRef(false);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const measure = () => setCols(layout === 'grid' ? Math.max(2, Math.floor(el.clientWidth / GRID_MIN)) : 1);
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [layout]);

  const perRow = layout === 'grid' ? cols : 1;
  const rowCount = Math.ceil(items.length / perRow);
  const virtualizer = useVirtualizer({
    count: rowCount,
    getScrollElement: () => scroller.current,
    estimateSize: () => (layout === 'grid' ? GRID_ROW : LIST_ROW),
    overscan: 6,
  });
  useEffect(() => virtualizer.measure(), [layout, cols, virtualizer]);

  const focusIndex = Math.min(focus, Math.max(0, items.length - 1));
  const moveFocus = useCallback(
    (i: number) => {
      const next = Math.max(0, Math.min(items.length - 1, i));
      setFocus(next);
      wantFocus.current = true;
      virtualizer.scrollToIndex(Math.floor(next / perRow), { align: 'auto' });
    },
    [items.length, perRow, virtualizer],
  );
  // After a keyboard move, the newly focused item may only now be rendered: focus it then.
  useEffect(() => {
    if (!wantFocus.current) return;
    const id = requestAnimationFrame(() => {
      const el = scroller.current?.querySelector<HTMLElement>(`[data-item="${focusIndex}"]`);
      if (el) {
        el.focus({ preventScroll: true });
        wantFocus.current = false;
      }
    });
    return () => cancelAnimationFrame(id);
  });

  const range = (a: number, b: number) => new Set(items.slice(Math.min(a, b), Math.max(a, b) + 1).map((i) => i.id));

  function selectAt(i: number, e: { shiftKey: boolean; ctrlKey: boolean; metaKey: boolean }, toggle = false) {
    const item = items[i];
    if (!item) return;
    if (e.shiftKey && anchor.current !== null) onSelect(range(anchor.current, i));
    else if (e.ctrlKey || e.metaKey || toggle) {
      const next = new Set(selected);
      if (next.has(item.id)) next.delete(item.id);
      else next.add(item.id);
      onSelect(next);
      anchor.current = i;
    } else {
      onSelect(new Set([item.id]));
      anchor.current = i;
    }
    setFocus(i);
  }

  function onKeyDown(e: KeyboardEvent<HTMLElement>, i: number) {
    if (e.target !== e.currentTarget) return; // keys typed in a control of the item are its own
    const item = items[i]!;
    const step: Record<string, number> = { ArrowDown: perRow, ArrowUp: -perRow, ...(layout === 'grid' ? { ArrowRight: 1, ArrowLeft: -1 } : {}) };
    if (e.key in step || e.key === 'Home' || e.key === 'End' || e.key === 'PageDown' || e.key === 'PageUp') {
      e.preventDefault();
      const page = Math.max(1, Math.floor((scroller.current?.clientHeight ?? 400) / (layout === 'grid' ? GRID_ROW : LIST_ROW))) * perRow;
      const target = e.key === 'Home' ? 0 : e.key === 'End' ? items.length - 1 : e.key === 'PageDown' ? i + page : e.key === 'PageUp' ? i - page : i + step[e.key]!;
      const next = Math.max(0, Math.min(items.length - 1, target));
      if (e.shiftKey) {
        if (anchor.current === null) anchor.current = i;
        onSelect(range(anchor.current, next));
      }
      moveFocus(next);
    } else if (e.key === ' ') {
      e.preventDefault();
      selectAt(i, { shiftKey: e.shiftKey, ctrlKey: false, metaKey: false }, true);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      handlers.onOpen(item);
    } else if ((e.key === 'a' || e.key === 'A') && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      onSelect(new Set(items.map((x) => x.id)));
    } else if (e.key === 'Escape' && selected.size > 0) {
      e.preventDefault();
      onSelect(new Set());
    } else if (e.key === 'Delete' || (e.key === 'Backspace' && e.metaKey)) {
      e.preventDefault();
      handlers.onDelete(selected.has(item.id) ? items.filter((x) => selected.has(x.id)) : [item]);
    } else if (e.key === 'F2') {
      e.preventDefault();
      handlers.onRename(item);
    }
  }

  function onItemClick(e: MouseEvent<HTMLElement>, i: number) {
    // Clicks on the item's own controls (links, buttons, checkbox) do their own thing.
    if ((e.target as HTMLElement).closest('a, button, input, [role="menuitem"]')) return;
    selectAt(i, e);
  }

  const renderItem = (item: DriveItem, i: number) => {
    const itemPath = join(path, item.name);
    const isSel = selected.has(item.id);
    const isStar = starred.has(item.id);
    // Only the focused item's controls are in the tab order: Tab goes from it into them, then out of the grid.
    const inner = i === focusIndex ? 0 : -1;
    const common = {
      'data-item': i,
      'data-testid': 'drive-item',
      'aria-selected': isSel,
      tabIndex: i === focusIndex ? 0 : -1,
      onKeyDown: (e: KeyboardEvent<HTMLElement>) => onKeyDown(e, i),
      onClick: (e: MouseEvent<HTMLElement>) => onItemClick(e, i),
      onDoubleClick: (e: MouseEvent<HTMLElement>) => {
        if (!(e.target as HTMLElement).closest('a, button, input')) handlers.onOpen(item);
      },
      onFocus: (e: FocusEvent<HTMLElement>) => {
        if (e.target === e.currentTarget) setFocus(i);
      },
    };
    const name =
      item.kind === 'folder' ? (
        <Link className="drive-name" href={hrefFor(itemPath)} tabIndex={inner}>
          {item.name}
        </Link>
      ) : (
        <button type="button" className="drive-name linklike" tabIndex={inner} onClick={() => handlers.onOpen(item)} aria-label={t('drive.openNamed', { name: item.name })}>
          {item.name}
        </button>
      );
    const check = (
      <input
        type="checkbox"
        className="drive-check"
        checked={isSel}
        tabIndex={inner}
        aria-label={t('drive.selectNamed', { name: item.name })}
        onChange={() => selectAt(i, { shiftKey: false, ctrlKey: false, metaKey: false }, true)}
      />
    );
    const star = isStar ? (
      <span className="drive-star" title={t('drive.fav.starred')}>
        <Star size={14} aria-hidden="true" />
        <span className="visually-hidden">{t('drive.fav.starred')}</span>
      </span>
    ) : null;
    const menu = <ItemMenu item={item} drive={drive} itemPath={itemPath} starred={isStar} selected={isSel ? items.filter((x) => selected.has(x.id)) : [item]} handlers={handlers} tabbable={inner === 0} />;
    if (layout === 'grid')
      return (
        <div key={item.id} role="gridcell" className={`drive-card${isSel ? ' is-selected' : ''}`} {...common}>
          <div className="drive-card-top">
            {check}
            {star}
            {menu}
          </div>
          <div className="drive-card-thumb">
            <Thumb drive={drive} path={itemPath} item={item} size={112} />
          </div>
          {name}
          <span className="meta small muted">{item.kind === 'folder' ? t('drive.folder') : fmt.size(item.size)}</span>
        </div>
      );
    return (
      <div key={item.id} role="row" aria-rowindex={i + 1} className={`drive-row${isSel ? ' is-selected' : ''}`} {...common}>
        <div role="gridcell" className="drive-cell-check">
          {check}
        </div>
        <div role="gridcell" className="drive-cell-name">
          <Thumb drive={drive} path={itemPath} item={item} size={32} />
          <div className="list-main">
            <span className="drive-name-line">
              {name}
              {star}
            </span>
            <span className="meta">
              <span>{item.kind === 'folder' ? t('drive.folder') : fmt.size(item.size)}</span>
              <span>{t('drive.modified', { date: fmt.dateTime(item.updatedAt) })}</span>
            </span>
          </div>
        </div>
        <div role="gridcell" className="drive-actions">
          {item.kind === 'file' && (
            <a className="btn btn-ghost btn-sm" href={contentUrlIn(drive, itemPath)} download={item.name} tabIndex={inner} aria-label={t('drive.downloadNamed', { name: item.name })}>
              <Download size={16} aria-hidden="true" />
              <span>{t('drive.download')}</span>
            </a>
          )}
          <Button size="sm" variant="ghost" tabIndex={inner} icon={<Pencil size={16} aria-hidden="true" />} aria-label={t('drive.renameNamed', { name: item.name })} onClick={() => handlers.onRename(item)}>
            {t('drive.rename')}
          </Button>
          <Button size="sm" variant="ghost" tabIndex={inner} icon={<Trash2 size={16} aria-hidden="true" />} aria-label={t('drive.deleteNamed', { name: item.name })} onClick={() => handlers.onDelete([item])}>
            {t('drive.delete')}
          </Button>
          {menu}
        </div>
      </div>
    );
  };

  const virtualRows = virtualizer.getVirtualItems();
  return (
    <div
      ref={scroller}
      className={`drive-scroller drive-${layout}`}
      role="grid"
      aria-label={label}
      aria-multiselectable="true"
      aria-rowcount={rowCount}
      aria-colcount={layout === 'grid' ? perRow : 3}
      data-testid="drive-grid"
    >
      <div className="drive-virtual" style={{ height: virtualizer.getTotalSize() }}>
        {virtualRows.map((vr) => {
          if (layout === 'list') {
            const item = items[vr.index]!;
            return (
              <div key={vr.key} className="drive-vrow" data-index={vr.index} ref={virtualizer.measureElement} style={{ transform: `translateY(${vr.start}px)` }} role="presentation">
                {renderItem(item, vr.index)}
              </div>
            );
          }
          const start = vr.index * perRow;
          return (
            <div
              key={vr.key}
              role="row"
              aria-rowindex={vr.index + 1}
              className="drive-vrow drive-grid-row"
              data-index={vr.index}
              ref={virtualizer.measureElement}
              style={{ transform: `translateY(${vr.start}px)`, gridTemplateColumns: `repeat(${perRow}, minmax(0, 1fr))` }}
            >
              {items.slice(start, start + perRow).map((item, j) => renderItem(item, start + j))}
            </div>
          );
        })}
      </div>
    </div>
  );
}

export function startDownload(href: string, name: string): void {
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
}

function ItemMenu({ item, drive, itemPath, starred, selected, handlers, tabbable }: { item: DriveItem; drive: string; itemPath: string; starred: boolean; selected: DriveItem[]; handlers: BrowserHandlers; tabbable: boolean }) {
  const { t } = useI18n();
  const extra = handlers.extraActions?.(item) ?? [];
  const download = item.kind === 'file' ? contentUrlIn(drive, itemPath) : zipUrl(drive, [itemPath]);
  return (
    <MenuTrigger>
      <AriaButton className="btn btn-ghost btn-icon btn-sm drive-more" aria-label={t('drive.moreNamed', { name: item.name })} excludeFromTabOrder={!tabbable}>
        <MoreHorizontal size={18} aria-hidden="true" />
      </AriaButton>
      <Popover className="popover" placement="bottom end" offset={4}>
        <Menu className="menu" aria-label={t('drive.actionsFor', { name: item.name })}>
          <MenuItem id="open" className="menu-item" textValue={t('drive.open')} onAction={() => handlers.onOpen(item)}>
            <Eye size={18} aria-hidden="true" />
            {item.kind === 'folder' ? t('drive.open') : t('drive.preview.action')}
          </MenuItem>
          <MenuItem id="download" className="menu-item" textValue={t('drive.download')} onAction={() => startDownload(download, item.kind === 'file' ? item.name : `${item.name}.zip`)}>
            <Download size={18} aria-hidden="true" />
            {t('drive.download')}
          </MenuItem>
          <MenuItem id="star" className="menu-item" textValue={starred ? t('drive.fav.remove') : t('drive.fav.add')} onAction={() => handlers.onToggleStar(item)}>
            {starred ? <StarOff size={18} aria-hidden="true" /> : <Star size={18} aria-hidden="true" />}
            {starred ? t('drive.fav.remove') : t('drive.fav.add')}
          </MenuItem>
          <Separator className="menu-sep" />
          <MenuItem id="rename" className="menu-item" textValue={t('drive.rename')} onAction={() => handlers.onRename(item)}>
            <Pencil size={18} aria-hidden="true" />
            {t('drive.rename')}
          </MenuItem>
          <MenuItem id="move" className="menu-item" textValue={t('drive.moveTo')} onAction={() => handlers.onMove(selected)}>
            <FolderInput size={18} aria-hidden="true" />
            {t('drive.moveTo')}
          </MenuItem>
          <MenuItem id="copy" className="menu-item" textValue={t('drive.copyTo')} onAction={() => handlers.onCopy(selected)}>
            <Copy size={18} aria-hidden="true" />
            {t('drive.copyTo')}
          </MenuItem>
          {extra.length > 0 && <Separator className="menu-sep" />}
          {extra.map((a) => (
            <MenuItem key={a.id} id={a.id} className="menu-item" textValue={a.label} onAction={a.onAction}>
              {a.icon}
              {a.label}
            </MenuItem>
          ))}
          <Separator className="menu-sep" />
          <MenuItem id="delete" className="menu-item menu-danger" textValue={t('drive.delete')} onAction={() => handlers.onDelete(selected)}>
            <Trash2 size={18} aria-hidden="true" />
            {t('drive.delete')}
          </MenuItem>
        </Menu>
      </Popover>
    </MenuTrigger>
  );
}
