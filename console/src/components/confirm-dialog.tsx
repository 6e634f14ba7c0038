// A modal question before a change that cannot wait for second thoughts (activating a policy,
// rolling one back): a <dialog> opened with showModal(), so focus stays in it and Escape cancels.
// What the change failed with is said inside it, and it stays open to try again or cancel. Closed
// (Escape, Cancel, or the change made), it gives the focus back to what had it when it opened.
import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { type ApiError, asApiError } from '../api.ts';
import { Problem } from './ui.tsx';

export interface ConfirmDialogProps {
  title: string;
  /** The question, naming what changes. */
  children: ComponentChildren;
  confirm: string;
  /** Runs the change; the dialog closes when it resolves. */
  onConfirm: () => Promise<void>;
  onClose: () => void;
}

export function ConfirmDialog({ title, children, confirm, onConfirm, onClose }: ConfirmDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const titleId = useId();
  useEffect(() => {
    const element = dialog.current;
    if (element === null) return;
    // The control that opened the dialog (Activate, Roll back), to go back to.
    const opener = document.activeElement;
    if (!element.open) element.showModal();
    // The safe answer has the focus: Enter alone changes nothing.
    cancel.current?.focus();
    return () => {
      if (element.open) element.close();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
    };
  }, []);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (failure) {
      setError(asApiError(failure));
      setBusy(false);
    }
  };
  return (
    <dialog
      ref={dialog}
      aria-labelledby={titleId}
      class="confirm"
      onCancel={(event) => {
        // Escape: close unless the change is under way.
        event.preventDefault();
        if (!busy) onClose();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      {children}
      <Problem error={error} />
      <div class="toolbar">
        <button type="button" class="danger" disabled={busy} onClick={run}>
          {busy ? `${confirm}…` : confirm}
        </button>
        <button type="button" ref={cancel} disabled={busy} onClick={onClose}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}
