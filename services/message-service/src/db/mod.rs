//! Storage in MongoDB: `conversations`, `messages` and `read_states`, with the indexes their
//! queries need (created at start-up), and a transaction runner that retries write conflicts.

pub mod conversations;
pub mod messages;
pub mod reads;

use std::time::Duration;

use bson::doc;
use chat_models::ApiError;
use mongodb::error::{
    Error as MongoError, TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT,
};
use mongodb::options::IndexOptions;
use mongodb::{Client, ClientSession, Collection, Database, IndexModel};

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
}

impl Store {
    /// The collections in `db`.
    pub fn new(client: Client, db: &Database) -> Self {
        Self {
            client,
            db: db.clone(),
            conversations: db.collection("conversations"),
            messages: db.collection("messages"),
            reads: db.collection("read_states"),
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
                // History pages and unread counts: a range of one conversation's positions.
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
        Ok(())
    }
}

/// How long a transaction may keep retrying write conflicts before the caller gets a 503.
pub const TRANSACTION_BUDGET: Duration = Duration::from_secs(5);

/// Whether a failed transaction attempt should be run again: MongoDB labels write conflicts
/// (two sends bumping one conversation) as transient. Pauses a little, growing with the
/// attempt and jittered, before saying so; gives up once `started` is `TRANSACTION_BUDGET` ago.
async fn retry_transaction(error: &TxError, attempt: u32, started: std::time::Instant) -> bool {
    let transient =
        matches!(error, TxError::Mongo(error) if error.contains_label(TRANSIENT_TRANSACTION_ERROR));
    if !transient || started.elapsed() >= TRANSACTION_BUDGET {
        return false;
    }
    let ceiling = 5 * u64::from(attempt.min(20));
    let pause = ceiling / 2 + rand::random::<u64>() % (ceiling / 2 + 1);
    tokio::time::sleep(Duration::from_millis(pause)).await;
    true
}

/// One attempt of a transaction's work, given the session to run it in.
pub type Attempt<'a, T> = futures::future::BoxFuture<'a, Result<T, TxError>>;

/// Runs `attempt` in a transaction, committing it, and runs it again while MongoDB reports a
/// transient conflict (within `TRANSACTION_BUDGET`; after that `503 server_busy`).
pub async fn in_transaction<C: Sync + ?Sized, T>(
    store: &Store,
    context: &C,
    attempt: for<'a> fn(&'a Store, &'a mut ClientSession, &'a C) -> Attempt<'a, T>,
) -> chat_models::Result<T> {
    let mut session = store.client.start_session().await?;
    let started = std::time::Instant::now();
    let mut attempts = 0;
    loop {
        attempts += 1;
        session.start_transaction().await?;
        let outcome = match attempt(store, &mut session, context).await {
            Ok(value) => commit(&mut session).await.map(|()| value),
            Err(error) => {
                let _ = session.abort_transaction().await;
                Err(error)
            }
        };
        match outcome {
            Ok(value) => return Ok(value),
            Err(error) if retry_transaction(&error, attempts, started).await => continue,
            Err(TxError::Mongo(error)) if error.contains_label(TRANSIENT_TRANSACTION_ERROR) => {
                return Err(contended())
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// What a transaction that still conflicts after its budget answers: busy, retry shortly.
pub fn contended() -> ApiError {
    ApiError::Unavailable {
        code: chat_models::ErrorCode::ServerBusy,
        retry_after_secs: 1,
    }
}

/// Commits, retrying while the outcome is unknown (as the MongoDB drivers' spec advises).
async fn commit(session: &mut ClientSession) -> Result<(), TxError> {
    for _ in 0..3 {
        match session.commit_transaction().await {
            Ok(()) => return Ok(()),
            Err(error) if error.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT) => continue,
            Err(error) => return Err(TxError::Mongo(error)),
        }
    }
    session.commit_transaction().await.map_err(TxError::Mongo)
}

/// An error inside a transaction: MongoDB's (maybe transient, so retried) or a refusal.
#[derive(Debug)]
pub enum TxError {
    /// From MongoDB.
    Mongo(MongoError),
    /// A rule refused the change.
    Api(ApiError),
}

impl From<MongoError> for TxError {
    fn from(error: MongoError) -> Self {
        Self::Mongo(error)
    }
}

impl From<ApiError> for TxError {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

impl From<TxError> for ApiError {
    fn from(error: TxError) -> Self {
        match error {
            TxError::Mongo(error) => error.into(),
            TxError::Api(error) => error,
        }
    }
}

/// Whether a MongoDB error is a duplicate key (E11000).
pub fn is_duplicate_key(error: &MongoError) -> bool {
    use mongodb::error::{ErrorKind, WriteFailure};
    match error.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(write)) => write.code == 11000,
        ErrorKind::Command(command) => command.code == 11000,
        _ => false,
    }
}
