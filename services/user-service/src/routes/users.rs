//! Looking other users up: by uuid, by username, by username prefix.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use chat_models::api::user::{PublicUser, UserPage, UserSearchQuery};
use chat_models::api::PageLimit;
use chat_models::auth::AuthUser;
use chat_models::http::{AppJson, AppPath, AppQuery};
use chat_models::{ApiError, ErrorCode, FieldError, Result};
use uuid::Uuid;

use super::{limit_lookups, ClientIp};
use crate::db::users;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/search", get(search_users))
        .route("/users/by-username/{username}", get(get_user_by_username))
        .route("/users/{uuid}", get(get_user))
}

/// # `GET /users/{uuid}`
/// A user's public profile.
#[utoipa::path(get, path = "/users/{uuid}", tag = "users", params(("uuid" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = PublicUser), (status = 404, body = chat_models::error::ErrorBody, description = "`user_not_found`")))]
pub async fn get_user(
    State(state): State<AppState>,
    _auth: AuthUser,
    AppPath(uuid): AppPath<Uuid>,
) -> Result<AppJson<PublicUser>> {
    let user = users::fetch_user(&state.db, uuid)
        .await?
        .ok_or(ApiError::NotFound(ErrorCode::UserNotFound))?;
    Ok(AppJson(user.into_public()?))
}

/// # `GET /users/by-username/{username}`
/// A user's public profile by username (case-insensitive).
#[utoipa::path(get, path = "/users/by-username/{username}", tag = "users", params(("username" = String, Path)),
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = PublicUser), (status = 404, body = chat_models::error::ErrorBody, description = "`user_not_found`")))]
pub async fn get_user_by_username(
    State(state): State<AppState>,
    _auth: AuthUser,
    AppPath(username): AppPath<String>,
) -> Result<AppJson<PublicUser>> {
    let user = users::fetch_user_by_username(&state.db, username.trim())
        .await?
        .ok_or(ApiError::NotFound(ErrorCode::UserNotFound))?;
    Ok(AppJson(user.into_public()?))
}

/// Search pages: 20 users unless asked, at most 50.
const SEARCH_PAGES: PageLimit = PageLimit::new(20, 50);

/// # `GET /users/search?q=&limit=&after=`
/// Users whose username starts with `q` (case-insensitive), by username, a page at a time.
#[utoipa::path(get, path = "/users/search", tag = "users", params(UserSearchQuery),
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 429, body = chat_models::error::ErrorBody, description = "`rate_limited`", headers(("Retry-After" = u64, description = "Seconds until a retry can succeed"))),
    (status = 200, body = UserPage), (status = 422, body = chat_models::error::ErrorBody)))]
pub async fn search_users(
    State(state): State<AppState>,
    client: ClientIp,
    _auth: AuthUser,
    AppQuery(query): AppQuery<UserSearchQuery>,
) -> Result<AppJson<UserPage>> {
    limit_lookups(&state, &client).await?;
    let mut errors = Vec::new();
    if !(1..=32).contains(&query.q.chars().count()) {
        errors.push(FieldError::new(
            "q",
            "invalid_length",
            "Search with 1 to 32 characters.",
        ));
    }
    let limit = SEARCH_PAGES.check(query.limit).unwrap_or_else(|field| {
        errors.push(field);
        0
    });
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let prefix = query.q.trim();
    // One extra row tells whether another page exists.
    let mut rows =
        users::search_by_prefix(&state.db, prefix, query.after.as_deref(), limit + 1).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|row| row.username.clone())
    } else {
        None
    };
    let users = rows
        .into_iter()
        .map(users::UserRow::into_public)
        .collect::<Result<_>>()?;
    Ok(AppJson(UserPage { users, next_cursor }))
}
