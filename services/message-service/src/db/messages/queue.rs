//! Group commit of sends: while a transaction stores messages of a conversation, the sends to
//! it that arrive on this instance wait, and the next transaction stores all of them at once
//! (up to `SEND_BATCH_MAX`, [`DEFAULT_MOST`] by default). One conversation is written by one transaction at a time
//! per instance, so sixteen people typing into one group cost one transaction per round, not
//! sixteen transactions conflicting on its document. Between instances, the writers take
//! turns ([`super::turns`]) instead of conflicting; the order of `seq` stays the commit order.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use bson::oid::ObjectId;
use chat_models::{ApiError, Result};
use tokio::sync::oneshot;

use super::turns::Turns;
use super::{send_all, NewMessage, Sent};
use crate::db::Store;

/// The most sends one transaction stores, unless configured.
pub const DEFAULT_MOST: usize = 64;

/// A send waiting for its transaction, and where its answer goes.
struct Waiting {
    new: NewMessage,
    answer: oneshot::Sender<Result<Sent>>,
}

/// Sends waiting, per conversation. A conversation has an entry exactly while a task of this
/// instance stores its sends (the entry holds those that arrived since its last transaction).
#[derive(Clone)]
pub struct SendQueue {
    waiting: Arc<Mutex<HashMap<ObjectId, Vec<Waiting>>>>,
    most: usize,
    /// Turns with other instances, when they are taken.
    turns: Option<Arc<Turns>>,
}

impl Default for SendQueue {
    fn default() -> Self {
        Self::new(DEFAULT_MOST)
    }
}

impl std::fmt::Debug for SendQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendQueue")
            .field("most", &self.most)
            .field("turns", &self.turns.is_some())
            .finish_non_exhaustive()
    }
}

impl SendQueue {
    /// A queue storing at most `most` sends per transaction (at least one).
    pub fn new(most: usize) -> Self {
        Self {
            waiting: Arc::default(),
            most: most.max(1),
            turns: None,
        }
    }

    /// The same queue, taking turns with other instances at each conversation's transactions.
    pub fn taking_turns(mut self, turns: Arc<Turns>) -> Self {
        self.turns = Some(turns);
        self
    }

    /// Stores `new` with whatever else is sent to its conversation meanwhile. The store runs in
    /// a task of its own: a caller that goes away (a closed connection) neither cancels the
    /// transaction of others nor stalls the queue.
    pub async fn send(&self, store: &Store, new: NewMessage) -> Result<Sent> {
        let conversation = new.conversation_id;
        let (answer, answered) = oneshot::channel();
        let first = {
            let mut waiting = self.lock();
            match waiting.get_mut(&conversation) {
                Some(queued) => {
                    queued.push(Waiting { new, answer });
                    false
                }
                None => {
                    waiting.insert(conversation, vec![Waiting { new, answer }]);
                    true
                }
            }
        };
        if first {
            let writer = Writer {
                queue: self.clone(),
                conversation,
                idle: false,
            };
            tokio::spawn(writer.run(store.clone()));
        }
        answered.await.map_err(|_| {
            ApiError::Internal(anyhow::anyhow!(
                "the task storing a send ended without an answer"
            ))
        })?
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ObjectId, Vec<Waiting>>> {
        // A panic while the lock is held cannot leave the map half-changed (single calls).
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether sends of `conversation` wait; when none do, its entry is removed (a later send
    /// starts a new writer).
    fn any_waiting(&self, conversation: ObjectId) -> bool {
        let mut waiting = self.lock();
        match waiting.get(&conversation) {
            Some(queued) if !queued.is_empty() => true,
            _ => {
                waiting.remove(&conversation);
                false
            }
        }
    }

    /// The next sends of `conversation` to store (up to `most`).
    fn next_batch(&self, conversation: ObjectId) -> Vec<Waiting> {
        let mut waiting = self.lock();
        let Some(queued) = waiting.get_mut(&conversation) else {
            return Vec::new();
        };
        let rest = queued.split_off(queued.len().min(self.most));
        std::mem::replace(queued, rest)
    }
}

/// The task storing one conversation's sends, transaction after transaction, until none wait.
struct Writer {
    queue: SendQueue,
    conversation: ObjectId,
    /// Set once `any_waiting` found nothing (and removed the entry).
    idle: bool,
}

impl Writer {
    async fn run(mut self, store: Store) {
        let turns = self.queue.turns.clone();
        while self.queue.any_waiting(self.conversation) {
            // Turns once the conversation met another instance's sends; the batch is taken
            // once the turn is ours, so what queued while waiting goes too.
            let asked = std::time::Instant::now();
            let turn = match &turns {
                Some(turns) if turns.contended(self.conversation) => {
                    let turn = turns.take(self.conversation).await;
                    metrics::histogram!("message_send_turn_wait_seconds", "service" => "message-service")
                        .record(asked.elapsed().as_secs_f64());
                    Some(turn)
                }
                _ => None,
            };
            let batch = self.queue.next_batch(self.conversation);
            let (news, answers): (Vec<NewMessage>, Vec<_>) = batch
                .into_iter()
                .map(|waiting| (waiting.new, waiting.answer))
                .unzip();
            metrics::counter!("message_send_transactions_total", "service" => "message-service")
                .increment(1);
            metrics::counter!("message_sends_batched_total", "service" => "message-service")
                .increment(news.len() as u64);
            let started = std::time::Instant::now();
            let (results, conflicted) = send_all(&store, &news).await;
            metrics::histogram!("message_send_transaction_seconds", "service" => "message-service")
                .record(started.elapsed().as_secs_f64());
            if let Some(turns) = &turns {
                if conflicted {
                    turns.conflicted(self.conversation);
                }
                if let Some(turn) = turn {
                    turns.give(turn).await;
                }
            }
            for (answer, result) in answers.into_iter().zip(results) {
                // The caller may have gone; its message is stored all the same.
                let _ = answer.send(result);
            }
        }
        // `any_waiting` removed the entry: a later send starts a new writer.
        self.idle = true;
    }
}

impl Drop for Writer {
    /// Only when the task ends early (a panic): the waiting sends are answered with an error
    /// (their senders dropped) and the conversation takes sends again.
    fn drop(&mut self) {
        if !self.idle {
            self.queue.lock().remove(&self.conversation);
        }
    }
}
