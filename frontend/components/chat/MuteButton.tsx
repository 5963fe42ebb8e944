"use client";

// Mutes or unmutes push notifications of one conversation (it still counts as unread).

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import * as push from "@/lib/api/push";
import { queries } from "@/lib/queries";

import { Icon } from "./icons";

export function MuteButton({ conversation }: { conversation: string }) {
  const queryClient = useQueryClient();
  const settings = useQuery(queries.notifications());
  const [busy, setBusy] = useState(false);
  const muted = settings.data?.muted_conversations.includes(conversation) ?? false;
  const label = muted ? "Unmute notifications" : "Mute notifications";

  async function toggle() {
    setBusy(true);
    try {
      queryClient.setQueryData(queries.notifications().queryKey, await push.mute(conversation, !muted));
    } catch {
      await queryClient.invalidateQueries({ queryKey: queries.notifications().queryKey });
    } finally {
      setBusy(false);
    }
  }

  return (
    <button
      onClick={() => void toggle()}
      disabled={busy || !settings.data}
      aria-pressed={muted}
      title={label}
      className={`flex shrink-0 items-center gap-1 rounded-lg px-2 py-1.5 text-sm font-medium hover:bg-slate-100 disabled:opacity-50 sm:px-2.5 ${muted ? "text-rose-600" : "text-slate-600"}`}
    >
      <Icon name={muted ? "bellOff" : "bell"} />
      <span className="sr-only">{label}</span>
    </button>
  );
}
