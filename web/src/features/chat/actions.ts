/** What one can do to a message, shared by the channel and the thread panel (optimistic where it helps). */
import { useMemo, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { errorText, useI18n } from '../../app/i18n';
import { useMe } from '../../app/session';
import { copyText } from '../../ui/Copy';
import { useToast } from '../../ui/Toast';
import { chatApi, chatKeys, type Message, type Thread } from './api';
import type { MessageActions } from './MessageItem';
import { addPending, refreshMessage, settlePending, upsertMessage } from './store';

let pendingSeq = 0;

export function permalink(m: Message): string {
  const base = `${window.location.origin}/chat/${m.channelId}`;
  return m.rootId ? `${base}?m=${m.rootId}&thread=${m.rootId}&reply=${m.id}` : `${base}?m=${m.id}`;
}

function toggleReaction(m: Message, emoji: string): Message {
  const has = m.reactions.find((r) => r.emoji === emoji);
  let reactions = m.reactions;
  if (has?.me) reactions = reactions.map((r) => (r.emoji === emoji ? { ...r, count: r.count - 1, me: false } : r)).filter((r) => r.count > 0);
  else if (has) reactions = reactions.map((r) => (r.emoji === emoji ? { ...r, count: r.count + 1, me: true } : r));
  else reactions = [...reactions, { emoji, count: 1, me: true }];
  return { ...m, reactions };
}

export function useMessageActions(onOpenThread?: (m: Message) => void): { actions: MessageActions; confirmDelete: Message | null; setConfirmDelete: (m: Message | null) => void; doDelete: (m: Message) => Promise<void> } {
  const { t } = useI18n();
  const toast = useToast();
  const qc = useQueryClient();
  const [confirmDelete, setConfirmDelete] = useState<Message | null>(null);

  const actions = useMemo<MessageActions>(() => {
    function patchThread(m: Message) {
      const root = m.rootId ?? m.id;
      qc.setQueryData<Thread>(chatKeys.thread(root), (th) =>
        th ? { ...th, root: th.root.id === m.id ? m : th.root, items: th.items.map((x) => (x.id === m.id ? m : x)) } : th,
      );
    }
    return {
      onReact: (m, emoji) => {
        const next = toggleReaction(m, emoji);
        if (m.rootId) patchThread(next);
        else {
          upsertMessage(next);
          patchThread(next);
        }
        chatApi.react(m.id, emoji).then(
          () => {
            if (m.rootId) void qc.invalidateQueries({ queryKey: chatKeys.thread(m.rootId) });
            else void refreshMessage(m.channelId, m.id);
          },
          (e) => {
            toast(errorText(t, e), 'error');
            if (m.rootId) void qc.invalidateQueries({ queryKey: chatKeys.thread(m.rootId) });
            else void refreshMessage(m.channelId, m.id);
          },
        );
      },
      onReply: onOpenThread,
      onEdit: async (m, text) => {
        try {
          const updated = await chatApi.edit(m.id, text);
          upsertMessage(updated);
          patchThread(updated);
          return true;
        } catch (e) {
          toast(errorText(t, e), 'error');
          return false;
        }
      },
      onDelete: (m) => setConfirmDelete(m),
      onPin: (m) => {
        chatApi.pin(m.id, !m.pinned).then(
          () => {
            toast(m.pinned ? t('chat.msg.unpinned') : t('chat.msg.pinnedToast'), 'success');
            if (m.rootId) void qc.invalidateQueries({ queryKey: chatKeys.thread(m.rootId) });
            else void refreshMessage(m.channelId, m.id);
            void qc.invalidateQueries({ queryKey: chatKeys.pins(m.channelId) });
          },
          (e) => toast(errorText(t, e), 'error'),
        );
      },
      onCopyLink: (m) => {
        void copyText(permalink(m)).then((ok) => toast(ok ? t('chat.msg.linkCopied') : t('chat.msg.linkNotCopied'), ok ? 'success' : 'error'));
      },
    };
  }, [qc, t, toast, onOpenThread]);

  async function doDelete(m: Message) {
    await chatApi.remove(m.id);
    if (m.rootId) void qc.invalidateQueries({ queryKey: chatKeys.thread(m.rootId) });
    else void refreshMessage(m.channelId, m.id);
  }

  return { actions, confirmDelete, setConfirmDelete, doDelete };
}

/** Sends a message: shown at once (pending), replaced by the server's copy, removed with a toast on error. */
export function useSend(channelId: string, rootId: string | null) {
  const { t } = useI18n();
  const toast = useToast();
  const qc = useQueryClient();
  const me = useMe();
  return (text: string) => {
    if (rootId) {
      chatApi.post(channelId, text, rootId).then(
        (m) => {
          qc.setQueryData<Thread>(chatKeys.thread(rootId), (th) => (th && !th.items.some((x) => x.id === m.id) ? { ...th, items: [...th.items, m] } : th));
          void qc.invalidateQueries({ queryKey: chatKeys.thread(rootId) });
          void qc.invalidateQueries({ queryKey: chatKeys.threads });
          void refreshMessage(channelId, rootId);
          void chatApi.threadRead(rootId, m.id).catch(() => undefined);
        },
        (e) => toast(errorText(t, e), 'error'),
      );
      return;
    }
    const temp: Message = {
      id: `pending-${++pendingSeq}`,
      channelId,
      rootId: null,
      author: { id: me.id, login: me.login, displayName: me.displayName },
      bot: null,
      text,
      attachments: [],
      createdAt: Date.now(),
      editedAt: null,
      deleted: false,
      pinned: false,
      replyCount: 0,
      lastReplyId: null,
      lastReplyAt: null,
      reactions: [],
      mentionsMe: false,
      pending: true,
    };
    addPending(temp);
    chatApi.post(channelId, text).then(
      (m) => {
        settlePending(channelId, temp.id, m);
        void chatApi.read(channelId, m.id).catch(() => undefined);
      },
      (e) => {
        settlePending(channelId, temp.id, null);
        toast(errorText(t, e), 'error');
      },
    );
  };
}
