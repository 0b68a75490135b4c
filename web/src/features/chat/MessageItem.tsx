/** One message: author and time (unless grouped), text, reactions, thread summary, and its actions. */
import { memo, useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { Button as AriaButton } from 'react-aria-components/Button';
import { Menu, MenuItem, MenuTrigger, Separator } from 'react-aria-components/Menu';
import { Popover } from 'react-aria-components/Popover';
import { Link2, MessageSquareReply, MoreHorizontal, Pencil, Pin, PinOff, Trash2 } from 'lucide-react';
import { useI18n } from '../../app/i18n';
import { Button } from '../../ui/Button';
import type { LinkPreview, Message, Presence } from './api';
import { safeHref } from '../drive/Markdown';
import { ChatMarkdown } from './ChatMarkdown';
import { EmojiPicker } from './EmojiPicker';

export interface MessageActions {
  onReact: (m: Message, emoji: string) => void;
  onReply?: (m: Message) => void;
  onEdit: (m: Message, text: string) => Promise<boolean>;
  onDelete: (m: Message) => void;
  onPin: (m: Message) => void;
  onCopyLink: (m: Message) => void;
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  return ((parts[0]?.[0] ?? '?') + (parts.length > 1 ? (parts[parts.length - 1]?.[0] ?? '') : '')).toUpperCase();
}

export function PresenceDot({ status, label }: { status: Presence | undefined; label: string }) {
  const s = status ?? 'offline';
  if (!label) return <span className={`chat-dot chat-dot-${s}`} aria-hidden="true" />;
  return <span className={`chat-dot chat-dot-${s}`} role="img" aria-label={label} title={label} />;
}

export function Avatar({ name, status, statusLabel }: { name: string; status?: Presence; statusLabel?: string }) {
  return (
    <span className="chat-avatar" aria-hidden={statusLabel ? undefined : true}>
      <span aria-hidden="true">{initials(name)}</span>
      {statusLabel && <PresenceDot status={status} label={statusLabel} />}
    </span>
  );
}

interface Props {
  m: Message;
  grouped: boolean;
  meId: string;
  meLogin: string;
  canManage: boolean;
  highlighted: boolean;
  editing: boolean;
  onEditingChange: (editing: boolean) => void;
  actions: MessageActions;
  inThread?: boolean;
  threadUnread?: number;
}

export const MessageItem = memo(function MessageItem({ m, grouped, meId, meLogin, canManage, highlighted, editing, onEditingChange, actions, inThread, threadUnread }: Props) {
  const { t, fmt } = useI18n();
  const mine = m.author?.id === meId;
  const name = m.author?.displayName ?? m.bot?.name ?? t('chat.unknownAuthor');
  const time = fmt.time(m.createdAt);
  const full = fmt.dateTime(m.createdAt);
  const canDelete = !m.deleted && !m.pending && (mine || canManage);
  const [menuOpen, setMenuOpen] = useState(false);
  const hasTools = !m.deleted && !m.pending && !editing;
  return (
    <article
      className={['chat-msg', grouped ? 'chat-msg-grouped' : '', highlighted ? 'chat-msg-hl' : '', m.mentionsMe ? 'chat-msg-mention' : '', m.pending ? 'chat-msg-pending' : ''].filter(Boolean).join(' ')}
      aria-label={t('chat.msg.label', { name, time: full })}
      data-testid="chat-message"
      data-id={m.id}
      // Focusable by a tap, so that on a touch screen the actions show (they show on hover and focus).
      tabIndex={-1}
      onContextMenu={(e) => {
        // Right-click opens the same menu as "⋯" (unless text is selected, for the browser's copy).
        if (!hasTools || (window.getSelection()?.toString() ?? '') !== '' || (e.target as HTMLElement).closest('a')) return;
        e.preventDefault();
        setMenuOpen(true);
      }}
    >
      <div className="chat-msg-gutter">
        {grouped ? (
          <time className="chat-msg-hover-time" dateTime={new Date(m.createdAt).toISOString()} title={full}>
            {time}
          </time>
        ) : m.bot ? (
          <span className="chat-avatar chat-avatar-bot" aria-hidden="true">
            {m.bot.iconEmoji && !m.bot.iconEmoji.startsWith(':') ? m.bot.iconEmoji : '🤖'}
          </span>
        ) : (
          <Avatar name={name} />
        )}
      </div>
      <div className="chat-msg-body">
        {!grouped && (
          <div className="chat-msg-head">
            <span className="chat-msg-author">{name}</span>
            {m.bot && <span className="chat-badge-bot">{t('chat.msg.bot')}</span>}
            <time className="chat-msg-time" dateTime={new Date(m.createdAt).toISOString()} title={full}>
              {time}
            </time>
            {m.pinned && (
              <span className="chat-msg-pinned">
                <Pin size={12} aria-hidden="true" /> {t('chat.msg.pinned')}
              </span>
            )}
          </div>
        )}
        {editing ? (
          <EditBox initial={m.text} onCancel={() => onEditingChange(false)} onSave={async (text) => (await actions.onEdit(m, text)) && onEditingChange(false)} />
        ) : m.deleted ? (
          <p className="chat-msg-deleted">{t('chat.msg.deleted')}</p>
        ) : (
          <>
            <ChatMarkdown source={m.text} meLogin={meLogin} />
            {m.attachments.map((a, i) => (
              <div key={i} className="chat-attachment" style={{ borderLeftColor: attachmentColor(a.color) }}>
                {a.pretext && <p>{a.pretext}</p>}
                {a.title && (
                  <p className="chat-attachment-title">
                    {a.titleLink && /^https?:\/\//.test(a.titleLink) ? (
                      <a href={a.titleLink} target="_blank" rel="noopener noreferrer nofollow">
                        {a.title}
                      </a>
                    ) : (
                      a.title
                    )}
                  </p>
                )}
                {a.text && <ChatMarkdown source={a.text} meLogin={meLogin} />}
                {a.fields && a.fields.length > 0 && (
                  <dl className="chat-attachment-fields">
                    {a.fields.map((f, j) => (
                      <div key={j} className={f.short ? 'short' : ''}>
                        <dt>{f.title}</dt>
                        <dd>{f.value}</dd>
                      </div>
                    ))}
                  </dl>
                )}
              </div>
            ))}
            {m.previews?.map((p, i) => <PreviewCard key={i} p={p} />)}
            {(m.editedAt || m.pending) && <span className="chat-msg-edited">{m.pending ? t('chat.msg.sending') : t('chat.msg.edited')}</span>}
          </>
        )}
        {m.reactions.length > 0 && (
          <div className="chat-reactions">
            {m.reactions.map((r) => (
              <button
                key={r.emoji}
                type="button"
                className="chat-reaction"
                aria-pressed={r.me}
                aria-label={t('chat.reaction.label', { emoji: r.emoji, count: r.count })}
                onClick={() => actions.onReact(m, r.emoji)}
                data-testid="chat-reaction"
              >
                <span aria-hidden="true">{r.emoji}</span>
                <span className="chat-reaction-count" aria-hidden="true">
                  {r.count}
                </span>
              </button>
            ))}
          </div>
        )}
        {!inThread && m.replyCount > 0 && actions.onReply && (
          <button type="button" className="chat-thread-link" onClick={() => actions.onReply?.(m)} data-testid="chat-thread-link">
            <MessageSquareReply size={14} aria-hidden="true" />
            {t('chat.thread.replies', { count: m.replyCount })}
            {threadUnread ? <span className="chat-badge">{t('chat.thread.unreadShort', { count: threadUnread })}</span> : null}
            {m.lastReplyAt && <span className="muted small">{t('chat.thread.last', { when: fmt.relative(m.lastReplyAt) })}</span>}
          </button>
        )}
      </div>
      {hasTools && (
        <div className={menuOpen ? 'chat-msg-tools chat-msg-tools-open' : 'chat-msg-tools'} role="group" aria-label={t('chat.msg.actions', { name })}>
          <EmojiPicker label={t('chat.msg.react')} onPick={(e) => actions.onReact(m, e)} />
          {!inThread && actions.onReply && (
            <button type="button" className="btn btn-ghost btn-icon btn-sm" aria-label={t('chat.msg.reply')} title={t('chat.msg.reply')} onClick={() => actions.onReply?.(m)}>
              <MessageSquareReply size={16} aria-hidden="true" />
            </button>
          )}
          <MenuTrigger isOpen={menuOpen} onOpenChange={setMenuOpen}>
            <AriaButton className="btn btn-ghost btn-icon btn-sm" aria-label={t('chat.msg.more')}>
              <MoreHorizontal size={16} aria-hidden="true" />
            </AriaButton>
            <Popover className="popover" placement="bottom end" offset={4}>
              <Menu className="menu" aria-label={t('chat.msg.actions', { name })}>
                {mine && !m.bot && (
                  <MenuItem id="edit" className="menu-item" textValue={t('chat.msg.edit')} onAction={() => onEditingChange(true)}>
                    <Pencil size={16} aria-hidden="true" />
                    {t('chat.msg.edit')}
                  </MenuItem>
                )}
                <MenuItem id="pin" className="menu-item" textValue={m.pinned ? t('chat.msg.unpin') : t('chat.msg.pin')} onAction={() => actions.onPin(m)}>
                  {m.pinned ? <PinOff size={16} aria-hidden="true" /> : <Pin size={16} aria-hidden="true" />}
                  {m.pinned ? t('chat.msg.unpin') : t('chat.msg.pin')}
                </MenuItem>
                <MenuItem id="link" className="menu-item" textValue={t('chat.msg.copyLink')} onAction={() => actions.onCopyLink(m)}>
                  <Link2 size={16} aria-hidden="true" />
                  {t('chat.msg.copyLink')}
                </MenuItem>
                {canDelete && <Separator className="menu-sep" />}
                {canDelete && (
                  <MenuItem id="delete" className="menu-item menu-danger" textValue={t('chat.msg.delete')} onAction={() => actions.onDelete(m)}>
                    <Trash2 size={16} aria-hidden="true" />
                    {t('chat.msg.delete')}
                  </MenuItem>
                )}
              </Menu>
            </Popover>
          </MenuTrigger>
        </div>
      )}
    </article>
  );
});

/** A link preview: text only, and an image only when Bastide serves it (re-encoded on the server). */
function PreviewCard({ p }: { p: LinkPreview }) {
  const href = safeHref(p.url);
  if (!href || (!p.title && !p.description)) return null;
  const image = p.image && p.image.startsWith('/api/chat/messages/') ? p.image : null;
  return (
    <div className="chat-preview" data-testid="chat-preview">
      <div className="chat-preview-text">
        {p.siteName && <p className="chat-preview-site">{p.siteName}</p>}
        <p className="chat-preview-title">
          <a href={href} target="_blank" rel="noopener noreferrer nofollow">
            {p.title || href}
          </a>
        </p>
        {p.description && <p className="chat-preview-desc">{p.description}</p>}
      </div>
      {image && <img className="chat-preview-img" src={image} alt="" width={160} height={84} loading="lazy" decoding="async" />}
    </div>
  );
}

function attachmentColor(c: string | undefined): string {
  if (c === 'good') return 'var(--c-success)';
  if (c === 'warning') return 'var(--c-warning)';
  if (c === 'danger') return 'var(--c-danger)';
  if (c && /^#[0-9a-f]{6}$/i.test(c)) return c;
  return 'var(--c-border-strong)';
}

function EditBox({ initial, onSave, onCancel }: { initial: string; onSave: (text: string) => Promise<unknown>; onCancel: () => void }) {
  const { t } = useI18n();
  const [text, setText] = useState(initial);
  const [busy, setBusy] = useState(false);
  const ref = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);
  async function save() {
    const v = text.trim();
    if (!v || busy) return;
    if (v === initial.trim()) {
      onCancel();
      return;
    }
    setBusy(true);
    await onSave(v);
    setBusy(false);
  }
  function onKey(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void save();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      onCancel();
    }
  }
  return (
    <div className="chat-edit">
      <textarea ref={ref} className="input textarea chat-edit-input" aria-label={t('chat.msg.editLabel')} value={text} rows={Math.min(8, text.split('\n').length + 1)} onChange={(e) => setText(e.target.value)} onKeyDown={onKey} />
      <div className="chat-edit-actions">
        <span className="muted small">{t('chat.msg.editHint')}</span>
        <Button size="sm" onClick={onCancel}>
          {t('common.cancel')}
        </Button>
        <Button size="sm" variant="primary" loading={busy} onClick={() => void save()}>
          {t('common.save')}
        </Button>
      </div>
    </div>
  );
}
