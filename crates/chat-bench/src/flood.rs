//! Scenario 4, login flood isolation: the reads of scenario 3 measured alone, then again while
//! a flood of logins runs; how far the reads' p99 moves (argon2 runs on its own bounded pool
//! and must not starve them), and how quickly the flood's excess is refused (429/503).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::http::{measure, prepare, Route};
use crate::setup::Services;
use crate::stats::percentiles;

/// The flood scenario's knobs.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Concurrent readers.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Concurrent login loops.
    #[arg(long, default_value_t = 32)]
    pub flood: usize,
    /// Seconds per phase (alone, then flooded).
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
}

const READS: [Route; 3] = [Route::ListConversations, Route::History, Route::Friends];

fn p99s(measured: &[(Route, Vec<Duration>, usize)]) -> BTreeMap<&'static str, Value> {
    measured
        .iter()
        .map(|(route, samples, errors)| {
            (
                route.name(),
                json!({ "latency": percentiles(samples.clone()), "errors": errors }),
            )
        })
        .collect()
}

/// Runs the scenario.
pub async fn run(services: &Services, options: &Options) -> anyhow::Result<Value> {
    let seats = prepare(services, 10, 60).await?;
    let duration = Duration::from_secs(options.duration);
    let alone = measure(services, &seats, &READS, options.concurrency, duration).await;

    // Logins with the right password for one user: each costs an argon2id verification
    // unless refused first (rate limit: 429; hashing queue full for too long: 503).
    let login = json!({ "login": seats[0].user.name, "password": "benchmark password",
                        "token_delivery": "body" });
    let stop = Arc::new(AtomicBool::new(false));
    let url = format!("{}/auth/login", services.users_url());
    let floods: Vec<_> = (0..options.flood)
        .map(|_| {
            let (stop, http, url, login) = (
                stop.clone(),
                services.http().clone(),
                url.clone(),
                login.clone(),
            );
            tokio::spawn(async move {
                let mut outcomes: Vec<(u16, Duration)> = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let status = match http.post(&url).json(&login).send().await {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            let _ = response.bytes().await;
                            status
                        }
                        Err(_) => 0,
                    };
                    outcomes.push((status, started.elapsed()));
                }
                outcomes
            })
        })
        .collect();
    let flooded = measure(services, &seats, &READS, options.concurrency, duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut logins: BTreeMap<u16, Vec<Duration>> = BTreeMap::new();
    for flood in floods {
        for (status, latency) in flood.await.unwrap_or_default() {
            logins.entry(status).or_default().push(latency);
        }
    }
    let moved: BTreeMap<&str, Value> = alone
        .iter()
        .zip(&flooded)
        .map(|((route, before, _), (_, after, _))| {
            let p99 = |samples: &Vec<Duration>| {
                percentiles(samples.clone())["p99_ms"]
                    .as_f64()
                    .unwrap_or(0.0)
            };
            let (before, after) = (p99(before), p99(after));
            (
                route.name(),
                json!({ "p99_alone_ms": before, "p99_flooded_ms": after,
                        "p99_change_ms": ((after - before) * 1000.0).round() / 1000.0 }),
            )
        })
        .collect();
    let logins: BTreeMap<String, Value> = logins
        .into_iter()
        .map(|(status, samples)| (status.to_string(), percentiles(samples)))
        .collect();
    Ok(json!({
        "scenario": "flood",
        "readers": options.concurrency,
        "login_loops": options.flood,
        "seconds_per_phase": options.duration,
        "reads_alone": p99s(&alone),
        "reads_flooded": p99s(&flooded),
        "p99_moved": moved,
        "logins_by_status": logins,
    }))
}
