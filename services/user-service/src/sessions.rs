//! Session lifecycle: sign-in starts a session (a refresh-token family), refresh rotates its
//! token, reuse of a rotated token or sign-out revokes it. Revocation is recorded in MongoDB,
//! made effective at once for access tokens through Redis, and announced as `session.revoked`.

use bson::oid::ObjectId;
use chat_models::api::user::SignInMethod;
use chat_models::events::DomainEvent;
use chat_models::{ApiError, ErrorCode, Result};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::refresh_tokens::{bson_time, RefreshTokenDoc, Rotation};
use crate::state::AppState;
use crate::tokens::{hash_refresh_token, new_refresh_token};

/// Tokens of a session, fresh from sign-in or refresh.
#[derive(Debug)]
pub struct Issued {
    /// The owner.
    pub user_id: Uuid,
    /// The session (`sid`).
    pub session_id: Uuid,
    /// EdDSA access JWT.
    pub access_token: String,
    /// Its expiry.
    pub access_expires_at: DateTime<Utc>,
    /// Opaque refresh token (returned once, stored only hashed).
    pub refresh_token: String,
}

fn token_doc(
    user_id: Uuid,
    session_id: Uuid,
    session_created_at: DateTime<Utc>,
    token_hash: String,
    state: &AppState,
    user_agent: Option<String>,
    sign_in_method: SignInMethod,
) -> RefreshTokenDoc {
    let now = Utc::now();
    RefreshTokenDoc {
        id: ObjectId::new(),
        user_uuid: user_id.to_string(),
        token_hash,
        session_id: session_id.to_string(),
        session_created_at: bson_time(session_created_at),
        expires_at: bson_time(now + state.settings.refresh_ttl),
        created_at: bson_time(now),
        revoked_at: None,
        replaced_by_token: None,
        user_agent,
        sign_in_method,
    }
}

fn issue(
    state: &AppState,
    user_id: Uuid,
    session_id: Uuid,
    refresh_token: String,
) -> Result<Issued> {
    let (access_token, access_expires_at) = state.signer.issue(user_id, session_id)?;
    Ok(Issued {
        user_id,
        session_id,
        access_token,
        access_expires_at,
        refresh_token,
    })
}

/// Signs a user in on a new session.
pub async fn start(
    state: &AppState,
    user_id: Uuid,
    user_agent: Option<String>,
    sign_in_method: SignInMethod,
) -> Result<Issued> {
    let session_id = Uuid::new_v4();
    let refresh_token = new_refresh_token();
    let doc = token_doc(
        user_id,
        session_id,
        Utc::now(),
        hash_refresh_token(&refresh_token),
        state,
        user_agent,
        sign_in_method,
    );
    state.tokens.insert(&doc).await?;
    issue(state, user_id, session_id, refresh_token)
}

/// Exchanges a live refresh token (already looked up as `old`) for a new pair. A token that
/// was already exchanged revokes its whole session (RFC 9700 §4.14.2): whoever replayed it,
/// thief or owner, must sign in again.
pub async fn refresh(state: &AppState, old: &RefreshTokenDoc) -> Result<Issued> {
    let outcome = if old.revoked_at.is_some() || old.expires_at <= bson::DateTime::now() {
        state.tokens.judge_spent(&old.token_hash).await?
    } else {
        let new_token = new_refresh_token();
        let new = token_doc(
            old.user_id(),
            old.session_uuid(),
            old.session_created_at.to_chrono(),
            hash_refresh_token(&new_token),
            state,
            old.user_agent.clone(),
            old.sign_in_method,
        );
        match state.tokens.rotate(old, &new).await? {
            Rotation::Rotated => return issue(state, old.user_id(), old.session_uuid(), new_token),
            other => other,
        }
    };
    if let Rotation::Reused {
        user_id,
        session_id,
    } = outcome
    {
        tracing::warn!(%user_id, %session_id, "refresh token reused; session revoked");
        announce_revoked(state, user_id, vec![session_id]).await?;
    }
    Err(ApiError::Unauthorized(ErrorCode::InvalidRefreshToken))
}

/// Makes revoked sessions' access tokens fail everywhere and tells the other services.
pub async fn announce_revoked(
    state: &AppState,
    user_id: Uuid,
    session_ids: Vec<Uuid>,
) -> Result<()> {
    if session_ids.is_empty() {
        return Ok(());
    }
    state.auth.revocations.revoke(&session_ids).await?;
    state
        .events
        .publish(DomainEvent::SessionRevoked {
            user_uuid: user_id,
            session_ids,
        })
        .await?;
    Ok(())
}

/// Revokes one session of a user; 404 if it is not an active session of theirs.
pub async fn revoke_one(state: &AppState, user_id: Uuid, session_id: Uuid) -> Result<()> {
    let was_active = state
        .tokens
        .revoke_session(&user_id.to_string(), &session_id.to_string())
        .await?;
    if !was_active {
        return Err(ApiError::NotFound(ErrorCode::SessionNotFound));
    }
    announce_revoked(state, user_id, vec![session_id]).await
}

/// Revokes every session of a user except `keep`; `also` is revoked too even if its refresh
/// token already expired (its access token may still be live).
pub async fn revoke_all(
    state: &AppState,
    user_id: Uuid,
    keep: Option<Uuid>,
    also: Option<Uuid>,
) -> Result<()> {
    let mut sessions = state.tokens.revoke_all(user_id, keep).await?;
    if let Some(current) = also.filter(|current| !sessions.contains(current)) {
        sessions.push(current);
    }
    announce_revoked(state, user_id, sessions).await
}

/// How recently a session must have signed in for changes that stand in for a password check
/// (linking a provider; setting the first password or deleting an account that has none).
pub const FRESH_SESSION: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// `403 reauthentication_required` unless the caller's session signed in within
/// [`FRESH_SESSION`]. Refreshing does not count: only a sign-in does.
pub async fn require_fresh(state: &AppState, auth: &chat_models::auth::AuthUser) -> Result<()> {
    let started = state
        .tokens
        .session_started(auth.user_id, auth.session_id)
        .await?;
    match started {
        Some(started) if Utc::now() - started <= FRESH_SESSION => Ok(()),
        _ => Err(ApiError::Forbidden(ErrorCode::ReauthenticationRequired)),
    }
}
