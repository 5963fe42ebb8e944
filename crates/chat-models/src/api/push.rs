//! Bodies of web push (`/push/...`) and notification settings (`/notifications/settings`,
//! `/conversations/{id}/mute`), and the payload a service worker receives.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Longest push endpoint accepted, in bytes.
pub const MAX_ENDPOINT_BYTES: usize = 2048;

/// `GET /push/vapid-key`: the server's public key, for `pushManager.subscribe`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VapidKey {
    /// The uncompressed P-256 public key (65 bytes), base64url without padding: the
    /// `applicationServerKey` of the subscription.
    pub public_key: String,
}

/// `POST /push/subscriptions`: a browser's `PushSubscription.toJSON()` (other fields, such as
/// `expirationTime`, are ignored).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewSubscription {
    /// The push service's URL for this browser (`https`).
    #[schema(max_length = 2048, pattern = r"^https://[^\s/?#@]+[/?#]?\S*$")]
    pub endpoint: String,
    /// The browser's keys.
    pub keys: SubscriptionKeys,
}

/// The keys a subscription's messages are encrypted for (RFC 8291).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SubscriptionKeys {
    /// The browser's P-256 public key, uncompressed (65 bytes), base64url.
    #[schema(pattern = "^[A-Za-z0-9_-]{87}=?$")]
    pub p256dh: String,
    /// The 16-byte authentication secret, base64url.
    #[schema(pattern = "^[A-Za-z0-9_-]{22}(==)?$")]
    pub auth: String,
}

/// `DELETE /push/subscriptions`: the subscription to remove, by its endpoint.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SubscriptionRef {
    /// The endpoint it was registered with.
    #[schema(min_length = 1, max_length = 2048)]
    pub endpoint: String,
}

/// A push subscription of the caller's (the endpoint itself is not shown back: it is a
/// capability of the browser's).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SubscriptionView {
    /// Id.
    pub id: String,
    /// The push service (the endpoint's origin), e.g. `https://fcm.googleapis.com`.
    pub push_service: String,
    /// Whether it belongs to the session asking.
    pub this_session: bool,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

/// `GET /push/subscriptions`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SubscriptionList {
    /// The caller's subscriptions, newest first.
    pub subscriptions: Vec<SubscriptionView>,
}

/// How a user wants to be notified.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NotificationSettings {
    /// Push notifications carry no message text ("New message" instead).
    pub hide_content: bool,
    /// No push notifications at all.
    pub do_not_disturb: bool,
    /// Conversations that send no push notifications.
    pub muted_conversations: Vec<String>,
}

/// `PATCH /notifications/settings`: the settings to change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct NotificationSettingsPatch {
    /// See [`NotificationSettings::hide_content`].
    pub hide_content: Option<bool>,
    /// See [`NotificationSettings::do_not_disturb`].
    pub do_not_disturb: Option<bool>,
}

/// What a service worker receives in a push (JSON, encrypted `aes128gcm`, under 4 KB).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PushPayload {
    /// Always `message`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The conversation (notifications of one conversation replace each other).
    pub conversation_id: String,
    /// The message.
    pub message_id: String,
    /// Who sent it.
    pub sender_uuid: Uuid,
    /// The notification's title: the sender's name, and the group's.
    pub title: String,
    /// The start of the text; absent when the user hides content (or the message has none).
    pub preview: Option<String>,
    /// The page to open on a click, relative to the web app's origin.
    pub url: String,
}
