//! Configuration, from environment variables (or the matching `--flags`), read once at start-up.

use std::net::SocketAddr;

use chat_models::telemetry::LogFormat;
use secrecy::{ExposeSecret as _, SecretString};

/// friends-service settings.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "friends-service",
    version,
    about = "Friend requests, friendships and blocks of the chat platform"
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

    /// Redis URL (events, revoked sessions).
    #[arg(
        long,
        env = "REDIS_URL",
        default_value = "redis://127.0.0.1:6379",
        hide_env_values = true
    )]
    pub redis_url: SecretString,

    /// Prefix of every Redis key and of the event stream; the same for all services.
    #[arg(long, env = "REDIS_KEY_PREFIX", default_value = "chat:")]
    pub redis_key_prefix: String,

    /// Base URL of user-service (profiles, and its JWKS unless `JWT_JWKS_URL` is set).
    #[arg(
        long,
        env = "USER_SERVICE_URL",
        default_value = "http://127.0.0.1:5001"
    )]
    pub user_service_url: String,

    /// Where the access-token public keys are published.
    #[arg(long, env = "JWT_JWKS_URL")]
    pub jwt_jwks_url: Option<String>,

    /// `iss` expected in access tokens.
    #[arg(long, env = "JWT_ISSUER", default_value = "chat-user-service")]
    pub jwt_issuer: String,

    /// `aud` expected in access tokens.
    #[arg(long, env = "JWT_AUDIENCE", default_value = "chat")]
    pub jwt_audience: String,

    /// Access-token lifetime user-service uses (how long revocations are kept).
    #[arg(long, env = "ACCESS_TOKEN_TTL_SECS", default_value_t = 900)]
    pub access_token_ttl_secs: u64,

    /// Shared secret for `/internal/...` calls, both ways.
    #[arg(long, env = "SERVICE_TOKEN", hide_env_values = true)]
    pub service_token: SecretString,

    /// Most friend requests one user may have waiting for an answer.
    #[arg(long, env = "MAX_OUTGOING_REQUESTS", default_value_t = 100)]
    pub max_outgoing_requests: u64,

    /// Comma-separated browser origins allowed to call with credentials.
    #[arg(
        long,
        env = "CORS_ALLOWED_ORIGINS",
        default_value = "http://localhost:3000,http://127.0.0.1:3000"
    )]
    pub cors_allowed_origins: String,

    /// `development` or `production` (refuses placeholder secrets and insecure settings).
    #[arg(long, env = "APP_ENV", default_value = "development")]
    pub app_env: chat_models::config::AppEnv,

    /// Log format: `text` or `json`.
    #[arg(long, env = "LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,

    /// Largest request body in bytes.
    #[arg(long, env = "BODY_LIMIT_BYTES", default_value_t = 32_768)]
    pub body_limit_bytes: usize,

    /// Requests running longer are answered with 408.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 15)]
    pub request_timeout_secs: u64,
}

impl Config {
    /// Refuses to start with an unusable service token.
    pub fn validate(&self) -> anyhow::Result<()> {
        chat_models::config::check_secret(
            "SERVICE_TOKEN",
            self.service_token.expose_secret(),
            self.app_env,
        )?;
        Ok(())
    }

    /// The JWKS URL: configured, or user-service's.
    pub fn jwks_url(&self) -> String {
        self.jwt_jwks_url.clone().unwrap_or_else(|| {
            format!(
                "{}/.well-known/jwks.json",
                self.user_service_url.trim_end_matches('/')
            )
        })
    }
}
