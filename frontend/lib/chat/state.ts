// The chat page's state as a pure reducer: WebSocket frames, REST results and the user's own
// sends in, the next state out. No React, no fetch, no timers: lib/chat/useChat.ts runs those
// and dispatches what they bring (the current time included, as `now`).

import type { ConversationView, CurrentUser, MessagePage, MessageView, Reaction, ReactionChange } from "@/lib/api/types";
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
  /** Per conversation: whether older history is left to page in (absent: history not loaded,
   * though live messages may already be kept in `messages`). */
  hasMore: Record<string, boolean>;
  /** The open conversation's read position when it was opened, if it had unread messages
   * then (null: it had none; undefined: the conversation is not known yet). Places the "New
   * messages" separator until another conversation is opened. */
  unreadAfter: number | null | undefined;
  /** The message the next send answers. */
  replyTo: Shown | null;
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
  /** A page of history. The newest page (the default) and `older` pages tell whether older
   * messages exist; an `around` page only when it reaches further back than what is loaded;
   * a `newer` page (filling a gap) never. */
  | { type: "history"; conversation: string; page: MessagePage; kind?: "older" | "around" | "newer" }
  /** An optimistic copy, `pending: "sending"`, appended until its answer replaces it. */
  | { type: "sendStarted"; message: Shown }
  /** A message the server answered with (an edit, a reaction, a pin). */
  | { type: "stored"; message: MessageView }
  /** The stored copy of my send (its ack): also the conversation's newest message. The server
   * does not echo `message.created` to the socket that sent it. */
  | { type: "sent"; message: MessageView }
  | { type: "sendFailed"; conversation: string; nonce: string }
  | { type: "typingExpired"; now: number }
  | { type: "replyTo"; message: Shown | null }
  | { type: "error"; error: string | null };

export const initialChat: ChatState = {
  me: null,
  conversations: null,
  selected: null,
  messages: {},
  hasMore: {},
  unreadAfter: undefined,
  replyTo: null,
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
      return opened({ ...state, conversations: action.conversations });
    case "select":
      return action.conversation === state.selected
        ? state
        : opened({ ...state, selected: action.conversation, unreadAfter: undefined, replyTo: null });
    case "replyTo":
      return { ...state, replyTo: action.message };
    case "history": {
      const { conversation, page, kind } = action;
      const before = state.messages[conversation] ?? [];
      const oldest = before.find((m) => !m.pending)?.seq ?? Infinity;
      const known = new Map(before.map((m) => [m.id, m]));
      page.messages.forEach((m) => known.set(m.id, newer(known.get(m.id), m)));
      const reachesBack = page.messages.some((m) => m.seq < oldest);
      const kept = state.hasMore[conversation];
      const hasMore = kind === "newer" ? (kept ?? false) : kind === "around" && !reachesBack && kept !== undefined ? kept : page.has_more;
      return {
        ...state,
        messages: { ...state.messages, [conversation]: ordered([...known.values()]) },
        hasMore: { ...state.hasMore, [conversation]: hasMore },
      };
    }
    case "sendStarted": {
      const { conversation_id: id } = action.message;
      return { ...state, messages: { ...state.messages, [id]: [...(state.messages[id] ?? []), action.message] } };
    }
    case "stored": {
      const messages = upsert(state.messages, action.message);
      return messages === state.messages ? state : { ...state, messages };
    }
    case "sent": {
      const { message } = action;
      const conversations = state.conversations && bump(state.conversations, message.conversation_id, (c) => newest(c, message), true);
      return { ...state, messages: upsert(state.messages, message), conversations };
    }
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
      return opened({
        ...state,
        conversations: frame.data.conversations,
        presence: Object.fromEntries(frame.data.presence.map((p) => [p.user_uuid, p])),
      });
    case "message.created":
    case "message.updated":
    case "message.deleted": {
      const message = frame.data;
      const created = frame.type === "message.created";
      // A message that arrives twice (replay and live) counts once.
      const known = (state.messages[message.conversation_id] ?? []).some((m) => m.id === message.id);
      const fromOthers = created && !known && message.sender_uuid !== state.me?.uuid;
      const mentionsMe = fromOthers && (message.mentions_everyone || (state.me !== null && (message.mentions ?? []).includes(state.me.uuid)));
      const conversations =
        state.conversations &&
        bump(
          state.conversations,
          message.conversation_id,
          (c) => ({
            ...newest(c, message),
            unread_count: fromOthers ? c.unread_count + 1 : c.unread_count,
            mention_count: mentionsMe ? (c.mention_count ?? 0) + 1 : (c.mention_count ?? 0),
          }),
          created,
        );
      return { ...state, messages: upsert(state.messages, message), conversations };
    }
    case "message.pinned":
    case "message.unpinned": {
      const messages = upsert(state.messages, frame.data);
      return messages === state.messages ? state : { ...state, messages };
    }
    case "reaction.added":
    case "reaction.removed": {
      const change = frame.data;
      const list = state.messages[change.conversation_id];
      const target = list?.find((m) => m.id === change.message_id);
      if (!list || !target || (target.version ?? 0) >= change.version) return state;
      const changed: Shown = { ...target, reactions: reacted(target.reactions ?? [], change, frame.type === "reaction.added"), version: change.version };
      return { ...state, messages: { ...state.messages, [change.conversation_id]: list.map((m) => (m.id === target.id ? changed : m)) } };
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
                ...(mine ? readUpTo(c, read.last_read_seq) : {}),
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

/** The conversation with `message` as its newest (if it is). */
function newest(c: ConversationView, message: MessageView): ConversationView {
  return {
    ...c,
    last_seq: Math.max(c.last_seq, message.seq),
    last_message:
      !c.last_message || message.seq >= c.last_message.seq
        ? { id: message.id, seq: message.seq, sender_uuid: message.sender_uuid, preview: message.text.slice(0, 100), created_at: message.created_at }
        : c.last_message,
  };
}

/** My read position moved: what is left unread (mentions among them: at most that many, none once all is read). */
function readUpTo(c: ConversationView, lastReadSeq: number): Partial<ConversationView> {
  const unread = Math.max(0, c.last_seq - lastReadSeq);
  return { last_read_seq: lastReadSeq, unread_count: unread, mention_count: Math.min(c.mention_count ?? 0, unread) };
}

/** Sets `unreadAfter` once the open conversation is known. */
function opened(state: ChatState): ChatState {
  if (state.unreadAfter !== undefined || !state.selected) return state;
  const conversation = state.conversations?.find((c) => c.id === state.selected);
  if (!conversation) return state;
  return { ...state, unreadAfter: conversation.unread_count > 0 ? conversation.last_read_seq : null };
}

/** The first message the "New messages" separator goes before: the first from others after
 * the read position the conversation had when opened (none: no separator). */
export function firstUnread(messages: Shown[], unreadAfter: number | null | undefined, me: string): string | null {
  if (unreadAfter === null || unreadAfter === undefined) return null;
  return messages.find((m) => !m.pending && m.seq > unreadAfter && m.sender_uuid !== me)?.id ?? null;
}

/** A message's reactions after a `reaction.added` / `reaction.removed`: the server's count is
 * authoritative; the user joins or leaves the emoji's list; an emoji nobody gives any more goes. */
export function reacted(reactions: Reaction[], change: ReactionChange, added: boolean): Reaction[] {
  if (change.count <= 0) return reactions.filter((r) => r.emoji !== change.emoji);
  const existing = reactions.find((r) => r.emoji === change.emoji);
  const users = existing?.user_uuids ?? [];
  const user_uuids = added ? (users.includes(change.user_uuid) ? users : [...users, change.user_uuid]) : users.filter((u) => u !== change.user_uuid);
  if (!existing) return [...reactions, { emoji: change.emoji, count: change.count, user_uuids }];
  return reactions.map((r) => (r === existing ? { ...r, count: change.count, user_uuids } : r));
}

/** Of two copies of a message, the later one (by `version`; on a tie, the one that came last). */
function newer(known: Shown | undefined, incoming: Shown): Shown {
  return known && !known.pending && (known.version ?? 0) > (incoming.version ?? 0) ? known : incoming;
}

/** Stored messages by `seq`, pending sends last. */
function ordered(messages: Shown[]): Shown[] {
  return messages.sort((a, b) => (a.pending ? 1 : 0) - (b.pending ? 1 : 0) || a.seq - b.seq);
}

/** Puts a stored message in place: replaces the copy with its id (unless that one is newer),
 * and the pending copy with its nonce. */
function upsert(all: Record<string, Shown[]>, message: Shown): Record<string, Shown[]> {
  const list = all[message.conversation_id] ?? [];
  const kept = newer(list.find((m) => m.id === message.id), message);
  if (kept !== message) return all;
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
