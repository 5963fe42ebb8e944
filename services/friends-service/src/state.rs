//! The state every handler can extract from.

use std::sync::Arc;

use axum::extract::FromRef;
use chat_models::auth::{Authenticator, ServiceToken};
use chat_models::health::{self, ChecksFuture, Readiness};
use chat_models::outbox::OutboxSignal;
use sqlx::MySqlPool;

use chat_models::clients::UserDirectory;

/// Shared, cheaply cloned state.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// MySQL (`chat_friends`).
    pub db: MySqlPool,
    /// Redis, for readiness checks.
    pub redis: redis::aio::ConnectionManager,
    /// Access-token verification and revocation checks.
    pub auth: Authenticator,
    /// Profiles from user-service.
    pub users: UserDirectory,
    /// Wakes the outbox relay after a commit.
    pub outbox: OutboxSignal,
    /// The `/internal` shared secret.
    pub service_token: ServiceToken,
    /// Fixed at start-up.
    pub settings: Arc<Settings>,
}

/// Start-up settings handlers need.
pub struct Settings {
    /// Most pending outgoing requests per user.
    pub max_outgoing_requests: u64,
}

impl Readiness for AppState {
    fn check(&self) -> ChecksFuture<'_> {
        Box::pin(async move {
            let (mysql, redis) = tokio::join!(health::mysql(&self.db), health::redis(&self.redis));
            vec![("mysql", mysql), ("redis", redis)]
        })
    }
}
