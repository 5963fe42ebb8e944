//! [`EventConsumer`]: one member of a consumer group on the event stream, with retries of
//! failed entries and claims of a dead member's.

use std::time::Duration;

use super::EventEnvelope;

/// Entries read at most at once.
const READ_COUNT: usize = 100;
/// How long a consumer waits, after a read that found fewer than [`READ_COUNT`] entries,
/// before it reads again (unless told otherwise): events arriving meanwhile are read and
/// acknowledged together. A group's work is not a socket's, and under load one read per event
/// and group cost more than the work itself (issue 18): two Redis commands per event and
/// group, each a wake-up of a task and a system call.
pub const DEFAULT_PAUSE: Duration = Duration::from_millis(50);

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
    claim_idle: Duration,
    /// The wait between a read that was not full and the next (`DEFAULT_PAUSE`).
    pause: Duration,
    from_start: bool,
    /// The event types handled (`None`: all).
    types: Option<&'static [&'static str]>,
}

impl EventConsumer {
    /// A consumer named `consumer` in `group` (usually the service name) on `stream`.
    pub fn new(client: redis::Client, stream: String, group: &str, consumer: &str) -> Self {
        Self {
            client,
            stream,
            group: group.to_owned(),
            consumer: consumer.to_owned(),
            claim_idle: Duration::from_secs(60),
            pause: DEFAULT_PAUSE,
            from_start: true,
            types: None,
        }
    }

    /// A member of `group` (usually the service name) on the stream under `prefix`, named
    /// uniquely for this process, so several instances of a service share the group's work.
    pub fn joining(client: redis::Client, prefix: &str, group: &str) -> Self {
        let consumer = format!("{group}-{}", uuid::Uuid::new_v4().simple());
        Self::new(client, super::stream_name(prefix), group, &consumer)
    }

    /// How long an unacknowledged entry waits before another attempt (default 60 s).
    #[must_use]
    pub fn with_claim_idle(mut self, idle: Duration) -> Self {
        self.claim_idle = idle;
        self
    }

    /// How long to wait after a read that was not full before reading again (default
    /// [`DEFAULT_PAUSE`]; zero: read again at once). The first event after a quiet time is
    /// handled at once; the ones following it within the pause wait for its end, at most.
    #[must_use]
    pub fn with_pause(mut self, pause: Duration) -> Self {
        self.pause = pause;
        self
    }

    /// A group created by this consumer starts with the events written after its creation,
    /// not with the whole retained stream (for work that is only worth doing now, such as
    /// notifications).
    #[must_use]
    pub fn new_events_only(mut self) -> Self {
        self.from_start = false;
        self
    }

    /// Only events of these types (their names, [`super::DomainEvent::name`]) reach the
    /// handler; the others are acknowledged unread (the type is a field of the stream entry
    /// of its own), so a group that acts on a few kinds of events does not decode every
    /// message of the deployment.
    #[must_use]
    pub fn only(mut self, types: &'static [&'static str]) -> Self {
        self.types = Some(types);
        self
    }

    /// Whether an entry's type is one this consumer handles (an entry without one is read).
    fn wanted(&self, entry: &redis::streams::StreamId) -> bool {
        let Some(types) = self.types else {
            return true;
        };
        entry
            .get::<String>("type")
            .is_none_or(|kind| types.contains(&kind.as_str()))
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
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn session<F, Fut>(&self, handler: &F) -> anyhow::Result<()>
    where
        F: Fn(EventEnvelope) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<()>>,
    {
        use anyhow::Context as _;
        // A connection of its own: XREADGROUP BLOCK would stall a shared, multiplexed one.
        let mut conn = super::blocking_connection(&self.client)
            .await
            .context("connecting to Redis")?;
        // From the stream's start (unless asked otherwise), so a group created after events were
        // written still sees them.
        let created: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.stream)
            .arg(&self.group)
            .arg(if self.from_start { "0" } else { "$" })
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
            if last_claim.elapsed() >= self.claim_idle.min(Duration::from_secs(5)) {
                last_claim = std::time::Instant::now();
                let claimed: redis::streams::StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
                    .arg(&self.stream)
                    .arg(&self.group)
                    .arg(&self.consumer)
                    .arg(idle_ms)
                    .arg("0-0")
                    .arg("COUNT")
                    .arg(READ_COUNT)
                    .query_async(&mut conn)
                    .await
                    .context("claiming idle events")?;
                self.handle(&mut conn, claimed.claimed, handler).await?;
            }
            let block_ms = idle_ms.clamp(100, super::READ_BLOCK.as_millis() as u64);
            let reply: redis::streams::StreamReadReply = redis::cmd("XREADGROUP")
                .arg("GROUP")
                .arg(&self.group)
                .arg(&self.consumer)
                .arg("COUNT")
                .arg(READ_COUNT)
                .arg("BLOCK")
                .arg(block_ms)
                .arg("STREAMS")
                .arg(&self.stream)
                .arg(">")
                .query_async(&mut conn)
                .await
                .context("reading the event stream")?;
            metrics::counter!("event_reads_total", "group" => self.group.clone()).increment(1);
            let entries: Vec<_> = reply.keys.into_iter().flat_map(|key| key.ids).collect();
            let (any, full) = (!entries.is_empty(), entries.len() >= READ_COUNT);
            self.handle(&mut conn, entries, handler).await?;
            if any && !full {
                tokio::time::sleep(self.pause).await;
            }
        }
    }

    /// Runs the handler on each entry and acknowledges, at once, the ones it handled (and
    /// unreadable ones, which no retry can fix, and those of types it does not handle). A
    /// failed entry stays pending for a later claim. Entries handled before a crash that
    /// stopped the acknowledgement are handled again: handlers are idempotent.
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
        let mut done = Vec::with_capacity(entries.len());
        for entry in entries {
            if !self.wanted(&entry) {
                done.push(entry.id);
                continue;
            }
            match super::envelope_of(&entry) {
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
            done.push(entry.id);
        }
        if done.is_empty() {
            return Ok(());
        }
        redis::cmd("XACK")
            .arg(&self.stream)
            .arg(&self.group)
            .arg(&done)
            .query_async::<()>(&mut *conn)
            .await
            .context("acknowledging events")?;
        Ok(())
    }
}
