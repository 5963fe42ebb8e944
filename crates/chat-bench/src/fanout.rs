//! Scenario 1, message fan-out: users in direct and group conversations, each on a
//! WebSocket, sending at a target rate; delivered messages/s, send-to-receive latency, lost
//! and duplicated deliveries.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::bail;
use futures::StreamExt as _;
use serde_json::{json, Value};

use crate::setup::Services;
use crate::stats::percentiles;
use crate::ws::{open_socket, record, send_numbered, Seen, Tally};

/// The fan-out scenario's knobs.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Users (paired into direct conversations).
    #[arg(long, default_value_t = 20)]
    pub users: usize,
    /// Users per group conversation besides the direct pairs (0: none).
    #[arg(long, default_value_t = 5)]
    pub group_size: usize,
    /// Messages per second, over all senders.
    #[arg(long, default_value_t = 200)]
    pub rate: u64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 20)]
    pub duration: u64,
}

/// Runs the scenario; the JSON result has `lost` and `duplicated` counts (both must be 0).
pub async fn run(services: &Services, options: &Options) -> anyhow::Result<Value> {
    let Options {
        users,
        group_size,
        rate,
        duration,
    } = options.clone();
    if users < 2 || rate == 0 {
        bail!("need at least 2 users and a positive rate");
    }
    let run = uuid::Uuid::new_v4().simple().to_string();
    let people = services.register_many(&run[..8], users).await?;
    // Direct pairs (0,1), (2,3)…, and groups of consecutive users.
    let mut conversations: Vec<(String, Vec<usize>)> = Vec::new();
    for pair in (0..users - 1).step_by(2) {
        services.befriend(&people[pair], &people[pair + 1]).await?;
        let id = services.direct(&people[pair], &people[pair + 1]).await?;
        conversations.push((id, vec![pair, pair + 1]));
    }
    if group_size >= 2 {
        for start in (0..users).step_by(group_size) {
            let members: Vec<usize> = (start..(start + group_size).min(users)).collect();
            if members.len() < 2 {
                continue;
            }
            conversations.push((services.group_of(&people, &members).await?, members));
        }
    }

    let seen: Arc<Mutex<Seen>> = Arc::default();
    let mut writers = Vec::new();
    let mut readers = Vec::new();
    for (index, user) in people.iter().enumerate() {
        let base = &services.messages[index % services.messages.len()];
        let (write, read) = open_socket(base, user, None).await?.split();
        writers.push(write);
        readers.push(tokio::spawn(record(read, seen.clone())));
    }

    // Send at the target rate, round-robin over conversations and their members.
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let total = rate * duration;
    let started = Instant::now();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for id in 0..total {
        ticker.tick().await;
        let (conversation, members) = &conversations[(id as usize) % conversations.len()];
        let sender = members[(id as usize / conversations.len()) % members.len()];
        if let Ok(mut seen) = seen.lock() {
            seen.sending(id, members.len() - 1);
        }
        send_numbered(&mut writers[sender], conversation, &run, id).await?;
    }
    let sending = started.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    for reader in &readers {
        reader.abort();
    }

    let seen = seen
        .lock()
        .map_err(|_| anyhow::anyhow!("a reader panicked"))?;
    let Tally {
        expected,
        received,
        lost,
        latencies,
        acks,
    } = seen.tally(..);
    let duplicates = seen.duplicated;
    Ok(json!({
        "scenario": "fanout",
        "users": users,
        "conversations": conversations.len(),
        "instances": services.messages.len(),
        "target_rate_per_s": rate,
        "messages_sent": total,
        "send_seconds": (sending.as_secs_f64() * 100.0).round() / 100.0,
        "deliveries_expected": expected,
        "deliveries_received": received,
        "delivered_per_s": (received as f64 / sending.as_secs_f64()).round(),
        "lost": lost,
        "duplicated": duplicates,
        "latency": percentiles(latencies),
        "ack_latency": percentiles(acks),
    }))
}
