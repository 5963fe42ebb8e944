// The chat page's engine: owns the socket, the reducer state (lib/chat/state.ts) and the
// effects around them: session check, history loading, mark-read, typing expiry, list
// refreshes, sends with a nonce (socket `message.send`, REST when offline), retry, edit, delete.

import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from "react";

import { describe } from "@/lib/api/client";
import * as messages from "@/lib/api/messages";
import type { MessageView } from "@/lib/api/types";
import * as users from "@/lib/api/users";
import { ChatSocket, type ConnectionState } from "@/lib/socket";

import { chatReducer, initialChat, type Shown } from "./state";

const NONE: Shown[] = [];

function nonce(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

export function useChat() {
  const [state, dispatch] = useReducer(chatReducer, initialChat);
  const [connection, setConnection] = useState<ConnectionState>("connecting");
  const socket = useRef<ChatSocket | null>(null);
  const fail = useCallback((caught: unknown) => dispatch({ type: "error", error: describe(caught) }), []);

  // Session, then socket (the session check refreshes an expired access token first, so the
  // upgrade carries a valid cookie); `?c=<id>` opens a conversation (links from Friends).
  useEffect(() => {
    const wanted = new URLSearchParams(window.location.search).get("c");
    if (wanted) dispatch({ type: "select", conversation: wanted });
    let chat: ChatSocket | null = null;
    let offState = () => {};
    let off = () => {};
    let cancelled = false;
    users
      .me()
      .then((me) => {
        if (cancelled) return;
        dispatch({ type: "signedIn", me });
        chat = new ChatSocket();
        socket.current = chat;
        offState = chat.onState(setConnection);
        off = chat.on((frame) => dispatch({ type: "frame", frame, now: Date.now() }));
      })
      .catch(fail);
    return () => {
      cancelled = true;
      off();
      offState();
      chat?.close();
    };
  }, [fail]);

  const refreshList = useCallback(() => {
    messages
      .conversations({ limit: 50 })
      .then((page) => dispatch({ type: "conversations", conversations: page.conversations }))
      .catch(fail);
  }, [fail]);

  // conversation.* frames make the list stale.
  useEffect(() => {
    if (state.listStale > 0) refreshList();
  }, [state.listStale, refreshList]);

  // Expire typing indicators nobody renewed.
  useEffect(() => {
    const timer = setInterval(() => dispatch({ type: "typingExpired", now: Date.now() }), 1000);
    return () => clearInterval(timer);
  }, []);

  const loadHistory = useCallback(async (conversation: string, before?: string) => {
    const page = await messages.history(conversation, { before });
    page.messages.forEach((message) => socket.current?.markSeen(conversation, message.seq));
    dispatch({ type: "history", conversation, page });
  }, []);

  // Load history when a conversation opens.
  const { me, selected } = state;
  useEffect(() => {
    if (selected && !state.messages[selected]) loadHistory(selected).catch(fail);
  }, [selected, state.messages, loadHistory, fail]);

  const current = state.conversations?.find((c) => c.id === selected) ?? null;
  const list = state.messages[selected ?? ""] ?? NONE;

  // Mark read when the newest message is on screen.
  useEffect(() => {
    if (!current || !me) return;
    const newest = [...list].reverse().find((m) => !m.pending);
    if (newest && newest.seq > current.last_read_seq && document.visibilityState === "visible") {
      socket.current?.request("read", { conversation_id: current.id, message_id: newest.id }).catch(() => undefined);
    }
  }, [current, list, me]);

  /** Sends (or re-sends) an optimistic message: over the socket while online, else over REST. */
  async function deliver(message: Shown) {
    const chat = socket.current;
    let stored: MessageView | null = null;
    try {
      if (chat?.state === "online") {
        const answer = await chat.request("message.send", { conversation_id: message.conversation_id, text: message.text, nonce: message.nonce });
        if (answer.type === "message.ack") stored = answer.data.message;
        else if (answer.type !== "error") dispatch({ type: "error", error: "Not sent." });
        else if (answer.data.error.code !== "offline") dispatch({ type: "error", error: answer.data.error.message ?? "Not sent." });
      } else {
        stored = await messages.send(message.conversation_id, { text: message.text, nonce: message.nonce });
      }
    } catch (caught) {
      if (!(caught instanceof Error && caught.message === "offline")) fail(caught);
    }
    if (stored) dispatch({ type: "stored", message: stored });
    else if (message.nonce) dispatch({ type: "sendFailed", conversation: message.conversation_id, nonce: message.nonce });
  }

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
    dispatch({ type: "sendStarted", message });
    await deliver(message);
  }

  async function edit(message: MessageView, text: string) {
    if (!text || text === message.text) return;
    try {
      dispatch({ type: "stored", message: await messages.edit(message.conversation_id, message.id, text) });
    } catch (caught) {
      fail(caught);
    }
  }

  /** Deletes a message; the `message.deleted` frame updates the view. */
  async function remove(message: MessageView) {
    try {
      await messages.remove(message.conversation_id, message.id);
    } catch (caught) {
      fail(caught);
    }
  }

  const typists = useMemo(() => {
    if (!current) return [];
    const names = new Map(current.participants.map((u) => [u.uuid, u.username]));
    return Object.keys(state.typing[current.id] ?? {}).map((uuid) => names.get(uuid) ?? "Someone");
  }, [current, state.typing]);

  return {
    me,
    connection,
    error: state.error,
    dismissError: () => dispatch({ type: "error", error: null }),
    conversations: state.conversations,
    presence: state.presence,
    selected,
    select: (conversation: string | null) => dispatch({ type: "select", conversation }),
    current,
    messages: list,
    hasMore: current ? (state.hasMore[current.id] ?? false) : false,
    typists,
    /** Pages in the history before the oldest stored message shown. */
    loadOlder: () => (current ? loadHistory(current.id, list.find((m) => !m.pending)?.id) : Promise.resolve()),
    send,
    retry: (message: Shown) => deliver({ ...message, pending: "sending" }),
    edit,
    remove,
    typing: (started: boolean) => {
      if (current) socket.current?.send(started ? "typing.start" : "typing.stop", { conversation_id: current.id });
    },
    refreshList,
  };
}
