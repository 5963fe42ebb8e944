//! `messages`: one document per message ([`MessageDoc`]), numbered per conversation by `seq`.
//!
//! A send runs in a transaction that increments the conversation's `lastSeq` (and `version`)
//! and inserts the message with that number. Two transactions storing messages of one
//! conversation conflict on the conversation document and one retries after the other
//! commits, so `seq` order is commit order: a reader paging with `after` never misses a
//! message that commits later with a smaller number. Concurrent sends to one conversation on
//! one instance share a transaction ([`queue`]), so a busy group does not turn into a queue
//! of conflicts, and so do the sends of different conversations ([`shared`]: one commit for
//! many). Instances whose transactions on a conversation met take turns at it ([`turns`]),
//! the holder of the turn storing the sends the others forward to it ([`forward`]). Later
//! changes of a message are in [`super::changes`].

mod doc;
pub mod forward;
mod queue;
mod shared;
pub mod turns;

pub use doc::{AttachmentDoc, LinkPreviewDoc, MessageDoc, ReactionDoc};
pub use forward::Forwarding;
pub use queue::SendQueue;
pub use shared::SharedCommits;
pub use turns::Turns;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use bson::oid::ObjectId;
use bson::{doc, DateTime as BsonDateTime, Document};
use chat_models::api::message::ReplyQuote;
use chat_models::{ApiError, ErrorCode, Result};
use futures::TryStreamExt as _;
use mongodb::options::ReturnDocument;
use mongodb::ClientSession;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::conversations::ConversationDoc;
use super::{in_transaction, uuids, Store, TxError};

/// A message to store (BSON when forwarded to another instance, [`forward`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewMessage {
    /// Its conversation.
    pub conversation_id: ObjectId,
    /// Author (a member).
    #[serde(with = "uuids::one")]
    pub sender: Uuid,
    /// Validated text.
    pub text: String,
    /// Validated reply target (same conversation).
    pub reply_to: Option<ObjectId>,
    /// Validated nonce.
    pub nonce: Option<String>,
    /// Whom the sender mentions: settled against the members when stored (members only,
    /// never the sender).
    #[serde(with = "uuids::list")]
    pub mentions: Vec<Uuid>,
    /// `@everyone` (a group's): refused when stored unless the sender is its admin then.
    pub mentions_everyone: bool,
    /// The sender's uploads to attach (distinct, at most 10).
    pub attachments: Vec<ObjectId>,
    /// Whether its conversation is a group (which marks its members' read positions by
    /// `seq` alone, see [`Marks::last`](crate::db::conversations::Marks::last)).
    #[serde(default)]
    pub in_group: bool,
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
/// the conversation, and moves the sender's read position to it, all in one transaction
/// (shared with other sends to the conversation waiting on this instance at the same time).
/// A send repeating an earlier nonce returns the earlier message instead.
pub async fn send(store: &Store, new: NewMessage) -> Result<Sent> {
    store.sends.send(store, new).await
}

/// Stores `batch` (sends to one conversation) in one transaction: the answers in the same
/// order. Nonces are not looked up first: the unique index on them refuses a repeated one, and
/// then, as when a rule refuses any send (a sender is not a member any more, an attachment is
/// not theirs), each is stored in a transaction of its own that looks its nonce up, so a
/// repeat gets the message stored before and a refusal is only that send's.
/// Also says whether a transaction had to run again (it conflicted with another's).
pub(super) async fn send_all(store: &Store, batch: &[NewMessage]) -> (Vec<Result<Sent>>, bool) {
    let conflicted = AtomicBool::new(false);
    let answers = send_batch(store, batch, false, &conflicted).await;
    (answers, conflicted.load(Ordering::Relaxed))
}

async fn send_batch(
    store: &Store,
    batch: &[NewMessage],
    look_up: bool,
    conflicted: &AtomicBool,
) -> Vec<Result<Sent>> {
    let attempt = Batch {
        news: batch,
        look_up,
        refused: AtomicBool::new(false),
        attempts: AtomicU32::new(0),
    };
    let outcome = in_transaction(store, &attempt, |store, session, attempt| {
        Box::pin(send_once(store, session, attempt))
    })
    .await;
    if attempt.attempts.load(Ordering::Relaxed) > 1 {
        conflicted.store(true, Ordering::Relaxed);
    }
    match outcome {
        Ok(sent) => sent.into_iter().map(Ok).collect(),
        Err(_) if attempt.refused.load(Ordering::Relaxed) && (batch.len() > 1 || !look_up) => {
            let mut answers = Vec::with_capacity(batch.len());
            for new in batch {
                let alone = Box::pin(send_batch(
                    store,
                    std::slice::from_ref(new),
                    true,
                    conflicted,
                ))
                .await;
                answers.extend(alone);
            }
            answers
        }
        Err(error) => {
            let mut answers: Vec<Result<Sent>> = Vec::with_capacity(batch.len());
            answers.resize_with(batch.len() - 1, || Err(copy_of(&error)));
            answers.insert(0, Err(error));
            answers
        }
    }
}

/// The failure of a whole batch, for each of its other sends.
fn copy_of(error: &ApiError) -> ApiError {
    match error {
        ApiError::Unavailable {
            code,
            retry_after_secs,
        } => ApiError::Unavailable {
            code: *code,
            retry_after_secs: *retry_after_secs,
        },
        ApiError::DependencyFailed(cause) => ApiError::unavailable(anyhow::anyhow!("{cause:#}")),
        other => ApiError::Internal(anyhow::anyhow!(
            "a send of the same batch failed: {other:#}"
        )),
    }
}

/// Sends of one conversation for one transaction, and whether a rule refused one of them.
struct Batch<'a> {
    news: &'a [NewMessage],
    /// Whether earlier messages with the sends' nonces are looked up (else a repeated nonce is
    /// refused by the unique index).
    look_up: bool,
    refused: AtomicBool,
    /// Attempts run (more than one: the transaction conflicted and ran again).
    attempts: AtomicU32,
}

/// One attempt of [`send_all`], inside its transaction.
async fn send_once(
    store: &Store,
    session: &mut ClientSession,
    batch: &Batch<'_>,
) -> Result<Vec<Sent>, TxError> {
    batch.attempts.fetch_add(1, Ordering::Relaxed);
    let outcome = store_batch(store, session, batch.news, batch.look_up).await;
    if outcome.as_ref().is_err_and(refused) {
        batch.refused.store(true, Ordering::Relaxed);
    }
    outcome
}

/// Whether an attempt failed because a rule refused one of its sends, or a nonce was used
/// before (the unique index refused it): each send stored alone then gets its own answer.
fn refused(error: &TxError) -> bool {
    match error {
        TxError::Api(_) => true,
        TxError::Mongo(error) => super::is_duplicate_key(error),
    }
}

/// What became of one send of a batch, before the new ones are numbered.
enum Slot {
    /// Its nonce was used by a message stored before.
    Earlier(Box<MessageDoc>),
    /// New: the position among the batch's new messages.
    Fresh(usize),
    /// The same nonce as a new message before it in the batch (a retry of it).
    Again(usize),
}

/// The work of one attempt: the messages of `news` that repeat no earlier nonce (looked up
/// when `look_up`), numbered in order with one increment of the conversation's counters,
/// inserted at once.
async fn store_batch(
    store: &Store,
    session: &mut ClientSession,
    news: &[NewMessage],
    look_up: bool,
) -> Result<Vec<Sent>, TxError> {
    let numbered = number(store, session, news, look_up).await?;
    if !numbered.messages.is_empty() {
        store
            .messages
            .insert_many(&numbered.messages)
            .session(&mut *session)
            .await?;
    }
    numbered.into_sent()
}

/// A batch of one conversation's sends numbered inside a transaction, its new messages not
/// inserted yet.
struct Numbered {
    slots: Vec<Slot>,
    /// The new messages, to insert.
    messages: Vec<MessageDoc>,
    /// The conversation after the update that numbered them (none when nothing is new).
    conversation: Option<ConversationDoc>,
}

impl Numbered {
    /// What each send of the batch did, in order.
    fn into_sent(self) -> Result<Vec<Sent>, TxError> {
        let mut sent = Vec::with_capacity(self.slots.len());
        for slot in self.slots {
            sent.push(match slot {
                Slot::Earlier(message) => Sent::Repeated(*message),
                Slot::Fresh(index) => {
                    let conversation = self.conversation.clone().ok_or_else(gone)?;
                    let message = self.messages.get(index).ok_or_else(gone)?;
                    Sent::New(message.clone(), Box::new(conversation))
                }
                Slot::Again(index) => {
                    Sent::Repeated(self.messages.get(index).ok_or_else(gone)?.clone())
                }
            });
        }
        Ok(sent)
    }
}

/// The first half of [`store_batch`]: the messages of `news` that repeat no earlier nonce
/// (looked up when `look_up`), their attachments claimed, numbered in order with one update of
/// the conversation's counters, preview and marks.
async fn number(
    store: &Store,
    session: &mut ClientSession,
    news: &[NewMessage],
    look_up: bool,
) -> Result<Numbered, TxError> {
    let Some(first) = news.first() else {
        return Ok(Numbered {
            slots: Vec::new(),
            messages: Vec::new(),
            conversation: None,
        });
    };
    let conversation_id = first.conversation_id;
    let earlier = if look_up {
        earlier_by_nonce(store, session, conversation_id, news).await?
    } else {
        HashMap::new()
    };
    let mut slots = Vec::with_capacity(news.len());
    let mut fresh: Vec<&NewMessage> = Vec::with_capacity(news.len());
    let mut fresh_nonces: HashMap<(Uuid, &str), usize> = HashMap::new();
    for new in news {
        let nonce = new.nonce.as_deref();
        if let Some(message) =
            nonce.and_then(|nonce| earlier.get(&(new.sender, nonce.to_owned())).cloned())
        {
            slots.push(Slot::Earlier(Box::new(message)));
            continue;
        }
        // The same nonce twice in one batch: the second is a retry of the first.
        if let Some(&index) = nonce.and_then(|nonce| fresh_nonces.get(&(new.sender, nonce))) {
            slots.push(Slot::Again(index));
            continue;
        }
        if let Some(nonce) = nonce {
            fresh_nonces.insert((new.sender, nonce), fresh.len());
        }
        slots.push(Slot::Fresh(fresh.len()));
        fresh.push(new);
    }
    let mut messages = Vec::with_capacity(fresh.len());
    let mut conversation = None;
    if !fresh.is_empty() {
        let count = i64::try_from(fresh.len()).unwrap_or(i64::MAX);
        let now = BsonDateTime::now();
        // The messages first (their attachments claimed), numbered once the counter moved.
        for new in &fresh {
            let id = ObjectId::new();
            let attachments = super::files::claim(
                store,
                session,
                new.sender,
                &new.attachments,
                conversation_id,
                id,
            )
            .await?;
            messages.push(MessageDoc {
                id,
                conversation_id,
                seq: 0,
                sender_uuid: new.sender,
                text: new.text.clone(),
                timestamp: now,
                reply_to: new.reply_to,
                nonce: new.nonce.clone(),
                // Settled once the members are read (below).
                mentions: Vec::new(),
                mentions_everyone: new.mentions_everyone,
                reactions: Vec::new(),
                pinned_at: None,
                pinned_by: None,
                link_preview: None,
                attachments: attachments.iter().map(AttachmentDoc::of).collect(),
                version: 0,
                edited_at: None,
                deleted_at: None,
            });
        }
        let newest = messages.last().ok_or_else(gone)?;
        let senders: HashSet<Uuid> = fresh.iter().map(|new| new.sender).collect();
        let members: Vec<bson::Bson> = senders.iter().copied().map(uuids::bson).collect();
        // One update moves the counters and the preview (the newest message's `seq` is the
        // counter's new value): a pipeline, so the preview can use it. Strings are literals,
        // or a text starting with `$` would read as a field.
        let last_seq = doc! { "$add": [{ "$ifNull": ["$lastSeq", 0_i64] }, count] };
        let mut set = doc! {
            "lastSeq": last_seq.clone(),
            "version": { "$add": [{ "$ifNull": ["$version", 0_i64] }, count] },
            "updatedAt": now,
            "hiddenFor": { "$literal": [] },
            "lastMessage": {
                "messageId": newest.id,
                "seq": last_seq,
                "text": { "$literal": newest.preview() },
                "senderUuid": { "$literal": uuids::bson(newest.sender_uuid) },
                "timestamp": now,
            },
        };
        set.extend(marks_of(&fresh, &messages, now));
        let bump = vec![doc! { "$set": set }];
        let bumped = store
            .conversations
            .find_one_and_update(
                doc! { "_id": conversation_id, "participants": { "$all": members } },
                bump,
            )
            // The marks (a map entry per member who wrote) only serve unread counts.
            .projection(doc! { "marks": 0 })
            .return_document(ReturnDocument::After)
            .session(&mut *session)
            .await?
            .ok_or_else(gone)?;
        let first_seq = bumped.last_seq - count + 1;
        let first_version = bumped.version - count + 1;
        for ((offset, message), new) in (0_i64..).zip(messages.iter_mut()).zip(&fresh) {
            message.seq = first_seq + offset;
            message.version = first_version + offset;
            message.mentions = mentions_of(&bumped, new)?;
        }
        conversation = Some(bumped);
    }
    Ok(Numbered {
        slots,
        messages,
        conversation,
    })
}

/// The [`Marks`](crate::db::conversations::Marks) a batch of new messages moves, as fields of
/// the pipeline that numbers them (a message's `seq` is the old `lastSeq` plus its place in
/// the batch): each sender's newest message as their read position (its `seq` in a group, with
/// the message and time in a direct conversation, whose receipts show them), the newest
/// mentioning each member asked for (members or not: a mark may be higher than the truth) and
/// the newest mentioning everyone. `since` is set by the first batch of a conversation stored
/// before marks were kept. `messages` are `fresh` as stored (their ids), sent `now`.
fn marks_of(fresh: &[&NewMessage], messages: &[MessageDoc], now: BsonDateTime) -> Document {
    let seq = |place: i64| doc! { "$add": [{ "$ifNull": ["$lastSeq", 0_i64] }, place] };
    let mut newest: HashMap<String, i64> = HashMap::new();
    let mut read: HashMap<Uuid, (i64, ObjectId)> = HashMap::new();
    let mut marks = doc! {
        "marks.since": { "$ifNull": ["$marks.since", { "$ifNull": ["$lastSeq", 0_i64] }] },
    };
    for ((place, new), message) in (1_i64..).zip(fresh).zip(messages) {
        read.insert(new.sender, (place, message.id));
        for member in &new.mentions {
            if *member != new.sender {
                newest.insert(format!("mentioned.{}", member.hyphenated()), place);
            }
        }
        if new.mentions_everyone {
            newest.insert("everyone".to_owned(), place);
        }
    }
    for (field, place) in newest {
        marks.insert(format!("marks.{field}"), seq(place));
    }
    let in_group = fresh.first().is_some_and(|new| new.in_group);
    for (sender, (place, id)) in read {
        let sender = sender.hyphenated();
        if in_group {
            marks.insert(format!("marks.last.{sender}"), seq(place));
        } else {
            marks.insert(
                format!("marks.read.{sender}"),
                doc! { "seq": seq(place), "messageId": { "$literal": id }, "at": now },
            );
        }
    }
    marks
}

/// Whom a send mentions among the members as they are now: members only, never its sender;
/// every other member for `@everyone`, which only the group's admin may use.
fn mentions_of(conversation: &ConversationDoc, new: &NewMessage) -> Result<Vec<Uuid>, TxError> {
    if new.mentions_everyone && conversation.admin != Some(new.sender) {
        return Err(TxError::Api(ApiError::Forbidden(ErrorCode::NotGroupAdmin)));
    }
    let mut mentions: Vec<Uuid> = if new.mentions_everyone {
        conversation.participants.clone()
    } else {
        new.mentions
            .iter()
            .copied()
            .filter(|user| conversation.has_member(*user))
            .collect()
    };
    mentions.retain(|user| *user != new.sender);
    mentions.sort_unstable();
    mentions.dedup();
    Ok(mentions)
}

/// The messages stored before whose nonces (each sender's own) `news` use again.
async fn earlier_by_nonce(
    store: &Store,
    session: &mut ClientSession,
    conversation: ObjectId,
    news: &[NewMessage],
) -> Result<HashMap<(Uuid, String), MessageDoc>, TxError> {
    // One exact match of the `{conversationId, senderUuid, nonce}` index per nonce.
    let wanted: Vec<Document> = news
        .iter()
        .filter_map(|new| {
            new.nonce.as_ref().map(|nonce| {
                doc! {
                    "conversationId": conversation,
                    "senderUuid": uuids::bson(new.sender),
                    "nonce": nonce,
                }
            })
        })
        .collect();
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let found: Vec<MessageDoc> = store
        .messages
        .find(doc! { "$or": wanted })
        .session(&mut *session)
        .await?
        .stream(&mut *session)
        .try_collect()
        .await?;
    Ok(found
        .into_iter()
        .filter_map(|message| Some(((message.sender_uuid, message.nonce.clone()?), message)))
        .collect())
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
    /// The newest messages, given the conversation's `lastSeq` as read (messages committed
    /// since are included).
    Latest(i64),
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
    let (filter, order) = history_query(conversation, page, limit);
    Ok(store
        .messages
        .find(filter)
        .sort(doc! { "seq": order })
        .limit(limit)
        .await?
        .try_collect()
        .await?)
}

/// The filter and sort direction of a history page of at most `limit` messages. Numbering is
/// gap-free (every `seq` from 1 to `lastSeq` is a message; deleted ones keep their place), so
/// the range itself holds at most `limit` of them: a page reads what it returns, whatever the
/// length of the history, even where a server's `limit` does not bound its work.
pub fn history_query(conversation: ObjectId, page: Page, limit: i64) -> (Document, i32) {
    let limit = limit.max(1);
    match page {
        Page::Latest(last) => (
            doc! { "conversationId": conversation, "seq": { "$gt": last.saturating_sub(limit) } },
            -1,
        ),
        Page::Before(seq) => (
            doc! {
                "conversationId": conversation,
                "seq": { "$gte": seq.saturating_sub(limit), "$lt": seq },
            },
            -1,
        ),
        Page::After(seq) => (
            doc! {
                "conversationId": conversation,
                "seq": { "$gt": seq, "$lte": seq.saturating_add(limit) },
            },
            1,
        ),
        Page::Between(after, before) => (
            doc! {
                "conversationId": conversation,
                "seq": { "$gt": after, "$lt": before.min(after.saturating_add(limit).saturating_add(1)) },
            },
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
    // Unread counts in their conversations stop at the newest message (see `Marks`): a mark
    // higher than the blanked messages, set after them, so a repeat of the event sets it too.
    let conversations = store
        .messages
        .distinct("conversationId", doc! { "senderUuid": uuids::bson(user) })
        .await?;
    if !conversations.is_empty() {
        store
            .conversations
            .update_many(
                doc! { "_id": { "$in": conversations } },
                vec![doc! { "$set": { "marks.deleted": {
                    "$max": [{ "$ifNull": ["$marks.deleted", 0_i64] }, { "$ifNull": ["$lastSeq", 0_i64] }],
                } } }],
            )
            .await?;
    }
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
