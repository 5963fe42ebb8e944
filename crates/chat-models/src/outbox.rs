//! Transactional outbox: an event is inserted in the same MySQL transaction as the change it
//! describes, then a relay appends it to the Redis stream and deletes the row. Delivery is
//! at-least-once; consumers de-duplicate by the envelope id. Each service keeps the table in its
//! own schema:
//!
//! ```sql
//! CREATE TABLE outbox_events (
//!     id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
//!     event_type VARCHAR(64) NOT NULL,
//!     payload TEXT NOT NULL,
//!     created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
//! );
//! ```

use std::sync::Arc;
use std::time::Duration;

use crate::events::{EventEnvelope, EventPublisher};
use anyhow::Context as _;
use sqlx::{MySqlConnection, MySqlPool};
use tokio::sync::Notify;

/// Records an event inside the caller's transaction.
pub async fn insert_event(
    conn: &mut MySqlConnection,
    envelope: &EventEnvelope,
) -> anyhow::Result<()> {
    let payload = serde_json::to_string(envelope).context("serialising an event")?;
    sqlx::query("INSERT INTO outbox_events (event_type, payload) VALUES (?, ?)")
        .bind(envelope.event.name())
        .bind(payload)
        .execute(conn)
        .await
        .context("inserting an outbox event")?;
    Ok(())
}

/// Wakes the relay after a commit, so events go out at once rather than at the next poll.
#[derive(Clone, Default)]
pub struct OutboxSignal(Arc<Notify>);

impl OutboxSignal {
    /// Asks the relay to publish now.
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// Publishes pending events until the process ends: on every wake-up and every `interval`.
pub async fn run_relay(
    pool: MySqlPool,
    publisher: EventPublisher,
    signal: OutboxSignal,
    interval: Duration,
) {
    loop {
        match publish_pending(&pool, &publisher).await {
            Ok(0) => {}
            Ok(count) => tracing::debug!(count, "outbox events published"),
            Err(error) => tracing::warn!(error = ?error, "outbox relay failed; retrying"),
        }
        tokio::select! {
            () = signal.0.notified() => {}
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// Publishes up to 100 pending events; rows locked by another instance are skipped.
pub async fn publish_pending(
    pool: &MySqlPool,
    publisher: &EventPublisher,
) -> anyhow::Result<usize> {
    let mut tx = pool
        .begin()
        .await
        .context("starting the outbox transaction")?;
    let rows: Vec<(u64, String)> = sqlx::query_as(
        "SELECT id, payload FROM outbox_events ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED",
    )
    .fetch_all(&mut *tx)
    .await
    .context("reading the outbox")?;
    for (id, payload) in &rows {
        match serde_json::from_str::<EventEnvelope>(payload) {
            Ok(envelope) => {
                publisher
                    .publish_envelope(&envelope)
                    .await
                    .context("appending to the event stream")?;
            }
            // Never produced by this code; dropped (its content logged for whoever looks) so it
            // cannot block every later event.
            Err(error) => {
                tracing::error!(id, %error, payload, "dropping an unreadable outbox event");
            }
        }
        sqlx::query("DELETE FROM outbox_events WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await.context("committing the outbox")?;
    Ok(rows.len())
}
