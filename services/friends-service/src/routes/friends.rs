//! The friends list and ending a friendship.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::Router;
use chat_models::api::friend::{UserPageQuery, UserSince, UserSincePage};
use chat_models::auth::AuthUser;
use chat_models::events::DomainEvent;
use chat_models::http::{AppJson, AppPath, AppQuery};
use chat_models::{ApiError, ErrorCode, Result};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{emit, PAGES};
use crate::db::relationships::lock_pair;
use crate::db::{friendships, parse_uuid};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/friends", get(list_friends))
        .route("/friends/{user_uuid}", delete(remove_friend))
}

/// Joins profiles onto `(uuid, since)` rows in one batch call; users without a profile (deleted a
/// moment ago) are left out. The cursor is the last row's uuid, whether shown or not.
pub async fn page_of_users(
    state: &AppState,
    mut rows: Vec<(Uuid, DateTime<Utc>)>,
    limit: u32,
) -> Result<UserSincePage> {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|(uuid, _)| *uuid)
    } else {
        None
    };
    let mut profiles = state
        .users
        .by_uuid(rows.iter().map(|(uuid, _)| *uuid).collect())
        .await?;
    let users = rows
        .into_iter()
        .filter_map(|(uuid, since)| profiles.remove(&uuid).map(|user| UserSince { user, since }))
        .collect();
    Ok(UserSincePage { users, next_cursor })
}

/// # `GET /friends`
/// The caller's friends with their profiles, a page at a time (ordered by uuid).
#[utoipa::path(get, path = "/friends", tag = "friends", params(UserPageQuery),
    security(("bearer" = []), ("cookie" = [])), responses((status = 200, body = UserSincePage)))]
pub async fn list_friends(
    State(state): State<AppState>,
    auth: AuthUser,
    AppQuery(query): AppQuery<UserPageQuery>,
) -> Result<AppJson<UserSincePage>> {
    let limit = PAGES.resolve(query.limit)?;
    let rows = friendships::list_friends(&state.db, auth.user_id, query.after, limit + 1).await?;
    let rows = rows
        .into_iter()
        .map(|row| Ok((parse_uuid(&row.friend_uuid)?, row.created_at)))
        .collect::<Result<Vec<_>>>()?;
    Ok(AppJson(page_of_users(&state, rows, limit).await?))
}

/// # `DELETE /friends/{user_uuid}`
/// Ends a friendship (for both).
#[utoipa::path(delete, path = "/friends/{user_uuid}", tag = "friends", params(("user_uuid" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 204), (status = 404, body = chat_models::error::ErrorBody, description = "`not_friends`")))]
pub async fn remove_friend(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(friend): AppPath<Uuid>,
) -> Result<StatusCode> {
    let mut tx = state.db.begin().await?;
    lock_pair(&mut tx, auth.user_id, friend).await?;
    if !friendships::delete_friendship(&mut tx, auth.user_id, friend).await? {
        return Err(ApiError::NotFound(ErrorCode::NotFriends));
    }
    emit(
        &mut tx,
        DomainEvent::FriendshipRemoved {
            user_uuid: auth.user_id,
            friend_uuid: friend,
        },
    )
    .await?;
    tx.commit().await?;
    state.outbox.wake();
    Ok(StatusCode::NO_CONTENT)
}
