//! `read_states`: how far each member has read each conversation, as reading moved it. Sending
//! moves a member's position too (they have read up to their own message): that is kept in
//! the conversation's marks by the send's own update, not here, and a member's position is
//! the later of the two ([`ConversationDoc::read_state_of`](super::conversations::ConversationDoc::read_state_of)).
//! Unread counts are derived from it (messages after the position), so there is no per-message
//! read flag to keep in step (the seed's `read`/`readAt` on every message).

use std::collections::{HashMap, HashSet};

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

/// The read states a page of the conversation list shows, in one query: the reader's
/// position in each conversation, and every member's in the direct ones (their receipts).
#[derive(Debug, Default)]
pub struct PageReads {
    /// The reader's last read `seq`, by conversation (absent: nothing read).
    pub positions: HashMap<ObjectId, i64>,
    /// Every member's state in each direct conversation, the reader's included.
    pub receipts: HashMap<ObjectId, Vec<ReadStateDoc>>,
}

/// [`PageReads`] of `conversations` for `reader`; `direct` are those of them whose receipts
/// are shown.
pub async fn of_page(
    store: &Store,
    reader: Uuid,
    conversations: &[ObjectId],
    direct: &[ObjectId],
) -> Result<PageReads> {
    let mut reads = PageReads::default();
    if conversations.is_empty() {
        return Ok(reads);
    }
    let mut states = store
        .reads
        .find(doc! {
            "conversationId": { "$in": conversations },
            "$or": [
                { "userUuid": uuids::bson(reader) },
                { "conversationId": { "$in": direct } },
            ],
        })
        .await?;
    let direct: HashSet<ObjectId> = direct.iter().copied().collect();
    while let Some(state) = states.try_next().await? {
        if state.user_uuid == reader {
            reads
                .positions
                .insert(state.conversation_id, state.last_read_seq);
        }
        if direct.contains(&state.conversation_id) {
            reads
                .receipts
                .entry(state.conversation_id)
                .or_default()
                .push(state);
        }
    }
    Ok(reads)
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
