//! The state every handler can extract from.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use chat_models::auth::{Authenticator, ServiceToken};
use chat_models::events::EventPublisher;
use chat_models::health::{self, ChecksFuture, Readiness};
use chat_models::ratelimit::{RateLimit, RateLimiter};
use sqlx::MySqlPool;

use crate::db::refresh_tokens::RefreshTokenStore;
use crate::password::PasswordHasher;
use crate::tokens::JwtSigner;
use chat_models::outbox::OutboxSignal;

/// Shared, cheaply cloned state.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// MySQL (`users`, `outbox_events`).
    pub db: MySqlPool,
    /// MongoDB database, for readiness checks.
    pub mongo: mongodb::Database,
    /// Redis, for readiness checks.
    pub redis: redis::aio::ConnectionManager,
    /// Refresh tokens in MongoDB.
    pub tokens: RefreshTokenStore,
    /// Access-token verification and revocation checks.
    pub auth: Authenticator,
    /// Access-token signing.
    pub signer: Arc<JwtSigner>,
    /// Bounded argon2id.
    pub passwords: PasswordHasher,
    /// Redis counters.
    pub limiter: RateLimiter,
    /// Event stream publisher (for `session.revoked`; account events go through the outbox).
    pub events: EventPublisher,
    /// Wakes the outbox relay.
    pub outbox: OutboxSignal,
    /// The `/internal` shared secret.
    pub service_token: ServiceToken,
    /// Identity providers and their flows.
    pub oauth: Arc<crate::oauth::OAuth>,
    /// Profile pictures.
    pub avatars: crate::avatars::Avatars,
    /// Everything else that is fixed at start-up.
    pub settings: Arc<Settings>,
}

/// Start-up settings handlers need.
pub struct Settings {
    /// Cookies get `Secure`.
    pub cookie_secure: bool,
    /// Client address from `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
    /// Refresh-token lifetime.
    pub refresh_ttl: Duration,
    /// Rate limits.
    pub limits: Limits,
}

/// The configured rate limits.
pub struct Limits {
    /// Login attempts per address.
    pub login_ip: RateLimit,
    /// Failed logins per account.
    pub login_account: RateLimit,
    /// Registrations per address.
    pub register_ip: RateLimit,
    /// Refreshes per address.
    pub refresh_ip: RateLimit,
    /// Refreshes per account.
    pub refresh_account: RateLimit,
    /// Lookups per address.
    pub lookup_ip: RateLimit,
}

impl Readiness for AppState {
    fn check(&self) -> ChecksFuture<'_> {
        Box::pin(async move {
            let (mysql, mongodb, redis, storage) = tokio::join!(
                health::mysql(&self.db),
                health::mongo(&self.mongo),
                health::redis(&self.redis),
                self.avatars.intake.storage.check(),
            );
            vec![
                ("mysql", mysql),
                ("mongodb", mongodb),
                ("redis", redis),
                ("storage", storage),
            ]
        })
    }
}
