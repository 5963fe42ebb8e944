"use client";

// Small shared pieces: avatars, conversation titles, times and days.

import { useState } from "react";

import { AuthedImage } from "@/components/AuthedImage";
import type { ConversationView, PublicUser } from "@/lib/api/types";

const COLOURS = ["bg-indigo-500", "bg-emerald-500", "bg-amber-500", "bg-rose-500", "bg-sky-500", "bg-violet-500"];

/** The small version of a picture we host (avatars, group pictures); other URLs as they are. */
export function thumbnailOf(url: string): string {
  return /\/(avatars|group-pictures)\/[0-9a-f]{24}$/.test(url) ? `${url}/thumbnail` : url;
}

/** A round picture, or the initial on a colour when there is none (or it does not load). */
export function Avatar({ name, src, online, size = "h-10 w-10" }: { name: string; src?: string | null; online?: boolean; size?: string }) {
  const colour = COLOURS[[...name].reduce((sum, c) => sum + c.charCodeAt(0), 0) % COLOURS.length];
  const [broken, setBroken] = useState<string | null>(null);
  const picture = src && broken !== src ? thumbnailOf(src) : null;
  return (
    <span className={`relative inline-flex ${size} shrink-0 items-center justify-center rounded-full ${colour} text-sm font-semibold uppercase text-white`}>
      {picture ? (
        <AuthedImage src={picture} alt="" onFailed={() => setBroken(src ?? null)} className="h-full w-full rounded-full object-cover" data-testid="avatar-picture" />
      ) : (
        name.slice(0, 1)
      )}
      {online !== undefined && (
        <span
          aria-label={online ? "online" : "offline"}
          className={`absolute bottom-0 right-0 h-3 w-3 rounded-full border-2 border-white ${online ? "bg-emerald-500" : "bg-slate-300"}`}
        />
      )}
    </span>
  );
}

/** The other member of a direct conversation, or null for a group. */
export function otherMember(conversation: ConversationView, me: string): PublicUser | null {
  if (conversation.is_group) return null;
  return conversation.participants.find((user) => user.uuid !== me) ?? null;
}

export function conversationTitle(conversation: ConversationView, me: string): string {
  if (conversation.is_group) return conversation.name ?? "Group";
  return otherMember(conversation, me)?.username ?? "Deleted account";
}

export function time(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function day(iso: string): string {
  const date = new Date(iso);
  const today = new Date();
  const yesterday = new Date(today.getTime() - 86_400_000);
  if (date.toDateString() === today.toDateString()) return "Today";
  if (date.toDateString() === yesterday.toDateString()) return "Yesterday";
  return date.toLocaleDateString([], { weekday: "long", month: "long", day: "numeric" });
}
