//! Web push subscriptions and notification settings.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::Router;
use chat_models::api::push::{
    NewSubscription, NotificationSettings, NotificationSettingsPatch, SubscriptionList,
    SubscriptionRef, SubscriptionView, VapidKey,
};
use chat_models::auth::AuthUser;
use chat_models::http::{AppJson, AppPath};
use chat_models::Result;

use crate::notifications;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/push/vapid-key", get(vapid_key))
        .route(
            "/push/subscriptions",
            get(list_subscriptions).post(subscribe).delete(unsubscribe),
        )
        .route(
            "/notifications/settings",
            get(get_settings).patch(update_settings),
        )
        .route(
            "/conversations/{conversation_id}/mute",
            put(mute).delete(unmute),
        )
}

/// # `GET /push/vapid-key`
/// The server's VAPID public key: the `applicationServerKey` to subscribe with.
#[utoipa::path(get, path = "/push/vapid-key", tag = "notifications",
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = VapidKey),
    (status = 404, body = chat_models::error::ErrorBody, description = "`push_disabled`: this server sends no pushes")))]
pub async fn vapid_key(
    State(state): State<AppState>,
    _auth: AuthUser,
) -> Result<AppJson<VapidKey>> {
    Ok(AppJson(notifications::vapid_key(&state)?))
}

/// # `GET /push/subscriptions`
/// The caller's registered browsers (newest first), without their endpoints.
#[utoipa::path(get, path = "/push/subscriptions", tag = "notifications",
    security(("bearer" = []), ("cookie" = [])), responses((status = 200, body = SubscriptionList)))]
pub async fn list_subscriptions(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<AppJson<SubscriptionList>> {
    Ok(AppJson(notifications::subscriptions(&state, &auth).await?))
}

/// # `POST /push/subscriptions`
/// Registers this browser's `PushSubscription` for the caller's session: members' new
/// messages are pushed to it while the caller has no socket open. Signing the session out
/// removes it. Registering an endpoint again replaces its keys (and owner).
#[utoipa::path(post, path = "/push/subscriptions", tag = "notifications", request_body = NewSubscription,
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 201, body = SubscriptionView),
    (status = 404, body = chat_models::error::ErrorBody, description = "`push_disabled`"),
    (status = 422, body = chat_models::error::ErrorBody, description = "`validation_failed`: `endpoint` (`not_a_push_service`), `keys.p256dh` or `keys.auth` (`invalid_key`)")))]
pub async fn subscribe(
    State(state): State<AppState>,
    auth: AuthUser,
    AppJson(request): AppJson<NewSubscription>,
) -> Result<(StatusCode, AppJson<SubscriptionView>)> {
    let view = notifications::subscribe(&state, &auth, request).await?;
    Ok((StatusCode::CREATED, AppJson(view)))
}

/// # `DELETE /push/subscriptions`
/// Removes one of the caller's subscriptions by its endpoint (in the body: an endpoint is a
/// capability, kept out of URLs and logs).
#[utoipa::path(delete, path = "/push/subscriptions", tag = "notifications", request_body = SubscriptionRef,
    security(("bearer" = []), ("cookie" = [])), responses(
    (status = 204),
    (status = 404, body = chat_models::error::ErrorBody, description = "`subscription_not_found`")))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    auth: AuthUser,
    AppJson(request): AppJson<SubscriptionRef>,
) -> Result<StatusCode> {
    notifications::unsubscribe(&state, auth.user_id, &request.endpoint).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// # `GET /notifications/settings`
/// What the caller is notified of.
#[utoipa::path(get, path = "/notifications/settings", tag = "notifications",
    security(("bearer" = []), ("cookie" = [])), responses((status = 200, body = NotificationSettings)))]
pub async fn get_settings(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<AppJson<NotificationSettings>> {
    Ok(AppJson(
        notifications::settings(&state, auth.user_id).await?,
    ))
}

/// # `PATCH /notifications/settings`
/// Changes the named settings (`hide_content`, `do_not_disturb`); the others stay.
#[utoipa::path(patch, path = "/notifications/settings", tag = "notifications",
    request_body = NotificationSettingsPatch, security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = NotificationSettings)))]
pub async fn update_settings(
    State(state): State<AppState>,
    auth: AuthUser,
    AppJson(patch): AppJson<NotificationSettingsPatch>,
) -> Result<AppJson<NotificationSettings>> {
    Ok(AppJson(
        notifications::update_settings(&state, auth.user_id, patch).await?,
    ))
}

/// # `PUT /conversations/{conversation_id}/mute`
/// No pushes for this conversation (it still counts as unread).
#[utoipa::path(put, path = "/conversations/{conversation_id}/mute", tag = "notifications",
    params(("conversation_id" = String, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = NotificationSettings),
    (status = 404, body = chat_models::error::ErrorBody, description = "`conversation_not_found`")))]
pub async fn mute(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<String>,
) -> Result<AppJson<NotificationSettings>> {
    Ok(AppJson(
        notifications::set_muted(&state, auth.user_id, &id, true).await?,
    ))
}

/// # `DELETE /conversations/{conversation_id}/mute`
/// Pushes for this conversation again.
#[utoipa::path(delete, path = "/conversations/{conversation_id}/mute", tag = "notifications",
    params(("conversation_id" = String, Path)), security(("bearer" = []), ("cookie" = [])), responses(
    (status = 200, body = NotificationSettings),
    (status = 404, body = chat_models::error::ErrorBody, description = "`conversation_not_found`")))]
pub async fn unmute(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<String>,
) -> Result<AppJson<NotificationSettings>> {
    Ok(AppJson(
        notifications::set_muted(&state, auth.user_id, &id, false).await?,
    ))
}
