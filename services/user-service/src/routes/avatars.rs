//! Profile pictures: upload or remove mine; show anyone's to signed-in users. Uploads are the
//! raw bytes as the body (any Content-Type: the bytes decide what it is).

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, put};
use axum::Router;
use chat_files::intake::declared_length;
use chat_files::serve::Part;
use chat_models::api::user::CurrentUser;
use chat_models::auth::AuthUser;
use chat_models::http::{AppJson, AppPath};
use chat_models::{ApiError, ErrorCode, Result};

use crate::avatars;
use crate::db::users;
use crate::state::AppState;

/// The routes whose bodies are files (they get `UPLOAD_TIMEOUT_SECS`).
pub const UPLOAD_ROUTES: [&str; 1] = ["/users/me/avatar"];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/me/avatar", put(upload_avatar).delete(remove_avatar))
        .route("/avatars/{avatar_id}", get(avatar))
        .route("/avatars/{avatar_id}/thumbnail", get(avatar_thumbnail))
}

async fn me(state: &AppState, auth: &AuthUser) -> Result<CurrentUser> {
    users::fetch_user(&state.db, auth.user_id)
        .await?
        .ok_or(ApiError::NotFound(ErrorCode::UserNotFound))?
        .into_current()
}

/// # `PUT /users/me/avatar`
/// Makes the uploaded image (the body: JPEG, PNG, GIF or WebP, at most `AVATAR_MAX_BYTES`) my
/// profile picture: checked, turned upright, stripped of its metadata and scaled to fit
/// 1024×1024. `profile_picture` becomes its URL; the picture it replaces is removed.
#[utoipa::path(put, path = "/users/me/avatar", tag = "me",
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = CurrentUser),
    (status = 400, body = chat_models::error::ErrorBody, description = "`invalid_image`, `image_too_large`, `upload_incomplete`"),
    (status = 413, body = chat_models::error::ErrorBody, description = "`file_too_large`"),
    (status = 415, body = chat_models::error::ErrorBody, description = "`unsupported_file_type`: not an image"),
    (status = 422, body = chat_models::error::ErrorBody, description = "`validation_failed`: an empty file")))]
pub async fn upload_avatar(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    body: Body,
) -> Result<AppJson<CurrentUser>> {
    avatars::upload(&state, auth.user_id, body, declared_length(&headers)).await?;
    Ok(AppJson(me(&state, &auth).await?))
}

/// # `DELETE /users/me/avatar`
/// Removes my profile picture (an uploaded one, or a URL).
#[utoipa::path(delete, path = "/users/me/avatar", tag = "me",
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = CurrentUser)))]
pub async fn remove_avatar(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<AppJson<CurrentUser>> {
    avatars::remove(&state, auth.user_id).await?;
    Ok(AppJson(me(&state, &auth).await?))
}

/// # `GET /avatars/{avatar_id}`
/// An uploaded profile picture, for any signed-in user (cached for good: a new picture gets a
/// new URL).
#[utoipa::path(get, path = "/avatars/{avatar_id}", tag = "users",
    params(("avatar_id" = String, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, description = "The picture", content_type = "image/*", body = Vec<u8>),
    (status = 404, body = chat_models::error::ErrorBody, description = "`file_not_found`")))]
pub async fn avatar(
    State(state): State<AppState>,
    _auth: AuthUser,
    AppPath(id): AppPath<String>,
    headers: HeaderMap,
) -> Result<Response> {
    avatars::download(&state, &id, Part::Original, &headers).await
}

/// # `GET /avatars/{avatar_id}/thumbnail`
/// The picture at most 320×320, for lists.
#[utoipa::path(get, path = "/avatars/{avatar_id}/thumbnail", tag = "users",
    params(("avatar_id" = String, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, description = "The thumbnail", content_type = "image/*", body = Vec<u8>),
    (status = 404, body = chat_models::error::ErrorBody, description = "`file_not_found`")))]
pub async fn avatar_thumbnail(
    State(state): State<AppState>,
    _auth: AuthUser,
    AppPath(id): AppPath<String>,
    headers: HeaderMap,
) -> Result<Response> {
    avatars::download(&state, &id, Part::Thumbnail, &headers).await
}
