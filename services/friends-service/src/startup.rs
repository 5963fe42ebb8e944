//! Building the application: connections, migrations, keys, the event consumer, the router.

use std::sync::Arc;
use std::time::Duration;

use chat_models::auth::ServiceToken;
use chat_models::clients::UserDirectory;
use chat_models::events::{DomainEvent, EventConsumer, EventPublisher};
use chat_models::outbox::{self, OutboxSignal};
use chat_models::service::{connect_mysql, connect_redis, Server};
use sqlx::mysql::MySqlPoolOptions;
use sqlx::Executor as _;

use crate::config::Config;
use crate::state::{AppState, Settings};

/// Connects to MySQL (creating and migrating the schema) and Redis, loads user-service's
/// public keys, starts the outbox relay and the `user.deleted` consumer, binds the listener.
pub async fn build(config: Config) -> anyhow::Result<Server> {
    let common = &config.common;
    common.validate()?;
    let pool = MySqlPoolOptions::new()
        // Reads inside a transaction see what was committed before them, not a snapshot from
        // its start; with the pair locks (db::relationships::lock_pair) decisions are current.
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                    .await
                    .map(|_| ())
            })
        });
    let db = connect_mysql(&config.mysql, pool, &crate::MIGRATOR).await?;
    let (redis_client, redis) = connect_redis(&common.redis_url).await?;
    let users = UserDirectory::from_config(&config.users, common)?;

    let prefix = &common.redis_key_prefix;
    let auth = users
        .authenticator(&config.users, common, redis.clone())
        .await?;
    let key_refresh = auth.keys.clone().keep_fresh();

    let outbox_signal = OutboxSignal::default();
    let relay = tokio::spawn(outbox::run_relay(
        db.clone(),
        EventPublisher::for_prefix(redis.clone(), prefix),
        outbox_signal.clone(),
        Duration::from_secs(2),
    ));
    // It acts on deleted accounts alone; every other event is acknowledged unread.
    let consumer =
        EventConsumer::joining(redis_client, prefix, "friends-service").only(&["user.deleted"]);
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
        service_token: ServiceToken(Arc::new(common.service_token.clone())),
        settings: Arc::new(Settings {
            max_outgoing_requests: config.max_outgoing_requests,
        }),
    };
    let sampler = chat_models::metrics::pool_sampler("friends-service", state.db.clone());
    Ok(Server::bind(
        config.addr,
        crate::routes::router(state),
        &common.layers("friends-service")?,
        Some(sampler),
    )
    .await?
    .with_background([relay, cleanup, key_refresh]))
}
