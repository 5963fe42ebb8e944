// Unit tests of the chat reducer (lib/chat/state.ts): frames, REST results and sends in,
// state out.

import { describe, expect, it } from "vitest";

import type { ConversationView, CurrentUser, MessageView, ReactionChange } from "@/lib/api/types";
import type { ServerFrame, ServerFrameOf } from "@/lib/frames";

import { chatReducer, firstUnread, initialChat, reacted, TYPING_DEFAULT_MS, type ChatAction, type ChatState, type Shown } from "./state";

const ME = "00000000-0000-0000-0000-00000000000a";
const BOB = "00000000-0000-0000-0000-00000000000b";
const NOW = 1_700_000_000_000;

const me: CurrentUser = {
  uuid: ME,
  username: "ann",
  email: "ann@example.com",
  bio: null,
  profile_picture: null,
  created_at: "2024-01-01T00:00:00Z",
  updated_at: "2024-01-01T00:00:00Z",
};

function message(seq: number, overrides: Partial<MessageView> = {}): MessageView {
  return {
    id: `m${seq}`,
    conversation_id: "c1",
    seq,
    sender_uuid: BOB,
    text: `message ${seq}`,
    reply_to: null,
    reply: null,
    nonce: null,
    mentions: [],
    mentions_everyone: false,
    reactions: [],
    pinned_at: null,
    pinned_by: null,
    link_preview: null,
    attachments: [],
    version: seq,
    created_at: `2024-01-01T00:00:${String(seq).padStart(2, "0")}Z`,
    edited_at: null,
    deleted_at: null,
    ...overrides,
  };
}

function pending(nonce: string, text = "on its way"): Shown {
  return { ...message(Number.MAX_SAFE_INTEGER, { id: `pending-${nonce}`, sender_uuid: ME, text, nonce }), pending: "sending" };
}

function conversation(id: string, overrides: Partial<ConversationView> = {}): ConversationView {
  return {
    id,
    is_group: false,
    participant_uuids: [ME, BOB],
    admin: null,
    name: null,
    description: null,
    picture: null,
    last_message: null,
    last_seq: 0,
    version: 0,
    can_send: true,
    created_at: "2024-01-01T00:00:00Z",
    updated_at: "2024-01-01T00:00:00Z",
    participants: [],
    unread_count: 0,
    mention_count: 0,
    last_read_seq: 0,
    read_states: [],
    ...overrides,
  };
}

const frame = (f: ServerFrame, now = NOW): ChatAction => ({ type: "frame", frame: f, now });
const run = (state: ChatState, ...actions: ChatAction[]) => actions.reduce(chatReducer, state);

/** Signed in as ann, with conversations c1, c2, c3 (in that order). */
function ready(): ChatState {
  return run(
    initialChat,
    { type: "signedIn", me },
    frame({
      type: "ready",
      data: {
        user: me,
        session_id: "s1",
        conversations: [conversation("c1"), conversation("c2"), conversation("c3")],
        next_cursor: null,
        presence: [{ user_uuid: BOB, online: true, last_seen: null }],
      },
    }),
  );
}

const ids = (state: ChatState, conversationId = "c1") => (state.messages[conversationId] ?? []).map((m) => m.id);

describe("ready", () => {
  it("sets the conversations and the presence by user", () => {
    const state = ready();
    expect(state.me).toEqual(me);
    expect(state.conversations?.map((c) => c.id)).toEqual(["c1", "c2", "c3"]);
    expect(state.presence).toEqual({ [BOB]: { user_uuid: BOB, online: true, last_seen: null } });
  });

  it("replaces the presence of an earlier ready", () => {
    const state = run(ready(), frame({ type: "ready", data: { user: me, session_id: "s2", conversations: [], next_cursor: null, presence: [] } }));
    expect(state.presence).toEqual({});
    expect(state.conversations).toEqual([]);
  });
});

describe("sending", () => {
  it("appends the optimistic copy, then the ack replaces it", () => {
    const sent = run(ready(), { type: "history", conversation: "c1", page: { messages: [message(1)], has_more: false } }, { type: "sendStarted", message: pending("n1", "hi") });
    expect(ids(sent)).toEqual(["m1", "pending-n1"]);
    expect(sent.messages.c1[1].pending).toBe("sending");

    const acked = chatReducer(sent, { type: "stored", message: message(2, { sender_uuid: ME, text: "hi", nonce: "n1" }) });
    expect(ids(acked)).toEqual(["m1", "m2"]);
    expect(acked.messages.c1[1].pending).toBeUndefined();
  });

  it("the ack of my send moves its conversation to the top with the preview, not as unread", () => {
    const state = run(
      ready(),
      { type: "sendStarted", message: { ...pending("n1", "hi"), conversation_id: "c3" } },
      { type: "sent", message: message(1, { conversation_id: "c3", sender_uuid: ME, text: "hi", nonce: "n1" }) },
    );
    expect(state.conversations!.map((c) => c.id)).toEqual(["c3", "c1", "c2"]);
    expect(state.conversations![0]).toMatchObject({ last_seq: 1, unread_count: 0, last_message: { id: "m1", preview: "hi" } });
    expect(ids(state, "c3")).toEqual(["m1"]);
  });

  it("takes the echoed message.created as the stored copy, and the later ack does not double it", () => {
    const stored = message(2, { sender_uuid: ME, nonce: "n1" });
    const state = run(ready(), { type: "sendStarted", message: pending("n1") }, frame({ type: "message.created", data: stored }), { type: "stored", message: stored });
    expect(ids(state)).toEqual(["m2"]);
  });

  it("keeps other pending sends last while stored messages arrive", () => {
    const state = run(ready(), { type: "sendStarted", message: pending("n1") }, { type: "sendStarted", message: pending("n2") }, frame({ type: "message.created", data: message(1) }));
    expect(ids(state)).toEqual(["m1", "pending-n1", "pending-n2"]);
  });

  it("orders pending sends after stored ones by the pending flag, not only by their seq", () => {
    const early: Shown = { ...pending("n1"), seq: 0 };
    const state = run(ready(), { type: "sendStarted", message: early }, frame({ type: "message.created", data: message(2) }), frame({ type: "message.created", data: message(1) }));
    expect(ids(state)).toEqual(["m1", "m2", "pending-n1"]);
  });

  it("marks a failed send by its nonce, and a retry's answer replaces it", () => {
    const failed = run(ready(), { type: "sendStarted", message: pending("n1") }, { type: "sendStarted", message: pending("n2") }, { type: "sendFailed", conversation: "c1", nonce: "n1" });
    expect(failed.messages.c1.map((m) => m.pending)).toEqual(["failed", "sending"]);

    const retried = chatReducer(failed, { type: "stored", message: message(1, { sender_uuid: ME, nonce: "n1" }) });
    expect(ids(retried)).toEqual(["m1", "pending-n2"]);
  });

  it("replaces a stored message with its edited version in place", () => {
    const state = run(
      ready(),
      { type: "history", conversation: "c1", page: { messages: [message(2), message(1)], has_more: false } },
      { type: "stored", message: message(1, { text: "changed", edited_at: "2024-01-02T00:00:00Z" }) },
    );
    expect(ids(state)).toEqual(["m1", "m2"]);
    expect(state.messages.c1[0].text).toBe("changed");
  });
});

describe("message frames", () => {
  it("do not double a message that arrives twice (replay and live)", () => {
    const state = run(ready(), frame({ type: "message.created", data: message(1) }), frame({ type: "message.created", data: message(1) }));
    expect(ids(state)).toEqual(["m1"]);
  });

  it("count a message that arrives twice once as unread and as a mention", () => {
    const twice = message(1, { mentions: [ME] });
    const state = run(ready(), frame({ type: "message.created", data: twice }), frame({ type: "message.created", data: twice }));
    expect(state.conversations![0]).toMatchObject({ id: "c1", unread_count: 1, mention_count: 1 });
  });

  it("place messages by seq whatever the arrival order", () => {
    const state = run(ready(), ...[3, 1, 2].map((seq) => frame({ type: "message.created", data: message(seq) })));
    expect(ids(state)).toEqual(["m1", "m2", "m3"]);
  });

  it("message.created moves the conversation to the top with a preview and counts others' messages as unread", () => {
    const long = "x".repeat(150);
    const state = run(ready(), frame({ type: "message.created", data: message(1, { conversation_id: "c3", text: long }) }));
    const top = state.conversations![0];
    expect(state.conversations!.map((c) => c.id)).toEqual(["c3", "c1", "c2"]);
    expect(top.last_seq).toBe(1);
    expect(top.unread_count).toBe(1);
    expect(top.last_message).toEqual({ id: "m1", seq: 1, sender_uuid: BOB, preview: "x".repeat(100), created_at: message(1).created_at });
  });

  it("my own messages are not unread", () => {
    const state = run(ready(), frame({ type: "message.created", data: message(1, { conversation_id: "c2", sender_uuid: ME }) }));
    expect(state.conversations![0]).toMatchObject({ id: "c2", unread_count: 0, last_seq: 1 });
  });

  it("message.updated and message.deleted change the message and the preview without moving or counting", () => {
    const created = run(ready(), frame({ type: "message.created", data: message(1, { conversation_id: "c2" }) }));
    const c2 = (state: ChatState) => state.conversations!.find((c) => c.id === "c2")!;
    const moved = run(created, frame({ type: "message.created", data: message(1, { id: "other", conversation_id: "c1" }) }));
    expect(moved.conversations!.map((c) => c.id)).toEqual(["c1", "c2", "c3"]);

    const updated = chatReducer(moved, frame({ type: "message.updated", data: message(1, { conversation_id: "c2", text: "edited", edited_at: "2024-01-02T00:00:00Z" }) }));
    expect(updated.conversations!.map((c) => c.id)).toEqual(["c1", "c2", "c3"]);
    expect(c2(updated).unread_count).toBe(1);
    expect(c2(updated).last_message?.preview).toBe("edited");
    expect(updated.messages.c2[0].text).toBe("edited");

    const deleted = chatReducer(updated, frame({ type: "message.deleted", data: message(1, { conversation_id: "c2", text: "", deleted_at: "2024-01-03T00:00:00Z" }) }));
    expect(c2(deleted).last_message?.preview).toBe("");
    expect(deleted.messages.c2[0].deleted_at).not.toBeNull();
  });

  it("an edit of an older message leaves the newer preview alone", () => {
    const state = run(
      ready(),
      frame({ type: "message.created", data: message(1) }),
      frame({ type: "message.created", data: message(2, { text: "newest" }) }),
      frame({ type: "message.updated", data: message(1, { text: "old, edited" }) }),
    );
    expect(state.conversations![0]).toMatchObject({ last_seq: 2, last_message: { id: "m2", preview: "newest" } });
  });

  it("a message of a conversation not in the list is kept, and the list stays as it is", () => {
    const before = ready();
    const state = chatReducer(before, frame({ type: "message.created", data: message(1, { conversation_id: "elsewhere" }) }));
    expect(ids(state, "elsewhere")).toEqual(["m1"]);
    expect(state.conversations).toBe(before.conversations);
  });

  it("before the list is known, messages are kept and the list stays unknown", () => {
    const state = chatReducer(initialChat, frame({ type: "message.created", data: message(1) }));
    expect(state.conversations).toBeNull();
    expect(ids(state)).toEqual(["m1"]);
  });
});

describe("history", () => {
  it("merges a page by id, stored messages by seq and pending sends last, and records has_more", () => {
    const state = run(
      ready(),
      { type: "sendStarted", message: pending("n1") },
      frame({ type: "message.created", data: message(5) }),
      { type: "history", conversation: "c1", page: { messages: [message(5), message(4), message(3)], has_more: true } },
    );
    expect(ids(state)).toEqual(["m3", "m4", "m5", "pending-n1"]);
    expect(state.hasMore.c1).toBe(true);

    const older = chatReducer(state, { type: "history", conversation: "c1", page: { messages: [message(2), message(1)], has_more: false } });
    expect(ids(older)).toEqual(["m1", "m2", "m3", "m4", "m5", "pending-n1"]);
    expect(older.hasMore.c1).toBe(false);
  });

  it("a page around an older message keeps what older means; a page filling a gap never changes it", () => {
    const latest = run(ready(), { type: "history", conversation: "c1", page: { messages: [message(90), message(89)], has_more: true } });
    // Around m10: reaches further back, so its has_more (older than m9 exist) is the one that counts.
    const around = chatReducer(latest, {
      type: "history",
      conversation: "c1",
      page: { messages: [message(9), message(10), message(11)], has_more: true },
      kind: "around",
    });
    expect(ids(around)).toEqual(["m9", "m10", "m11", "m89", "m90"]);
    expect(around.hasMore.c1).toBe(true);
    // Around a message already inside the loaded range: what is older stays as it was.
    const inside = chatReducer(
      run(ready(), { type: "history", conversation: "c1", page: { messages: [message(3), message(1)], has_more: false } }),
      { type: "history", conversation: "c1", page: { messages: [message(2)], has_more: true }, kind: "around" },
    );
    expect(inside.hasMore.c1).toBe(false);
    // Filling the gap after m11: its has_more is about newer messages, not older ones.
    const filled = chatReducer(around, { type: "history", conversation: "c1", page: { messages: [message(12), message(13)], has_more: true }, kind: "newer" });
    expect(ids(filled)).toEqual(["m9", "m10", "m11", "m12", "m13", "m89", "m90"]);
    expect(filled.hasMore.c1).toBe(true);
    const start = chatReducer(
      run(ready(), { type: "history", conversation: "c1", page: { messages: [message(1)], has_more: false } }),
      { type: "history", conversation: "c1", page: { messages: [message(2)], has_more: true }, kind: "newer" },
    );
    expect(start.hasMore.c1).toBe(false);
  });

  it("an empty page still marks the history as loaded", () => {
    const state = chatReducer(ready(), { type: "history", conversation: "c2", page: { messages: [], has_more: false } });
    expect(state.messages.c2).toEqual([]);
    expect(state.hasMore.c2).toBe(false);
  });
});

describe("read.updated", () => {
  const read = (user_uuid: string, last_read_seq: number): ServerFrameOf<"read.updated"> => ({
    type: "read.updated",
    data: { conversation_id: "c1", read: { user_uuid, last_read_message_id: `m${last_read_seq}`, last_read_seq, updated_at: "2024-01-01T00:01:00Z" } },
  });
  const withNews = () => run(ready(), ...[1, 2, 3].map((seq) => frame({ type: "message.created", data: message(seq) })));

  it("of me moves my read position and recomputes the unread count", () => {
    const before = withNews();
    expect(before.conversations![0]).toMatchObject({ id: "c1", unread_count: 3, last_seq: 3 });
    const state = chatReducer(before, frame(read(ME, 2)));
    expect(state.conversations![0]).toMatchObject({ last_read_seq: 2, unread_count: 1 });
    expect(state.conversations![0].read_states).toEqual([read(ME, 2).data.read]);
    expect(chatReducer(state, frame(read(ME, 9))).conversations![0].unread_count).toBe(0);
  });

  it("of the other member replaces their read state only", () => {
    const state = run(withNews(), frame(read(BOB, 1)), frame(read(BOB, 3)));
    const c1 = state.conversations![0];
    expect(c1.read_states.map((r) => [r.user_uuid, r.last_read_seq])).toEqual([[BOB, 3]]);
    expect(c1).toMatchObject({ last_read_seq: 0, unread_count: 3 });
  });
});

describe("typing", () => {
  const typing = (type: "typing.started" | "typing.stopped", expires_in_ms?: number): ServerFrame => ({
    type,
    data: { conversation_id: "c1", user_uuid: BOB, ...(expires_in_ms === undefined ? {} : { expires_in_ms }) },
  });

  it("typing.started shows until now + expires_in_ms (5 s without it); typing.stopped hides", () => {
    expect(chatReducer(ready(), frame(typing("typing.started", 3000))).typing).toEqual({ c1: { [BOB]: NOW + 3000 } });
    const started = chatReducer(ready(), frame(typing("typing.started")));
    expect(started.typing.c1[BOB]).toBe(NOW + TYPING_DEFAULT_MS);
    expect(chatReducer(started, frame(typing("typing.stopped"))).typing).toEqual({ c1: {} });
  });

  it("a renewal moves the expiry", () => {
    const state = run(ready(), frame(typing("typing.started", 5000)), frame(typing("typing.started", 5000), NOW + 3000));
    expect(state.typing.c1[BOB]).toBe(NOW + 8000);
  });

  it("typingExpired drops what was not renewed, and changes nothing (same state) before that", () => {
    const started = chatReducer(ready(), frame(typing("typing.started", 5000)));
    expect(chatReducer(started, { type: "typingExpired", now: NOW + 4999 })).toBe(started);
    expect(chatReducer(started, { type: "typingExpired", now: NOW + 5000 }).typing).toEqual({ c1: {} });
  });
});

describe("other frames", () => {
  it("conversation.* frames mark the list stale, each once; a fetched list replaces it", () => {
    const info = conversation("c9");
    const state = run(
      ready(),
      frame({ type: "conversation.created", data: info }),
      frame({ type: "conversation.updated", data: info }),
      frame({ type: "conversation.members_added", data: { conversation: info, user_uuids: [BOB], by: ME } }),
      frame({ type: "conversation.member_removed", data: { conversation: info, user_uuids: [BOB], by: ME } }),
      frame({ type: "conversation.deleted", data: { conversation_id: "c9" } }),
    );
    expect(state.listStale).toBe(5);
    expect(state.conversations?.map((c) => c.id)).toEqual(["c1", "c2", "c3"]);
    expect(chatReducer(state, { type: "conversations", conversations: [info] }).conversations).toEqual([info]);
  });

  it("presence.updated changes one user's presence", () => {
    const offline = { user_uuid: BOB, online: false, last_seen: "2024-01-01T00:05:00Z" };
    const carl = { user_uuid: "c", online: true, last_seen: null };
    const state = run(ready(), frame({ type: "presence.updated", data: offline }), frame({ type: "presence.updated", data: carl }));
    expect(state.presence).toEqual({ [BOB]: offline, c: carl });
  });

  it("frames the chat does not show leave the state as it is", () => {
    const before = ready();
    const frames: ServerFrame[] = [
      { type: "pong", data: { ref: "r1" } },
      { type: "ack", data: { ref: "r2" } },
      { type: "friend_request.received", data: { request_id: 1, sender_uuid: BOB, receiver_uuid: ME } },
      { type: "friendship.removed", data: { user_uuid: BOB, friend_uuid: ME } },
      { type: "session.revoked", data: {} },
      { type: "resume.done", data: { conversations: [{ conversation_id: "c1", last_seq: 3, truncated: false, version: 3, changes_truncated: false }] } },
    ];
    for (const f of frames) expect(chatReducer(before, frame(f))).toBe(before);
  });
});

describe("selection and errors", () => {
  it("select opens and closes a conversation; error sets and clears the message", () => {
    const opened = chatReducer(ready(), { type: "select", conversation: "c2" });
    expect(opened.selected).toBe("c2");
    expect(chatReducer(opened, { type: "select", conversation: null }).selected).toBeNull();
    const failed = chatReducer(opened, { type: "error", error: "Not sent." });
    expect(failed.error).toBe("Not sent.");
    expect(chatReducer(failed, { type: "error", error: null }).error).toBeNull();
  });
});

describe("reactions", () => {
  const change = (emoji: string, user_uuid: string, count: number, version: number): ReactionChange => ({
    conversation_id: "c1",
    message_id: "m1",
    emoji,
    user_uuid,
    count,
    version,
  });
  const loaded = () => chatReducer(ready(), { type: "history", conversation: "c1", page: { messages: [message(2), message(1)], has_more: false } });
  const reactionsOf = (state: ChatState) => state.messages.c1.find((m) => m.id === "m1")!.reactions;

  it("reaction.added adds the user to the emoji with the server's count, in the order first given", () => {
    const state = run(
      loaded(),
      frame({ type: "reaction.added", data: change("👍", BOB, 1, 5) }),
      frame({ type: "reaction.added", data: change("🎉", BOB, 1, 6) }),
      frame({ type: "reaction.added", data: change("👍", ME, 2, 7) }),
    );
    expect(reactionsOf(state)).toEqual([
      { emoji: "👍", count: 2, user_uuids: [BOB, ME] },
      { emoji: "🎉", count: 1, user_uuids: [BOB] },
    ]);
    expect(state.messages.c1[0].version).toBe(7);
  });

  it("reaction.removed takes the user out, and the emoji once its count is 0", () => {
    const state = run(
      loaded(),
      frame({ type: "reaction.added", data: change("👍", BOB, 1, 5) }),
      frame({ type: "reaction.added", data: change("👍", ME, 2, 6) }),
      frame({ type: "reaction.removed", data: change("👍", BOB, 1, 7) }),
    );
    expect(reactionsOf(state)).toEqual([{ emoji: "👍", count: 1, user_uuids: [ME] }]);
    expect(reactionsOf(chatReducer(state, frame({ type: "reaction.removed", data: change("👍", ME, 0, 8) })))).toEqual([]);
  });

  it("a change the message already reflects (same or older version: replay, or my own call's answer first) is skipped", () => {
    const answered = chatReducer(loaded(), { type: "stored", message: message(1, { reactions: [{ emoji: "👍", count: 1, user_uuids: [ME] }], version: 5 }) });
    expect(chatReducer(answered, frame({ type: "reaction.added", data: change("👍", ME, 1, 5) }))).toBe(answered);
    expect(chatReducer(answered, frame({ type: "reaction.removed", data: change("👍", ME, 0, 4) }))).toBe(answered);
  });

  it("a reaction to a message that is not loaded changes nothing", () => {
    const before = ready();
    expect(chatReducer(before, frame({ type: "reaction.added", data: change("👍", BOB, 1, 5) }))).toBe(before);
  });

  it("reacted: the count wins over the list, and a repeated add does not double the user", () => {
    const reactions = [{ emoji: "👍", count: 1, user_uuids: [BOB] }];
    expect(reacted(reactions, change("👍", BOB, 3, 9), true)).toEqual([{ emoji: "👍", count: 3, user_uuids: [BOB] }]);
  });
});

describe("pins and replayed changes", () => {
  const loaded = () => chatReducer(ready(), { type: "history", conversation: "c1", page: { messages: [message(2), message(1)], has_more: false } });

  it("message.pinned and message.unpinned replace the message with its pin", () => {
    const pinned = chatReducer(loaded(), frame({ type: "message.pinned", data: message(1, { pinned_at: "2024-01-02T00:00:00Z", pinned_by: BOB, version: 3 }) }));
    expect(pinned.messages.c1[0]).toMatchObject({ id: "m1", pinned_at: "2024-01-02T00:00:00Z", pinned_by: BOB });
    expect(pinned.conversations!.map((c) => c.id)).toEqual(["c1", "c2", "c3"]);
    const unpinned = chatReducer(pinned, frame({ type: "message.unpinned", data: message(1, { version: 4 }) }));
    expect(unpinned.messages.c1[0]).toMatchObject({ pinned_at: null, pinned_by: null });
  });

  it("a replayed message.updated (edit, deletion, reactions, preview) replaces the message in place", () => {
    const replayed = message(1, {
      text: "edited while away",
      edited_at: "2024-01-02T00:00:00Z",
      reactions: [{ emoji: "🔥", count: 1, user_uuids: [BOB] }],
      link_preview: { url: "https://example.com", title: "Example", description: null, image_url: null, site_name: null },
      version: 9,
    });
    const state = chatReducer(loaded(), frame({ type: "message.updated", data: replayed }));
    expect(ids(state)).toEqual(["m1", "m2"]);
    expect(state.messages.c1[0]).toEqual(replayed);
  });

  it("an older copy (a late REST answer, a history page) does not undo a newer one", () => {
    const edited = chatReducer(loaded(), frame({ type: "message.updated", data: message(1, { text: "newer", version: 9 }) }));
    expect(chatReducer(edited, { type: "stored", message: message(1, { text: "older", version: 8 }) })).toBe(edited);
    const paged = chatReducer(edited, { type: "history", conversation: "c1", page: { messages: [message(1, { text: "older", version: 8 })], has_more: false } });
    expect(paged.messages.c1[0].text).toBe("newer");
  });
});

describe("mentions", () => {
  const read = (last_read_seq: number): ServerFrame => ({
    type: "read.updated",
    data: { conversation_id: "c2", read: { user_uuid: ME, last_read_message_id: `m${last_read_seq}`, last_read_seq, updated_at: null } },
  });

  it("message.created from others that mentions me (or everyone) bumps the mention count; others' and my own do not", () => {
    const state = run(
      ready(),
      frame({ type: "message.created", data: message(1, { conversation_id: "c2", mentions: [ME] }) }),
      frame({ type: "message.created", data: message(2, { conversation_id: "c2", mentions: ["someone else"] }) }),
      frame({ type: "message.created", data: message(3, { conversation_id: "c2", mentions_everyone: true }) }),
      frame({ type: "message.created", data: message(4, { conversation_id: "c2", sender_uuid: ME, mentions: [ME] }) }),
      frame({ type: "message.updated", data: message(1, { conversation_id: "c2", mentions: [ME], text: "edited" }) }),
    );
    expect(state.conversations![0]).toMatchObject({ id: "c2", unread_count: 3, mention_count: 2 });
  });

  it("reading resets it: to none when all is read, else at most the unread count", () => {
    const mentioned = run(ready(), ...[1, 2, 3].map((seq) => frame({ type: "message.created", data: message(seq, { conversation_id: "c2", mentions: [ME] }) })));
    expect(mentioned.conversations![0].mention_count).toBe(3);
    const partly = chatReducer(mentioned, frame(read(2)));
    expect(partly.conversations![0]).toMatchObject({ unread_count: 1, mention_count: 1 });
    expect(chatReducer(partly, frame(read(3))).conversations![0]).toMatchObject({ unread_count: 0, mention_count: 0 });
  });
});

describe("unread separator", () => {
  const withUnread = () => ({
    type: "conversations" as const,
    conversations: [conversation("c1", { last_seq: 5, last_read_seq: 3, unread_count: 2 }), conversation("c2", { last_seq: 2, last_read_seq: 2 })],
  });

  it("opening a conversation with unread messages keeps its read position of that moment", () => {
    const opened = run(ready(), withUnread(), { type: "select", conversation: "c1" });
    expect(opened.unreadAfter).toBe(3);
    // Reading it (right after opening) does not move the separator.
    const read = chatReducer(opened, frame({ type: "read.updated", data: { conversation_id: "c1", read: { user_uuid: ME, last_read_message_id: "m5", last_read_seq: 5, updated_at: null } } }));
    expect(read.unreadAfter).toBe(3);
    // Another conversation without unread messages: none.
    expect(chatReducer(read, { type: "select", conversation: "c2" }).unreadAfter).toBeNull();
  });

  it("a conversation opened before the list is known gets it when the list comes", () => {
    const early = chatReducer(initialChat, { type: "select", conversation: "c1" });
    expect(early.unreadAfter).toBeUndefined();
    expect(chatReducer(early, withUnread()).unreadAfter).toBe(3);
  });

  it("firstUnread: the first stored message from others after that position", () => {
    const list: Shown[] = [message(3), message(4, { sender_uuid: ME }), message(5), pending("n1")];
    expect(firstUnread(list, 3, ME)).toBe("m5");
    expect(firstUnread(list, 5, ME)).toBeNull();
    expect(firstUnread(list, null, ME)).toBeNull();
    expect(firstUnread(list, undefined, ME)).toBeNull();
  });
});

describe("reply target", () => {
  it("is set and cleared, and opening another conversation drops it", () => {
    const replying = run(ready(), { type: "select", conversation: "c1" }, { type: "replyTo", message: message(1) });
    expect(replying.replyTo?.id).toBe("m1");
    expect(chatReducer(replying, { type: "replyTo", message: null }).replyTo).toBeNull();
    expect(chatReducer(replying, { type: "select", conversation: "c2" }).replyTo).toBeNull();
    expect(chatReducer(replying, { type: "select", conversation: "c1" }).replyTo?.id).toBe("m1");
  });
});
