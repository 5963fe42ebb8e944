"use client";

// The message box under an open conversation: the draft, Enter to send (Shift+Enter: new
// line), typing notifications (renewed every 3 s while typing, stopped on send or clear), the
// message being answered (with ✕ to cancel), and `@` mentions: typing `@` lists the other
// members (and `@everyone` for a group's admin) to pick with the arrows and Enter or Tab, or
// the mouse; Escape closes the list. A send mentions the picked members still in the text.
// Files come from the attach button, a drop on the composer or a paste: each uploads at once
// with its progress and ✕ (cancel, or take back once uploaded), and goes with the next send
// (up to 10; a message may then have no text).

import { useEffect, useRef, useState } from "react";

import { attach, fileSize, removeUpload, uploadError } from "@/lib/api/files";
import type { AttachmentView, ConversationView } from "@/lib/api/types";
import { activeMention, insertMention, mentionOptions, mentionsOf, type ActiveMention, type MentionOption } from "@/lib/chat/mentions";
import type { Shown } from "@/lib/chat/state";
import type { Mentions } from "@/lib/chat/useChat";

import { Icon } from "./icons";

const RENEW_TYPING_MS = 3000;
const MAX_FILES = 10;
/** ATTACHMENT_MAX_BYTES's default, for the message when the server refuses a file. */
const FILE_LIMIT = "25 MB";

/** A file in the composer: uploading (`progress` < 1), uploaded (`view`) or refused (`error`). */
type Upload = { key: string; file: File; progress: number; view?: AttachmentView; error?: string; controller: AbortController };

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
  onSend: (text: string, mentions: Mentions, attachments: AttachmentView[]) => void;
  onTyping: (started: boolean) => void;
}) {
  const [draft, setDraft] = useState("");
  const [active, setActive] = useState<ActiveMention | null>(null);
  const [choice, setChoice] = useState(0);
  const [picked, setPicked] = useState<MentionOption[]>([]);
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [dragging, setDragging] = useState(false);
  const picker = useRef<HTMLInputElement>(null);
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

  const uploading = uploads.some((upload) => !upload.view && !upload.error);
  const ready = uploads.flatMap((upload) => (upload.view ? [upload.view] : []));

  function change(key: string, patch: Partial<Upload>) {
    setUploads((list) => list.map((upload) => (upload.key === key ? { ...upload, ...patch } : upload)));
  }

  function addFiles(files: File[]) {
    if (!conversation.can_send || files.length === 0) return;
    const room = MAX_FILES - uploads.filter((upload) => !upload.error).length;
    const added = files.map((file, index): Upload => {
      const upload: Upload = { key: `${Date.now()}-${index}-${file.name}`, file, progress: 0, controller: new AbortController() };
      if (index >= room) return { ...upload, error: `At most ${MAX_FILES} files per message.` };
      attach(file, (progress) => change(upload.key, { progress }), upload.controller.signal)
        .then((view) => change(upload.key, { view, progress: 1 }))
        .catch((caught: unknown) => {
          if (caught instanceof DOMException && caught.name === "AbortError") return;
          change(upload.key, { error: uploadError(caught, FILE_LIMIT) });
        });
      return upload;
    });
    setUploads((list) => [...list, ...added]);
  }

  /** ✕ on a file: stops its upload, or takes back the upload made. */
  function drop(upload: Upload) {
    if (upload.view) void removeUpload(upload.view.id).catch(() => undefined);
    else upload.controller.abort();
    setUploads((list) => list.filter((other) => other.key !== upload.key));
  }

  function submit(event?: React.FormEvent) {
    event?.preventDefault();
    const text = draft.trim();
    if ((!text && ready.length === 0) || uploading) return;
    onSend(text, mentionsOf(text, picked), ready);
    setUploads([]);
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
    <div
      className={`border-t border-slate-200 bg-white ${dragging ? "ring-2 ring-inset ring-indigo-400" : ""}`}
      onDragOver={(event) => {
        if (!event.dataTransfer.types.includes("Files")) return;
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(event) => {
        if (event.dataTransfer.files.length === 0) return;
        event.preventDefault();
        setDragging(false);
        addFiles([...event.dataTransfer.files]);
      }}
    >
      {uploads.length > 0 && (
        <ul className="flex flex-wrap gap-2 px-3 pt-2" aria-label="Files to send" data-testid="composer-files">
          {uploads.map((upload) => (
            <li key={upload.key} className={`flex w-56 items-center gap-2 rounded-lg border px-2 py-1.5 text-xs ${upload.error ? "border-rose-200 bg-rose-50" : "border-slate-200 bg-slate-50"}`}>
              <span className="min-w-0 flex-1">
                <span className="block truncate font-medium text-slate-700">{upload.file.name}</span>
                {upload.error ? (
                  <span className="block text-rose-700" role="alert">{upload.error}</span>
                ) : upload.view ? (
                  <span className="block text-slate-500">{fileSize(upload.view.size)} · ready</span>
                ) : (
                  <span className="mt-1 block h-1.5 overflow-hidden rounded-full bg-slate-200" role="progressbar" aria-label={`Uploading ${upload.file.name}`} aria-valuenow={Math.round(upload.progress * 100)} aria-valuemin={0} aria-valuemax={100}>
                    <span className="block h-full bg-indigo-500 transition-all" style={{ width: `${Math.round(upload.progress * 100)}%` }} />
                  </span>
                )}
              </span>
              <button type="button" onClick={() => drop(upload)} aria-label={`Remove ${upload.file.name}`} className="rounded-full p-1 text-slate-400 hover:bg-slate-200 hover:text-slate-600">
                <Icon name="close" className="h-3.5 w-3.5" />
              </button>
            </li>
          ))}
        </ul>
      )}
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
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          data-testid="attach-input"
          onChange={(event) => {
            addFiles([...(event.target.files ?? [])]);
            event.target.value = "";
          }}
        />
        <button
          type="button"
          onClick={() => picker.current?.click()}
          disabled={!conversation.can_send}
          aria-label="Attach files"
          className="rounded-xl p-2.5 text-slate-500 hover:bg-slate-100 hover:text-slate-700 disabled:opacity-50"
        >
          <Icon name="attach" className="h-5 w-5" />
        </button>
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
          onPaste={(event) => {
            const files = [...event.clipboardData.files];
            if (files.length === 0) return;
            event.preventDefault();
            addFiles(files);
          }}
          aria-autocomplete="list"
          aria-controls={open ? "mention-options" : undefined}
          aria-activedescendant={open ? `mention-option-${choice}` : undefined}
          maxLength={4000}
          className="max-h-40 min-h-[42px] flex-1 resize-none rounded-xl border border-slate-300 px-3 py-2 text-sm outline-none focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/20 disabled:bg-slate-100"
        />
        <button
          type="submit"
          disabled={(!draft.trim() && ready.length === 0) || uploading || !conversation.can_send}
          className="rounded-xl bg-indigo-600 px-4 py-2.5 text-sm font-semibold text-white hover:bg-indigo-500 disabled:opacity-50"
        >
          Send
        </button>
      </form>
    </div>
  );
}
