// WebSocket frames of message-service's `/ws`, `{"type", "data", "ref"?}` JSON text frames,
// mirroring crates/chat-models/src/api/ws.rs (ServerFrame, client frame data) and
// docs/websocket.md.

import type { ConversationInfo, ConversationView, ErrorDetail, MessageView, PublicUser, ReactionChange, ReadStateView } from "./api/types";

export type Presence = { user_uuid: string; online: boolean; last_seen: string | null };
export type Ready = { user: PublicUser; session_id: string; conversations: ConversationView[]; next_cursor: string | null; presence: Presence[] };
export type Membership = { conversation: ConversationInfo; user_uuids: string[]; by: string };
/** `expires_in_ms` only in `typing.started`. */
export type Typing = { conversation_id: string; user_uuid: string; expires_in_ms?: number };
export type FriendRequestEvent = { request_id: number; sender_uuid: string; receiver_uuid: string };
/** Where a resumed conversation's replay ended: `version` is the one the replayed changes
 * brought the client to; `changes_truncated` says to page the rest (`GET …/changes?since=`). */
export type Resumed = { conversation_id: string; last_seq: number; truncated: boolean; version: number; changes_truncated: boolean };
/** One conversation to catch up: the last `seq` and the `version` the client has. */
export type ResumePoint = { conversation_id: string; last_seq: number; last_version?: number };

/** The data of each server frame, by type. */
type ServerData = {
  ready: Ready;
  "message.created": MessageView;
  "message.updated": MessageView;
  "message.deleted": MessageView;
  "reaction.added": ReactionChange;
  "reaction.removed": ReactionChange;
  "message.pinned": MessageView;
  "message.unpinned": MessageView;
  "conversation.created": ConversationInfo;
  "conversation.updated": ConversationInfo;
  "conversation.deleted": { conversation_id: string };
  "conversation.members_added": Membership;
  "conversation.member_removed": Membership;
  "read.updated": { conversation_id: string; read: ReadStateView };
  "typing.started": Typing;
  "typing.stopped": Typing;
  "presence.updated": Presence;
  "friend_request.received": FriendRequestEvent;
  "friend_request.accepted": FriendRequestEvent;
  "friend_request.rejected": FriendRequestEvent;
  "friend_request.cancelled": FriendRequestEvent;
  "friendship.removed": { user_uuid: string; friend_uuid: string };
  "user.blocked": { blocker_uuid: string; blocked_uuid: string };
  "session.revoked": Record<string, never>;
  "message.ack": { ref: string | null; message: MessageView };
  ack: { ref: string | null };
  error: { ref: string | null; error: ErrorDetail };
  pong: { ref: string | null };
  "resume.done": { conversations: Resumed[] };
};

export type ServerFrameType = keyof ServerData;
/** A frame the server sends, discriminated by `type`. */
export type ServerFrame = { [K in ServerFrameType]: { type: K; data: ServerData[K] } }[ServerFrameType];
/** A server frame of one type. */
export type ServerFrameOf<K extends ServerFrameType> = Extract<ServerFrame, { type: K }>;
/** The answers to a client frame sent with a `ref`. */
export type AnswerFrame = ServerFrameOf<"message.ack" | "ack" | "error" | "pong">;

const ANSWERS: ReadonlySet<ServerFrameType> = new Set(["message.ack", "ack", "error", "pong"]);

export function isAnswer(frame: ServerFrame): frame is AnswerFrame {
  return ANSWERS.has(frame.type);
}

/** The data of each client frame, by type. */
export type ClientData = {
  authenticate: { token: string };
  "message.send": { conversation_id: string; text: string; attachment_ids?: string[]; reply_to?: string | null; nonce?: string | null; mentions?: string[]; mention_everyone?: boolean };
  "typing.start": { conversation_id: string };
  "typing.stop": { conversation_id: string };
  read: { conversation_id: string; message_id: string };
  resume: { conversations: ResumePoint[] };
  ping: Record<string, never>;
};

export type ClientFrameType = keyof ClientData;
/** A frame the client sends; `ref` is echoed in the answer. */
export type ClientFrame = { [K in ClientFrameType]: { type: K; data: ClientData[K]; ref?: string } }[ClientFrameType];
