//! Configuration, from environment variables (or the matching `--flags`), read once at start-up.
//! Every variable is listed in `docs/config.md` and `.env.example`.

use std::net::SocketAddr;
use std::path::PathBuf;

use chat_models::ratelimit::RateLimit;
use chat_models::telemetry::LogFormat;
use secrecy::{ExposeSecret as _, SecretString};

/// user-service settings.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "user-service",
    version,
    about = "Accounts, sessions and profiles of the chat platform"
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "USER_SERVICE_ADDR", default_value = "0.0.0.0:5001")]
    pub addr: SocketAddr,

    /// MySQL URL including the schema (`mysql://user:pass@host:3306/chat_users`). The schema is
    /// created if missing and migrated at start-up.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: SecretString,

    /// Largest number of MySQL connections.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 10)]
    pub database_max_connections: u32,

    /// MongoDB URL (refresh tokens).
    #[arg(long, env = "MONGODB_URI", hide_env_values = true)]
    pub mongodb_uri: SecretString,

    /// MongoDB database name.
    #[arg(long, env = "MONGODB_DATABASE", default_value = "chat")]
    pub mongodb_database: String,

    /// Redis URL (events, rate limits, revoked sessions).
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

    /// Path of the Ed25519 private key (PKCS#8 PEM) that signs access tokens.
    #[arg(long, env = "JWT_PRIVATE_KEY_FILE")]
    pub jwt_private_key_file: Option<PathBuf>,

    /// The same key inline, for platforms that inject secrets as variables.
    #[arg(long, env = "JWT_PRIVATE_KEY", hide_env_values = true)]
    pub jwt_private_key: Option<SecretString>,

    /// `iss` claim of access tokens.
    #[arg(long, env = "JWT_ISSUER", default_value = "chat-user-service")]
    pub jwt_issuer: String,

    /// `aud` claim of access tokens.
    #[arg(long, env = "JWT_AUDIENCE", default_value = "chat")]
    pub jwt_audience: String,

    /// Access-token lifetime in seconds.
    #[arg(long, env = "ACCESS_TOKEN_TTL_SECS", default_value_t = 900)]
    pub access_token_ttl_secs: u64,

    /// Refresh-token lifetime in seconds; each refresh starts a new period (sliding session).
    #[arg(long, env = "REFRESH_TOKEN_TTL_SECS", default_value_t = 604_800)]
    pub refresh_token_ttl_secs: u64,

    /// Shared secret other services send in `X-Service-Token` to call `/internal/...`.
    #[arg(long, env = "SERVICE_TOKEN", hide_env_values = true)]
    pub service_token: SecretString,

    /// Comma-separated browser origins allowed to call with credentials.
    #[arg(
        long,
        env = "CORS_ALLOWED_ORIGINS",
        default_value = "http://localhost:3000,http://127.0.0.1:3000"
    )]
    pub cors_allowed_origins: String,

    /// Mark cookies `Secure` (set it whenever the site is served over HTTPS).
    #[arg(long, env = "COOKIE_SECURE", default_value_t = false)]
    pub cookie_secure: bool,

    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    #[arg(long, env = "TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,

    /// `development` or `production` (refuses placeholder secrets and insecure settings).
    #[arg(long, env = "APP_ENV", default_value = "development")]
    pub app_env: chat_models::config::AppEnv,

    /// Log format: `text` or `json`.
    #[arg(long, env = "LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,

    /// argon2id memory cost in KiB.
    #[arg(long, env = "ARGON2_MEMORY_KIB", default_value_t = 19_456)]
    pub argon2_memory_kib: u32,

    /// argon2id iterations.
    #[arg(long, env = "ARGON2_ITERATIONS", default_value_t = 2)]
    pub argon2_iterations: u32,

    /// Hashes computed at once (default: the number of CPUs).
    #[arg(long, env = "PASSWORD_HASH_CONCURRENCY")]
    pub password_hash_concurrency: Option<usize>,

    /// Longest wait for a hashing slot before answering 503, in milliseconds.
    #[arg(long, env = "PASSWORD_HASH_QUEUE_TIMEOUT_MS", default_value_t = 2_000)]
    pub password_hash_queue_timeout_ms: u64,

    /// Login attempts per client address (`N/SECONDS`).
    #[arg(long, env = "RATE_LIMIT_LOGIN_IP", default_value = "30/300")]
    pub rate_limit_login_ip: RateLimit,

    /// Failed logins per account before it is locked for the rest of the window.
    #[arg(long, env = "RATE_LIMIT_LOGIN_ACCOUNT", default_value = "5/900")]
    pub rate_limit_login_account: RateLimit,

    /// Registrations per client address.
    #[arg(long, env = "RATE_LIMIT_REGISTER_IP", default_value = "10/3600")]
    pub rate_limit_register_ip: RateLimit,

    /// Refreshes per client address.
    #[arg(long, env = "RATE_LIMIT_REFRESH_IP", default_value = "120/60")]
    pub rate_limit_refresh_ip: RateLimit,

    /// Refreshes per account.
    #[arg(long, env = "RATE_LIMIT_REFRESH_ACCOUNT", default_value = "30/60")]
    pub rate_limit_refresh_account: RateLimit,

    /// Availability checks and user searches per client address.
    #[arg(long, env = "RATE_LIMIT_LOOKUP_IP", default_value = "120/60")]
    pub rate_limit_lookup_ip: RateLimit,

    /// Largest request body in bytes.
    #[arg(long, env = "BODY_LIMIT_BYTES", default_value_t = 65_536)]
    pub body_limit_bytes: usize,

    /// Requests running longer are answered with 408.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 15)]
    pub request_timeout_secs: u64,
}

impl Config {
    /// The JWT private key PEM, from the inline variable or the file.
    pub fn jwt_private_key_pem(&self) -> anyhow::Result<SecretString> {
        if let Some(pem) = &self.jwt_private_key {
            return Ok(pem.clone());
        }
        let path = self.jwt_private_key_file.as_ref().ok_or_else(|| {
            anyhow::anyhow!(
                "no JWT signing key: set JWT_PRIVATE_KEY_FILE (create one with \
                 `openssl genpkey -algorithm ed25519 -out jwt.pem`) or JWT_PRIVATE_KEY"
            )
        })?;
        let pem = std::fs::read_to_string(path).map_err(|error| {
            anyhow::anyhow!(
                "cannot read JWT_PRIVATE_KEY_FILE {}: {error}",
                path.display()
            )
        })?;
        Ok(SecretString::from(pem))
    }

    /// Refuses to start with an unusable service token.
    pub fn validate(&self) -> anyhow::Result<()> {
        chat_models::config::check_secret(
            "SERVICE_TOKEN",
            self.service_token.expose_secret(),
            self.app_env,
        )?;
        if self.app_env == chat_models::config::AppEnv::Production && !self.cookie_secure {
            anyhow::bail!("COOKIE_SECURE must be true with APP_ENV=production (serve over HTTPS)");
        }
        if self.access_token_ttl_secs == 0
            || self.refresh_token_ttl_secs <= self.access_token_ttl_secs
        {
            anyhow::bail!("REFRESH_TOKEN_TTL_SECS must be longer than ACCESS_TOKEN_TTL_SECS, and both positive");
        }
        Ok(())
    }
}
