//! Friend requests: send (or accept theirs), list, accept, reject, cancel.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::Router;
use chat_models::api::friend::{
    FriendRequestPage, FriendRequestView, Relationship, RelationshipView, RequestPageQuery,
    SendFriendRequest,
};
use chat_models::api::user::PublicUser;
use chat_models::auth::AuthUser;
use chat_models::events::{DomainEvent, FriendRequestEvent};
use chat_models::http::{AppJson, AppPath, AppQuery};
use chat_models::{ApiError, ErrorCode, FieldError, Result};
use sqlx::MySqlConnection;
use uuid::Uuid;

use super::{emit, other_user, PAGES};
use crate::db::relationships::{count_outgoing, fetch_facts, insert_request, lock_pair};
use crate::db::requests::{self, Direction, RequestRow, Settle};
use crate::db::{friendships, parse_uuid};
use crate::domain::{decide_send, SendDecision};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/friends/requests", post(send_request))
        .route("/friends/requests/incoming", get(list_incoming))
        .route("/friends/requests/outgoing", get(list_outgoing))
        .route(
            "/friends/requests/{request_id}/accept",
            post(accept_request),
        )
        .route(
            "/friends/requests/{request_id}/reject",
            post(reject_request),
        )
        .route("/friends/requests/{request_id}", delete(cancel_request))
}

fn request_event(row: &RequestRow) -> Result<FriendRequestEvent> {
    Ok(FriendRequestEvent {
        request_id: row.request_id,
        sender_uuid: parse_uuid(&row.sender_uuid)?,
        receiver_uuid: parse_uuid(&row.receiver_uuid)?,
    })
}

/// Accepts a request inside a transaction that holds the pair's lock: the request settles and
/// the friendship appears together.
async fn accept_in(conn: &mut MySqlConnection, request_id: u64, me: Uuid) -> Result<RequestRow> {
    let row = requests::settle(conn, request_id, me, Settle::Accept).await?;
    friendships::insert_friendship(conn, parse_uuid(&row.sender_uuid)?, me).await?;
    emit(
        conn,
        DomainEvent::FriendRequestAccepted(request_event(&row)?),
    )
    .await?;
    Ok(row)
}

/// Resolves the target of a new request: exactly one of username or uuid.
async fn resolve_target(
    state: &AppState,
    me: Uuid,
    request: SendFriendRequest,
) -> Result<PublicUser> {
    match (request.user_uuid, request.username) {
        (Some(uuid), None) => other_user(state, me, uuid).await,
        (None, Some(username)) => {
            let user = state
                .users
                .batch(Vec::new(), vec![username.trim().to_owned()])
                .await?
                .into_iter()
                .next()
                .ok_or(ApiError::NotFound(ErrorCode::UserNotFound))?;
            other_user(state, me, user.uuid).await
        }
        _ => Err(ApiError::Validation(vec![FieldError::new(
            "body",
            "one_target",
            "Name the user by exactly one of username or user_uuid.",
        )])),
    }
}

/// # `POST /friends/requests`
/// Sends a friend request by username or uuid. If they already asked you, this accepts their
/// request instead (200, `friends`); otherwise a pending request is created (201, `outgoing`).
#[utoipa::path(post, path = "/friends/requests", tag = "requests", request_body = SendFriendRequest,
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 201, body = RelationshipView, description = "Request pending"),
    (status = 200, body = RelationshipView, description = "Their pending request was accepted"),
    (status = 400, body = chat_models::error::ErrorBody, description = "`cannot_target_self`"),
    (status = 403, body = chat_models::error::ErrorBody, description = "`request_not_allowed`"),
    (status = 404, body = chat_models::error::ErrorBody, description = "`user_not_found`"),
    (status = 409, body = chat_models::error::ErrorBody,
        description = "`request_already_sent`, `already_friends`, `user_blocked`, `too_many_pending_requests`")))]
pub async fn send_request(
    State(state): State<AppState>,
    auth: AuthUser,
    AppJson(request): AppJson<SendFriendRequest>,
) -> Result<(StatusCode, AppJson<RelationshipView>)> {
    let me = auth.user_id;
    let target = resolve_target(&state, me, request).await?;
    let mut tx = state.db.begin().await?;
    // The sender's own lock first (so parallel sends to different users cannot all pass the
    // outgoing cap), then the pair's: always in this order, so no two sends deadlock.
    lock_pair(&mut tx, me, me).await?;
    lock_pair(&mut tx, me, target.uuid).await?;
    let facts = fetch_facts(&mut tx, me, target.uuid).await?;
    let outgoing = count_outgoing(&mut tx, me).await?;
    let decision = decide_send(
        facts.relationship(),
        outgoing,
        state.settings.max_outgoing_requests,
    )?;
    let (status, relationship) = match decision {
        SendDecision::AcceptTheirs { request_id } => {
            accept_in(&mut tx, request_id, me).await?;
            (StatusCode::OK, Relationship::Friends)
        }
        SendDecision::CreateRequest => {
            let request_id = insert_request(&mut tx, me, target.uuid).await?;
            let event = FriendRequestEvent {
                request_id,
                sender_uuid: me,
                receiver_uuid: target.uuid,
            };
            emit(&mut tx, DomainEvent::FriendRequestReceived(event)).await?;
            (StatusCode::CREATED, Relationship::Outgoing { request_id })
        }
    };
    tx.commit().await?;
    state.outbox.wake();
    let view = RelationshipView {
        user: target,
        relationship,
    };
    Ok((status, AppJson(view)))
}

async fn list(
    state: &AppState,
    me: Uuid,
    direction: Direction,
    query: RequestPageQuery,
) -> Result<FriendRequestPage> {
    let limit = PAGES.resolve(query.limit)?;
    let after =
        query.after.map(u64::try_from).transpose().map_err(|_| {
            ApiError::field("after", "out_of_range", "Pass a page's `next_cursor`.")
        })?;
    let mut rows = requests::list_pending(&state.db, me, direction, after, limit + 1).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|row| row.request_id)
    } else {
        None
    };
    let other = |row: &RequestRow| match direction {
        Direction::Incoming => parse_uuid(&row.sender_uuid),
        Direction::Outgoing => parse_uuid(&row.receiver_uuid),
    };
    let ids = rows.iter().map(other).collect::<Result<Vec<_>>>()?;
    let mut profiles = state.users.by_uuid(ids).await?;
    let mut requests = Vec::with_capacity(rows.len());
    for row in &rows {
        // A user deleted a moment ago has no profile; their rows go with the user.deleted event.
        if let Some(user) = profiles.remove(&other(row)?) {
            requests.push(FriendRequestView {
                request_id: row.request_id,
                user,
                created_at: row.created_at,
            });
        }
    }
    Ok(FriendRequestPage {
        requests,
        next_cursor,
    })
}

/// # `GET /friends/requests/incoming`
/// Requests waiting for the caller's answer, oldest first, with the senders' profiles.
#[utoipa::path(get, path = "/friends/requests/incoming", tag = "requests", params(RequestPageQuery),
    security(("bearer" = []), ("cookie" = [])), responses((status = 200, body = FriendRequestPage)))]
pub async fn list_incoming(
    State(state): State<AppState>,
    auth: AuthUser,
    AppQuery(query): AppQuery<RequestPageQuery>,
) -> Result<AppJson<FriendRequestPage>> {
    Ok(AppJson(
        list(&state, auth.user_id, Direction::Incoming, query).await?,
    ))
}

/// # `GET /friends/requests/outgoing`
/// The caller's requests still waiting, oldest first, with the receivers' profiles.
#[utoipa::path(get, path = "/friends/requests/outgoing", tag = "requests", params(RequestPageQuery),
    security(("bearer" = []), ("cookie" = [])), responses((status = 200, body = FriendRequestPage)))]
pub async fn list_outgoing(
    State(state): State<AppState>,
    auth: AuthUser,
    AppQuery(query): AppQuery<RequestPageQuery>,
) -> Result<AppJson<FriendRequestPage>> {
    Ok(AppJson(
        list(&state, auth.user_id, Direction::Outgoing, query).await?,
    ))
}

/// # `POST /friends/requests/{request_id}/accept`
/// Accepts a request sent to the caller; they become friends.
#[utoipa::path(post, path = "/friends/requests/{request_id}/accept", tag = "requests",
    params(("request_id" = u64, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = RelationshipView),
    (status = 404, body = chat_models::error::ErrorBody, description = "`request_not_found`")))]
pub async fn accept_request(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(request_id): AppPath<u64>,
) -> Result<AppJson<RelationshipView>> {
    let (sender, _) = requests::parties_of(&state.db, request_id)
        .await?
        .filter(|(_, receiver)| *receiver == auth.user_id)
        .ok_or(ApiError::NotFound(ErrorCode::RequestNotFound))?;
    // The profile is read first, so that no lock is held across the call and a failure
    // changes nothing.
    let user = state
        .users
        .batch(vec![sender], Vec::new())
        .await?
        .into_iter()
        .next()
        .ok_or(ApiError::NotFound(ErrorCode::UserNotFound))?;
    let mut tx = state.db.begin().await?;
    lock_pair(&mut tx, sender, auth.user_id).await?;
    accept_in(&mut tx, request_id, auth.user_id).await?;
    tx.commit().await?;
    state.outbox.wake();
    Ok(AppJson(RelationshipView {
        user,
        relationship: Relationship::Friends,
    }))
}

async fn settle_and_announce(
    state: &AppState,
    request_id: u64,
    me: Uuid,
    how: Settle,
) -> Result<StatusCode> {
    let (sender, receiver) = requests::parties_of(&state.db, request_id)
        .await?
        .filter(|(sender, receiver)| *sender == me || *receiver == me)
        .ok_or(ApiError::NotFound(ErrorCode::RequestNotFound))?;
    let mut tx = state.db.begin().await?;
    // The pair's lock, as every change of how two users stand takes it: a concurrent send that
    // decided to accept this request then sees it settled.
    lock_pair(&mut tx, sender, receiver).await?;
    let row = requests::settle(&mut tx, request_id, me, how).await?;
    let event = request_event(&row)?;
    let event = match how {
        Settle::Reject => DomainEvent::FriendRequestRejected(event),
        Settle::Cancel | Settle::Accept => DomainEvent::FriendRequestCancelled(event),
    };
    emit(&mut tx, event).await?;
    tx.commit().await?;
    state.outbox.wake();
    Ok(StatusCode::NO_CONTENT)
}

/// # `POST /friends/requests/{request_id}/reject`
/// Declines a request sent to the caller.
#[utoipa::path(post, path = "/friends/requests/{request_id}/reject", tag = "requests",
    params(("request_id" = u64, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 204), (status = 404, body = chat_models::error::ErrorBody, description = "`request_not_found`")))]
pub async fn reject_request(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(request_id): AppPath<u64>,
) -> Result<StatusCode> {
    settle_and_announce(&state, request_id, auth.user_id, Settle::Reject).await
}

/// # `DELETE /friends/requests/{request_id}`
/// Withdraws a request the caller sent.
#[utoipa::path(delete, path = "/friends/requests/{request_id}", tag = "requests",
    params(("request_id" = u64, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 204), (status = 404, body = chat_models::error::ErrorBody, description = "`request_not_found`")))]
pub async fn cancel_request(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(request_id): AppPath<u64>,
) -> Result<StatusCode> {
    settle_and_announce(&state, request_id, auth.user_id, Settle::Cancel).await
}
