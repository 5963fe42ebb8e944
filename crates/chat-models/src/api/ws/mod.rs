//! Frames of the WebSocket protocol (`GET /ws` on message-service), as JSON text frames
//! `{"type": "...", "data": {...}}`, and its close codes. Both directions serialise and
//! deserialise, so the server, the tests and chat-bench speak the same types. See
//! `docs/websocket.md`.

mod client;

pub use client::{
    Authenticate, ClientFrame, ClientMessage, NoData, ReadFrame, ResumeFrame, ResumePoint,
    SendFrame, TypingFrame,
};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::message::{
    ConversationInfo, ConversationView, MessageView, ReactionChange, ReadStateView,
};
use super::user::PublicUser;
use crate::error::ErrorDetail;
use crate::events::FriendRequestEvent;

/// Close codes of the gateway (4000-4999 are the application's; the others RFC 6455's).
pub mod close {
    /// The server is shutting down; reconnect (to another instance) and resume.
    pub const GOING_AWAY: u16 = 1001;
    /// A frame over the size limit, or a protocol error.
    pub const FRAME_TOO_LARGE: u16 = 1009;
    /// The session was signed out.
    pub const SESSION_REVOKED: u16 = 4001;
    /// No valid credentials in time.
    pub const UNAUTHENTICATED: u16 = 4003;
    /// The client read too slowly; reconnect and resume.
    pub const TOO_SLOW: u16 = 4008;
    /// No frame or pong for too long.
    pub const IDLE: u16 = 4009;
    /// The user holds as many sockets as one user may; close one first.
    pub const TOO_MANY_SOCKETS: u16 = 4029;
}

/// A frame the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum ServerFrame {
    /// First frame after authentication.
    #[serde(rename = "ready")]
    Ready(Box<Ready>),
    /// A message was sent to one of my conversations.
    #[serde(rename = "message.created")]
    MessageCreated(MessageView),
    /// A message was edited.
    #[serde(rename = "message.updated")]
    MessageUpdated(MessageView),
    /// A message was deleted (it keeps its place, without text).
    #[serde(rename = "message.deleted")]
    MessageDeleted(MessageView),
    /// A member reacted to a message.
    #[serde(rename = "reaction.added")]
    ReactionAdded(ReactionChange),
    /// A member took a reaction back.
    #[serde(rename = "reaction.removed")]
    ReactionRemoved(ReactionChange),
    /// A message was pinned.
    #[serde(rename = "message.pinned")]
    MessagePinned(MessageView),
    /// A message was unpinned.
    #[serde(rename = "message.unpinned")]
    MessageUnpinned(MessageView),
    /// A conversation appeared in my list.
    #[serde(rename = "conversation.created")]
    ConversationCreated(ConversationInfo),
    /// A conversation's details changed.
    #[serde(rename = "conversation.updated")]
    ConversationUpdated(ConversationInfo),
    /// A conversation left my list.
    #[serde(rename = "conversation.deleted")]
    ConversationDeleted {
        /// The conversation.
        conversation_id: String,
    },
    /// Members joined a group.
    #[serde(rename = "conversation.members_added")]
    MembersAdded(Membership),
    /// A member left or was removed (possibly me).
    #[serde(rename = "conversation.member_removed")]
    MemberRemoved(Membership),
    /// A read position moved (mine on another device, or the other member's in a direct
    /// conversation).
    #[serde(rename = "read.updated")]
    ReadUpdated {
        /// The conversation.
        conversation_id: String,
        /// The new position.
        read: ReadStateView,
    },
    /// Someone is typing; show it until `typing.stopped` or `expires_in_ms` passes.
    #[serde(rename = "typing.started")]
    TypingStarted(Typing),
    /// Someone stopped typing (or their typing expired).
    #[serde(rename = "typing.stopped")]
    TypingStopped(Typing),
    /// A friend came online or went offline.
    #[serde(rename = "presence.updated")]
    PresenceUpdated(Presence),
    /// A friend request concerning me was sent.
    #[serde(rename = "friend_request.received")]
    FriendRequestReceived(FriendRequestEvent),
    /// A friend request concerning me was accepted.
    #[serde(rename = "friend_request.accepted")]
    FriendRequestAccepted(FriendRequestEvent),
    /// A request sent to me was declined (on another of my devices).
    #[serde(rename = "friend_request.rejected")]
    FriendRequestRejected(FriendRequestEvent),
    /// A friend request concerning me was withdrawn.
    #[serde(rename = "friend_request.cancelled")]
    FriendRequestCancelled(FriendRequestEvent),
    /// A friendship of mine ended.
    #[serde(rename = "friendship.removed")]
    FriendshipRemoved {
        /// Who ended it.
        user_uuid: Uuid,
        /// The other one.
        friend_uuid: Uuid,
    },
    /// I blocked someone (on another device).
    #[serde(rename = "user.blocked")]
    UserBlocked {
        /// Me.
        blocker_uuid: Uuid,
        /// Whom.
        blocked_uuid: Uuid,
    },
    /// This session was signed out; the server closes the socket next.
    #[serde(rename = "session.revoked")]
    SessionRevoked {},
    /// The answer to `message.send`: the stored message (the first copy for a repeated nonce).
    #[serde(rename = "message.ack")]
    MessageAck {
        /// The client frame's `ref`.
        #[serde(rename = "ref")]
        reference: Option<String>,
        /// The stored message.
        message: MessageView,
    },
    /// A client frame was carried out (`read`, `typing.*`).
    #[serde(rename = "ack")]
    Ack {
        /// The client frame's `ref`.
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    /// A client frame failed.
    #[serde(rename = "error")]
    Error {
        /// The client frame's `ref`, if it had one.
        #[serde(rename = "ref")]
        reference: Option<String>,
        /// The same error object as the REST API's.
        error: ErrorDetail,
    },
    /// The answer to `ping`.
    #[serde(rename = "pong")]
    Pong {
        /// The client frame's `ref`.
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    /// The end of a `resume` replay: everything after this is live.
    #[serde(rename = "resume.done")]
    ResumeDone {
        /// Per conversation, where the replay ended.
        conversations: Vec<Resumed>,
    },
}

/// The `ready` frame's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ready {
    /// Me.
    pub user: PublicUser,
    /// This connection's session.
    pub session_id: Uuid,
    /// My most recently active conversations (the first page of `GET /conversations`).
    pub conversations: Vec<ConversationView>,
    /// Cursor for more conversations over REST, if any.
    pub next_cursor: Option<String>,
    /// My friends' presence.
    pub presence: Vec<Presence>,
}

/// A membership change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// The group now.
    pub conversation: ConversationInfo,
    /// Who joined or left.
    pub user_uuids: Vec<Uuid>,
    /// Who did it.
    pub by: Uuid,
}

/// Someone typing in a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Typing {
    /// The conversation.
    pub conversation_id: String,
    /// Who types.
    pub user_uuid: Uuid,
    /// `typing.started` only: when to stop showing it without news.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_ms: Option<u64>,
}

/// A user's presence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    /// The user.
    pub user_uuid: Uuid,
    /// Connected on at least one device.
    pub online: bool,
    /// When their last device disconnected (absent while online, or if never seen).
    pub last_seen: Option<DateTime<Utc>>,
}

/// Where a resumed conversation's replay ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resumed {
    /// The conversation.
    pub conversation_id: String,
    /// The newest replayed position.
    pub last_seq: i64,
    /// More messages were missed than a replay carries: page the rest over REST
    /// (`GET …/messages?after=`) from `last_seq`.
    pub truncated: bool,
    /// The version the replayed changes brought the client to (the `last_version` it sent,
    /// or the conversation's when it sent none).
    #[serde(default)]
    pub version: i64,
    /// More changes were missed than a replay carries: page the rest over REST
    /// (`GET …/changes?since=`) from `version`.
    #[serde(default)]
    pub changes_truncated: bool,
}
