// The chat page's engine: owns the socket, the reducer state (lib/chat/state.ts) and the
// effects around them: session check, history loading, mark-read, typing expiry, list
// refreshes, sends with a nonce (socket `message.send`, REST when offline) with their reply
// and mentions, retry, edit, delete, reactions, pins, and finding an older message to jump to.

import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from "react";

import { describe } from "@/lib/api/client";
import * as messages from "@/lib/api/messages";
import type { AttachmentView, MessagePage, MessageView } from "@/lib/api/types";
import * as users from "@/lib/api/users";
import type { ServerFrame } from "@/lib/frames";
import { queries } from "@/lib/queries";
import { ChatSocket, type ConnectionState } from "@/lib/socket";

import { chatReducer, firstUnread, initialChat, type Shown } from "./state";

const NONE: Shown[] = [];

/** What a send mentions (lib/chat/mentions.ts). */
export type Mentions = { mentions: string[]; mention_everyone: boolean };

function nonce(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

export function useChat() {
  const [state, dispatch] = useReducer(chatReducer, initialChat);
  const [connection, setConnection] = useState<ConnectionState>("connecting");
  const socket = useRef<ChatSocket | null>(null);
  const queryClient = useQueryClient();
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
        off = chat.on((frame) => {
          dispatch({ type: "frame", frame, now: Date.now() });
          if (changesPins(frame)) void queryClient.invalidateQueries({ queryKey: queries.pins(frame.data.conversation_id).queryKey });
        });
      })
      .catch(fail);
    return () => {
      cancelled = true;
      off();
      offState();
      chat?.close();
    };
  }, [fail, queryClient]);

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

  /** Loads a page of history (the newest, `before`, `around` or `after` a message) and merges it. */
  const loadHistory = useCallback(
    async (conversation: string, at: { before?: string; around?: string; after?: string } = {}): Promise<MessagePage> => {
      const page = await messages.history(conversation, at);
      socket.current?.noteHistory(conversation, page.messages);
      const kind = at.around ? "around" : at.after ? "newer" : undefined;
      dispatch({ type: "history", conversation, page, kind });
      return page;
    },
    [],
  );

  // Load history when a conversation opens (live messages may be kept already; the page merges).
  const { me, selected } = state;
  const loaded = selected ? state.hasMore[selected] !== undefined : true;
  const loading = useRef<string | null>(null);
  useEffect(() => {
    if (!selected || loaded || loading.current === selected) return;
    loading.current = selected;
    loadHistory(selected)
      .catch(fail)
      .finally(() => (loading.current = null));
  }, [selected, loaded, loadHistory, fail]);

  const current = state.conversations?.find((c) => c.id === selected) ?? null;
  const list = state.messages[selected ?? ""] ?? NONE;
  const latest = useRef({ list, hasMore: false });
  latest.current = { list, hasMore: current ? (state.hasMore[current.id] ?? false) : false };

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
      const body = {
        text: message.text,
        nonce: message.nonce,
        ...(message.attachments.length > 0 ? { attachment_ids: message.attachments.map((file) => file.id) } : {}),
        ...(message.reply_to ? { reply_to: message.reply_to } : {}),
        ...(message.mentions.length > 0 ? { mentions: message.mentions } : {}),
        ...(message.mentions_everyone ? { mention_everyone: true } : {}),
      };
      if (chat?.state === "online") {
        const answer = await chat.request("message.send", { conversation_id: message.conversation_id, ...body });
        if (answer.type === "message.ack") stored = answer.data.message;
        else if (answer.type !== "error") dispatch({ type: "error", error: "Not sent." });
        else if (answer.data.error.code !== "offline") dispatch({ type: "error", error: answer.data.error.message ?? "Not sent." });
      } else {
        stored = await messages.send(message.conversation_id, body);
      }
    } catch (caught) {
      if (!(caught instanceof Error && caught.message === "offline")) fail(caught);
    }
    if (stored) dispatch({ type: "sent", message: stored });
    else if (message.nonce) dispatch({ type: "sendFailed", conversation: message.conversation_id, nonce: message.nonce });
  }

  async function send(text: string, mentioned: Mentions = { mentions: [], mention_everyone: false }, attachments: AttachmentView[] = []) {
    if (!current || !me) return;
    const answering = state.replyTo?.conversation_id === current.id ? state.replyTo : null;
    const message: Shown = {
      id: `pending-${nonce()}`,
      conversation_id: current.id,
      seq: Number.MAX_SAFE_INTEGER,
      sender_uuid: me.uuid,
      text,
      reply_to: answering?.id ?? null,
      reply: answering && { id: answering.id, sender_uuid: answering.sender_uuid, preview: answering.text.slice(0, 100), deleted: answering.deleted_at !== null },
      nonce: nonce(),
      mentions: mentioned.mentions,
      mentions_everyone: mentioned.mention_everyone,
      reactions: [],
      pinned_at: null,
      pinned_by: null,
      link_preview: null,
      attachments,
      version: 0,
      created_at: new Date().toISOString(),
      edited_at: null,
      deleted_at: null,
      pending: "sending",
    };
    dispatch({ type: "sendStarted", message });
    if (answering) dispatch({ type: "replyTo", message: null });
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

  /** Gives my reaction with `emoji`, or takes it back if I gave it; the frames tell the others. */
  async function react(message: MessageView, emoji: string) {
    if (!me) return;
    const mine = message.reactions.some((r) => r.emoji === emoji && r.user_uuids.includes(me.uuid));
    try {
      dispatch({ type: "stored", message: await messages.react(message.conversation_id, message.id, emoji, !mine) });
    } catch (caught) {
      fail(caught);
    }
  }

  async function pin(message: MessageView, on: boolean) {
    try {
      dispatch({ type: "stored", message: await messages.pin(message.conversation_id, message.id, on) });
      void queryClient.invalidateQueries({ queryKey: queries.pins(message.conversation_id).queryKey });
    } catch (caught) {
      fail(caught);
    }
  }

  /** Makes sure a message of the open conversation is loaded (with the page around it, when
   * it is not: the history shown then has a gap, which MessagePane offers to fill); whether
   * it is there now. */
  async function reveal(id: string): Promise<boolean> {
    if (!current) return false;
    if (latest.current.list.some((m) => m.id === id)) return true;
    try {
      // The newest page first, so the conversation counts as loaded and its end is known.
      if (state.hasMore[current.id] === undefined) await loadHistory(current.id);
      const page = await loadHistory(current.id, { around: id });
      return page.messages.some((m) => m.id === id);
    } catch (caught) {
      fail(caught);
      return false;
    }
  }

  /** Loads the messages right after `id` (a gap in the history shown). */
  async function fillGap(id: string) {
    if (!current) return;
    try {
      await loadHistory(current.id, { after: id });
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
    /** Whether the open conversation's history is in (not only live messages). */
    loaded,
    hasMore: latest.current.hasMore,
    /** Where the "New messages" separator goes: before this message. */
    firstUnread: me ? firstUnread(list, state.unreadAfter, me.uuid) : null,
    typists,
    /** Pages in the history before the oldest stored message shown. */
    loadOlder: async () => {
      if (current) await loadHistory(current.id, { before: list.find((m) => !m.pending)?.id });
    },
    send,
    retry: (message: Shown) => deliver({ ...message, pending: "sending" }),
    edit,
    remove,
    react,
    pin,
    reveal,
    fillGap,
    replyTo: state.replyTo?.conversation_id === selected ? state.replyTo : null,
    setReplyTo: (message: Shown | null) => dispatch({ type: "replyTo", message }),
    typing: (started: boolean) => {
      if (current) socket.current?.send(started ? "typing.start" : "typing.stop", { conversation_id: current.id });
    },
    refreshList,
  };
}

/** Whether a frame may change the pinned messages of its conversation. */
function changesPins(frame: ServerFrame): frame is Extract<ServerFrame, { data: MessageView }> {
  if (frame.type === "message.pinned" || frame.type === "message.unpinned") return true;
  return (frame.type === "message.updated" || frame.type === "message.deleted") && frame.data.pinned_at !== null;
}
