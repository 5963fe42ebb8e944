//! GitHub through OAuth 2 (authorization code with PKCE) and its REST API: `/user` for the
//! stable numeric id and login, `/user/emails` for the primary address, taken only if verified.

use chat_models::api::oauth::Provider;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse as _, TokenUrl,
};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use super::{Failure, Started, VouchedIdentity};
use crate::db::identities::Identity;

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// A configured GitHub OAuth app.
pub struct GitHub {
    client: Client,
    api: url::Url,
}

#[derive(Deserialize)]
struct User {
    id: u64,
    login: String,
}

#[derive(Deserialize)]
struct Email {
    email: String,
    primary: bool,
    verified: bool,
}

impl GitHub {
    /// The app with these endpoints.
    pub fn new(
        client_id: String,
        client_secret: &SecretString,
        authorize: &url::Url,
        token: &url::Url,
        api: url::Url,
        redirect: RedirectUrl,
    ) -> Self {
        let client = BasicClient::new(ClientId::new(client_id))
            .set_client_secret(ClientSecret::new(client_secret.expose_secret().to_owned()))
            .set_auth_uri(AuthUrl::from_url(authorize.clone()))
            .set_token_uri(TokenUrl::from_url(token.clone()))
            .set_redirect_uri(redirect);
        Self { client, api }
    }

    /// The authorization URL for a new flow whose `state` is given.
    pub fn start(&self, state: String) -> Started {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, _) = self
            .client
            .authorize_url(move || CsrfToken::new(state))
            .add_scope(Scope::new("read:user".to_owned()))
            .add_scope(Scope::new("user:email".to_owned()))
            .set_pkce_challenge(challenge)
            .url();
        Started {
            authorize_url: url.into(),
            pkce_verifier: verifier.into_secret(),
            nonce: None,
        }
    }

    /// Exchanges the code and reads who it belongs to.
    pub async fn finish(
        &self,
        http: &reqwest::Client,
        code: String,
        pkce_verifier: String,
    ) -> Result<VouchedIdentity, Failure> {
        let tokens = self
            .client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier))
            .request_async(http)
            .await
            .map_err(|error| {
                tracing::info!(error = %error, "code exchange refused");
                Failure::ExchangeFailed
            })?;
        let access = tokens.access_token().secret();
        let user: User = self.get(http, "user", access).await?;
        let emails: Vec<Email> = self.get(http, "user/emails", access).await?;
        let email = emails
            .into_iter()
            .find(|email| email.primary && email.verified)
            .map(|email| email.email.to_lowercase());
        Ok(VouchedIdentity {
            identity: Identity {
                provider: Provider::Github,
                subject: user.id.to_string(),
                email,
            },
            handle: Some(user.login),
        })
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        http: &reqwest::Client,
        path: &str,
        access_token: &str,
    ) -> Result<T, Failure> {
        let url = self.api.join(path).map_err(|_| Failure::ProviderError)?;
        let response = http
            .get(url)
            .bearer_auth(access_token)
            .header(reqwest::header::ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|error| {
                tracing::warn!(error = %error, path, "GitHub API call failed");
                Failure::ProviderError
            })?;
        response.json().await.map_err(|error| {
            tracing::warn!(error = %error, path, "GitHub API answer unreadable");
            Failure::ProviderError
        })
    }
}
