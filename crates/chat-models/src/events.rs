//! Domain events between services. They are appended to one Redis stream (durable, capped), so a
//! consumer that was down catches up from its last id, and every message-service instance can
//! tail the same stream for real-time fan-out.

use chrono::{DateTime, Utc};
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::message::{ConversationInfo, MessageView, ReadStateView};
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

/// Appends events to the shared stream.
#[derive(Clone)]
pub struct EventPublisher {
    redis: ConnectionManager,
    stream: String,
    max_len: usize,
}

impl std::fmt::Debug for EventPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventPublisher")
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

/// The stream's name under a key prefix (`chat:` gives `chat:events`).
pub fn stream_name(prefix: &str) -> String {
    format!("{prefix}events")
}

impl EventPublisher {
    /// A publisher to `stream`, trimmed to about `max_len` entries.
    pub fn new(redis: ConnectionManager, stream: String, max_len: usize) -> Self {
        Self {
            redis,
            stream,
            max_len,
        }
    }

    /// Appends an already-enveloped event; returns its stream entry id.
    pub async fn publish_envelope(&self, envelope: &EventEnvelope) -> redis::RedisResult<String> {
        let json = serde_json::to_string(envelope).map_err(|error| {
            redis::RedisError::from((redis::ErrorKind::TypeError, "event", error.to_string()))
        })?;
        redis::cmd("XADD")
            .arg(&self.stream)
            .arg("MAXLEN")
            .arg("~")
            .arg(self.max_len)
            .arg("*")
            .arg("type")
            .arg(envelope.event.name())
            .arg("event")
            .arg(json)
            .query_async(&mut self.redis.clone())
            .await
    }

    /// Appends an event that happens now; returns its stream entry id.
    pub async fn publish(&self, event: DomainEvent) -> redis::RedisResult<String> {
        self.publish_envelope(&EventEnvelope::now(event)).await
    }
}

/// Reads the stream as one member of a consumer group. Each group sees every event; within a
/// group each event goes to one member. An entry is acknowledged only after the handler
/// succeeds. Entries left unacknowledged (the handler failed, or its consumer died) are claimed
/// again by a live member once they have been idle for a while, and retried; a failing entry
/// never holds up the ones behind it.
#[derive(Debug, Clone)]
pub struct EventConsumer {
    client: redis::Client,
    stream: String,
    group: String,
    consumer: String,
    claim_idle: std::time::Duration,
}

impl EventConsumer {
    /// A consumer named `consumer` in `group` (usually the service name) on `stream`.
    pub fn new(client: redis::Client, stream: String, group: &str, consumer: &str) -> Self {
        Self {
            client,
            stream,
            group: group.to_owned(),
            consumer: consumer.to_owned(),
            claim_idle: std::time::Duration::from_secs(60),
        }
    }

    /// How long an unacknowledged entry waits before another attempt (default 60 s).
    #[must_use]
    pub fn with_claim_idle(mut self, idle: std::time::Duration) -> Self {
        self.claim_idle = idle;
        self
    }

    /// Handles events until the task is dropped, reconnecting after failures.
    pub async fn run<F, Fut>(self, handler: F)
    where
        F: Fn(EventEnvelope) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<()>>,
    {
        loop {
            if let Err(error) = self.session(&handler).await {
                tracing::warn!(error = ?error, group = %self.group, "event consumer failed; retrying");
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }

    async fn session<F, Fut>(&self, handler: &F) -> anyhow::Result<()>
    where
        F: Fn(EventEnvelope) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<()>>,
    {
        use anyhow::Context as _;
        // A connection of its own: XREADGROUP BLOCK would stall a shared, multiplexed one.
        let mut conn = self
            .client
            .get_multiplexed_async_connection()
            .await
            .context("connecting to Redis")?;
        // From the stream's start, so a group created after events were written still sees them.
        let created: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.stream)
            .arg(&self.group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut conn)
            .await;
        if let Err(error) = created {
            if error.code() != Some("BUSYGROUP") {
                return Err(error).context("creating the consumer group");
            }
        }
        let idle_ms = u64::try_from(self.claim_idle.as_millis()).unwrap_or(u64::MAX);
        let mut last_claim = std::time::Instant::now();
        loop {
            // Entries idle too long in anyone's pending list (a failed handler, a dead consumer).
            if last_claim.elapsed() >= self.claim_idle.min(std::time::Duration::from_secs(5)) {
                last_claim = std::time::Instant::now();
                let claimed: redis::streams::StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
                    .arg(&self.stream)
                    .arg(&self.group)
                    .arg(&self.consumer)
                    .arg(idle_ms)
                    .arg("0-0")
                    .arg("COUNT")
                    .arg(100)
                    .query_async(&mut conn)
                    .await
                    .context("claiming idle events")?;
                self.handle(&mut conn, claimed.claimed, handler).await?;
            }
            let block_ms = idle_ms.clamp(100, 5_000);
            let reply: redis::streams::StreamReadReply = redis::cmd("XREADGROUP")
                .arg("GROUP")
                .arg(&self.group)
                .arg(&self.consumer)
                .arg("COUNT")
                .arg(100)
                .arg("BLOCK")
                .arg(block_ms)
                .arg("STREAMS")
                .arg(&self.stream)
                .arg(">")
                .query_async(&mut conn)
                .await
                .context("reading the event stream")?;
            let entries = reply.keys.into_iter().flat_map(|key| key.ids).collect();
            self.handle(&mut conn, entries, handler).await?;
        }
    }

    /// Runs the handler on each entry and acknowledges the ones it handled (and unreadable
    /// ones, which no retry can fix). A failed entry stays pending for a later claim.
    async fn handle<F, Fut>(
        &self,
        conn: &mut redis::aio::MultiplexedConnection,
        entries: Vec<redis::streams::StreamId>,
        handler: &F,
    ) -> anyhow::Result<()>
    where
        F: Fn(EventEnvelope) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<()>>,
    {
        use anyhow::Context as _;
        for entry in entries {
            let parsed = entry
                .get::<String>("event")
                .ok_or_else(|| anyhow::anyhow!("no event field"))
                .and_then(|json| {
                    serde_json::from_str::<EventEnvelope>(&json).map_err(anyhow::Error::from)
                });
            match parsed {
                Ok(envelope) => {
                    if let Err(error) = handler(envelope).await {
                        tracing::warn!(id = %entry.id, group = %self.group, error = ?error,
                            "event handler failed; will retry");
                        continue;
                    }
                }
                // An event this build does not know (newer producer) or a corrupt entry.
                Err(error) => {
                    tracing::warn!(id = %entry.id, error = %error, "skipping unreadable event");
                }
            }
            redis::cmd("XACK")
                .arg(&self.stream)
                .arg(&self.group)
                .arg(&entry.id)
                .query_async::<()>(&mut *conn)
                .await
                .context("acknowledging an event")?;
        }
        Ok(())
    }
}

/// Reads every event of the stream from now on, without a consumer group: each process sees
/// all of them (the real-time gateway of every message-service instance). It resumes from the
/// last entry it read after a reconnect, so a Redis hiccup delays events but loses none that
/// are still in the (capped) stream.
#[derive(Debug, Clone)]
pub struct EventTail {
    client: redis::Client,
    stream: String,
}

impl EventTail {
    /// A reader of `stream`.
    pub fn new(client: redis::Client, stream: String) -> Self {
        Self { client, stream }
    }

    /// Calls `handler` with each new event until the task is dropped. `ready` is notified once
    /// the position to read from is fixed: events published after that are all seen.
    pub async fn run(
        self,
        mut handler: impl FnMut(EventEnvelope),
        ready: std::sync::Arc<tokio::sync::Notify>,
    ) {
        let mut last: Option<String> = None;
        loop {
            if let Err(error) = self.session(&mut last, &mut handler, &ready).await {
                tracing::warn!(error = ?error, "event tail failed; retrying");
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }

    async fn session(
        &self,
        last: &mut Option<String>,
        handler: &mut impl FnMut(EventEnvelope),
        ready: &tokio::sync::Notify,
    ) -> anyhow::Result<()> {
        use anyhow::Context as _;
        let mut conn = self
            .client
            .get_multiplexed_async_connection()
            .await
            .context("connecting to Redis")?;
        if last.is_none() {
            // The newest entry now (or the start): everything after it is new to us.
            let newest: redis::streams::StreamRangeReply = redis::cmd("XREVRANGE")
                .arg(&self.stream)
                .arg("+")
                .arg("-")
                .arg("COUNT")
                .arg(1)
                .query_async(&mut conn)
                .await
                .context("reading the stream's newest entry")?;
            *last = Some(
                newest
                    .ids
                    .first()
                    .map_or_else(|| "0-0".to_owned(), |entry| entry.id.clone()),
            );
            ready.notify_waiters();
            ready.notify_one();
        }
        loop {
            let from = last.clone().unwrap_or_else(|| "0-0".to_owned());
            let reply: redis::streams::StreamReadReply = redis::cmd("XREAD")
                .arg("COUNT")
                .arg(500)
                .arg("BLOCK")
                .arg(5_000)
                .arg("STREAMS")
                .arg(&self.stream)
                .arg(&from)
                .query_async(&mut conn)
                .await
                .context("reading the event stream")?;
            for entry in reply.keys.into_iter().flat_map(|key| key.ids) {
                match entry
                    .get::<String>("event")
                    .map(|json| serde_json::from_str::<EventEnvelope>(&json))
                {
                    Some(Ok(envelope)) => handler(envelope),
                    Some(Err(error)) => {
                        tracing::warn!(id = %entry.id, error = %error, "skipping unreadable event");
                    }
                    None => tracing::warn!(id = %entry.id, "skipping an entry without event"),
                }
                *last = Some(entry.id);
            }
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
