//! [`CommonConfig`] and [`UserServiceConfig`]: clap `Args` flattened into each service's
//! `Config` (`#[command(flatten)]`), so a variable means the same everywhere.

use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};

use super::{check_secret, AppEnv};
use crate::http::{parse_origins, CommonLayers};
use crate::metrics::MetricsAccess;
use crate::telemetry::LogFormat;

/// Settings every service reads the same way.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonConfig {
    /// Redis URL (events, rate limits, revoked sessions, presence).
    #[arg(
        long,
        env = "REDIS_URL",
        default_value = "redis://127.0.0.1:6379",
        hide_env_values = true
    )]
    pub redis_url: SecretString,

    /// Prefix of every Redis key and of the event stream; all services must agree on it.
    #[arg(long, env = "REDIS_KEY_PREFIX", default_value = "chat:")]
    pub redis_key_prefix: String,

    /// `iss` of access tokens: user-service signs with it, the others expect it.
    #[arg(long, env = "JWT_ISSUER", default_value = "chat-user-service")]
    pub jwt_issuer: String,

    /// `aud` of access tokens.
    #[arg(long, env = "JWT_AUDIENCE", default_value = "chat")]
    pub jwt_audience: String,

    /// Access-token lifetime in seconds: user-service issues tokens for this long, and every
    /// service keeps a revocation at least this long.
    #[arg(long, env = "ACCESS_TOKEN_TTL_SECS", default_value_t = 900)]
    pub access_token_ttl_secs: u64,

    /// Shared secret services send each other in `X-Service-Token` on `/internal/...` calls.
    #[arg(long, env = "SERVICE_TOKEN", hide_env_values = true)]
    pub service_token: SecretString,

    /// Comma-separated browser origins allowed to call with credentials (and to open sockets).
    #[arg(
        long,
        env = "CORS_ALLOWED_ORIGINS",
        default_value = "http://localhost:3000,http://127.0.0.1:3000"
    )]
    pub cors_allowed_origins: String,

    /// `development` or `production` (refuses placeholder secrets and insecure settings).
    #[arg(long, env = "APP_ENV", default_value = "development")]
    pub app_env: AppEnv,

    /// Log format: `text` or `json`.
    #[arg(long, env = "LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,

    /// Largest request body in bytes.
    #[arg(long, env = "BODY_LIMIT_BYTES", default_value_t = 65_536)]
    pub body_limit_bytes: usize,

    /// Requests running longer are answered with 408.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 15)]
    pub request_timeout_secs: u64,

    /// File uploads (and their downloads' first byte) may run this long instead.
    #[arg(long, env = "UPLOAD_TIMEOUT_SECS", default_value_t = 600)]
    pub upload_timeout_secs: u64,

    /// A connection must send a whole request head within this many seconds, and is closed
    /// after this long idle between requests.
    #[arg(long, env = "HTTP_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub http_header_timeout_secs: u64,

    /// Bearer token `GET /metrics` requires. Unset: `/metrics` is open in development and
    /// not served in production.
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<SecretString>,
}

impl CommonConfig {
    /// Refuses to start with an unusable service token.
    pub fn validate(&self) -> anyhow::Result<()> {
        check_secret(
            "SERVICE_TOKEN",
            self.service_token.expose_secret(),
            self.app_env,
        )?;
        if let MetricsAccess::Token(token) = self.metrics_access() {
            check_secret("METRICS_TOKEN", token.expose_secret(), self.app_env)?;
        }
        Ok(())
    }

    /// Who may read `/metrics`.
    pub fn metrics_access(&self) -> MetricsAccess {
        match &self.metrics_token {
            Some(token) if !token.expose_secret().is_empty() => MetricsAccess::Token(token.clone()),
            _ if self.app_env == AppEnv::Production => MetricsAccess::Off,
            _ => MetricsAccess::Open,
        }
    }

    /// How long a revocation must live: past the longest access token, plus clock leeway.
    pub fn revocation_ttl(&self) -> Duration {
        Duration::from_secs(self.access_token_ttl_secs + 60)
    }

    /// The browser origins of `CORS_ALLOWED_ORIGINS`.
    pub fn allowed_origins(&self) -> anyhow::Result<Vec<http::HeaderValue>> {
        parse_origins(&self.cors_allowed_origins)
    }

    /// The shared HTTP layers of `service`, as configured.
    pub fn layers(&self, service: &'static str) -> anyhow::Result<CommonLayers> {
        Ok(CommonLayers {
            allowed_origins: self.allowed_origins()?,
            body_limit_bytes: self.body_limit_bytes,
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            long_routes: Vec::new(),
            long_request_timeout: Duration::from_secs(self.upload_timeout_secs.max(1)),
            header_timeout: Duration::from_secs(self.http_header_timeout_secs.max(1)),
            metrics: self.metrics_access(),
            service,
        })
    }
}

/// Where a service keeps its MySQL schema (user- and friends-service, each its own).
#[derive(Debug, Clone, clap::Args)]
pub struct MySqlConfig {
    /// MySQL URL including the schema (`mysql://user:pass@host:3306/chat_users`); the schema
    /// is created if missing and migrated at start-up.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: SecretString,

    /// Largest number of MySQL connections.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 10)]
    pub database_max_connections: u32,
}

/// Where a service keeps its MongoDB collections (user- and message-service).
#[derive(Debug, Clone, clap::Args)]
pub struct MongoConfig {
    /// MongoDB URL (`mongodb://host:27017/?replicaSet=rs0`).
    #[arg(long, env = "MONGODB_URI", hide_env_values = true)]
    pub mongodb_uri: SecretString,

    /// MongoDB database.
    #[arg(long, env = "MONGODB_DATABASE", default_value = "chat")]
    pub mongodb_database: String,
}

/// How a service that does not sign tokens reaches user-service: profiles and public keys.
#[derive(Debug, Clone, clap::Args)]
pub struct UserServiceConfig {
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
}

impl UserServiceConfig {
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
