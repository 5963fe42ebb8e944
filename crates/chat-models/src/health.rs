//! Liveness and readiness, the same on every service: `GET /health` answers while the process
//! runs; `GET /ready` asks each dependency (within [`CHECK_TIMEOUT`]) and answers 503 unless
//! all of them answered.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How long one dependency may take to answer a readiness check.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The answer of `/health` and `/ready`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok` (liveness), `ready` or `unavailable`.
    pub status: String,
    /// Readiness only: each dependency, `ok` or `unavailable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<BTreeMap<String, String>>,
}

/// Each dependency's name and whether it answered.
pub type Checks = Vec<(&'static str, bool)>;

/// The answer of [`Readiness::check`], to come.
pub type ChecksFuture<'a> = Pin<Box<dyn Future<Output = Checks> + Send + 'a>>;

/// What a service's readiness depends on.
pub trait Readiness: Send + Sync + 'static {
    /// Asks every dependency, concurrently.
    fn check(&self) -> ChecksFuture<'_>;
}

/// `GET /health` and `GET /ready`, asking `readiness`.
pub fn router(readiness: Arc<dyn Readiness>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .with_state(readiness)
}

/// # `GET /health`
/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        checks: None,
    })
}

/// # `GET /ready`
/// Readiness: every dependency (databases, Redis) answers within 2 s.
#[utoipa::path(get, path = "/ready", tag = "health", responses(
    (status = 200, body = Health, description = "Every dependency answered"),
    (status = 503, body = Health, description = "At least one did not")))]
pub async fn ready(State(readiness): State<Arc<dyn Readiness>>) -> (StatusCode, Json<Health>) {
    let checks = readiness.check().await;
    let all_ok = checks.iter().all(|(_, ok)| *ok);
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let body = Health {
        status: if all_ok { "ready" } else { "unavailable" }.to_owned(),
        checks: Some(
            checks
                .into_iter()
                .map(|(name, ok)| (name.to_owned(), word(ok).to_owned()))
                .collect(),
        ),
    };
    let status = if all_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

/// Whether Redis answers `PING` in time.
pub async fn redis(redis: &redis::aio::ConnectionManager) -> bool {
    let mut redis = redis.clone();
    let ping = redis::cmd("PING");
    matches!(
        tokio::time::timeout(CHECK_TIMEOUT, ping.query_async::<String>(&mut redis)).await,
        Ok(Ok(_))
    )
}

/// Whether MongoDB answers `ping` in time.
#[cfg(feature = "mongo")]
pub async fn mongo(db: &mongodb::Database) -> bool {
    let ping = db.run_command(bson::doc! { "ping": 1 });
    matches!(tokio::time::timeout(CHECK_TIMEOUT, ping).await, Ok(Ok(_)))
}

/// Whether MySQL answers `SELECT 1` in time.
#[cfg(feature = "mysql")]
pub async fn mysql(pool: &sqlx::MySqlPool) -> bool {
    let query = sqlx::query("SELECT 1").execute(pool);
    matches!(tokio::time::timeout(CHECK_TIMEOUT, query).await, Ok(Ok(_)))
}
