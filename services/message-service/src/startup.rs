//! Building the application: connections, indexes, keys, the event readers, the routers.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use chat_models::auth::ServiceToken;
use chat_models::clients::{FriendsDirectory, UserDirectory};
use chat_models::events::{stream_name, EventConsumer, EventPublisher, EventTail};
use chat_models::service::{connect_mongo, connect_redis, Server};
use tokio::sync::Notify;

use crate::config::Config;
use crate::db::Store;
use crate::gateway::hub::Hub;
use crate::gateway::{fanout, Gateway, GatewaySettings};
use crate::limits::UserLimits;
use crate::notices::Notice;
use crate::outbox::Outbox;
use crate::presence::{LastSeenDoc, PresenceStore};
use crate::search::embedded::Embedded;
use crate::search::opensearch::OpenSearch;
use crate::search::{self, Search};
use crate::state::{AppState, Settings, Shared};

/// Most profiles, friendships, memberships and sessions in force one instance remembers.
const DIRECTORY_CACHE_ENTRIES: u64 = 100_000;

/// Connects to MongoDB (creating the indexes) and Redis, loads user-service's public keys,
/// starts the event readers (the gateway's tail and ephemeral channel, the consumer of other
/// services' events), binds the listener. Sockets are closed on shutdown.
pub async fn build(config: Config) -> anyhow::Result<Server> {
    config.validate()?;
    let common = &config.common;
    let db = connect_mongo(&config.mongo, "message-service").await?;
    let mut store = Store::new(&db);
    store.sends = crate::db::messages::SendQueue::new(usize::from(config.send_batch_max)).sharing(
        usize::from(config.send_shared_max),
        usize::from(config.send_shared_at_once),
    );
    store
        .ensure_indexes()
        .await
        .context("creating the MongoDB indexes")?;
    let (redis_client, redis) = connect_redis(&common.redis_url).await?;
    // Instances take turns at each conversation's transactions (announced on a channel the
    // gateway's subscriber reads, below).
    let turns = config.send_turns.then(|| {
        Arc::new(crate::db::messages::Turns::new(
            redis.clone(),
            &common.redis_key_prefix,
        ))
    });
    // ...and hand their sends to the instance holding a conversation's turn (read on a
    // channel of this instance's own, below).
    let forwarding = turns.as_ref().map(|turns| {
        Arc::new(crate::db::messages::Forwarding::new(
            redis.clone(),
            &common.redis_key_prefix,
            turns.token(),
        ))
    });
    if let Some(turns) = &turns {
        store.sends = store
            .sends
            .clone()
            .taking_turns(turns.clone(), forwarding.clone());
    }
    let remember = Duration::from_secs(config.directory_cache_ttl_secs);
    let users = UserDirectory::from_config(&config.users, common)?
        .remembering(remember, DIRECTORY_CACHE_ENTRIES);
    let friends = FriendsDirectory::new(&config.friends_service_url, common.service_token.clone())?
        .remembering(remember, DIRECTORY_CACHE_ENTRIES);

    let prefix = &common.redis_key_prefix;
    let mut auth = users
        .authenticator(&config.users, common, redis.clone())
        .await?;
    // The tail forgets each `session.revoked` event's sessions (`forget_changed`), and says
    // whether it is connected (below).
    auth.revocations = auth
        .revocations
        .remembering(remember, DIRECTORY_CACHE_ENTRIES);
    let key_refresh = auth.keys.clone().keep_fresh();
    let presence = PresenceStore::new(
        redis.clone(),
        prefix,
        Duration::from_secs(config.presence_ttl_secs),
        db.collection::<LastSeenDoc>("presence"),
    );
    presence
        .ensure_indexes()
        .await
        .context("creating the MongoDB indexes")?;
    let gateway = Gateway {
        hub: Arc::new(Hub::default()),
        settings: Arc::new(GatewaySettings {
            max_frame_bytes: config.ws_max_frame_bytes,
            send_queue: config.ws_send_queue,
            ping_interval: Duration::from_secs(config.ws_ping_interval_secs),
            idle_timeout: Duration::from_secs(config.ws_idle_timeout_secs),
            auth_timeout: Duration::from_secs(config.ws_auth_timeout_secs),
            typing_ttl: Duration::from_millis(config.typing_ttl_ms),
            max_sockets_per_user: config.ws_max_sockets_per_user,
            allowed_origins: common.allowed_origins()?,
            prefix: prefix.clone(),
        }),
        instance: uuid::Uuid::new_v4().simple().to_string(),
    };
    let limits = Arc::new(UserLimits::new(
        config.message_rate_limit,
        config.typing_rate_limit,
    )?);
    let outbox = Outbox::new(&db, EventPublisher::for_prefix(redis.clone(), prefix))
        .await
        .context("reading the event outbox")?;
    let (search, search_feed) = start_search(&config, &store, &redis_client)?;
    let push = push_settings(&config)?;
    let files = files_settings(&config, &store)?;
    let state = AppState::new(Shared {
        store,
        redis: redis.clone(),
        auth,
        users,
        friends,
        memberships: crate::memberships::Memberships::new(remember, DIRECTORY_CACHE_ENTRIES),
        outbox: outbox.clone(),
        presence,
        service_token: ServiceToken(Arc::new(common.service_token.clone())),
        settings: Arc::new(Settings {
            max_group_members: config.max_group_members,
            resume_max_messages: config.resume_max_messages,
        }),
        gateway: gateway.clone(),
        limits: limits.clone(),
        search,
        previews: config
            .link_previews
            .then(|| crate::previews::Fetcher::new(config.link_preview_unsafe_allow.clone()))
            .transpose()?,
        push: push.clone(),
        files,
    });

    // Every event and every ephemeral frame reaches this instance's sockets; the service
    // answers only once both readers are in place, so nothing published later is missed.
    let (tail_ready, ephemeral_ready) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    // An event with an audience is only for sockets (`forget_changed`'s have none): one that
    // names nobody holding a socket here is skipped once its audience is read.
    let (hub, directories, holder) = (gateway.hub.clone(), state.clone(), gateway.hub.clone());
    // Sessions in force are remembered while the tail reads the revocations.
    let revocations = state.auth.revocations.clone();
    let tail = tokio::spawn(
        EventTail::new(redis_client.clone(), stream_name(prefix))
            .interested_in(move |audience| holder.holds_any(audience))
            .reporting(move |connected| revocations.reading(connected))
            .run(
                move |envelope| {
                    crate::event_handlers::forget_changed(&directories, &envelope.event);
                    fanout::dispatch(&hub, envelope);
                },
                tail_ready.clone(),
            ),
    );
    let forwarded = forwarding
        .map(|forwarding| tokio::spawn(forwarding.run(redis_client.clone(), state.store.clone())));
    let notices = state.clone();
    let ephemeral = tokio::spawn(fanout::run_channels(
        redis_client.clone(),
        prefix.clone(),
        gateway.hub.clone(),
        move |notice| match notice {
            Notice::TurnFree(conversation) => {
                if let Some(turns) = &turns {
                    turns.announced(conversation);
                }
            }
            Notice::PushSubscribed(user) => {
                if let Some(push) = &notices.push {
                    push.subscribed(user);
                }
            }
        },
        ephemeral_ready.clone(),
    ));
    tokio::time::timeout(Duration::from_secs(10), async {
        tail_ready.notified().await;
        ephemeral_ready.notified().await;
    })
    .await
    .context("cannot read the event stream in Redis")?;

    // Each new message is pushed once, by whichever instance's member of the group gets it.
    let pusher = push.map(|push| {
        let (state, consumer) = (
            state.clone(),
            EventConsumer::joining(redis_client.clone(), prefix, "message-push")
                .new_events_only()
                .only(crate::push::HANDLED),
        );
        tokio::spawn(consumer.run(move |envelope| {
            let (state, push) = (state.clone(), push.clone());
            async move {
                crate::push::handle(&state, &push, envelope.event)
                    .await
                    .map_err(|error| anyhow::anyhow!("{error:?}"))
            }
        }))
    });

    let consumer = EventConsumer::joining(redis_client, prefix, "message-service")
        .only(crate::event_handlers::HANDLED);
    let consumer_state = state.clone();
    let consumer = tokio::spawn(consumer.run(move |envelope| {
        let state = consumer_state.clone();
        async move {
            crate::event_handlers::handle(&state, envelope.event)
                .await
                .map_err(|error| anyhow::anyhow!("{error:?}"))
        }
    }));

    let presence_sweep = tokio::spawn(crate::gateway::backend::announce_expired(state.clone()));
    let file_sweep = tokio::spawn(crate::files::sweep(state.clone()));
    let router =
        crate::routes::router(state.clone()).merge(crate::gateway::router().with_state(state));
    let hub = gateway.hub;
    let mut layers = common.layers("message-service")?;
    layers.long_routes = crate::UPLOAD_ROUTES.to_vec();
    Ok(Server::bind(config.addr, router, &layers, None)
        .await?
        .with_background([
            consumer,
            tail,
            ephemeral,
            limits.sweep(),
            key_refresh,
            presence_sweep,
            file_sweep,
            outbox.relay(),
            search_feed,
        ])
        .with_background(pusher)
        .with_background(forwarded)
        // Tells clients to reconnect (to another instance) and resume.
        .on_shutdown(move || hub.close_all()))
}

/// Where files go and what they may be.
fn files_settings(config: &Config, store: &Store) -> anyhow::Result<crate::files::Files> {
    use chat_files::images::ImageLimits;
    let storage = chat_files::Storage::open(&config.storage)?;
    tracing::info!(backend = storage.backend, "file storage");
    let limits = |max_bytes, images_only, fit_within| chat_files::IntakeLimits {
        max_bytes,
        images_only,
        images: ImageLimits {
            fit_within,
            ..ImageLimits::default()
        },
    };
    Ok(crate::files::Files {
        intake: chat_files::Intake::new(storage, 2),
        quota: chat_files::Quota::new(store.storage_usage.clone(), config.storage_quota_bytes),
        public_url: config.public_url.trim_end_matches('/').to_owned(),
        attachments: limits(config.attachment_max_bytes, false, None),
        pictures: limits(config.group_picture_max_bytes, true, Some(1024)),
        unattached_ttl: Duration::from_secs(config.upload_unattached_ttl_secs),
        purge: Arc::new(Notify::new()),
    })
}

/// Web push, when a VAPID key is configured.
fn push_settings(config: &Config) -> anyhow::Result<Option<crate::push::Push>> {
    use secrecy::ExposeSecret as _;
    let Some(pem) = config.vapid_private_key_pem()? else {
        return Ok(None);
    };
    let vapid = crate::push::vapid::Vapid::from_pem(pem.expose_secret(), &config.vapid_subject)?;
    Ok(Some(crate::push::Push::new(
        vapid,
        Duration::from_secs(config.push_ttl_secs),
        config.push_unsafe_allow.clone(),
    )?))
}

/// The configured search backend and the task that keeps it fed.
fn start_search(
    config: &Config,
    store: &Store,
    redis_client: &redis::Client,
) -> anyhow::Result<(Search, tokio::task::JoinHandle<()>)> {
    let prefix = &config.common.redis_key_prefix;
    // The metrics recorder before the feed starts, so its first rebuild is counted.
    let _ = chat_models::metrics::handle();
    Ok(match &config.search_url {
        Some(url) => {
            let index = Arc::new(OpenSearch::new(url, prefix)?);
            let feed = tokio::spawn(search::feed::run_opensearch(
                index.clone(),
                store.clone(),
                redis_client.clone(),
                prefix.clone(),
            ));
            (Search::OpenSearch(index), feed)
        }
        None => {
            let index = Arc::new(
                Embedded::open(config.search_index_dir.as_deref())
                    .context("opening the search index")?,
            );
            let feed = tokio::spawn(search::feed::run_embedded(
                index.clone(),
                store.clone(),
                redis_client.clone(),
                stream_name(prefix),
            ));
            (Search::Embedded(index), feed)
        }
    })
}
