//! Scenario 11, scale: what reads cost as data grows.
//!
//! - **list**: one reader with `conversations` direct conversations of `page_messages`
//!   messages each (10 of them unread in every one), listing them 1, 20 and 50 per page;
//! - **history**: conversations of 1,000 / 100,000 / 1,000,000 messages (20 unread): the
//!   newest history page, the conversation's view (its unread count), and a `resume` over the
//!   socket from 20 messages back, at each size.
//!
//! The messages are written straight into MongoDB in the service's document shape (sending a
//! million through the API would take the run's whole budget); users, friendships,
//! conversations and read positions go through the API. Reads are timed one at a time
//! (latency) and then from `concurrency` clients (throughput).

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use bson::{doc, oid::ObjectId, Document};
use chat_models::api::ws::{ClientFrame, ClientMessage, ResumeFrame, ResumePoint, ServerFrame};
use futures::{SinkExt as _, StreamExt as _};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::setup::{Services, User};
use crate::stats::percentiles;
use crate::ws::{open_socket, Socket};

/// The scenario's knobs.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// The Mongo server the services use (the messages are written into it).
    #[arg(long)]
    pub mongodb_uri: String,
    /// The services' database.
    #[arg(long)]
    pub mongodb_database: String,
    /// Conversations of the list's reader.
    #[arg(long, default_value_t = 50)]
    pub conversations: usize,
    /// Messages in each of them.
    #[arg(long, default_value_t = 10_000)]
    pub page_messages: i64,
    /// History sizes measured.
    #[arg(long, value_delimiter = ',', default_values_t = vec![1_000, 100_000, 1_000_000])]
    pub history_sizes: Vec<i64>,
    /// Page sizes of the list.
    #[arg(long, value_delimiter = ',', default_values_t = vec![1, 20, 50])]
    pub page_sizes: Vec<u32>,
    /// Requests timed one at a time, per measurement.
    #[arg(long, default_value_t = 200)]
    pub samples: usize,
    /// Clients for the throughput of the list.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Seconds of the throughput runs.
    #[arg(long, default_value_t = 5)]
    pub duration: u64,
}

/// Messages unread by the reader in each conversation.
const UNREAD: i64 = 10;
/// How far back a history conversation's reader is, and resumes from.
const BEHIND: i64 = 20;

/// Writes `count` messages into `conversation` (from `a` and `b` in turn, the last `tail`
/// all from `b`) and moves the conversation's counters, preview and marks past them, as the
/// service's sends would; the id of each `seq` asked for in `keep`.
async fn seed(
    db: &mongodb::Database,
    conversation: &str,
    (a, b): (&User, &User),
    count: i64,
    tail: i64,
    keep: &[i64],
) -> anyhow::Result<Vec<ObjectId>> {
    let conversation = ObjectId::parse_str(conversation)?;
    let messages = db.collection::<Document>("messages");
    let mut kept = vec![ObjectId::new(); keep.len()];
    let now = bson::DateTime::now();
    let mut batch = Vec::with_capacity(10_000);
    let mut last = None;
    let mut newest = std::collections::HashMap::new();
    for seq in 1..=count {
        let id = ObjectId::new();
        if let Some(index) = keep.iter().position(|wanted| *wanted == seq) {
            kept[index] = id;
        }
        let sender = if seq % 2 == 0 && seq <= count - tail {
            &a.id
        } else {
            &b.id
        };
        newest.insert(sender.clone(), seq);
        batch.push(doc! {
            "_id": id, "conversationId": conversation, "seq": seq, "senderUuid": sender,
            "text": format!("seeded message {seq}"), "timestamp": now, "version": seq,
        });
        last = Some((id, sender.clone()));
        if batch.len() == 10_000 || seq == count {
            messages
                .insert_many(std::mem::take(&mut batch))
                .ordered(false)
                .await?;
        }
    }
    let (id, sender) = last.context("nothing seeded")?;
    let mut set = doc! {
        "lastSeq": count, "version": count, "updatedAt": now,
        "lastMessage": { "messageId": id, "seq": count, "text": format!("seeded message {count}"),
                         "senderUuid": sender, "timestamp": now },
    };
    for (sender, seq) in newest {
        set.insert(format!("marks.sent.{sender}"), seq);
    }
    db.collection::<Document>("conversations")
        .update_one(doc! { "_id": conversation }, doc! { "$set": set })
        .await?;
    Ok(kept)
}

/// Moves `reader`'s position in `conversation` to `message` (through the API).
async fn read_up_to(
    services: &Services,
    reader: &User,
    conversation: &str,
    message: ObjectId,
) -> anyhow::Result<()> {
    let response = services
        .http()
        .post(format!(
            "{}/conversations/{conversation}/read",
            services.messages[0]
        ))
        .bearer_auth(&reader.access)
        .json(&json!({ "message_id": message.to_hex() }))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("read: {}", response.status());
    }
    Ok(())
}

/// Latencies of `samples` GETs of `url`, one at a time (after a few to warm up).
async fn timed(
    services: &Services,
    user: &User,
    url: &str,
    samples: usize,
) -> anyhow::Result<Vec<Duration>> {
    let mut latencies = Vec::with_capacity(samples);
    for n in 0..samples + 5 {
        let started = Instant::now();
        let response = services
            .http()
            .get(url)
            .bearer_auth(&user.access)
            .send()
            .await?;
        let status = response.status();
        let _ = response.bytes().await?;
        if !status.is_success() {
            bail!("GET {url}: {status}");
        }
        if n >= 5 {
            latencies.push(started.elapsed());
        }
    }
    Ok(latencies)
}

/// GETs of `url` from `clients` clients for `duration`: requests per second.
async fn throughput(
    services: &Services,
    user: &User,
    url: &str,
    clients: usize,
    duration: Duration,
) -> f64 {
    let deadline = Instant::now() + duration;
    let workers = (0..clients).map(|_| async move {
        let mut done = 0_u64;
        while Instant::now() < deadline {
            let ok = match services
                .http()
                .get(url)
                .bearer_auth(&user.access)
                .send()
                .await
            {
                Ok(response) => response.status().is_success() && response.bytes().await.is_ok(),
                Err(_) => false,
            };
            done += u64::from(ok);
        }
        done
    });
    let total: u64 = futures::future::join_all(workers).await.into_iter().sum();
    (total as f64 / duration.as_secs_f64()).round()
}

/// Times `samples` resumes over one socket from `BEHIND` messages back: `resume` sent →
/// `resume.done`.
async fn resumes(
    socket: &mut Socket,
    conversation: &str,
    last: i64,
    samples: usize,
) -> anyhow::Result<Vec<Duration>> {
    let mut latencies = Vec::with_capacity(samples);
    for _ in 0..samples {
        let frame = ClientFrame::new(ClientMessage::Resume(ResumeFrame {
            conversations: vec![ResumePoint {
                conversation_id: conversation.to_owned(),
                last_seq: last - BEHIND,
                last_version: Some(last - BEHIND),
            }],
        }));
        let started = Instant::now();
        socket
            .send(Message::text(serde_json::to_string(&frame)?))
            .await?;
        loop {
            let message = tokio::time::timeout(Duration::from_secs(30), socket.next())
                .await
                .context("no resume.done within 30 s")?
                .context("socket closed")??;
            let Message::Text(text) = message else {
                continue;
            };
            if let Ok(ServerFrame::ResumeDone { .. }) = serde_json::from_str(text.as_str()) {
                break;
            }
        }
        latencies.push(started.elapsed());
    }
    Ok(latencies)
}

/// Runs the scenario.
pub async fn run(services: &Services, options: &Options) -> anyhow::Result<Value> {
    let client = mongodb::Client::with_uri_str(&options.mongodb_uri).await?;
    let db = client.database(&options.mongodb_database);
    let base = services.messages[0].clone();
    let run = uuid::Uuid::new_v4().simple().to_string();
    let partners_needed = options.conversations.max(options.history_sizes.len());
    let people = services
        .register_many(&run[..8], partners_needed + 1)
        .await?;
    let (reader, partners) = people.split_first().context("no reader")?;

    // The list: a conversation with each partner, `page_messages` each, 10 unread.
    let seeding = Instant::now();
    let mut listed = Vec::new();
    for partner in partners.iter().take(options.conversations) {
        services.befriend(reader, partner).await?;
        let id = services.direct(reader, partner).await?;
        let kept = seed(
            &db,
            &id,
            (reader, partner),
            options.page_messages,
            UNREAD,
            &[options.page_messages - UNREAD],
        )
        .await?;
        read_up_to(services, reader, &id, kept[0]).await?;
        listed.push(id);
    }
    let mut pages = Vec::new();
    for &size in &options.page_sizes {
        let url = format!("{base}/conversations?limit={size}");
        let latencies = timed(services, reader, &url, options.samples).await?;
        let rate = throughput(
            services,
            reader,
            &url,
            options.concurrency,
            Duration::from_secs(options.duration),
        )
        .await;
        pages.push(json!({
            "page_size": size,
            "latency": percentiles(latencies),
            "requests_per_s": rate,
            "concurrency": options.concurrency,
        }));
    }

    // History sizes: a group of the reader and a partner (a friend already) for each.
    let mut history = Vec::new();
    let mut socket = open_socket(&base, reader, None).await?;
    for (index, &size) in options.history_sizes.iter().enumerate() {
        let a = &partners[index];
        let group = services.group(reader, &[a]).await?;
        // The reader's own messages after its position (no tail): the view counts them
        // (the path a deletion or a mention after the position takes), not marks alone.
        let kept = seed(&db, &group, (reader, a), size, 0, &[size - BEHIND]).await?;
        read_up_to(services, reader, &group, kept[0]).await?;
        let latest = timed(
            services,
            reader,
            &format!("{base}/conversations/{group}/messages?limit=50"),
            options.samples,
        )
        .await?;
        let unread = timed(
            services,
            reader,
            &format!("{base}/conversations/{group}"),
            options.samples,
        )
        .await?;
        let resume = resumes(&mut socket, &group, size, options.samples).await?;
        history.push(json!({
            "messages": size,
            "history": percentiles(latest),
            "unread": percentiles(unread),
            "resume": percentiles(resume),
        }));
    }
    Ok(json!({
        "scenario": "scale",
        "conversations": options.conversations,
        "messages_per_conversation": options.page_messages,
        "unread_per_conversation": UNREAD,
        "setup_seconds": seeding.elapsed().as_secs(),
        "pages": pages,
        "history": history,
    }))
}
