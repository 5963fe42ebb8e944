//! The services' test kit (a dev-dependency only): [`Stack`] starts the real services on
//! storage of their own (MySQL schemas, a Mongo database, a Redis key prefix), dropped when the
//! stack is; [`TestUser`]s register and befriend through the real routes; the event stream is
//! read as the services wrote it; [`WsClient`] speaks the WebSocket protocol in its own types.
//!
//! The servers come from the environment (`TEST_MYSQL_URL` or `DATABASE_URL`, `MONGODB_URI`,
//! `REDIS_URL`), which `scripts/test.sh` sets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod config;
mod events;
pub mod files;
mod http;
mod mongo_server;
pub mod oauth;
mod ports;
mod redis_server;
mod stack;
mod users;
mod ws;

pub use config::{user_config, PASSWORD, SERVICE_TOKEN};
pub use http::{code, error_code, json_with, new_client};
pub use mongo_server::MongoServer;
pub use ports::free_port;
pub use redis_server::RedisServer;
pub use stack::{Instance, Service, Stack, StackBuilder};
pub use users::TestUser;
pub use ws::WsClient;

/// The next frame of `$ws` matching a pattern (others skipped), as the expression after `=>`.
///
/// ```ignore
/// let message = next_frame!(ws, ServerFrame::MessageCreated(message) => message);
/// ```
#[macro_export]
macro_rules! next_frame {
    ($ws:expr, $pattern:pat => $value:expr) => {
        $ws.next_matching(stringify!($pattern), |frame| match frame {
            $pattern => Some($value),
            _ => None,
        })
        .await
    };
}

/// Waits (up to 10 s, asking every 100 ms) until `check` holds; panics naming `what` if it
/// never does. For effects that follow a request asynchronously (a sweep, an event handled).
pub async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{what}: not within 10 s");
}
