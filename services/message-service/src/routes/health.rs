//! Liveness and readiness.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
}

/// # `GET /health`
/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200)))]
pub async fn health() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// # `GET /ready`
/// Readiness: MongoDB and Redis answer within 2 s.
#[utoipa::path(get, path = "/ready", tag = "health", responses((status = 200), (status = 503)))]
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let limit = Duration::from_secs(2);
    let mut redis = state.redis.clone();
    let ping = redis::cmd("PING");
    let admin = state.store.client.database("admin");
    let mongo_ping = admin.run_command(bson::doc! { "ping": 1 });
    let (mongo, redis) = tokio::join!(
        tokio::time::timeout(limit, mongo_ping),
        tokio::time::timeout(limit, ping.query_async::<String>(&mut redis)),
    );
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let (mongo, redis) = (matches!(mongo, Ok(Ok(_))), matches!(redis, Ok(Ok(_))));
    let status = if mongo && redis {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if mongo && redis { "ready" } else { "unavailable" },
        "checks": { "mongodb": word(mongo), "redis": word(redis) },
    });
    (status, Json(body))
}
