//! Building the application: connections, migrations, indexes, state, router and listener.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use chat_models::auth::{Authenticator, ServiceToken, SessionRevocations, TrustedKeys};
use chat_models::events::EventPublisher;
use chat_models::outbox::{self, OutboxSignal};
use chat_models::ratelimit::RateLimiter;
use chat_models::service::{connect_mongo, connect_mysql, connect_redis, Server};
use secrecy::ExposeSecret as _;
use sqlx::mysql::MySqlPoolOptions;

use crate::config::Config;
use crate::db::refresh_tokens::RefreshTokenStore;
use crate::password::PasswordHasher;
use crate::state::{AppState, Limits, Settings};
use crate::tokens::JwtSigner;

/// Migrations of `chat_users`, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/users");

/// Connects to MySQL (creating and migrating the schema), MongoDB and Redis, starts the outbox
/// relay and binds the listener. Fails with a clear message when something is missing or
/// unreachable.
pub async fn build(config: Config) -> anyhow::Result<Server> {
    config.validate()?;
    let common = &config.common;
    let pem = config.jwt_private_key_pem()?;
    let signer = JwtSigner::from_pem(
        pem.expose_secret(),
        &common.jwt_issuer,
        &common.jwt_audience,
        Duration::from_secs(common.access_token_ttl_secs),
    )?;

    let db = connect_mysql(&config.mysql, MySqlPoolOptions::new(), &MIGRATOR).await?;
    let mongo = connect_mongo(&config.mongo, "user-service").await?;
    let tokens = RefreshTokenStore::new(&mongo);
    tokens
        .ensure_indexes()
        .await
        .context("creating refresh_tokens indexes")?;
    let (_, redis) = connect_redis(&common.redis_url).await?;

    let prefix = &common.redis_key_prefix;
    let auth = Authenticator {
        keys: Arc::new(TrustedKeys::fixed(signer.verifier())),
        revocations: SessionRevocations::new(redis.clone(), prefix, common.revocation_ttl()),
    };
    crate::revocations::seed(&tokens, &auth.revocations)
        .await
        .map_err(|error| anyhow::anyhow!("writing the revocation list to Redis: {error}"))?;
    let keeper = tokio::spawn(crate::revocations::keep_seeded(
        tokens.clone(),
        auth.revocations.clone(),
    ));
    let events = EventPublisher::for_prefix(redis.clone(), prefix);
    let concurrency = config
        .password_hash_concurrency
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, std::num::NonZero::get));
    let passwords = PasswordHasher::new(
        config.argon2_memory_kib,
        config.argon2_iterations,
        1,
        concurrency,
        Duration::from_millis(config.password_hash_queue_timeout_ms),
    )?;
    let outbox_signal = OutboxSignal::default();
    let relay = tokio::spawn(outbox::run_relay(
        db.clone(),
        events.clone(),
        outbox_signal.clone(),
        Duration::from_secs(2),
    ));

    let oauth = crate::oauth::OAuth::from_config(&config, redis.clone())?;
    let avatars = avatars(&config, &mongo).await?;
    let state = AppState {
        avatars,
        oauth: Arc::new(oauth),
        db,
        mongo,
        redis: redis.clone(),
        tokens,
        auth,
        signer: Arc::new(signer),
        passwords,
        limiter: RateLimiter::new(redis, prefix),
        events,
        outbox: outbox_signal,
        service_token: ServiceToken(Arc::new(common.service_token.clone())),
        settings: Arc::new(Settings {
            cookie_secure: config.cookie_secure,
            trust_forwarded_for: config.trust_forwarded_for,
            refresh_ttl: Duration::from_secs(config.refresh_token_ttl_secs),
            limits: Limits {
                login_ip: config.rate_limit_login_ip,
                login_account: config.rate_limit_login_account,
                register_ip: config.rate_limit_register_ip,
                refresh_ip: config.rate_limit_refresh_ip,
                refresh_account: config.rate_limit_refresh_account,
                lookup_ip: config.rate_limit_lookup_ip,
            },
        }),
    };
    let sampler = chat_models::metrics::pool_sampler("user-service", state.db.clone());
    let purge = tokio::spawn(crate::avatars::purge(state.clone()));
    let router: Router = crate::routes::router(state);
    let mut layers = common.layers("user-service")?;
    layers.long_routes = crate::UPLOAD_ROUTES.to_vec();
    Ok(Server::bind(config.addr, router, &layers, Some(sampler))
        .await?
        .with_background([relay, keeper, purge]))
}

/// Where profile pictures go and what they may be.
async fn avatars(
    config: &Config,
    mongo: &mongodb::Database,
) -> anyhow::Result<crate::avatars::Avatars> {
    let storage = chat_files::Storage::open(&config.storage)?;
    tracing::info!(backend = storage.backend, "file storage");
    let files = mongo.collection("files");
    chat_files::records::ensure_indexes(&files)
        .await
        .context("creating files indexes")?;
    Ok(crate::avatars::Avatars {
        intake: chat_files::Intake::new(storage, 2),
        files,
        public_url: config.public_url.as_str().trim_end_matches('/').to_owned(),
        limits: chat_files::IntakeLimits {
            max_bytes: config.avatar_max_bytes,
            images_only: true,
            images: chat_files::images::ImageLimits {
                fit_within: Some(1024),
                ..chat_files::images::ImageLimits::default()
            },
        },
        purge: Arc::new(tokio::sync::Notify::new()),
    })
}
