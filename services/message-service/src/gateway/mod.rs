//! The real-time gateway, `GET /ws`: authenticated WebSockets receiving every event that
//! concerns their user, from whichever instance it came (see `docs/websocket.md`).

mod connection;
pub mod fanout;
pub mod hub;
pub mod presence;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chat_models::auth::access_token;
use chat_models::{ApiError, ErrorCode, Result};

use crate::state::AppState;
use hub::Hub;
use presence::PresenceStore;

/// Limits and timings of the gateway.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// Largest client frame, in bytes.
    pub max_frame_bytes: usize,
    /// Frames queued per socket before it is closed as too slow.
    pub send_queue: usize,
    /// How often the server pings.
    pub ping_interval: Duration,
    /// A socket silent (no frame, no pong) this long is closed.
    pub idle_timeout: Duration,
    /// Time to send `authenticate` when the upgrade carried no token.
    pub auth_timeout: Duration,
    /// A `typing.start` not renewed within this is stopped by the server.
    pub typing_ttl: Duration,
    /// Most messages replayed per conversation on `resume`.
    pub resume_max_messages: i64,
    /// Browser origins allowed to open sockets.
    pub allowed_origins: Vec<HeaderValue>,
    /// Redis key prefix (ephemeral channel).
    pub prefix: String,
}

/// What the gateway shares between sockets.
#[derive(Clone, Debug)]
pub struct Gateway {
    /// The sockets of this instance.
    pub hub: Arc<Hub>,
    /// Presence across instances.
    pub presence: PresenceStore,
    /// Settings.
    pub settings: Arc<GatewaySettings>,
    /// Unique per process, to name its sockets in the presence sets.
    pub instance: String,
}

pub fn router() -> Router<AppState> {
    Router::new().route("/ws", get(upgrade))
}

/// # `GET /ws`
/// Upgrades to a WebSocket. Credentials: the access cookie or `Authorization: Bearer` on the
/// upgrade, or an `authenticate` frame within a few seconds. Browsers' `Origin` must be allowed.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response> {
    let settings = state.gateway.settings.clone();
    if let Some(origin) = headers.get(header::ORIGIN) {
        if !settings.allowed_origins.contains(origin) {
            return Err(ApiError::Forbidden(ErrorCode::OriginNotAllowed));
        }
    }
    // A token on the upgrade must be valid: refuse before upgrading, with a JSON error.
    let auth = match access_token(&headers)? {
        Some(token) => Some(state.auth.authenticate(&token).await?),
        None => None,
    };
    // Small socket buffers: tungstenite's default 128 KiB read buffer per socket made an idle
    // socket cost about 140 KB (docs/benchmarks.md). Frames are small; buffers grow if needed.
    Ok(upgrade
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_message_size(settings.max_frame_bytes)
        .max_frame_size(settings.max_frame_bytes)
        .on_upgrade(move |socket| connection::serve(socket, state, auth)))
}
