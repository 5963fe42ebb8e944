//! Building the application: connections, migrations, indexes, state, router and listener.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::serve::ListenerExt as _;
use axum::Router;
use chat_models::auth::{Authenticator, ServiceToken, SessionRevocations};
use chat_models::events::{stream_name, EventPublisher};
use chat_models::http::{parse_origins, with_common_layers, CommonLayers};
use chat_models::ratelimit::RateLimiter;
use mongodb::options::ClientOptions;
use secrecy::ExposeSecret as _;
use sqlx::migrate::MigrateDatabase as _;
use sqlx::mysql::MySqlPoolOptions;
use sqlx::{MySql, MySqlPool};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::db::refresh_tokens::RefreshTokenStore;
use crate::password::PasswordHasher;
use crate::state::{AppState, Limits, Settings};
use crate::tokens::JwtSigner;
use chat_models::outbox::{self, OutboxSignal};

/// Migrations of `chat_users`, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/users");

/// Approximate length the event stream is trimmed to.
const EVENT_STREAM_MAX_LEN: usize = 100_000;

/// A built, bound, not yet serving user-service.
pub struct Application {
    listener: TcpListener,
    router: Router,
    relay: JoinHandle<()>,
}

impl Application {
    /// Connects to MySQL (creating and migrating the schema), MongoDB and Redis, and binds the
    /// listener. Fails with a clear message when something is missing or unreachable.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        config.validate()?;
        let pem = config.jwt_private_key_pem()?;
        let signer = JwtSigner::from_pem(
            pem.expose_secret(),
            &config.jwt_issuer,
            &config.jwt_audience,
            Duration::from_secs(config.access_token_ttl_secs),
        )?;

        let db = connect_mysql(&config).await?;
        let mongo = connect_mongo(&config).await?;
        let tokens = RefreshTokenStore::new(&mongo);
        tokens
            .ensure_indexes()
            .await
            .context("creating refresh_tokens indexes")?;
        let redis = connect_redis(&config).await?;

        let prefix = config.redis_key_prefix.clone();
        // A revocation must outlive every access token of the session, plus clock leeway.
        let revocation_ttl = Duration::from_secs(config.access_token_ttl_secs + 60);
        let auth = Authenticator {
            verifier: Arc::new(signer.verifier()),
            revocations: SessionRevocations::new(redis.clone(), &prefix, revocation_ttl),
        };
        let events = EventPublisher::new(redis.clone(), stream_name(&prefix), EVENT_STREAM_MAX_LEN);
        let concurrency = config.password_hash_concurrency.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
        });
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

        let state = AppState {
            db,
            mongo,
            redis: redis.clone(),
            tokens,
            auth,
            signer: Arc::new(signer),
            passwords,
            limiter: RateLimiter::new(redis, &prefix),
            events,
            outbox: outbox_signal,
            service_token: ServiceToken(Arc::new(config.service_token.clone())),
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
        let layers = CommonLayers {
            allowed_origins: parse_origins(&config.cors_allowed_origins)?,
            body_limit_bytes: config.body_limit_bytes,
            request_timeout: Duration::from_secs(config.request_timeout_secs),
            service: "user-service",
        };
        let sampler = Some(chat_models::metrics::pool_sampler(
            "user-service",
            state.db.clone(),
        ));
        let router = crate::routes::router(state).merge(chat_models::metrics::router(sampler));
        let router = with_common_layers(router, &layers);
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("cannot listen on {}", config.addr))?;
        Ok(Self {
            listener,
            router,
            relay,
        })
    }

    /// The bound port (useful with port 0).
    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|address| address.port())
            .unwrap_or_default()
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        // Small answers go out at once (no Nagle delay).
        let listener = self.listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let result = axum::serve(listener, service)
            .with_graceful_shutdown(shutdown)
            .await;
        self.relay.abort();
        result
    }
}

async fn connect_mysql(config: &Config) -> anyhow::Result<MySqlPool> {
    let url = config.database_url.expose_secret();
    let exists = MySql::database_exists(url)
        .await
        .context("cannot reach MySQL at DATABASE_URL")?;
    if !exists {
        MySql::create_database(url)
            .await
            .context("cannot create the database named in DATABASE_URL")?;
    }
    let pool = MySqlPoolOptions::new()
        .max_connections(config.database_max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .context("cannot connect to MySQL at DATABASE_URL")?;
    MIGRATOR
        .run(&pool)
        .await
        .context("applying migrations/users")?;
    Ok(pool)
}

async fn connect_mongo(config: &Config) -> anyhow::Result<mongodb::Database> {
    let mut options = ClientOptions::parse(config.mongodb_uri.expose_secret())
        .await
        .context("MONGODB_URI is not a valid MongoDB URL")?;
    options.app_name = Some("user-service".to_owned());
    options.server_selection_timeout = Some(Duration::from_secs(5));
    options.connect_timeout = Some(Duration::from_secs(5));
    let client = mongodb::Client::with_options(options).context("building the MongoDB client")?;
    let db = client.database(&config.mongodb_database);
    db.run_command(bson::doc! { "ping": 1 })
        .await
        .context("cannot reach MongoDB at MONGODB_URI")?;
    Ok(db)
}

async fn connect_redis(config: &Config) -> anyhow::Result<redis::aio::ConnectionManager> {
    let client = redis::Client::open(config.redis_url.expose_secret())
        .context("REDIS_URL is not a valid Redis URL")?;
    let manager_config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Duration::from_secs(5))
        .set_response_timeout(Duration::from_secs(5));
    redis::aio::ConnectionManager::new_with_config(client, manager_config)
        .await
        .context("cannot reach Redis at REDIS_URL")
}
