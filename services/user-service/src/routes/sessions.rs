//! The signed-in devices of an account.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::Router;
use chat_models::api::user::{SessionInfo, SessionList};
use chat_models::auth::AuthUser;
use chat_models::http::{AppJson, AppPath};
use chat_models::Result;
use uuid::Uuid;

use super::auth::clear_cookies;
use crate::sessions;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/sessions", get(list_sessions))
        .route("/auth/sessions/{session_id}", delete(revoke_session))
}

/// # `GET /auth/sessions`
/// The account's active sessions, newest first; `current` marks the caller's.
#[utoipa::path(get, path = "/auth/sessions", tag = "sessions", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = SessionList)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<AppJson<SessionList>> {
    let sessions = state
        .tokens
        .active_sessions(auth.user_id)
        .await?
        .into_iter()
        .map(|token| {
            let session_id = token.session_uuid();
            SessionInfo {
                session_id,
                created_at: token.session_created_at.to_chrono(),
                last_used_at: token.created_at.to_chrono(),
                expires_at: token.expires_at.to_chrono(),
                user_agent: token.user_agent,
                sign_in_method: token.sign_in_method,
                current: session_id == auth.session_id,
            }
        })
        .collect();
    Ok(AppJson(SessionList { sessions }))
}

/// # `DELETE /auth/sessions/{session_id}`
/// Signs one session out (any of the caller's, the current one included).
#[utoipa::path(delete, path = "/auth/sessions/{session_id}", tag = "sessions",
    params(("session_id" = Uuid, Path, description = "Session to sign out")),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 204), (status = 404, body = chat_models::error::ErrorBody, description = "`session_not_found`")))]
pub async fn revoke_session(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(session_id): AppPath<Uuid>,
) -> Result<Response> {
    sessions::revoke_one(&state, auth.user_id, session_id).await?;
    if session_id == auth.session_id {
        return Ok((clear_cookies(&state), StatusCode::NO_CONTENT).into_response());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
