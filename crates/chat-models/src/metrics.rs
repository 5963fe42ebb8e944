//! Prometheus metrics: one process-wide recorder, a middleware counting requests and their
//! latency by route template and status, and the `GET /metrics` route.
//!
//! Series every service exposes:
//! - `http_requests_total{service, method, route, status}`
//! - `http_request_duration_seconds{service, method, route, status}` (histogram)
//! - `db_pool_connections{service, state="idle"|"in_use"}` (services with a SQL pool)
//! - `event_reads_total{group}` (services with an event consumer group)
//!
//! message-service adds `ws_connections{service}`, `ws_frames_delivered_total{service}` and
//! `mongo_pool_connections_in_use{service}`.
//!
//! Labels come from bounded sets only (a method outside the standard ones is `other`, a path
//! no route matches is `<unmatched>`), so no client can grow the number of series; and
//! `/metrics` is guarded by [`MetricsAccess`].

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use secrecy::{ExposeSecret as _, SecretString};

use crate::error::{ApiError, ErrorCode};

/// Who may read `/metrics` (set by `METRICS_TOKEN` and `APP_ENV`).
#[derive(Clone, Debug)]
pub enum MetricsAccess {
    /// Anyone who can reach the port (development without a token).
    Open,
    /// Callers presenting `Authorization: Bearer <token>`.
    Token(SecretString),
    /// Not served (production without a token).
    Off,
}

/// Latency buckets of every `*_seconds` histogram: 0.5 ms to 10 s.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process-wide Prometheus recorder, installed on first use (tests start several services
/// in one process; they share it and tell themselves apart by the `service` label).
pub fn handle() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), BUCKETS)
                .ok()?
                .install_recorder()
                .map_err(|error| tracing::warn!(error = %error, "metrics recorder not installed"))
                .ok()
        })
        .clone()
}

/// Records every request of `service`: count and latency by method, route template (never the
/// raw path, so ids do not explode the series) and status.
pub async fn track(State(service): State<&'static str>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "<unmatched>".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    let labels = [
        ("service", service.to_owned()),
        ("method", method.to_owned()),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// The `method` label: the standard methods by name, anything else as `other`.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    KNOWN
        .into_iter()
        .find(|known| *known == method.as_str())
        .unwrap_or("other")
}

/// Called before each scrape, to sample gauges (pool sizes).
pub type Sampler = Arc<dyn Fn() + Send + Sync>;

/// `GET /metrics` in the Prometheus text format, for whoever `access` lets in. Installs the
/// recorder, so call it while building the service, before any request is counted.
pub fn router(sampler: Option<Sampler>, access: MetricsAccess) -> Router {
    let _ = handle();
    if matches!(access, MetricsAccess::Off) {
        tracing::warn!("METRICS_TOKEN is not set: /metrics is not served");
        return Router::new();
    }
    Router::new().route(
        "/metrics",
        get(move |headers: HeaderMap| {
            let sampler = sampler.clone();
            let allowed = allows(&access, &headers);
            async move {
                if !allowed {
                    return ApiError::Unauthorized(ErrorCode::InvalidToken).into_response();
                }
                if let Some(sampler) = &sampler {
                    sampler();
                }
                let body = handle().map(|handle| handle.render()).unwrap_or_default();
                ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
            }
        }),
    )
}

/// Whether `headers` may read the metrics (the token compared in constant time).
fn allows(access: &MetricsAccess, headers: &HeaderMap) -> bool {
    use subtle::ConstantTimeEq as _;
    match access {
        MetricsAccess::Open => true,
        MetricsAccess::Off => false,
        MetricsAccess::Token(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .is_some_and(|given| {
                bool::from(given.as_bytes().ct_eq(token.expose_secret().as_bytes()))
            }),
    }
}

/// A sampler for a SQL pool's `db_pool_connections` gauge.
#[cfg(feature = "mysql")]
pub fn pool_sampler(service: &'static str, pool: sqlx::MySqlPool) -> Sampler {
    Arc::new(move || {
        let (size, idle) = (
            pool.size(),
            u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
        );
        metrics::gauge!("db_pool_connections", "service" => service, "state" => "idle")
            .set(f64::from(idle));
        metrics::gauge!("db_pool_connections", "service" => service, "state" => "in_use")
            .set(f64::from(size.saturating_sub(idle)));
    })
}
