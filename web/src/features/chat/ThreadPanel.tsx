/** A thread in the side panel (full screen on a phone): the root, the replies, a composer; its own read marker. */
import { useEffect, useMemo, useRef, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { MessageSquareText, X } from 'lucide-react';
import { errorText, useI18n } from '../../app/i18n';
import { useMe } from '../../app/session';
import { IconButton } from '../../ui/Button';
import { ConfirmDialog } from '../../ui/Dialog';
import { ErrorState, Skeleton } from '../../ui/States';
import { chatApi, chatKeys, type Channel, type Message } from './api';
import { useMessageActions, useSend } from './actions';
import { TypingLine } from './ChannelView';
import { Composer } from './Composer';
import { MessageItem } from './MessageItem';

export function ThreadPanel({ channel, rootId, reply, onClose }: { channel: Channel; rootId: string; reply: string | null; onClose: () => void }) {
  const { t } = useI18n();
  const me = useMe();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: chatKeys.thread(rootId), queryFn: ({ signal }) => chatApi.thread(rootId, signal), staleTime: 0 });
  const { actions, confirmDelete, setConfirmDelete, doDelete } = useMessageActions();
  const send = useSend(channel.id, rootId);
  const [editing, setEditing] = useState<string | null>(null);
  const list = useRef<HTMLDivElement>(null);
  const closeRef = useRef<HTMLButtonElement>(null);

  useEffect(() => closeRef.current?.focus(), [rootId]);

  // The thread's read marker follows what is shown (the panel is open: its replies are read).
  const last = q.data?.items[q.data.items.length - 1];
  const sent = useRef<string | null>(null);
  useEffect(() => {
    if (!last || document.hidden) return;
    if (q.data?.lastReadId && q.data.lastReadId >= last.id) return;
    if (sent.current && sent.current >= last.id) return;
    sent.current = last.id;
    chatApi.threadRead(rootId, last.id).then(
      () => {
        void qc.invalidateQueries({ queryKey: chatKeys.threads });
        void qc.invalidateQueries({ queryKey: chatKeys.channels });
      },
      () => (sent.current = null),
    );
  }, [last, q.data?.lastReadId, rootId, qc]);

  // New replies: keep the newest in view (or the reply a link pointed at).
  const count = q.data?.items.length ?? 0;
  useEffect(() => {
    const el = list.current;
    if (!el) return;
    if (reply) el.querySelector(`[data-id="${CSS.escape(reply)}"]`)?.scrollIntoView({ block: 'center' });
    else el.scrollTop = el.scrollHeight;
  }, [count, reply]);

  const names = useMemo(() => {
    const n = new Map<string, string>();
    for (const m of [q.data?.root, ...(q.data?.items ?? [])]) if (m?.author) n.set(m.author.id, m.author.displayName);
    return n;
  }, [q.data]);

  const render = (m: Message) => (
    <MessageItem
      key={m.id}
      m={m}
      grouped={false}
      meId={me.id}
      meLogin={me.login}
      canManage={channel.canManage}
      highlighted={reply === m.id}
      editing={editing === m.id}
      onEditingChange={(on) => setEditing(on ? m.id : null)}
      actions={actions}
      inThread
    />
  );

  const editLast = () => {
    const mine = [...(q.data?.items ?? [])].reverse().find((m) => m.author?.id === me.id && !m.deleted);
    if (mine) setEditing(mine.id);
  };

  return (
    <aside
      className="chat-thread"
      aria-labelledby="chat-thread-title"
      data-testid="chat-thread"
      onKeyDown={(e) => {
        // Esc closes the thread (popups and the edit box inside handle their own Esc first).
        if (e.key === 'Escape' && !e.defaultPrevented && !document.querySelector('.modal-overlay, .popover')) onClose();
      }}
    >
      <header className="chat-thread-head">
        <h2 id="chat-thread-title" className="chat-thread-title">
          <MessageSquareText size={18} aria-hidden="true" />
          {t('chat.thread.title')}
        </h2>
        <IconButton ref={closeRef} label={t('chat.thread.close')} icon={<X size={18} aria-hidden="true" />} onClick={onClose} />
      </header>
      <div className="chat-thread-body" ref={list} tabIndex={0} role="region" aria-label={t('chat.thread.replyList')}>
        {q.isPending ? (
          <Skeleton label={t('common.loading')} lines={4} />
        ) : q.isError ? (
          <ErrorState title={t('chat.thread.loadError')} message={errorText(t, q.error)} retryLabel={t('common.retry')} onRetry={() => void q.refetch()} />
        ) : (
          <>
            {render(q.data.root)}
            <p className="chat-thread-count">{t('chat.thread.replies', { count: q.data.items.length })}</p>
            <div role="list" aria-label={t('chat.thread.replyList')}>
              {q.data.items.map((m) => (
                <div role="listitem" key={m.id}>
                  {render(m)}
                </div>
              ))}
            </div>
          </>
        )}
      </div>
      <div className="chat-foot">
        <TypingLine channelId={channel.id} rootId={rootId} names={names} />
        {!channel.archived && q.data && !q.data.root.deleted && (
          <Composer
            key={rootId}
            channelId={channel.id}
            rootId={rootId}
            draftKey={`${channel.id}/${rootId}`}
            label={t('chat.thread.composer')}
            placeholder={t('chat.thread.placeholder')}
            onSend={send}
            onEditLast={editLast}
            mentionAll={channel.mentionAll}
            canManage={channel.canManage}
          />
        )}
      </div>
      <ConfirmDialog
        isOpen={confirmDelete !== null}
        onClose={() => setConfirmDelete(null)}
        title={t('chat.delete.title')}
        body={t('chat.delete.body')}
        confirmLabel={t('chat.delete.confirm')}
        cancelLabel={t('common.cancel')}
        closeLabel={t('common.close')}
        danger
        onConfirm={() => (confirmDelete ? doDelete(confirmDelete) : Promise.resolve())}
        errorText={(e) => errorText(t, e)}
      />
    </aside>
  );
}
