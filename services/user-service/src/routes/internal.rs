//! Routes for the other services, guarded by the shared service token.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::post;
use axum::Router;
use chat_models::api::user::{BatchUsersRequest, BatchUsersResponse};
use chat_models::http::AppJson;
use chat_models::{ApiError, ErrorCode, FieldError, Result};
use secrecy::ExposeSecret as _;
use subtle::ConstantTimeEq as _;

use crate::db::users;
use crate::state::AppState;

/// Header carrying the service token.
pub const SERVICE_TOKEN_HEADER: &str = "x-service-token";
/// Most users one batch may ask for.
pub const MAX_BATCH: usize = 500;

pub fn router() -> Router<AppState> {
    Router::new().route("/internal/users/batch", post(batch_users))
}

/// Proof that the caller holds the service token (compared in constant time).
pub struct ServiceCaller;

impl FromRequestParts<AppState> for ServiceCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let presented = parts
            .headers
            .get(SERVICE_TOKEN_HEADER)
            .map(|value| value.as_bytes())
            .unwrap_or_default();
        let expected = state.settings.service_token.expose_secret().as_bytes();
        if presented.ct_eq(expected).into() {
            Ok(Self)
        } else {
            Err(ApiError::Unauthorized(ErrorCode::InvalidServiceToken))
        }
    }
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
