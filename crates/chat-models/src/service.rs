//! The skeleton every service is built on: connections made the same way (Redis with
//! timeouts, MongoDB with pool metrics, MySQL created and migrated), [`Server`], which wraps a
//! router with the shared layers, binds, serves until a shutdown signal and then stops its
//! background tasks, and [`run`], each binary's `main` once its configuration is read.

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use secrecy::{ExposeSecret as _, SecretString};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::CommonConfig;
use crate::http::{with_common_layers, CommonLayers};
use crate::metrics::Sampler;
use crate::serve::Serving;

/// How long connecting to a database may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long connecting to Redis, or one of its answers, may take. Redis sits on the path of
/// nearly every request (revocations, rate limits), so a Redis that is down or frozen must
/// cost a request at most this before it is answered `503` (and the services recover as soon
/// as it answers again: there is no back-off to wait out).
pub const REDIS_TIMEOUT: Duration = Duration::from_secs(1);

/// A Redis client (for connections of their own: consumers, pub/sub) and a shared,
/// reconnecting connection whose connects and answers time out after [`REDIS_TIMEOUT`]. A
/// failed connection is not retried inside the call that noticed it (that call fails at once)
/// but re-established for the next one.
pub async fn connect_redis(
    url: &SecretString,
) -> anyhow::Result<(redis::Client, redis::aio::ConnectionManager)> {
    let client =
        redis::Client::open(url.expose_secret()).context("REDIS_URL is not a valid Redis URL")?;
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(REDIS_TIMEOUT)
        .set_response_timeout(REDIS_TIMEOUT)
        .set_number_of_retries(0);
    let manager = redis::aio::ConnectionManager::new_with_config(client.clone(), config)
        .await
        .context("cannot reach Redis at REDIS_URL")?;
    Ok((client, manager))
}

/// The configured MongoDB database, pinged; the pool's connections in use are the
/// `mongo_pool_connections_in_use{service}` gauge.
#[cfg(feature = "mongo")]
pub async fn connect_mongo(
    config: &crate::config::MongoConfig,
    service: &'static str,
) -> anyhow::Result<mongodb::Database> {
    use mongodb::event::cmap::CmapEvent;
    let mut options = mongodb::options::ClientOptions::parse(config.mongodb_uri.expose_secret())
        .await
        .context("MONGODB_URI is not a valid MongoDB URL")?;
    options.app_name = Some(service.to_owned());
    options.cmap_event_handler = Some(mongodb::event::EventHandler::callback(move |event| {
        let gauge = || metrics::gauge!("mongo_pool_connections_in_use", "service" => service);
        match event {
            CmapEvent::ConnectionCheckedOut(_) => gauge().increment(1.0),
            CmapEvent::ConnectionCheckedIn(_) => gauge().decrement(1.0),
            _ => {}
        }
    }));
    options.server_selection_timeout = Some(CONNECT_TIMEOUT);
    options.connect_timeout = Some(CONNECT_TIMEOUT);
    let client = mongodb::Client::with_options(options).context("building the MongoDB client")?;
    let db = client.database(&config.mongodb_database);
    db.run_command(bson::doc! { "ping": 1 })
        .await
        .context("cannot reach MongoDB at MONGODB_URI")?;
    Ok(db)
}

/// A pool (`options` with the configured size) on the configured MySQL schema (created if
/// missing), with `migrator` applied.
#[cfg(feature = "mysql")]
pub async fn connect_mysql(
    config: &crate::config::MySqlConfig,
    options: sqlx::mysql::MySqlPoolOptions,
    migrator: &sqlx::migrate::Migrator,
) -> anyhow::Result<sqlx::MySqlPool> {
    use sqlx::migrate::MigrateDatabase as _;
    let url = config.database_url.expose_secret();
    let exists = sqlx::MySql::database_exists(url)
        .await
        .context("cannot reach MySQL at DATABASE_URL")?;
    if !exists {
        sqlx::MySql::create_database(url)
            .await
            .context("cannot create the database named in DATABASE_URL")?;
    }
    let pool = options
        .max_connections(config.database_max_connections)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect(url)
        .await
        .context("cannot connect to MySQL at DATABASE_URL")?;
    migrator
        .run(&pool)
        .await
        .context("applying the migrations")?;
    Ok(pool)
}

/// A built, bound, not yet serving service.
pub struct Server {
    listener: TcpListener,
    router: Router,
    serving: Serving,
    background: Vec<JoinHandle<()>>,
    on_shutdown: Option<Box<dyn FnOnce() + Send>>,
}

impl Server {
    /// `router` with `/metrics` (sampled by `sampler`) and the shared layers, bound to `addr`.
    pub async fn bind(
        addr: SocketAddr,
        router: Router,
        layers: &CommonLayers,
        sampler: Option<Sampler>,
    ) -> anyhow::Result<Self> {
        let metrics = crate::metrics::router(sampler, layers.metrics.clone());
        let router = with_common_layers(router.merge(metrics), layers);
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        Ok(Self {
            listener,
            router,
            serving: Serving {
                header_timeout: layers.header_timeout,
            },
            background: Vec::new(),
            on_shutdown: None,
        })
    }

    /// Tasks that run while the service serves and stop with it.
    #[must_use]
    pub fn with_background(mut self, tasks: impl IntoIterator<Item = JoinHandle<()>>) -> Self {
        self.background.extend(tasks);
        self
    }

    /// Runs `hook` when the shutdown signal arrives, before in-flight requests finish
    /// (message-service closes its sockets there).
    #[must_use]
    pub fn on_shutdown(mut self, hook: impl FnOnce() + Send + 'static) -> Self {
        self.on_shutdown = Some(Box::new(hook));
        self
    }

    /// The bound port (useful with port 0).
    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|address| address.port())
            .unwrap_or_default()
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests and stops the
    /// background tasks. Handlers can read the peer address (`ConnectInfo<SocketAddr>`).
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let hook = self.on_shutdown;
        let shutdown = async move {
            shutdown.await;
            if let Some(hook) = hook {
                hook();
            }
        };
        let result = crate::serve::serve(self.listener, self.router, self.serving, shutdown).await;
        for task in self.background {
            task.abort();
        }
        result
    }
}

/// What [`main`] needs of a service's configuration.
pub trait ServiceConfig: clap::Parser {
    /// The settings every service shares.
    fn common(&self) -> &CommonConfig;
}

/// A service binary's `main`: reads `.env` (development), the configuration (variables or
/// flags) and sets up logging (`RUST_LOG`, else `log_filter`), then [`run`]s `build`.
pub async fn main<C, F>(service: &str, log_filter: &str, build: impl FnOnce(C) -> F) -> ExitCode
where
    C: ServiceConfig,
    F: Future<Output = anyhow::Result<Server>>,
{
    dotenvy::dotenv().ok();
    let config = C::parse();
    crate::telemetry::init_tracing(log_filter, config.common().log_format);
    run(service, build(config)).await
}

/// A service binary's life after its configuration is read and logging is set up: builds the
/// service, serves until Ctrl-C or SIGTERM, and reports why it stopped, as one line with the
/// whole cause chain (what an operator reads when a service refuses to start).
pub async fn run(service: &str, build: impl Future<Output = anyhow::Result<Server>>) -> ExitCode {
    let outcome = async {
        let server = build.await?;
        tracing::info!(port = server.port(), "{service} listening");
        server
            .run_until_stopped(crate::telemetry::shutdown_signal())
            .await?;
        anyhow::Ok(())
    }
    .await;
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{service} stopped: {error:#}");
            eprintln!("{service}: {error:#}");
            ExitCode::FAILURE
        }
    }
}
