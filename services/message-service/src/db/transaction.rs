//! Transactions that retry MongoDB's transient write conflicts within a budget.

use std::time::Duration;

use chat_models::ApiError;
use mongodb::error::{
    Error as MongoError, TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT,
};
use mongodb::options::{Acknowledgment, WriteConcern};
use mongodb::ClientSession;

use super::Store;

/// How long a transaction may keep retrying write conflicts before the caller gets a 503.
pub const TRANSACTION_BUDGET: Duration = Duration::from_secs(5);

/// Whether a failed transaction attempt should be run again: MongoDB labels write conflicts
/// (two sends bumping one conversation) as transient. Pauses a little, growing with the
/// attempt and jittered, before saying so; gives up once `started` is `TRANSACTION_BUDGET` ago.
async fn retry_transaction(error: &TxError, attempt: u32, started: std::time::Instant) -> bool {
    if !error.is_transient() || started.elapsed() >= TRANSACTION_BUDGET {
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
        session.start_transaction().write_concern(durable()).await?;
        let outcome = match attempt(store, &mut session, context).await {
            Ok(value) => commit(&mut session).await.map(|()| value),
            Err(error) => {
                let _ = session.abort_transaction().await;
                Err(error)
            }
        };
        match outcome {
            Ok(value) => return Ok(value),
            Err(error) if retry_transaction(&error, attempts, started).await => {
                metrics::counter!("mongo_transaction_retries_total", "service" => "message-service")
                    .increment(1);
                continue;
            }
            Err(error) if error.is_transient() => return Err(contended()),
            Err(error) => return Err(error.into()),
        }
    }
}

/// The write concern of every transaction: committed on a majority and in the journal, so an
/// acknowledged message (and the `seq` it took) survives a crash of the database.
pub fn durable() -> WriteConcern {
    WriteConcern::builder()
        .w(Acknowledgment::Majority)
        .journal(true)
        .build()
}

/// What a transaction that still conflicts after its budget answers: busy, retry shortly.
pub fn contended() -> ApiError {
    ApiError::Unavailable {
        code: chat_models::ErrorCode::ServerBusy,
        retry_after_secs: 1,
    }
}

/// Commits, retrying while the outcome is unknown (as the MongoDB drivers' spec advises).
pub async fn commit(session: &mut ClientSession) -> Result<(), TxError> {
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

impl TxError {
    /// Whether MongoDB says the transaction may simply run again (a write conflict): nothing
    /// of it was committed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Mongo(error) if error.contains_label(TRANSIENT_TRANSACTION_ERROR))
    }
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
    use mongodb::error::{ErrorKind, InsertManyError, WriteFailure};
    const DUPLICATE_KEY: i32 = 11000;
    match error.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(write)) => write.code == DUPLICATE_KEY,
        ErrorKind::Command(command) => command.code == DUPLICATE_KEY,
        ErrorKind::InsertMany(InsertManyError {
            write_errors: Some(errors),
            ..
        }) => errors.iter().any(|error| error.code == DUPLICATE_KEY),
        _ => false,
    }
}
