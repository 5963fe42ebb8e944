//! Messages: send, history, edit, delete; read positions.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::Router;
use chat_models::api::message::{
    ChangesPage, ChangesQuery, EditMessage, HistoryQuery, MarkRead, MessagePage, MessageView,
    SendMessage,
};
use chat_models::auth::AuthUser;
use chat_models::http::{AppJson, AppPath, AppQuery};
use chat_models::Result;

use crate::catch_up;
use crate::messaging::{self, Stored};
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
        .route("/conversations/{conversation_id}/changes", get(changes))
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
    Ok(
        match messaging::send(&state, auth.user_id, &id, request).await? {
            Stored::New(message) => (StatusCode::CREATED, AppJson(message)),
            Stored::Repeated(message) => (StatusCode::OK, AppJson(message)),
        },
    )
}

/// # `GET /conversations/{conversation_id}/messages`
/// History, newest first (`before` pages back); with `after`, the messages after one, oldest
/// first (to catch up); with `around`, the page centred on one message (to jump to a search
/// result). Deleted messages keep their place with empty text.
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
    Ok(AppJson(
        messaging::history(&state, auth.user_id, &id, query).await?,
    ))
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
    Ok(AppJson(
        messaging::edit(&state, auth.user_id, &id, &message, request).await?,
    ))
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
    messaging::delete(&state, auth.user_id, &id, &message).await?;
    Ok(StatusCode::NO_CONTENT)
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
    messaging::read_up_to(&state, auth.user_id, &id, &request.message_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// # `GET /conversations/{conversation_id}/changes`
/// The messages changed after a version (`since`; sends, edits, deletions, reactions, pins and
/// previews all change a message), oldest change first, each in its current state. A client
/// that was away passes the `version` it last saw and applies the page; `has_more` asks for
/// another with `since` set to the page's `version`.
#[utoipa::path(get, path = "/conversations/{conversation_id}/changes", tag = "messages", params(
    ("conversation_id" = String, Path), ChangesQuery), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = ChangesPage),
    (status = 404, body = chat_models::error::ErrorBody, description = "`conversation_not_found`")))]
pub async fn changes(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<String>,
    AppQuery(query): AppQuery<ChangesQuery>,
) -> Result<AppJson<ChangesPage>> {
    Ok(AppJson(
        catch_up::feed(&state, auth.user_id, &id, query).await?,
    ))
}
