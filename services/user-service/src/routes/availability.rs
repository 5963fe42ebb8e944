//! Availability checks for the sign-up form: is an email, a username still free?

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use chat_models::api::user::{Availability, EmailQuery, UsernameQuery};
use chat_models::http::{AppJson, AppQuery};
use chat_models::{ApiError, Result};

use super::{limit_lookups, ClientIp};
use crate::db::users;
use crate::domain::{Email, Username};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/check-email", get(check_email))
        .route("/auth/check-username", get(check_username))
}

/// # `GET /auth/check-email`
/// Whether an address can be used for a new account.
#[utoipa::path(get, path = "/auth/check-email", tag = "auth", params(EmailQuery), responses(
    (status = 429, body = chat_models::error::ErrorBody, description = "`rate_limited`", headers(("Retry-After" = u64, description = "Seconds until a retry can succeed"))),
    (status = 200, body = Availability), (status = 422, body = chat_models::error::ErrorBody)))]
pub async fn check_email(
    State(state): State<AppState>,
    client: ClientIp,
    AppQuery(query): AppQuery<EmailQuery>,
) -> Result<AppJson<Availability>> {
    limit_lookups(&state, &client).await?;
    let email = Email::parse(&query.email).map_err(|error| ApiError::Validation(vec![error]))?;
    let taken = users::email_exists(&state.db, email.as_str()).await?;
    Ok(AppJson(Availability { available: !taken }))
}

/// # `GET /auth/check-username`
/// Whether a username can be used for a new account (case-insensitive).
#[utoipa::path(get, path = "/auth/check-username", tag = "auth", params(UsernameQuery), responses(
    (status = 429, body = chat_models::error::ErrorBody, description = "`rate_limited`", headers(("Retry-After" = u64, description = "Seconds until a retry can succeed"))),
    (status = 200, body = Availability), (status = 422, body = chat_models::error::ErrorBody)))]
pub async fn check_username(
    State(state): State<AppState>,
    client: ClientIp,
    AppQuery(query): AppQuery<UsernameQuery>,
) -> Result<AppJson<Availability>> {
    limit_lookups(&state, &client).await?;
    let username =
        Username::parse(&query.username).map_err(|error| ApiError::Validation(vec![error]))?;
    let taken = users::username_exists(&state.db, username.as_str()).await?;
    Ok(AppJson(Availability { available: !taken }))
}
