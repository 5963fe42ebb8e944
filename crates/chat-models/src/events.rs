//! Domain events between services. They are appended to one Redis stream (durable, capped), so a
//! consumer that was down catches up from its last id, and every message-service instance can
//! tail the same stream for real-time fan-out.

use chrono::{DateTime, Utc};
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
}

impl DomainEvent {
    /// The dotted event name, as on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            Self::UserDeleted { .. } => "user.deleted",
            Self::SessionRevoked { .. } => "session.revoked",
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
}
