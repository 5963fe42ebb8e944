//! `messages`: one document per message ([`MessageDoc`]), numbered per conversation by `seq`.
//!
//! A send runs in a transaction that increments the conversation's `lastSeq` (and `version`)
//! and inserts the message with that number. Two sends to one conversation conflict on the
//! conversation document and one retries after the other commits, so `seq` order is commit
//! order: a reader paging with `after` never misses a message that commits later with a
//! smaller number. Later changes of a message are in [`super::changes`].

mod doc;

pub use doc::{AttachmentDoc, LinkPreviewDoc, MessageDoc, ReactionDoc};

use std::collections::HashMap;

use bson::oid::ObjectId;
use bson::{doc, DateTime as BsonDateTime, Document};
use chat_models::api::message::ReplyQuote;
use chat_models::{ApiError, ErrorCode, Result};
use futures::TryStreamExt as _;
use mongodb::options::ReturnDocument;
use mongodb::ClientSession;
use serde::Deserialize;
use uuid::Uuid;

use super::conversations::{member_filter, ConversationDoc};
use super::{in_transaction, uuids, Store, TxError};

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
    /// Members mentioned (validated).
    pub mentions: Vec<Uuid>,
    /// `@everyone` (by the group's admin).
    pub mentions_everyone: bool,
    /// The sender's uploads to attach (distinct, at most 10).
    pub attachments: Vec<ObjectId>,
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
                "$inc": { "lastSeq": 1_i64, "version": 1_i64 },
                "$set": { "updatedAt": now, "hiddenFor": [] },
            },
        )
        .return_document(ReturnDocument::After)
        .session(&mut *session)
        .await?
        .ok_or_else(gone)?;
    let attachments = super::files::claim(
        store,
        session,
        new.sender,
        &new.attachments,
        new.conversation_id,
        id,
    )
    .await?;
    let message = MessageDoc {
        id,
        conversation_id: new.conversation_id,
        seq: bumped.last_seq,
        sender_uuid: new.sender,
        text: new.text.clone(),
        timestamp: now,
        reply_to: new.reply_to,
        nonce: new.nonce.clone(),
        mentions: new.mentions.clone(),
        mentions_everyone: new.mentions_everyone,
        reactions: Vec::new(),
        pinned_at: None,
        pinned_by: None,
        link_preview: None,
        attachments: attachments.iter().map(AttachmentDoc::of).collect(),
        version: bumped.version,
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
        "text": message.preview(),
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
    /// Newer than the first position and older than the second, oldest first.
    Between(i64, i64),
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
        Page::Between(after, before) => (
            doc! { "conversationId": conversation, "seq": { "$gt": after, "$lt": before } },
            1,
        ),
    }
}

/// Unread messages of one conversation for one reader.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct UnreadCounts {
    /// Messages from others after the reader's position, deleted ones not counted.
    pub unread: u64,
    /// Those of them that mention the reader.
    pub mentions: u64,
}

/// The match of [`unread_counts`]: in each conversation, the messages after the reader's
/// position there (one range of the `{conversationId, seq}` index per conversation), not
/// deleted. Whose they are is tested when counting: a condition on `senderUuid` here would
/// invite the planner to scan that index instead.
pub fn unread_filter(positions: &[(ObjectId, i64)]) -> Document {
    let ranges: Vec<Document> = positions
        .iter()
        .map(|(conversation, seq)| doc! { "conversationId": conversation, "seq": { "$gt": seq } })
        .collect();
    doc! { "$or": ranges, "deletedAt": { "$exists": false } }
}

/// Unread and mention counts of a page of conversations, given the reader's position in each,
/// in one aggregation (not two queries per conversation). Messages from the reader do not
/// count; conversations with nothing after the position are absent from the answer.
pub async fn unread_counts(
    store: &Store,
    reader: Uuid,
    positions: &[(ObjectId, i64)],
) -> Result<HashMap<ObjectId, UnreadCounts>> {
    if positions.is_empty() {
        return Ok(HashMap::new());
    }
    #[derive(Deserialize)]
    struct Row {
        #[serde(rename = "_id")]
        conversation: ObjectId,
        #[serde(flatten)]
        counts: UnreadCounts,
    }
    let me = uuids::bson(reader);
    let from_others = doc! { "$ne": ["$senderUuid", &me] };
    let mentions_me = doc! { "$in": [&me, { "$ifNull": ["$mentions", []] }] };
    let pipeline = [
        doc! { "$match": unread_filter(positions) },
        doc! { "$group": {
            "_id": "$conversationId",
            "unread": { "$sum": { "$cond": [&from_others, 1, 0] } },
            "mentions": { "$sum": {
                "$cond": [{ "$and": [&from_others, mentions_me] }, 1, 0],
            } },
        } },
    ];
    let rows: Vec<Row> = store
        .messages
        .aggregate(pipeline)
        .with_type::<Row>()
        .await?
        .try_collect()
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.conversation, row.counts))
        .collect())
}

/// Quotes of the messages these messages answer, by the answered message's id (one query).
pub async fn quotes(
    store: &Store,
    conversation: ObjectId,
    messages: &[MessageDoc],
) -> Result<HashMap<ObjectId, ReplyQuote>> {
    let ids: Vec<ObjectId> = messages
        .iter()
        .filter_map(|message| message.reply_to)
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let answered: Vec<MessageDoc> = store
        .messages
        .find(doc! { "_id": { "$in": ids }, "conversationId": conversation })
        .await?
        .try_collect()
        .await?;
    Ok(answered
        .iter()
        .map(|message| (message.id, message.quote()))
        .collect())
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
            doc! { "$set": { "text": "", "attachments": [], "deletedAt": BsonDateTime::now() } },
        )
        .await?;
    Ok(())
}

/// The messages of `ids` that are not deleted and belong to one of `conversations` (search
/// hits checked against the store), in no particular order.
pub async fn live_among(
    store: &Store,
    ids: &[ObjectId],
    conversations: &[ObjectId],
) -> Result<Vec<MessageDoc>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(store
        .messages
        .find(doc! {
            "_id": { "$in": ids },
            "conversationId": { "$in": conversations },
            "deletedAt": { "$exists": false },
        })
        .await?
        .try_collect()
        .await?)
}

/// What search indexes of a message.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Searchable {
    /// Id.
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// Its conversation.
    pub conversation_id: ObjectId,
    /// Author.
    #[serde(with = "uuids::one")]
    pub sender_uuid: Uuid,
    /// Text.
    pub text: String,
    /// Sent at.
    pub timestamp: BsonDateTime,
    /// The conversation's version at its last change.
    #[serde(default)]
    pub version: i64,
}

/// Every message not deleted, as search indexes it (rebuilding an index).
pub async fn all_searchable(
    store: &Store,
) -> Result<impl futures::Stream<Item = mongodb::error::Result<Searchable>>> {
    Ok(store
        .db
        .collection::<Searchable>("messages")
        .find(doc! { "deletedAt": { "$exists": false } })
        .projection(
            doc! { "conversationId": 1, "senderUuid": 1, "text": 1, "timestamp": 1, "version": 1 },
        )
        .batch_size(2_000)
        .await?)
}
