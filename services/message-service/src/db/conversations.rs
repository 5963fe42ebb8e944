//! `conversations`: direct conversations (one per pair, by `directKey`) and groups (with an
//! admin; their writes are in [`super::groups`]). Field names follow the seed where it had
//! them (`participants`, `isGroup`, `admin`, `groupName`, `groupPicture`, `description`,
//! `lastMessage`).

use bson::oid::ObjectId;
use bson::{doc, DateTime as BsonDateTime, Document};
use chat_models::api::message::{ConversationInfo, LastMessage};
use chat_models::{ApiError, ErrorCode, Result};
use futures::TryStreamExt as _;
use mongodb::options::ReturnDocument;
use mongodb::ClientSession;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{in_transaction, is_duplicate_key, uuids, Store, TxError};
use crate::domain;

/// A stored conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationDoc {
    /// Id.
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// Members, in the order they joined.
    #[serde(with = "uuids::list")]
    pub participants: Vec<Uuid>,
    /// Group or direct.
    pub is_group: bool,
    /// The group's admin.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "uuids::option"
    )]
    pub admin: Option<Uuid>,
    /// The group's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// The group's picture URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_picture: Option<String>,
    /// The group's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The newest message, for previews.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<LastMessageDoc>,
    /// `seq` of the newest message; incremented by every send, inside its transaction.
    #[serde(default)]
    pub last_seq: i64,
    /// Incremented by every change to its messages (sends included), inside the change's
    /// transaction; a changed message keeps the version of its last change.
    #[serde(default)]
    pub version: i64,
    /// How many of its messages are pinned.
    #[serde(default)]
    pub pin_count: i64,
    /// Direct conversations only: both uuids in order, unique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_key: Option<String>,
    /// Members who deleted (hid) this direct conversation; cleared by the next message.
    #[serde(default, with = "uuids::list")]
    pub hidden_for: Vec<Uuid>,
    /// Creation time.
    pub created_at: BsonDateTime,
    /// Last message or change.
    pub updated_at: BsonDateTime,
}

/// The preview of the newest message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastMessageDoc {
    /// The message.
    pub message_id: ObjectId,
    /// Its position.
    pub seq: i64,
    /// The start of its text.
    pub text: String,
    /// Its author.
    #[serde(with = "uuids::one")]
    pub sender_uuid: Uuid,
    /// When it was sent.
    pub timestamp: BsonDateTime,
}

impl ConversationDoc {
    /// Whether `user` is a member.
    pub fn has_member(&self, user: Uuid) -> bool {
        self.participants.contains(&user)
    }

    /// Members as uuids.
    pub fn member_uuids(&self) -> Vec<Uuid> {
        self.participants.clone()
    }

    /// The member of a direct conversation who is not `me`.
    pub fn other_member(&self, me: Uuid) -> Option<Uuid> {
        self.participants
            .iter()
            .copied()
            .find(|member| *member != me)
    }

    /// What every member sees; `can_send` comes from friends-service for direct conversations.
    pub fn info(&self, can_send: bool) -> ConversationInfo {
        ConversationInfo {
            id: self.id.to_hex(),
            is_group: self.is_group,
            participant_uuids: self.participants.clone(),
            admin: self.admin,
            name: self.group_name.clone(),
            description: self.description.clone(),
            picture: self.group_picture.clone(),
            last_message: self.last_message.as_ref().map(|last| LastMessage {
                id: last.message_id.to_hex(),
                seq: last.seq,
                sender_uuid: last.sender_uuid,
                preview: last.text.clone(),
                created_at: last.timestamp.to_chrono(),
            }),
            last_seq: self.last_seq,
            version: self.version,
            can_send,
            created_at: self.created_at.to_chrono(),
            updated_at: self.updated_at.to_chrono(),
        }
    }
}

/// The filter "this conversation, and `user` is a member".
pub(super) fn member_filter(id: ObjectId, user: Uuid) -> Document {
    doc! { "_id": id, "participants": uuids::bson(user) }
}

/// A conversation `user` belongs to; 404 otherwise (non-members cannot tell it exists).
pub async fn find_for_member(store: &Store, id: ObjectId, user: Uuid) -> Result<ConversationDoc> {
    find_if_member(store, id, user)
        .await?
        .ok_or(ApiError::NotFound(ErrorCode::ConversationNotFound))
}

/// A conversation `user` belongs to, if they do.
pub async fn find_if_member(
    store: &Store,
    id: ObjectId,
    user: Uuid,
) -> Result<Option<ConversationDoc>> {
    Ok(store
        .conversations
        .find_one(member_filter(id, user))
        .await?)
}

/// A conversation, whoever asks (the service's own background work).
pub async fn find(store: &Store, id: ObjectId) -> Result<Option<ConversationDoc>> {
    Ok(store.conversations.find_one(doc! { "_id": id }).await?)
}

/// How [`open_direct`] found the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// This call created it.
    Created,
    /// It existed, hidden by the opener, who sees it again.
    Reopened,
    /// It existed.
    Existing,
}

/// The direct conversation of a pair, created if missing. Concurrent calls get the same one:
/// the unique `directKey` lets one insert win and the others read it.
pub async fn open_direct(
    store: &Store,
    opener: Uuid,
    other: Uuid,
) -> Result<(ConversationDoc, Opened)> {
    let key = domain::direct_key(opener, other);
    let me = uuids::bson(opener);
    for _ in 0..3 {
        let existing = store
            .conversations
            .find_one_and_update(
                doc! { "directKey": &key, "hiddenFor": &me },
                doc! { "$pull": { "hiddenFor": &me } },
            )
            .return_document(ReturnDocument::After)
            .await?;
        if let Some(conversation) = existing {
            return Ok((conversation, Opened::Reopened));
        }
        if let Some(conversation) = find_direct(store, opener, other).await? {
            return Ok((conversation, Opened::Existing));
        }
        let now = BsonDateTime::now();
        let conversation = ConversationDoc {
            id: ObjectId::new(),
            participants: vec![opener, other],
            is_group: false,
            admin: None,
            group_name: None,
            group_picture: None,
            description: None,
            last_message: None,
            last_seq: 0,
            version: 0,
            pin_count: 0,
            direct_key: Some(key.clone()),
            hidden_for: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        match store.conversations.insert_one(&conversation).await {
            Ok(_) => return Ok((conversation, Opened::Created)),
            Err(error) if is_duplicate_key(&error) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(ApiError::Internal(anyhow::anyhow!(
        "direct conversation {key} neither found nor inserted"
    )))
}

/// The direct conversation of two users, if it exists.
pub async fn find_direct(store: &Store, a: Uuid, b: Uuid) -> Result<Option<ConversationDoc>> {
    Ok(store
        .conversations
        .find_one(doc! { "directKey": domain::direct_key(a, b) })
        .await?)
}

/// The filter and sort of a page of `user`'s visible conversations, most recently active
/// first, after `cursor` (`updatedAt` in ms, id); backed by the `participants_updatedAt` index.
pub fn list_query(user: Uuid, cursor: Option<(i64, ObjectId)>) -> (Document, Document) {
    let me = uuids::bson(user);
    let mut filter = doc! { "participants": &me, "hiddenFor": { "$ne": &me } };
    if let Some((millis, id)) = cursor {
        let at = BsonDateTime::from_millis(millis);
        filter.insert(
            "$or",
            vec![
                doc! { "updatedAt": { "$lt": at } },
                doc! { "updatedAt": at, "_id": { "$lt": id } },
            ],
        );
    }
    (filter, doc! { "updatedAt": -1, "_id": -1 })
}

/// One page of `user`'s visible conversations (see [`list_query`]).
pub async fn list_for_member(
    store: &Store,
    user: Uuid,
    cursor: Option<(i64, ObjectId)>,
    limit: i64,
) -> Result<Vec<ConversationDoc>> {
    let (filter, sort) = list_query(user, cursor);
    Ok(store
        .conversations
        .find(filter)
        .sort(sort)
        .limit(limit)
        .await?
        .try_collect()
        .await?)
}

/// Hides a direct conversation from one member's list (the other keeps it).
pub async fn hide_for(store: &Store, id: ObjectId, user: Uuid) -> Result<bool> {
    let me = uuids::bson(user);
    let done = store
        .conversations
        .update_one(
            doc! { "_id": id, "isGroup": false, "participants": &me },
            doc! { "$addToSet": { "hiddenFor": &me } },
        )
        .await?;
    Ok(done.matched_count == 1)
}

/// Deletes a conversation with its messages and read states; whether it existed.
pub async fn delete(store: &Store, id: ObjectId) -> Result<bool> {
    delete_where(store, id, Document::new()).await
}

/// Deletes a conversation with its messages and read states if `extra` (more conditions on
/// the conversation) still holds; returns whether it was deleted. One transaction: all of it
/// goes, or none.
pub(super) async fn delete_where(store: &Store, id: ObjectId, extra: Document) -> Result<bool> {
    let mut filter = doc! { "_id": id };
    filter.extend(extra);
    in_transaction(store, &(id, filter), |store, session, (id, filter)| {
        Box::pin(delete_once(store, session, *id, filter.clone()))
    })
    .await
}

async fn delete_once(
    store: &Store,
    session: &mut ClientSession,
    id: ObjectId,
    filter: Document,
) -> Result<bool, TxError> {
    let deleted = store
        .conversations
        .delete_one(filter)
        .session(&mut *session)
        .await?
        .deleted_count
        == 1;
    if deleted {
        store
            .messages
            .delete_many(doc! { "conversationId": id })
            .session(&mut *session)
            .await?;
        store
            .reads
            .delete_many(doc! { "conversationId": id })
            .session(&mut *session)
            .await?;
    }
    Ok(deleted)
}

/// Every conversation `user` belongs to (for account deletion).
pub async fn all_of_member(store: &Store, user: Uuid) -> Result<Vec<ConversationDoc>> {
    Ok(store
        .conversations
        .find(doc! { "participants": uuids::bson(user) })
        .await?
        .try_collect()
        .await?)
}

/// Refreshes the preview if `message` is the newest message.
pub async fn refresh_preview(
    store: &Store,
    id: ObjectId,
    message: ObjectId,
    preview: &str,
) -> Result<()> {
    store
        .conversations
        .update_one(
            doc! { "_id": id, "lastMessage.messageId": message },
            doc! { "$set": { "lastMessage.text": preview } },
        )
        .await?;
    Ok(())
}
