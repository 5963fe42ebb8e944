//! Configuration, from environment variables (or the matching `--flags`), read once at start-up.

use std::net::SocketAddr;

use chat_models::telemetry::LogFormat;
use secrecy::{ExposeSecret as _, SecretString};

/// message-service settings.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "message-service",
    version,
    about = "Conversations, messages and read state of the chat platform"
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "MESSAGE_SERVICE_ADDR", default_value = "0.0.0.0:5003")]
    pub addr: SocketAddr,

    /// MongoDB URL (conversations, messages, read state).
    #[arg(long, env = "MONGODB_URI", hide_env_values = true)]
    pub mongodb_uri: SecretString,

    /// MongoDB database.
    #[arg(long, env = "MONGODB_DATABASE", default_value = "chat")]
    pub mongodb_database: String,

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

    /// Base URL of friends-service (who may talk to whom).
    #[arg(
        long,
        env = "FRIENDS_SERVICE_URL",
        default_value = "http://127.0.0.1:5002"
    )]
    pub friends_service_url: String,

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

    /// Shared secret for `/internal/...` calls to the other services.
    #[arg(long, env = "SERVICE_TOKEN", hide_env_values = true)]
    pub service_token: SecretString,

    /// Most members a group may have, its admin included.
    #[arg(long, env = "MAX_GROUP_MEMBERS", default_value_t = 100)]
    pub max_group_members: usize,

    /// Largest WebSocket frame a client may send, in bytes.
    #[arg(long, env = "WS_MAX_FRAME_BYTES", default_value_t = 16_384)]
    pub ws_max_frame_bytes: usize,

    /// Frames queued per socket before it is closed as too slow to read.
    #[arg(long, env = "WS_SEND_QUEUE", default_value_t = 256)]
    pub ws_send_queue: usize,

    /// Seconds between server pings.
    #[arg(long, env = "WS_PING_INTERVAL_SECS", default_value_t = 20)]
    pub ws_ping_interval_secs: u64,

    /// Seconds without any frame or pong after which a socket is closed.
    #[arg(long, env = "WS_IDLE_TIMEOUT_SECS", default_value_t = 60)]
    pub ws_idle_timeout_secs: u64,

    /// Seconds to send `authenticate` when the upgrade carried no token.
    #[arg(long, env = "WS_AUTH_TIMEOUT_SECS", default_value_t = 5)]
    pub ws_auth_timeout_secs: u64,

    /// Milliseconds a `typing.start` lasts unless renewed.
    #[arg(long, env = "TYPING_TTL_MS", default_value_t = 5_000)]
    pub typing_ttl_ms: u64,

    /// Seconds a socket counts as present after its last heartbeat (several ping intervals).
    #[arg(long, env = "PRESENCE_TTL_SECS", default_value_t = 70)]
    pub presence_ttl_secs: u64,

    /// Most messages one `resume` replays per conversation.
    #[arg(long, env = "RESUME_MAX_MESSAGES", default_value_t = 500)]
    pub resume_max_messages: i64,

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
    #[arg(long, env = "BODY_LIMIT_BYTES", default_value_t = 65_536)]
    pub body_limit_bytes: usize,

    /// Requests running longer are answered with 408.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 15)]
    pub request_timeout_secs: u64,
}

impl Config {
    /// Refuses to start with unusable settings.
    pub fn validate(&self) -> anyhow::Result<()> {
        chat_models::config::check_secret(
            "SERVICE_TOKEN",
            self.service_token.expose_secret(),
            self.app_env,
        )?;
        if self.max_group_members < 2 {
            anyhow::bail!("MAX_GROUP_MEMBERS must be at least 2");
        }
        if self.ws_ping_interval_secs == 0 || self.presence_ttl_secs <= self.ws_ping_interval_secs {
            anyhow::bail!(
                "PRESENCE_TTL_SECS must exceed WS_PING_INTERVAL_SECS (and both be above 0)"
            );
        }
        if self.resume_max_messages < 1 {
            anyhow::bail!("RESUME_MAX_MESSAGES must be at least 1");
        }
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
