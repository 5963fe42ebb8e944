//! Scenario 7, web push: one group whose members are all away (no socket), each with a push
//! subscription at an endpoint this process serves; one member sends at a target rate and
//! every other member's browser must get each message once. The endpoint decrypts every push
//! (with the `ece` crate, as a browser would) to tell which message it carries: send-to-push
//! latency, pushes/s, lost and duplicated pushes (of the messages stored: sends refused past
//! the conversation's own ceiling are counted apart).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::post;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::setup::Services;
use crate::stats::percentiles;

/// The push scenario's knobs.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Members of the group, the sender included.
    #[arg(long, default_value_t = 50)]
    pub members: usize,
    /// Messages the sender sends.
    #[arg(long, default_value_t = 200)]
    pub messages: usize,
    /// Messages per second.
    #[arg(long, default_value_t = 20)]
    pub rate: u64,
    /// How many of the other members have a subscription (default: all); 0 measures the
    /// same sends without any push, for comparison.
    #[arg(long)]
    pub subscribers: Option<usize>,
    /// The port of this process's push endpoint on 127.0.0.1 (the services must let it
    /// through: `PUSH_UNSAFE_ALLOW=127.0.0.1:<port>`).
    #[arg(long, default_value_t = 5990)]
    pub port: u16,
}

/// A push as it arrived: for which browser, when, the encrypted body.
struct Arrival {
    browser: usize,
    at: Instant,
    body: Bytes,
}

type Inbox = Arc<Mutex<Vec<Arrival>>>;

/// Runs the scenario; `lost` and `duplicated` must be 0.
pub async fn run(services: &Services, options: &Options) -> anyhow::Result<Value> {
    let Options {
        members,
        messages,
        rate,
        subscribers,
        port,
    } = options.clone();
    if members < 2 || messages == 0 || rate == 0 {
        bail!("need at least 2 members, a message and a positive rate");
    }
    let inbox: Inbox = Arc::default();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("binding the push endpoint on 127.0.0.1:{port}"))?;
    let app = axum::Router::new()
        .route(
            "/push/{browser}",
            post(
                |State(inbox): State<Inbox>, Path(browser): Path<usize>, body: Bytes| async move {
                    let at = Instant::now();
                    if let Ok(mut inbox) = inbox.lock() {
                        inbox.push(Arrival { browser, at, body });
                    }
                    axum::http::StatusCode::CREATED
                },
            ),
        )
        .with_state(inbox.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let run = uuid::Uuid::new_v4().simple().to_string();
    let people = services.register_many(&run[..8], members).await?;
    let (sender, others) = people.split_first().context("no members")?;
    for other in others {
        services.befriend(sender, other).await?;
    }
    let group = services
        .group(sender, &others.iter().collect::<Vec<_>>())
        .await?;

    // A browser's keys per recipient, subscribed at this endpoint.
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut browsers = Vec::new();
    let subscribers = subscribers.unwrap_or(others.len()).min(others.len());
    for (index, other) in others.iter().take(subscribers).enumerate() {
        let (keys, auth) = ece::generate_keypair_and_auth_secret()?;
        let subscription = json!({
            "endpoint": format!("http://127.0.0.1:{port}/push/{index}"),
            "keys": { "p256dh": b64.encode(keys.pub_as_raw()?), "auth": b64.encode(auth) },
        });
        let response = services
            .http()
            .post(format!("{}/push/subscriptions", services.messages[0]))
            .bearer_auth(&other.access)
            .json(&subscription)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!(
                "subscribing: {} {} (are the services started with a VAPID key and PUSH_UNSAFE_ALLOW=127.0.0.1:{port}?)",
                response.status(),
                response.text().await.unwrap_or_default()
            );
        }
        browsers.push((keys.raw_components()?, auth));
    }

    // Sends at the rate, over the instances in turn; each message's id and send time.
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut sends = Vec::with_capacity(messages);
    for n in 0..messages {
        ticker.tick().await;
        let (http, token) = (services.http().clone(), sender.access.clone());
        let url = format!(
            "{}/conversations/{group}/messages",
            services.messages[n % services.messages.len()]
        );
        sends.push(tokio::spawn(async move {
            let at = Instant::now();
            let response = http
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "text": format!("push benchmark message {n}") }))
                .send()
                .await
                .map_err(|error| format!("request failed: {error}"))?;
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            match body["id"].as_str() {
                Some(id) => Ok((id.to_owned(), at)),
                None => Err(format!("{status} {}", body["error"]["code"])),
            }
        }));
    }
    // Refused sends (a busy conversation answers 503 past its ceiling) are counted, not pushed.
    let mut sent: HashMap<String, Instant> = HashMap::new();
    let mut refused: HashMap<String, usize> = HashMap::new();
    for joined in futures::future::join_all(sends).await {
        match joined? {
            Ok((id, at)) => {
                sent.insert(id, at);
            }
            Err(reason) => *refused.entry(reason).or_default() += 1,
        }
    }
    let send_secs = started.elapsed().as_secs_f64();

    // Waits for every push, or 30 s without a new one.
    let expected = sent.len() * subscribers;
    let mut last_count = 0;
    let mut quiet_since = Instant::now();
    loop {
        let count = inbox.lock().map(|inbox| inbox.len()).unwrap_or(0);
        if count >= expected || quiet_since.elapsed() > Duration::from_secs(30) {
            break;
        }
        if count != last_count {
            last_count = count;
            quiet_since = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.abort();

    let arrivals = std::mem::take(&mut *inbox.lock().map_err(|_| anyhow::anyhow!("poisoned"))?);
    let mut seen = std::collections::HashSet::new();
    let (mut duplicated, mut latencies, mut largest) = (0, Vec::new(), 0);
    let mut last_arrival = started;
    for arrival in &arrivals {
        let (components, auth) = browsers.get(arrival.browser).context("unknown browser")?;
        let plain = ece::decrypt(components, auth, &arrival.body)?;
        let payload: Value = serde_json::from_slice(&plain)?;
        let id = payload["message_id"].as_str().context("no message_id")?;
        largest = largest.max(arrival.body.len());
        last_arrival = last_arrival.max(arrival.at);
        if !seen.insert((arrival.browser, id.to_owned())) {
            duplicated += 1;
            continue;
        }
        if let Some(at) = sent.get(id) {
            latencies.push(arrival.at.duration_since(*at));
        }
    }
    let received = seen.len();
    let span = last_arrival.duration_since(started).as_secs_f64();
    Ok(json!({
        "scenario": "push",
        "members": members,
        "subscribers": subscribers,
        "messages": messages,
        "offered_rate": rate,
        "sends_refused": refused,
        "send_seconds": (send_secs * 100.0).round() / 100.0,
        "expected_pushes": expected,
        "received_pushes": received,
        "lost": expected.saturating_sub(received),
        "duplicated": duplicated,
        "pushes_per_second": if span > 0.0 { (received as f64 / span).round() } else { 0.0 },
        "largest_body_bytes": largest,
        "send_to_push": percentiles(latencies),
    }))
}
