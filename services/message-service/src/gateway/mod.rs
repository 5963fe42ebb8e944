//! The real-time gateway, `GET /ws`: authenticated WebSockets receiving every event that
//! concerns their user, from whichever instance it came (see `docs/websocket.md`).
//!
//! - [`handshake`]: the upgrade (origin, token) and the `authenticate` frame;
//! - [`protocol`]: client frames decoded, server frames encoded, limits;
//! - [`session`]: one socket's loop and its frame handlers, over a [`backend::Backend`];
//! - [`dedup`]: each message written to a socket once;
//! - [`hub`] and [`fanout`]: this instance's sockets, and events and typing delivered to them.

pub mod backend;
pub mod dedup;
pub mod fanout;
pub mod handshake;
pub mod hub;
pub mod protocol;
pub mod session;

use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderValue;
use axum::routing::get;
use axum::Router;

use crate::state::AppState;
use hub::Hub;

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
    /// Most sockets one user may hold on this instance.
    pub max_sockets_per_user: usize,
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
    /// Settings.
    pub settings: Arc<GatewaySettings>,
    /// Unique per process, to name its sockets in the presence sets.
    pub instance: String,
}

/// `GET /ws`.
pub fn router() -> Router<AppState> {
    Router::new().route("/ws", get(handshake::upgrade))
}
