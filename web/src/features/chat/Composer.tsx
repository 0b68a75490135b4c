/**
 * The message composer: Enter sends, Shift+Enter adds a line, ↑ in an empty composer edits one's
 * last message, @ opens the people of the channel (and @channel / @here), typing is signalled. Files:
 * the server has no chat attachment route yet, so the attach button is disabled and says so, and a
 * pasted or dropped file gets the same plain explanation instead of being silently dropped.
 */
import { useId, useMemo, useRef, useState, type ClipboardEvent, type DragEvent, type KeyboardEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Paperclip, SendHorizontal } from 'lucide-react';
import { useI18n } from '../../app/i18n';
import { chatApi, chatKeys, type MentionAll } from './api';
import { sendTyping } from './live';

const MAX = 16_000;

interface Option {
  value: string;
  label: string;
  detail: string;
}

export function Composer({
  channelId,
  rootId,
  label,
  placeholder,
  onSend,
  onEditLast,
  mentionAll,
  canManage,
  draftKey,
}: {
  channelId: string;
  rootId: string | null;
  label: string;
  placeholder: string;
  onSend: (text: string) => void;
  onEditLast?: () => void;
  mentionAll: MentionAll;
  canManage: boolean;
  draftKey: string;
}) {
  const { t } = useI18n();
  const id = useId();
  const [text, setText] = useState(() => drafts.get(draftKey) ?? '');
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  const [closed, setClosed] = useState(false);
  const [fileNote, setFileNote] = useState(false);
  const ref = useRef<HTMLTextAreaElement>(null);

  const members = useQuery({ queryKey: chatKeys.members(channelId), queryFn: ({ signal }) => chatApi.members(channelId, signal), staleTime: 60_000 });

  const query = useMemo(() => {
    const before = text.slice(0, caret);
    const m = /(^|\s)@([\w.-]{0,64})$/.exec(before);
    return m ? { term: m[2]!.toLowerCase(), start: before.length - m[2]!.length - 1 } : null;
  }, [text, caret]);

  const options = useMemo<Option[]>(() => {
    if (!query) return [];
    const all: Option[] = [];
    const allowAll = mentionAll === 'all' || (mentionAll === 'managers' && canManage);
    if (allowAll) {
      all.push({ value: 'channel', label: '@channel', detail: t('chat.mention.channel') });
      all.push({ value: 'here', label: '@here', detail: t('chat.mention.here') });
    }
    for (const p of members.data ?? []) all.push({ value: p.login, label: `@${p.login}`, detail: p.displayName });
    return all.filter((o) => o.value.toLowerCase().startsWith(query.term) || o.detail.toLowerCase().includes(query.term)).slice(0, 8);
  }, [query, members.data, mentionAll, canManage, t]);
  const open = !closed && query !== null && options.length > 0;
  const idx = Math.min(active, Math.max(0, options.length - 1));

  function update(v: string, pos: number) {
    setText(v);
    setCaret(pos);
    setClosed(false);
    if (v) drafts.set(draftKey, v);
    else drafts.delete(draftKey);
  }

  function pick(o: Option | undefined) {
    if (!o || !query) return;
    const before = text.slice(0, query.start);
    const after = text.slice(caret);
    const insert = `@${o.value} `;
    const v = before + insert + after;
    const pos = before.length + insert.length;
    update(v, pos);
    requestAnimationFrame(() => {
      ref.current?.focus();
      ref.current?.setSelectionRange(pos, pos);
    });
  }

  function send() {
    const v = text.trim();
    if (!v || v.length > MAX) return;
    onSend(v);
    update('', 0);
    setFileNote(false);
  }

  function onKey(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.nativeEvent.isComposing) return;
    if (open) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const n = options.length;
        setActive((i) => (e.key === 'ArrowDown' ? (Math.min(i, n - 1) + 1) % n : (Math.min(i, n - 1) - 1 + n) % n));
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        pick(options[idx]);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        setClosed(true);
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      send();
    } else if (e.key === 'ArrowUp' && text === '' && onEditLast) {
      e.preventDefault();
      onEditLast();
    }
  }

  function hasFile(dt: DataTransfer | null): boolean {
    return !!dt && Array.from(dt.items ?? []).some((i) => i.kind === 'file');
  }
  function onPaste(e: ClipboardEvent<HTMLTextAreaElement>) {
    if (hasFile(e.clipboardData)) {
      e.preventDefault();
      setFileNote(true);
    }
  }
  function onDrop(e: DragEvent<HTMLDivElement>) {
    if (hasFile(e.dataTransfer)) {
      e.preventDefault();
      setFileNote(true);
    }
  }

  const tooLong = text.length > MAX;
  return (
    <div className="chat-composer" onDragOver={(e) => hasFile(e.dataTransfer) && e.preventDefault()} onDrop={onDrop}>
      {open && (
        <ul id={`${id}-list`} role="listbox" aria-label={t('chat.mention.list')} className="chat-mention-list">
          {options.map((o, i) => (
            <li
              key={o.value}
              id={`${id}-o-${i}`}
              role="option"
              aria-selected={i === idx}
              className="chat-mention-option"
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => pick(o)}
              onMouseMove={() => setActive(i)}
            >
              <strong>{o.label}</strong> <span className="muted small">{o.detail}</span>
            </li>
          ))}
        </ul>
      )}
      <div className="chat-composer-box">
        <textarea
          ref={ref}
          className="chat-composer-input"
          aria-label={label}
          placeholder={placeholder}
          rows={1}
          value={text}
          role="combobox"
          aria-expanded={open}
          aria-controls={open ? `${id}-list` : undefined}
          aria-autocomplete="list"
          aria-activedescendant={open ? `${id}-o-${idx}` : undefined}
          aria-describedby={`${id}-help`}
          aria-invalid={tooLong || undefined}
          onChange={(e) => {
            update(e.target.value, e.target.selectionStart ?? e.target.value.length);
            if (e.target.value) sendTyping(channelId, rootId);
          }}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
          onKeyDown={onKey}
          onPaste={onPaste}
          data-testid={rootId ? 'chat-thread-composer' : 'chat-composer'}
        />
        <div className="chat-composer-actions">
          <button type="button" className="btn btn-ghost btn-icon btn-sm" disabled aria-label={t('chat.attach.disabled')} title={t('chat.attach.disabled')} aria-describedby={`${id}-attach`}>
            <Paperclip size={16} aria-hidden="true" />
          </button>
          <button type="button" className="btn btn-primary btn-icon btn-sm" aria-label={t('chat.send')} title={t('chat.send')} onClick={send} disabled={!text.trim() || tooLong}>
            <SendHorizontal size={16} aria-hidden="true" />
          </button>
        </div>
      </div>
      <p id={`${id}-help`} className="chat-composer-help">
        {tooLong ? <span className="field-error">{t('chat.tooLong', { max: MAX, count: text.length })}</span> : t('chat.composerHelp')}
      </p>
      <p id={`${id}-attach`} className={fileNote ? 'chat-file-note' : 'visually-hidden'} role="status">
        {fileNote ? t('chat.attach.notAvailable') : t('chat.attach.disabledLong')}
      </p>
    </div>
  );
}

/** Unsent text per channel/thread, kept while the app is open. */
const drafts = new Map<string, string>();
