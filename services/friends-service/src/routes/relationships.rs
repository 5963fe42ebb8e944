//! How two users stand: for the caller, and for other services.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use chat_models::api::friend::{PairQuery, PairStatus, Relationship};
use chat_models::auth::{AuthUser, ServiceCaller};
use chat_models::http::{AppJson, AppPath, AppQuery};
use chat_models::{ApiError, ErrorCode, Result};
use uuid::Uuid;

use crate::db::relationships::fetch_facts;
use crate::db::{blocks, friendships};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/relationships/{user_uuid}", get(get_relationship))
        .route("/internal/relationships", get(pair_status))
}

/// # `GET /relationships/{user_uuid}`
/// How another user stands with the caller: `none`, `outgoing`, `incoming` (with the request
/// id), `friends`, `blocked` or `blocked_by`.
#[utoipa::path(get, path = "/relationships/{user_uuid}", tag = "relationships", params(("user_uuid" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])), responses((status = 200, body = Relationship)))]
pub async fn get_relationship(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(other): AppPath<Uuid>,
) -> Result<AppJson<Relationship>> {
    if other == auth.user_id {
        return Err(ApiError::BadRequest(
            ErrorCode::CannotTargetSelf,
            "That is you.".to_owned(),
        ));
    }
    let mut conn = state.db.acquire().await?;
    Ok(AppJson(
        fetch_facts(&mut conn, auth.user_id, other)
            .await?
            .relationship(),
    ))
}

/// # `GET /internal/relationships?a=&b=`
/// For message-service: are two users friends, and has either blocked the other.
#[utoipa::path(get, path = "/internal/relationships", tag = "internal", params(PairQuery,
    ("x-service-token" = String, Header, description = "The shared SERVICE_TOKEN")), responses(
    (status = 200, body = PairStatus),
    (status = 401, body = chat_models::error::ErrorBody, description = "`invalid_service_token`")))]
pub async fn pair_status(
    State(state): State<AppState>,
    _caller: ServiceCaller,
    AppQuery(pair): AppQuery<PairQuery>,
) -> Result<AppJson<PairStatus>> {
    let (friends, blocked) = tokio::try_join!(
        friendships::are_friends(&state.db, pair.a, pair.b),
        blocks::either_blocked(&state.db, pair.a, pair.b),
    )?;
    Ok(AppJson(PairStatus { friends, blocked }))
}
