"use client";

import Link from "next/link";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { GroupPanel, NewGroupDialog } from "@/components/GroupPanel";
import { Avatar, conversationTitle, day, NavBar, otherMember, time } from "@/components/ui";
import { api, describe, type Conversation, type Me, type Message, type Presence } from "@/lib/api";
import { ChatSocket, type ConnectionState, type Frame } from "@/lib/socket";

/** A message as shown: stored, or still on its way (optimistic, by nonce). */
type Shown = Message & { pending?: "sending" | "failed" };

function nonce(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

export default function ChatPage() {
  const [me, setMe] = useState<Me | null>(null);
  const [conversations, setConversations] = useState<Conversation[] | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [messages, setMessages] = useState<Record<string, Shown[]>>({});
  const [hasMore, setHasMore] = useState<Record<string, boolean>>({});
  const [presence, setPresence] = useState<Record<string, Presence>>({});
  const [typing, setTyping] = useState<Record<string, Record<string, number>>>({});
  const [connection, setConnection] = useState<ConnectionState>("connecting");
  const [error, setError] = useState<string | null>(null);
  const [newGroup, setNewGroup] = useState(false);
  const [details, setDetails] = useState(false);
  const socket = useRef<ChatSocket | null>(null);

  // Session, list and socket; `?c=<id>` opens a conversation (links from Friends).
  useEffect(() => {
    const wanted = new URLSearchParams(window.location.search).get("c");
    if (wanted) setSelected(wanted);
    // The session first (refreshed if the access token expired), then the socket, so the
    // upgrade carries a valid cookie.
    let chat: ChatSocket | null = null;
    let offState = () => {};
    let off = () => {};
    let cancelled = false;
    api<Me>("users", "/users/me")
      .then((user) => {
        if (cancelled) return;
        setMe(user);
        chat = new ChatSocket();
        socket.current = chat;
        offState = chat.onState(setConnection);
        off = chat.on((frame) => handleFrame(frame));
      })
      .catch((caught) => setError(describe(caught)));
    return () => {
      cancelled = true;
      off();
      offState();
      chat?.close();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const upsertMessage = useCallback((message: Message) => {
    setMessages((all) => {
      const list = all[message.conversation_id] ?? [];
      const without = list.filter((m) => m.id !== message.id && !(message.nonce && m.nonce === message.nonce && m.pending));
      const next: Shown[] = [...without, message as Shown].sort((a, b) => (a.pending ? 1 : 0) - (b.pending ? 1 : 0) || a.seq - b.seq);
      return { ...all, [message.conversation_id]: next };
    });
  }, []);

  const handleFrame = (frame: Frame) => {
    switch (frame.type) {
      case "ready":
        setConversations(frame.data.conversations);
        setPresence(Object.fromEntries(frame.data.presence.map((p: Presence) => [p.user_uuid, p])));
        break;
      case "message.created":
      case "message.updated":
      case "message.deleted": {
        const message: Message = frame.data;
        upsertMessage(message);
        setConversations((list) =>
          list === null
            ? list
            : bump(list, message.conversation_id, (c) => ({
                ...c,
                last_seq: Math.max(c.last_seq, message.seq),
                last_message:
                  !c.last_message || message.seq >= c.last_message.seq
                    ? { id: message.id, seq: message.seq, sender_uuid: message.sender_uuid, preview: message.text.slice(0, 100), created_at: message.created_at }
                    : c.last_message,
                unread_count: frame.type === "message.created" && message.sender_uuid !== meRef.current ? c.unread_count + 1 : c.unread_count,
              }), frame.type === "message.created"),
        );
        break;
      }
      case "conversation.created":
      case "conversation.updated":
      case "conversation.members_added":
      case "conversation.member_removed":
      case "conversation.deleted":
        refreshList();
        break;
      case "read.updated":
        setConversations((list) =>
          list === null
            ? list
            : list.map((c) =>
                c.id !== frame.data.conversation_id
                  ? c
                  : {
                      ...c,
                      read_states: [...c.read_states.filter((r) => r.user_uuid !== frame.data.read.user_uuid), frame.data.read],
                      ...(frame.data.read.user_uuid === meRef.current
                        ? { last_read_seq: frame.data.read.last_read_seq, unread_count: Math.max(0, c.last_seq - frame.data.read.last_read_seq) }
                        : {}),
                    },
              ),
        );
        break;
      case "presence.updated":
        setPresence((all) => ({ ...all, [frame.data.user_uuid]: frame.data }));
        break;
      case "typing.started":
      case "typing.stopped": {
        const { conversation_id, user_uuid, expires_in_ms } = frame.data;
        setTyping((all) => {
          const current = { ...(all[conversation_id] ?? {}) };
          if (frame.type === "typing.started") current[user_uuid] = Date.now() + (expires_in_ms ?? 5000);
          else delete current[user_uuid];
          return { ...all, [conversation_id]: current };
        });
        break;
      }
    }
  };

  const meRef = useRef<string | null>(null);
  useEffect(() => {
    meRef.current = me?.uuid ?? null;
  }, [me]);

  const refreshList = useCallback(() => {
    api<{ conversations: Conversation[] }>("messages", "/conversations?limit=50")
      .then((page) => setConversations(page.conversations))
      .catch((caught) => setError(describe(caught)));
  }, []);

  // Expire typing indicators nobody renewed.
  useEffect(() => {
    const timer = setInterval(() => {
      const now = Date.now();
      setTyping((all) => {
        let changed = false;
        const next: typeof all = {};
        for (const [conversation, users] of Object.entries(all)) {
          next[conversation] = Object.fromEntries(Object.entries(users).filter(([, until]) => until > now || !(changed = true)));
        }
        return changed ? next : all;
      });
    }, 1000);
    return () => clearInterval(timer);
  }, []);

  // Load history when a conversation opens.
  const loadHistory = useCallback(async (conversation: string, before?: string) => {
    const query = before ? `?limit=50&before=${before}` : "?limit=50";
    const page = await api<{ messages: Message[]; has_more: boolean }>("messages", `/conversations/${conversation}/messages${query}`);
    page.messages.forEach((message) => socket.current?.markSeen(conversation, message.seq));
    setMessages((all) => {
      const known = new Map((all[conversation] ?? []).map((m) => [m.id, m]));
      page.messages.forEach((m) => known.set(m.id, m));
      return { ...all, [conversation]: [...known.values()].sort((a, b) => (a.pending ? 1 : 0) - (b.pending ? 1 : 0) || a.seq - b.seq) };
    });
    setHasMore((all) => ({ ...all, [conversation]: page.has_more }));
  }, []);

  useEffect(() => {
    if (selected && !messages[selected]) loadHistory(selected).catch((caught) => setError(describe(caught)));
  }, [selected, messages, loadHistory]);

  const current = conversations?.find((c) => c.id === selected) ?? null;
  const list = messages[selected ?? ""] ?? [];

  // Mark read when the newest message from someone else is on screen.
  useEffect(() => {
    if (!current || !me) return;
    const newest = [...list].reverse().find((m) => !m.pending);
    if (newest && newest.seq > current.last_read_seq && document.visibilityState === "visible") {
      socket.current?.request("read", { conversation_id: current.id, message_id: newest.id }).catch(() => undefined);
    }
  }, [current, list, me]);

  async function send(text: string) {
    if (!current || !me) return;
    const message: Shown = {
      id: `pending-${nonce()}`,
      conversation_id: current.id,
      seq: Number.MAX_SAFE_INTEGER,
      sender_uuid: me.uuid,
      text,
      reply_to: null,
      nonce: nonce(),
      created_at: new Date().toISOString(),
      edited_at: null,
      deleted_at: null,
      pending: "sending",
    };
    setMessages((all) => ({ ...all, [current.id]: [...(all[current.id] ?? []), message] }));
    await deliver(message);
  }

  async function deliver(message: Shown) {
    const chat = socket.current;
    let stored: Message | null = null;
    try {
      if (chat?.state === "online") {
        const answer = await chat.request("message.send", { conversation_id: message.conversation_id, text: message.text, nonce: message.nonce });
        if (answer.type === "message.ack") stored = answer.data.message;
        else if (answer.data?.error?.code !== "offline") setError(answer.data?.error?.message ?? "Not sent.");
      } else {
        stored = await api<Message>("messages", `/conversations/${message.conversation_id}/messages`, {
          method: "POST",
          body: { text: message.text, nonce: message.nonce },
        });
      }
    } catch (caught) {
      if (!(caught instanceof Error && caught.message === "offline")) setError(describe(caught));
    }
    if (stored) upsertMessage(stored);
    else
      setMessages((all) => ({
        ...all,
        [message.conversation_id]: (all[message.conversation_id] ?? []).map((m) => (m.nonce === message.nonce ? { ...m, pending: "failed" } : m)),
      }));
  }

  async function edit(message: Message) {
    const text = window.prompt("Edit message", message.text);
    if (!text || text === message.text) return;
    try {
      upsertMessage(await api<Message>("messages", `/conversations/${message.conversation_id}/messages/${message.id}`, { method: "PATCH", body: { text } }));
    } catch (caught) {
      setError(describe(caught));
    }
  }

  async function remove(message: Message) {
    if (!window.confirm("Delete this message?")) return;
    try {
      await api("messages", `/conversations/${message.conversation_id}/messages/${message.id}`, { method: "DELETE" });
    } catch (caught) {
      setError(describe(caught));
    }
  }

  const typists = useMemo(() => {
    if (!current) return [];
    const names = new Map(current.participants.map((u) => [u.uuid, u.username]));
    return Object.keys(typing[current.id] ?? {}).map((uuid) => names.get(uuid) ?? "Someone");
  }, [current, typing]);

  return (
    <div className="flex h-full flex-col">
      <header className="flex items-center justify-between border-b border-slate-200 bg-white px-4 py-2">
        <div className="flex items-center gap-3">
          <span className="hidden text-lg font-semibold text-indigo-600 sm:inline">Chat</span>
          <NavBar active="chat" />
        </div>
        <div className="flex items-center gap-3 text-sm text-slate-500">
          <span aria-live="polite" className={`whitespace-nowrap ${connection === "online" ? "text-emerald-600" : "text-amber-600"}`}>
            {connection === "online" ? "●" : "○"}
            <span className="sr-only sm:not-sr-only">
              {connection === "online" ? " Connected" : connection === "connecting" ? " Connecting…" : " Offline, retrying…"}
            </span>
          </span>
          {me && <span className="hidden font-medium text-slate-700 sm:inline">{me.username}</span>}
        </div>
      </header>
      {error && (
        <div role="alert" className="flex items-center justify-between bg-rose-50 px-4 py-2 text-sm text-rose-700">
          {error}
          <button onClick={() => setError(null)} className="font-medium underline" aria-label="Dismiss error">
            Dismiss
          </button>
        </div>
      )}
      <div className="flex min-h-0 flex-1">
        <aside className={`${selected ? "hidden md:flex" : "flex"} w-full flex-col border-r border-slate-200 bg-white md:w-80`} aria-label="Conversations">
          <div className="flex items-center justify-between border-b border-slate-100 px-4 py-2">
            <h1 className="text-sm font-semibold text-slate-700">Conversations</h1>
            <button onClick={() => setNewGroup(true)} className="rounded-lg px-2 py-1 text-sm font-medium text-indigo-600 hover:bg-indigo-50">
              New group
            </button>
          </div>
          <ConversationList conversations={conversations} me={me?.uuid ?? ""} presence={presence} selected={selected} onSelect={(id) => { setSelected(id); setDetails(false); }} />
        </aside>
        <main className={`${selected && !(details && current?.is_group) ? "flex" : "hidden md:flex"} min-w-0 flex-1 flex-col`}>
          {current && me ? (
            <Pane
              key={current.id}
              conversation={current}
              me={me.uuid}
              messages={list}
              hasMore={hasMore[current.id] ?? false}
              presence={presence}
              typists={typists}
              onBack={() => setSelected(null)}
              onOlder={() => loadHistory(current.id, list.find((m) => !m.pending)?.id)}
              onSend={send}
              onRetry={deliver}
              onEdit={edit}
              onDelete={remove}
              onTyping={(started) => socket.current?.send(started ? "typing.start" : "typing.stop", { conversation_id: current.id })}
              onDetails={current.is_group ? () => setDetails(!details) : undefined}
            />
          ) : (
            <div className="flex flex-1 items-center justify-center text-sm text-slate-500">Pick a conversation, or start one from Friends.</div>
          )}
        </main>
        {details && current?.is_group && me && (
          <GroupPanel
            key={current.id}
            group={current}
            me={me.uuid}
            onClose={() => setDetails(false)}
            onLeft={() => {
              setDetails(false);
              setSelected(null);
              refreshList();
            }}
          />
        )}
      </div>
      {newGroup && (
        <NewGroupDialog
          onClose={() => setNewGroup(false)}
          onCreated={(id) => {
            setNewGroup(false);
            refreshList();
            setSelected(id);
          }}
        />
      )}
    </div>
  );
}

function bump(list: Conversation[], id: string, change: (c: Conversation) => Conversation, toTop: boolean): Conversation[] {
  const found = list.find((c) => c.id === id);
  if (!found) return list;
  const changed = change(found);
  const rest = list.filter((c) => c.id !== id);
  return toTop ? [changed, ...rest] : list.map((c) => (c.id === id ? changed : c));
}

function ConversationList({
  conversations,
  me,
  presence,
  selected,
  onSelect,
}: {
  conversations: Conversation[] | null;
  me: string;
  presence: Record<string, Presence>;
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  if (conversations === null) return <p className="p-4 text-sm text-slate-500">Loading conversations…</p>;
  if (conversations.length === 0)
    return <p className="p-4 text-sm text-slate-500">No conversations yet. Add friends, then say hello.</p>;
  return (
    <ul className="flex-1 overflow-y-auto">
      {conversations.map((conversation) => {
        const other = otherMember(conversation, me);
        const title = conversationTitle(conversation, me);
        return (
          <li key={conversation.id}>
            <button
              onClick={() => onSelect(conversation.id)}
              aria-current={selected === conversation.id ? "true" : undefined}
              className={`flex w-full items-center gap-3 px-4 py-3 text-left hover:bg-slate-50 ${selected === conversation.id ? "bg-indigo-50" : ""}`}
            >
              <Avatar name={title} online={other ? (presence[other.uuid]?.online ?? false) : undefined} />
              <span className="min-w-0 flex-1">
                <span className="flex items-baseline justify-between gap-2">
                  <span className="truncate font-medium">{title}</span>
                  {conversation.last_message && <span className="shrink-0 text-xs text-slate-400">{time(conversation.last_message.created_at)}</span>}
                </span>
                <span className="flex items-center justify-between gap-2">
                  <span className="truncate text-sm text-slate-500">{conversation.last_message?.preview || (conversation.last_message ? "Message deleted" : "No messages yet")}</span>
                  {conversation.unread_count > 0 && (
                    <span aria-label={`${conversation.unread_count} unread`} className="shrink-0 rounded-full bg-indigo-600 px-2 py-0.5 text-xs font-semibold text-white">
                      {conversation.unread_count}
                    </span>
                  )}
                </span>
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

function Pane(props: {
  conversation: Conversation;
  me: string;
  messages: Shown[];
  hasMore: boolean;
  presence: Record<string, Presence>;
  typists: string[];
  onBack: () => void;
  onOlder: () => Promise<void>;
  onSend: (text: string) => void;
  onRetry: (message: Shown) => void;
  onEdit: (message: Message) => void;
  onDelete: (message: Message) => void;
  onTyping: (started: boolean) => void;
  onDetails?: () => void;
}) {
  const { conversation, me, messages, presence } = props;
  const [draft, setDraft] = useState("");
  const scroller = useRef<HTMLDivElement>(null);
  const typingSince = useRef(0);
  const other = otherMember(conversation, me);
  const title = conversationTitle(conversation, me);
  const names = new Map(conversation.participants.map((u) => [u.uuid, u.username]));
  const seenBy = other ? conversation.read_states.find((r) => r.user_uuid === other.uuid)?.last_read_seq ?? 0 : 0;
  const lastMine = [...messages].reverse().find((m) => m.sender_uuid === me && !m.pending);

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

  function submit(event?: React.FormEvent) {
    event?.preventDefault();
    const text = draft.trim();
    if (!text) return;
    props.onSend(text);
    setDraft("");
    typingSince.current = 0;
    props.onTyping(false);
  }

  function onDraft(value: string) {
    setDraft(value);
    const now = Date.now();
    if (value && now - typingSince.current > 3000) {
      typingSince.current = now;
      props.onTyping(true);
    }
    if (!value && typingSince.current) {
      typingSince.current = 0;
      props.onTyping(false);
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
                  <button onClick={() => props.onRetry({ ...message, pending: "sending" })} className="text-xs font-medium text-rose-600 underline">
                    Retry
                  </button>
                </div>
              )}
              {mine && !message.pending && !message.deleted_at && (
                <div className="flex justify-end gap-2 text-xs text-slate-400 opacity-0 focus-within:opacity-100 group-hover:opacity-100">
                  <button onClick={() => props.onEdit(message)} className="hover:text-slate-600">Edit</button>
                  <button onClick={() => props.onDelete(message)} className="hover:text-rose-600">Delete</button>
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
    </>
  );
}
