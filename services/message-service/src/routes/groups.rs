//! Groups: create, change details, add and remove members (or leave), hand admin over.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, patch, post, put};
use axum::Router;
use chat_models::api::message::{
    AddMembers, ConversationView, CreateGroup, TransferAdmin, UpdateGroup,
};
use chat_models::auth::AuthUser;
use chat_models::http::{AppJson, AppPath};
use chat_models::Result;
use uuid::Uuid;

use crate::groups;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/conversations/groups", post(create_group))
        .route("/conversations/{conversation_id}", patch(update_group))
        .route(
            "/conversations/{conversation_id}/members",
            post(add_members),
        )
        .route(
            "/conversations/{conversation_id}/members/{user_uuid}",
            delete(remove_member),
        )
        .route(
            "/conversations/{conversation_id}/admin",
            put(transfer_admin),
        )
}

/// # `POST /conversations/groups`
/// A group with the caller as admin and some of their friends as members.
#[utoipa::path(post, path = "/conversations/groups", tag = "conversations", request_body = CreateGroup,
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 201, body = ConversationView),
    (status = 403, body = chat_models::error::ErrorBody, description = "`not_friends`: a member is not your friend"),
    (status = 422, body = chat_models::error::ErrorBody, description = "`validation_failed`")))]
pub async fn create_group(
    State(state): State<AppState>,
    auth: AuthUser,
    AppJson(request): AppJson<CreateGroup>,
) -> Result<(StatusCode, AppJson<ConversationView>)> {
    let group = groups::create(&state, auth.user_id, request).await?;
    Ok((StatusCode::CREATED, AppJson(group)))
}

/// # `PATCH /conversations/{conversation_id}`
/// Renames a group or changes its description or picture (admin only; `null` clears the
/// description or picture).
#[utoipa::path(patch, path = "/conversations/{conversation_id}", tag = "groups", request_body = UpdateGroup,
    params(("conversation_id" = String, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = ConversationView),
    (status = 400, body = chat_models::error::ErrorBody, description = "`not_a_group`"),
    (status = 403, body = chat_models::error::ErrorBody, description = "`not_group_admin`")))]
pub async fn update_group(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<String>,
    AppJson(request): AppJson<UpdateGroup>,
) -> Result<AppJson<ConversationView>> {
    Ok(AppJson(
        groups::update(&state, auth.user_id, &id, request).await?,
    ))
}

/// # `POST /conversations/{conversation_id}/members`
/// Adds friends of the admin to a group (admin only), within the member cap.
#[utoipa::path(post, path = "/conversations/{conversation_id}/members", tag = "groups", request_body = AddMembers,
    params(("conversation_id" = String, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = ConversationView),
    (status = 403, body = chat_models::error::ErrorBody, description = "`not_group_admin`, `not_friends`"),
    (status = 409, body = chat_models::error::ErrorBody, description = "`group_full`")))]
pub async fn add_members(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<String>,
    AppJson(request): AppJson<AddMembers>,
) -> Result<AppJson<ConversationView>> {
    Ok(AppJson(
        groups::add_members(&state, auth.user_id, &id, request).await?,
    ))
}

/// # `DELETE /conversations/{conversation_id}/members/{user_uuid}`
/// Your own uuid: leave the group (a leaving admin hands admin to the longest-standing member;
/// the last member leaving deletes the group). Another member's: remove them (admin only).
#[utoipa::path(delete, path = "/conversations/{conversation_id}/members/{user_uuid}", tag = "groups",
    params(("conversation_id" = String, Path), ("user_uuid" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 204),
    (status = 400, body = chat_models::error::ErrorBody, description = "`not_a_group`"),
    (status = 403, body = chat_models::error::ErrorBody, description = "`not_group_admin`"),
    (status = 404, body = chat_models::error::ErrorBody, description = "`conversation_not_found`, `member_not_found`")))]
pub async fn remove_member(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath((id, user)): AppPath<(String, Uuid)>,
) -> Result<StatusCode> {
    groups::remove_member(&state, auth.user_id, &id, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// # `PUT /conversations/{conversation_id}/admin`
/// Makes another member the group's admin (admin only).
#[utoipa::path(put, path = "/conversations/{conversation_id}/admin", tag = "groups", request_body = TransferAdmin,
    params(("conversation_id" = String, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = ConversationView),
    (status = 403, body = chat_models::error::ErrorBody, description = "`not_group_admin`"),
    (status = 404, body = chat_models::error::ErrorBody, description = "`member_not_found`")))]
pub async fn transfer_admin(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<String>,
    AppJson(request): AppJson<TransferAdmin>,
) -> Result<AppJson<ConversationView>> {
    Ok(AppJson(
        groups::transfer_admin(&state, auth.user_id, &id, request).await?,
    ))
}
