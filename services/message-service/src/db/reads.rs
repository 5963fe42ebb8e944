//! `read_states`: how far each member has read each conversation. Unread counts are derived
//! from it (messages after `lastReadSeq`), so there is no per-message read flag to keep in
//! step (the seed's `read`/`readAt` on every message).

use std::collections::HashMap;

use bson::oid::ObjectId;
use bson::{doc, DateTime as BsonDateTime};
use chat_models::api::message::ReadStateView;
use chat_models::Result;
use futures::TryStreamExt as _;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{is_duplicate_key, uuids, Store};

/// A member's read position in a conversation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadStateDoc {
    /// The conversation.
    pub conversation_id: ObjectId,
    /// The reader.
    #[serde(with = "uuids::one")]
    pub user_uuid: Uuid,
    /// The newest message read (its position).
    pub last_read_seq: i64,
    /// The newest message read.
    #[serde(default)]
    pub last_read_message_id: Option<ObjectId>,
    /// When it moved.
    #[serde(default)]
    pub updated_at: Option<BsonDateTime>,
}

impl ReadStateDoc {
    /// As clients see it.
    pub fn view(&self) -> ReadStateView {
        ReadStateView {
            user_uuid: self.user_uuid,
            last_read_message_id: self.last_read_message_id.map(|id| id.to_hex()),
            last_read_seq: self.last_read_seq,
            updated_at: self.updated_at.map(BsonDateTime::to_chrono),
        }
    }
}

/// Moves `reader`'s position forward to the message at `seq`; returns the new state, or
/// `None` when it was already there or further (positions never move back).
pub async fn mark_read(
    store: &Store,
    conversation: ObjectId,
    reader: Uuid,
    message: ObjectId,
    seq: i64,
) -> Result<Option<ReadStateDoc>> {
    let now = BsonDateTime::now();
    let filter = doc! {
        "conversationId": conversation,
        "userUuid": uuids::bson(reader),
        "lastReadSeq": { "$lt": seq },
    };
    let update = doc! { "$set": {
        "lastReadSeq": seq,
        "lastReadMessageId": message,
        "updatedAt": now,
    } };
    let moved = match store
        .reads
        .update_one(filter.clone(), update.clone())
        .upsert(true)
        .await
    {
        Ok(_) => true,
        // The upsert's insert collided with an existing document: either it is already at or
        // past `seq`, or a concurrent first read created it a moment ago. A plain update tells
        // which (MongoDB does not retry such an upsert itself: the filter is not equality-only).
        Err(error) if is_duplicate_key(&error) => {
            store.reads.update_one(filter, update).await?.modified_count == 1
        }
        Err(error) => return Err(error.into()),
    };
    Ok(moved.then_some(ReadStateDoc {
        conversation_id: conversation,
        user_uuid: reader,
        last_read_seq: seq,
        last_read_message_id: Some(message),
        updated_at: Some(now),
    }))
}

/// Forgets the positions of users (re)joining a group, so no stale receipt comes back.
pub async fn forget_many(store: &Store, conversation: ObjectId, users: &[Uuid]) -> Result<()> {
    store
        .reads
        .delete_many(
            doc! { "conversationId": conversation, "userUuid": { "$in": uuids::bson_list(users) } },
        )
        .await?;
    Ok(())
}

/// `reader`'s positions in several conversations (absent: nothing read).
pub async fn positions_of(
    store: &Store,
    reader: Uuid,
    conversations: &[ObjectId],
) -> Result<HashMap<ObjectId, i64>> {
    let states: Vec<ReadStateDoc> = store
        .reads
        .find(doc! {
            "conversationId": { "$in": conversations },
            "userUuid": uuids::bson(reader),
        })
        .await?
        .try_collect()
        .await?;
    Ok(states
        .into_iter()
        .map(|state| (state.conversation_id, state.last_read_seq))
        .collect())
}

/// Every member's position in each of these conversations (one query).
pub async fn of_conversations(
    store: &Store,
    conversations: &[ObjectId],
) -> Result<HashMap<ObjectId, Vec<ReadStateDoc>>> {
    let mut by_conversation: HashMap<ObjectId, Vec<ReadStateDoc>> = HashMap::new();
    if conversations.is_empty() {
        return Ok(by_conversation);
    }
    let mut states = store
        .reads
        .find(doc! { "conversationId": { "$in": conversations } })
        .await?;
    while let Some(state) = states.try_next().await? {
        by_conversation
            .entry(state.conversation_id)
            .or_default()
            .push(state);
    }
    Ok(by_conversation)
}

/// Forgets a member's position (they left the group).
pub async fn forget(store: &Store, conversation: ObjectId, user: Uuid) -> Result<()> {
    store
        .reads
        .delete_one(doc! {
            "conversationId": conversation,
            "userUuid": uuids::bson(user),
        })
        .await?;
    Ok(())
}

/// Forgets every position of a deleted account.
pub async fn forget_user(store: &Store, user: Uuid) -> Result<()> {
    store
        .reads
        .delete_many(doc! { "userUuid": uuids::bson(user) })
        .await?;
    Ok(())
}
