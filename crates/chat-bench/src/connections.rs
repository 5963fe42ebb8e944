//! Scenario 2, connections: idle WebSockets ramped to a target; connect rate and
//! message-service memory per socket.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use serde_json::{json, Value};

use crate::setup::Services;
use crate::ws::open_socket;

use crate::stats::rss_kib;

/// The connections scenario's knobs.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Sockets to open.
    #[arg(long, default_value_t = 10_000)]
    pub target: usize,
    /// Users the sockets belong to (each is a multi-device user).
    #[arg(long, default_value_t = 100)]
    pub users: usize,
    /// Sockets opened at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Source addresses 127.0.0.1..=127.0.0.N (about 28,000 sockets per address).
    #[arg(long, default_value_t = 4)]
    pub source_addresses: u8,
    /// message-service's pid, to read its resident memory.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Seconds to hold the sockets open after the ramp (memory settles).
    #[arg(long, default_value_t = 5)]
    pub hold: u64,
}

/// Runs the scenario.
pub async fn run(services: &Services, options: &Options) -> anyhow::Result<Value> {
    let Options {
        target,
        users,
        concurrency,
        source_addresses,
        server_pid,
        hold,
    } = options.clone();
    let run = uuid::Uuid::new_v4().simple().to_string();
    let people = services.register_many(&run[..8], users.max(1)).await?;
    let before = server_pid.and_then(rss_kib);
    let started = Instant::now();
    let sources: Vec<IpAddr> = (1..=source_addresses.max(1))
        .map(|last| IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        .collect();
    let opened = futures::stream::iter(0..target)
        .map(|index| {
            let user = &people[index % people.len()];
            let base = &services.messages[index % services.messages.len()];
            let source = sources[index % sources.len()];
            async move { open_socket(base, user, Some(source)).await }
        })
        .buffer_unordered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    let ramp = started.elapsed();
    let mut sockets = Vec::with_capacity(target);
    let mut failures: HashMap<String, usize> = HashMap::new();
    for outcome in opened {
        match outcome {
            Ok(socket) => sockets.push(socket),
            Err(error) => *failures.entry(error.to_string()).or_default() += 1,
        }
    }
    // Keep answering pings while holding, so the server does not close them as idle.
    let open = sockets.len();
    let holders: Vec<_> = sockets
        .into_iter()
        .map(|mut socket| {
            tokio::spawn(async move { while let Some(Ok(_)) = socket.next().await {} })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(hold)).await;
    let after = server_pid.and_then(rss_kib);
    for holder in holders {
        holder.abort();
    }
    let per_socket = match (before, after) {
        (Some(before), Some(after)) if open > 0 => {
            json!((after.saturating_sub(before) as f64 * 1024.0 / open as f64).round())
        }
        _ => json!(null),
    };
    Ok(json!({
        "scenario": "connections",
        "target": target,
        "open": open,
        "failures": failures,
        "users": people.len(),
        "ramp_seconds": (ramp.as_secs_f64() * 100.0).round() / 100.0,
        "connects_per_s": (open as f64 / ramp.as_secs_f64()).round(),
        "server_rss_before_kib": before,
        "server_rss_after_kib": after,
        "server_bytes_per_socket": per_socket,
    }))
}
