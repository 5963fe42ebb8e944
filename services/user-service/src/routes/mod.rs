//! HTTP routes, one module per area, merged into one router.

mod auth;
mod availability;
mod avatars;
mod docs;
mod internal;
mod keys;
mod me;
mod oauth;
mod sessions;
mod users;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::Router;
use chat_models::{ApiError, Result};

use crate::state::AppState;

pub use avatars::UPLOAD_ROUTES;
pub use docs::ApiDoc;

/// Every route of the service, with its state; health and docs as on every service.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(keys::router())
        .merge(auth::router())
        .merge(availability::router())
        .merge(sessions::router())
        .merge(me::router())
        .merge(avatars::router())
        .merge(oauth::router())
        .merge(users::router())
        .merge(internal::router())
        .with_state(state.clone())
        .merge(chat_models::health::router(Arc::new(state)))
        .merge(chat_models::docs::router(
            <ApiDoc as utoipa::OpenApi>::openapi(),
        ))
}

/// The client's address: the socket peer, or the last `X-Forwarded-For` hop (the one the
/// trusted proxy added) when the service is configured to trust its proxy.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        if state.settings.trust_forwarded_for {
            // The rightmost entry is the one our proxy appended; anything left of it is whatever
            // the client chose to send, so it must not key a rate limit.
            let forwarded = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .next_back()
                .and_then(|last| last.trim().parse::<IpAddr>().ok());
            if let Some(ip) = forwarded {
                return Ok(Self(ip));
            }
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip())
            .ok_or_else(|| {
                ApiError::Internal(anyhow::anyhow!("server started without connect info"))
            })?;
        Ok(Self(peer))
    }
}

/// Counts a lookup (availability check, search) against the per-address limit.
pub async fn limit_lookups(state: &AppState, ClientIp(ip): &ClientIp) -> Result<()> {
    state
        .limiter
        .hit(
            "lookup_ip",
            &ip.to_string(),
            state.settings.limits.lookup_ip,
        )
        .await
}

/// The `User-Agent` header, cut to 256 characters, for the sessions list.
pub fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.chars().take(256).collect())
}
