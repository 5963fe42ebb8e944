//! Files: upload, download and remove attachments; set, clear and show group pictures.
//! Uploads are the raw bytes as the body (any Content-Type: the bytes decide what it is).

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post, put};
use axum::Router;
use chat_files::intake::declared_length;
use chat_files::serve::Part;
use chat_models::api::message::{AttachmentView, ConversationView, UploadQuery};
use chat_models::auth::AuthUser;
use chat_models::http::{AppJson, AppPath, AppQuery};
use chat_models::Result;

use crate::files;
use crate::state::AppState;

/// The routes whose bodies are files (they get `UPLOAD_TIMEOUT_SECS`).
pub const UPLOAD_ROUTES: [&str; 2] = ["/attachments", "/conversations/{conversation_id}/picture"];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/attachments", post(upload_attachment))
        .route(
            "/attachments/{attachment_id}",
            get(download_attachment).delete(remove_upload),
        )
        .route(
            "/attachments/{attachment_id}/thumbnail",
            get(attachment_thumbnail),
        )
        .route(
            "/conversations/{conversation_id}/picture",
            put(set_group_picture).delete(clear_group_picture),
        )
        .route("/group-pictures/{picture_id}", get(group_picture))
        .route(
            "/group-pictures/{picture_id}/thumbnail",
            get(group_picture_thumbnail),
        )
}

/// # `POST /attachments`
/// Uploads a file (the body, as it is) to attach to a message the caller sends next; one not
/// attached within `UPLOAD_UNATTACHED_TTL_SECS` is removed. Its type is judged from its
/// bytes. Images (JPEG, PNG, GIF, WebP) are checked, turned upright and stored without their
/// metadata (EXIF, GPS), with a thumbnail.
#[utoipa::path(post, path = "/attachments", tag = "files", params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 201, body = AttachmentView),
    (status = 400, body = chat_models::error::ErrorBody, description = "`invalid_image`, `image_too_large`, `upload_incomplete`"),
    (status = 413, body = chat_models::error::ErrorBody, description = "`file_too_large` (over `ATTACHMENT_MAX_BYTES`), `quota_exceeded`"),
    (status = 422, body = chat_models::error::ErrorBody, description = "`validation_failed`: an empty file")))]
pub async fn upload_attachment(
    State(state): State<AppState>,
    auth: AuthUser,
    AppQuery(query): AppQuery<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, AppJson<AttachmentView>)> {
    let view = files::upload_attachment(
        &state,
        auth.user_id,
        query.name.as_deref(),
        body,
        declared_length(&headers),
    )
    .await?;
    Ok((StatusCode::CREATED, AppJson(view)))
}

/// # `GET /attachments/{attachment_id}`
/// Downloads an attachment: members of its conversation (its uploader, before it is sent).
/// One `Range` is honoured (206). Raster images are shown inline, everything else is a
/// download (`Content-Disposition: attachment`); always `nosniff` and a sandboxing CSP.
#[utoipa::path(get, path = "/attachments/{attachment_id}", tag = "files",
    params(("attachment_id" = String, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, description = "The file, as the type its bytes show", content_type = "*/*", body = Vec<u8>),
    (status = 206, description = "The requested range"),
    (status = 304, description = "Not modified (`If-None-Match`)"),
    (status = 404, body = chat_models::error::ErrorBody, description = "`file_not_found` (also for non-members)"),
    (status = 416, description = "The range is past the end")))]
pub async fn download_attachment(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<String>,
    headers: HeaderMap,
) -> Result<Response> {
    files::download_attachment(&state, auth.user_id, &id, Part::Original, &headers).await
}

/// # `GET /attachments/{attachment_id}/thumbnail`
/// An image attachment's thumbnail (at most 320×320), for the same readers.
#[utoipa::path(get, path = "/attachments/{attachment_id}/thumbnail", tag = "files",
    params(("attachment_id" = String, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, description = "The thumbnail (JPEG, or PNG where there is transparency)", content_type = "image/*", body = Vec<u8>),
    (status = 404, body = chat_models::error::ErrorBody, description = "`file_not_found`")))]
pub async fn attachment_thumbnail(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<String>,
    headers: HeaderMap,
) -> Result<Response> {
    files::download_attachment(&state, auth.user_id, &id, Part::Thumbnail, &headers).await
}

/// # `DELETE /attachments/{attachment_id}`
/// Removes one of the caller's uploads that no message carries yet (a file taken out of the
/// composer). Sent attachments go with their message.
#[utoipa::path(delete, path = "/attachments/{attachment_id}", tag = "files",
    params(("attachment_id" = String, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 204, description = "Removed"),
    (status = 404, body = chat_models::error::ErrorBody, description = "`file_not_found`")))]
pub async fn remove_upload(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<String>,
) -> Result<StatusCode> {
    files::remove_upload(&state, auth.user_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// # `PUT /conversations/{conversation_id}/picture`
/// Makes the uploaded image (the body) the group's picture (admin only; at most
/// `GROUP_PICTURE_MAX_BYTES`; JPEG, PNG, GIF or WebP). Members are told with
/// `conversation.updated`.
#[utoipa::path(put, path = "/conversations/{conversation_id}/picture", tag = "groups",
    params(("conversation_id" = String, Path)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = ConversationView),
    (status = 400, body = chat_models::error::ErrorBody, description = "`not_a_group`, `invalid_image`, `image_too_large`"),
    (status = 403, body = chat_models::error::ErrorBody, description = "`not_group_admin`"),
    (status = 413, body = chat_models::error::ErrorBody, description = "`file_too_large`"),
    (status = 415, body = chat_models::error::ErrorBody, description = "`unsupported_file_type`: not an image")))]
pub async fn set_group_picture(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<AppJson<ConversationView>> {
    Ok(AppJson(
        files::set_group_picture(&state, auth.user_id, &id, body, declared_length(&headers))
            .await?,
    ))
}

/// # `DELETE /conversations/{conversation_id}/picture`
/// Removes the group's picture (admin only).
#[utoipa::path(delete, path = "/conversations/{conversation_id}/picture", tag = "groups",
    params(("conversation_id" = String, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = ConversationView),
    (status = 403, body = chat_models::error::ErrorBody, description = "`not_group_admin`")))]
pub async fn clear_group_picture(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<String>,
) -> Result<AppJson<ConversationView>> {
    Ok(AppJson(
        files::clear_group_picture(&state, auth.user_id, &id).await?,
    ))
}

/// # `GET /group-pictures/{picture_id}`
/// A group's uploaded picture, for any signed-in user.
#[utoipa::path(get, path = "/group-pictures/{picture_id}", tag = "groups",
    params(("picture_id" = String, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, description = "The picture", content_type = "image/*", body = Vec<u8>),
    (status = 404, body = chat_models::error::ErrorBody, description = "`file_not_found`")))]
pub async fn group_picture(
    State(state): State<AppState>,
    _auth: AuthUser,
    AppPath(id): AppPath<String>,
    headers: HeaderMap,
) -> Result<Response> {
    files::download_picture(&state, &id, Part::Original, &headers).await
}

/// # `GET /group-pictures/{picture_id}/thumbnail`
/// The picture at most 320×320.
#[utoipa::path(get, path = "/group-pictures/{picture_id}/thumbnail", tag = "groups",
    params(("picture_id" = String, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, description = "The thumbnail (JPEG, or PNG where there is transparency)", content_type = "image/*", body = Vec<u8>),
    (status = 404, body = chat_models::error::ErrorBody, description = "`file_not_found`")))]
pub async fn group_picture_thumbnail(
    State(state): State<AppState>,
    _auth: AuthUser,
    AppPath(id): AppPath<String>,
    headers: HeaderMap,
) -> Result<Response> {
    files::download_picture(&state, &id, Part::Thumbnail, &headers).await
}
