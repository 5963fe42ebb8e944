//! Scenario 5, resume: receivers on WebSockets drop their connection every few seconds while
//! messages flow, reconnect and send `resume`; replay time (resume sent → `resume.done`), and
//! proof that every message arrived exactly once.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::bail;
use chat_models::api::ws::{ClientFrame, ClientMessage, ResumeFrame, ResumePoint, ServerFrame};
use futures::{SinkExt as _, StreamExt as _};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::setup::{Services, User};
use crate::stats::percentiles;
use crate::ws::{open_socket, Socket};

/// The resume scenario's knobs.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Receivers (each with a sender friend and a direct conversation).
    #[arg(long, default_value_t = 10)]
    pub clients: usize,
    /// Messages per second, over all conversations.
    #[arg(long, default_value_t = 100)]
    pub rate: u64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Milliseconds a receiver stays connected before dropping.
    #[arg(long, default_value_t = 1500)]
    pub connected_ms: u64,
    /// Milliseconds it stays away.
    #[arg(long, default_value_t = 500)]
    pub away_ms: u64,
}

/// What one receiver saw.
#[derive(Default)]
struct Seen {
    seqs: HashSet<i64>,
    last: i64,
    duplicates: u64,
    replays: Vec<Duration>,
}

/// Reads frames until `until` (or `resume.done` when `until` is `None`), recording messages.
async fn collect(
    socket: &mut Socket,
    seen: &Mutex<Seen>,
    until: Option<Instant>,
    resumed_at: Option<Instant>,
) -> anyhow::Result<()> {
    let mut resumed_at = resumed_at;
    loop {
        let next = match until {
            Some(until) => match tokio::time::timeout_at(until.into(), socket.next()).await {
                Ok(next) => next,
                Err(_) => return Ok(()),
            },
            None => tokio::time::timeout(Duration::from_secs(30), socket.next())
                .await
                .map_err(|_| anyhow::anyhow!("no resume.done within 30 s"))?,
        };
        let Some(Ok(Message::Text(text))) = next else {
            if next.is_none() {
                bail!("socket closed");
            }
            continue;
        };
        let frame: ServerFrame = serde_json::from_str(text.as_str())?;
        let Ok(mut seen) = seen.lock() else {
            bail!("poisoned")
        };
        match frame {
            ServerFrame::MessageCreated(message) => {
                let seq = message.seq;
                if !seen.seqs.insert(seq) {
                    seen.duplicates += 1;
                }
                seen.last = seen.last.max(seq);
            }
            ServerFrame::ResumeDone { .. } => {
                if let Some(at) = resumed_at.take() {
                    seen.replays.push(at.elapsed());
                }
                if until.is_none() {
                    return Ok(());
                }
            }
            _ => {}
        }
    }
}

/// Connects and, if it has seen messages before, resumes from its highest `seq`.
async fn reconnect(
    services: &Services,
    user: &User,
    conversation: &str,
    seen: &Mutex<Seen>,
    n: usize,
) -> anyhow::Result<(Socket, Option<Instant>)> {
    let base = &services.messages[n % services.messages.len()];
    let mut socket = open_socket(base, user, None).await?;
    // Resume from the highest contiguous position, so a gap (if any) is replayed too.
    let from = seen
        .lock()
        .map(|seen| {
            let mut position = 0;
            while seen.seqs.contains(&(position + 1)) {
                position += 1;
            }
            position
        })
        .unwrap_or_default();
    let frame = ClientFrame::new(ClientMessage::Resume(ResumeFrame {
        conversations: vec![ResumePoint {
            conversation_id: conversation.to_owned(),
            last_seq: from,
            last_version: None,
        }],
    }));
    socket
        .send(Message::text(serde_json::to_string(&frame)?))
        .await?;
    Ok((socket, Some(Instant::now())))
}

/// Runs the scenario.
pub async fn run(services: &Services, options: &Options) -> anyhow::Result<Value> {
    if options.clients == 0 || options.rate == 0 {
        bail!("need clients and a positive rate");
    }
    let run = uuid::Uuid::new_v4().simple().to_string();
    let people = services
        .register_many(&run[..8], options.clients * 2)
        .await?;
    let mut pairs = Vec::new();
    for pair in people.chunks(2) {
        services.befriend(&pair[0], &pair[1]).await?;
        let conversation = services.direct(&pair[0], &pair[1]).await?;
        pairs.push((pair[0].clone(), pair[1].clone(), conversation));
    }

    let sending = Arc::new(AtomicBool::new(true));
    let receivers: Vec<_> = pairs
        .iter()
        .enumerate()
        .map(|(n, (_, receiver, conversation))| {
            let (services, receiver, conversation, sending) = (
                services,
                receiver.clone(),
                conversation.clone(),
                sending.clone(),
            );
            let seen = Arc::new(Mutex::new(Seen::default()));
            let (connected, away) = (
                Duration::from_millis(options.connected_ms),
                Duration::from_millis(options.away_ms),
            );
            let task_seen = seen.clone();
            let task = async move {
                let mut cycle = n;
                while sending.load(Ordering::Relaxed) {
                    let (mut socket, resumed_at) =
                        reconnect(services, &receiver, &conversation, &task_seen, cycle).await?;
                    collect(
                        &mut socket,
                        &task_seen,
                        Some(Instant::now() + connected),
                        resumed_at,
                    )
                    .await?;
                    drop(socket);
                    tokio::time::sleep(away).await;
                    cycle += 1;
                }
                // A last resume after the senders stopped: everything must be there.
                let (mut socket, resumed_at) =
                    reconnect(services, &receiver, &conversation, &task_seen, cycle).await?;
                collect(&mut socket, &task_seen, None, resumed_at).await?;
                anyhow::Ok(())
            };
            (seen, task)
        })
        .collect();
    let (seens, tasks): (Vec<_>, Vec<_>) = receivers.into_iter().unzip();

    let senders = async {
        let interval = Duration::from_secs_f64(1.0 / options.rate as f64);
        let mut ticker = tokio::time::interval(interval);
        let mut counts = vec![0_i64; pairs.len()];
        let total = options.rate * options.duration;
        for n in 0..total {
            ticker.tick().await;
            let index = (n as usize) % pairs.len();
            let (sender, _, conversation) = &pairs[index];
            services
                .send(sender, conversation, &format!("resume {n}"))
                .await?;
            counts[index] += 1;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        sending.store(false, Ordering::Relaxed);
        anyhow::Ok(counts)
    };
    let (counts, outcomes) = tokio::join!(senders, futures::future::join_all(tasks));
    let counts = counts?;
    for outcome in outcomes {
        outcome?;
    }

    let (mut lost, mut duplicates, mut replays, mut resumes) = (0_i64, 0_u64, Vec::new(), 0);
    for (seen, expected) in seens.iter().zip(&counts) {
        let Ok(seen) = seen.lock() else {
            bail!("poisoned")
        };
        lost += (1..=*expected)
            .filter(|seq| !seen.seqs.contains(seq))
            .count() as i64;
        duplicates += seen.duplicates;
        resumes += seen.replays.len();
        replays.extend(seen.replays.iter().copied());
    }
    Ok(json!({
        "scenario": "resume",
        "clients": options.clients,
        "messages_sent": counts.iter().sum::<i64>(),
        "resumes": resumes,
        "lost": lost,
        "duplicated": duplicates,
        "replay": percentiles(replays),
    }))
}
