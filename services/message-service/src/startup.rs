//! Building the application: connections, indexes, keys, the event consumer, the router.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::serve::ListenerExt as _;
use axum::Router;
use chat_models::auth::{ServiceToken, SessionRevocations};
use chat_models::clients::{FriendsDirectory, UserDirectory};
use chat_models::events::{stream_name, EventConsumer, EventPublisher, EventTail};
use chat_models::http::{parse_origins, with_common_layers, CommonLayers};
use mongodb::options::ClientOptions;
use secrecy::ExposeSecret as _;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::db::Store;
use crate::gateway::hub::Hub;
use crate::gateway::presence::{LastSeenDoc, PresenceStore};
use crate::gateway::{fanout, Gateway, GatewaySettings};
use crate::state::{AppState, Settings};

/// Approximate length the event stream is trimmed to.
const EVENT_STREAM_MAX_LEN: usize = 100_000;

/// A built, bound, not yet serving message-service.
pub struct Application {
    listener: TcpListener,
    router: Router,
    background: Vec<JoinHandle<()>>,
    hub: Arc<Hub>,
}

impl Application {
    /// Connects to MongoDB (creating the indexes) and Redis, loads user-service's public keys,
    /// starts the consumer of other services' events, binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        config.validate()?;
        let store = connect_mongo(&config).await?;
        store
            .ensure_indexes()
            .await
            .context("creating the MongoDB indexes")?;
        let redis_client = redis::Client::open(config.redis_url.expose_secret())
            .context("REDIS_URL is not a valid Redis URL")?;
        let redis = redis::aio::ConnectionManager::new(redis_client.clone())
            .await
            .context("cannot reach Redis at REDIS_URL")?;
        let users = UserDirectory::new(&config.user_service_url, config.service_token.clone())?;
        let friends =
            FriendsDirectory::new(&config.friends_service_url, config.service_token.clone())?;

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
        let presence = PresenceStore::new(
            redis.clone(),
            &prefix,
            Duration::from_secs(config.presence_ttl_secs),
            store.db.collection::<LastSeenDoc>("presence"),
        );
        presence
            .ensure_indexes()
            .await
            .context("creating the MongoDB indexes")?;
        let gateway = Gateway {
            hub: Arc::new(Hub::default()),
            presence,
            settings: Arc::new(GatewaySettings {
                max_frame_bytes: config.ws_max_frame_bytes,
                send_queue: config.ws_send_queue,
                ping_interval: Duration::from_secs(config.ws_ping_interval_secs),
                idle_timeout: Duration::from_secs(config.ws_idle_timeout_secs),
                auth_timeout: Duration::from_secs(config.ws_auth_timeout_secs),
                typing_ttl: Duration::from_millis(config.typing_ttl_ms),
                resume_max_messages: config.resume_max_messages,
                allowed_origins: parse_origins(&config.cors_allowed_origins)?,
                prefix: prefix.clone(),
            }),
            instance: uuid::Uuid::new_v4().simple().to_string(),
        };
        let state = AppState {
            store,
            redis,
            auth,
            users,
            friends,
            events,
            service_token: ServiceToken(Arc::new(config.service_token.clone())),
            settings: Arc::new(Settings {
                max_group_members: config.max_group_members,
            }),
            gateway: gateway.clone(),
        };

        // Every event and every ephemeral frame reaches this instance's sockets; the service
        // answers only once both readers are in place, so nothing published later is missed.
        let (tail_ready, ephemeral_ready) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let hub = gateway.hub.clone();
        let tail = tokio::spawn(
            EventTail::new(redis_client.clone(), stream_name(&prefix)).run(
                move |envelope| fanout::dispatch(&hub, envelope),
                tail_ready.clone(),
            ),
        );
        let ephemeral = tokio::spawn(fanout::run_ephemeral(
            redis_client.clone(),
            fanout::ephemeral_channel(&prefix),
            gateway.hub.clone(),
            ephemeral_ready.clone(),
        ));
        tokio::time::timeout(Duration::from_secs(10), async {
            tail_ready.notified().await;
            ephemeral_ready.notified().await;
        })
        .await
        .context("cannot read the event stream in Redis")?;

        let consumer = EventConsumer::new(
            redis_client,
            stream_name(&prefix),
            "message-service",
            &format!("message-{}", uuid::Uuid::new_v4().simple()),
        );
        let consumer_state = state.clone();
        let consumer = tokio::spawn(consumer.run(move |envelope| {
            let state = consumer_state.clone();
            async move {
                crate::routes::react(&state, envelope.event)
                    .await
                    .map_err(|error| anyhow::anyhow!("{error:?}"))
            }
        }));

        let layers = CommonLayers {
            allowed_origins: parse_origins(&config.cors_allowed_origins)?,
            body_limit_bytes: config.body_limit_bytes,
            request_timeout: Duration::from_secs(config.request_timeout_secs),
            service: "message-service",
        };
        let sampler = None;
        let router = crate::routes::router(state).merge(chat_models::metrics::router(sampler));
        let router = with_common_layers(router, &layers);
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("cannot listen on {}", config.addr))?;
        Ok(Self {
            listener,
            router,
            background: vec![consumer, tail, ephemeral],
            hub: gateway.hub,
        })
    }

    /// The bound port (useful with port 0).
    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|address| address.port())
            .unwrap_or_default()
    }

    /// Serves until `shutdown` resolves, then closes the sockets (telling clients to
    /// reconnect) and finishes in-flight requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let hub = self.hub.clone();
        let shutdown = async move {
            shutdown.await;
            hub.close_all();
        };
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

async fn connect_mongo(config: &Config) -> anyhow::Result<Store> {
    let mut options = ClientOptions::parse(config.mongodb_uri.expose_secret())
        .await
        .context("MONGODB_URI is not a valid MongoDB URL")?;
    options.app_name = Some("message-service".to_owned());
    // Connections in use, for /metrics (the driver's pool reports check-outs and check-ins).
    options.cmap_event_handler = Some(mongodb::event::EventHandler::callback(|event| {
        use mongodb::event::cmap::CmapEvent;
        let gauge =
            || metrics::gauge!("mongo_pool_connections_in_use", "service" => "message-service");
        match event {
            CmapEvent::ConnectionCheckedOut(_) => gauge().increment(1.0),
            CmapEvent::ConnectionCheckedIn(_) => gauge().decrement(1.0),
            _ => {}
        }
    }));
    options.server_selection_timeout = Some(Duration::from_secs(5));
    options.connect_timeout = Some(Duration::from_secs(5));
    let client = mongodb::Client::with_options(options).context("building the MongoDB client")?;
    let db = client.database(&config.mongodb_database);
    db.run_command(bson::doc! { "ping": 1 })
        .await
        .context("cannot reach MongoDB at MONGODB_URI")?;
    Ok(Store::new(client, &db))
}
