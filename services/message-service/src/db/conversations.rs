//! `conversations`: direct conversations (one per pair, by `directKey`) and groups (with an
//! admin). Field names follow the seed where it had them (`participants`, `isGroup`, `admin`,
//! `groupName`, `groupPicture`, `description`, `lastMessage`).

use bson::oid::ObjectId;
use bson::{doc, DateTime as BsonDateTime, Document};
use chat_models::api::message::{ConversationInfo, LastMessage};
use chat_models::{ApiError, ErrorCode, Result};
use futures::TryStreamExt as _;
use mongodb::options::ReturnDocument;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use mongodb::ClientSession;

use super::{in_transaction, is_duplicate_key, Store, TxError};

/// A stored conversation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationDoc {
    /// Id.
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// Member uuids, in the order they joined.
    pub participants: Vec<String>,
    /// Group or direct.
    pub is_group: bool,
    /// The group's admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<String>,
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
    /// Direct conversations only: both uuids in order, unique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_key: Option<String>,
    /// Members who deleted (hid) this direct conversation; cleared by the next message.
    #[serde(default)]
    pub hidden_for: Vec<String>,
    /// Creation time.
    pub created_at: BsonDateTime,
    /// Last message or change.
    pub updated_at: BsonDateTime,
}

/// The preview of the newest message.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastMessageDoc {
    /// The message.
    pub message_id: ObjectId,
    /// Its position.
    pub seq: i64,
    /// The start of its text.
    pub text: String,
    /// Its author.
    pub sender_uuid: String,
    /// When it was sent.
    pub timestamp: BsonDateTime,
}

/// A stored uuid (ours are always valid; anything else reads as nil rather than failing a page).
pub fn uuid_of(value: &str) -> Uuid {
    Uuid::parse_str(value).unwrap_or_default()
}

impl ConversationDoc {
    /// Whether `user` is a member.
    pub fn has_member(&self, user: Uuid) -> bool {
        let user = user.hyphenated().to_string();
        self.participants.contains(&user)
    }

    /// Members as uuids.
    pub fn member_uuids(&self) -> Vec<Uuid> {
        self.participants.iter().map(|id| uuid_of(id)).collect()
    }

    /// What every member sees; `can_send` comes from friends-service for direct conversations.
    pub fn info(&self, can_send: bool) -> ConversationInfo {
        ConversationInfo {
            id: self.id.to_hex(),
            is_group: self.is_group,
            participant_uuids: self.member_uuids(),
            admin: self.admin.as_deref().map(uuid_of),
            name: self.group_name.clone(),
            description: self.description.clone(),
            picture: self.group_picture.clone(),
            last_message: self.last_message.as_ref().map(|last| LastMessage {
                id: last.message_id.to_hex(),
                seq: last.seq,
                sender_uuid: uuid_of(&last.sender_uuid),
                preview: last.text.clone(),
                created_at: last.timestamp.to_chrono(),
            }),
            last_seq: self.last_seq,
            can_send,
            created_at: self.created_at.to_chrono(),
            updated_at: self.updated_at.to_chrono(),
        }
    }
}

/// The filter "this conversation, and `user` is a member".
pub fn member_filter(id: ObjectId, user: Uuid) -> Document {
    doc! { "_id": id, "participants": user.hyphenated().to_string() }
}

/// A conversation `user` belongs to; 404 otherwise (non-members cannot tell it exists).
pub async fn find_for_member(store: &Store, id: ObjectId, user: Uuid) -> Result<ConversationDoc> {
    store
        .conversations
        .find_one(member_filter(id, user))
        .await?
        .ok_or(ApiError::NotFound(ErrorCode::ConversationNotFound))
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
    key: String,
) -> Result<(ConversationDoc, Opened)> {
    let me = opener.hyphenated().to_string();
    for _ in 0..3 {
        let unhide = doc! { "$pull": { "hiddenFor": &me } };
        let existing = store
            .conversations
            .find_one_and_update(doc! { "directKey": &key, "hiddenFor": &me }, unhide)
            .return_document(ReturnDocument::After)
            .await?;
        if let Some(conversation) = existing {
            return Ok((conversation, Opened::Reopened));
        }
        if let Some(conversation) = store
            .conversations
            .find_one(doc! { "directKey": &key })
            .await?
        {
            return Ok((conversation, Opened::Existing));
        }
        let now = BsonDateTime::now();
        let conversation = ConversationDoc {
            id: ObjectId::new(),
            participants: vec![me.clone(), other.hyphenated().to_string()],
            is_group: false,
            admin: None,
            group_name: None,
            group_picture: None,
            description: None,
            last_message: None,
            last_seq: 0,
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

/// The direct conversation of a pair, if it exists.
pub async fn find_direct(store: &Store, key: &str) -> Result<Option<ConversationDoc>> {
    Ok(store
        .conversations
        .find_one(doc! { "directKey": key })
        .await?)
}

/// The member of a direct conversation who is not `me`.
pub fn other_member(conversation: &ConversationDoc, me: Uuid) -> Option<Uuid> {
    conversation
        .member_uuids()
        .into_iter()
        .find(|member| *member != me)
}

/// Stores a new group.
pub async fn insert_group(store: &Store, group: &ConversationDoc) -> Result<()> {
    store.conversations.insert_one(group).await?;
    Ok(())
}

/// One page of `user`'s visible conversations, most recently active first, after `cursor`.
pub async fn list_for_member(
    store: &Store,
    user: Uuid,
    cursor: Option<(i64, ObjectId)>,
    limit: i64,
) -> Result<Vec<ConversationDoc>> {
    let me = user.hyphenated().to_string();
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
    Ok(store
        .conversations
        .find(filter)
        .sort(doc! { "updatedAt": -1, "_id": -1 })
        .limit(limit)
        .await?
        .try_collect()
        .await?)
}

/// Applies `update` to a group if `extra` still holds (the caller's checks, made atomic);
/// returns the group after the change, or `None` when the conditions no longer hold.
pub async fn update_group_if(
    store: &Store,
    id: ObjectId,
    extra: Document,
    update: Document,
) -> Result<Option<ConversationDoc>> {
    let mut filter = doc! { "_id": id, "isGroup": true };
    filter.extend(extra);
    Ok(store
        .conversations
        .find_one_and_update(filter, update)
        .return_document(ReturnDocument::After)
        .await?)
}

/// Hides a direct conversation from one member's list (the other keeps it).
pub async fn hide_for(store: &Store, id: ObjectId, user: Uuid) -> Result<bool> {
    let me = user.hyphenated().to_string();
    let done = store
        .conversations
        .update_one(
            doc! { "_id": id, "isGroup": false, "participants": &me },
            doc! { "$addToSet": { "hiddenFor": &me } },
        )
        .await?;
    Ok(done.matched_count == 1)
}

/// Deletes a conversation with its messages and read states, if `extra` holds; returns whether
/// it was deleted. One transaction: all of it goes, or none.
pub async fn delete_if(store: &Store, id: ObjectId, extra: Document) -> Result<bool> {
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
        .find(doc! { "participants": user.hyphenated().to_string() })
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
