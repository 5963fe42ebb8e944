"use client";

// The pinned messages of the open conversation, in a panel under its header (GET …/pins,
// refetched on pin frames by lib/chat/useChat.ts), most recently pinned first; a click jumps
// to the message. Escape or a click elsewhere closes it.

import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef } from "react";

import { day, time } from "@/components/ui";
import { queries } from "@/lib/queries";

import { Icon } from "./icons";

export function PinnedPanel({ conversation, names, onJump, onClose }: { conversation: string; names: Map<string, string>; onJump: (id: string) => void; onClose: () => void }) {
  const pins = useQuery(queries.pins(conversation));
  const panel = useRef<HTMLDivElement>(null);
  const close = useRef(onClose);
  close.current = onClose;

  useEffect(() => {
    panel.current?.focus();
    const away = (event: PointerEvent) => {
      const target = event.target as Element;
      if (!panel.current?.contains(target) && !target.closest?.("[data-pins-toggle]")) close.current();
    };
    document.addEventListener("pointerdown", away);
    return () => document.removeEventListener("pointerdown", away);
  }, []);

  const messages = pins.data?.messages ?? [];
  return (
    <div
      ref={panel}
      id="pinned-panel"
      role="dialog"
      aria-label="Pinned messages"
      tabIndex={-1}
      onKeyDown={(event) => event.key === "Escape" && onClose()}
      className="absolute right-2 top-full z-30 mt-1 flex max-h-[60vh] w-[22rem] max-w-[calc(100vw-1rem)] flex-col rounded-2xl border border-slate-200 bg-white shadow-xl outline-none"
    >
      <div className="flex items-center justify-between border-b border-slate-100 px-4 py-2">
        <h3 className="text-sm font-semibold text-slate-700">Pinned messages</h3>
        <button onClick={onClose} aria-label="Close pinned messages" className="rounded-full p-1 text-slate-400 hover:bg-slate-100 hover:text-slate-600">
          <Icon name="close" />
        </button>
      </div>
      {pins.isPending ? (
        <p className="p-4 text-sm text-slate-500">Loading…</p>
      ) : pins.isError ? (
        <p className="p-4 text-sm text-rose-600">Could not load the pinned messages.</p>
      ) : messages.length === 0 ? (
        <p className="p-4 text-sm text-slate-500">No pinned messages yet.</p>
      ) : (
        <ul className="overflow-y-auto py-1">
          {messages.map((message) => (
            <li key={message.id}>
              <button
                onClick={() => {
                  onClose();
                  onJump(message.id);
                }}
                className="block w-full px-4 py-2 text-left hover:bg-slate-50 focus:bg-slate-50 focus:outline-none"
                data-testid="pinned-message"
              >
                <span className="flex items-baseline justify-between gap-2 text-xs">
                  <span className="font-semibold text-indigo-700">{names.get(message.sender_uuid) ?? "Deleted account"}</span>
                  <span className="text-slate-400">
                    {day(message.created_at)} {time(message.created_at)}
                  </span>
                </span>
                <span className="line-clamp-2 break-words text-sm text-slate-700">{message.deleted_at ? <em>Message deleted</em> : message.text}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
