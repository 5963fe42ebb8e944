//! Storage in MongoDB: `conversations` (direct ones and groups), `messages`, `read_states`,
//! the push subscriptions and notification settings ([`push`]), files and their quota ([`files`]), with the indexes their queries need (created at start-up), and a
//! transaction runner that retries write conflicts. Every field name and operator lives in
//! this module; callers ask for intentions (rename a group, add members if there is room).

pub mod changes;
pub mod conversations;
pub mod files;
pub mod groups;
pub mod messages;
pub mod push;
pub mod reads;
mod transaction;
pub mod uuids;

use bson::doc;
use mongodb::options::IndexOptions;
use mongodb::{Client, Collection, Database, IndexModel};

pub use transaction::{
    commit, contended, durable, in_transaction, is_duplicate_key, Attempt, TxError,
    TRANSACTION_BUDGET,
};

use conversations::ConversationDoc;
use messages::MessageDoc;
use reads::ReadStateDoc;

/// Typed handles on the service's collections.
#[derive(Clone, Debug)]
pub struct Store {
    /// The client (sessions for transactions).
    pub client: Client,
    /// The database.
    pub db: Database,
    /// `conversations`.
    pub conversations: Collection<ConversationDoc>,
    /// `messages`.
    pub messages: Collection<MessageDoc>,
    /// `read_states`: one document per member and conversation.
    pub reads: Collection<ReadStateDoc>,
    /// `push_subscriptions`: browsers to notify.
    pub push_subscriptions: Collection<push::SubscriptionDoc>,
    /// `notification_settings`: one document per user who changed any.
    pub notification_settings: Collection<push::NotifySettingsDoc>,
    /// `files`: attachments and group pictures.
    pub files: Collection<chat_files::FileDoc>,
    /// `storage_usage`: each user's bytes of attachments.
    pub storage_usage: Collection<chat_files::quota::UsageDoc>,
    /// Sends waiting to be stored together (this instance's, per conversation).
    pub sends: messages::SendQueue,
}

impl Store {
    /// The collections in `db`.
    pub fn new(db: &Database) -> Self {
        Self {
            client: db.client().clone(),
            db: db.clone(),
            conversations: db.collection("conversations"),
            messages: db.collection("messages"),
            reads: db.collection("read_states"),
            push_subscriptions: db.collection("push_subscriptions"),
            notification_settings: db.collection("notification_settings"),
            files: db.collection("files"),
            storage_usage: db.collection("storage_usage"),
            sends: messages::SendQueue::default(),
        }
    }

    /// Creates the indexes (idempotent).
    pub async fn ensure_indexes(&self) -> mongodb::error::Result<()> {
        let named = |name: &str| IndexOptions::builder().name(name.to_owned()).build();
        let unique = |name: &str| {
            IndexOptions::builder()
                .name(name.to_owned())
                .unique(true)
                .build()
        };
        let unique_where = |name: &str, field: &str| {
            IndexOptions::builder()
                .name(name.to_owned())
                .unique(true)
                .partial_filter_expression(doc! { field: { "$exists": true } })
                .build()
        };
        self.conversations
            .create_indexes([
                // A member's conversation list, most recently active first.
                IndexModel::builder()
                    .keys(doc! { "participants": 1, "updatedAt": -1, "_id": -1 })
                    .options(named("participants_updatedAt"))
                    .build(),
                // One direct conversation per pair.
                IndexModel::builder()
                    .keys(doc! { "directKey": 1 })
                    .options(unique_where("directKey_unique", "directKey"))
                    .build(),
            ])
            .await?;
        self.messages
            .create_indexes([
                // History pages and unread (and mention) counts: a range of one conversation's
                // positions.
                IndexModel::builder()
                    .keys(doc! { "conversationId": 1, "seq": 1 })
                    .options(unique("conversation_seq"))
                    .build(),
                // A retried send finds the first copy.
                IndexModel::builder()
                    .keys(doc! { "conversationId": 1, "senderUuid": 1, "nonce": 1 })
                    .options(unique_where("conversation_sender_nonce", "nonce"))
                    .build(),
                // Removing a deleted account's messages.
                IndexModel::builder()
                    .keys(doc! { "senderUuid": 1 })
                    .options(named("senderUuid"))
                    .build(),
                // What changed after a version (catching up with edits, reactions, pins).
                IndexModel::builder()
                    .keys(doc! { "conversationId": 1, "version": 1 })
                    .options(named("conversation_version"))
                    .build(),
                // The pinned messages of a conversation.
                IndexModel::builder()
                    .keys(doc! { "conversationId": 1, "pinnedAt": -1 })
                    .options(
                        IndexOptions::builder()
                            .name("conversation_pinned".to_owned())
                            .partial_filter_expression(doc! { "pinnedAt": { "$exists": true } })
                            .build(),
                    )
                    .build(),
            ])
            .await?;
        self.reads
            .create_indexes([
                IndexModel::builder()
                    .keys(doc! { "conversationId": 1, "userUuid": 1 })
                    .options(unique("conversation_user"))
                    .build(),
                IndexModel::builder()
                    .keys(doc! { "userUuid": 1 })
                    .options(named("userUuid"))
                    .build(),
            ])
            .await?;
        self.push_subscriptions
            .create_indexes([
                // One subscription per browser endpoint.
                IndexModel::builder()
                    .keys(doc! { "endpoint": 1 })
                    .options(unique("endpoint_unique"))
                    .build(),
                // The recipients' subscriptions; a session's, when it is signed out.
                IndexModel::builder()
                    .keys(doc! { "userUuid": 1, "sessionId": 1 })
                    .options(named("user_session"))
                    .build(),
            ])
            .await?;
        chat_files::records::ensure_indexes(&self.files).await?;
        Ok(())
    }
}
