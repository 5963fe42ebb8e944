"use client";

// The message box under an open conversation: the draft, Enter to send (Shift+Enter: new
// line), typing notifications (renewed every 3 s while typing, stopped on send or clear), the
// message being answered (with ✕ to cancel), and `@` mentions: typing `@` lists the other
// members (and `@everyone` for a group's admin) to pick with the arrows and Enter or Tab, or
// the mouse; Escape closes the list. A send mentions the picked members still in the text.

import { useEffect, useRef, useState } from "react";

import type { ConversationView } from "@/lib/api/types";
import { activeMention, insertMention, mentionOptions, mentionsOf, type ActiveMention, type MentionOption } from "@/lib/chat/mentions";
import type { Shown } from "@/lib/chat/state";
import type { Mentions } from "@/lib/chat/useChat";

import { Icon } from "./icons";

const RENEW_TYPING_MS = 3000;

export function Composer({
  conversation,
  me,
  replyTo,
  onCancelReply,
  onSend,
  onTyping,
}: {
  conversation: ConversationView;
  me: string;
  replyTo: Shown | null;
  onCancelReply: () => void;
  onSend: (text: string, mentions: Mentions) => void;
  onTyping: (started: boolean) => void;
}) {
  const [draft, setDraft] = useState("");
  const [active, setActive] = useState<ActiveMention | null>(null);
  const [choice, setChoice] = useState(0);
  const [picked, setPicked] = useState<MentionOption[]>([]);
  const typingSince = useRef(0);
  const box = useRef<HTMLTextAreaElement>(null);
  const caretAfter = useRef<number | null>(null);
  const everyone = conversation.is_group && conversation.admin === me;
  const options = active ? mentionOptions(conversation.participants, me, active.query, everyone) : [];
  const open = options.length > 0;
  const names = new Map(conversation.participants.map((u) => [u.uuid, u.username]));

  useEffect(() => {
    if (replyTo) box.current?.focus();
  }, [replyTo]);
  useEffect(() => {
    if (caretAfter.current === null || !box.current) return;
    box.current.setSelectionRange(caretAfter.current, caretAfter.current);
    caretAfter.current = null;
  }, [draft]);

  function submit(event?: React.FormEvent) {
    event?.preventDefault();
    const text = draft.trim();
    if (!text) return;
    onSend(text, mentionsOf(text, picked));
    setDraft("");
    setPicked([]);
    setActive(null);
    typingSince.current = 0;
    onTyping(false);
  }

  function onDraft(value: string, caret: number) {
    setDraft(value);
    follow(value, caret);
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

  /** Opens, narrows or closes the mention list as the caret moves. */
  function follow(value: string, caret: number) {
    const next = activeMention(value, caret);
    if (next?.start !== active?.start || next?.query !== active?.query) setChoice(0);
    setActive(next);
  }

  function pick(option: MentionOption) {
    const element = box.current;
    if (!active || !element) return;
    const inserted = insertMention(draft, element.selectionStart ?? draft.length, active, option.username);
    caretAfter.current = inserted.caret;
    setDraft(inserted.text);
    setPicked([...picked, option]);
    setActive(null);
    element.focus();
  }

  function onKeyDown(event: React.KeyboardEvent<HTMLTextAreaElement>) {
    if (open) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        setChoice((choice + (event.key === "ArrowDown" ? 1 : options.length - 1)) % options.length);
        return;
      }
      if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        pick(options[Math.min(choice, options.length - 1)]);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        setActive(null);
        return;
      }
    }
    if (event.key === "Escape" && replyTo) {
      event.preventDefault();
      onCancelReply();
    } else if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      submit();
    }
  }

  const replyAuthor = replyTo ? (replyTo.sender_uuid === me ? "yourself" : (names.get(replyTo.sender_uuid) ?? "Deleted account")) : "";
  return (
    <div className="border-t border-slate-200 bg-white">
      {replyTo && (
        <div className="flex items-center gap-3 px-3 pt-2" data-testid="reply-target">
          <div className="min-w-0 flex-1 rounded-lg border-l-4 border-indigo-400 bg-slate-50 px-3 py-1.5 text-xs">
            <p className="font-semibold text-indigo-700">Replying to {replyAuthor}</p>
            <p className="truncate text-slate-600">{replyTo.deleted_at ? <em>Message deleted</em> : replyTo.text}</p>
          </div>
          <button type="button" onClick={onCancelReply} aria-label="Cancel reply" className="rounded-full p-1.5 text-slate-400 hover:bg-slate-100 hover:text-slate-600">
            <Icon name="close" />
          </button>
        </div>
      )}
      <form onSubmit={submit} className="relative flex items-end gap-2 p-3">
        {open && (
          <ul id="mention-options" role="listbox" aria-label="Mention someone" className="absolute bottom-full left-3 z-20 mb-1 max-h-60 w-64 max-w-[calc(100%-1.5rem)] overflow-y-auto rounded-xl border border-slate-200 bg-white py-1 shadow-lg">
            {options.map((option, index) => (
              <li
                key={option.uuid ?? "everyone"}
                id={`mention-option-${index}`}
                role="option"
                aria-selected={index === choice}
                onMouseDown={(event) => {
                  event.preventDefault();
                  pick(option);
                }}
                onMouseEnter={() => setChoice(index)}
                className={`cursor-pointer px-3 py-1.5 text-sm ${index === choice ? "bg-indigo-50 text-indigo-700" : "text-slate-700"}`}
              >
                <span className="font-medium">@{option.username}</span>
                {option.uuid === null && <span className="ml-2 text-xs text-slate-400">everyone in the group</span>}
              </li>
            ))}
          </ul>
        )}
        <label className="sr-only" htmlFor="composer">
          Message
        </label>
        <textarea
          id="composer"
          ref={box}
          rows={1}
          value={draft}
          disabled={!conversation.can_send}
          placeholder={conversation.can_send ? "Write a message…" : "You can no longer message this person."}
          onChange={(event) => onDraft(event.target.value, event.target.selectionStart ?? event.target.value.length)}
          onSelect={(event) => follow(event.currentTarget.value, event.currentTarget.selectionStart ?? 0)}
          onBlur={() => setActive(null)}
          onKeyDown={onKeyDown}
          aria-autocomplete="list"
          aria-controls={open ? "mention-options" : undefined}
          aria-activedescendant={open ? `mention-option-${choice}` : undefined}
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
    </div>
  );
}
