"use client";

// An open conversation above its composer: the header (title, presence or who is typing, mute,
// the pinned messages, group details), the message log with day separators and the "New messages"
// one, paging back on scroll, jumping to a quoted, pinned or found message (briefly
// highlighted; a gap left in the history offers to load what is missing), and the delete
// confirmation of my messages. Each message is a MessageItem.

import Link from "next/link";
import { useEffect, useRef, useState } from "react";

import { Confirm } from "@/components/Dialog";
import { Avatar, conversationTitle, day, otherMember, time } from "@/components/ui";
import type { ConversationView, MessageView } from "@/lib/api/types";
import type { Shown } from "@/lib/chat/state";
import type { Presence } from "@/lib/frames";

import { Icon } from "./icons";
import { MessageItem, type MessageActions } from "./MessageItem";
import { MuteButton } from "./MuteButton";
import { PinnedPanel } from "./PinnedPanel";

const HIGHLIGHT_MS = 2000;

export function MessagePane(props: {
  conversation: ConversationView;
  me: string;
  messages: Shown[];
  loaded: boolean;
  hasMore: boolean;
  firstUnread: string | null;
  presence: Record<string, Presence>;
  typists: string[];
  onBack: () => void;
  onOlder: () => Promise<void>;
  /** Loads history until the message is there; whether it is. */
  onReveal: (id: string) => Promise<boolean>;
  /** Loads the messages after one where the history shown has a gap. */
  onFillGap: (afterId: string) => Promise<void>;
  /** A message to bring into view and highlight (a search result), once. */
  jumpTo?: string | null;
  onJumped?: () => void;
  actions: Omit<MessageActions, "remove" | "jump">;
  onDelete: (message: MessageView) => void;
  onDetails?: () => void;
  /** Opens search in this conversation. */
  onSearch: () => void;
}) {
  const { conversation, me, messages, presence } = props;
  const [deleting, setDeleting] = useState<MessageView | null>(null);
  const [pinsOpen, setPinsOpen] = useState(false);
  const [target, setTarget] = useState<string | null>(null);
  const [highlighted, setHighlighted] = useState<string | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const placed = useRef(false);
  const other = otherMember(conversation, me);
  const title = conversationTitle(conversation, me);
  const names = new Map(conversation.participants.map((u) => [u.uuid, u.username]));
  const seenBy = other ? (conversation.read_states.find((r) => r.user_uuid === other.uuid)?.last_read_seq ?? 0) : 0;
  const lastMine = [...messages].reverse().find((m) => m.sender_uuid === me && !m.pending);
  const canPin = !conversation.is_group || conversation.admin === me;

  // Start at the "New messages" separator (or the bottom) once the history is in; then follow
  // new messages while near the bottom.
  useEffect(() => {
    const element = scroller.current;
    if (!element) return;
    if (!placed.current) {
      if (!props.loaded) return;
      placed.current = true;
      const separator = element.querySelector("[data-unread-separator]");
      if (separator) separator.scrollIntoView({ block: "start" });
      else element.scrollTop = element.scrollHeight;
      return;
    }
    if (element.scrollHeight - element.scrollTop - element.clientHeight < 200) element.scrollTop = element.scrollHeight;
  }, [messages.length, props.loaded]);

  // Jump: once the target is rendered, bring it into view and highlight it for a moment.
  useEffect(() => {
    if (!target) return;
    const element = document.getElementById(`message-${target}`);
    if (!element) return;
    element.scrollIntoView({ block: "center" });
    setHighlighted(target);
    setTarget(null);
  }, [target, messages]);
  useEffect(() => {
    if (!highlighted) return;
    const timer = setTimeout(() => setHighlighted(null), HIGHLIGHT_MS);
    return () => clearTimeout(timer);
  }, [highlighted]);

  async function jump(id: string) {
    if (await props.onReveal(id)) setTarget(id);
  }

  const { jumpTo, onJumped } = props;
  useEffect(() => {
    if (!jumpTo) return;
    onJumped?.();
    void jump(jumpTo);
  }, [jumpTo]);

  async function onScroll(event: React.UIEvent<HTMLDivElement>) {
    const element = event.currentTarget;
    if (element.scrollTop < 40 && props.hasMore) {
      const height = element.scrollHeight;
      await props.onOlder();
      element.scrollTop = element.scrollHeight - height;
    }
  }

  const actions: MessageActions = { ...props.actions, remove: setDeleting, jump: (id) => void jump(id) };
  let lastDay = "";
  return (
    <>
      <div className="relative flex items-center gap-3 border-b border-slate-200 bg-white px-4 py-3">
        <button onClick={props.onBack} className="rounded-lg px-2 py-1 text-slate-500 hover:bg-slate-100 md:hidden" aria-label="Back to conversations">
          ←
        </button>
        <Avatar name={title} src={conversation.is_group ? conversation.picture : other?.profile_picture} online={other ? (presence[other.uuid]?.online ?? false) : undefined} />
        <div className="min-w-0 flex-1">
          <h2 className="truncate font-semibold">
            {other ? (
              <Link href={`/users/${encodeURIComponent(other.username)}`} className="hover:underline">
                {title}
              </Link>
            ) : (
              title
            )}
          </h2>
          <p className="truncate text-xs text-slate-500" aria-live="polite">
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
        <MuteButton conversation={conversation.id} />
        <button
          onClick={props.onSearch}
          title="Search in this conversation"
          className="flex shrink-0 items-center gap-1 rounded-lg px-2 py-1.5 text-sm font-medium text-slate-600 hover:bg-slate-100 sm:px-2.5"
        >
          <Icon name="search" />
          <span className="sr-only">Search in this conversation</span>
        </button>
        <button
          onClick={() => setPinsOpen(!pinsOpen)}
          aria-expanded={pinsOpen}
          aria-controls="pinned-panel"
          data-pins-toggle=""
          title="Pinned messages"
          className={`flex shrink-0 items-center gap-1 rounded-lg px-2 py-1.5 text-sm font-medium hover:bg-slate-100 sm:px-2.5 ${pinsOpen ? "bg-slate-100 text-slate-800" : "text-slate-600"}`}
        >
          <Icon name="pin" />
          <span className="sr-only sm:not-sr-only">Pinned</span>
        </button>
        {props.onDetails && (
          <button onClick={props.onDetails} title="Group details" className="flex shrink-0 items-center gap-1 rounded-lg px-2 py-1.5 text-sm font-medium text-slate-600 hover:bg-slate-100 sm:px-3">
            <Icon name="info" className="h-4 w-4 sm:hidden" />
            <span className="sr-only sm:not-sr-only">Group details</span>
          </button>
        )}
        {pinsOpen && <PinnedPanel conversation={conversation.id} names={names} onJump={(id) => void jump(id)} onClose={() => setPinsOpen(false)} />}
      </div>
      <div ref={scroller} onScroll={onScroll} className="flex-1 space-y-1 overflow-y-auto bg-slate-50 px-4 pb-4 pt-6" role="log" aria-label={`Messages with ${title}`}>
        {props.hasMore && <p className="text-center text-xs text-slate-400">Scroll up for older messages</p>}
        {messages.length === 0 && <p className="mt-8 text-center text-sm text-slate-500">No messages yet. Say hello!</p>}
        {messages.map((message, index) => {
          const label = day(message.created_at);
          const separator = label !== lastDay ? ((lastDay = label), label) : null;
          // Seqs have no holes: a jump between two shown messages is history not loaded yet.
          const previous = index > 0 ? messages[index - 1] : null;
          const missing = previous && !previous.pending && !message.pending ? message.seq - previous.seq - 1 : 0;
          return (
            <div key={message.id} className="pt-1">
              {previous && missing > 0 && (
                <div className="my-3 text-center">
                  <button
                    onClick={() => void props.onFillGap(previous.id)}
                    className="rounded-full border border-slate-200 bg-white px-3 py-1 text-xs font-medium text-slate-600 hover:bg-slate-100"
                    data-history-gap=""
                  >
                    Show {missing} more {missing === 1 ? "message" : "messages"}
                  </button>
                </div>
              )}
              {separator && <Divider>{separator}</Divider>}
              {message.id === props.firstUnread && (
                <Divider unread>
                  New messages
                </Divider>
              )}
              <MessageItem
                message={message}
                me={me}
                isGroup={conversation.is_group}
                names={names}
                canPin={canPin}
                highlighted={highlighted === message.id}
                seen={lastMine?.id === message.id && !!other && seenBy >= message.seq}
                actions={actions}
              />
            </div>
          );
        })}
      </div>
      <Confirm
        open={deleting !== null}
        onClose={() => setDeleting(null)}
        title="Delete this message?"
        description="It is removed for everyone in the conversation."
        action="Delete"
        onConfirm={() => deleting && props.onDelete(deleting)}
      />
    </>
  );
}

function Divider({ children, unread = false }: { children: React.ReactNode; unread?: boolean }) {
  return (
    <div
      className={`my-3 flex items-center gap-3 text-xs ${unread ? "font-semibold text-rose-600" : "text-slate-400"}`}
      role={unread ? "separator" : undefined}
      aria-label={unread ? "New messages" : undefined}
      data-unread-separator={unread ? "" : undefined}
    >
      <span className={`h-px flex-1 ${unread ? "bg-rose-300" : "bg-slate-200"}`} />
      {children}
      <span className={`h-px flex-1 ${unread ? "bg-rose-300" : "bg-slate-200"}`} />
    </div>
  );
}
