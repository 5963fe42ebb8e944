//! The event stream in Redis: [`EventPublisher`] appends, [`EventTail`] reads everything from
//! now on (each process sees every event).

use redis::aio::ConnectionManager;

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
        let mut conn = super::blocking_connection(&self.client)
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
                .arg(super::READ_BLOCK.as_millis() as u64)
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
