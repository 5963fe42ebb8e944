//! Blocking: ends any friendship and pending request, and refuses new ones.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::Router;
use chat_models::api::friend::{UserPageQuery, UserSincePage};
use chat_models::auth::AuthUser;
use chat_models::events::{DomainEvent, FriendRequestEvent};
use chat_models::http::{AppJson, AppPath, AppQuery};
use chat_models::Result;
use uuid::Uuid;

use super::friends::page_of_users;
use super::{emit, other_user, PAGES};
use crate::db::relationships::lock_pair;
use crate::db::{blocks, friendships, parse_uuid, requests};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/blocks", get(list_blocks))
        .route("/blocks/{user_uuid}", put(block_user).delete(unblock_user))
}

/// # `PUT /blocks/{user_uuid}`
/// Blocks a user: their friendship and pending requests end, and new requests are refused.
/// Idempotent.
#[utoipa::path(put, path = "/blocks/{user_uuid}", tag = "blocks", params(("user_uuid" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 204), (status = 404, body = chat_models::error::ErrorBody, description = "`user_not_found`")))]
pub async fn block_user(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(target): AppPath<Uuid>,
) -> Result<StatusCode> {
    let me = auth.user_id;
    other_user(&state, me, target).await?;
    let mut tx = state.db.begin().await?;
    lock_pair(&mut tx, me, target).await?;
    let new_block = blocks::insert_block(&mut tx, me, target).await?;
    if friendships::delete_friendship(&mut tx, me, target).await? {
        emit(
            &mut tx,
            DomainEvent::FriendshipRemoved {
                user_uuid: me,
                friend_uuid: target,
            },
        )
        .await?;
    }
    for row in requests::cancel_between(&mut tx, me, target).await? {
        let event = FriendRequestEvent {
            request_id: row.request_id,
            sender_uuid: parse_uuid(&row.sender_uuid)?,
            receiver_uuid: parse_uuid(&row.receiver_uuid)?,
        };
        emit(&mut tx, DomainEvent::FriendRequestCancelled(event)).await?;
    }
    if new_block {
        emit(
            &mut tx,
            DomainEvent::UserBlocked {
                blocker_uuid: me,
                blocked_uuid: target,
            },
        )
        .await?;
    }
    tx.commit().await?;
    state.outbox.wake();
    Ok(StatusCode::NO_CONTENT)
}

/// # `DELETE /blocks/{user_uuid}`
/// Lifts a block (nothing else comes back: no friendship, no request). Idempotent.
#[utoipa::path(delete, path = "/blocks/{user_uuid}", tag = "blocks", params(("user_uuid" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])), responses((status = 204)))]
pub async fn unblock_user(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(target): AppPath<Uuid>,
) -> Result<StatusCode> {
    blocks::delete_block(&state.db, auth.user_id, target).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// # `GET /blocks`
/// The users the caller blocked, with their profiles, a page at a time.
#[utoipa::path(get, path = "/blocks", tag = "blocks", params(UserPageQuery),
    security(("bearer" = []), ("cookie" = [])), responses((status = 200, body = UserSincePage)))]
pub async fn list_blocks(
    State(state): State<AppState>,
    auth: AuthUser,
    AppQuery(query): AppQuery<UserPageQuery>,
) -> Result<AppJson<UserSincePage>> {
    let limit = PAGES.resolve(query.limit)?;
    let rows = blocks::list_blocks(&state.db, auth.user_id, query.after, limit + 1).await?;
    let rows = rows
        .into_iter()
        .map(|row| Ok((parse_uuid(&row.blocked_uuid)?, row.created_at)))
        .collect::<Result<Vec<_>>>()?;
    Ok(AppJson(page_of_users(&state, rows, limit).await?))
}
