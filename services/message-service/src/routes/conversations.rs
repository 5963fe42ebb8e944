//! Conversations: list, open a direct one, get, delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use chat_models::api::message::{
    ConversationPage, ConversationPageQuery, ConversationView, OpenDirect,
};
use chat_models::auth::AuthUser;
use chat_models::http::{AppJson, AppPath, AppQuery};
use chat_models::Result;

use crate::conversations::{self, Opening};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/conversations", get(list_conversations))
        .route("/conversations/direct", post(open_direct))
        .route(
            "/conversations/{conversation_id}",
            get(get_conversation).delete(delete_conversation),
        )
}

/// # `GET /conversations`
/// The caller's conversations, most recently active first, with the last message, unread
/// count and members' profiles. A user with none gets an empty list.
#[utoipa::path(get, path = "/conversations", tag = "conversations", params(ConversationPageQuery),
    security(("bearer" = []), ("cookie" = [])), responses((status = 200, body = ConversationPage)))]
pub async fn list_conversations(
    State(state): State<AppState>,
    auth: AuthUser,
    AppQuery(query): AppQuery<ConversationPageQuery>,
) -> Result<AppJson<ConversationPage>> {
    let page = conversations::page(&state, auth.user_id, query.limit, query.cursor.as_deref());
    Ok(AppJson(page.await?))
}

/// # `POST /conversations/direct`
/// The direct conversation with a friend: created the first time (201), the same one after
/// that (200), whoever opens it and however many times at once.
#[utoipa::path(post, path = "/conversations/direct", tag = "conversations", request_body = OpenDirect,
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 201, body = ConversationView, description = "Created"),
    (status = 200, body = ConversationView, description = "It already existed"),
    (status = 400, body = chat_models::error::ErrorBody, description = "`cannot_target_self`"),
    (status = 403, body = chat_models::error::ErrorBody, description = "`not_friends`")))]
pub async fn open_direct(
    State(state): State<AppState>,
    auth: AuthUser,
    AppJson(request): AppJson<OpenDirect>,
) -> Result<(StatusCode, AppJson<ConversationView>)> {
    let (opening, view) =
        conversations::open_direct(&state, auth.user_id, request.user_uuid).await?;
    let status = match opening {
        Opening::Created => StatusCode::CREATED,
        Opening::Found => StatusCode::OK,
    };
    Ok((status, AppJson(view)))
}

/// # `GET /conversations/{conversation_id}`
/// One conversation of the caller's (404 for anyone else).
#[utoipa::path(get, path = "/conversations/{conversation_id}", tag = "conversations",
    params(("conversation_id" = String, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = ConversationView),
    (status = 404, body = chat_models::error::ErrorBody, description = "`conversation_not_found`")))]
pub async fn get_conversation(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<String>,
) -> Result<AppJson<ConversationView>> {
    Ok(AppJson(
        conversations::get(&state, auth.user_id, &id).await?,
    ))
}

/// # `DELETE /conversations/{conversation_id}`
/// A direct conversation: hidden from the caller's list (history kept; the other member keeps
/// it; the next message brings it back). A group: deleted with its messages, admin only.
#[utoipa::path(delete, path = "/conversations/{conversation_id}", tag = "conversations",
    params(("conversation_id" = String, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 204),
    (status = 403, body = chat_models::error::ErrorBody, description = "`not_group_admin`"),
    (status = 404, body = chat_models::error::ErrorBody, description = "`conversation_not_found`")))]
pub async fn delete_conversation(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<String>,
) -> Result<StatusCode> {
    conversations::delete(&state, auth.user_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
