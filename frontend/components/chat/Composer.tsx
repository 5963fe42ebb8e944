"use client";

// The message box under an open conversation: the draft, Enter to send (Shift+Enter: new
// line), and typing notifications (renewed every 3 s while typing, stopped on send or clear).

import { useRef, useState } from "react";

import type { ConversationView } from "@/lib/api/types";

const RENEW_TYPING_MS = 3000;

export function Composer({ conversation, onSend, onTyping }: { conversation: ConversationView; onSend: (text: string) => void; onTyping: (started: boolean) => void }) {
  const [draft, setDraft] = useState("");
  const typingSince = useRef(0);

  function submit(event?: React.FormEvent) {
    event?.preventDefault();
    const text = draft.trim();
    if (!text) return;
    onSend(text);
    setDraft("");
    typingSince.current = 0;
    onTyping(false);
  }

  function onDraft(value: string) {
    setDraft(value);
    const now = Date.now();
    if (value && now - typingSince.current > RENEW_TYPING_MS) {
      typingSince.current = now;
      onTyping(true);
    }
    if (!value && typingSince.current) {
      typingSince.current = 0;
      onTyping(false);
    }
  }

  return (
    <form onSubmit={submit} className="flex items-end gap-2 border-t border-slate-200 bg-white p-3">
      <label className="sr-only" htmlFor="composer">
        Message
      </label>
      <textarea
        id="composer"
        rows={1}
        value={draft}
        disabled={!conversation.can_send}
        placeholder={conversation.can_send ? "Write a message…" : "You can no longer message this person."}
        onChange={(event) => onDraft(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Enter" && !event.shiftKey) {
            event.preventDefault();
            submit();
          }
        }}
        maxLength={4000}
        className="max-h-40 min-h-[42px] flex-1 resize-none rounded-xl border border-slate-300 px-3 py-2 text-sm outline-none focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/20 disabled:bg-slate-100"
      />
      <button
        type="submit"
        disabled={!draft.trim() || !conversation.can_send}
        className="rounded-xl bg-indigo-600 px-4 py-2.5 text-sm font-semibold text-white hover:bg-indigo-500 disabled:opacity-50"
      >
        Send
      </button>
    </form>
  );
}
