//! Building the application: connections, migrations, keys, the event consumer, the router.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::serve::ListenerExt as _;
use axum::Router;
use chat_models::auth::{ServiceToken, SessionRevocations};
use chat_models::events::{stream_name, DomainEvent, EventConsumer, EventPublisher};
use chat_models::http::{parse_origins, with_common_layers, CommonLayers};
use chat_models::outbox::{self, OutboxSignal};
use secrecy::ExposeSecret as _;
use sqlx::migrate::MigrateDatabase as _;
use sqlx::mysql::MySqlPoolOptions;
use sqlx::{Executor as _, MySql, MySqlPool};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::state::{AppState, Settings};
use chat_models::clients::UserDirectory;

/// Approximate length the event stream is trimmed to.
const EVENT_STREAM_MAX_LEN: usize = 100_000;

/// A built, bound, not yet serving friends-service.
pub struct Application {
    listener: TcpListener,
    router: Router,
    background: Vec<JoinHandle<()>>,
}

impl Application {
    /// Connects to MySQL (creating and migrating the schema) and Redis, loads user-service's
    /// public keys, starts the outbox relay and the `user.deleted` consumer, binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        config.validate()?;
        let db = connect_mysql(&config).await?;
        let redis_client = redis::Client::open(config.redis_url.expose_secret())
            .context("REDIS_URL is not a valid Redis URL")?;
        let redis = redis::aio::ConnectionManager::new(redis_client.clone())
            .await
            .context("cannot reach Redis at REDIS_URL")?;
        let users = UserDirectory::new(&config.user_service_url, config.service_token.clone())?;

        let prefix = config.redis_key_prefix.clone();
        let revocations = SessionRevocations::new(
            redis.clone(),
            &prefix,
            Duration::from_secs(config.access_token_ttl_secs + 60),
        );
        let auth = users
            .authenticator(
                &config.jwks_url(),
                &config.jwt_issuer,
                &config.jwt_audience,
                revocations,
            )
            .await?;

        let events = EventPublisher::new(redis.clone(), stream_name(&prefix), EVENT_STREAM_MAX_LEN);
        let outbox_signal = OutboxSignal::default();
        let relay = tokio::spawn(outbox::run_relay(
            db.clone(),
            events,
            outbox_signal.clone(),
            Duration::from_secs(2),
        ));
        let consumer = EventConsumer::new(
            redis_client,
            stream_name(&prefix),
            "friends-service",
            &consumer_name(),
        );
        let cleanup_db = db.clone();
        let cleanup = tokio::spawn(consumer.run(move |envelope| {
            let db = cleanup_db.clone();
            async move {
                if let DomainEvent::UserDeleted { user_uuid } = envelope.event {
                    crate::db::delete_user_data(&db, user_uuid)
                        .await
                        .map_err(|error| anyhow::anyhow!("{error:?}"))?;
                    tracing::info!(user_id = %user_uuid, "removed a deleted user's friends data");
                }
                Ok(())
            }
        }));

        let state = AppState {
            db,
            redis,
            auth,
            users,
            outbox: outbox_signal,
            service_token: ServiceToken(Arc::new(config.service_token.clone())),
            settings: Arc::new(Settings {
                max_outgoing_requests: config.max_outgoing_requests,
            }),
        };
        let layers = CommonLayers {
            allowed_origins: parse_origins(&config.cors_allowed_origins)?,
            body_limit_bytes: config.body_limit_bytes,
            request_timeout: Duration::from_secs(config.request_timeout_secs),
            service: "friends-service",
        };
        let sampler = Some(chat_models::metrics::pool_sampler(
            "friends-service",
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
            background: vec![relay, cleanup],
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
        // Small frames and JSON answers go out at once (no Nagle delay).
        let listener = self.listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let result = axum::serve(listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await;
        for task in self.background {
            task.abort();
        }
        result
    }
}

/// A consumer name unique to this process, so several instances share the group's work.
fn consumer_name() -> String {
    format!("friends-{}", uuid::Uuid::new_v4().simple())
}

async fn connect_mysql(config: &Config) -> anyhow::Result<MySqlPool> {
    let url = config.database_url.expose_secret();
    if !MySql::database_exists(url)
        .await
        .context("cannot reach MySQL at DATABASE_URL")?
    {
        MySql::create_database(url)
            .await
            .context("cannot create the database named in DATABASE_URL")?;
    }
    let pool = MySqlPoolOptions::new()
        .max_connections(config.database_max_connections)
        .acquire_timeout(Duration::from_secs(5))
        // Reads inside a transaction see what was committed before them, not a snapshot from
        // its start; with the pair locks (db::relationships::lock_pair) decisions are current.
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                    .await
                    .map(|_| ())
            })
        })
        .connect(url)
        .await
        .context("cannot connect to MySQL at DATABASE_URL")?;
    crate::MIGRATOR
        .run(&pool)
        .await
        .context("applying migrations/friends")?;
    Ok(pool)
}
