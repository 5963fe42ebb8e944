//! Clients of the services' `/internal` routes (feature `client`): user-service's profiles in
//! batches (one call per list, never one per row) and its JWKS; friends-service's friendships.
//! Either may remember answers for a while ([`UserDirectory::remembering`],
//! [`FriendsDirectory::remembering`]): the caller then forgets what the event stream says
//! changed (`user.updated`, friendships made or ended), and the time limit bounds how long a
//! missed event can leave an answer stale.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use anyhow::Context as _;
use secrecy::{ExposeSecret as _, SecretString};
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

use crate::api::friend::{FriendsCheckRequest, FriendsCheckResponse};
use crate::api::user::{BatchUsersRequest, BatchUsersResponse, PublicUser};
use redis::aio::ConnectionManager;

use crate::auth::{
    Authenticator, FetchJwks, Jwks, SessionRevocations, TrustedKeys, SERVICE_TOKEN_HEADER,
};
use crate::config::{CommonConfig, UserServiceConfig};
use crate::memory::Memory;
use crate::{ApiError, Result};

/// A service's base URL with the shared token; calls time out after 5 s.
#[derive(Clone)]
struct InternalClient {
    http: reqwest::Client,
    base: String,
    token: SecretString,
}

impl std::fmt::Debug for InternalClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InternalClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl InternalClient {
    fn new(base: &str, token: SecretString) -> anyhow::Result<Self> {
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

    /// A request to an internal route with the service token and the current request id.
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(SERVICE_TOKEN_HEADER, self.token.expose_secret());
        match crate::http::current_request_id() {
            Some(id) => request.header("x-request-id", id),
            None => request,
        }
    }

    /// POSTs `body` to an internal route; any failure is a 503 for our caller.
    async fn post<B: Serialize, R: DeserializeOwned>(&self, path: &str, body: &B) -> Result<R> {
        let response = self
            .request(reqwest::Method::POST, path)
            .json(body)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(ApiError::unavailable)?;
        response.json().await.map_err(ApiError::unavailable)
    }
}

/// Looks users up in user-service.
#[derive(Clone, Debug)]
pub struct UserDirectory {
    client: InternalClient,
    /// Profiles by uuid, when remembering.
    profiles: Option<Memory<Uuid, PublicUser>>,
}

impl UserDirectory {
    /// A client of the user-service at `base`.
    pub fn new(base: &str, token: SecretString) -> anyhow::Result<Self> {
        Ok(Self {
            client: InternalClient::new(base, token)?,
            profiles: None,
        })
    }

    /// The same client, remembering up to `capacity` profiles for `ttl` each (a zero `ttl`
    /// remembers none). Call [`Self::forget`] when a profile changes.
    #[must_use]
    pub fn remembering(mut self, ttl: Duration, capacity: u64) -> Self {
        self.profiles = Memory::new(ttl, capacity);
        self
    }

    /// Drops what is remembered of `user` (their profile changed, or they are gone).
    pub fn forget(&self, user: Uuid) {
        if let Some(profiles) = &self.profiles {
            profiles.forget(&user);
        }
    }

    /// Public profiles by uuid and username; unknown users are simply absent.
    pub async fn batch(&self, uuids: Vec<Uuid>, usernames: Vec<String>) -> Result<Vec<PublicUser>> {
        if uuids.is_empty() && usernames.is_empty() {
            return Ok(Vec::new());
        }
        let body: BatchUsersResponse = self
            .client
            .post(
                "/internal/users/batch",
                &BatchUsersRequest { uuids, usernames },
            )
            .await?;
        Ok(body.users)
    }

    /// Profiles keyed by uuid, for joining onto rows (those remembered, and the others in one
    /// call).
    pub async fn by_uuid(&self, uuids: Vec<Uuid>) -> Result<HashMap<Uuid, PublicUser>> {
        let Some(profiles) = &self.profiles else {
            return Ok(self
                .batch(uuids, Vec::new())
                .await?
                .into_iter()
                .map(|user| (user.uuid, user))
                .collect());
        };
        let mut found = HashMap::with_capacity(uuids.len());
        let mut missing = Vec::new();
        for uuid in uuids {
            match profiles.get(&uuid) {
                Some(user) => {
                    found.insert(uuid, user);
                }
                None => missing.push(uuid),
            }
        }
        let mark = profiles.mark();
        let fetched = self.batch(missing, Vec::new()).await?;
        profiles.keep(mark, fetched.iter().map(|user| (user.uuid, user.clone())));
        found.extend(fetched.into_iter().map(|user| (user.uuid, user)));
        Ok(found)
    }

    /// The user-service `users` points at, called with the shared service token.
    pub fn from_config(users: &UserServiceConfig, common: &CommonConfig) -> anyhow::Result<Self> {
        Self::new(&users.user_service_url, common.service_token.clone())
    }

    /// An authenticator for a service that does not sign tokens: user-service's published
    /// keys (fetched now from its JWKS) and the shared revocation list in `redis`.
    pub async fn authenticator(
        &self,
        users: &UserServiceConfig,
        common: &CommonConfig,
        redis: ConnectionManager,
    ) -> anyhow::Result<Authenticator> {
        let url = users.jwks_url();
        let directory = self.clone();
        let fetch: FetchJwks = std::sync::Arc::new(move || {
            let (directory, url) = (directory.clone(), url.clone());
            Box::pin(async move { directory.jwks(&url).await })
        });
        let keys = TrustedKeys::published(&common.jwt_issuer, &common.jwt_audience, fetch)
            .await
            .context("cannot load the access-token keys")?;
        let prefix = &common.redis_key_prefix;
        Ok(Authenticator {
            keys: std::sync::Arc::new(keys),
            revocations: SessionRevocations::new(redis, prefix, common.revocation_ttl()),
        })
    }

    /// The public keys that verify access tokens.
    pub async fn jwks(&self, url: &str) -> anyhow::Result<Jwks> {
        let response = self
            .client
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

/// Two users, in a fixed order (a friendship has no direction).
fn pair(a: Uuid, b: Uuid) -> (Uuid, Uuid) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// Asks friends-service who is friends with whom.
#[derive(Clone, Debug)]
pub struct FriendsDirectory {
    client: InternalClient,
    /// Whether two users are friends, when remembering.
    pairs: Option<Memory<(Uuid, Uuid), ()>>,
}

impl FriendsDirectory {
    /// A client of the friends-service at `base`.
    pub fn new(base: &str, token: SecretString) -> anyhow::Result<Self> {
        Ok(Self {
            client: InternalClient::new(base, token)?,
            pairs: None,
        })
    }

    /// The same client, remembering up to `capacity` friendships [`Self::friends_among`]
    /// found (per pair) for `ttl` each (a zero `ttl` remembers none). Only friendships are
    /// remembered, never their absence: a new friendship counts at once (no window in which
    /// an accepted request still says "not friends"); an ended one may count until
    /// [`Self::forget`] is called for it.
    #[must_use]
    pub fn remembering(mut self, ttl: Duration, capacity: u64) -> Self {
        self.pairs = Memory::new(ttl, capacity);
        self
    }

    /// Drops what is remembered of `a` and `b` (they stopped being friends).
    pub fn forget(&self, a: Uuid, b: Uuid) {
        if let Some(pairs) = &self.pairs {
            pairs.forget(&pair(a, b));
        }
    }

    /// Those of `others` who are friends of `user` (a block always ends a friendship): the
    /// remembered answers, and the others in one call.
    pub async fn friends_among(&self, user: Uuid, others: Vec<Uuid>) -> Result<HashSet<Uuid>> {
        let mut friends = HashSet::new();
        let asked = match &self.pairs {
            None => others,
            Some(pairs) => {
                let mut asked = Vec::new();
                for other in others {
                    if pairs.get(&pair(user, other)).is_some() {
                        friends.insert(other);
                    } else {
                        asked.push(other);
                    }
                }
                asked
            }
        };
        if asked.is_empty() {
            return Ok(friends);
        }
        let mark = self.pairs.as_ref().map(Memory::mark);
        let body: FriendsCheckResponse = self
            .client
            .post(
                "/internal/friends/check",
                &FriendsCheckRequest {
                    user_uuid: user,
                    others: asked.clone(),
                },
            )
            .await?;
        let answered: HashSet<Uuid> = body.friends.into_iter().collect();
        if let (Some(pairs), Some(mark)) = (&self.pairs, mark) {
            pairs.keep(
                mark,
                answered.iter().map(|friend| (pair(user, *friend), ())),
            );
        }
        friends.extend(answered);
        Ok(friends)
    }

    /// All of a user's friends (at most 5000).
    pub async fn friends_of(&self, user: Uuid) -> Result<Vec<Uuid>> {
        let response = self
            .client
            .request(reqwest::Method::GET, &format!("/internal/friends/{user}"))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(ApiError::unavailable)?;
        let body: FriendsCheckResponse = response.json().await.map_err(ApiError::unavailable)?;
        Ok(body.friends)
    }

    /// Whether two users are friends (and so neither blocked the other).
    pub async fn are_friends(&self, a: Uuid, b: Uuid) -> Result<bool> {
        Ok(self.friends_among(a, vec![b]).await?.contains(&b))
    }
}
