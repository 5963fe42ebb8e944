//! `messages`: one document per message, numbered per conversation by `seq`.
//!
//! A send runs in a transaction that increments the conversation's `lastSeq` and inserts the
//! message with that number. Two sends to one conversation conflict on the conversation
//! document and one retries after the other commits, so `seq` order is commit order: a reader
//! paging with `after` never misses a message that commits later with a smaller number.

use bson::oid::ObjectId;
use bson::{doc, DateTime as BsonDateTime, Document};
use chat_models::api::message::MessageView;
use chat_models::{ApiError, ErrorCode, Result};
use futures::TryStreamExt as _;
use mongodb::options::ReturnDocument;
use mongodb::ClientSession;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::conversations::{member_filter, ConversationDoc};
use super::{in_transaction, uuids, Store, TxError};
use crate::domain::preview;

/// A stored message.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageDoc {
    /// Id.
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// Its conversation.
    pub conversation_id: ObjectId,
    /// Position in the conversation (1, 2, 3…).
    pub seq: i64,
    /// Author.
    #[serde(with = "uuids::one")]
    pub sender_uuid: Uuid,
    /// Text (empty once deleted).
    pub text: String,
    /// Sent at.
    pub timestamp: BsonDateTime,
    /// The message this answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<ObjectId>,
    /// Client nonce (absent when none was sent: the unique index only covers present ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Last edit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<BsonDateTime>,
    /// Deletion (the message keeps its place).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<BsonDateTime>,
}

impl MessageDoc {
    /// As clients see it.
    pub fn view(&self) -> MessageView {
        MessageView {
            id: self.id.to_hex(),
            conversation_id: self.conversation_id.to_hex(),
            seq: self.seq,
            sender_uuid: self.sender_uuid,
            text: self.text.clone(),
            reply_to: self.reply_to.map(|id| id.to_hex()),
            nonce: self.nonce.clone(),
            created_at: self.timestamp.to_chrono(),
            edited_at: self.edited_at.map(BsonDateTime::to_chrono),
            deleted_at: self.deleted_at.map(BsonDateTime::to_chrono),
        }
    }
}

/// A message to store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Its conversation.
    pub conversation_id: ObjectId,
    /// Author (a member).
    pub sender: Uuid,
    /// Validated text.
    pub text: String,
    /// Validated reply target (same conversation).
    pub reply_to: Option<ObjectId>,
    /// Validated nonce.
    pub nonce: Option<String>,
}

/// What a send did.
#[derive(Debug)]
pub enum Sent {
    /// Stored now; the conversation as it is after the send.
    New(MessageDoc, Box<ConversationDoc>),
    /// The nonce was used before: the message stored then.
    Repeated(MessageDoc),
}

/// Stores a message: numbers it, moves the conversation's preview and activity time, unhides
/// the conversation, and moves the sender's read position to it, all in one transaction.
/// A send repeating an earlier nonce returns the earlier message instead.
pub async fn send(store: &Store, new: &NewMessage) -> Result<Sent> {
    in_transaction(store, new, |store, session, new| {
        Box::pin(send_once(store, session, new))
    })
    .await
}

/// One attempt of [`send`], inside its transaction.
async fn send_once(
    store: &Store,
    session: &mut ClientSession,
    new: &NewMessage,
) -> Result<Sent, TxError> {
    let sender = uuids::bson(new.sender);
    if let Some(nonce) = &new.nonce {
        let earlier = store
            .messages
            .find_one(doc! {
                "conversationId": new.conversation_id,
                "senderUuid": &sender,
                "nonce": nonce,
            })
            .session(&mut *session)
            .await?;
        if let Some(earlier) = earlier {
            return Ok(Sent::Repeated(earlier));
        }
    }
    let now = BsonDateTime::now();
    let id = ObjectId::new();
    let bumped = store
        .conversations
        .find_one_and_update(
            member_filter(new.conversation_id, new.sender),
            doc! {
                "$inc": { "lastSeq": 1_i64 },
                "$set": { "updatedAt": now, "hiddenFor": [] },
            },
        )
        .return_document(ReturnDocument::After)
        .session(&mut *session)
        .await?
        .ok_or_else(gone)?;
    let message = MessageDoc {
        id,
        conversation_id: new.conversation_id,
        seq: bumped.last_seq,
        sender_uuid: new.sender,
        text: new.text.clone(),
        timestamp: now,
        reply_to: new.reply_to,
        nonce: new.nonce.clone(),
        edited_at: None,
        deleted_at: None,
    };
    store
        .messages
        .insert_one(&message)
        .session(&mut *session)
        .await?;
    let last = doc! {
        "messageId": id,
        "seq": message.seq,
        "text": preview(&message.text),
        "senderUuid": &sender,
        "timestamp": now,
    };
    let conversation = store
        .conversations
        .find_one_and_update(
            doc! { "_id": new.conversation_id },
            doc! { "$set": { "lastMessage": last } },
        )
        .return_document(ReturnDocument::After)
        .session(&mut *session)
        .await?
        .ok_or_else(gone)?;
    // The newest message is past any read position, so this only moves forward.
    store
        .reads
        .update_one(
            doc! { "conversationId": new.conversation_id, "userUuid": &sender },
            doc! { "$set": {
                "lastReadSeq": message.seq,
                "lastReadMessageId": id,
                "updatedAt": now,
            } },
        )
        .upsert(true)
        .session(&mut *session)
        .await?;
    Ok(Sent::New(message, Box::new(conversation)))
}

/// The conversation went away (or the sender left it) during a send.
fn gone() -> TxError {
    TxError::Api(ApiError::NotFound(ErrorCode::ConversationNotFound))
}

/// One message of a conversation.
pub async fn find(store: &Store, conversation: ObjectId, id: ObjectId) -> Result<MessageDoc> {
    store
        .messages
        .find_one(doc! { "_id": id, "conversationId": conversation })
        .await?
        .ok_or(ApiError::NotFound(ErrorCode::MessageNotFound))
}

/// Which way a history page reads.
#[derive(Debug, Clone, Copy)]
pub enum Page {
    /// The newest messages.
    Latest,
    /// Older than this position, newest first.
    Before(i64),
    /// Newer than this position, oldest first.
    After(i64),
}

/// A page of history, `limit` messages at most, on the `{conversationId, seq}` index.
pub async fn history(
    store: &Store,
    conversation: ObjectId,
    page: Page,
    limit: i64,
) -> Result<Vec<MessageDoc>> {
    let (filter, order) = history_query(conversation, page);
    Ok(store
        .messages
        .find(filter)
        .sort(doc! { "seq": order })
        .limit(limit)
        .await?
        .try_collect()
        .await?)
}

/// The filter and sort direction of a history page.
pub fn history_query(conversation: ObjectId, page: Page) -> (Document, i32) {
    match page {
        Page::Latest => (doc! { "conversationId": conversation }, -1),
        Page::Before(seq) => (
            doc! { "conversationId": conversation, "seq": { "$lt": seq } },
            -1,
        ),
        Page::After(seq) => (
            doc! { "conversationId": conversation, "seq": { "$gt": seq } },
            1,
        ),
    }
}

/// Changes the text of the author's own, not deleted message.
pub async fn edit(
    store: &Store,
    conversation: ObjectId,
    id: ObjectId,
    author: Uuid,
    text: &str,
) -> Result<MessageDoc> {
    let change = doc! { "text": text, "editedAt": BsonDateTime::now() };
    change_own(store, conversation, id, author, change).await
}

/// Deletes the author's own message: the text goes, the place in the history stays.
pub async fn soft_delete(
    store: &Store,
    conversation: ObjectId,
    id: ObjectId,
    author: Uuid,
) -> Result<MessageDoc> {
    let change = doc! { "text": "", "deletedAt": BsonDateTime::now() };
    change_own(store, conversation, id, author, change).await
}

/// Sets `change` on the author's own, not deleted message; says why when it does not apply.
async fn change_own(
    store: &Store,
    conversation: ObjectId,
    id: ObjectId,
    author: Uuid,
    change: Document,
) -> Result<MessageDoc> {
    let filter = doc! {
        "_id": id,
        "conversationId": conversation,
        "senderUuid": uuids::bson(author),
        "deletedAt": { "$exists": false },
    };
    if let Some(message) = store
        .messages
        .find_one_and_update(filter, doc! { "$set": change })
        .return_document(ReturnDocument::After)
        .await?
    {
        return Ok(message);
    }
    Err(match find(store, conversation, id).await {
        Err(error) => error,
        Ok(message) if message.sender_uuid != author => {
            ApiError::Forbidden(ErrorCode::NotMessageAuthor)
        }
        Ok(_) => ApiError::Conflict(ErrorCode::MessageDeleted),
    })
}

/// Messages from others after `seq`, deleted ones not counted (a range of the
/// `{conversationId, seq}` index).
pub async fn count_unread(
    store: &Store,
    conversation: ObjectId,
    reader: Uuid,
    seq: i64,
) -> Result<u64> {
    Ok(store
        .messages
        .count_documents(doc! {
            "conversationId": conversation,
            "seq": { "$gt": seq },
            "senderUuid": { "$ne": uuids::bson(reader) },
            "deletedAt": { "$exists": false },
        })
        .await?)
}

/// Blanks every message of a deleted account (they keep their place in others' histories).
pub async fn blank_all_of(store: &Store, user: Uuid) -> Result<()> {
    store
        .messages
        .update_many(
            doc! {
                "senderUuid": uuids::bson(user),
                "deletedAt": { "$exists": false },
            },
            doc! { "$set": { "text": "", "deletedAt": BsonDateTime::now() } },
        )
        .await?;
    Ok(())
}
