//! `push_subscriptions` (a browser's push endpoint and keys, owned by the session that
//! registered it) and `notification_settings` (one document per user: hide content, do not
//! disturb, muted conversations).

use bson::oid::ObjectId;
use bson::{doc, DateTime as BsonDateTime};
use chat_models::api::push::{NotificationSettings, NotificationSettingsPatch};
use chat_models::Result;
use futures::TryStreamExt as _;
use mongodb::options::ReturnDocument;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{is_duplicate_key, uuids, Store};

/// Most subscriptions one user keeps (the newest): each message is pushed to every one.
pub const MAX_PER_USER: usize = 10;

/// A browser's push subscription.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionDoc {
    /// Id.
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// The owner.
    #[serde(with = "uuids::one")]
    pub user_uuid: Uuid,
    /// The session that registered it: signing that session out removes it.
    #[serde(with = "uuids::one")]
    pub session_id: Uuid,
    /// The push service's URL for the browser (unique).
    pub endpoint: String,
    /// The browser's public key (65 bytes, base64url).
    pub p256dh: String,
    /// The authentication secret (16 bytes, base64url).
    pub auth: String,
    /// When it was registered.
    pub created_at: BsonDateTime,
}

/// A user's notification settings (absent: the defaults).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifySettingsDoc {
    /// The user.
    #[serde(rename = "_id", with = "uuids::one")]
    pub user_uuid: Uuid,
    /// Pushes carry no text.
    #[serde(default)]
    pub hide_content: bool,
    /// No pushes.
    #[serde(default)]
    pub do_not_disturb: bool,
    /// Conversations without pushes.
    #[serde(default)]
    pub muted: Vec<ObjectId>,
}

impl NotifySettingsDoc {
    /// As the owner sees them.
    pub fn view(&self) -> NotificationSettings {
        NotificationSettings {
            hide_content: self.hide_content,
            do_not_disturb: self.do_not_disturb,
            muted_conversations: self.muted.iter().map(|id| id.to_hex()).collect(),
        }
    }

    /// Whether a message in `conversation` is pushed at all.
    pub fn wants(&self, conversation: ObjectId) -> bool {
        !self.do_not_disturb && !self.muted.contains(&conversation)
    }
}

/// Registers a subscription for `user`'s `session`; an endpoint registered before (the same
/// browser subscribing again, perhaps as someone else now) moves to this user and session with
/// its new keys. Only the newest [`MAX_PER_USER`] of the user's subscriptions are kept.
pub async fn subscribe(
    store: &Store,
    user: Uuid,
    session: Uuid,
    endpoint: &str,
    p256dh: &str,
    auth: &str,
) -> Result<SubscriptionDoc> {
    let update = doc! {
        "$set": {
            "userUuid": uuids::bson(user),
            "sessionId": uuids::bson(session),
            "p256dh": p256dh,
            "auth": auth,
            "createdAt": BsonDateTime::now(),
        },
    };
    let upsert = || {
        store
            .push_subscriptions
            .find_one_and_update(doc! { "endpoint": endpoint }, update.clone())
            .upsert(true)
            .return_document(ReturnDocument::After)
    };
    // Two upserts of a new endpoint at once: one inserts, the other retries as an update.
    let stored = match upsert().await {
        Err(error) if is_duplicate_key(&error) => upsert().await?,
        other => other?,
    }
    .ok_or_else(|| anyhow::anyhow!("an upsert returned no document"))?;
    let surplus: Vec<ObjectId> = store
        .push_subscriptions
        .find(doc! { "userUuid": uuids::bson(user) })
        .sort(doc! { "createdAt": -1, "_id": -1 })
        .skip(MAX_PER_USER as u64)
        .await?
        .map_ok(|subscription| subscription.id)
        .try_collect()
        .await?;
    if !surplus.is_empty() {
        store
            .push_subscriptions
            .delete_many(doc! { "_id": { "$in": surplus } })
            .await?;
    }
    Ok(stored)
}

/// `user`'s subscriptions, newest first.
pub async fn of_user(store: &Store, user: Uuid) -> Result<Vec<SubscriptionDoc>> {
    Ok(store
        .push_subscriptions
        .find(doc! { "userUuid": uuids::bson(user) })
        .sort(doc! { "createdAt": -1, "_id": -1 })
        .await?
        .try_collect()
        .await?)
}

/// The subscriptions of any of `users`.
pub async fn of_users(store: &Store, users: &[Uuid]) -> Result<Vec<SubscriptionDoc>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    Ok(store
        .push_subscriptions
        .find(doc! { "userUuid": { "$in": uuids::bson_list(users) } })
        .await?
        .try_collect()
        .await?)
}

/// Removes `user`'s subscription with this endpoint; whether there was one.
pub async fn unsubscribe(store: &Store, user: Uuid, endpoint: &str) -> Result<bool> {
    let deleted = store
        .push_subscriptions
        .delete_one(doc! { "endpoint": endpoint, "userUuid": uuids::bson(user) })
        .await?;
    Ok(deleted.deleted_count > 0)
}

/// Removes a subscription the push service no longer knows (or that may not be called).
pub async fn remove(store: &Store, id: ObjectId) -> Result<()> {
    store
        .push_subscriptions
        .delete_one(doc! { "_id": id })
        .await?;
    Ok(())
}

/// Removes the subscriptions of signed-out sessions; how many.
pub async fn remove_sessions(store: &Store, user: Uuid, sessions: &[Uuid]) -> Result<u64> {
    let deleted = store
        .push_subscriptions
        .delete_many(doc! {
            "userUuid": uuids::bson(user),
            "sessionId": { "$in": uuids::bson_list(sessions) },
        })
        .await?;
    Ok(deleted.deleted_count)
}

/// Forgets a deleted account's subscriptions and settings.
pub async fn forget_user(store: &Store, user: Uuid) -> Result<()> {
    store
        .push_subscriptions
        .delete_many(doc! { "userUuid": uuids::bson(user) })
        .await?;
    store
        .notification_settings
        .delete_one(doc! { "_id": uuids::bson(user) })
        .await?;
    Ok(())
}

/// `user`'s settings (the defaults if they never changed any).
pub async fn settings(store: &Store, user: Uuid) -> Result<NotifySettingsDoc> {
    Ok(store
        .notification_settings
        .find_one(doc! { "_id": uuids::bson(user) })
        .await?
        .unwrap_or(NotifySettingsDoc {
            user_uuid: user,
            ..NotifySettingsDoc::default()
        }))
}

/// The settings of those of `users` who changed any.
pub async fn settings_of(store: &Store, users: &[Uuid]) -> Result<Vec<NotifySettingsDoc>> {
    Ok(store
        .notification_settings
        .find(doc! { "_id": { "$in": uuids::bson_list(users) } })
        .await?
        .try_collect()
        .await?)
}

/// Changes the fields `patch` names; returns the settings after.
pub async fn update_settings(
    store: &Store,
    user: Uuid,
    patch: &NotificationSettingsPatch,
) -> Result<NotifySettingsDoc> {
    let mut set = doc! {};
    if let Some(hide) = patch.hide_content {
        set.insert("hideContent", hide);
    }
    if let Some(dnd) = patch.do_not_disturb {
        set.insert("doNotDisturb", dnd);
    }
    if set.is_empty() {
        return settings(store, user).await;
    }
    upsert_settings(store, user, doc! { "$set": set }).await
}

/// Mutes or unmutes `conversation` for `user`.
pub async fn set_muted(
    store: &Store,
    user: Uuid,
    conversation: ObjectId,
    muted: bool,
) -> Result<NotifySettingsDoc> {
    let update = if muted {
        doc! { "$addToSet": { "muted": conversation } }
    } else {
        doc! { "$pull": { "muted": conversation } }
    };
    upsert_settings(store, user, update).await
}

async fn upsert_settings(
    store: &Store,
    user: Uuid,
    update: bson::Document,
) -> Result<NotifySettingsDoc> {
    Ok(store
        .notification_settings
        .find_one_and_update(doc! { "_id": uuids::bson(user) }, update)
        .upsert(true)
        .return_document(ReturnDocument::After)
        .await?
        .ok_or_else(|| anyhow::anyhow!("an upsert returned no document"))?)
}
