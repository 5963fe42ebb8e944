//! The public signing keys.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use chat_models::auth::Jwks;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/.well-known/jwks.json", get(jwks))
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
