// Unit tests of the catch-up bookkeeping (lib/positions.ts): which `seq` and `version` the
// client has per conversation, what it resumes from, and when a replay is over.

import { describe, expect, it } from "vitest";

import type { ConversationView, MessageView } from "./api/types";
import { Positions } from "./positions";

function message(seq: number, version: number, conversation_id = "c1"): MessageView {
  return {
    id: `m${seq}`,
    conversation_id,
    seq,
    sender_uuid: "u",
    text: "",
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
    version,
    created_at: "2024-01-01T00:00:00Z",
    edited_at: null,
    deleted_at: null,
  };
}

function conversation(id: string, last_seq: number, version: number): ConversationView {
  return {
    id,
    is_group: false,
    participant_uuids: [],
    admin: null,
    name: null,
    description: null,
    picture: null,
    last_message: null,
    last_seq,
    version,
    can_send: true,
    created_at: "2024-01-01T00:00:00Z",
    updated_at: "2024-01-01T00:00:00Z",
    participants: [],
    unread_count: 0,
    mention_count: 0,
    last_read_seq: 0,
    read_states: [],
  };
}

const reaction = (version: number, conversation_id = "c1") => ({
  type: "reaction.added" as const,
  data: { conversation_id, message_id: "m1", emoji: "👍", user_uuid: "u", count: 1, version },
});

/** c1 shown (history up to seq 2, version 4), c2 not opened. */
function shown(): Positions {
  const positions = new Positions();
  positions.resumePoints([conversation("c1", 2, 4), conversation("c2", 7, 30)]);
  positions.history("c1", [message(2, 4), message(1, 3)]);
  return positions;
}

describe("positions", () => {
  it("a history page sets the seq, and the version once (the newest of its messages)", () => {
    const positions = new Positions();
    positions.history("c1", [message(2, 6), message(1, 9)]);
    expect([positions.seq("c1"), positions.version("c1")]).toEqual([2, 9]);
    positions.history("c1", [message(0, 20)]);
    expect(positions.version("c1")).toBe(9);
  });

  it("an empty history still counts as shown, from seq 0", () => {
    const positions = new Positions();
    positions.history("c1", []);
    expect([positions.seq("c1"), positions.version("c1")]).toEqual([0, 0]);
    expect(positions.resumePoints([conversation("c1", 1, 1)])).toEqual([{ conversation_id: "c1", last_seq: 0, last_version: 0 }]);
  });

  it("frames raise the seq (new messages) and the version (every message and reaction frame)", () => {
    const positions = shown();
    positions.frame({ type: "message.created", data: message(3, 5) });
    positions.frame({ type: "message.updated", data: message(1, 6) });
    positions.frame(reaction(7));
    positions.frame({ type: "message.pinned", data: message(2, 8) });
    expect([positions.seq("c1"), positions.version("c1")]).toEqual([3, 8]);
    positions.frame({ type: "message.deleted", data: message(1, 2) });
    expect(positions.version("c1")).toBe(8);
  });

  it("resumes shown conversations with news or changes, with last_seq and last_version", () => {
    const positions = shown();
    expect(positions.resumePoints([conversation("c1", 2, 4), conversation("c2", 9, 40)])).toEqual([]);
    // An edit while away: same seq, higher version.
    expect(positions.resumePoints([conversation("c1", 2, 5)])).toEqual([{ conversation_id: "c1", last_seq: 2, last_version: 4 }]);
    expect(positions.resumePoints([conversation("c1", 3, 4)])).toEqual([{ conversation_id: "c1", last_seq: 2, last_version: 4 }]);
  });

  it("a conversation not shown takes the ready's version", () => {
    const positions = shown();
    expect(positions.version("c2")).toBe(30);
    positions.resumePoints([conversation("c2", 9, 40)]);
    expect(positions.version("c2")).toBe(40);
  });

  it("during a replay frames do not raise the version; resume.done sets the one reached", () => {
    const positions = shown();
    positions.resumePoints([conversation("c1", 4, 12)]);
    positions.frame({ type: "message.created", data: message(3, 10) });
    positions.frame({ type: "message.created", data: message(4, 11) });
    positions.frame(reaction(12));
    expect([positions.seq("c1"), positions.version("c1")]).toEqual([4, 4]);
    expect(positions.resumed([{ conversation_id: "c1", last_seq: 4, truncated: false, version: 12, changes_truncated: false }])).toEqual([]);
    expect(positions.version("c1")).toBe(12);
    positions.frame(reaction(13));
    expect(positions.version("c1")).toBe(13);
  });

  it("a lost connection mid-replay resumes from the version before it", () => {
    const positions = shown();
    positions.resumePoints([conversation("c1", 3, 12)]);
    positions.frame({ type: "message.created", data: message(3, 12) });
    // No resume.done; the next ready.
    expect(positions.resumePoints([conversation("c1", 3, 12)])).toEqual([{ conversation_id: "c1", last_seq: 3, last_version: 4 }]);
  });

  it("changes cut short are paged from the version reached, and frames wait for the last page", () => {
    const positions = shown();
    positions.resumePoints([conversation("c1", 2, 50)]);
    expect(positions.resumed([{ conversation_id: "c1", last_seq: 2, truncated: false, version: 20, changes_truncated: true }])).toEqual([
      { conversation: "c1", since: 20 },
    ]);
    positions.frame(reaction(51));
    expect(positions.version("c1")).toBe(20);
    positions.changes("c1", { changes: [message(1, 30)], version: 30, has_more: true });
    positions.frame(reaction(52));
    expect(positions.version("c1")).toBe(30);
    positions.changes("c1", { changes: [message(2, 50)], version: 50, has_more: false });
    positions.frame(reaction(53));
    expect(positions.version("c1")).toBe(53);
  });
});
