/** A small emoji picker (a popover grid of common reactions), keyboard usable. */
import { Button as AriaButton } from 'react-aria-components/Button';
import { Dialog, DialogTrigger } from 'react-aria-components/Dialog';
import { Popover } from 'react-aria-components/Popover';
import { SmilePlus } from 'lucide-react';
import { useI18n } from '../../app/i18n';

export const EMOJI = ['👍', '👎', '😄', '🎉', '❤️', '🙏', '👀', '🚀', '✅', '❌', '🤔', '😢', '😮', '🔥', '💯', '👏', '🙌', '😂', '☕', '⭐', '📌', '💡', '⚠️', '🆗'];

export function EmojiPicker({ onPick, label, className }: { onPick: (emoji: string) => void; label: string; className?: string }) {
  const { t } = useI18n();
  return (
    <DialogTrigger>
      <AriaButton className={className ?? 'btn btn-ghost btn-icon btn-sm'} aria-label={label}>
        <SmilePlus size={16} aria-hidden="true" />
      </AriaButton>
      <Popover className="popover chat-emoji-pop" placement="top end" offset={4}>
        <Dialog className="chat-emoji-dialog" aria-label={t('chat.emoji.title')}>
          {({ close }) => (
            <div className="chat-emoji-grid" role="group" aria-label={t('chat.emoji.title')}>
              {EMOJI.map((e) => (
                <button
                  key={e}
                  type="button"
                  className="chat-emoji-btn"
                  aria-label={t('chat.emoji.react', { emoji: e })}
                  onClick={() => {
                    onPick(e);
                    close();
                  }}
                >
                  {e}
                </button>
              ))}
            </div>
          )}
        </Dialog>
      </Popover>
    </DialogTrigger>
  );
}
