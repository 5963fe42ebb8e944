//! The keys access tokens are checked with: fixed (user-service, which signs them), or
//! user-service's published JWKS, fetched again every [`REFRESH_EVERY`] and as soon as a token
//! names a key not seen yet (a key rotation), at most once per [`UNKNOWN_KEY_COOLDOWN`], so a
//! rotation needs no restart and tokens with made-up key ids cannot make a service hammer
//! user-service.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::time::Instant;

use super::{Claims, Jwks, JwtVerifier};
use crate::error::Result;

/// How often published keys are fetched again.
pub const REFRESH_EVERY: Duration = Duration::from_secs(300);
/// The shortest time between two fetches caused by unknown key ids.
pub const UNKNOWN_KEY_COOLDOWN: Duration = Duration::from_secs(5);

/// Fetches the published keys.
pub type FetchJwks =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = anyhow::Result<Jwks>> + Send>> + Send + Sync>;

/// The trusted keys, and where to get them again.
pub struct TrustedKeys {
    current: RwLock<Arc<JwtVerifier>>,
    source: Option<Source>,
}

struct Source {
    fetch: FetchJwks,
    issuer: String,
    audience: String,
    /// When the keys were last fetched (held during a fetch, so concurrent ones coalesce).
    fetched: tokio::sync::Mutex<Instant>,
}

impl std::fmt::Debug for TrustedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedKeys")
            .field("refreshed", &self.source.is_some())
            .finish_non_exhaustive()
    }
}

impl TrustedKeys {
    /// Keys that never change (the signer's own).
    pub fn fixed(verifier: JwtVerifier) -> Self {
        Self {
            current: RwLock::new(Arc::new(verifier)),
            source: None,
        }
    }

    /// Published keys: fetched now (start-up fails without them), then kept fresh.
    pub async fn published(issuer: &str, audience: &str, fetch: FetchJwks) -> anyhow::Result<Self> {
        let jwks = fetch().await?;
        let verifier = verifier_of(issuer, audience, &jwks)?;
        Ok(Self {
            current: RwLock::new(Arc::new(verifier)),
            source: Some(Source {
                fetch,
                issuer: issuer.to_owned(),
                audience: audience.to_owned(),
                fetched: tokio::sync::Mutex::new(Instant::now()),
            }),
        })
    }

    fn current(&self) -> Arc<JwtVerifier> {
        match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Checks a token; one that names an unknown key first has the keys fetched again.
    pub async fn verify(&self, token: &str) -> Result<Claims> {
        let verifier = self.current();
        if self.source.is_some() && !verifier.knows_key_of(token) {
            self.refresh(Some(UNKNOWN_KEY_COOLDOWN)).await;
            return self.current().verify(token);
        }
        verifier.verify(token)
    }

    /// Fetches the keys again unless the last fetch is younger than `cooldown`; a failed
    /// fetch keeps the keys known.
    async fn refresh(&self, cooldown: Option<Duration>) {
        let Some(source) = &self.source else {
            return;
        };
        let mut fetched = source.fetched.lock().await;
        if cooldown.is_some_and(|cooldown| fetched.elapsed() < cooldown) {
            return;
        }
        *fetched = Instant::now();
        let refreshed = (source.fetch)()
            .await
            .and_then(|jwks| verifier_of(&source.issuer, &source.audience, &jwks));
        match refreshed {
            Ok(verifier) => {
                let mut current = match self.current.write() {
                    Ok(current) => current,
                    Err(poisoned) => poisoned.into_inner(),
                };
                *current = Arc::new(verifier);
            }
            Err(error) => {
                tracing::warn!(
                    "cannot refresh the access-token keys, keeping those known: {error:#}"
                );
            }
        }
    }

    /// Fetches the keys every [`REFRESH_EVERY`] (for the service's background tasks).
    pub fn keep_fresh(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(REFRESH_EVERY);
            every.tick().await;
            loop {
                every.tick().await;
                self.refresh(None).await;
            }
        })
    }
}

fn verifier_of(issuer: &str, audience: &str, jwks: &Jwks) -> anyhow::Result<JwtVerifier> {
    let mut verifier = JwtVerifier::new(issuer, audience);
    verifier.add_jwks(jwks)?;
    anyhow::ensure!(!verifier.is_empty(), "the JWKS holds no Ed25519 key");
    Ok(verifier)
}
