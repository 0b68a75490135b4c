/** The channel column: status, threads, spaces' channels, organisation channels, direct messages. */
import { useMemo } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Button as AriaButton } from 'react-aria-components/Button';
import { Menu, MenuItem, MenuTrigger, Separator } from 'react-aria-components/Menu';
import { Popover } from 'react-aria-components/Popover';
import { Bell, BellOff, Check, Compass, Hash, Lock, MessageSquarePlus, MessagesSquare, Plus, Users } from 'lucide-react';
import { useI18n, type MessageKey } from '../../app/i18n';
import { Link } from '../../app/router';
import { useMe } from '../../app/session';
import { chatApi, chatKeys, channelTitle, type Channel, type Presence, type Space } from './api';
import { notificationsSupported, setNotifyPref, useNotifyPref } from './live';
import { PresenceDot } from './MessageItem';
import { usePresenceMap } from './store';

export type SidebarDialog = 'create' | 'browse' | 'dm';

function Item({ c, current, meId, presence }: { c: Channel; current: boolean; meId: string; presence: ReadonlyMap<string, Presence> }) {
  const { t } = useI18n();
  const title = channelTitle(c, meId);
  const others = (c.people ?? []).filter((p) => p.id !== meId);
  // A muted conversation is not shown as unread (its mentions still count).
  const muted = c.notify?.muted === true;
  const unread = c.unread > 0 && !muted;
  const status = others.length === 1 ? presence.get(others[0]!.id) : undefined;
  const desc = [unread ? t('chat.side.unread', { count: c.unread }) : '', c.mentions > 0 ? t('chat.side.mentions', { count: c.mentions }) : ''].filter(Boolean).join(', ');
  return (
    <li>
      <Link
        href={`/chat/${c.id}`}
        className={['chat-side-link', unread ? 'unread' : '', c.archived ? 'archived' : '', muted ? 'muted-channel' : ''].filter(Boolean).join(' ')}
        aria-current={current ? 'page' : undefined}
        data-testid="chat-side-item"
        data-unread={unread || undefined}
      >
        {c.kind === 'dm' ? (
          <PresenceDot status={status} label={t(`chat.presence.${status ?? 'offline'}` as MessageKey)} />
        ) : c.kind === 'group' ? (
          <Users size={16} aria-hidden="true" />
        ) : c.visibility === 'private' ? (
          <span role="img" aria-label={t('chat.private')} className="chat-icon">
            <Lock size={16} aria-hidden="true" />
          </span>
        ) : (
          <Hash size={16} aria-hidden="true" />
        )}
        <span className="chat-side-name">{title}</span>
        {muted && (
          <span role="img" aria-label={t('chat.notify.mutedShort')} className="chat-icon chat-side-muted" data-testid="chat-muted">
            <BellOff size={14} aria-hidden="true" />
          </span>
        )}
        {desc && <span className="visually-hidden">, {desc}</span>}
        {c.mentions > 0 ? (
          <span className="chat-badge" aria-hidden="true" data-testid="chat-mention-badge">
            {c.mentions}
          </span>
        ) : unread ? (
          <span className="chat-badge chat-badge-soft" aria-hidden="true">
            {c.unread}
          </span>
        ) : null}
      </Link>
    </li>
  );
}

function Group({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <div className="chat-side-group">
      <h2 className="chat-side-heading">{title}</h2>
      <ul>{children}</ul>
    </div>
  );
}

export function Sidebar({ channels, currentId, threadsCurrent, threadUnread, onDialog, myStatus, onStatus }: { channels: Channel[]; currentId: string | null; threadsCurrent: boolean; threadUnread: number; onDialog: (d: SidebarDialog) => void; myStatus: Presence; onStatus: (s: Exclude<Presence, 'offline'>) => void }) {
  const { t } = useI18n();
  const me = useMe();
  const presence = usePresenceMap();
  const notify = useNotifyPref();
  const spaces = useQuery({ queryKey: chatKeys.spaces, queryFn: ({ signal }) => chatApi.spaces(signal), staleTime: 5 * 60_000, enabled: channels.some((c) => c.kind === 'space') });
  const spaceName = useMemo(() => new Map((spaces.data ?? []).map((s: Space) => [s.id, s.name])), [spaces.data]);

  const bySpace = new Map<string, Channel[]>();
  for (const c of channels) if (c.kind === 'space' && c.spaceId) bySpace.set(c.spaceId, [...(bySpace.get(c.spaceId) ?? []), c]);
  const org = channels.filter((c) => c.kind === 'org');
  const dms = channels.filter((c) => c.kind === 'dm' || c.kind === 'group').sort((a, b) => (b.lastMessageId ?? '').localeCompare(a.lastMessageId ?? ''));
  const statuses: Exclude<Presence, 'offline'>[] = ['online', 'away', 'dnd'];

  return (
    <nav className="chat-side" aria-label={t('chat.side.label')}>
      <div className="chat-side-top">
        <h1 className="chat-side-title">{t('chat.title')}</h1>
        <MenuTrigger>
          <AriaButton className="btn btn-ghost btn-sm chat-status-btn" aria-label={t('chat.status.button', { status: t(`chat.presence.${myStatus}` as MessageKey) })}>
            <PresenceDot status={myStatus} label={t(`chat.presence.${myStatus}` as MessageKey)} />
            <span className="chat-status-text">{t(`chat.presence.${myStatus}` as MessageKey)}</span>
          </AriaButton>
          <Popover className="popover" placement="bottom end" offset={4}>
            <Menu className="menu" aria-label={t('chat.status.menu')}>
              {statuses.map((s) => (
                <MenuItem key={s} id={s} className="menu-item" textValue={t(`chat.presence.${s}`)} onAction={() => onStatus(s)}>
                  <PresenceDot status={s} label="" />
                  {t(`chat.presence.${s}`)}
                  {myStatus === s && <Check size={16} aria-hidden="true" className="chat-menu-check" />}
                </MenuItem>
              ))}
              <Separator className="menu-sep" />
              <MenuItem
                id="notify"
                className="menu-item"
                textValue={notify ? t('chat.notify.off') : t('chat.notify.on')}
                isDisabled={!notificationsSupported()}
                onAction={() => void setNotifyPref(!notify)}
              >
                {notify ? <BellOff size={16} aria-hidden="true" /> : <Bell size={16} aria-hidden="true" />}
                {notify ? t('chat.notify.off') : t('chat.notify.on')}
              </MenuItem>
            </Menu>
          </Popover>
        </MenuTrigger>
        <MenuTrigger>
          <AriaButton className="btn btn-primary btn-icon btn-sm" aria-label={t('chat.new')}>
            <Plus size={18} aria-hidden="true" />
          </AriaButton>
          <Popover className="popover" placement="bottom end" offset={4}>
            <Menu className="menu" aria-label={t('chat.new')}>
              <MenuItem id="dm" className="menu-item" textValue={t('chat.dm.new')} onAction={() => onDialog('dm')}>
                <MessageSquarePlus size={16} aria-hidden="true" />
                {t('chat.dm.new')}
              </MenuItem>
              <MenuItem id="create" className="menu-item" textValue={t('chat.create.title')} onAction={() => onDialog('create')}>
                <Plus size={16} aria-hidden="true" />
                {t('chat.create.title')}
              </MenuItem>
              <MenuItem id="browse" className="menu-item" textValue={t('chat.browse.title')} onAction={() => onDialog('browse')}>
                <Compass size={16} aria-hidden="true" />
                {t('chat.browse.title')}
              </MenuItem>
            </Menu>
          </Popover>
        </MenuTrigger>
      </div>
      <div className="chat-side-scroll">
        <ul className="chat-side-fixed">
          <li>
            <Link href="/chat/threads" className={['chat-side-link', threadUnread > 0 ? 'unread' : ''].join(' ')} aria-current={threadsCurrent ? 'page' : undefined} data-testid="chat-threads-link">
              <MessagesSquare size={16} aria-hidden="true" />
              <span className="chat-side-name">{t('chat.threads.title')}</span>
              {threadUnread > 0 && (
                <>
                  <span className="visually-hidden">, {t('chat.side.unread', { count: threadUnread })}</span>
                  <span className="chat-badge" aria-hidden="true" data-testid="chat-threads-badge">
                    {threadUnread}
                  </span>
                </>
              )}
            </Link>
          </li>
        </ul>
        {[...bySpace.entries()].map(([sid, list]) => (
          <Group key={sid} title={spaceName.get(sid) ?? t('chat.side.space')}>
            {list.map((c) => (
              <Item key={c.id} c={c} current={c.id === currentId} meId={me.id} presence={presence} />
            ))}
          </Group>
        ))}
        <Group title={t('chat.side.org')}>
          {org.map((c) => (
            <Item key={c.id} c={c} current={c.id === currentId} meId={me.id} presence={presence} />
          ))}
          <li>
            <button type="button" className="chat-side-link chat-side-add" onClick={() => onDialog('browse')}>
              <Compass size={16} aria-hidden="true" />
              <span className="chat-side-name">{t('chat.browse.title')}</span>
            </button>
          </li>
        </Group>
        <Group title={t('chat.side.dms')}>
          {dms.map((c) => (
            <Item key={c.id} c={c} current={c.id === currentId} meId={me.id} presence={presence} />
          ))}
          <li>
            <button type="button" className="chat-side-link chat-side-add" onClick={() => onDialog('dm')}>
              <MessageSquarePlus size={16} aria-hidden="true" />
              <span className="chat-side-name">{t('chat.dm.new')}</span>
            </button>
          </li>
        </Group>
      </div>
    </nav>
  );
}
