//! Group commit of sends: while a transaction stores messages of a conversation, the sends to
//! it that arrive on this instance wait, and the next transaction stores all of them at once
//! (up to `SEND_BATCH_MAX`, [`DEFAULT_MOST`] by default). One conversation is written by one transaction at a time
//! per instance, so sixteen people typing into one group cost one transaction per round, not
//! sixteen transactions conflicting on its document. Between instances, the writers take
//! turns ([`super::turns`]) instead of conflicting, and a writer finding another instance
//! holding the turn hands its sends there ([`super::forward`]); the order of `seq` stays the
//! commit order. The transaction storing a conversation's batch is shared with the batches of
//! other conversations waiting at the same time ([`super::shared`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bson::oid::ObjectId;
use chat_models::{ApiError, Result};
use tokio::sync::{oneshot, Notify};

use super::forward::{self, Forwarded, Forwarding};
use super::shared::SharedCommits;
use super::turns::{Ask, Turn, Turns};
use super::{NewMessage, Sent};
use crate::db::Store;

/// The most sends one transaction stores, unless configured.
pub const DEFAULT_MOST: usize = 64;
/// How long a writer holding its conversation's turn keeps it after a transaction for sends
/// to come (its own, or forwarded by other instances) before giving it back: while sends
/// keep coming, one instance stores them all, without a hand-over between transactions.
const LINGER: Duration = Duration::from_millis(5);

/// A send waiting for its transaction, and where its answer goes.
struct Waiting {
    new: NewMessage,
    answer: oneshot::Sender<Result<Sent>>,
    /// Stored by this instance, never forwarded: it was forwarded here, or its forward went
    /// unanswered.
    stays: bool,
}

/// A conversation's sends waiting, and how its writer learns of a new one.
#[derive(Default)]
struct Entry {
    sends: Vec<Waiting>,
    arrived: Arc<Notify>,
}

/// Sends waiting, per conversation. A conversation has an entry exactly while a task of this
/// instance stores its sends (the entry holds those that arrived since its last transaction).
#[derive(Clone)]
pub struct SendQueue {
    waiting: Arc<Mutex<HashMap<ObjectId, Entry>>>,
    most: usize,
    /// Turns with other instances, when they are taken.
    turns: Option<Arc<Turns>>,
    /// Forwarding to the instance holding a turn, when sends are forwarded.
    forwarding: Option<Arc<Forwarding>>,
    /// The transactions, shared with other conversations' batches.
    shared: SharedCommits,
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
            .field("forwarding", &self.forwarding.is_some())
            .field("shared", &self.shared)
            .finish_non_exhaustive()
    }
}

impl SendQueue {
    /// A queue storing at most `most` sends of a conversation per transaction (at least one),
    /// with [`SharedCommits`]' default number of conversations.
    pub fn new(most: usize) -> Self {
        Self {
            waiting: Arc::default(),
            most: most.max(1),
            turns: None,
            forwarding: None,
            shared: SharedCommits::default(),
        }
    }

    /// Its transactions, shared between conversations.
    pub fn shared(&self) -> &SharedCommits {
        &self.shared
    }

    /// The same queue, its transactions storing the sends of up to `conversations`
    /// conversations each (1: a transaction per conversation), `at_once` of them running at a
    /// time.
    pub fn sharing(mut self, conversations: usize, at_once: usize) -> Self {
        self.shared = SharedCommits::new(conversations, at_once);
        self
    }

    /// The same queue, taking turns with other instances at each conversation's transactions,
    /// and forwarding sends to the holder of a turn when `forwarding` is given.
    pub fn taking_turns(mut self, turns: Arc<Turns>, forwarding: Option<Arc<Forwarding>>) -> Self {
        self.turns = Some(turns);
        self.forwarding = forwarding;
        self
    }

    /// Stores `new` with whatever else is sent to its conversation meanwhile. The store runs in
    /// a task of its own: a caller that goes away (a closed connection) neither cancels the
    /// transaction of others nor stalls the queue.
    ///
    /// A send of a conversation whose holder answered a forward of this instance lately
    /// ([`forward::HOLDER_MEMORY`]) goes straight to it.
    pub async fn send(&self, store: &Store, new: NewMessage) -> Result<Sent> {
        let conversation = new.conversation_id;
        let (answer, answered) = oneshot::channel();
        let mut sends = vec![Waiting {
            new,
            answer,
            stays: false,
        }];
        // Straight to the holder, without waiting for this instance's writer (busy with a
        // forward of its own) or asking Redis again.
        if let Some(forwarding) = &self.forwarding {
            if let Some(holder) = forwarding.holder_of(conversation) {
                sends = forward_to(forwarding, &holder, sends).await;
            }
        }
        self.queue_up(store, conversation, sends);
        answered.await.unwrap_or_else(|_| Err(no_answer()))
    }

    /// Queues sends another instance forwarded here (one conversation's, in order): they are
    /// stored by this instance, which takes turns at their conversation from now on.
    pub fn forwarded(
        &self,
        store: &Store,
        news: Vec<NewMessage>,
    ) -> Vec<oneshot::Receiver<Result<Sent>>> {
        if let (Some(turns), Some(first)) = (&self.turns, news.first()) {
            turns.conflicted(first.conversation_id);
        }
        self.enqueue(store, news, true)
    }

    /// Queues sends of one conversation, in order, starting its writer if none runs.
    fn enqueue(
        &self,
        store: &Store,
        news: Vec<NewMessage>,
        stays: bool,
    ) -> Vec<oneshot::Receiver<Result<Sent>>> {
        let Some(conversation) = news.first().map(|new| new.conversation_id) else {
            return Vec::new();
        };
        let (sends, answers) = news
            .into_iter()
            .map(|new| {
                let (answer, answered) = oneshot::channel();
                (Waiting { new, answer, stays }, answered)
            })
            .unzip();
        self.queue_up(store, conversation, sends);
        answers
    }

    /// Queues sends of `conversation` (none: nothing), starting its writer if none runs.
    fn queue_up(&self, store: &Store, conversation: ObjectId, sends: Vec<Waiting>) {
        if sends.is_empty() {
            return;
        }
        let first = {
            let mut waiting = self.lock();
            let first = !waiting.contains_key(&conversation);
            let queued = waiting.entry(conversation).or_default();
            queued.sends.extend(sends);
            queued.arrived.notify_one();
            first
        };
        if first {
            let writer = Writer {
                queue: self.clone(),
                conversation,
                idle: false,
            };
            tokio::spawn(writer.run(store.clone()));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ObjectId, Entry>> {
        // A panic while the lock is held cannot leave the map half-changed (single calls).
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether sends of `conversation` wait; when none do, its entry is removed (a later send
    /// starts a new writer).
    fn any_waiting(&self, conversation: ObjectId) -> bool {
        let mut waiting = self.lock();
        match waiting.get(&conversation) {
            Some(queued) if !queued.sends.is_empty() => true,
            _ => {
                waiting.remove(&conversation);
                false
            }
        }
    }

    /// Whether sends of `conversation` wait now or arrive within `linger` (its entry stays
    /// either way).
    async fn any_within(&self, conversation: ObjectId, linger: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + linger;
        loop {
            let arrived = {
                let waiting = self.lock();
                let Some(queued) = waiting.get(&conversation) else {
                    return false;
                };
                if !queued.sends.is_empty() {
                    return true;
                }
                queued.arrived.clone()
            };
            // A permit left by an earlier send wakes this at once: the loop looks again.
            if tokio::time::timeout_at(deadline, arrived.notified())
                .await
                .is_err()
            {
                return false;
            }
        }
    }

    /// Whether the next send of `conversation` is one this instance must store itself.
    fn next_stays(&self, conversation: ObjectId) -> bool {
        self.lock()
            .get(&conversation)
            .and_then(|queued| queued.sends.first())
            .is_some_and(|next| next.stays)
    }

    /// The next sends of `conversation` to store (up to `most`); with `movable`, only those
    /// before the first that stays.
    fn next_batch(&self, conversation: ObjectId, movable: bool) -> Vec<Waiting> {
        let mut waiting = self.lock();
        let Some(queued) = waiting.get_mut(&conversation) else {
            return Vec::new();
        };
        let queued = &mut queued.sends;
        let mut end = queued.len().min(self.most);
        if movable {
            end = queued[..end]
                .iter()
                .position(|next| next.stays)
                .unwrap_or(end);
        }
        let rest = queued.split_off(end);
        std::mem::replace(queued, rest)
    }

    /// Puts sends back at the head of `conversation`'s queue, to be stored here.
    fn put_back(&self, conversation: ObjectId, mut sends: Vec<Waiting>) {
        let mut waiting = self.lock();
        let queued = &mut waiting.entry(conversation).or_default().sends;
        for send in &mut sends {
            send.stays = true;
        }
        sends.append(queued);
        *queued = sends;
    }
}

/// The answer to a send whose storing task ended without giving one.
pub(super) fn no_answer() -> ApiError {
    ApiError::Internal(anyhow::anyhow!(
        "the task storing a send ended without an answer"
    ))
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
        // Kept from one transaction to the next while sends keep coming (and no other
        // instance waits for it).
        let mut turn: Option<Turn> = None;
        while self.queue.any_waiting(self.conversation) {
            // Turns once the conversation met another instance's sends; the batch is taken
            // once the turn is ours, so what queued while waiting goes too.
            if let Some(turns) = &turns {
                if turn.is_none() && turns.contended(self.conversation) {
                    let asked = std::time::Instant::now();
                    let ask = if self.queue.forwarding.is_none()
                        || self.queue.next_stays(self.conversation)
                    {
                        Ask::Wait
                    } else {
                        turns.ask(self.conversation).await
                    };
                    turn = Some(match ask {
                        Ask::Taken(turn) => turn,
                        Ask::HeldBy(holder) => {
                            self.forward(&holder).await;
                            continue;
                        }
                        Ask::Wait => turns.take(self.conversation).await,
                    });
                    // Sends of the conversation stay here while this instance holds its turn.
                    if let Some(forwarding) = &self.queue.forwarding {
                        forwarding.forget(self.conversation);
                    }
                    metrics::histogram!("message_send_turn_wait_seconds", "service" => "message-service")
                        .record(asked.elapsed().as_secs_f64());
                }
            }
            let batch = self.queue.next_batch(self.conversation, false);
            let (news, answers): (Vec<NewMessage>, Vec<_>) = batch
                .into_iter()
                .map(|waiting| (waiting.new, waiting.answer))
                .unzip();
            metrics::counter!("message_send_transactions_total", "service" => "message-service")
                .increment(1);
            metrics::counter!("message_sends_batched_total", "service" => "message-service")
                .increment(news.len() as u64);
            let started = std::time::Instant::now();
            let (results, conflicted) = self.queue.shared.store(&store, news).await;
            metrics::histogram!("message_send_transaction_seconds", "service" => "message-service")
                .record(started.elapsed().as_secs_f64());
            for (answer, result) in answers.into_iter().zip(results) {
                // The caller may have gone; its message is stored all the same.
                let _ = answer.send(result);
            }
            if let Some(turns) = &turns {
                if conflicted {
                    turns.conflicted(self.conversation);
                }
                if let Some(held) = turn.take() {
                    if held.is_held() && self.queue.any_within(self.conversation, LINGER).await {
                        turn = turns.keep(held).await;
                    } else {
                        turns.give(held).await;
                    }
                }
            }
        }
        if let (Some(turns), Some(held)) = (&turns, turn) {
            turns.give(held).await;
        }
        // `any_waiting` removed the entry: a later send starts a new writer.
        self.idle = true;
    }

    /// Hands the next sends (up to the first that stays here) to the instance `holder` and
    /// answers them; what it did not answer is put back to be stored here, except a send
    /// without a nonce it may have stored (see [`super::forward`]).
    async fn forward(&self, holder: &str) {
        let Some(forwarding) = &self.queue.forwarding else {
            return;
        };
        let batch = self.queue.next_batch(self.conversation, true);
        if batch.is_empty() {
            return;
        }
        let again = forward_to(forwarding, holder, batch).await;
        if !again.is_empty() {
            self.queue.put_back(self.conversation, again);
        }
    }
}

/// Forwards `sends` (one conversation's, in order) to the instance `holder` and answers what
/// it answered. Returns the sends to store here instead (`stays`): all of them when nobody
/// received them; when it received them and gave no answer, those with a nonce (the one
/// without may have been stored, and is answered as a commit whose outcome is unknown, see
/// [`super::forward`]).
async fn forward_to(forwarding: &Forwarding, holder: &str, sends: Vec<Waiting>) -> Vec<Waiting> {
    let news: Vec<NewMessage> = sends.iter().map(|waiting| waiting.new.clone()).collect();
    let mut again = match forwarding.forward(holder, news).await {
        Forwarded::Answered(results) => {
            for (waiting, result) in sends.into_iter().zip(results) {
                let _ = waiting.answer.send(result);
            }
            return Vec::new();
        }
        Forwarded::NotDelivered => sends,
        Forwarded::Unanswered => {
            let (again, unknown): (Vec<Waiting>, Vec<Waiting>) = sends
                .into_iter()
                .partition(|waiting| waiting.new.nonce.is_some());
            for waiting in unknown {
                let _ = waiting.answer.send(Err(forward::outcome_unknown()));
            }
            again
        }
    };
    for waiting in &mut again {
        waiting.stays = true;
    }
    again
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn queued(queue: &SendQueue, conversation: ObjectId, texts: &[(&str, bool)]) {
        let mut waiting = queue.lock();
        let entry = waiting.entry(conversation).or_default();
        for (text, stays) in texts {
            let (answer, _) = oneshot::channel();
            entry.sends.push(Waiting {
                new: NewMessage {
                    conversation_id: conversation,
                    sender: uuid::Uuid::new_v4(),
                    text: (*text).to_owned(),
                    reply_to: None,
                    nonce: None,
                    mentions: Vec::new(),
                    mentions_everyone: false,
                    attachments: Vec::new(),
                    in_group: false,
                },
                answer,
                stays: *stays,
            });
        }
    }

    fn texts(batch: &[Waiting]) -> Vec<(&str, bool)> {
        batch
            .iter()
            .map(|waiting| (waiting.new.text.as_str(), waiting.stays))
            .collect()
    }

    #[test]
    fn only_the_sends_before_the_first_that_stays_move_and_what_comes_back_goes_first() {
        let (queue, id) = (SendQueue::new(3), ObjectId::new());
        queued(
            &queue,
            id,
            &[("a", false), ("b", false), ("c", true), ("d", false)],
        );
        assert!(!queue.next_stays(id));
        let moving = queue.next_batch(id, true);
        assert_eq!(texts(&moving), vec![("a", false), ("b", false)]);
        assert!(queue.next_stays(id), "c is next, and stays");

        // Their forward went unanswered: back at the head, in order, to be stored here.
        queue.put_back(id, moving);
        assert!(queue.next_stays(id));
        assert_eq!(queue.next_batch(id, true).len(), 0, "nothing moves now");
        let stored = queue.next_batch(id, false);
        assert_eq!(
            texts(&stored),
            vec![("a", true), ("b", true), ("c", true)],
            "at most 3 a transaction, in the order sent"
        );
        assert_eq!(texts(&queue.next_batch(id, true)), vec![("d", false)]);
        assert!(!queue.any_waiting(id));
    }

    #[tokio::test]
    async fn a_writer_lingering_for_sends_sees_one_that_arrives_and_gives_up_without() {
        let (queue, id) = (SendQueue::default(), ObjectId::new());
        queued(&queue, id, &[]);
        // A permit left by an earlier send does not make an empty queue look busy.
        queue.lock().get(&id).unwrap().arrived.notify_one();
        assert!(!queue.any_within(id, Duration::from_millis(20)).await);

        let arrives = {
            let queue = queue.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                queued(&queue, id, &[("late", false)]);
                queue.lock().get(&id).unwrap().arrived.notify_one();
            })
        };
        assert!(queue.any_within(id, Duration::from_secs(5)).await);
        arrives.await.unwrap();
        // A conversation without a writer has no entry: nothing to wait for.
        assert!(
            !queue
                .any_within(ObjectId::new(), Duration::from_secs(5))
                .await
        );
    }
}
