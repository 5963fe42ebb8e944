//! How two users stand: for the caller, and for other services.

use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use chat_models::api::friend::{
    FriendsCheckRequest, FriendsCheckResponse, PairQuery, PairStatus, Relationship,
};
use chat_models::auth::{AuthUser, ServiceCaller};
use chat_models::http::{AppJson, AppPath, AppQuery};
use chat_models::{ApiError, ErrorCode, FieldError, Result};
use uuid::Uuid;

use crate::db::relationships::fetch_facts;
use crate::db::{blocks, friendships, parse_uuid};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/relationships/{user_uuid}", get(get_relationship))
        .route("/internal/relationships", get(pair_status))
        .route("/internal/friends/check", post(check_friends))
        .route("/internal/friends/{user_uuid}", get(all_friends))
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

/// Most users one `/internal/friends/check` call may ask about.
const MAX_CHECK: usize = 500;

/// # `POST /internal/friends/check`
/// For message-service: which of several users are friends of one user (group creation and
/// invitations ask about all members at once).
#[utoipa::path(post, path = "/internal/friends/check", tag = "internal", request_body = FriendsCheckRequest,
    params(("x-service-token" = String, Header, description = "The shared SERVICE_TOKEN")), responses(
    (status = 200, body = FriendsCheckResponse),
    (status = 401, body = chat_models::error::ErrorBody, description = "`invalid_service_token`"),
    (status = 422, body = chat_models::error::ErrorBody, description = "more than 500 users")))]
pub async fn check_friends(
    State(state): State<AppState>,
    _caller: ServiceCaller,
    AppJson(request): AppJson<FriendsCheckRequest>,
) -> Result<AppJson<FriendsCheckResponse>> {
    if request.others.len() > MAX_CHECK {
        return Err(ApiError::Validation(vec![FieldError::new(
            "others",
            "too_many",
            format!("Ask about at most {MAX_CHECK} users at once."),
        )]));
    }
    let friends = friendships::friends_among(&state.db, request.user_uuid, &request.others)
        .await?
        .iter()
        .map(|uuid| parse_uuid(uuid))
        .collect::<Result<Vec<_>>>()?;
    Ok(AppJson(FriendsCheckResponse { friends }))
}

/// Most friends `/internal/friends/{user_uuid}` returns (presence fan-out beyond this is cut).
const MAX_LISTED_FRIENDS: u32 = 5000;

/// # `GET /internal/friends/{user_uuid}`
/// For message-service: a user's friends (at most 5000), to tell them about presence.
#[utoipa::path(get, path = "/internal/friends/{user_uuid}", tag = "internal", params(("user_uuid" = Uuid, Path),
    ("x-service-token" = String, Header, description = "The shared SERVICE_TOKEN")), responses(
    (status = 200, body = FriendsCheckResponse),
    (status = 401, body = chat_models::error::ErrorBody, description = "`invalid_service_token`")))]
pub async fn all_friends(
    State(state): State<AppState>,
    _caller: ServiceCaller,
    AppPath(user): AppPath<Uuid>,
) -> Result<AppJson<FriendsCheckResponse>> {
    let friends = friendships::list_friends(&state.db, user, None, MAX_LISTED_FRIENDS)
        .await?
        .iter()
        .map(|row| parse_uuid(&row.friend_uuid))
        .collect::<Result<Vec<_>>>()?;
    Ok(AppJson(FriendsCheckResponse { friends }))
}
