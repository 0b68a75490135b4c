/**
 * Modal dialogs on react-aria-components: focus is trapped inside and returned on close, Esc and a
 * click outside close (unless the dialog holds something that would be lost), the title names it.
 */
import { useState, type ReactNode } from 'react';
import { Dialog, Heading } from 'react-aria-components/Dialog';
import { Modal, ModalOverlay } from 'react-aria-components/Modal';
import { X } from 'lucide-react';
import { Button, IconButton } from './Button';
import { FormError } from './Field';
import './ui.css';

export interface AppDialogProps {
  isOpen: boolean;
  onClose: () => void;
  title: ReactNode;
  children: ReactNode;
  /** Buttons shown at the bottom right. */
  footer?: ReactNode;
  closeLabel: string;
  size?: 'sm' | 'md' | 'lg';
  /** When false, a click outside does not close (Esc and the close button still do). */
  dismissable?: boolean;
  role?: 'dialog' | 'alertdialog';
  testId?: string;
  /** For dialogs without controls in their body: lets keyboard users scroll it. */
  focusableBody?: boolean;
}

export function AppDialog({ isOpen, onClose, title, children, footer, closeLabel, size = 'md', dismissable = true, role = 'dialog', testId, focusableBody }: AppDialogProps) {
  return (
    <ModalOverlay
      isOpen={isOpen}
      onOpenChange={(open) => !open && onClose()}
      isDismissable={dismissable}
      className="modal-overlay"
    >
      <Modal className={`modal modal-${size}`}>
        <Dialog className="dialog" role={role} data-testid={testId}>
          <div className="dialog-head">
            <Heading slot="title" className="dialog-title">
              {title}
            </Heading>
            <IconButton label={closeLabel} icon={<X size={18} aria-hidden="true" />} onClick={onClose} />
          </div>
          <div className="dialog-body" tabIndex={focusableBody ? 0 : undefined}>
            {children}
          </div>
          {footer && <div className="dialog-foot">{footer}</div>}
        </Dialog>
      </Modal>
    </ModalOverlay>
  );
}

export interface ConfirmDialogProps {
  isOpen: boolean;
  onClose: () => void;
  title: ReactNode;
  body: ReactNode;
  confirmLabel: string;
  cancelLabel: string;
  closeLabel: string;
  danger?: boolean;
  /** Rejecting shows the error (translated by errorText) and keeps the dialog open. */
  onConfirm: () => Promise<unknown>;
  errorText: (e: unknown) => string;
}

/** For what cannot be undone: a confirmation with the action named on its button. */
export function ConfirmDialog({ isOpen, onClose, title, body, confirmLabel, cancelLabel, closeLabel, danger, onConfirm, errorText }: ConfirmDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function confirm() {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <AppDialog
      isOpen={isOpen}
      onClose={() => {
        setError(null);
        onClose();
      }}
      title={title}
      closeLabel={closeLabel}
      size="sm"
      role="alertdialog"
      footer={
        <>
          <Button onClick={onClose}>{cancelLabel}</Button>
          <Button variant={danger ? 'danger' : 'primary'} loading={busy} onClick={() => void confirm()}>
            {confirmLabel}
          </Button>
        </>
      }
    >
      <div className="stack-sm">
        <div>{body}</div>
        <FormError>{error}</FormError>
      </div>
    </AppDialog>
  );
}
