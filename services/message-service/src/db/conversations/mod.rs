//! `conversations`: direct conversations (one per pair, by `directKey`) and groups (with an
//! admin; their writes are in [`super::groups`]). Field names follow the seed where it had
//! them (`participants`, `isGroup`, `admin`, `groupName`, `groupPicture`, `description`,
//! `lastMessage`).

use bson::oid::ObjectId;
use bson::{doc, DateTime as BsonDateTime, Document};
use chat_models::{ApiError, ErrorCode, Result};
use futures::TryStreamExt as _;
use mongodb::options::ReturnDocument;
use mongodb::ClientSession;
use uuid::Uuid;

use super::{in_transaction, is_duplicate_key, uuids, Store, TxError};
use crate::domain;

mod doc;

pub use doc::{ConversationDoc, LastMessageDoc, Marks};

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

/// A new direct conversation of `opener` and `other` (see [`open_direct`]).
pub fn new_direct(opener: Uuid, other: Uuid) -> ConversationDoc {
    let now = BsonDateTime::now();
    ConversationDoc {
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
        direct_key: Some(domain::direct_key(opener, other)),
        hidden_for: Vec::new(),
        created_at: now,
        updated_at: now,
        marks: Some(Marks::new()),
    }
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
        let conversation = new_direct(opener, other);
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
        // Its attachments and picture go with it (purged after the commit).
        super::files::release_in(store, session, doc! { "conversationId": id }).await?;
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

/// The ids of every conversation `user` belongs to (search's membership filter), from the
/// `participants` index alone.
pub async fn ids_of_member(store: &Store, user: Uuid) -> Result<Vec<ObjectId>> {
    #[derive(serde::Deserialize)]
    struct Id {
        #[serde(rename = "_id")]
        id: ObjectId,
    }
    Ok(store
        .db
        .collection::<Id>("conversations")
        .find(doc! { "participants": uuids::bson(user) })
        .projection(doc! { "_id": 1 })
        .await?
        .try_collect::<Vec<Id>>()
        .await?
        .into_iter()
        .map(|id| id.id)
        .collect())
}
