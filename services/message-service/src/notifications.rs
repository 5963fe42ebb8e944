//! Use cases of notifications: registering a browser for web push (tied to the session that
//! registers it), and the settings that decide what is pushed (hide content, do not disturb,
//! muted conversations). Delivery itself is [`crate::push`].

use chat_models::api::push::{
    NewSubscription, NotificationSettings, NotificationSettingsPatch, SubscriptionList,
    SubscriptionView, VapidKey, MAX_ENDPOINT_BYTES,
};
use chat_models::auth::AuthUser;
use chat_models::error::{ApiError, ErrorCode};
use chat_models::Result;
use reqwest::Url;
use uuid::Uuid;

use crate::db::conversations as conversation_store;
use crate::db::push::{self as store, SubscriptionDoc};
use crate::domain;
use crate::push::encrypt::{BadKey, BrowserKeys};
use crate::push::Push;
use crate::state::AppState;

fn push(state: &AppState) -> Result<&Push> {
    state
        .push
        .as_ref()
        .ok_or(ApiError::NotFound(ErrorCode::PushDisabled))
}

/// The key browsers subscribe with; `404 push_disabled` without one.
pub fn vapid_key(state: &AppState) -> Result<VapidKey> {
    Ok(VapidKey {
        public_key: push(state)?.public_key().to_owned(),
    })
}

/// Registers the caller's browser: the endpoint must be a push service this server may call
/// (`https`, a public host) and the keys usable for encryption.
pub async fn subscribe(
    state: &AppState,
    auth: &AuthUser,
    request: NewSubscription,
) -> Result<SubscriptionView> {
    let push = push(state)?;
    let endpoint = Url::parse(&request.endpoint)
        .ok()
        .filter(|url| request.endpoint.len() <= MAX_ENDPOINT_BYTES && push.may_call(url))
        .ok_or_else(|| {
            ApiError::field(
                "endpoint",
                "not_a_push_service",
                "Use the endpoint of a push service: an https URL of a public host.",
            )
        })?;
    BrowserKeys::parse(&request.keys.p256dh, &request.keys.auth).map_err(|error| match error {
        BadKey::PublicKey => ApiError::field(
            "keys.p256dh",
            "invalid_key",
            "Use the subscription's P-256 public key, uncompressed, in base64url.",
        ),
        BadKey::AuthSecret => ApiError::field(
            "keys.auth",
            "invalid_key",
            "Use the subscription's 16-byte auth secret, in base64url.",
        ),
    })?;
    let stored = store::subscribe(
        &state.store,
        auth.user_id,
        auth.session_id,
        endpoint.as_str(),
        &request.keys.p256dh,
        &request.keys.auth,
    )
    .await?;
    // Every instance forgets having found none for this user.
    push.subscribed(auth.user_id);
    crate::notices::send(
        &state.redis,
        &state.gateway.settings.prefix,
        crate::notices::Notice::PushSubscribed(auth.user_id),
    )
    .await;
    Ok(view(&stored, auth.session_id))
}

/// The caller's subscriptions.
pub async fn subscriptions(state: &AppState, auth: &AuthUser) -> Result<SubscriptionList> {
    let subscriptions = store::of_user(&state.store, auth.user_id).await?;
    Ok(SubscriptionList {
        subscriptions: subscriptions
            .iter()
            .map(|subscription| view(subscription, auth.session_id))
            .collect(),
    })
}

/// Removes the caller's subscription with this endpoint (`404 subscription_not_found` if
/// there is none).
pub async fn unsubscribe(state: &AppState, me: Uuid, endpoint: &str) -> Result<()> {
    // Stored as parsed, so the same URL spelled differently is found too.
    let endpoint = Url::parse(endpoint)
        .map(String::from)
        .unwrap_or_else(|_| endpoint.to_owned());
    if store::unsubscribe(&state.store, me, &endpoint).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound(ErrorCode::SubscriptionNotFound))
    }
}

fn view(subscription: &SubscriptionDoc, session: Uuid) -> SubscriptionView {
    SubscriptionView {
        id: subscription.id.to_hex(),
        push_service: Url::parse(&subscription.endpoint)
            .map(|url| url.origin().ascii_serialization())
            .unwrap_or_default(),
        this_session: subscription.session_id == session,
        created_at: subscription.created_at.to_chrono(),
    }
}

/// The caller's notification settings.
pub async fn settings(state: &AppState, me: Uuid) -> Result<NotificationSettings> {
    Ok(store::settings(&state.store, me).await?.view())
}

/// Changes the caller's settings.
pub async fn update_settings(
    state: &AppState,
    me: Uuid,
    patch: NotificationSettingsPatch,
) -> Result<NotificationSettings> {
    Ok(store::update_settings(&state.store, me, &patch)
        .await?
        .view())
}

/// Mutes (or unmutes) one of the caller's conversations (404 for anyone else's).
pub async fn set_muted(
    state: &AppState,
    me: Uuid,
    conversation: &str,
    muted: bool,
) -> Result<NotificationSettings> {
    let id = domain::conversation_id(conversation)?;
    conversation_store::find_for_member(&state.store, id, me).await?;
    Ok(store::set_muted(&state.store, me, id, muted).await?.view())
}
