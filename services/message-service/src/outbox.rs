//! Events are published to the Redis stream as the change they describe is stored; one that
//! cannot be (Redis away) waits in MongoDB (`outbox`) and is published, oldest first, as soon
//! as Redis answers again, so a Redis outage delays live events instead of dropping them.
//! While some wait, new events queue behind them, so subscribers see them in order.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bson::doc;
use bson::oid::ObjectId;
use chat_models::events::{DomainEvent, EventEnvelope, EventPublisher};
use futures::TryStreamExt as _;
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};

/// How often waiting events are tried again.
const RETRY_EVERY: Duration = Duration::from_millis(500);
/// Events published per MongoDB read while catching up.
const BATCH: i64 = 100;

/// An event waiting for Redis.
#[derive(Debug, Serialize, Deserialize)]
struct Waiting {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    id: Option<ObjectId>,
    /// The envelope as JSON (its id and time are kept, so consumers can de-duplicate).
    envelope: String,
}

/// The publisher with its MongoDB fallback.
#[derive(Clone, Debug)]
pub struct Outbox {
    events: EventPublisher,
    waiting: Collection<Waiting>,
    /// Some events wait (new ones queue behind them).
    behind: Arc<AtomicBool>,
}

impl Outbox {
    /// The outbox in `db`, publishing with `events`.
    pub async fn new(db: &Database, events: EventPublisher) -> mongodb::error::Result<Self> {
        let waiting = db.collection::<Waiting>("outbox");
        let behind = waiting.estimated_document_count().await? > 0;
        Ok(Self {
            events,
            waiting,
            behind: Arc::new(AtomicBool::new(behind)),
        })
    }

    /// Publishes `event` now, or parks it until Redis answers. A failure of both is logged
    /// (the change stands; clients catch up from MongoDB with `resume` and `/changes`).
    pub async fn publish(&self, event: DomainEvent) {
        let envelope = EventEnvelope::now(event);
        if !self.behind.load(Ordering::Acquire) {
            match self.events.publish_envelope(&envelope).await {
                Ok(_) => return,
                Err(error) => {
                    tracing::warn!(event = envelope.event.name(), error = %error, "event parked until Redis answers");
                }
            }
        }
        self.behind.store(true, Ordering::Release);
        let parked = match serde_json::to_string(&envelope) {
            Ok(json) => Waiting {
                id: None,
                envelope: json,
            },
            Err(error) => {
                tracing::error!(error = %error, "event not serialisable; dropped");
                return;
            }
        };
        if let Err(error) = self.waiting.insert_one(parked).await {
            tracing::error!(event = envelope.event.name(), error = %error, "event lost: neither Redis nor MongoDB took it");
        }
    }

    /// Publishes waiting events, oldest first, for as long as the service runs.
    pub fn relay(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(RETRY_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                if let Err(error) = self.catch_up().await {
                    tracing::debug!(error = %error, "outbox not drained yet");
                }
            }
        })
    }

    /// Publishes what waits until nothing does (then new events go straight out again) or
    /// Redis fails again.
    async fn catch_up(&self) -> anyhow::Result<()> {
        loop {
            let batch: Vec<Waiting> = self
                .waiting
                .find(doc! {})
                .sort(doc! { "_id": 1 })
                .limit(BATCH)
                .await?
                .try_collect()
                .await?;
            if batch.is_empty() {
                self.behind.store(false, Ordering::Release);
                return Ok(());
            }
            for waiting in batch {
                match serde_json::from_str::<EventEnvelope>(&waiting.envelope) {
                    Ok(envelope) => {
                        self.events.publish_envelope(&envelope).await?;
                    }
                    Err(error) => {
                        tracing::error!(error = %error, "unreadable parked event; dropped")
                    }
                }
                self.waiting.delete_one(doc! { "_id": waiting.id }).await?;
            }
        }
    }
}
