//! Configuration, from environment variables (or the matching `--flags`), read once at start-up.

use std::net::SocketAddr;

use chat_models::config::{CommonConfig, UserServiceConfig};
use secrecy::SecretString;

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

    /// MySQL URL including the schema (`mysql://user:pass@host:3306/chat_friends`); created if
    /// missing and migrated at start-up.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: SecretString,

    /// Largest number of MySQL connections.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 10)]
    pub database_max_connections: u32,

    /// Most friend requests one user may have waiting for an answer.
    #[arg(long, env = "MAX_OUTGOING_REQUESTS", default_value_t = 100)]
    pub max_outgoing_requests: u64,

    /// How to reach user-service.
    #[command(flatten)]
    pub users: UserServiceConfig,

    /// Settings every service shares.
    #[command(flatten)]
    pub common: CommonConfig,
}
