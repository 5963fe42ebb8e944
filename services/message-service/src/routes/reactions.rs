//! Reactions and pins on messages.

use axum::extract::State;
use axum::routing::{get, put};
use axum::Router;
use chat_models::api::message::{MessageView, PinsPage};
use chat_models::auth::AuthUser;
use chat_models::http::{AppJson, AppPath};
use chat_models::Result;

use crate::state::AppState;
use crate::{pins, reactions};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/conversations/{conversation_id}/messages/{message_id}/reactions/{emoji}",
            put(add_reaction).delete(remove_reaction),
        )
        .route(
            "/conversations/{conversation_id}/messages/{message_id}/pin",
            put(pin_message).delete(unpin_message),
        )
        .route("/conversations/{conversation_id}/pins", get(list_pins))
}

/// # `PUT /conversations/{conversation_id}/messages/{message_id}/reactions/{emoji}`
/// Reacts to a message with one emoji (members; at most 20 different emoji per message).
/// Idempotent: reacting again changes nothing.
#[utoipa::path(put, path = "/conversations/{conversation_id}/messages/{message_id}/reactions/{emoji}",
    tag = "messages", params(("conversation_id" = String, Path), ("message_id" = String, Path),
    ("emoji" = String, Path, description = "One emoji, percent-encoded")),
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = MessageView),
    (status = 404, body = chat_models::error::ErrorBody, description = "`conversation_not_found`, `message_not_found`"),
    (status = 409, body = chat_models::error::ErrorBody, description = "`too_many_reactions`, `message_deleted`"),
    (status = 422, body = chat_models::error::ErrorBody, description = "`validation_failed`: not one emoji")))]
pub async fn add_reaction(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath((id, message, emoji)): AppPath<(String, String, String)>,
) -> Result<AppJson<MessageView>> {
    let view = reactions::react(&state, auth.user_id, &id, &message, &emoji, true).await?;
    Ok(AppJson(view))
}

/// # `DELETE /conversations/{conversation_id}/messages/{message_id}/reactions/{emoji}`
/// Takes the caller's reaction back (idempotent).
#[utoipa::path(delete, path = "/conversations/{conversation_id}/messages/{message_id}/reactions/{emoji}",
    tag = "messages", params(("conversation_id" = String, Path), ("message_id" = String, Path),
    ("emoji" = String, Path, description = "One emoji, percent-encoded")),
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = MessageView),
    (status = 404, body = chat_models::error::ErrorBody, description = "`conversation_not_found`, `message_not_found`"),
    (status = 422, body = chat_models::error::ErrorBody, description = "`validation_failed`: not an emoji")))]
pub async fn remove_reaction(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath((id, message, emoji)): AppPath<(String, String, String)>,
) -> Result<AppJson<MessageView>> {
    let view = reactions::react(&state, auth.user_id, &id, &message, &emoji, false).await?;
    Ok(AppJson(view))
}

/// # `PUT /conversations/{conversation_id}/messages/{message_id}/pin`
/// Pins a message (in a group, the admin only; at most 50 per conversation). Idempotent.
#[utoipa::path(put, path = "/conversations/{conversation_id}/messages/{message_id}/pin", tag = "messages",
    params(("conversation_id" = String, Path), ("message_id" = String, Path)),
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = MessageView),
    (status = 403, body = chat_models::error::ErrorBody, description = "`not_group_admin`"),
    (status = 404, body = chat_models::error::ErrorBody, description = "`conversation_not_found`, `message_not_found`"),
    (status = 409, body = chat_models::error::ErrorBody, description = "`too_many_pins`, `message_deleted`")))]
pub async fn pin_message(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath((id, message)): AppPath<(String, String)>,
) -> Result<AppJson<MessageView>> {
    Ok(AppJson(
        pins::pin(&state, auth.user_id, &id, &message, true).await?,
    ))
}

/// # `DELETE /conversations/{conversation_id}/messages/{message_id}/pin`
/// Unpins a message (in a group, the admin only). Idempotent.
#[utoipa::path(delete, path = "/conversations/{conversation_id}/messages/{message_id}/pin", tag = "messages",
    params(("conversation_id" = String, Path), ("message_id" = String, Path)),
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = MessageView),
    (status = 403, body = chat_models::error::ErrorBody, description = "`not_group_admin`"),
    (status = 404, body = chat_models::error::ErrorBody, description = "`conversation_not_found`, `message_not_found`")))]
pub async fn unpin_message(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath((id, message)): AppPath<(String, String)>,
) -> Result<AppJson<MessageView>> {
    Ok(AppJson(
        pins::pin(&state, auth.user_id, &id, &message, false).await?,
    ))
}

/// # `GET /conversations/{conversation_id}/pins`
/// The pinned messages, most recently pinned first.
#[utoipa::path(get, path = "/conversations/{conversation_id}/pins", tag = "messages",
    params(("conversation_id" = String, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = PinsPage),
    (status = 404, body = chat_models::error::ErrorBody, description = "`conversation_not_found`")))]
pub async fn list_pins(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<String>,
) -> Result<AppJson<PinsPage>> {
    Ok(AppJson(pins::list(&state, auth.user_id, &id).await?))
}
