//! Domain events between services: the vocabulary ([`DomainEvent`], [`EventEnvelope`]) here;
//! with feature `redis`, its transport. Events are appended to one Redis stream (durable,
//! capped), so a consumer that was down catches up from its last id, and every message-service
//! instance can tail the same stream for real-time fan-out.

#[cfg(feature = "redis")]
mod consumer;
#[cfg(feature = "redis")]
mod stream;

#[cfg(feature = "redis")]
pub use consumer::EventConsumer;
#[cfg(feature = "redis")]
pub use stream::{
    audience_of, read_after, stream_bounds, stream_name, EventPublisher, EventTail, StreamBounds,
    STREAM_MAX_LEN,
};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The longest `BLOCK` of a stream read (consumers and tails).
#[cfg(feature = "redis")]
const READ_BLOCK: std::time::Duration = std::time::Duration::from_secs(5);

/// The event of a stream entry: its `event` field, as JSON. An error for an entry without one,
/// or one this build cannot read (a newer producer, a corrupt entry).
#[cfg(feature = "redis")]
fn envelope_of(entry: &redis::streams::StreamId) -> anyhow::Result<EventEnvelope> {
    Ok(serde_json::from_str(&event_json(entry)?)?)
}

/// A stream entry's `event` field, unread; an error for an entry without one.
#[cfg(feature = "redis")]
fn event_json(entry: &redis::streams::StreamId) -> anyhow::Result<String> {
    entry
        .get::<String>("event")
        .ok_or_else(|| anyhow::anyhow!("no event field"))
}

/// A connection of its own for blocking stream reads (a `BLOCK` would stall a shared,
/// multiplexed one): connects within a second, and an answer that has not come a little
/// after the longest block means Redis is gone (the reader then reconnects).
#[cfg(feature = "redis")]
pub async fn blocking_connection(
    client: &redis::Client,
) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(std::time::Duration::from_secs(1))
        .set_response_timeout(READ_BLOCK + std::time::Duration::from_secs(2));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
}
use uuid::Uuid;

use crate::api::message::{ConversationInfo, MessageView, ReactionChange, ReadStateView};
use crate::api::ws::Presence;

/// An event one service tells the others about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum DomainEvent {
    /// A user deleted their account; every service removes what it holds about them.
    #[serde(rename = "user.deleted")]
    UserDeleted {
        /// The deleted user.
        user_uuid: Uuid,
    },
    /// A user changed their public profile (username, bio or picture); services that remember
    /// profiles forget theirs.
    #[serde(rename = "user.updated")]
    UserUpdated {
        /// The user.
        user_uuid: Uuid,
    },
    /// Sessions were signed out; their access tokens are refused and their sockets closed.
    #[serde(rename = "session.revoked")]
    SessionRevoked {
        /// The sessions' owner.
        user_uuid: Uuid,
        /// The revoked sessions.
        session_ids: Vec<Uuid>,
    },
    /// A friend request was sent.
    #[serde(rename = "friend_request.received")]
    FriendRequestReceived(FriendRequestEvent),
    /// A friend request was accepted; the two are friends.
    #[serde(rename = "friend_request.accepted")]
    FriendRequestAccepted(FriendRequestEvent),
    /// The receiver declined a friend request.
    #[serde(rename = "friend_request.rejected")]
    FriendRequestRejected(FriendRequestEvent),
    /// The sender withdrew a friend request.
    #[serde(rename = "friend_request.cancelled")]
    FriendRequestCancelled(FriendRequestEvent),
    /// A friendship ended (removed, or by a block).
    #[serde(rename = "friendship.removed")]
    FriendshipRemoved {
        /// Who ended it.
        user_uuid: Uuid,
        /// The former friend.
        friend_uuid: Uuid,
    },
    /// A user blocked another.
    #[serde(rename = "user.blocked")]
    UserBlocked {
        /// Who blocked.
        blocker_uuid: Uuid,
        /// Who is blocked.
        blocked_uuid: Uuid,
    },
    /// A message was sent.
    #[serde(rename = "message.created")]
    MessageCreated(MessageEvent),
    /// A message was edited.
    #[serde(rename = "message.updated")]
    MessageUpdated(MessageEvent),
    /// A message was deleted (it keeps its place, without text).
    #[serde(rename = "message.deleted")]
    MessageDeleted(MessageEvent),
    /// A member reacted to a message.
    #[serde(rename = "reaction.added")]
    ReactionAdded(ReactionEvent),
    /// A member took a reaction back.
    #[serde(rename = "reaction.removed")]
    ReactionRemoved(ReactionEvent),
    /// A message was pinned.
    #[serde(rename = "message.pinned")]
    MessagePinned(MessageEvent),
    /// A message was unpinned.
    #[serde(rename = "message.unpinned")]
    MessageUnpinned(MessageEvent),
    /// A conversation was created (or a hidden direct conversation reopened).
    #[serde(rename = "conversation.created")]
    ConversationCreated(ConversationEvent),
    /// A group's name, description, picture or admin changed.
    #[serde(rename = "conversation.updated")]
    ConversationUpdated(ConversationEvent),
    /// A conversation is gone (group deleted, or its last member left).
    #[serde(rename = "conversation.deleted")]
    ConversationDeleted {
        /// Who should hear of it: its last members.
        audience: Vec<Uuid>,
        /// The conversation.
        conversation_id: String,
    },
    /// Members joined a group.
    #[serde(rename = "conversation.members_added")]
    MembersAdded(MembershipEvent),
    /// A member left or was removed from a group.
    #[serde(rename = "conversation.member_removed")]
    MemberRemoved(MembershipEvent),
    /// A member's read position moved.
    #[serde(rename = "read.updated")]
    ReadUpdated(ReadEvent),
    /// A user's first device connected, or their last one disconnected.
    #[serde(rename = "presence.updated")]
    PresenceUpdated {
        /// Who should hear of it: the user's friends.
        audience: Vec<Uuid>,
        /// The new presence.
        presence: Presence,
    },
}

/// The data of `message.created`, `message.updated` and `message.deleted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEvent {
    /// Who should hear of it: the conversation's members.
    pub audience: Vec<Uuid>,
    /// The message as it is now.
    pub message: MessageView,
}

/// The data of `reaction.added` and `reaction.removed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionEvent {
    /// Who should hear of it: the conversation's members.
    pub audience: Vec<Uuid>,
    /// What changed.
    pub change: ReactionChange,
}

/// The data of `conversation.created` and `conversation.updated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationEvent {
    /// Who should hear of it: the members.
    pub audience: Vec<Uuid>,
    /// The conversation as it is now.
    pub conversation: ConversationInfo,
}

/// The data of `conversation.members_added` and `conversation.member_removed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipEvent {
    /// Who should hear of it: the members after the change, and those removed.
    pub audience: Vec<Uuid>,
    /// The group as it is now.
    pub conversation: ConversationInfo,
    /// The members added, or the one removed.
    pub user_uuids: Vec<Uuid>,
    /// Who did it (the removed member themselves when they left).
    pub by: Uuid,
}

/// The data of `read.updated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadEvent {
    /// Who should hear of it: the reader, and in a direct conversation the other member.
    pub audience: Vec<Uuid>,
    /// The conversation.
    pub conversation_id: String,
    /// The reader's new position.
    pub read: ReadStateView,
}

/// The data of the `friend_request.*` events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendRequestEvent {
    /// The request.
    pub request_id: u64,
    /// Who asked.
    pub sender_uuid: Uuid,
    /// Who was asked.
    pub receiver_uuid: Uuid,
}

impl DomainEvent {
    /// The dotted event name, as on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            Self::UserDeleted { .. } => "user.deleted",
            Self::UserUpdated { .. } => "user.updated",
            Self::SessionRevoked { .. } => "session.revoked",
            Self::FriendRequestReceived(_) => "friend_request.received",
            Self::FriendRequestAccepted(_) => "friend_request.accepted",
            Self::FriendRequestRejected(_) => "friend_request.rejected",
            Self::FriendRequestCancelled(_) => "friend_request.cancelled",
            Self::FriendshipRemoved { .. } => "friendship.removed",
            Self::UserBlocked { .. } => "user.blocked",
            Self::MessageCreated(_) => "message.created",
            Self::MessageUpdated(_) => "message.updated",
            Self::MessageDeleted(_) => "message.deleted",
            Self::ReactionAdded(_) => "reaction.added",
            Self::ReactionRemoved(_) => "reaction.removed",
            Self::MessagePinned(_) => "message.pinned",
            Self::MessageUnpinned(_) => "message.unpinned",
            Self::ConversationCreated(_) => "conversation.created",
            Self::ConversationUpdated(_) => "conversation.updated",
            Self::ConversationDeleted { .. } => "conversation.deleted",
            Self::MembersAdded(_) => "conversation.members_added",
            Self::MemberRemoved(_) => "conversation.member_removed",
            Self::ReadUpdated(_) => "read.updated",
            Self::PresenceUpdated { .. } => "presence.updated",
        }
    }
}

/// An event with its identity and time, as stored in the stream's `event` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventEnvelope {
    /// Unique id, for consumers that de-duplicate.
    pub id: Uuid,
    /// When the change happened.
    pub occurred_at: DateTime<Utc>,
    /// The event itself (`type` and `data`).
    #[serde(flatten)]
    pub event: DomainEvent,
}

impl EventEnvelope {
    /// Wraps an event that happens now.
    pub fn now(event: DomainEvent) -> Self {
        Self {
            id: Uuid::new_v4(),
            occurred_at: Utc::now(),
            event,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_carry_dotted_type_and_data() {
        let user_uuid = Uuid::new_v4();
        let envelope = EventEnvelope::now(DomainEvent::UserDeleted { user_uuid });
        let json = serde_json::to_value(&envelope).unwrap();
        assert_eq!(json["type"], "user.deleted");
        assert_eq!(json["data"]["user_uuid"], user_uuid.to_string());
        let back: EventEnvelope = serde_json::from_value(json).unwrap();
        assert_eq!(back, envelope);
    }

    #[test]
    fn every_event_serialises_under_its_name() {
        let id = Uuid::new_v4();
        let request = FriendRequestEvent {
            request_id: 1,
            sender_uuid: id,
            receiver_uuid: id,
        };
        let events = [
            DomainEvent::UserDeleted { user_uuid: id },
            DomainEvent::SessionRevoked {
                user_uuid: id,
                session_ids: vec![id],
            },
            DomainEvent::FriendRequestReceived(request.clone()),
            DomainEvent::FriendRequestAccepted(request.clone()),
            DomainEvent::FriendRequestRejected(request.clone()),
            DomainEvent::FriendRequestCancelled(request),
            DomainEvent::FriendshipRemoved {
                user_uuid: id,
                friend_uuid: id,
            },
            DomainEvent::UserBlocked {
                blocker_uuid: id,
                blocked_uuid: id,
            },
            DomainEvent::ConversationDeleted {
                audience: vec![id],
                conversation_id: "65f0c0ffee0000000000000a".to_owned(),
            },
            DomainEvent::ReadUpdated(ReadEvent {
                audience: vec![id],
                conversation_id: "65f0c0ffee0000000000000a".to_owned(),
                read: ReadStateView {
                    user_uuid: id,
                    last_read_message_id: None,
                    last_read_seq: 0,
                    updated_at: None,
                },
            }),
        ];
        for event in events {
            let json = serde_json::to_value(&event).unwrap();
            assert_eq!(json["type"], event.name());
            assert_eq!(serde_json::from_value::<DomainEvent>(json).unwrap(), event);
        }
    }
}
