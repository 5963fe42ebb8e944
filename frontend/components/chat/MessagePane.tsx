"use client";

// An open conversation above its composer: the header (title, presence or who is typing, group
// details), the message log with day separators, pending/failed sends, read receipt, paging
// back on scroll, and the edit and delete dialogs of my messages.

import Link from "next/link";
import { useEffect, useRef, useState } from "react";

import { buttonStyles, Confirm, Modal, ModalClose } from "@/components/Dialog";
import { Avatar, conversationTitle, day, otherMember, time } from "@/components/ui";
import type { ConversationView, MessageView } from "@/lib/api/types";
import type { Shown } from "@/lib/chat/state";
import type { Presence } from "@/lib/frames";

export function MessagePane(props: {
  conversation: ConversationView;
  me: string;
  messages: Shown[];
  hasMore: boolean;
  presence: Record<string, Presence>;
  typists: string[];
  onBack: () => void;
  onOlder: () => Promise<void>;
  onRetry: (message: Shown) => void;
  onEdit: (message: MessageView, text: string) => void;
  onDelete: (message: MessageView) => void;
  onDetails?: () => void;
}) {
  const { conversation, me, messages, presence } = props;
  const [editing, setEditing] = useState<MessageView | null>(null);
  const [deleting, setDeleting] = useState<MessageView | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const other = otherMember(conversation, me);
  const title = conversationTitle(conversation, me);
  const names = new Map(conversation.participants.map((u) => [u.uuid, u.username]));
  const seenBy = other ? (conversation.read_states.find((r) => r.user_uuid === other.uuid)?.last_read_seq ?? 0) : 0;
  const lastMine = [...messages].reverse().find((m) => m.sender_uuid === me && !m.pending);

  // Follow new messages while near the bottom; start at the bottom.
  useEffect(() => {
    const element = scroller.current;
    if (element && element.scrollHeight - element.scrollTop - element.clientHeight < 200) element.scrollTop = element.scrollHeight;
  }, [messages.length]);
  useEffect(() => {
    if (scroller.current) scroller.current.scrollTop = scroller.current.scrollHeight;
  }, []);

  async function onScroll(event: React.UIEvent<HTMLDivElement>) {
    const element = event.currentTarget;
    if (element.scrollTop < 40 && props.hasMore) {
      const height = element.scrollHeight;
      await props.onOlder();
      element.scrollTop = element.scrollHeight - height;
    }
  }

  let lastDay = "";
  return (
    <>
      <div className="flex items-center gap-3 border-b border-slate-200 bg-white px-4 py-3">
        <button onClick={props.onBack} className="rounded-lg px-2 py-1 text-slate-500 hover:bg-slate-100 md:hidden" aria-label="Back to conversations">
          ←
        </button>
        <Avatar name={title} online={other ? (presence[other.uuid]?.online ?? false) : undefined} />
        <div className="min-w-0">
          <h2 className="truncate font-semibold">
            {other ? (
              <Link href={`/users/${encodeURIComponent(other.username)}`} className="hover:underline">
                {title}
              </Link>
            ) : (
              title
            )}
          </h2>
          <p className="text-xs text-slate-500" aria-live="polite">
            {props.typists.length > 0
              ? `${props.typists.join(", ")} ${props.typists.length > 1 ? "are" : "is"} typing…`
              : other
                ? presence[other.uuid]?.online
                  ? "Online"
                  : presence[other.uuid]?.last_seen
                    ? `Last seen ${day(presence[other.uuid].last_seen!)} ${time(presence[other.uuid].last_seen!)}`
                    : "Offline"
                : `${conversation.participants.length} members`}
          </p>
        </div>
        {props.onDetails && (
          <button onClick={props.onDetails} className="ml-auto rounded-lg px-3 py-1.5 text-sm font-medium text-slate-600 hover:bg-slate-100">
            Group details
          </button>
        )}
      </div>
      <div ref={scroller} onScroll={onScroll} className="flex-1 space-y-1 overflow-y-auto bg-slate-50 px-4 py-4" role="log" aria-label={`Messages with ${title}`}>
        {props.hasMore && <p className="text-center text-xs text-slate-400">Scroll up for older messages</p>}
        {messages.length === 0 && <p className="mt-8 text-center text-sm text-slate-500">No messages yet. Say hello!</p>}
        {messages.map((message) => {
          const mine = message.sender_uuid === me;
          const label = day(message.created_at);
          const separator = label !== lastDay ? ((lastDay = label), label) : null;
          return (
            <div key={message.id}>
              {separator && (
                <div className="my-3 flex items-center gap-3 text-xs text-slate-400">
                  <span className="h-px flex-1 bg-slate-200" />
                  {separator}
                  <span className="h-px flex-1 bg-slate-200" />
                </div>
              )}
              <div className={`group flex ${mine ? "justify-end" : "justify-start"}`}>
                <div className={`max-w-[80%] rounded-2xl px-3 py-2 text-sm shadow-sm ${mine ? "bg-indigo-600 text-white" : "bg-white text-slate-900"} ${message.pending ? "opacity-70" : ""}`}>
                  {conversation.is_group && !mine && <p className="mb-0.5 text-xs font-semibold text-indigo-600">{names.get(message.sender_uuid) ?? "Deleted account"}</p>}
                  {message.deleted_at ? (
                    <p className="italic opacity-70">Message deleted</p>
                  ) : (
                    <p className="whitespace-pre-wrap break-words" data-testid="message-text">
                      {message.text}
                    </p>
                  )}
                  <p className={`mt-0.5 text-right text-[11px] ${mine ? "text-indigo-100" : "text-slate-400"}`}>
                    {message.pending === "sending" ? "Sending…" : message.pending === "failed" ? "Not sent" : time(message.created_at)}
                    {message.edited_at && !message.deleted_at ? " · edited" : ""}
                  </p>
                </div>
              </div>
              {message.pending === "failed" && (
                <div className="flex justify-end">
                  <button onClick={() => props.onRetry(message)} className="text-xs font-medium text-rose-600 underline">
                    Retry
                  </button>
                </div>
              )}
              {mine && !message.pending && !message.deleted_at && (
                <div className="flex justify-end gap-2 text-xs text-slate-400 opacity-0 focus-within:opacity-100 group-hover:opacity-100">
                  <button onClick={() => setEditing(message)} className="hover:text-slate-600">Edit</button>
                  <button onClick={() => setDeleting(message)} className="hover:text-rose-600">Delete</button>
                </div>
              )}
              {lastMine?.id === message.id && other && seenBy >= message.seq && (
                <p className="text-right text-xs text-slate-400" data-testid="read-receipt">
                  Seen
                </p>
              )}
            </div>
          );
        })}
      </div>
      {editing && <EditDialog key={editing.id} message={editing} onSave={(text) => props.onEdit(editing, text)} onClose={() => setEditing(null)} />}
      <Confirm
        open={deleting !== null}
        onClose={() => setDeleting(null)}
        title="Delete this message?"
        action="Delete"
        onConfirm={() => deleting && props.onDelete(deleting)}
      />
    </>
  );
}

/** The text of one of my messages, prefilled, to change (Enter saves, Shift+Enter: new line). */
function EditDialog({ message, onSave, onClose }: { message: MessageView; onSave: (text: string) => void; onClose: () => void }) {
  const [text, setText] = useState(message.text);
  return (
    <Modal title="Edit message" onClose={onClose}>
      <form
        className="space-y-3"
        onSubmit={(event) => {
          event.preventDefault();
          onSave(text);
          onClose();
        }}
      >
        <textarea
          aria-label="Message text"
          rows={4}
          value={text}
          maxLength={4000}
          onChange={(event) => setText(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === "Enter" && !event.shiftKey) {
              event.preventDefault();
              event.currentTarget.form?.requestSubmit();
            }
          }}
          className="block w-full resize-none rounded-xl border border-slate-300 px-3 py-2 text-sm outline-none focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/20"
        />
        <div className="flex justify-end gap-2">
          <ModalClose />
          <button type="submit" className={buttonStyles.primary}>
            Save
          </button>
        </div>
      </form>
    </Modal>
  );
}
