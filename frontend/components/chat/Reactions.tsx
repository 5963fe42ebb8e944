"use client";

// Reactions of a message: the chips under it (emoji and count, pressed when I reacted; a click
// toggles mine) and the compact picker of common emoji the "React" action opens.

import { useEffect, useRef, type RefObject } from "react";

import type { Reaction } from "@/lib/api/types";

/** The picker's emoji, as the server spells them (emoji with their variation selector). */
export const COMMON_EMOJI = ["👍", "❤️", "😂", "😮", "😢", "🎉", "🙏", "🔥"];
const NAMES: Record<string, string> = {
  "👍": "thumbs up",
  "❤️": "red heart",
  "😂": "tears of joy",
  "😮": "surprised",
  "😢": "crying",
  "🎉": "party popper",
  "🙏": "folded hands",
  "🔥": "fire",
};

export function reactionLabel(reaction: Reaction, mine: boolean): string {
  return `${reaction.emoji} ${reaction.count}${mine ? ", you reacted" : ""}`;
}

export function ReactionChips({
  reactions,
  me,
  names,
  align,
  onToggle,
}: {
  reactions: Reaction[];
  me: string;
  names: Map<string, string>;
  align: "start" | "end";
  onToggle: (emoji: string) => void;
}) {
  if (reactions.length === 0) return null;
  return (
    <ul className={`mt-1 flex flex-wrap gap-1 ${align === "end" ? "justify-end" : ""}`} aria-label="Reactions">
      {reactions.map((reaction) => {
        const mine = reaction.user_uuids.includes(me);
        const who = reaction.user_uuids.map((uuid) => (uuid === me ? "you" : (names.get(uuid) ?? "someone"))).join(", ");
        return (
          <li key={reaction.emoji}>
            <button
              type="button"
              onClick={() => onToggle(reaction.emoji)}
              aria-pressed={mine}
              aria-label={reactionLabel(reaction, mine)}
              title={who}
              data-testid="reaction"
              className={`inline-flex items-center gap-1 rounded-full border px-2 py-0.5 text-xs font-medium shadow-sm ${
                mine ? "border-indigo-300 bg-indigo-50 text-indigo-700" : "border-slate-200 bg-white text-slate-600 hover:bg-slate-50"
              }`}
            >
              <span aria-hidden="true">{reaction.emoji}</span>
              <span aria-hidden="true">{reaction.count}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

/** The emoji to pick from; closes on a pick, Escape or a click elsewhere than in it or its
 * `anchor` (the actions that opened it, which close it themselves). */
export function ReactionPicker({ onPick, onClose, align, anchor }: { onPick: (emoji: string) => void; onClose: () => void; align: "start" | "end"; anchor: RefObject<HTMLElement> }) {
  const panel = useRef<HTMLDivElement>(null);
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    panel.current?.querySelector("button")?.focus();
    const away = (event: PointerEvent) => {
      const target = event.target as Node;
      if (!panel.current?.contains(target) && !anchor.current?.contains(target)) close.current();
    };
    document.addEventListener("pointerdown", away);
    return () => document.removeEventListener("pointerdown", away);
  }, [anchor]);
  return (
    <div
      ref={panel}
      role="menu"
      aria-label="Pick a reaction"
      onKeyDown={(event) => {
        if (event.key === "Escape") onClose();
        if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
          const buttons = [...(panel.current?.querySelectorAll("button") ?? [])];
          const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
          buttons[(at + (event.key === "ArrowRight" ? 1 : buttons.length - 1)) % buttons.length]?.focus();
        }
      }}
      className={`absolute bottom-full z-20 mb-1 flex gap-0.5 rounded-full border border-slate-200 bg-white p-1 shadow-lg ${align === "end" ? "right-0" : "left-0"}`}
    >
      {COMMON_EMOJI.map((emoji) => (
        <button
          key={emoji}
          type="button"
          role="menuitem"
          onClick={() => onPick(emoji)}
          aria-label={`React with ${emoji}`}
          title={NAMES[emoji]}
          className="flex h-8 w-8 items-center justify-center rounded-full text-lg hover:bg-slate-100 focus:bg-slate-100 focus:outline-none"
        >
          {emoji}
        </button>
      ))}
    </div>
  );
}
