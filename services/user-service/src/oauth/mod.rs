//! Sign-in with an identity provider: Google (OpenID Connect) and GitHub (OAuth 2).
//!
//! A flow is started by the web app (`POST /auth/oauth/{provider}/start`), which gets the
//! provider's authorization URL. The flow's `state` is random, kept in Redis for ten minutes
//! and consumed atomically by the callback (`GETDEL`), so it works once; it is bound to the
//! browser that started it by an httpOnly cookie whose hash the flow records. The code is
//! exchanged with its PKCE verifier (S256); Google's id_token must carry the flow's nonce.

mod github;
mod google;

use std::time::Duration;

use chat_models::api::oauth::{OAuthIntent, Provider};
use chat_models::{ApiError, Result};
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;
use uuid::Uuid;

use crate::config::Config;
use crate::db::identities::Identity;
use crate::tokens::{hash_refresh_token as sha256_hex, new_refresh_token as random_token};

/// How long a started flow may take to come back.
pub const FLOW_TTL: Duration = Duration::from_secs(600);
/// How long a new account waits for its username.
pub const SIGNUP_TTL: Duration = Duration::from_secs(900);

/// Why a callback did not sign anyone in; the code goes to the web app as `oauth_error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The person declined at the provider.
    AccessDenied,
    /// Missing, unknown, expired, replayed or foreign `state`, or no browser binding.
    InvalidState,
    /// The provider refused the code (reused, expired, or not ours).
    ExchangeFailed,
    /// The id_token failed verification (signature, issuer, audience, expiry, nonce).
    InvalidIdToken,
    /// A new account needs a verified email and the provider gave none.
    EmailUnverified,
    /// A new account's email belongs to an existing account: sign in and link instead.
    EmailInUse,
    /// The identity is linked to another account.
    IdentityInUse,
    /// The account already has an identity of this provider.
    ProviderAlreadyLinked,
    /// The provider could not be reached or answered nonsense.
    ProviderError,
}

impl Failure {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::AccessDenied => "access_denied",
            Self::InvalidState => "invalid_state",
            Self::ExchangeFailed => "exchange_failed",
            Self::InvalidIdToken => "invalid_id_token",
            Self::EmailUnverified => "email_unverified",
            Self::EmailInUse => "email_in_use",
            Self::IdentityInUse => "identity_in_use",
            Self::ProviderAlreadyLinked => "provider_already_linked",
            Self::ProviderError => "provider_error",
        }
    }
}

/// A flow's start, as a provider module makes it.
pub struct Started {
    /// Where to send the browser.
    pub authorize_url: String,
    /// The PKCE verifier, kept server-side until the callback.
    pub pkce_verifier: String,
    /// The OpenID Connect nonce, if the provider uses one.
    pub nonce: Option<String>,
}

/// An identity the provider vouched for, with a handle to suggest a username from.
pub struct VouchedIdentity {
    /// Provider, subject and verified email.
    pub identity: Identity,
    /// The provider's username or name.
    pub handle: Option<String>,
}

/// A started flow, in Redis under the hash of its `state`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Flow {
    /// The provider it was started for.
    pub provider: Provider,
    /// Sign in or link.
    pub intent: OAuthIntent,
    /// SHA-256 of the browser-binding cookie.
    binding: String,
    /// PKCE verifier.
    pkce_verifier: String,
    /// OpenID Connect nonce.
    nonce: Option<String>,
    /// The account to link to and the session that asked (`link` only).
    pub linking: Option<(Uuid, Uuid)>,
}

impl Flow {
    /// Whether `cookie` is the binding this flow was started with (constant time).
    pub fn bound_to(&self, cookie: &str) -> bool {
        sha256_hex(cookie)
            .as_bytes()
            .ct_eq(self.binding.as_bytes())
            .into()
    }
}

/// A sign-up waiting for its username, in Redis under the hash of its cookie.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Signup {
    /// Who vouched.
    pub provider: Provider,
    /// The provider's subject.
    pub subject: String,
    /// The verified email.
    pub email: String,
    /// A username suggestion.
    pub suggested_username: String,
}

/// The enabled providers and the flow store.
pub struct OAuth {
    google: Option<google::Oidc>,
    github: Option<github::GitHub>,
    http: reqwest::Client,
    redis: ConnectionManager,
    prefix: String,
    /// The web app, where callbacks send the browser.
    pub web_app_url: url::Url,
}

impl OAuth {
    /// The providers `config` enables (none is contacted yet).
    pub fn from_config(config: &Config, redis: ConnectionManager) -> anyhow::Result<Self> {
        let oauth = &config.oauth;
        let redirect = |provider: Provider| {
            let url = config
                .public_url
                .join(&format!("auth/oauth/{}/callback", provider.as_str()))?;
            anyhow::Ok(oauth2::RedirectUrl::from_url(url))
        };
        let google = match oauth.google() {
            Some((id, secret)) => Some(google::Oidc::new(
                &oauth.google_issuer_url,
                id,
                secret,
                redirect(Provider::Google)?,
            )?),
            None => None,
        };
        let github = match oauth.github() {
            Some((id, secret)) => {
                let mut api = oauth.github_api_url.clone();
                if !api.path().ends_with('/') {
                    api.set_path(&format!("{}/", api.path()));
                }
                Some(github::GitHub::new(
                    id,
                    &secret,
                    &oauth.github_authorize_url,
                    &oauth.github_token_url,
                    api,
                    redirect(Provider::Github)?,
                ))
            }
            None => None,
        };
        // Never follow redirects: a token endpoint that redirects is not one we were told of.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("chat-user-service/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            google,
            github,
            http,
            redis,
            prefix: config.common.redis_key_prefix.clone(),
            web_app_url: config.web_app_url.clone(),
        })
    }

    /// The providers people can use here.
    pub fn enabled(&self) -> Vec<Provider> {
        Provider::ALL
            .into_iter()
            .filter(|provider| self.is_enabled(*provider))
            .collect()
    }

    /// Whether `provider` is configured.
    pub fn is_enabled(&self, provider: Provider) -> bool {
        match provider {
            Provider::Google => self.google.is_some(),
            Provider::Github => self.github.is_some(),
        }
    }

    /// Starts a flow: returns the authorization URL and the binding cookie's value.
    pub async fn start(
        &self,
        provider: Provider,
        intent: OAuthIntent,
        linking: Option<(Uuid, Uuid)>,
    ) -> Result<(String, String)> {
        let state = random_token();
        let started = match provider {
            Provider::Google => match &self.google {
                Some(google) => google.start(&self.http, state.clone()).await.map_err(|_| {
                    ApiError::DependencyFailed(anyhow::anyhow!("OpenID discovery failed"))
                })?,
                None => return Err(not_enabled()),
            },
            Provider::Github => match &self.github {
                Some(github) => github.start(state.clone()),
                None => return Err(not_enabled()),
            },
        };
        let binding = random_token();
        let flow = Flow {
            provider,
            intent,
            binding: sha256_hex(&binding),
            pkce_verifier: started.pkce_verifier,
            nonce: started.nonce,
            linking,
        };
        self.put(&self.flow_key(&state), &flow, FLOW_TTL).await?;
        Ok((started.authorize_url, binding))
    }

    /// Takes the flow `state` names, once: a second callback with it finds nothing.
    pub async fn take_flow(&self, state: &str) -> Result<Option<Flow>> {
        let raw: Option<String> = redis::cmd("GETDEL")
            .arg(self.flow_key(state))
            .query_async(&mut self.redis.clone())
            .await?;
        Ok(raw.and_then(|raw| serde_json::from_str(&raw).ok()))
    }

    /// Exchanges the code of `flow` and returns the identity the provider vouches for.
    pub async fn finish(
        &self,
        flow: &Flow,
        code: String,
    ) -> std::result::Result<VouchedIdentity, Failure> {
        let verifier = flow.pkce_verifier.clone();
        let mut vouched = match flow.provider {
            Provider::Google => {
                let google = self.google.as_ref().ok_or(Failure::InvalidState)?;
                let nonce = flow.nonce.as_deref().ok_or(Failure::InvalidState)?;
                google.finish(&self.http, code, verifier, nonce).await
            }
            Provider::Github => {
                let github = self.github.as_ref().ok_or(Failure::InvalidState)?;
                github.finish(&self.http, code, verifier).await
            }
        }?;
        // The address may become an account's, so it must be one our own rules accept too.
        vouched.identity.email = vouched
            .identity
            .email
            .filter(|email| crate::domain::Email::parse(email).is_ok());
        Ok(vouched)
    }

    /// Keeps a sign-up waiting for its username; returns the cookie value that names it.
    pub async fn save_signup(&self, signup: &Signup) -> Result<String> {
        let token = random_token();
        self.put(&self.signup_key(&token), signup, SIGNUP_TTL)
            .await?;
        Ok(token)
    }

    /// The sign-up the cookie `token` names.
    pub async fn signup(&self, token: &str) -> Result<Option<Signup>> {
        let raw: Option<String> = redis::cmd("GET")
            .arg(self.signup_key(token))
            .query_async(&mut self.redis.clone())
            .await?;
        Ok(raw.and_then(|raw| serde_json::from_str(&raw).ok()))
    }

    /// Forgets a finished sign-up.
    pub async fn drop_signup(&self, token: &str) -> Result<()> {
        let _: () = redis::cmd("DEL")
            .arg(self.signup_key(token))
            .query_async(&mut self.redis.clone())
            .await?;
        Ok(())
    }

    async fn put(&self, key: &str, value: &impl Serialize, ttl: Duration) -> Result<()> {
        let json = serde_json::to_string(value)
            .map_err(|error| ApiError::Internal(anyhow::Error::new(error)))?;
        let _: () = redis::cmd("SET")
            .arg(key)
            .arg(json)
            .arg("EX")
            .arg(ttl.as_secs())
            .query_async(&mut self.redis.clone())
            .await?;
        Ok(())
    }

    fn flow_key(&self, state: &str) -> String {
        format!("{}oauth:flow:{}", self.prefix, sha256_hex(state))
    }

    fn signup_key(&self, token: &str) -> String {
        format!("{}oauth:signup:{}", self.prefix, sha256_hex(token))
    }
}

fn not_enabled() -> ApiError {
    ApiError::NotFound(chat_models::ErrorCode::ProviderNotFound)
}

/// A username to suggest from a provider's handle (or the email's local part): the allowed
/// characters only, 3 to 32 of them.
pub fn username_from(handle: Option<&str>, email: Option<&str>) -> String {
    let source = handle
        .filter(|handle| handle.chars().any(|c| c.is_ascii_alphanumeric()))
        .or_else(|| email.and_then(|email| email.split('@').next()))
        .unwrap_or_default();
    let mut name: String = source
        .chars()
        .map(|c| if c == ' ' { '_' } else { c })
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        .take(32)
        .collect();
    if name.len() < 3 {
        name = format!("user_{name}");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_suggested_from_handles_then_emails() {
        assert_eq!(username_from(Some("Ann Lee"), None), "Ann_Lee");
        assert_eq!(username_from(Some("octo-cat"), Some("x@y.z")), "octo-cat");
        assert_eq!(username_from(Some("✨"), Some("ann.l@y.z")), "ann.l");
        assert_eq!(username_from(Some("Łódź"), None), "user_d");
        assert_eq!(username_from(None, Some("al@y.z")), "user_al");
        assert_eq!(username_from(None, None), "user_");
        assert_eq!(username_from(Some(&"a".repeat(40)), None).len(), 32);
    }
}
