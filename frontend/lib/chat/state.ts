// The chat page's state as a pure reducer: WebSocket frames, REST results and the user's own
// sends in, the next state out. No React, no fetch, no timers: lib/chat/useChat.ts runs those
// and dispatches what they bring (the current time included, as `now`).

import type { ConversationView, CurrentUser, MessagePage, MessageView } from "@/lib/api/types";
import type { Presence, ServerFrame } from "@/lib/frames";

/** A message as shown: stored, or still on its way (optimistic, matched by nonce). */
export type Shown = MessageView & { pending?: "sending" | "failed" };

export type ChatState = {
  me: CurrentUser | null;
  /** Most recently active first; null until `ready` (or the first list fetch). */
  conversations: ConversationView[] | null;
  selected: string | null;
  /** Per conversation: stored messages by `seq`, then pending sends. Absent: history not loaded. */
  messages: Record<string, Shown[]>;
  /** Per conversation: whether older history is left to page in. */
  hasMore: Record<string, boolean>;
  /** Per user. */
  presence: Record<string, Presence>;
  /** Per conversation, per user typing: until when (ms since the epoch). */
  typing: Record<string, Record<string, number>>;
  error: string | null;
  /** Counts the times the conversation list went stale (conversation.* frames): each bump asks
   * for one fetch of the list. */
  listStale: number;
};

export type ChatAction =
  | { type: "signedIn"; me: CurrentUser }
  | { type: "frame"; frame: ServerFrame; now: number }
  | { type: "conversations"; conversations: ConversationView[] }
  | { type: "select"; conversation: string | null }
  | { type: "history"; conversation: string; page: MessagePage }
  /** An optimistic copy, `pending: "sending"`, appended until its answer replaces it. */
  | { type: "sendStarted"; message: Shown }
  /** A message the server answered with (a send's ack, an edit). */
  | { type: "stored"; message: MessageView }
  | { type: "sendFailed"; conversation: string; nonce: string }
  | { type: "typingExpired"; now: number }
  | { type: "error"; error: string | null };

export const initialChat: ChatState = {
  me: null,
  conversations: null,
  selected: null,
  messages: {},
  hasMore: {},
  presence: {},
  typing: {},
  error: null,
  listStale: 0,
};

/** How long a `typing.started` without `expires_in_ms` is shown. */
export const TYPING_DEFAULT_MS = 5000;

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case "signedIn":
      return { ...state, me: action.me };
    case "frame":
      return onFrame(state, action.frame, action.now);
    case "conversations":
      return { ...state, conversations: action.conversations };
    case "select":
      return { ...state, selected: action.conversation };
    case "history": {
      const { conversation, page } = action;
      const known = new Map((state.messages[conversation] ?? []).map((m) => [m.id, m]));
      page.messages.forEach((m) => known.set(m.id, m));
      return {
        ...state,
        messages: { ...state.messages, [conversation]: ordered([...known.values()]) },
        hasMore: { ...state.hasMore, [conversation]: page.has_more },
      };
    }
    case "sendStarted": {
      const { conversation_id: id } = action.message;
      return { ...state, messages: { ...state.messages, [id]: [...(state.messages[id] ?? []), action.message] } };
    }
    case "stored":
      return { ...state, messages: upsert(state.messages, action.message) };
    case "sendFailed": {
      const list = (state.messages[action.conversation] ?? []).map((m): Shown => (m.nonce === action.nonce ? { ...m, pending: "failed" } : m));
      return { ...state, messages: { ...state.messages, [action.conversation]: list } };
    }
    case "typingExpired": {
      let changed = false;
      const typing: ChatState["typing"] = {};
      for (const [conversation, users] of Object.entries(state.typing)) {
        typing[conversation] = Object.fromEntries(Object.entries(users).filter(([, until]) => until > action.now || !(changed = true)));
      }
      return changed ? { ...state, typing } : state;
    }
    case "error":
      return { ...state, error: action.error };
  }
}

function onFrame(state: ChatState, frame: ServerFrame, now: number): ChatState {
  switch (frame.type) {
    case "ready":
      return {
        ...state,
        conversations: frame.data.conversations,
        presence: Object.fromEntries(frame.data.presence.map((p) => [p.user_uuid, p])),
      };
    case "message.created":
    case "message.updated":
    case "message.deleted": {
      const message = frame.data;
      const created = frame.type === "message.created";
      const conversations =
        state.conversations &&
        bump(
          state.conversations,
          message.conversation_id,
          (c) => ({
            ...c,
            last_seq: Math.max(c.last_seq, message.seq),
            last_message:
              !c.last_message || message.seq >= c.last_message.seq
                ? { id: message.id, seq: message.seq, sender_uuid: message.sender_uuid, preview: message.text.slice(0, 100), created_at: message.created_at }
                : c.last_message,
            unread_count: created && message.sender_uuid !== state.me?.uuid ? c.unread_count + 1 : c.unread_count,
          }),
          created,
        );
      return { ...state, messages: upsert(state.messages, message), conversations };
    }
    case "conversation.created":
    case "conversation.updated":
    case "conversation.members_added":
    case "conversation.member_removed":
    case "conversation.deleted":
      return { ...state, listStale: state.listStale + 1 };
    case "read.updated": {
      const { conversation_id, read } = frame.data;
      const mine = read.user_uuid === state.me?.uuid;
      const conversations =
        state.conversations &&
        state.conversations.map((c) =>
          c.id !== conversation_id
            ? c
            : {
                ...c,
                read_states: [...c.read_states.filter((r) => r.user_uuid !== read.user_uuid), read],
                ...(mine ? { last_read_seq: read.last_read_seq, unread_count: Math.max(0, c.last_seq - read.last_read_seq) } : {}),
              },
        );
      return { ...state, conversations };
    }
    case "presence.updated":
      return { ...state, presence: { ...state.presence, [frame.data.user_uuid]: frame.data } };
    case "typing.started":
    case "typing.stopped": {
      const { conversation_id, user_uuid, expires_in_ms } = frame.data;
      const users = { ...(state.typing[conversation_id] ?? {}) };
      if (frame.type === "typing.started") users[user_uuid] = now + (expires_in_ms ?? TYPING_DEFAULT_MS);
      else delete users[user_uuid];
      return { ...state, typing: { ...state.typing, [conversation_id]: users } };
    }
    default:
      return state;
  }
}

/** Stored messages by `seq`, pending sends last. */
function ordered(messages: Shown[]): Shown[] {
  return messages.sort((a, b) => (a.pending ? 1 : 0) - (b.pending ? 1 : 0) || a.seq - b.seq);
}

/** Puts a stored message in place: replaces the copy with its id, and the pending copy with its nonce. */
function upsert(all: Record<string, Shown[]>, message: Shown): Record<string, Shown[]> {
  const list = all[message.conversation_id] ?? [];
  const without = list.filter((m) => m.id !== message.id && !(message.nonce && m.nonce === message.nonce && m.pending));
  return { ...all, [message.conversation_id]: ordered([...without, message]) };
}

/** Changes one conversation of the list, moving it to the top if `toTop`. */
function bump(list: ConversationView[], id: string, change: (c: ConversationView) => ConversationView, toTop: boolean): ConversationView[] {
  const found = list.find((c) => c.id === id);
  if (!found) return list;
  const changed = change(found);
  return toTop ? [changed, ...list.filter((c) => c.id !== id)] : list.map((c) => (c.id === id ? changed : c));
}
