//! Routes for the other services, guarded by the shared service token.

use axum::extract::State;
use axum::routing::post;
use axum::Router;
use chat_models::api::user::{BatchUsersRequest, BatchUsersResponse};
use chat_models::auth::ServiceCaller;
use chat_models::http::AppJson;
use chat_models::{ApiError, FieldError, Result};

use crate::db::users;
use crate::state::AppState;

/// Most users one batch may ask for.
pub const MAX_BATCH: usize = 500;

pub fn router() -> Router<AppState> {
    Router::new().route("/internal/users/batch", post(batch_users))
}

/// # `POST /internal/users/batch`
/// Public profiles of many users at once, by uuid and/or username; unknown ones are left out.
#[utoipa::path(post, path = "/internal/users/batch", tag = "internal", request_body = BatchUsersRequest,
    params(("x-service-token" = String, Header, description = "The shared SERVICE_TOKEN")),
    responses((status = 200, body = BatchUsersResponse),
        (status = 401, body = chat_models::error::ErrorBody, description = "`invalid_service_token`"),
        (status = 422, body = chat_models::error::ErrorBody)))]
pub async fn batch_users(
    State(state): State<AppState>,
    _caller: ServiceCaller,
    AppJson(request): AppJson<BatchUsersRequest>,
) -> Result<AppJson<BatchUsersResponse>> {
    if request.uuids.len() + request.usernames.len() > MAX_BATCH {
        return Err(ApiError::Validation(vec![FieldError::new(
            "body",
            "too_many",
            format!("Ask for at most {MAX_BATCH} users at once."),
        )]));
    }
    let rows = users::fetch_batch(&state.db, &request.uuids, &request.usernames).await?;
    let users = rows
        .into_iter()
        .map(users::UserRow::into_public)
        .collect::<Result<_>>()?;
    Ok(AppJson(BatchUsersResponse { users }))
}
