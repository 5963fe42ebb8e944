//! Revoked sessions in Redis, and the [`Authenticator`] that checks a token against them.
//!
//! Redis may lose its data (a restart without persistence). So the list carries a marker,
//! `<prefix>revoked:seeded`, which user-service sets after writing every revocation still in
//! force from its own records (MongoDB); while the marker is missing, checks fail closed
//! (`503`) instead of letting a signed-out session back in.
//!
//! A service reading the event stream may remember the sessions it found in force
//! ([`SessionRevocations::remembering`]) while its reader is connected: their next requests
//! ask Redis nothing, and each `session.revoked` event forgets its sessions
//! ([`SessionRevocations::forget`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;
use uuid::Uuid;

use super::{AuthUser, TrustedKeys};
use crate::error::{ApiError, ErrorCode, Result};
use crate::memory::Memory;

/// Revoked sessions, kept in Redis until every access token of theirs has expired.
#[derive(Clone)]
pub struct SessionRevocations {
    redis: ConnectionManager,
    prefix: String,
    ttl: Duration,
    /// Sessions found in force, when remembered.
    in_force: Option<InForce>,
}

/// Sessions found in force, remembered while the events that revoke them are read.
#[derive(Clone)]
struct InForce {
    sessions: Memory<Uuid, ()>,
    /// Whether the reader that forgets revoked sessions is connected.
    reading: Arc<AtomicBool>,
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
            in_force: None,
        }
    }

    /// The same list, remembering up to `capacity` sessions found in force for `remember`
    /// each (a zero `remember` remembers none): their requests ask Redis nothing meanwhile.
    /// Only for a service that reads the event stream, tells [`Self::reading`] whether its
    /// reader is connected, and calls [`Self::forget`] with the sessions of every
    /// `session.revoked` event as it reads it: a revocation then counts there once its event
    /// is read, and `remember` bounds how long a missed event leaves a session in force.
    #[must_use]
    pub fn remembering(mut self, remember: Duration, capacity: u64) -> Self {
        self.in_force = Memory::new(remember, capacity).map(|sessions| InForce {
            sessions,
            reading: Arc::default(),
        });
        self
    }

    /// Whether the service's reader of the event stream is connected: sessions are remembered
    /// only while it is, and all are forgotten when it is not (Redis may be away, and every
    /// check asks it again, failing closed).
    pub fn reading(&self, connected: bool) {
        if let Some(in_force) = &self.in_force {
            in_force.reading.store(connected, Ordering::SeqCst);
            if !connected {
                in_force.sessions.forget_all();
            }
        }
    }

    /// Forgets that these sessions were in force (they were revoked).
    pub fn forget(&self, session_ids: &[Uuid]) {
        if let Some(in_force) = &self.in_force {
            for session_id in session_ids {
                in_force.sessions.forget(session_id);
            }
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

    /// Whether the session was revoked; `503` while the list is not known to be complete
    /// (unless the session is remembered in force).
    pub async fn is_revoked(&self, session_id: Uuid) -> Result<bool> {
        let in_force = self
            .in_force
            .as_ref()
            .filter(|in_force| in_force.reading.load(Ordering::SeqCst));
        if in_force.is_some_and(|in_force| in_force.sessions.get(&session_id).is_some()) {
            return Ok(false);
        }
        let mark = in_force.map(|in_force| in_force.sessions.mark());
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
        if let (Some(in_force), Some(mark), false) = (in_force, mark, revoked) {
            in_force.sessions.keep(mark, [(session_id, ())]);
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
