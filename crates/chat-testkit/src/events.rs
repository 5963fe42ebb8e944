//! The event stream as the services wrote it (this stack's prefix only).

use std::time::Duration;

use serde_json::Value;

use crate::Stack;

impl Stack {
    /// Every event in this stack's stream, oldest first (envelopes: `type`, `data`, ...).
    pub async fn events(&self) -> Vec<Value> {
        let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(format!("{}events", self.prefix))
            .arg("-")
            .arg("+")
            .query_async(&mut self.redis.clone())
            .await
            .unwrap();
        entries
            .ids
            .iter()
            .map(|entry| serde_json::from_str(&entry.get::<String>("event").unwrap()).unwrap())
            .collect()
    }

    /// The events, waiting up to 5 s until `done` accepts them.
    pub async fn events_until(&self, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        for _ in 0..50 {
            let events = self.events().await;
            if done(&events) {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the expected events were not published within 5 s; got {:?}",
            self.events().await
        );
    }

    /// The first event of type `kind`, waiting up to 5 s for it.
    pub async fn wait_for_event(&self, kind: &str) -> Value {
        let events = self
            .events_until(|events| events.iter().any(|event| event["type"] == kind))
            .await;
        events
            .into_iter()
            .find(|event| event["type"] == kind)
            .unwrap()
    }

    /// The events once all of `kinds` are among them (waiting up to 5 s).
    pub async fn wait_for_events(&self, kinds: &[&str]) -> Vec<Value> {
        self.events_until(|events| {
            kinds
                .iter()
                .all(|kind| events.iter().any(|event| event["type"] == *kind))
        })
        .await
    }
}
