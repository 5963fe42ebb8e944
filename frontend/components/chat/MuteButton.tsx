"use client";

// The bell in a conversation's header: a small menu to mute this conversation's push
// notifications (it still counts as unread) or turn on do not disturb for all of them.

import { useEffect, useRef, useState } from "react";

import * as push from "@/lib/api/push";
import type { NotificationSettings } from "@/lib/api/types";
import { useNotificationSettings } from "@/lib/useNotificationSettings";

import { Icon } from "./icons";

export function MuteButton({ conversation }: { conversation: string }) {
  const { settings, save } = useNotificationSettings();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const menu = useRef<HTMLDivElement>(null);
  const muted = settings?.muted_conversations.includes(conversation) ?? false;
  const quiet = muted || (settings?.do_not_disturb ?? false);

  // Closes on a click elsewhere or Escape.
  useEffect(() => {
    if (!open) return;
    const away = (event: MouseEvent) => menu.current?.contains(event.target as Node) || setOpen(false);
    const escape = (event: KeyboardEvent) => event.key === "Escape" && setOpen(false);
    document.addEventListener("mousedown", away);
    document.addEventListener("keydown", escape);
    return () => {
      document.removeEventListener("mousedown", away);
      document.removeEventListener("keydown", escape);
    };
  }, [open]);

  async function change(action: () => Promise<NotificationSettings>) {
    setBusy(true);
    try {
      await save(action);
    } catch {
      // The menu shows what the server has again.
    } finally {
      setBusy(false);
    }
  }

  const item = "flex w-full items-center justify-between gap-3 rounded-md px-3 py-2 text-left text-sm hover:bg-slate-100 disabled:opacity-50";
  return (
    <div ref={menu} className="relative">
      <button
        onClick={() => setOpen(!open)}
        disabled={!settings}
        aria-haspopup="menu"
        aria-expanded={open}
        title={muted ? "Notifications: muted" : "Notifications"}
        className={`flex shrink-0 items-center gap-1 rounded-lg px-2 py-1.5 text-sm font-medium hover:bg-slate-100 disabled:opacity-50 sm:px-2.5 ${quiet ? "text-rose-600" : "text-slate-600"}`}
      >
        <Icon name={quiet ? "bellOff" : "bell"} />
        <span className="sr-only">Notifications</span>
      </button>
      {open && settings && (
        <div role="menu" aria-label="Notifications" className="absolute right-0 top-full z-20 mt-1 w-72 rounded-xl border border-slate-200 bg-white p-1 shadow-lg">
          <button role="menuitemcheckbox" aria-checked={muted} disabled={busy} className={item} onClick={() => void change(() => push.mute(conversation, !muted))}>
            Mute this conversation
            <span aria-hidden="true">{muted ? "✓" : ""}</span>
          </button>
          <button
            role="menuitemcheckbox"
            aria-checked={settings.do_not_disturb}
            disabled={busy}
            className={item}
            onClick={() => void change(() => push.updateSettings({ do_not_disturb: !settings.do_not_disturb }))}
          >
            Do not disturb (all conversations)
            <span aria-hidden="true">{settings.do_not_disturb ? "✓" : ""}</span>
          </button>
        </div>
      )}
    </div>
  );
}
