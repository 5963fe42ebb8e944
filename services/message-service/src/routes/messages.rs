//! Messages: send, history, edit, delete; read positions.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{patch, post};
use axum::Router;
use chat_models::api::message::{
    EditMessage, HistoryQuery, MarkRead, MessagePage, MessageView, SendMessage,
};
use chat_models::auth::AuthUser;
use chat_models::events::{DomainEvent, MessageEvent, ReadEvent};
use chat_models::http::{AppJson, AppPath, AppQuery};
use chat_models::{ApiError, ErrorCode, Result};
use uuid::Uuid;

use super::{conversation_id, message_id};
use crate::db::conversations::{self as conversation_store, ConversationDoc};
use crate::db::messages::{self as store, NewMessage, Page, Sent};
use crate::db::reads;
use crate::domain;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/conversations/{conversation_id}/messages",
            post(send_message).get(history),
        )
        .route(
            "/conversations/{conversation_id}/messages/{message_id}",
            patch(edit_message).delete(delete_message),
        )
        .route("/conversations/{conversation_id}/read", post(mark_read))
}

/// Whether `me` may write to a conversation they belong to: always in a group; in a direct
/// conversation only while friends (a block ends the friendship).
pub async fn can_write(state: &AppState, conversation: &ConversationDoc, me: Uuid) -> Result<bool> {
    if conversation.is_group {
        return Ok(true);
    }
    let other = conversation_store::other_member(conversation, me).unwrap_or(me);
    state.friends.are_friends(me, other).await
}

/// Refuses writes (send, edit, typing) to a direct conversation without the friendship.
pub async fn require_writable(
    state: &AppState,
    conversation: &ConversationDoc,
    me: Uuid,
) -> Result<()> {
    if can_write(state, conversation, me).await? {
        Ok(())
    } else {
        Err(ApiError::Forbidden(ErrorCode::NotFriends))
    }
}

/// What sending needs to check and store; shared with the WebSocket `message.send` frame.
pub async fn send(
    state: &AppState,
    me: Uuid,
    conversation: &str,
    request: SendMessage,
) -> Result<(StatusCode, MessageView)> {
    let text = domain::message_text("text", &request.text)?;
    let nonce = domain::nonce(request.nonce.as_deref())?;
    let reply_to = request
        .reply_to
        .as_deref()
        .map(|id| domain::object_id("reply_to", id, ErrorCode::MessageNotFound))
        .transpose()?;
    let conversation =
        conversation_store::find_for_member(&state.store, conversation_id(conversation)?, me)
            .await?;
    require_writable(state, &conversation, me).await?;
    if let Some(reply_to) = reply_to {
        store::find(&state.store, conversation.id, reply_to)
            .await
            .map_err(|_| {
                ApiError::field(
                    "reply_to",
                    "not_found",
                    "Reply to a message of this conversation.",
                )
            })?;
    }
    let new = NewMessage {
        conversation_id: conversation.id,
        sender: me,
        text,
        reply_to,
        nonce,
    };
    match store::send(&state.store, &new).await? {
        Sent::Repeated(message) => Ok((StatusCode::OK, message.view())),
        Sent::New(message, conversation) => {
            let view = message.view();
            state
                .publish(DomainEvent::MessageCreated(MessageEvent {
                    audience: conversation.member_uuids(),
                    message: view.clone(),
                }))
                .await;
            Ok((StatusCode::CREATED, view))
        }
    }
}

/// # `POST /conversations/{conversation_id}/messages`
/// Sends a message (members only; in a direct conversation, only while friends). With a
/// `nonce` already used by the caller in this conversation, returns the message stored then
/// (200) instead of a duplicate.
#[utoipa::path(post, path = "/conversations/{conversation_id}/messages", tag = "messages", request_body = SendMessage,
    params(("conversation_id" = String, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 201, body = MessageView, description = "Stored"),
    (status = 200, body = MessageView, description = "A retry: the message stored the first time"),
    (status = 403, body = chat_models::error::ErrorBody, description = "`not_friends`"),
    (status = 404, body = chat_models::error::ErrorBody, description = "`conversation_not_found`"),
    (status = 422, body = chat_models::error::ErrorBody, description = "`validation_failed`")))]
pub async fn send_message(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<String>,
    AppJson(request): AppJson<SendMessage>,
) -> Result<(StatusCode, AppJson<MessageView>)> {
    let (status, view) = send(&state, auth.user_id, &id, request).await?;
    Ok((status, AppJson(view)))
}

/// A message's position, for paging from it.
async fn position_of(state: &AppState, conversation: &ConversationDoc, id: &str) -> Result<i64> {
    Ok(store::find(&state.store, conversation.id, message_id(id)?)
        .await?
        .seq)
}

/// # `GET /conversations/{conversation_id}/messages`
/// History, newest first (`before` pages back); with `after`, the messages after one, oldest
/// first (to catch up). Deleted messages keep their place with empty text.
#[utoipa::path(get, path = "/conversations/{conversation_id}/messages", tag = "messages", params(
    ("conversation_id" = String, Path), HistoryQuery), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = MessagePage),
    (status = 404, body = chat_models::error::ErrorBody, description = "`conversation_not_found`, `message_not_found`")))]
pub async fn history(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<String>,
    AppQuery(query): AppQuery<HistoryQuery>,
) -> Result<AppJson<MessagePage>> {
    let limit = domain::page_limit(query.limit, 50, 100)?;
    let conversation =
        conversation_store::find_for_member(&state.store, conversation_id(&id)?, auth.user_id)
            .await?;
    let page = match (query.before.as_deref(), query.after.as_deref()) {
        (Some(_), Some(_)) => {
            return Err(ApiError::field(
                "after",
                "conflicts_with_before",
                "Page with before or after, not both.",
            ))
        }
        (Some(before), None) => Page::Before(position_of(&state, &conversation, before).await?),
        (None, Some(after)) => Page::After(position_of(&state, &conversation, after).await?),
        (None, None) => Page::Latest,
    };
    let mut messages = store::history(&state.store, conversation.id, page, limit + 1).await?;
    let has_more = messages.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    messages.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(AppJson(MessagePage {
        messages: messages.iter().map(store::MessageDoc::view).collect(),
        has_more,
    }))
}

/// # `PATCH /conversations/{conversation_id}/messages/{message_id}`
/// Changes the text of the caller's own message.
#[utoipa::path(patch, path = "/conversations/{conversation_id}/messages/{message_id}", tag = "messages",
    request_body = EditMessage, params(("conversation_id" = String, Path), ("message_id" = String, Path)),
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = MessageView),
    (status = 403, body = chat_models::error::ErrorBody, description = "`not_message_author`, `not_friends`"),
    (status = 404, body = chat_models::error::ErrorBody, description = "`message_not_found`"),
    (status = 409, body = chat_models::error::ErrorBody, description = "`message_deleted`")))]
pub async fn edit_message(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath((id, message)): AppPath<(String, String)>,
    AppJson(request): AppJson<EditMessage>,
) -> Result<AppJson<MessageView>> {
    let text = domain::message_text("text", &request.text)?;
    let conversation =
        conversation_store::find_for_member(&state.store, conversation_id(&id)?, auth.user_id)
            .await?;
    require_writable(&state, &conversation, auth.user_id).await?;
    let message = store::edit(
        &state.store,
        conversation.id,
        message_id(&message)?,
        auth.user_id,
        &text,
    )
    .await?;
    conversation_store::refresh_preview(
        &state.store,
        conversation.id,
        message.id,
        &domain::preview(&text),
    )
    .await?;
    let view = message.view();
    state
        .publish(DomainEvent::MessageUpdated(MessageEvent {
            audience: conversation.member_uuids(),
            message: view.clone(),
        }))
        .await;
    Ok(AppJson(view))
}

/// # `DELETE /conversations/{conversation_id}/messages/{message_id}`
/// Deletes the caller's own message: its text goes, its place in the history stays.
#[utoipa::path(delete, path = "/conversations/{conversation_id}/messages/{message_id}", tag = "messages",
    params(("conversation_id" = String, Path), ("message_id" = String, Path)),
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 204),
    (status = 403, body = chat_models::error::ErrorBody, description = "`not_message_author`"),
    (status = 404, body = chat_models::error::ErrorBody, description = "`message_not_found`"),
    (status = 409, body = chat_models::error::ErrorBody, description = "`message_deleted`")))]
pub async fn delete_message(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath((id, message)): AppPath<(String, String)>,
) -> Result<StatusCode> {
    let conversation =
        conversation_store::find_for_member(&state.store, conversation_id(&id)?, auth.user_id)
            .await?;
    let message = store::soft_delete(
        &state.store,
        conversation.id,
        message_id(&message)?,
        auth.user_id,
    )
    .await?;
    conversation_store::refresh_preview(&state.store, conversation.id, message.id, "").await?;
    state
        .publish(DomainEvent::MessageDeleted(MessageEvent {
            audience: conversation.member_uuids(),
            message: message.view(),
        }))
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Moves the caller's read position to a message; tells the other member of a direct
/// conversation (read receipt) and the caller's other devices.
pub async fn read_up_to(
    state: &AppState,
    me: Uuid,
    conversation: &str,
    message: &str,
) -> Result<()> {
    let conversation =
        conversation_store::find_for_member(&state.store, conversation_id(conversation)?, me)
            .await?;
    let message = store::find(&state.store, conversation.id, message_id(message)?).await?;
    let Some(read) =
        reads::mark_read(&state.store, conversation.id, me, message.id, message.seq).await?
    else {
        return Ok(());
    };
    // Receipts go to the other member of a direct conversation, while they are friends.
    let audience = if conversation.is_group || !can_write(state, &conversation, me).await? {
        vec![me]
    } else {
        conversation.member_uuids()
    };
    state
        .publish(DomainEvent::ReadUpdated(ReadEvent {
            audience,
            conversation_id: conversation.id.to_hex(),
            read: read.view(),
        }))
        .await;
    Ok(())
}

/// # `POST /conversations/{conversation_id}/read`
/// Marks the conversation read up to a message (positions only move forward).
#[utoipa::path(post, path = "/conversations/{conversation_id}/read", tag = "messages", request_body = MarkRead,
    params(("conversation_id" = String, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 204),
    (status = 404, body = chat_models::error::ErrorBody, description = "`conversation_not_found`, `message_not_found`")))]
pub async fn mark_read(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<String>,
    AppJson(request): AppJson<MarkRead>,
) -> Result<StatusCode> {
    read_up_to(&state, auth.user_id, &id, &request.message_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
