//! Google through OpenID Connect: discovery, the authorization-code flow with PKCE and a nonce,
//! and a verified id_token (signature against the discovered keys, `iss`, `aud`, `exp`, `nonce`).

use std::time::{Duration, Instant};

use chat_models::api::oauth::Provider;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse as _,
};
use secrecy::{ExposeSecret as _, SecretString};
use tokio::sync::RwLock;

use super::{Failure, Started, VouchedIdentity};
use crate::db::identities::Identity;

/// How long discovered metadata (endpoints and signing keys) is reused. A key the cache does
/// not know yet triggers one early refresh.
const METADATA_TTL: Duration = Duration::from_secs(3600);

/// A configured OpenID Connect provider.
pub struct Oidc {
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: SecretString,
    redirect: RedirectUrl,
    metadata: RwLock<Option<(Instant, CoreProviderMetadata)>>,
}

impl Oidc {
    /// A provider at `issuer`; nothing is fetched until the first sign-in.
    pub fn new(
        issuer: &str,
        client_id: String,
        client_secret: SecretString,
        redirect: RedirectUrl,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            issuer: IssuerUrl::new(issuer.to_owned())
                .map_err(|error| anyhow::anyhow!("GOOGLE_ISSUER_URL: {error}"))?,
            client_id: ClientId::new(client_id),
            client_secret,
            redirect,
            metadata: RwLock::new(None),
        })
    }

    async fn metadata(
        &self,
        http: &reqwest::Client,
        refresh: bool,
    ) -> Result<CoreProviderMetadata, Failure> {
        if !refresh {
            if let Some((fetched, metadata)) = self.metadata.read().await.as_ref() {
                if fetched.elapsed() < METADATA_TTL {
                    return Ok(metadata.clone());
                }
            }
        }
        let metadata = CoreProviderMetadata::discover_async(self.issuer.clone(), http)
            .await
            .map_err(|error| {
                tracing::warn!(error = %error, issuer = %self.issuer.as_str(), "OpenID discovery failed");
                Failure::ProviderError
            })?;
        *self.metadata.write().await = Some((Instant::now(), metadata.clone()));
        Ok(metadata)
    }

    fn client(
        &self,
        metadata: CoreProviderMetadata,
    ) -> openidconnect::core::CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    > {
        CoreClient::from_provider_metadata(
            metadata,
            self.client_id.clone(),
            Some(ClientSecret::new(
                self.client_secret.expose_secret().to_owned(),
            )),
        )
        .set_redirect_uri(self.redirect.clone())
    }

    /// The authorization URL for a new flow whose `state` is given.
    pub async fn start(&self, http: &reqwest::Client, state: String) -> Result<Started, Failure> {
        let client = self.client(self.metadata(http, false).await?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, _, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".to_owned()))
            .add_scope(Scope::new("profile".to_owned()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Started {
            authorize_url: url.into(),
            pkce_verifier: verifier.into_secret(),
            nonce: Some(nonce.secret().clone()),
        })
    }

    /// Exchanges the code and verifies the id_token it comes with.
    pub async fn finish(
        &self,
        http: &reqwest::Client,
        code: String,
        pkce_verifier: String,
        nonce: &str,
    ) -> Result<VouchedIdentity, Failure> {
        let metadata = self.metadata(http, false).await?;
        let client = self.client(metadata);
        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|error| {
                tracing::warn!(error = %error, "the provider has no token endpoint");
                Failure::ProviderError
            })?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier))
            .request_async(http)
            .await
            .map_err(|error| {
                tracing::info!(error = %error, "code exchange refused");
                Failure::ExchangeFailed
            })?;
        let id_token = tokens.id_token().ok_or_else(|| {
            tracing::info!("token response without an id_token");
            Failure::InvalidIdToken
        })?;
        let nonce = Nonce::new(nonce.to_owned());
        let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Ok(claims) => claims.clone(),
            // Keys rotate: a signature no cached key verifies gets one look at fresh keys.
            Err(ClaimsVerificationError::SignatureVerification(_)) => {
                let refreshed = self.client(self.metadata(http, true).await?);
                let verifier = refreshed.id_token_verifier();
                id_token.claims(&verifier, &nonce).map_err(refused)?.clone()
            }
            Err(error) => return Err(refused(error)),
        };
        let email = claims
            .email()
            .filter(|_| claims.email_verified() == Some(true))
            .map(|email| email.as_str().to_lowercase());
        let handle = claims
            .preferred_username()
            .map(|name| name.as_str().to_owned())
            .or_else(|| {
                claims
                    .name()
                    .and_then(|name| name.get(None))
                    .map(|name| name.as_str().to_owned())
            });
        Ok(VouchedIdentity {
            identity: Identity {
                provider: Provider::Google,
                subject: claims.subject().as_str().to_owned(),
                email,
            },
            handle,
        })
    }
}

fn refused(error: ClaimsVerificationError) -> Failure {
    tracing::info!(error = %error, "id_token refused");
    Failure::InvalidIdToken
}
