//! Revoked sessions in Redis, and the [`Authenticator`] that checks a token against them.
//!
//! Redis may lose its data (a restart without persistence). So the list carries a marker,
//! `<prefix>revoked:seeded`, which user-service sets after writing every revocation still in
//! force from its own records (MongoDB); while the marker is missing, checks fail closed
//! (`503`) instead of letting a signed-out session back in.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;
use uuid::Uuid;

use super::{AuthUser, TrustedKeys};
use crate::error::{ApiError, ErrorCode, Result};

/// Revoked sessions, kept in Redis until every access token of theirs has expired.
#[derive(Clone)]
pub struct SessionRevocations {
    redis: ConnectionManager,
    prefix: String,
    ttl: Duration,
}

impl std::fmt::Debug for SessionRevocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRevocations")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl SessionRevocations {
    /// `ttl` must outlive the longest access token (its lifetime plus clock leeway).
    pub fn new(redis: ConnectionManager, prefix: &str, ttl: Duration) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
            ttl,
        }
    }

    fn key(&self, session_id: Uuid) -> String {
        format!("{}revoked:sid:{session_id}", self.prefix)
    }

    fn seeded_key(&self) -> String {
        format!("{}revoked:seeded", self.prefix)
    }

    /// How long a revocation is kept.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Marks sessions revoked: their access tokens are refused from now on, on every service.
    pub async fn revoke(&self, session_ids: &[Uuid]) -> Result<()> {
        if session_ids.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for session_id in session_ids {
            pipe.set_ex(self.key(*session_id), 1, self.ttl.as_secs().max(1))
                .ignore();
        }
        pipe.query_async::<()>(&mut self.redis.clone()).await?;
        Ok(())
    }

    /// Whether the session was revoked; `503` while the list is not known to be complete.
    pub async fn is_revoked(&self, session_id: Uuid) -> Result<bool> {
        let (revoked, seeded): (bool, bool) = redis::pipe()
            .exists(self.key(session_id))
            .exists(self.seeded_key())
            .query_async(&mut self.redis.clone())
            .await?;
        if !seeded {
            return Err(ApiError::Unavailable {
                code: ErrorCode::ServiceUnavailable,
                retry_after_secs: 1,
            });
        }
        Ok(revoked)
    }

    /// Whether the list is known to be complete (the marker is there).
    pub async fn is_seeded(&self) -> Result<bool> {
        let seeded: bool = redis::cmd("EXISTS")
            .arg(self.seeded_key())
            .query_async(&mut self.redis.clone())
            .await?;
        Ok(seeded)
    }

    /// Writes the revocations still in force (each session with how long it has left), then
    /// the marker that says the list is complete.
    pub async fn seed(&self, revoked: &[(Uuid, Duration)]) -> Result<()> {
        let mut pipe = redis::pipe();
        for (session_id, left) in revoked {
            pipe.set_ex(self.key(*session_id), 1, left.as_secs().max(1))
                .ignore();
        }
        pipe.set(self.seeded_key(), 1).ignore();
        pipe.query_async::<()>(&mut self.redis.clone()).await?;
        Ok(())
    }
}

/// Everything needed to authenticate a request; put it in each service's state.
#[derive(Clone, Debug)]
pub struct Authenticator {
    /// Signature and claim checks.
    pub keys: Arc<TrustedKeys>,
    /// Revoked-session lookups.
    pub revocations: SessionRevocations,
}

impl Authenticator {
    /// Verifies a token and refuses it when its session was revoked.
    pub async fn authenticate(&self, token: &str) -> Result<AuthUser> {
        let claims = self.keys.verify(token).await?;
        if self.revocations.is_revoked(claims.sid).await? {
            return Err(ApiError::Unauthorized(ErrorCode::SessionRevoked));
        }
        Ok(AuthUser {
            user_id: claims.sub,
            session_id: claims.sid,
        })
    }
}
