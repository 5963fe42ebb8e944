//! Sends of different conversations sharing a transaction: while this instance's shared
//! transactions run (`SEND_SHARED_AT_ONCE`, two by default), the batches of other conversations
//! ([`super::queue`] makes one per conversation) that come wait, and the next transaction
//! stores all of them (up to `SEND_SHARED_MAX` conversations): one commit, one journal write
//! and one `insertMany` for many conversations, instead of one each. A conversation has one
//! batch in the store at a time, so transactions running at once never hold the same one.
//! Every conversation's document is still updated by its own pipeline inside it, so each
//! conversation's `seq` stays gap-free and in commit order, and a send is answered only once
//! the transaction holding it committed.
//!
//! A shared transaction runs once. When the work of one conversation conflicts with another
//! transaction or a rule refuses one of its sends, that conversation's batch is stored alone
//! ([`super::send_all`]: retries, and a refusal that is only its send's), and the others go
//! into the next shared transaction; any other failure before the commit stores every batch
//! alone. Those run in tasks of their own, so a conflict backing off never holds up the other
//! conversations of the instance.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chat_models::Result;
use mongodb::ClientSession;
use tokio::sync::oneshot;

use super::{copy_of, number, refused, send_all, NewMessage, Numbered, Sent};
use crate::db::{commit, durable, Store, TxError};

/// The most conversations one transaction stores sends of, unless configured.
pub const DEFAULT_MOST: usize = 16;
/// Shared transactions running at once on an instance, unless configured.
pub const DEFAULT_AT_ONCE: usize = 2;
/// The most sends one shared transaction stores (a batch bigger than this goes alone).
const MOST_SENDS: usize = 256;

/// What storing one conversation's batch gave: an answer per send, in order, and whether its
/// transaction conflicted with another's (see [`super::turns`]).
type Stored = (Vec<Result<Sent>>, bool);

/// One conversation's batch waiting for a transaction, and where its answer goes.
struct Batch {
    news: Vec<NewMessage>,
    answer: oneshot::Sender<Stored>,
}

/// Batches waiting, and how many tasks run their transactions.
#[derive(Default)]
struct Pending {
    batches: VecDeque<Batch>,
    running: usize,
}

/// The transactions of one instance's sends, shared between conversations.
#[derive(Clone)]
pub struct SharedCommits {
    pending: Arc<Mutex<Pending>>,
    most: usize,
    at_once: usize,
    /// Shared transactions run, and the batches they held.
    counts: Arc<[AtomicU64; 2]>,
}

impl Default for SharedCommits {
    fn default() -> Self {
        Self::new(DEFAULT_MOST, DEFAULT_AT_ONCE)
    }
}

impl std::fmt::Debug for SharedCommits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedCommits")
            .field("most", &self.most)
            .field("at_once", &self.at_once)
            .finish_non_exhaustive()
    }
}

impl SharedCommits {
    /// Transactions storing the sends of up to `most` conversations each, `at_once` of them
    /// running at a time (at least one; `most` 1: every conversation's batch in a transaction
    /// of its own, as many at a time as come).
    pub fn new(most: usize, at_once: usize) -> Self {
        Self {
            pending: Arc::default(),
            most: most.max(1),
            at_once: at_once.max(1),
            counts: Arc::default(),
        }
    }

    /// How many shared transactions ran, and how many conversations' batches they held
    /// (whether they committed or not).
    pub fn counts(&self) -> (u64, u64) {
        let [transactions, batches] = &*self.counts;
        (
            transactions.load(Ordering::Relaxed),
            batches.load(Ordering::Relaxed),
        )
    }

    /// Stores `news` (one conversation's sends, in order), in a transaction shared with the
    /// batches of other conversations that wait at the same time.
    pub async fn store(&self, store: &Store, news: Vec<NewMessage>) -> Stored {
        if self.most == 1 || news.len() > MOST_SENDS {
            return send_all(store, &news).await;
        }
        let count = news.len();
        let (answer, answered) = oneshot::channel();
        if self.push(Batch { news, answer }) {
            let runner = Runner {
                commits: self.clone(),
                done: false,
            };
            tokio::spawn(runner.run(store.clone()));
        }
        answered.await.unwrap_or_else(|_| {
            let answers = std::iter::repeat_with(|| Err(super::queue::no_answer()));
            (answers.take(count).collect(), false)
        })
    }

    /// Queues `batch`; whether a runner is to start for it (counted as running already): one
    /// does while fewer than `at_once` run.
    fn push(&self, batch: Batch) -> bool {
        let mut pending = self.lock();
        pending.batches.push_back(batch);
        let start = pending.running < self.at_once;
        pending.running += usize::from(start);
        start
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        // A panic while the lock is held cannot leave the queue half-changed (single calls).
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The batches for the next transaction, oldest first: up to `most` conversations and
    /// [`MOST_SENDS`] sends. None when none wait; the runner asking stops then (a later batch
    /// starts another).
    fn next(&self) -> Vec<Batch> {
        let mut pending = self.lock();
        let mut taken: Vec<Batch> = Vec::new();
        let mut sends = 0;
        while taken.len() < self.most {
            let Some(batch) = pending.batches.pop_front() else {
                break;
            };
            if !taken.is_empty() && sends + batch.news.len() > MOST_SENDS {
                pending.batches.push_front(batch);
                break;
            }
            sends += batch.news.len();
            taken.push(batch);
        }
        if taken.is_empty() {
            pending.running -= 1;
        }
        taken
    }

    /// Puts batches back at the head of the queue, in order, for the next transaction.
    fn put_back(&self, batches: Vec<Batch>) {
        let mut pending = self.lock();
        for batch in batches.into_iter().rev() {
            pending.batches.push_front(batch);
        }
    }

    /// One shared transaction of `batches`, and the answers (or what runs instead).
    async fn run_once(&self, store: &Store, batches: Vec<Batch>) {
        let [transactions, held] = &*self.counts;
        transactions.fetch_add(1, Ordering::Relaxed);
        held.fetch_add(batches.len() as u64, Ordering::Relaxed);
        metrics::counter!("message_send_shared_transactions_total", "service" => "message-service")
            .increment(1);
        metrics::counter!("message_send_shared_conversations_total", "service" => "message-service")
            .increment(batches.len() as u64);
        let news: Vec<&[NewMessage]> = batches.iter().map(|batch| batch.news.as_slice()).collect();
        match shared_transaction(store, &news).await {
            Ok(stored) => {
                for (batch, sent) in batches.into_iter().zip(stored) {
                    // The caller may have gone; its messages are stored all the same.
                    let _ = batch
                        .answer
                        .send((sent.into_iter().map(Ok).collect(), false));
                }
            }
            Err(Failed::At(index, error)) => {
                let mut others = batches;
                let alone = others.remove(index);
                self.put_back(others);
                store_alone(store, alone, error.is_transient());
            }
            Err(Failed::Before(error)) => {
                // A nonce used again (the index refused the insert of all) is no fault.
                if !refused(&error) && !error.is_transient() {
                    tracing::warn!(
                        error = ?error,
                        "a shared transaction of sends failed: each conversation's are stored alone"
                    );
                }
                for batch in batches {
                    store_alone(store, batch, false);
                }
            }
            Err(Failed::Commit(error)) => {
                // Maybe committed: storing them again could store them twice.
                let error = chat_models::ApiError::from(error);
                for batch in batches {
                    let answers = std::iter::repeat_with(|| Err(copy_of(&error)));
                    let _ = batch
                        .answer
                        .send((answers.take(batch.news.len()).collect(), false));
                }
            }
        }
    }
}

/// Stores one conversation's batch in a transaction of its own, in a task of its own, and
/// answers it; `conflicted` when its work conflicted in a shared transaction already.
fn store_alone(store: &Store, batch: Batch, conflicted: bool) {
    metrics::counter!("message_send_shared_fallbacks_total", "service" => "message-service")
        .increment(1);
    let store = store.clone();
    tokio::spawn(async move {
        let (answers, again) = send_all(&store, &batch.news).await;
        let _ = batch.answer.send((answers, conflicted || again));
    });
}

/// The task running shared transactions while batches wait.
struct Runner {
    commits: SharedCommits,
    /// Set once no batch waited (and it was no longer counted as running).
    done: bool,
}

impl Runner {
    async fn run(mut self, store: Store) {
        loop {
            let batches = self.commits.next();
            if batches.is_empty() {
                self.done = true;
                return;
            }
            self.commits.run_once(&store, batches).await;
        }
    }
}

impl Drop for Runner {
    /// Only when the task ends early (a panic): it no longer counts as running, and when no
    /// other runner is left to take them, the waiting batches are answered with an error (their
    /// senders dropped); the next batch starts a runner again.
    fn drop(&mut self) {
        if !self.done {
            let mut pending = self.commits.lock();
            pending.running = pending.running.saturating_sub(1);
            if pending.running == 0 {
                pending.batches.clear();
            }
        }
    }
}

/// Why a shared transaction stored nothing.
#[derive(Debug)]
enum Failed {
    /// The work of the batch at this place conflicted or was refused.
    At(usize, TxError),
    /// Something else failed before the commit (nothing was stored).
    Before(TxError),
    /// The commit failed: the transaction may have committed.
    Commit(TxError),
}

/// One transaction storing the batches (each one conversation's sends): each numbered by its
/// conversation's update, then every new message inserted at once, then the commit. Runs once.
async fn shared_transaction(
    store: &Store,
    batches: &[&[NewMessage]],
) -> Result<Vec<Vec<Sent>>, Failed> {
    let mut session = store
        .client
        .start_session()
        .await
        .map_err(|error| Failed::Before(error.into()))?;
    session
        .start_transaction()
        .write_concern(durable())
        .await
        .map_err(|error| Failed::Before(error.into()))?;
    let outcome = match work(store, &mut session, batches).await {
        Ok(stored) => commit(&mut session)
            .await
            .map(|()| stored)
            .map_err(|error| {
                if error.is_transient() {
                    Failed::Before(error)
                } else {
                    Failed::Commit(error)
                }
            }),
        Err(failed) => Err(failed),
    };
    if matches!(outcome, Err(Failed::At(..) | Failed::Before(_))) {
        let _ = session.abort_transaction().await;
    }
    outcome
}

/// The work of [`shared_transaction`] before its commit.
async fn work(
    store: &Store,
    session: &mut ClientSession,
    batches: &[&[NewMessage]],
) -> Result<Vec<Vec<Sent>>, Failed> {
    let mut numbered: Vec<Numbered> = Vec::with_capacity(batches.len());
    for (index, news) in batches.iter().enumerate() {
        match number(store, session, news, false).await {
            Ok(batch) => numbered.push(batch),
            Err(error) if error.is_transient() || refused(&error) => {
                return Err(Failed::At(index, error))
            }
            Err(error) => return Err(Failed::Before(error)),
        }
    }
    let messages = numbered.iter().flat_map(|batch| &batch.messages);
    if numbered.iter().any(|batch| !batch.messages.is_empty()) {
        store
            .messages
            .insert_many(messages)
            .session(&mut *session)
            .await
            .map_err(|error| Failed::Before(error.into()))?;
    }
    numbered
        .into_iter()
        .map(Numbered::into_sent)
        .collect::<Result<Vec<_>, _>>()
        .map_err(Failed::Before)
}

#[cfg(test)]
mod tests {
    use bson::oid::ObjectId;

    use super::*;

    fn batch(sends: usize) -> (Batch, oneshot::Receiver<Stored>) {
        let conversation = ObjectId::new();
        let news = (0..sends)
            .map(|n| NewMessage {
                conversation_id: conversation,
                sender: uuid::Uuid::nil(),
                text: format!("{n}"),
                reply_to: None,
                nonce: None,
                mentions: Vec::new(),
                mentions_everyone: false,
                attachments: Vec::new(),
                in_group: false,
            })
            .collect();
        let (answer, answered) = oneshot::channel();
        (Batch { news, answer }, answered)
    }

    /// Queues batches of these sizes, as if for a runner already running.
    fn queue(commits: &SharedCommits, sizes: &[usize]) -> Vec<oneshot::Receiver<Stored>> {
        let mut pending = commits.lock();
        pending.running = 1;
        sizes
            .iter()
            .map(|&sends| {
                let (batch, answered) = batch(sends);
                pending.batches.push_back(batch);
                answered
            })
            .collect()
    }

    fn sizes(batches: &[Batch]) -> Vec<usize> {
        batches.iter().map(|batch| batch.news.len()).collect()
    }

    #[test]
    fn a_transaction_takes_the_oldest_batches_up_to_its_limits() {
        let commits = SharedCommits::new(3, 1);
        let _answers = queue(&commits, &[1, 2, 3, 4, 5]);
        assert_eq!(sizes(&commits.next()), [1, 2, 3]);
        assert_eq!(sizes(&commits.next()), [4, 5]);
        assert!(commits.next().is_empty());
        assert_eq!(commits.lock().running, 0, "the runner stops once none wait");

        // At most MOST_SENDS sends, unless one batch alone is bigger.
        let _answers = queue(&commits, &[200, 56, 1, 300]);
        assert_eq!(sizes(&commits.next()), [200, 56]);
        assert_eq!(sizes(&commits.next()), [1]);
        assert_eq!(sizes(&commits.next()), [300]);
        assert!(commits.next().is_empty());
    }

    #[test]
    fn batches_put_back_go_first_in_their_order() {
        let commits = SharedCommits::new(16, 1);
        let _answers = queue(&commits, &[1, 2, 3]);
        let mut taken = commits.next();
        let _later = queue(&commits, &[4]);
        taken.remove(1);
        commits.put_back(taken);
        assert_eq!(sizes(&commits.next()), [1, 3, 4]);
    }

    #[test]
    fn runners_start_for_new_batches_until_at_once_run() {
        let commits = SharedCommits::new(16, 2);
        let starts: Vec<bool> = (0..3).map(|_| commits.push(batch(1).0)).collect();
        assert_eq!(starts, [true, true, false]);
        assert_eq!(commits.lock().running, 2);
        // A runner finding none waiting stops, and the next batch starts one again.
        assert_eq!(sizes(&commits.next()), [1, 1, 1]);
        assert!(commits.next().is_empty());
        assert_eq!(commits.lock().running, 1);
        assert!(commits.push(batch(1).0));

        let alone = SharedCommits::new(16, 1);
        assert!(alone.push(batch(1).0));
        assert!(!alone.push(batch(1).0), "one at a time");
    }

    #[test]
    fn a_runner_ending_early_leaves_the_batches_to_another_or_answers_them() {
        let commits = SharedCommits::new(16, 2);
        let mut answers = queue(&commits, &[1, 2]);
        commits.lock().running = 2;
        drop(Runner {
            commits: commits.clone(),
            done: false,
        });
        assert_eq!(commits.lock().running, 1);
        assert_eq!(
            commits.lock().batches.len(),
            2,
            "the other runner takes the waiting batches"
        );
        drop(Runner {
            commits: commits.clone(),
            done: false,
        });
        assert_eq!(commits.lock().running, 0);
        for answered in &mut answers {
            assert!(
                matches!(
                    answered.try_recv(),
                    Err(oneshot::error::TryRecvError::Closed)
                ),
                "dropped, not left waiting"
            );
        }
        assert!(commits.lock().batches.is_empty());
    }
}
