//! Configuration, from environment variables (or the matching `--flags`), read once at start-up.
//! Every variable is listed in `docs/config.md` and `.env.example`.

use std::net::SocketAddr;
use std::path::PathBuf;

use chat_models::config::{AppEnv, CommonConfig, MongoConfig, MySqlConfig};
use chat_models::ratelimit::RateLimit;
use secrecy::{ExposeSecret, SecretString};

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

    /// Path of the Ed25519 private key (PKCS#8 PEM) that signs access tokens.
    #[arg(long, env = "JWT_PRIVATE_KEY_FILE")]
    pub jwt_private_key_file: Option<PathBuf>,

    /// The same key inline, for platforms that inject secrets as variables.
    #[arg(long, env = "JWT_PRIVATE_KEY", hide_env_values = true)]
    pub jwt_private_key: Option<SecretString>,

    /// Refresh-token lifetime in seconds; each refresh starts a new period (sliding session).
    #[arg(long, env = "REFRESH_TOKEN_TTL_SECS", default_value_t = 604_800)]
    pub refresh_token_ttl_secs: u64,

    /// Mark cookies `Secure` (set it whenever the site is served over HTTPS).
    #[arg(long, env = "COOKIE_SECURE", default_value_t = false)]
    pub cookie_secure: bool,

    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    #[arg(long, env = "TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,

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

    /// Failed logins per login as typed (case aside) before it is locked for the rest of the
    /// window; also wrong current passwords, per account.
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

    /// This service's address as browsers reach it: providers send people back to
    /// `{USER_SERVICE_PUBLIC_URL}/auth/oauth/{provider}/callback` (register exactly that URL).
    #[arg(
        long,
        env = "USER_SERVICE_PUBLIC_URL",
        default_value = "http://localhost:5001"
    )]
    pub public_url: url::Url,

    /// The web app's address: where the browser lands after signing in with a provider.
    #[arg(long, env = "WEB_APP_URL", default_value = "http://localhost:3000")]
    pub web_app_url: url::Url,

    /// Largest profile picture upload, in bytes.
    #[arg(long, env = "AVATAR_MAX_BYTES", default_value_t = 5_000_000)]
    pub avatar_max_bytes: u64,

    /// Where uploaded profile pictures are kept.
    #[command(flatten)]
    pub storage: chat_files::StorageConfig,

    /// Sign-in with Google and GitHub (each on only when its client id and secret are set).
    #[command(flatten)]
    pub oauth: OAuthConfig,

    /// `chat_users` in MySQL (users, the outbox).
    #[command(flatten)]
    pub mysql: MySqlConfig,

    /// MongoDB (refresh tokens).
    #[command(flatten)]
    pub mongo: MongoConfig,

    /// Settings every service shares.
    #[command(flatten)]
    pub common: CommonConfig,
}

/// Identity providers. A provider without a client id and secret is not offered.
#[derive(Debug, Clone, clap::Args)]
pub struct OAuthConfig {
    /// Google OAuth client id (an OpenID Connect client of type "Web application").
    #[arg(long, env = "GOOGLE_CLIENT_ID")]
    pub google_client_id: Option<String>,

    /// Its client secret.
    #[arg(long, env = "GOOGLE_CLIENT_SECRET", hide_env_values = true)]
    pub google_client_secret: Option<SecretString>,

    /// The OpenID Connect issuer; discovery reads `{issuer}/.well-known/openid-configuration`.
    #[arg(
        long,
        env = "GOOGLE_ISSUER_URL",
        default_value = "https://accounts.google.com"
    )]
    pub google_issuer_url: String,

    /// GitHub OAuth app client id.
    #[arg(long, env = "GITHUB_CLIENT_ID")]
    pub github_client_id: Option<String>,

    /// Its client secret.
    #[arg(long, env = "GITHUB_CLIENT_SECRET", hide_env_values = true)]
    pub github_client_secret: Option<SecretString>,

    /// GitHub's authorization page.
    #[arg(
        long,
        env = "GITHUB_AUTHORIZE_URL",
        default_value = "https://github.com/login/oauth/authorize"
    )]
    pub github_authorize_url: url::Url,

    /// GitHub's token endpoint.
    #[arg(
        long,
        env = "GITHUB_TOKEN_URL",
        default_value = "https://github.com/login/oauth/access_token"
    )]
    pub github_token_url: url::Url,

    /// GitHub's REST API (`/user`, `/user/emails`).
    #[arg(long, env = "GITHUB_API_URL", default_value = "https://api.github.com")]
    pub github_api_url: url::Url,
}

impl OAuthConfig {
    /// Google's client id and secret, when both are set (empty counts as unset, as compose
    /// passes an unset variable).
    pub fn google(&self) -> Option<(String, SecretString)> {
        pair(
            self.google_client_id.as_ref(),
            self.google_client_secret.as_ref(),
        )
    }

    /// GitHub's client id and secret, when both are set.
    pub fn github(&self) -> Option<(String, SecretString)> {
        pair(
            self.github_client_id.as_ref(),
            self.github_client_secret.as_ref(),
        )
    }

    fn check(&self) -> anyhow::Result<()> {
        let set = |value: Option<&str>| value.is_some_and(|value| !value.is_empty());
        if set(self.google_client_id.as_deref())
            != set(self
                .google_client_secret
                .as_ref()
                .map(ExposeSecret::expose_secret))
        {
            anyhow::bail!("set both GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET, or neither");
        }
        if set(self.github_client_id.as_deref())
            != set(self
                .github_client_secret
                .as_ref()
                .map(ExposeSecret::expose_secret))
        {
            anyhow::bail!("set both GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET, or neither");
        }
        Ok(())
    }
}

fn pair(id: Option<&String>, secret: Option<&SecretString>) -> Option<(String, SecretString)> {
    let id = id.filter(|id| !id.is_empty())?;
    let secret = secret.filter(|secret| !secret.expose_secret().is_empty())?;
    Some((id.clone(), secret.clone()))
}

impl Config {
    /// The JWT private key PEM, from the inline variable or the file.
    pub fn jwt_private_key_pem(&self) -> anyhow::Result<SecretString> {
        chat_models::config::key_pem(
            self.jwt_private_key.as_ref(),
            self.jwt_private_key_file.as_deref(),
            "JWT_PRIVATE_KEY_FILE",
        )?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no JWT signing key: set JWT_PRIVATE_KEY_FILE (create one with \
                 `openssl genpkey -algorithm ed25519 -out jwt.pem`) or JWT_PRIVATE_KEY"
            )
        })
    }

    /// Refuses to start with unusable settings.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.common.validate()?;
        if self.common.app_env == AppEnv::Production && !self.cookie_secure {
            anyhow::bail!("COOKIE_SECURE must be true with APP_ENV=production (serve over HTTPS)");
        }
        let oauth = &self.oauth;
        oauth.check()?;
        if self.common.app_env == AppEnv::Production
            && (self.public_url.scheme() != "https" || self.web_app_url.scheme() != "https")
            && (oauth.google().is_some() || oauth.github().is_some())
        {
            anyhow::bail!(
                "USER_SERVICE_PUBLIC_URL and WEB_APP_URL must be https:// with APP_ENV=production \
                 when a sign-in provider is on"
            );
        }
        let access_ttl = self.common.access_token_ttl_secs;
        if access_ttl == 0 || self.refresh_token_ttl_secs <= access_ttl {
            anyhow::bail!("REFRESH_TOKEN_TTL_SECS must be longer than ACCESS_TOKEN_TTL_SECS, and both positive");
        }
        Ok(())
    }
}

impl chat_models::service::ServiceConfig for Config {
    fn common(&self) -> &CommonConfig {
        &self.common
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    fn oauth(args: &[&str]) -> OAuthConfig {
        let mut all = vec![
            "user-service",
            "--database-url=mysql://x",
            "--mongodb-uri=mongodb://x",
            "--redis-url=redis://x",
            "--service-token=t",
        ];
        all.extend_from_slice(args);
        Config::try_parse_from(all).unwrap().oauth
    }

    #[test]
    fn a_provider_is_on_only_with_both_its_id_and_secret() {
        assert!(oauth(&[]).google().is_none());
        // docker-compose passes unset variables as empty ones.
        let empty = oauth(&["--google-client-id=", "--google-client-secret="]);
        assert!(empty.google().is_none());
        assert!(empty.check().is_ok());
        let half = oauth(&["--github-client-id=abc"]);
        assert!(half.github().is_none());
        assert!(half.check().is_err());
        let both = oauth(&["--google-client-id=abc", "--google-client-secret=s"]);
        assert_eq!(both.google().map(|(id, _)| id).as_deref(), Some("abc"));
        assert!(both.check().is_ok());
    }
}
