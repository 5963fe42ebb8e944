"use client";

// Accessible modal dialogs on Radix primitives, all styled alike: `Modal` around a form (new
// group, account deletion), `Confirm` for a destructive yes/no (delete a message, a group).
// Both trap focus, close on Escape and give focus back when they close.

import * as AlertDialog from "@radix-ui/react-alert-dialog";
import * as Dialog from "@radix-ui/react-dialog";

const overlay = "fixed inset-0 z-10 flex items-center justify-center bg-slate-900/40 p-4";
const panel = "w-full max-w-md space-y-3 rounded-2xl bg-white p-5 shadow-xl";
const title = "text-lg font-semibold";
export const buttonStyles = {
  cancel: "rounded-lg px-4 py-2 text-sm font-medium text-slate-600 hover:bg-slate-100",
  primary: "rounded-lg bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500 disabled:opacity-50",
  danger: "rounded-lg bg-rose-600 px-4 py-2 text-sm font-semibold text-white hover:bg-rose-500 disabled:opacity-50",
};

/** A dialog with a title; `children` bring the form and its buttons (`ModalClose` cancels). */
export function Modal({ open = true, onClose, title: heading, children }: { open?: boolean; onClose: () => void; title: string; children: React.ReactNode }) {
  return (
    <Dialog.Root open={open} onOpenChange={(next) => !next && onClose()}>
      <Dialog.Portal>
        <Dialog.Overlay className={overlay}>
          <Dialog.Content className={panel}>
            <Dialog.Title className={title}>{heading}</Dialog.Title>
            {children}
          </Dialog.Content>
        </Dialog.Overlay>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

export function ModalClose({ children = "Cancel" }: { children?: React.ReactNode }) {
  return (
    <Dialog.Close type="button" className={buttonStyles.cancel}>
      {children}
    </Dialog.Close>
  );
}

/** "Are you sure?": `action` runs `onConfirm`, Cancel (focused first) just closes. */
export function Confirm({
  open,
  onClose,
  title: heading,
  description,
  action,
  onConfirm,
}: {
  open: boolean;
  onClose: () => void;
  title: string;
  description?: string;
  action: string;
  onConfirm: () => void;
}) {
  return (
    <AlertDialog.Root open={open} onOpenChange={(next) => !next && onClose()}>
      <AlertDialog.Portal>
        <AlertDialog.Overlay className={overlay}>
          <AlertDialog.Content className={panel}>
            <AlertDialog.Title className={title}>{heading}</AlertDialog.Title>
            {description && <AlertDialog.Description className="text-sm text-slate-600">{description}</AlertDialog.Description>}
            <div className="flex justify-end gap-2">
              <AlertDialog.Cancel className={buttonStyles.cancel}>Cancel</AlertDialog.Cancel>
              <AlertDialog.Action className={buttonStyles.danger} onClick={onConfirm}>
                {action}
              </AlertDialog.Action>
            </div>
          </AlertDialog.Content>
        </AlertDialog.Overlay>
      </AlertDialog.Portal>
    </AlertDialog.Root>
  );
}
