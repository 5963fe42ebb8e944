//! The event stream in Redis: [`EventPublisher`] appends, [`EventTail`] reads everything from
//! now on (each process sees every event, and reads in full only those it is interested in).

use std::sync::Arc;

use redis::aio::ConnectionManager;
use uuid::Uuid;

use super::{DomainEvent, EventEnvelope};

/// About how many entries the stream keeps: enough for consumers that were down a while to
/// catch up (and for resumes to replay what they refer to), small enough to stay in memory.
pub const STREAM_MAX_LEN: usize = 100_000;

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

    /// The publisher every service uses: the stream under `prefix`, trimmed to about
    /// [`STREAM_MAX_LEN`] entries.
    pub fn for_prefix(redis: ConnectionManager, prefix: &str) -> Self {
        Self::new(redis, stream_name(prefix), STREAM_MAX_LEN)
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

/// Reads every event of the stream from now on, without a consumer group: each process sees
/// all of them (the real-time gateway of every message-service instance). It resumes from the
/// last entry it read after a reconnect, so a Redis hiccup delays events but loses none that
/// are still in the (capped) stream.
#[derive(Clone)]
pub struct EventTail {
    client: redis::Client,
    stream: String,
    interest: Option<Interest>,
    connected: Option<Connected>,
}

/// Whether a reader wants an event for these users.
type Interest = Arc<dyn Fn(&[Uuid]) -> bool + Send + Sync>;

/// Told whether a reader is connected.
type Connected = Arc<dyn Fn(bool) + Send + Sync>;

impl std::fmt::Debug for EventTail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventTail")
            .field("stream", &self.stream)
            .field("filtered", &self.interest.is_some())
            .finish_non_exhaustive()
    }
}

impl EventTail {
    /// A reader of `stream`.
    pub fn new(client: redis::Client, stream: String) -> Self {
        Self {
            client,
            stream,
            interest: None,
            connected: None,
        }
    }

    /// Calls `connected(true)` each time the tail is connected with its position fixed (what
    /// is published from then on reaches the handler), `connected(false)` each time it lost
    /// its connection (events published meanwhile arrive once it is back).
    pub fn reporting(mut self, connected: impl Fn(bool) + Send + Sync + 'static) -> Self {
        self.connected = Some(Arc::new(connected));
        self
    }

    /// Skips, unread past its audience, every event with an [`audience_of`] for which
    /// `interest` says no (a gateway holding no socket of those users); events without one
    /// always reach the handler.
    pub fn interested_in(
        mut self,
        interest: impl Fn(&[Uuid]) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.interest = Some(Arc::new(interest));
        self
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
            if let Some(connected) = &self.connected {
                connected(false);
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }

    /// An entry's event, unless its audience holds nobody this tail is interested in (then
    /// only the audience is read); `None`, logged, for an unreadable entry too.
    fn wanted(&self, entry: &redis::streams::StreamId) -> Option<EventEnvelope> {
        let read = super::event_json(entry).and_then(|json| {
            if let Some(interest) = &self.interest {
                if audience_of(&json).is_some_and(|audience| !interest(&audience)) {
                    return Ok(None);
                }
            }
            Ok(Some(serde_json::from_str(&json)?))
        });
        logged(entry, read).flatten()
    }

    async fn session(
        &self,
        last: &mut Option<String>,
        handler: &mut impl FnMut(EventEnvelope),
        ready: &tokio::sync::Notify,
    ) -> anyhow::Result<()> {
        use anyhow::Context as _;
        let mut conn = super::blocking_connection(&self.client)
            .await
            .context("connecting to Redis")?;
        let first = last.is_none();
        if first {
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
        }
        if let Some(connected) = &self.connected {
            connected(true);
        }
        if first {
            ready.notify_waiters();
            ready.notify_one();
        }
        loop {
            let from = last.clone().unwrap_or_else(|| "0-0".to_owned());
            for entry in read_entries_after(&mut conn, &self.stream, &from, 500).await? {
                if let Some(envelope) = self.wanted(&entry) {
                    handler(envelope);
                }
                *last = Some(entry.id);
            }
        }
    }
}

/// Up to `count` entries after `after` (an entry id, `0-0` for the start), waiting up to a few
/// seconds for one: each with its id and its event (`None`, logged, when unreadable).
pub async fn read_after(
    conn: &mut redis::aio::MultiplexedConnection,
    stream: &str,
    after: &str,
    count: usize,
) -> anyhow::Result<Vec<(String, Option<EventEnvelope>)>> {
    Ok(read_entries_after(conn, stream, after, count)
        .await?
        .into_iter()
        .map(|entry| {
            let envelope = readable(&entry);
            (entry.id, envelope)
        })
        .collect())
}

/// The raw entries [`read_after`] reads.
async fn read_entries_after(
    conn: &mut redis::aio::MultiplexedConnection,
    stream: &str,
    after: &str,
    count: usize,
) -> anyhow::Result<Vec<redis::streams::StreamId>> {
    use anyhow::Context as _;
    let reply: redis::streams::StreamReadReply = redis::cmd("XREAD")
        .arg("COUNT")
        .arg(count)
        .arg("BLOCK")
        .arg(super::READ_BLOCK.as_millis() as u64)
        .arg("STREAMS")
        .arg(stream)
        .arg(after)
        .query_async(conn)
        .await
        .context("reading the event stream")?;
    Ok(reply.keys.into_iter().flat_map(|key| key.ids).collect())
}

/// An entry's event; `None`, logged, when unreadable.
fn readable(entry: &redis::streams::StreamId) -> Option<EventEnvelope> {
    logged(entry, super::envelope_of(entry))
}

/// What was read of an entry; `None`, logged, when it could not be.
fn logged<T>(entry: &redis::streams::StreamId, read: anyhow::Result<T>) -> Option<T> {
    read.map_err(|error| {
        tracing::warn!(id = %entry.id, error = %error, "skipping unreadable event");
    })
    .ok()
}

/// Who an enveloped event (JSON) is for, read without reading the rest of it: the `audience`
/// of the events that carry one (those shown on sockets: messages, reactions, conversations,
/// read positions, presence); `None` for the others, which concern every reader, or when it
/// cannot be told.
pub fn audience_of(json: &str) -> Option<Vec<Uuid>> {
    // The envelope holds the event flattened: `{"id", "occurred_at", "type", "data"}`.
    #[derive(serde::Deserialize)]
    struct Envelope {
        data: Data,
    }
    #[derive(serde::Deserialize)]
    struct Data {
        audience: Option<Vec<Uuid>>,
    }
    serde_json::from_str::<Envelope>(json).ok()?.data.audience
}

/// What a reader that stopped after an entry needs to know to go on from there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamBounds {
    /// The newest entry's id (`0-0` for an empty or missing stream).
    pub last: String,
    /// Whether entries after the given id may be gone (trimmed, or the stream was lost and
    /// started again): a reader at that id cannot simply go on.
    pub gap_after: bool,
}

/// Whether the stream still holds everything after entry `after`, and its newest id. Exact
/// when nothing was ever trimmed (`entries-added` equals `length`) or everything was; else
/// conservative: the first entry must be at or before `after`.
pub async fn stream_bounds(
    conn: &mut redis::aio::MultiplexedConnection,
    stream: &str,
    after: &str,
) -> anyhow::Result<StreamBounds> {
    use anyhow::Context as _;
    let info: redis::RedisResult<std::collections::HashMap<String, redis::Value>> =
        redis::cmd("XINFO")
            .arg("STREAM")
            .arg(stream)
            .query_async(conn)
            .await;
    let info = match info {
        Ok(info) => info,
        // No such stream: nothing was ever written, or the stream was lost.
        Err(error) if error.kind() == redis::ErrorKind::ResponseError => {
            return Ok(StreamBounds {
                last: "0-0".to_owned(),
                gap_after: after != "0-0",
            });
        }
        Err(error) => return Err(error).context("reading the stream's bounds"),
    };
    let text = |value: Option<&redis::Value>| match value {
        Some(redis::Value::BulkString(bytes)) => String::from_utf8(bytes.clone()).ok(),
        Some(redis::Value::SimpleString(text)) => Some(text.clone()),
        _ => None,
    };
    let number = |key: &str| match info.get(key) {
        Some(redis::Value::Int(n)) => Some(*n),
        _ => None,
    };
    let last = text(info.get("last-generated-id")).unwrap_or_else(|| "0-0".to_owned());
    let after_id = EntryId::parse(after);
    let last_id = EntryId::parse(&last);
    let first = match info.get("first-entry") {
        Some(redis::Value::Array(entry)) => text(entry.first()),
        _ => None,
    };
    let deleted = text(info.get("max-deleted-entry-id")).map(|id| EntryId::parse(&id));
    let never_trimmed =
        number("entries-added").is_some() && number("entries-added") == number("length");
    let gap_after = if last_id < after_id {
        // The stream started again below our position: what we read was in a stream now gone.
        true
    } else if deleted.is_some_and(|deleted| deleted > after_id) {
        true
    } else if never_trimmed {
        false
    } else {
        match first {
            Some(first) => EntryId::parse(&first) > after_id,
            // Empty now: entries after ours were all trimmed, if there were any.
            None => last_id > after_id,
        }
    };
    Ok(StreamBounds { last, gap_after })
}

/// A stream entry id as its two numbers, ordered as Redis orders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct EntryId(u64, u64);

impl EntryId {
    /// `0-0` for anything malformed.
    fn parse(id: &str) -> Self {
        let (ms, seq) = id.split_once('-').unwrap_or((id, "0"));
        Self(ms.parse().unwrap_or(0), seq.parse().unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::{audience_of, EntryId};
    use crate::events::{DomainEvent, EventEnvelope};
    use uuid::Uuid;

    #[test]
    fn the_audience_is_read_from_events_that_have_one_only() {
        let audience = vec![Uuid::new_v4(), Uuid::new_v4()];
        let json = |event| serde_json::to_string(&EventEnvelope::now(event)).unwrap();
        let deleted = DomainEvent::ConversationDeleted {
            audience: audience.clone(),
            conversation_id: "c1".to_owned(),
        };
        assert_eq!(audience_of(&json(deleted)), Some(audience.clone()));
        let updated = DomainEvent::UserUpdated {
            user_uuid: audience[0],
        };
        assert_eq!(audience_of(&json(updated)), None);
        let removed = DomainEvent::FriendshipRemoved {
            user_uuid: audience[0],
            friend_uuid: audience[1],
        };
        assert_eq!(audience_of(&json(removed)), None);
        assert_eq!(audience_of("{not json"), None);
    }

    #[test]
    fn entry_ids_order_numerically() {
        assert!(EntryId::parse("9-5") < EntryId::parse("10-0"));
        assert!(EntryId::parse("10-2") < EntryId::parse("10-10"));
        assert_eq!(EntryId::parse("0-0"), EntryId::parse("garbage"));
    }
}
