//! `chat-bench`: drives a running stack and prints one JSON result per scenario.
//!
//! ```text
//! chat-bench fanout      --users 20 --group-size 5 --rate 200 --duration 20
//! chat-bench connections --target 10000 --users 100 --server-pid <message-service pid>
//! ```
//!
//! Scenarios register their own users (the stack's register rate limit must allow it).

mod setup;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand};
use futures::{SinkExt as _, StreamExt as _};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::Message;

use setup::{Services, User};

#[derive(Parser)]
#[command(name = "chat-bench", about = "Load generator for the chat platform")]
struct Cli {
    /// user-service base URL.
    #[arg(long, default_value = "http://127.0.0.1:5001", global = true)]
    users_url: String,
    /// friends-service base URL.
    #[arg(long, default_value = "http://127.0.0.1:5002", global = true)]
    friends_url: String,
    /// message-service base URLs (WebSockets are spread over them; repeat the flag).
    #[arg(
        long = "messages-url",
        default_value = "http://127.0.0.1:5003",
        global = true
    )]
    messages_urls: Vec<String>,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// Users in direct and group conversations, each on a WebSocket, sending at a target rate:
    /// delivered messages/s, send-to-receive latency, lost and duplicated deliveries.
    Fanout {
        /// Users (paired into direct conversations).
        #[arg(long, default_value_t = 20)]
        users: usize,
        /// Users per group conversation besides the direct pairs (0: none).
        #[arg(long, default_value_t = 5)]
        group_size: usize,
        /// Messages per second, over all senders.
        #[arg(long, default_value_t = 200)]
        rate: u64,
        /// Seconds of sending.
        #[arg(long, default_value_t = 20)]
        duration: u64,
    },
    /// Idle WebSockets ramped to a target: connect rate and message-service memory per socket.
    Connections {
        /// Sockets to open.
        #[arg(long, default_value_t = 10_000)]
        target: usize,
        /// Users the sockets belong to (each is a multi-device user).
        #[arg(long, default_value_t = 100)]
        users: usize,
        /// Sockets opened at once.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Source addresses 127.0.0.1..=127.0.0.N (about 28,000 sockets per address).
        #[arg(long, default_value_t = 4)]
        source_addresses: u8,
        /// message-service's pid, to read its resident memory.
        #[arg(long)]
        server_pid: Option<u32>,
        /// Seconds to hold the sockets open after the ramp (memory settles).
        #[arg(long, default_value_t = 5)]
        hold: u64,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let services = Services::new(&cli.users_url, &cli.friends_url, &cli.messages_urls)?;
    let result = match cli.scenario {
        Scenario::Fanout {
            users,
            group_size,
            rate,
            duration,
        } => fanout(&services, users, group_size, rate, duration).await?,
        Scenario::Connections {
            target,
            users,
            concurrency,
            source_addresses,
            server_pid,
            hold,
        } => {
            connections(
                &services,
                target,
                users,
                concurrency,
                source_addresses,
                server_pid,
                hold,
            )
            .await?
        }
    };
    println!("{}", serde_json::to_string_pretty(&result)?);
    Ok(())
}

/// Milliseconds with three decimals.
fn ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e6).round() / 1e3
}

/// p50/p95/p99/max of latencies.
fn percentiles(mut samples: Vec<Duration>) -> Value {
    if samples.is_empty() {
        return json!(null);
    }
    samples.sort_unstable();
    let at = |q: f64| {
        let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
        ms(samples[index.min(samples.len() - 1)])
    };
    json!({
        "count": samples.len(),
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": at(1.0),
    })
}

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Opens a socket as `user` (optionally from a given local address) and waits for `ready`.
async fn open_socket(base: &str, user: &User, source: Option<IpAddr>) -> anyhow::Result<Socket> {
    let url = format!("{}/ws", base.replacen("http://", "ws://", 1));
    let mut request = url.as_str().into_client_request()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {}", user.access).parse()?);
    let host = request
        .uri()
        .authority()
        .context("no host in the URL")?
        .as_str()
        .to_owned();
    let address: SocketAddr = tokio::net::lookup_host(&host)
        .await?
        .next()
        .context("cannot resolve the host")?;
    let socket = tokio::net::TcpSocket::new_v4()?;
    if let Some(source) = source {
        socket.bind(SocketAddr::new(source, 0))?;
    }
    let stream = socket.connect(address).await?;
    let (mut socket, _) = tokio_tungstenite::client_async(request, stream).await?;
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => {
                let frame: Value = serde_json::from_str(text.as_str())?;
                if frame["type"] == "ready" {
                    return Ok(socket);
                }
            }
            Some(Ok(_)) => continue,
            Some(Err(error)) => return Err(error.into()),
            None => bail!("closed before ready"),
        }
    }
}

/// Deliveries of one message: when it was sent and to how many it should arrive.
struct Sent {
    at: Instant,
    expected: usize,
    received: usize,
}

async fn fanout(
    services: &Services,
    users: usize,
    group_size: usize,
    rate: u64,
    duration: u64,
) -> anyhow::Result<Value> {
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
            for &member in &members[1..] {
                services
                    .befriend(&people[members[0]], &people[member])
                    .await?;
            }
            let others: Vec<&User> = members[1..].iter().map(|&m| &people[m]).collect();
            let id = services.group(&people[members[0]], &others).await?;
            conversations.push((id, members));
        }
    }

    let sent: Arc<Mutex<HashMap<u64, Sent>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let duplicates = Arc::new(Mutex::new(0_u64));
    let mut writers = Vec::new();
    let mut readers = Vec::new();
    for (index, user) in people.iter().enumerate() {
        let base = &services.messages[index % services.messages.len()];
        let socket = open_socket(base, user, None).await?;
        let (write, mut read) = socket.split();
        writers.push(write);
        let (sent, latencies, duplicates) = (sent.clone(), latencies.clone(), duplicates.clone());
        readers.push(tokio::spawn(async move {
            while let Some(Ok(message)) = read.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let Ok(frame) = serde_json::from_str::<Value>(text.as_str()) else {
                    continue;
                };
                if frame["type"] != "message.created" {
                    continue;
                }
                let Some(id) = frame["data"]["text"]
                    .as_str()
                    .and_then(|text| text.strip_prefix("bench "))
                    .and_then(|id| id.parse::<u64>().ok())
                else {
                    continue;
                };
                let now = Instant::now();
                if let Ok(mut sent) = sent.lock() {
                    if let Some(entry) = sent.get_mut(&id) {
                        entry.received += 1;
                        if entry.received > entry.expected {
                            if let Ok(mut duplicates) = duplicates.lock() {
                                *duplicates += 1;
                            }
                        } else if let Ok(mut latencies) = latencies.lock() {
                            latencies.push(now - entry.at);
                        }
                    }
                }
            }
        }));
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
        if let Ok(mut sent) = sent.lock() {
            sent.insert(
                id,
                Sent {
                    at: Instant::now(),
                    expected: members.len() - 1,
                    received: 0,
                },
            );
        }
        let frame = json!({ "type": "message.send", "data": {
            "conversation_id": conversation, "text": format!("bench {id}"), "nonce": format!("{run}-{id}") } });
        writers[sender]
            .send(Message::text(frame.to_string()))
            .await
            .context("sending")?;
    }
    let sending = started.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    for reader in &readers {
        reader.abort();
    }

    let (expected, received, lost) = sent
        .lock()
        .map(|sent| {
            sent.values().fold((0, 0, 0), |(e, r, l), entry| {
                (
                    e + entry.expected,
                    r + entry.received.min(entry.expected),
                    l + entry.expected.saturating_sub(entry.received),
                )
            })
        })
        .unwrap_or_default();
    let latencies = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    let duplicates = duplicates.lock().map(|d| *d).unwrap_or_default();
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
    }))
}

/// The resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}

async fn connections(
    services: &Services,
    target: usize,
    users: usize,
    concurrency: usize,
    source_addresses: u8,
    server_pid: Option<u32>,
    hold: u64,
) -> anyhow::Result<Value> {
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
