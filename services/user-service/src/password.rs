//! Argon2id hashing off the async runtime. A semaphore bounds how many hashes run at once, so a
//! login flood queues here (briefly, then 503) instead of growing Tokio's blocking pool to 512
//! threads and starving every other route.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chat_models::{ApiError, ErrorCode, Result};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;
use tracing::Instrument as _;

/// Hashes and verifies passwords with bounded concurrency.
#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    permits: Arc<Semaphore>,
    queue_timeout: Duration,
    /// Verified against when the user does not exist, so "no such user" takes as long as
    /// "wrong password" and timing does not reveal which accounts exist.
    dummy_hash: String,
}

impl PasswordHasher {
    /// `memory_kib`/`iterations`/`parallelism` are argon2id's m, t and p (OWASP: 19456, 2, 1).
    /// At most `concurrency` hashes run at once; a caller waits at most `queue_timeout` for a slot.
    pub fn new(
        memory_kib: u32,
        iterations: u32,
        parallelism: u32,
        concurrency: usize,
        queue_timeout: Duration,
    ) -> anyhow::Result<Self> {
        let params = Params::new(memory_kib, iterations, parallelism, None)
            .map_err(|error| anyhow::anyhow!("invalid argon2 parameters: {error}"))?;
        let dummy_hash = hash_blocking(&params, "dummy password, never matches")?;
        Ok(Self {
            inner: Arc::new(Inner {
                params,
                permits: Arc::new(Semaphore::new(concurrency.max(1))),
                queue_timeout,
                dummy_hash,
            }),
        })
    }

    /// Hashes a new password (PHC string with a random salt).
    pub async fn hash(&self, password: SecretString) -> Result<String> {
        let inner = Arc::clone(&self.inner);
        self.run(move || hash_blocking(&inner.params, password.expose_secret()))
            .await?
            .map_err(ApiError::Internal)
    }

    /// Checks a password against a stored hash, or against the dummy hash when `hash` is `None`
    /// (unknown user), in which case the answer is always `false`.
    pub async fn verify(&self, password: SecretString, hash: Option<String>) -> Result<bool> {
        let inner = Arc::clone(&self.inner);
        let known = hash.is_some();
        let matched = self
            .run(move || {
                let stored = hash.unwrap_or_else(|| inner.dummy_hash.clone());
                verify_blocking(&stored, password.expose_secret())
            })
            .await?
            .map_err(ApiError::Internal)?;
        Ok(known && matched)
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let permits = Arc::clone(&self.inner.permits);
        let permit = tokio::time::timeout(self.inner.queue_timeout, permits.acquire_owned())
            .await
            .map_err(|_| ApiError::Unavailable {
                code: ErrorCode::ServerBusy,
                retry_after_secs: 1,
            })?
            .context("password hasher closed")?;
        let span = tracing::Span::current();
        // The permit moves into the blocking task: if the request is abandoned mid-hash, the slot
        // stays taken until the hash really finishes, so the bound holds.
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            span.in_scope(work)
        })
        .instrument(tracing::debug_span!("argon2"))
        .await
        .context("password hashing task failed")
        .map_err(ApiError::Internal)
    }
}

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn hash_blocking(params: &Params, password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2(params)
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| anyhow::anyhow!("argon2 hashing failed: {error}"))
}

fn verify_blocking(stored: &str, password: &str) -> anyhow::Result<bool> {
    let parsed = PasswordHash::new(stored)
        .map_err(|error| anyhow::anyhow!("stored hash unreadable: {error}"))?;
    // The hash carries its own parameters, so old hashes verify after a parameter change.
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> PasswordHasher {
        PasswordHasher::new(1024, 1, 1, 2, Duration::from_secs(5)).unwrap()
    }

    #[tokio::test]
    async fn a_hash_verifies_only_its_own_password() {
        let hasher = hasher();
        let hash = hasher
            .hash(SecretString::from("correct horse"))
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(hasher
            .verify(SecretString::from("correct horse"), Some(hash.clone()))
            .await
            .unwrap());
        assert!(!hasher
            .verify(SecretString::from("wrong horse"), Some(hash))
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn unknown_users_never_verify() {
        let hasher = hasher();
        assert!(!hasher
            .verify(SecretString::from("dummy password, never matches"), None)
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn a_saturated_hasher_answers_busy_instead_of_queueing_forever() {
        let hasher = PasswordHasher::new(1024, 1, 1, 1, Duration::from_millis(50)).unwrap();
        let _held = hasher.inner.permits.acquire().await.unwrap();
        let error = hasher
            .hash(SecretString::from("password1"))
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::ServerBusy);
    }

    #[tokio::test]
    async fn an_abandoned_hash_keeps_its_slot_until_it_finishes() {
        // 64 MiB, 3 passes: tens of milliseconds, far longer than the 2 ms we wait.
        let hasher = PasswordHasher::new(65_536, 3, 1, 1, Duration::from_millis(1)).unwrap();
        let abandoned = tokio::time::timeout(
            Duration::from_millis(2),
            hasher.hash(SecretString::from("password1")),
        )
        .await;
        assert!(abandoned.is_err(), "the first hash should still be running");

        let error = hasher
            .hash(SecretString::from("password2"))
            .await
            .unwrap_err();

        assert_eq!(error.code(), ErrorCode::ServerBusy);
    }
}
