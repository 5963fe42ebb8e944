"use client";

// One message of the log: its bubble (author in groups, the quote of the message it answers,
// the text with mentions highlighted, its files, a link preview card, time, edited and pinned marks),
// its reactions, and its actions on hover, focus or long-press (reply, react, pin, and for my
// own: edit inline and delete). Pending and failed sends show their state and Retry.

import { useRef, useState } from "react";

import { time } from "@/components/ui";
import type { LinkPreview, MessageView } from "@/lib/api/types";
import { EVERYONE, segments } from "@/lib/chat/mentions";
import type { Shown } from "@/lib/chat/state";

import { Attachments } from "./Attachments";
import { Icon } from "./icons";
import { ReactionChips, ReactionPicker } from "./Reactions";

export type MessageActions = {
  retry: (message: Shown) => void;
  reply: (message: Shown) => void;
  react: (message: MessageView, emoji: string) => void;
  pin: (message: MessageView, on: boolean) => void;
  edit: (message: MessageView, text: string) => void;
  /** Asks to delete (the pane confirms). */
  remove: (message: MessageView) => void;
  /** Scrolls to a message and highlights it. */
  jump: (id: string) => void;
};

const LONG_PRESS_MS = 450;

export function MessageItem(props: {
  message: Shown;
  me: string;
  isGroup: boolean;
  names: Map<string, string>;
  canPin: boolean;
  highlighted: boolean;
  seen: boolean;
  actions: MessageActions;
}) {
  const { message, me, names, actions } = props;
  const mine = message.sender_uuid === me;
  const [editing, setEditing] = useState(false);
  const [picking, setPicking] = useState(false);
  const [pressed, setPressed] = useState(false);
  const press = useRef<ReturnType<typeof setTimeout> | null>(null);
  const toolbar = useRef<HTMLDivElement>(null);
  const live = !message.pending && !message.deleted_at;
  const mentionsMe = !mine && (message.mentions_everyone || message.mentions.includes(me));
  const mentionNames = [...message.mentions.map((uuid) => names.get(uuid)).filter((name): name is string => !!name), ...(message.mentions_everyone ? [EVERYONE] : [])];
  const align = mine ? "end" : "start";

  const closePicker = () => {
    setPicking(false);
    setPressed(false);
  };
  /** An action of the toolbar: the picker (open after a long-press) closes first. */
  const then = (action: () => void) => () => {
    closePicker();
    action();
  };
  const endPress = () => {
    if (press.current) clearTimeout(press.current);
    press.current = null;
  };

  const bubbleColours = mine
    ? "bg-indigo-600 text-white"
    : mentionsMe
      ? "bg-amber-50 text-slate-900 ring-1 ring-amber-300"
      : "bg-white text-slate-900";

  return (
    <div
      id={`message-${message.id}`}
      data-highlighted={props.highlighted ? "true" : undefined}
      className={`group flex flex-col ${mine ? "items-end" : "items-start"}`}
    >
      {/* Wide screens: the actions beside the bubble (so at most 70% wide); narrow: above it. */}
      <div className={`relative ${editing ? "w-full max-w-[min(80%,32rem)]" : "max-w-[80%] lg:max-w-[70%]"}`}>
        {live && !editing && (
          <div
            ref={toolbar}
            className={`absolute bottom-full z-10 -mb-2 flex items-center rounded-full border border-slate-200 bg-white p-0.5 text-slate-500 shadow-sm transition-opacity lg:bottom-auto lg:top-1/2 lg:mb-0 lg:-translate-y-1/2 ${
              mine ? "right-2 lg:right-full lg:mr-2" : "left-2 lg:left-full lg:ml-2"
            } ${
              picking || pressed ? "opacity-100" : "pointer-events-none opacity-0 focus-within:pointer-events-auto focus-within:opacity-100 group-hover:pointer-events-auto group-hover:opacity-100"
            }`}
            role="toolbar"
            aria-label="Message actions"
          >
            <ActionButton label="Reply" icon="reply" onClick={then(() => actions.reply(message))} />
            <ActionButton label="React" icon="react" expanded={picking} onClick={() => (picking ? closePicker() : setPicking(true))} />
            {props.canPin && <ActionButton label={message.pinned_at ? "Unpin" : "Pin"} icon="pin" onClick={then(() => actions.pin(message, !message.pinned_at))} />}
            {mine && <ActionButton label="Edit" icon="edit" onClick={then(() => setEditing(true))} />}
            {mine && <ActionButton label="Delete" icon="trash" danger onClick={then(() => actions.remove(message))} />}
          </div>
        )}
        {picking && (
          <ReactionPicker
            align={align}
            anchor={toolbar}
            onClose={closePicker}
            onPick={(emoji) => {
              closePicker();
              actions.react(message, emoji);
            }}
          />
        )}
        <div
          onTouchStart={() => {
            if (!live) return;
            endPress();
            press.current = setTimeout(() => {
              setPressed(true);
              setPicking(true);
            }, LONG_PRESS_MS);
          }}
          onTouchEnd={endPress}
          onTouchMove={endPress}
          className={`rounded-2xl px-3 py-2 text-sm shadow-sm transition-shadow ${bubbleColours} ${message.pending ? "opacity-70" : ""} ${
            props.highlighted ? "ring-4 ring-amber-400 ring-offset-2 ring-offset-slate-50" : ""
          }`}
        >
          {props.isGroup && !mine && <p className="mb-0.5 text-xs font-semibold text-indigo-600">{names.get(message.sender_uuid) ?? "Deleted account"}</p>}
          {message.reply && !message.deleted_at && <Quote message={message} me={me} names={names} mine={mine} onJump={actions.jump} />}
          {message.deleted_at ? (
            <p className="italic opacity-70">Message deleted</p>
          ) : editing ? (
            <InlineEdit
              text={message.text}
              mine={mine}
              onCancel={() => setEditing(false)}
              onSave={(text) => {
                setEditing(false);
                actions.edit(message, text);
              }}
            />
          ) : message.text === "" ? null : (
            <p className="whitespace-pre-wrap break-words" data-testid="message-text">
              {segments(message.text, mentionNames).map((part, index) =>
                part.mention ? (
                  <strong key={index} className={mine ? "rounded bg-indigo-500 px-0.5 font-semibold" : "font-semibold text-indigo-700"}>
                    {part.text}
                  </strong>
                ) : (
                  part.text
                ),
              )}
            </p>
          )}
          {!message.deleted_at && <Attachments files={message.attachments ?? []} mine={mine} />}
          {message.link_preview && !message.deleted_at && !editing && <PreviewCard preview={message.link_preview} mine={mine} />}
          <p className={`mt-0.5 flex items-center justify-end gap-1 text-[11px] ${mine ? "text-indigo-100" : "text-slate-400"}`}>
            {message.pinned_at && !message.deleted_at && (
              <span className="inline-flex items-center gap-0.5" data-testid="pinned-mark">
                <Icon name="pin" className="h-3 w-3" />
                Pinned ·
              </span>
            )}
            {message.pending === "sending" ? "Sending…" : message.pending === "failed" ? "Not sent" : time(message.created_at)}
            {message.edited_at && !message.deleted_at ? " · edited" : ""}
          </p>
        </div>
      </div>
      {!message.deleted_at && <ReactionChips reactions={message.reactions} me={me} names={names} align={align} onToggle={(emoji) => actions.react(message, emoji)} />}
      {message.pending === "failed" && (
        <button onClick={() => actions.retry(message)} className="text-xs font-medium text-rose-600 underline">
          Retry
        </button>
      )}
      {props.seen && (
        <p className="text-right text-xs text-slate-400" data-testid="read-receipt">
          Seen
        </p>
      )}
    </div>
  );
}

function ActionButton(props: { label: string; icon: Parameters<typeof Icon>[0]["name"]; onClick: () => void; danger?: boolean; expanded?: boolean }) {
  return (
    <button
      type="button"
      onClick={props.onClick}
      aria-label={props.label}
      title={props.label}
      aria-expanded={props.expanded}
      className={`flex h-7 w-7 items-center justify-center rounded-full hover:bg-slate-100 focus:bg-slate-100 focus:outline-none ${props.danger ? "hover:text-rose-600" : "hover:text-slate-800"}`}
    >
      <Icon name={props.icon} />
    </button>
  );
}

/** The quote of the answered message; a click shows the original. */
function Quote({ message, me, names, mine, onJump }: { message: Shown; me: string; names: Map<string, string>; mine: boolean; onJump: (id: string) => void }) {
  const reply = message.reply!;
  const author = reply.sender_uuid === me ? "You" : (names.get(reply.sender_uuid) ?? "Deleted account");
  return (
    <button
      type="button"
      onClick={() => onJump(reply.id)}
      title="Show the original message"
      data-testid="reply-quote"
      className={`mb-1 block w-full min-w-[8rem] rounded-lg border-l-4 px-2 py-1 text-left text-xs ${
        mine ? "border-indigo-200 bg-indigo-500/60 text-indigo-50 hover:bg-indigo-500" : "border-indigo-400 bg-slate-100 text-slate-600 hover:bg-slate-200"
      }`}
    >
      <span className={`block font-semibold ${mine ? "text-white" : "text-indigo-700"}`}>{author}</span>
      <span className="line-clamp-2 break-words">{reply.deleted ? <em>Message deleted</em> : reply.preview}</span>
    </button>
  );
}

/** What the linked page says about itself, as the server fetched it. Its image is not loaded:
 * readers' browsers do not contact the site for a preview. */
function PreviewCard({ preview, mine }: { preview: LinkPreview; mine: boolean }) {
  const safe = /^https?:\/\//i.test(preview.url);
  return (
    <div data-testid="link-preview" className={`mt-2 rounded-lg border-l-4 px-3 py-2 ${mine ? "border-indigo-200 bg-indigo-500/60" : "border-indigo-400 bg-slate-50"}`}>
      {preview.site_name && <p className={`text-[11px] font-medium uppercase tracking-wide ${mine ? "text-indigo-100" : "text-slate-500"}`}>{preview.site_name}</p>}
      {safe ? (
        <a href={preview.url} target="_blank" rel="noopener noreferrer nofollow" className="block break-words font-semibold underline-offset-2 hover:underline">
          {preview.title || preview.url}
        </a>
      ) : (
        <p className="break-words font-semibold">{preview.title || preview.url}</p>
      )}
      {preview.description && <p className={`line-clamp-3 text-xs ${mine ? "text-indigo-100" : "text-slate-600"}`}>{preview.description}</p>}
    </div>
  );
}

/** The text of one of my messages, in place: Enter saves (Shift+Enter: new line), Escape cancels. */
function InlineEdit({ text, mine, onSave, onCancel }: { text: string; mine: boolean; onSave: (text: string) => void; onCancel: () => void }) {
  const [value, setValue] = useState(text);
  return (
    <form
      className="space-y-2"
      onSubmit={(event) => {
        event.preventDefault();
        const trimmed = value.trim();
        if (trimmed && trimmed !== text) onSave(trimmed);
        else onCancel();
      }}
    >
      <textarea
        aria-label="Edit message"
        autoFocus
        rows={Math.min(6, Math.max(2, value.split("\n").length))}
        value={value}
        maxLength={4000}
        onFocus={(event) => event.currentTarget.setSelectionRange(event.currentTarget.value.length, event.currentTarget.value.length)}
        onChange={(event) => setValue(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Escape") {
            event.preventDefault();
            onCancel();
          } else if (event.key === "Enter" && !event.shiftKey) {
            event.preventDefault();
            event.currentTarget.form?.requestSubmit();
          }
        }}
        className="block w-full resize-none rounded-lg border border-slate-300 bg-white px-2 py-1.5 text-sm text-slate-900 outline-none focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/20"
      />
      <div className="flex justify-end gap-2 text-xs font-semibold">
        <button type="button" onClick={onCancel} className={`rounded-lg px-3 py-1.5 ${mine ? "text-indigo-100 hover:bg-indigo-500" : "text-slate-600 hover:bg-slate-100"}`}>
          Cancel
        </button>
        <button type="submit" disabled={!value.trim()} className={`rounded-lg px-3 py-1.5 disabled:opacity-50 ${mine ? "bg-white text-indigo-700 hover:bg-indigo-50" : "bg-indigo-600 text-white hover:bg-indigo-500"}`}>
          Save
        </button>
      </div>
    </form>
  );
}
