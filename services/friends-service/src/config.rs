//! Configuration, from environment variables (or the matching `--flags`), read once at start-up.

use std::net::SocketAddr;

use chat_models::config::{CommonConfig, MySqlConfig, UserServiceConfig};

/// friends-service settings.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "friends-service",
    version,
    about = "Friend requests, friendships and blocks of the chat platform",
    // Friend requests and blocks are small: a smaller body limit than the other services'.
    mut_arg("body_limit_bytes", |arg| arg.default_value("32768"))
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "FRIENDS_SERVICE_ADDR", default_value = "0.0.0.0:5002")]
    pub addr: SocketAddr,

    /// Most friend requests one user may have waiting for an answer.
    #[arg(long, env = "MAX_OUTGOING_REQUESTS", default_value_t = 100)]
    pub max_outgoing_requests: u64,

    /// `chat_friends` in MySQL.
    #[command(flatten)]
    pub mysql: MySqlConfig,

    /// How to reach user-service.
    #[command(flatten)]
    pub users: UserServiceConfig,

    /// Settings every service shares.
    #[command(flatten)]
    pub common: CommonConfig,
}

impl chat_models::service::ServiceConfig for Config {
    fn common(&self) -> &CommonConfig {
        &self.common
    }
}
