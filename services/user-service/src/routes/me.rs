//! The caller's own account: details, profile changes, password, deletion.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::Router;
use chat_models::api::user::{
    ChangePasswordRequest, CurrentUser, DeleteAccountRequest, UpdateMeRequest,
};
use chat_models::auth::AuthUser;
use chat_models::events::{DomainEvent, EventEnvelope};
use chat_models::http::AppJson;
use chat_models::{ApiError, ErrorCode, FieldError, Result};
use secrecy::SecretString;

use super::auth::clear_cookies;
use crate::db::users::{self, ProfileChanges, UserRow};
use crate::domain::{Bio, Email, Fields, Password, ProfilePicture, Username};
use crate::sessions;
use crate::state::AppState;
use chat_models::outbox;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/me", get(get_me).patch(update_me).delete(delete_me))
        .route("/users/me/password", put(change_password))
}

async fn current_row(state: &AppState, auth: &AuthUser) -> Result<UserRow> {
    users::fetch_user(&state.db, auth.user_id)
        .await?
        .ok_or(ApiError::NotFound(ErrorCode::UserNotFound))
}

/// Confirms a sensitive change: with the password when the account has one, else (an account made through a provider) with a session signed in
/// within the last few minutes.
async fn confirm_identity(
    state: &AppState,
    auth: &AuthUser,
    user: &UserRow,
    password: Option<String>,
) -> Result<()> {
    let Some(hash) = user.password_hash.clone() else {
        return sessions::require_fresh(state, auth).await;
    };
    // A missing password is a wrong one (403), as an empty one always was.
    confirm_password(state, user, hash, password.unwrap_or_default()).await
}

/// Checks the account password. Attempts count like logins, before the hash; wrong answers are
/// 403, not 401, so clients do not take them for "sign in again".
async fn confirm_password(
    state: &AppState,
    user: &UserRow,
    hash: String,
    password: String,
) -> Result<()> {
    let limit = state.settings.limits.login_account;
    state
        .limiter
        .hit("login_account", &user.uuid, limit)
        .await?;
    let matched = state
        .passwords
        .verify(SecretString::from(password), Some(hash))
        .await?;
    if !matched {
        return Err(ApiError::Forbidden(ErrorCode::InvalidCredentials));
    }
    state.limiter.reset("login_account", &user.uuid).await
}

/// # `GET /users/me`
/// The caller's account, email included.
#[utoipa::path(get, path = "/users/me", tag = "me", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = CurrentUser)))]
pub async fn get_me(State(state): State<AppState>, auth: AuthUser) -> Result<AppJson<CurrentUser>> {
    Ok(AppJson(current_row(&state, &auth).await?.into_current()?))
}

/// # `PATCH /users/me`
/// Changes any of username, email, bio, profile picture. Omitted fields stay; `null` clears bio
/// and picture.
#[utoipa::path(patch, path = "/users/me", tag = "me", request_body = UpdateMeRequest,
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = CurrentUser),
    (status = 409, body = chat_models::error::ErrorBody, description = "`username_taken` or `email_taken`"),
    (status = 422, body = chat_models::error::ErrorBody)))]
pub async fn update_me(
    State(state): State<AppState>,
    auth: AuthUser,
    AppJson(request): AppJson<UpdateMeRequest>,
) -> Result<AppJson<CurrentUser>> {
    let mut fields = Fields::default();
    let changes = ProfileChanges {
        username: request
            .username
            .as_deref()
            .and_then(|raw| fields.check(Username::parse(raw)))
            .map(|u| u.as_str().to_owned()),
        email: request
            .email
            .as_deref()
            .and_then(|raw| fields.check(Email::parse(raw)))
            .map(|e| e.as_str().to_owned()),
        bio: request.bio.map(|raw| {
            fields
                .check(Bio::parse(raw.as_deref()))
                .and_then(Bio::into_inner)
        }),
        profile_picture: request.profile_picture.map(|raw| {
            fields
                .check(ProfilePicture::parse(raw.as_deref()))
                .and_then(ProfilePicture::into_inner)
        }),
    };
    fields.finish()?;
    let nothing = changes.username.is_none()
        && changes.email.is_none()
        && changes.bio.is_none()
        && changes.profile_picture.is_none();
    if nothing {
        return Err(ApiError::Validation(vec![FieldError::new(
            "body",
            "no_changes",
            "Send at least one of username, email, bio, profile_picture.",
        )]));
    }
    let picture_changed = changes.profile_picture.is_some();
    crate::profiles::update(&state, auth.user_id, changes).await?;
    let user = current_row(&state, &auth).await?;
    if picture_changed {
        crate::avatars::picture_changed(&state, auth.user_id, user.profile_picture.as_deref())
            .await?;
    }
    Ok(AppJson(user.into_current()?))
}

/// # `PUT /users/me/password`
/// Changes the password (the current one is required), or sets the first one of an account made
/// through a provider (with a session signed in within 10 minutes). Every other session is
/// signed out.
#[utoipa::path(put, path = "/users/me/password", tag = "me", request_body = ChangePasswordRequest,
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 429, body = chat_models::error::ErrorBody, description = "`rate_limited`", headers(("Retry-After" = u64, description = "Seconds until a retry can succeed"))),
    (status = 204),
    (status = 403, body = chat_models::error::ErrorBody, description = "`invalid_credentials`: wrong current password; `reauthentication_required`: no password yet and the session is not fresh"),
    (status = 422, body = chat_models::error::ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    auth: AuthUser,
    AppJson(request): AppJson<ChangePasswordRequest>,
) -> Result<StatusCode> {
    let new_password = Password::parse(request.new_password, "new_password")
        .map_err(|error| ApiError::Validation(vec![error]))?;
    let user = current_row(&state, &auth).await?;
    // The current password first: an unchanged one is only news to whoever knows it.
    let unchanged = request
        .current_password
        .as_deref()
        .is_some_and(|current| new_password.same_as(current));
    confirm_identity(&state, &auth, &user, request.current_password).await?;
    if unchanged {
        return Err(ApiError::field(
            "new_password",
            "unchanged",
            "Choose a password different from the current one.",
        ));
    }
    let hash = state.passwords.hash(new_password.into_secret()).await?;
    // Other sessions go first: if that fails, nothing changed; if the update then fails,
    // they are signed out but the old password still works, which is safe.
    sessions::revoke_all(&state, auth.user_id, Some(auth.session_id), None).await?;
    users::update_password_hash(&state.db, auth.user_id, &hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// # `DELETE /users/me`
/// Deletes the account (the password is required, or for an account without one a session
/// signed in within 10 minutes), signs every session out and publishes
/// `user.deleted` so the other services remove what they hold.
#[utoipa::path(delete, path = "/users/me", tag = "me", request_body = DeleteAccountRequest,
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 429, body = chat_models::error::ErrorBody, description = "`rate_limited`", headers(("Retry-After" = u64, description = "Seconds until a retry can succeed"))),
    (status = 204, description = "Deleted; cookies cleared"),
    (status = 403, body = chat_models::error::ErrorBody, description = "`invalid_credentials`: wrong password; `reauthentication_required`: no password and the session is not fresh")))]
pub async fn delete_me(
    State(state): State<AppState>,
    auth: AuthUser,
    AppJson(request): AppJson<DeleteAccountRequest>,
) -> Result<Response> {
    let user = current_row(&state, &auth).await?;
    confirm_identity(&state, &auth, &user, request.password).await?;
    // Every session is signed out before the row goes: if this fails, nothing is deleted and
    // a retry starts over; once the row is gone, no live token outlives it.
    sessions::revoke_all(&state, auth.user_id, None, Some(auth.session_id)).await?;

    // The row and the event commit together: the event cannot be lost or sent for a row that
    // still exists.
    let mut tx = state.db.begin().await?;
    users::delete_user(&mut *tx, auth.user_id).await?;
    outbox::insert_event(
        &mut tx,
        &EventEnvelope::now(DomainEvent::UserDeleted {
            user_uuid: auth.user_id,
        }),
    )
    .await?;
    tx.commit().await?;
    state.outbox.wake();
    tracing::info!(user_id = %auth.user_id, "account deleted");

    if let Err(error) = crate::avatars::release_except(&state, auth.user_id, None).await {
        tracing::warn!(error = ?error, user_id = %auth.user_id, "profile pictures left behind");
    }
    // Already revoked; removing them is tidiness (the TTL index would get there too).
    if let Err(error) = state.tokens.delete_for_user(auth.user_id).await {
        tracing::warn!(error = ?error, user_id = %auth.user_id, "refresh tokens left to the TTL index");
    }
    Ok((clear_cookies(&state), StatusCode::NO_CONTENT).into_response())
}
