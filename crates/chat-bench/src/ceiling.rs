//! Scenario 10, the fan-out ceiling: members on WebSockets (spread over the instances) in
//! conversations of one shape — direct pairs, or groups of 10, 50 or 100 — sending over their
//! sockets at rising rates. Each step offers 1.5× the deliveries/s of the one before, for a few
//! seconds, until p99 send→receive passes the bound, a delivery is lost, or the senders cannot
//! keep the rate; then steps between the best that passed and the one that failed narrow it
//! down. The ceiling is the highest step that passed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context as _};
use futures::stream::SplitSink;
use futures::StreamExt as _;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::setup::{Services, User};
use crate::stats::{ms, percentiles};
use crate::ws::{open_socket, record, send_paced, Seen, Socket};

/// The scenario's knobs.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Members on sockets (every shape uses the same people).
    #[arg(long, default_value_t = 100)]
    pub users: usize,
    /// Shapes to ramp: `direct` or a group size.
    #[arg(long, value_delimiter = ',', default_values_t = vec!["direct".to_owned(), "10".to_owned(), "50".to_owned(), "100".to_owned()])]
    pub shapes: Vec<String>,
    /// Deliveries/s of the first step.
    #[arg(long, default_value_t = 1_000)]
    pub start: u64,
    /// Seconds of sending per step.
    #[arg(long, default_value_t = 4)]
    pub step_seconds: u64,
    /// The p99 bound, in milliseconds.
    #[arg(long, default_value_t = 50.0)]
    pub max_p99_ms: f64,
    /// Most steps per shape, rising.
    #[arg(long, default_value_t = 12)]
    pub max_steps: usize,
    /// Steps between the best passed and the first failed, once one failed (each halves the
    /// ratio between them).
    #[arg(long, default_value_t = 2)]
    pub refine: usize,
}

/// One step of a ramp.
struct Step {
    offered: u64,
    messages: u64,
    sending: Duration,
    received: usize,
    lost: usize,
    duplicated: u64,
    latencies: Vec<Duration>,
    /// Send → the sender's `message.ack` (the store's part of the latency).
    acks: Vec<Duration>,
}

/// Conversations of one shape: each with its members (indexes into the people).
type Shape = Vec<(String, Vec<usize>)>;

/// Creates the conversations of `shape` among `people`.
async fn conversations(services: &Services, people: &[User], shape: &str) -> anyhow::Result<Shape> {
    let mut made = Vec::new();
    if shape == "direct" {
        for pair in (0..people.len() - 1).step_by(2) {
            services.befriend(&people[pair], &people[pair + 1]).await?;
            let id = services.direct(&people[pair], &people[pair + 1]).await?;
            made.push((id, vec![pair, pair + 1]));
        }
        return Ok(made);
    }
    let size: usize = shape.parse().with_context(|| format!("shape {shape}"))?;
    if size < 2 || size > people.len() {
        bail!("a group of {size} needs 2 to {} people", people.len());
    }
    for start in (0..=people.len() - size).step_by(size) {
        let members: Vec<usize> = (start..start + size).collect();
        made.push((services.group_of(people, &members).await?, members));
    }
    Ok(made)
}

/// Sends at `offered` deliveries/s for `seconds` over `shape`, numbering messages from `next`.
async fn step(
    writers: &mut [SplitSink<Socket, Message>],
    seen: &Arc<Mutex<Seen>>,
    shape: &Shape,
    run: &str,
    next: &mut u64,
    offered: u64,
    seconds: u64,
) -> anyhow::Result<Step> {
    let fan = shape[0].1.len() - 1;
    let rate = (offered as f64 / fan as f64).max(1.0);
    let messages = (rate * seconds as f64).round() as u64;
    let first = *next;
    let sending = send_paced(writers, shape, seen, run, rate, messages, || {
        *next += 1;
        *next - 1
    })
    .await?;
    // Stragglers: anything not in within two seconds counts as lost.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let seen = seen
        .lock()
        .map_err(|_| anyhow::anyhow!("a reader panicked"))?;
    let tally = seen.tally(first..*next);
    Ok(Step {
        offered,
        messages,
        sending,
        received: tally.received,
        lost: tally.lost,
        duplicated: seen.duplicated,
        latencies: tally.latencies,
        acks: tally.acks,
    })
}

/// Runs the scenario.
pub async fn run(services: &Services, options: &Options) -> anyhow::Result<Value> {
    if options.users < 4 {
        bail!("need at least 4 users");
    }
    let run = uuid::Uuid::new_v4().simple().to_string();
    let people = services.register_many(&run[..8], options.users).await?;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let mut writers = Vec::new();
    let mut readers = Vec::new();
    for (index, user) in people.iter().enumerate() {
        let base = &services.messages[index % services.messages.len()];
        let (write, read_half) = open_socket(base, user, None).await?.split();
        writers.push(write);
        readers.push(tokio::spawn(record(read_half, seen.clone())));
    }
    let mut next = 0;
    let mut shapes = Vec::new();
    for name in &options.shapes {
        let shape = conversations(services, &people, name).await?;
        let mut steps = Vec::new();
        let mut ceiling: Option<f64> = None;
        let mut offered = options.start;
        // The ramp: ×1.5 a step until one fails; then, between the best passed and the first
        // failed, `refine` steps at their geometric middle narrow the ceiling down.
        let (mut passed_at, mut failed_at): (Option<u64>, Option<u64>) = (None, None);
        let (mut rising, mut refined) = (0, 0);
        loop {
            let step = step(
                &mut writers,
                &seen,
                &shape,
                &run,
                &mut next,
                offered,
                options.step_seconds,
            )
            .await?;
            let seconds = step.sending.as_secs_f64().max(options.step_seconds as f64);
            let delivered_per_s = (step.received as f64 / seconds).round();
            let kept_pace = step.sending.as_secs_f64() <= options.step_seconds as f64 * 1.1;
            let stats = percentiles(step.latencies.clone());
            let p99 = stats["p99_ms"].as_f64().unwrap_or(f64::INFINITY);
            let passed = step.lost == 0 && kept_pace && p99 <= options.max_p99_ms;
            steps.push(json!({
                "refining": failed_at.is_some(),
                "offered_deliveries_per_s": step.offered,
                "messages": step.messages,
                "send_seconds": ms(step.sending) / 1e3,
                "delivered_per_s": delivered_per_s,
                "lost": step.lost,
                "duplicated_so_far": step.duplicated,
                "kept_pace": kept_pace,
                "passed": passed,
                "latency": stats,
                "ack_latency": percentiles(step.acks),
            }));
            if passed {
                ceiling =
                    Some(ceiling.map_or(delivered_per_s, |best: f64| best.max(delivered_per_s)));
                passed_at = Some(offered);
            } else {
                failed_at = Some(offered);
            }
            offered = match (passed_at, failed_at) {
                (_, None) => {
                    rising += 1;
                    if rising == options.max_steps {
                        break;
                    }
                    (offered as f64 * 1.5).round() as u64
                }
                // Nothing passed: there is no ceiling to narrow down.
                (None, Some(_)) => break,
                (Some(low), Some(high)) => {
                    let middle = ((low as f64) * (high as f64)).sqrt().round() as u64;
                    if refined == options.refine || middle <= low || middle >= high {
                        break;
                    }
                    refined += 1;
                    middle
                }
            };
        }
        shapes.push(json!({
            "shape": name,
            "conversations": shape.len(),
            "members_each": shape[0].1.len(),
            "ceiling_deliveries_per_s": ceiling,
            "steps": steps,
        }));
    }
    for reader in &readers {
        reader.abort();
    }
    let duplicated = seen.lock().map(|seen| seen.duplicated).unwrap_or_default();
    Ok(json!({
        "scenario": "ceiling",
        "users": options.users,
        "instances": services.messages.len(),
        "max_p99_ms": options.max_p99_ms,
        "step_seconds": options.step_seconds,
        "duplicated": duplicated,
        "shapes": shapes,
    }))
}
