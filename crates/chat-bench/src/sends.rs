//! Scenario 9, sends and the store's own cost, in one run:
//!
//! - **busy**: `clients` members of one group all sending into it as fast as they are
//!   answered; sends/s, latency, and the group's history read back afterwards: every `seq`
//!   from 1 to the last exactly once (gap-free, none duplicated), as many as were acknowledged;
//! - **spread**: the same clients, each sending into a direct conversation of their own;
//! - **raw**: the Mongo server alone, from as many clients, running the transaction shape of a
//!   send (increment a counter, insert a message-sized document, update a second document,
//!   commit with `w: majority, j: true`), on a counter per client (as spread) and on one
//!   shared counter (as busy, conflicts retried).
//!
//! `store_cost_ratio` is raw's transactions/s over spread's sends/s: what a send costs beyond
//! the store's own work (1.0 is the store alone).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use bson::{doc, oid::ObjectId, Document};
use mongodb::error::TRANSIENT_TRANSACTION_ERROR;
use mongodb::options::{Acknowledgment, WriteConcern};
use serde_json::{json, Value};

use crate::setup::{Services, User};
use crate::stats::percentiles;

/// The scenario's knobs.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Concurrent senders.
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// The Mongo server the services use (for the raw baseline; none: skipped).
    #[arg(long)]
    pub mongodb_uri: Option<String>,
}

/// Closed-loop senders: `clients` workers, each calling `send(worker, n)` until the deadline.
async fn closed_loop<F, Fut>(clients: usize, duration: Duration, send: F) -> (Vec<Duration>, usize)
where
    F: Fn(usize, usize) -> Fut + Sync,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + duration;
    let send = &send;
    let workers = (0..clients).map(|worker| async move {
        let mut latencies = Vec::new();
        let mut errors = 0;
        let mut n = 0;
        while Instant::now() < deadline {
            let started = Instant::now();
            if send(worker, n).await {
                latencies.push(started.elapsed());
            } else {
                errors += 1;
            }
            n += 1;
        }
        (latencies, errors)
    });
    let mut all = Vec::new();
    let mut errors = 0;
    for (latencies, failed) in futures::future::join_all(workers).await {
        all.extend(latencies);
        errors += failed;
    }
    (all, errors)
}

/// One REST send; whether it was stored.
async fn send(
    services: &Services,
    base: &str,
    user: &User,
    conversation: &str,
    text: String,
) -> bool {
    let request = services
        .http()
        .post(format!("{base}/conversations/{conversation}/messages"))
        .bearer_auth(&user.access)
        .json(&json!({ "text": text }));
    match request.send().await {
        Ok(response) => {
            let ok = response.status().is_success();
            let _ = response.bytes().await;
            ok
        }
        Err(_) => false,
    }
}

/// The `seq` of every message of a conversation, oldest first, paged with `after`.
async fn all_seqs(
    services: &Services,
    user: &User,
    conversation: &str,
) -> anyhow::Result<Vec<i64>> {
    let base = &services.messages[0];
    let mut seqs = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut url = format!("{base}/conversations/{conversation}/messages?limit=100");
        if let Some(after) = &after {
            url.push_str(&format!("&after={after}"));
        } else {
            // The oldest message first: page back to it once, then forward from it.
            let first = first_message(services, user, conversation).await?;
            seqs.push(first.1);
            url.push_str(&format!("&after={}", first.0));
        }
        let page = get_page(services, user, &url).await?;
        let messages = page["messages"].as_array().context("no messages")?;
        if messages.is_empty() {
            return Ok(seqs);
        }
        for message in messages {
            seqs.push(message["seq"].as_i64().context("no seq")?);
        }
        after = messages
            .last()
            .and_then(|m| m["id"].as_str())
            .map(str::to_owned);
    }
}

/// A history page as `user`.
async fn get_page(services: &Services, user: &User, url: &str) -> anyhow::Result<Value> {
    Ok(services
        .http()
        .get(url)
        .bearer_auth(&user.access)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

/// The id and `seq` of a conversation's first message (paging back from the newest).
async fn first_message(
    services: &Services,
    user: &User,
    conversation: &str,
) -> anyhow::Result<(String, i64)> {
    let base = &services.messages[0];
    let mut url = format!("{base}/conversations/{conversation}/messages?limit=100");
    loop {
        let page = get_page(services, user, &url).await?;
        let messages = page["messages"].as_array().context("no messages")?;
        let oldest = messages.last().context("an empty conversation")?;
        let id = oldest["id"].as_str().context("no id")?.to_owned();
        if page["has_more"] != true {
            return Ok((id, oldest["seq"].as_i64().context("no seq")?));
        }
        url = format!("{base}/conversations/{conversation}/messages?limit=100&before={id}");
    }
}

/// Runs the scenario.
pub async fn run(services: &Services, options: &Options) -> anyhow::Result<Value> {
    let clients = options.clients;
    if clients < 2 {
        bail!("need at least 2 clients");
    }
    let duration = Duration::from_secs(options.duration);
    let run = uuid::Uuid::new_v4().simple().to_string();
    let people = services.register_many(&run[..8], clients * 2).await?;
    let (members, partners) = people.split_at(clients);
    // The busy group: the first member is its admin, friends with the others.
    for member in &members[1..] {
        services.befriend(&members[0], member).await?;
    }
    let others: Vec<&User> = members[1..].iter().collect();
    let group = services.group(&members[0], &others).await?;
    // A direct conversation per client, with a partner of its own.
    let mut directs = Vec::new();
    for (member, partner) in members.iter().zip(partners) {
        services.befriend(member, partner).await?;
        directs.push(services.direct(member, partner).await?);
    }
    let instances = services.messages.len();

    let (busy, busy_errors) = closed_loop(clients, duration, |worker, n| {
        let base = &services.messages[(worker + n) % instances];
        send(
            services,
            base,
            &members[worker],
            &group,
            format!("busy {worker} {n}"),
        )
    })
    .await;
    let acknowledged = busy.len();
    let seqs = all_seqs(services, &members[0], &group).await?;
    let gaps = seqs
        .windows(2)
        .filter(|pair| pair[1] != pair[0] + 1)
        .count()
        + usize::from(seqs.first().is_some_and(|first| *first != 1));
    let stored = seqs.len();

    let (spread, spread_errors) = closed_loop(clients, duration, |worker, n| {
        let base = &services.messages[(worker + n) % instances];
        send(
            services,
            base,
            &members[worker],
            &directs[worker],
            format!("spread {worker} {n}"),
        )
    })
    .await;

    let raw = match &options.mongodb_uri {
        Some(uri) => Some(raw_baseline(uri, &run, clients, duration).await?),
        None => None,
    };
    let seconds = duration.as_secs_f64();
    let busy_rate = (acknowledged as f64 / seconds).round();
    let spread_rate = (spread.len() as f64 / seconds).round();
    let ratio = raw
        .as_ref()
        .and_then(|raw| raw["per_client_counter"]["transactions_per_s"].as_f64())
        .map(|raw_rate| (raw_rate / spread_rate.max(1.0) * 100.0).round() / 100.0);
    Ok(json!({
        "scenario": "sends",
        "clients": clients,
        "instances": instances,
        "seconds_per_run": options.duration,
        "busy": {
            "sends_per_s": busy_rate,
            "acknowledged": acknowledged,
            "errors": busy_errors,
            "stored": stored,
            "gaps": gaps,
            "duplicated_or_lost": (stored as i64 - acknowledged as i64).abs(),
            "latency": percentiles(busy),
        },
        "spread": {
            "sends_per_s": spread_rate,
            "errors": spread_errors,
            "latency": percentiles(spread),
        },
        "raw_store": raw,
        "store_cost_ratio": ratio,
    }))
}

/// The store alone: the transaction shape of a send from `clients` clients, on a counter per
/// client and then on one shared counter; in a database of its own, dropped afterwards.
async fn raw_baseline(
    uri: &str,
    run: &str,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Value> {
    let client = mongodb::Client::with_uri_str(uri).await?;
    let db = client.database(&format!("bench_raw_{}", &run[..8]));
    let counters = db.collection::<Document>("counters");
    let messages = db.collection::<Document>("messages");
    messages
        .create_index(
            mongodb::IndexModel::builder()
                .keys(doc! { "counter": 1, "seq": 1 })
                .build(),
        )
        .await?;
    let ids: Arc<Vec<ObjectId>> = Arc::new((0..=clients).map(|_| ObjectId::new()).collect());
    for id in ids.iter() {
        counters
            .insert_one(doc! { "_id": id, "seq": 0_i64 })
            .await?;
    }
    let mut results = serde_json::Map::new();
    for (name, shared) in [("per_client_counter", false), ("shared_counter", true)] {
        let retries = std::sync::atomic::AtomicUsize::new(0);
        let (latencies, errors) = closed_loop(clients, duration, |worker, _| {
            let counter = if shared { ids[clients] } else { ids[worker] };
            let (client, counters, messages, retries) = (&client, &counters, &messages, &retries);
            async move {
                raw_transaction(client, counters, messages, counter, retries)
                    .await
                    .is_ok()
            }
        })
        .await;
        results.insert(
            name.to_owned(),
            json!({
                "transactions_per_s": (latencies.len() as f64 / duration.as_secs_f64()).round(),
                "errors": errors,
                "conflict_retries": retries.load(std::sync::atomic::Ordering::Relaxed),
                "latency": percentiles(latencies),
            }),
        );
    }
    let stored = messages.count_documents(doc! {}).await?;
    db.drop().await?;
    results.insert("documents_inserted".to_owned(), json!(stored));
    Ok(Value::Object(results))
}

/// One send-shaped transaction, retried on write conflicts (as the service does).
async fn raw_transaction(
    client: &mongodb::Client,
    counters: &mongodb::Collection<Document>,
    messages: &mongodb::Collection<Document>,
    counter: ObjectId,
    retries: &std::sync::atomic::AtomicUsize,
) -> mongodb::error::Result<()> {
    let durable = WriteConcern::builder()
        .w(Acknowledgment::Majority)
        .journal(true)
        .build();
    let mut session = client.start_session().await?;
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut attempt = 0_u64;
    loop {
        session
            .start_transaction()
            .write_concern(durable.clone())
            .await?;
        let outcome: mongodb::error::Result<()> = async {
            let bumped = counters
                .find_one_and_update(doc! { "_id": counter }, doc! { "$inc": { "seq": 1_i64 } })
                .return_document(mongodb::options::ReturnDocument::After)
                .session(&mut session)
                .await?;
            let seq = bumped
                .and_then(|d| d.get_i64("seq").ok())
                .unwrap_or_default();
            let id = ObjectId::new();
            messages
                .insert_one(doc! {
                    "_id": id, "counter": counter, "seq": seq,
                    "text": "a message of about the size of a benchmark send",
                    "senderUuid": "00000000-0000-0000-0000-000000000000",
                    "timestamp": bson::DateTime::now(),
                })
                .session(&mut session)
                .await?;
            counters
                .update_one(doc! { "_id": counter }, doc! { "$set": { "last": id } })
                .session(&mut session)
                .await?;
            session.commit_transaction().await
        }
        .await;
        match outcome {
            Ok(()) => return Ok(()),
            Err(error)
                if error.contains_label(TRANSIENT_TRANSACTION_ERROR)
                    && Instant::now() < deadline =>
            {
                let _ = session.abort_transaction().await;
                retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                attempt += 1;
                let ceiling = 5 * attempt.min(20);
                tokio::time::sleep(Duration::from_millis(
                    ceiling / 2 + rand::random::<u64>() % (ceiling / 2 + 1),
                ))
                .await;
            }
            Err(error) => {
                let _ = session.abort_transaction().await;
                return Err(error);
            }
        }
    }
}
