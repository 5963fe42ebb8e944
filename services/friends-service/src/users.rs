//! Client of user-service: public profiles in batches (one call per list, never one per row)
//! and the JWKS.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context as _;
use chat_models::api::user::{BatchUsersRequest, BatchUsersResponse, PublicUser};
use chat_models::auth::Jwks;
use chat_models::{ApiError, Result};
use secrecy::{ExposeSecret as _, SecretString};
use uuid::Uuid;

/// Looks users up in user-service.
#[derive(Clone)]
pub struct UserDirectory {
    http: reqwest::Client,
    base: String,
    token: SecretString,
}

impl std::fmt::Debug for UserDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserDirectory")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl UserDirectory {
    /// A client of the user-service at `base`.
    pub fn new(base: &str, token: SecretString) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .context("building the HTTP client")?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token,
        })
    }

    /// Public profiles by uuid and username; unknown users are simply absent.
    pub async fn batch(&self, uuids: Vec<Uuid>, usernames: Vec<String>) -> Result<Vec<PublicUser>> {
        if uuids.is_empty() && usernames.is_empty() {
            return Ok(Vec::new());
        }
        let response = self
            .http
            .post(format!("{}/internal/users/batch", self.base))
            .header("x-service-token", self.token.expose_secret())
            .json(&BatchUsersRequest { uuids, usernames })
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(ApiError::unavailable)?;
        let body: BatchUsersResponse = response.json().await.map_err(ApiError::unavailable)?;
        Ok(body.users)
    }

    /// Profiles keyed by uuid, for joining onto rows.
    pub async fn by_uuid(&self, uuids: Vec<Uuid>) -> Result<HashMap<Uuid, PublicUser>> {
        Ok(self
            .batch(uuids, Vec::new())
            .await?
            .into_iter()
            .map(|user| (user.uuid, user))
            .collect())
    }

    /// The public keys that verify access tokens.
    pub async fn jwks(&self, url: &str) -> anyhow::Result<Jwks> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .with_context(|| format!("fetching {url}"))?;
        response
            .error_for_status()?
            .json()
            .await
            .with_context(|| format!("reading {url}"))
    }
}
