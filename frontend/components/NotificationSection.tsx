"use client";

// Settings › Notifications: push on this browser (permission is asked only on "Turn on"),
// hiding message text in notifications, and do not disturb.

import { useEffect, useState } from "react";

import { ApiError } from "@/lib/api/client";
import * as push from "@/lib/api/push";
import type { NotificationSettings, NotificationSettingsPatch } from "@/lib/api/types";
import { pushState, turnOff, turnOn, type PushState } from "@/lib/push";
import { useNotificationSettings } from "@/lib/useNotificationSettings";

const STATES: Record<PushState, string> = {
  unsupported: "This browser cannot show notifications from websites.",
  disabled: "This server does not send push notifications.",
  denied: "Notifications are blocked for this site. Allow them in your browser's site settings.",
  off: "Get a notification for new messages while the chat is closed.",
  on: "This browser is notified of new messages while the chat is closed.",
};

export function NotificationSection({ className, onError }: { className: string; onError: (error: unknown) => void }) {
  const { settings, save } = useNotificationSettings();
  const [state, setState] = useState<PushState | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    pushState().then(setState, onError);
  }, [onError]);

  async function change(next: () => Promise<PushState>) {
    setBusy(true);
    try {
      setState(await next());
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === "push_disabled") setState("disabled");
      else onError(caught instanceof ApiError ? caught : new Error("The browser could not subscribe to notifications."));
    } finally {
      setBusy(false);
    }
  }

  // The boxes show a change at once (in this render), then what the server stored.
  const [shown, setShown] = useState<NotificationSettings | null>(null);
  useEffect(() => setShown(settings), [settings]);

  async function update(patch: NotificationSettingsPatch) {
    setShown((current) => current && { ...current, ...patch });
    await save(() => push.updateSettings(patch)).catch(onError);
  }

  const checkbox = "h-4 w-4 rounded border-slate-300 text-indigo-600 focus:ring-indigo-500";
  return (
    <section className={className} aria-labelledby="notifications">
      <h2 id="notifications" className="font-semibold">Notifications</h2>
      <div className="mt-2 flex items-center gap-3 text-sm">
        <p className="flex-1 text-slate-600" data-push-state={state ?? "loading"}>
          {state ? STATES[state] : "Checking this browser…"}
        </p>
        {(state === "off" || state === "on") && (
          <button
            disabled={busy}
            onClick={() => void change(state === "on" ? turnOff : turnOn)}
            className="rounded-lg border border-slate-300 px-4 py-2 text-sm font-medium hover:bg-slate-50 disabled:opacity-50"
          >
            {state === "on" ? "Turn off" : "Turn on"}
          </button>
        )}
      </div>
      <div className="mt-3 space-y-2 text-sm">
        <label className="flex items-center gap-2">
          <input type="checkbox" className={checkbox} disabled={!shown} checked={shown?.hide_content ?? false} onChange={(e) => void update({ hide_content: e.target.checked })} />
          Hide message text in notifications
        </label>
        <label className="flex items-center gap-2">
          <input type="checkbox" className={checkbox} disabled={!shown} checked={shown?.do_not_disturb ?? false} onChange={(e) => void update({ do_not_disturb: e.target.checked })} />
          Do not disturb (no notifications at all)
        </label>
        <p className="text-xs text-slate-500">Mute a single conversation with the bell in its header.</p>
      </div>
    </section>
  );
}
