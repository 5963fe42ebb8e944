//! Scenario 3, HTTP: authenticated reads (conversation list, a history page, the friends list)
//! and a write (send a message) at increasing concurrency; throughput and latency per route.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::{json, Value};

use crate::setup::{Services, User};
use crate::stats::percentiles;

/// The HTTP scenario's knobs.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Concurrency levels to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = vec![1, 4, 16])]
    pub concurrency: Vec<usize>,
    /// Seconds per route and level.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Users (paired into friends with a direct conversation each).
    #[arg(long, default_value_t = 10)]
    pub users: usize,
    /// Messages stored per conversation before measuring (history pages read them).
    #[arg(long, default_value_t = 60)]
    pub history: usize,
}

/// One user with a conversation to read and write.
#[derive(Debug, Clone)]
pub struct Seat {
    /// The user.
    pub user: User,
    /// Their direct conversation.
    pub conversation: String,
}

/// The routes measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /conversations`.
    ListConversations,
    /// `GET /conversations/{id}/messages?limit=50`.
    History,
    /// `GET /friends`.
    Friends,
    /// `POST /conversations/{id}/messages`.
    Send,
}

impl Route {
    /// Every route, reads first.
    pub const ALL: [Route; 4] = [
        Route::ListConversations,
        Route::History,
        Route::Friends,
        Route::Send,
    ];

    /// The name in results.
    pub fn name(self) -> &'static str {
        match self {
            Route::ListConversations => "GET /conversations",
            Route::History => "GET /conversations/{id}/messages",
            Route::Friends => "GET /friends",
            Route::Send => "POST /conversations/{id}/messages",
        }
    }
}

/// Registers `users` users in friend pairs with a direct conversation holding `history`
/// messages.
pub async fn prepare(
    services: &Services,
    users: usize,
    history: usize,
) -> anyhow::Result<Vec<Seat>> {
    if users < 2 {
        bail!("need at least 2 users");
    }
    let run = uuid::Uuid::new_v4().simple().to_string();
    let people = services.register_many(&run[..8], users - users % 2).await?;
    let mut seats = Vec::new();
    for pair in people.chunks(2) {
        services.befriend(&pair[0], &pair[1]).await?;
        let conversation = services.direct(&pair[0], &pair[1]).await?;
        for i in 0..history {
            services
                .send(&pair[i % 2], &conversation, &format!("history {i}"))
                .await?;
        }
        for user in pair {
            seats.push(Seat {
                user: user.clone(),
                conversation: conversation.clone(),
            });
        }
    }
    Ok(seats)
}

/// One request of `route` as `seat`; its latency and whether it succeeded.
pub async fn request(services: &Services, seat: &Seat, route: Route, n: usize) -> (Duration, bool) {
    let base = &services.messages[n % services.messages.len()];
    let http = services.http();
    let request = match route {
        Route::ListConversations => http.get(format!("{base}/conversations")),
        Route::History => http.get(format!(
            "{base}/conversations/{}/messages?limit=50",
            seat.conversation
        )),
        Route::Friends => http.get(format!("{}/friends", services.friends_url())),
        Route::Send => http
            .post(format!(
                "{base}/conversations/{}/messages",
                seat.conversation
            ))
            .json(&json!({ "text": format!("load {n}") })),
    };
    let started = Instant::now();
    let ok = match request.bearer_auth(&seat.user.access).send().await {
        Ok(response) => {
            let ok = response.status().is_success();
            let _ = response.bytes().await;
            ok
        }
        Err(_) => false,
    };
    (started.elapsed(), ok)
}

/// Runs `concurrency` workers over `routes` (each worker cycles through them) for `duration`;
/// returns per-route throughput and latency.
pub async fn measure(
    services: &Services,
    seats: &[Seat],
    routes: &[Route],
    concurrency: usize,
    duration: Duration,
) -> Vec<(Route, Vec<Duration>, usize)> {
    let counter = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + duration;
    let workers = (0..concurrency.max(1)).map(|worker| {
        let counter = counter.clone();
        async move {
            let mut samples: Vec<(Route, Duration, bool)> = Vec::new();
            let mut turn = worker;
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let route = routes[turn % routes.len()];
                let seat = &seats[(worker + n) % seats.len()];
                let (latency, ok) = request(services, seat, route, n).await;
                samples.push((route, latency, ok));
                turn += 1;
            }
            samples
        }
    });
    let all: Vec<(Route, Duration, bool)> = futures::future::join_all(workers)
        .await
        .into_iter()
        .flatten()
        .collect();
    routes
        .iter()
        .map(|route| {
            let mine: Vec<&(Route, Duration, bool)> =
                all.iter().filter(|(r, _, _)| r == route).collect();
            let errors = mine.iter().filter(|(_, _, ok)| !ok).count();
            (
                *route,
                mine.iter().map(|(_, latency, _)| *latency).collect(),
                errors,
            )
        })
        .collect()
}

/// Runs the scenario.
pub async fn run(services: &Services, options: &Options) -> anyhow::Result<Value> {
    let seats = prepare(services, options.users, options.history).await?;
    let duration = Duration::from_secs(options.duration);
    let mut results = Vec::new();
    for &concurrency in &options.concurrency {
        for route in Route::ALL {
            let measured = measure(services, &seats, &[route], concurrency, duration).await;
            for (route, samples, errors) in measured {
                let count = samples.len();
                results.push(json!({
                    "route": route.name(),
                    "concurrency": concurrency,
                    "requests": count,
                    "errors": errors,
                    "requests_per_s": (count as f64 / duration.as_secs_f64()).round(),
                    "latency": percentiles(samples),
                }));
            }
        }
    }
    Ok(json!({
        "scenario": "http",
        "users": seats.len(),
        "history_per_conversation": options.history,
        "seconds_per_run": options.duration,
        "results": results,
    }))
}
