//! Liveness, readiness and the public signing keys.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use chat_models::auth::Jwks;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/.well-known/jwks.json", get(jwks))
}

/// Health answer.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, `ready` or `unavailable`.
    status: &'static str,
    /// Per-dependency state (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    checks: Option<Checks>,
}

/// Readiness of each dependency.
#[derive(Serialize, ToSchema)]
pub struct Checks {
    mysql: &'static str,
    mongodb: &'static str,
    redis: &'static str,
}

/// # `GET /health`
/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        checks: None,
    })
}

/// # `GET /ready`
/// Readiness: MySQL, MongoDB and Redis all answer within 2 s.
#[utoipa::path(get, path = "/ready", tag = "health", responses(
    (status = 200, body = Health), (status = 503, body = Health)))]
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let limit = Duration::from_secs(2);
    let mysql = tokio::time::timeout(limit, sqlx::query("SELECT 1").execute(&state.db));
    let mongodb = tokio::time::timeout(limit, state.mongo.run_command(bson::doc! { "ping": 1 }));
    let mut redis = state.redis.clone();
    let ping = redis::cmd("PING");
    let redis = tokio::time::timeout(limit, ping.query_async::<String>(&mut redis));
    let (mysql, mongodb, redis) = tokio::join!(mysql, mongodb, redis);
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let checks = Checks {
        mysql: word(matches!(mysql, Ok(Ok(_)))),
        mongodb: word(matches!(mongodb, Ok(Ok(_)))),
        redis: word(matches!(redis, Ok(Ok(_)))),
    };
    let all_ok = [checks.mysql, checks.mongodb, checks.redis]
        .iter()
        .all(|state| *state == "ok");
    let (status, word) = if all_ok {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    };
    (
        status,
        Json(Health {
            status: word,
            checks: Some(checks),
        }),
    )
}

/// # `GET /.well-known/jwks.json`
/// The Ed25519 public keys that verify access tokens.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "health", responses((status = 200, body = Jwks)))]
pub async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(state.signer.jwks()),
    )
}
