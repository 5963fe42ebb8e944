//! Handing a contended conversation's sends to the instance holding its turn.
//!
//! With turns alone ([`super::turns`]), two instances busy with one conversation alternate:
//! each stores a batch, then waits for the other's, and a send that arrives while its
//! instance's transaction runs waits for two more. Instead, an instance whose sends find
//! another instance holding the turn *forwards* them there, on the holder's pub/sub channel:
//! the holder stores them with its own, in its next transaction, keeps the turn while sends
//! keep coming, and answers on the forwarder's channel. One instance then writes the
//! conversation, transaction after transaction, with no hand-over between them.
//!
//! Nothing here decides `seq`: the holder's transaction numbers forwarded sends as its own.
//! What a forward cannot promise is covered on the forwarding side:
//! - nobody listens on the holder's channel (it stopped): the sends are stored here, after
//!   the turn is waited for as without forwarding;
//! - the holder took them but no answer came in [`ANSWER_WAIT`] (it crashed, or is that slow):
//!   a send with a nonce is stored here (if the holder stored it after all, the nonce's index
//!   turns the second store into the first's answer); one without a nonce is answered
//!   `503 service_unavailable`, as a send whose commit's outcome is unknown is: storing it
//!   here might store it twice.
//!
//! A forwarded send is never forwarded again: if the turn moved meanwhile, the holder waits
//! for it, as without forwarding.
//!
//! The holder that answered a forward is remembered for [`HOLDER_MEMORY`]: meanwhile each
//! send of its conversation goes to it at once ([`super::SendQueue::send`]), without asking
//! Redis who holds the turn and without waiting for this instance's forward in flight. A
//! holder remembered after it gave the turn back gets the send all the same, and takes the
//! turn to store it; a failed forward forgets it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bson::oid::ObjectId;
use chat_models::{ApiError, ErrorCode, Result};
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use super::doc::MessageDoc;
use super::{NewMessage, Sent};
use crate::db::conversations::ConversationDoc;
use crate::db::Store;

/// How long a forwarder waits for the holder's answers.
pub const ANSWER_WAIT: Duration = Duration::from_secs(1);
/// How long the holder that answered a forward is remembered (sends go to it directly).
pub const HOLDER_MEMORY: Duration = Duration::from_secs(1);
/// Conversations whose holder is remembered, at most.
const HOLDERS_KEPT: u64 = 1_024;

/// What goes over an instance's forwarding channel (BSON).
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
enum Envelope {
    /// Sends of one conversation, in order, to store.
    Sends {
        /// The forwarder's token (where the answers go).
        from: String,
        /// Names the answers.
        id: i64,
        sends: Vec<NewMessage>,
    },
    /// What became of them, in the same order.
    Answers {
        id: i64,
        /// The conversation after the transactions that stored them (one per transaction).
        conversations: Vec<ConversationDoc>,
        outcomes: Vec<Outcome>,
    },
}

/// What became of one forwarded send.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "is", rename_all = "camelCase")]
enum Outcome {
    /// Stored; the conversation after it is `conversations[conversation]`.
    New {
        message: MessageDoc,
        conversation: u32,
    },
    /// Its nonce was used before: the message stored then.
    Repeated { message: MessageDoc },
    /// Refused by a rule (its answer to the client).
    Refused { refusal: Refusal },
    /// Failed (the store is away, a bug): answered as a failed dependency.
    Failed { cause: String },
}

/// The refusals a send's transaction gives, as the client gets them.
#[derive(Debug, Serialize, Deserialize)]
enum Refusal {
    BadRequest(ErrorCode, String),
    Forbidden(ErrorCode),
    NotFound(ErrorCode),
    Conflict(ErrorCode),
    TooLarge(ErrorCode, String),
    Unsupported(ErrorCode),
    OverLimit(ErrorCode),
}

impl Refusal {
    fn of(error: &ApiError) -> Option<Self> {
        Some(match error {
            ApiError::BadRequest(code, message) => Self::BadRequest(*code, message.clone()),
            ApiError::Forbidden(code) => Self::Forbidden(*code),
            ApiError::NotFound(code) => Self::NotFound(*code),
            ApiError::Conflict(code) => Self::Conflict(*code),
            ApiError::TooLarge(code, message) => Self::TooLarge(*code, message.clone()),
            ApiError::Unsupported(code) => Self::Unsupported(*code),
            ApiError::OverLimit(code) => Self::OverLimit(*code),
            _ => return None,
        })
    }

    fn into_error(self) -> ApiError {
        match self {
            Self::BadRequest(code, message) => ApiError::BadRequest(code, message),
            Self::Forbidden(code) => ApiError::Forbidden(code),
            Self::NotFound(code) => ApiError::NotFound(code),
            Self::Conflict(code) => ApiError::Conflict(code),
            Self::TooLarge(code, message) => ApiError::TooLarge(code, message),
            Self::Unsupported(code) => ApiError::Unsupported(code),
            Self::OverLimit(code) => ApiError::OverLimit(code),
        }
    }
}

/// What a forward came to.
#[derive(Debug)]
pub enum Forwarded {
    /// The holder's answers, one per send.
    Answered(Vec<Result<Sent>>),
    /// Nobody took them: nothing was stored.
    NotDelivered,
    /// The holder took them and did not answer in time: they may have been stored.
    Unanswered,
}

/// This instance's side of forwarding: its channel, and the forwards waiting for answers.
pub struct Forwarding {
    redis: ConnectionManager,
    prefix: String,
    /// This instance's token (its turns').
    token: String,
    waiting: Mutex<HashMap<i64, oneshot::Sender<Envelope>>>,
    next: AtomicI64,
    /// The instance that last answered a forward of each conversation, for
    /// [`HOLDER_MEMORY`].
    holders: moka::sync::Cache<ObjectId, String>,
}

impl std::fmt::Debug for Forwarding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarding")
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl Forwarding {
    /// Forwarding under a Redis key prefix for the instance named `token` in turns.
    pub fn new(redis: ConnectionManager, prefix: &str, token: &str) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
            token: token.to_owned(),
            waiting: Mutex::default(),
            next: AtomicI64::new(0),
            holders: moka::sync::Cache::builder()
                .time_to_live(HOLDER_MEMORY)
                .max_capacity(HOLDERS_KEPT)
                .build(),
        }
    }

    /// The channel of the instance named `token`.
    pub fn channel(prefix: &str, token: &str) -> String {
        format!("{prefix}send-forward:{token}")
    }

    /// Hands `sends` (one conversation's, in order) to the instance `holder` and waits for
    /// its answers (at most [`ANSWER_WAIT`]).
    pub async fn forward(&self, holder: &str, sends: Vec<NewMessage>) -> Forwarded {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (answer, answered) = oneshot::channel();
        self.lock().insert(id, answer);
        let count = sends.len();
        let conversation = sends.first().map(|send| send.conversation_id);
        let envelope = Envelope::Sends {
            from: self.token.clone(),
            id,
            sends,
        };
        let forwarded = match self.publish(holder, &envelope).await {
            Ok(0) => Forwarded::NotDelivered,
            Ok(_) => match tokio::time::timeout(ANSWER_WAIT, answered).await {
                Ok(Ok(Envelope::Answers {
                    conversations,
                    outcomes,
                    ..
                })) if outcomes.len() == count => {
                    Forwarded::Answered(answers(conversations, outcomes))
                }
                _ => Forwarded::Unanswered,
            },
            Err(error) => {
                tracing::warn!(error = %error, "sends not forwarded");
                Forwarded::Unanswered
            }
        };
        self.lock().remove(&id);
        if let Some(conversation) = conversation {
            match &forwarded {
                Forwarded::Answered(_) => self.holders.insert(conversation, holder.to_owned()),
                Forwarded::NotDelivered | Forwarded::Unanswered => self.forget(conversation),
            }
        }
        let outcome = match &forwarded {
            Forwarded::Answered(_) => "answered",
            Forwarded::NotDelivered => "not_delivered",
            Forwarded::Unanswered => "unanswered",
        };
        metrics::counter!("message_send_forwards_total", "service" => "message-service", "outcome" => outcome)
            .increment(1);
        forwarded
    }

    /// Reads this instance's channel for as long as the service runs: stores the sends other
    /// instances forward (with its own, see [`super::SendQueue::forwarded`]) and hands the
    /// answers to its own forwards to their waiters.
    pub async fn run(self: Arc<Self>, client: redis::Client, store: Store) {
        let channel = Self::channel(&self.prefix, &self.token);
        crate::notices::listen(client, &[channel], "forwarded sends", None, |message| {
            let Ok(payload) = message.get_payload::<Vec<u8>>() else {
                return;
            };
            match bson::from_slice::<Envelope>(&payload) {
                Ok(Envelope::Sends { from, id, sends }) => self.serve(&store, from, id, sends),
                Ok(answers @ Envelope::Answers { id, .. }) => {
                    if let Some(waiter) = self.lock().remove(&id) {
                        let _ = waiter.send(answers);
                    }
                }
                Err(error) => tracing::warn!(error = %error, "unreadable forwarded sends"),
            }
        })
        .await;
    }

    /// Queues forwarded sends (in the order they came, before anything else is read) and
    /// answers once they are stored.
    fn serve(self: &Arc<Self>, store: &Store, from: String, id: i64, sends: Vec<NewMessage>) {
        // A batch is one conversation's (what a writer forwards); anything else is not stored
        // (its forwarder gets no answer).
        let conversation = sends.first().map(|send| send.conversation_id);
        if sends
            .iter()
            .any(|send| Some(send.conversation_id) != conversation)
        {
            tracing::warn!("forwarded sends of more than one conversation ignored");
            return;
        }
        let stored = store.sends.forwarded(store, sends);
        let this = self.clone();
        tokio::spawn(async move {
            let mut conversations: Vec<ConversationDoc> = Vec::new();
            let mut outcomes = Vec::with_capacity(stored.len());
            for answer in stored {
                let result = answer
                    .await
                    .unwrap_or_else(|_| Err(super::queue::no_answer()));
                outcomes.push(match result {
                    Ok(Sent::New(message, conversation)) => {
                        if conversations.last() != Some(&*conversation) {
                            conversations.push(*conversation);
                        }
                        let index = conversations.len().saturating_sub(1);
                        Outcome::New {
                            message,
                            conversation: u32::try_from(index).unwrap_or(u32::MAX),
                        }
                    }
                    Ok(Sent::Repeated(message)) => Outcome::Repeated { message },
                    Err(error) => match Refusal::of(&error) {
                        Some(refusal) => Outcome::Refused { refusal },
                        None => Outcome::Failed {
                            cause: format!("{error:#}"),
                        },
                    },
                });
            }
            let answers = Envelope::Answers {
                id,
                conversations,
                outcomes,
            };
            if let Err(error) = this.publish(&from, &answers).await {
                tracing::warn!(error = %error, "answers to forwarded sends not sent");
            }
        });
    }

    /// Publishes on the channel of the instance named `to`: how many received it.
    async fn publish(&self, to: &str, envelope: &Envelope) -> anyhow::Result<i64> {
        let payload = bson::to_vec(envelope)?;
        let received: i64 = redis::cmd("PUBLISH")
            .arg(Self::channel(&self.prefix, to))
            .arg(payload)
            .query_async(&mut self.redis.clone())
            .await?;
        Ok(received)
    }

    /// The instance that answered a forward of `conversation` within [`HOLDER_MEMORY`].
    pub fn holder_of(&self, conversation: ObjectId) -> Option<String> {
        self.holders.get(&conversation)
    }

    /// Forgets who holds `conversation`'s turn (this instance took it, or a forward failed).
    pub fn forget(&self, conversation: ObjectId) {
        self.holders.invalidate(&conversation);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, oneshot::Sender<Envelope>>> {
        // Single inserts and removals: a panic cannot leave the map half-changed.
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The holder's outcomes as this instance's answers.
fn answers(conversations: Vec<ConversationDoc>, outcomes: Vec<Outcome>) -> Vec<Result<Sent>> {
    outcomes
        .into_iter()
        .map(|outcome| match outcome {
            Outcome::New {
                message,
                conversation,
            } => usize::try_from(conversation)
                .ok()
                .and_then(|index| conversations.get(index))
                .map(|conversation| Sent::New(message, Box::new(conversation.clone())))
                .ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!(
                        "a forwarded send's answer names no conversation"
                    ))
                }),
            Outcome::Repeated { message } => Ok(Sent::Repeated(message)),
            Outcome::Refused { refusal } => Err(refusal.into_error()),
            Outcome::Failed { cause } => Err(ApiError::unavailable(anyhow::anyhow!(
                "the instance storing this conversation's sends: {cause}"
            ))),
        })
        .collect()
}

/// The answer to a send whose forward went unanswered and that cannot safely be stored again.
pub fn outcome_unknown() -> ApiError {
    ApiError::Unavailable {
        code: ErrorCode::ServiceUnavailable,
        retry_after_secs: 1,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use bson::oid::ObjectId;
    use uuid::Uuid;

    use super::*;

    #[test]
    fn forwarded_sends_and_their_answers_read_back_as_sent() {
        let conversation = ObjectId::new();
        let new = NewMessage {
            conversation_id: conversation,
            sender: Uuid::new_v4(),
            text: "hello $there".to_owned(),
            reply_to: Some(ObjectId::new()),
            nonce: Some("n-1".to_owned()),
            mentions: vec![Uuid::new_v4()],
            mentions_everyone: true,
            attachments: vec![ObjectId::new()],
            in_group: true,
        };
        let sends = Envelope::Sends {
            from: "a".to_owned(),
            id: 7,
            sends: vec![new.clone()],
        };
        let Envelope::Sends { from, id, sends } =
            bson::from_slice(&bson::to_vec(&sends).unwrap()).unwrap()
        else {
            panic!("not sends");
        };
        assert_eq!((from.as_str(), id), ("a", 7));
        assert_eq!(sends, vec![new.clone()]);

        let stored = crate::db::conversations::new_direct(new.sender, Uuid::new_v4());
        let message = MessageDoc {
            id: ObjectId::new(),
            conversation_id: conversation,
            seq: 3,
            sender_uuid: new.sender,
            text: new.text.clone(),
            timestamp: bson::DateTime::now(),
            reply_to: new.reply_to,
            nonce: new.nonce.clone(),
            mentions: new.mentions,
            mentions_everyone: true,
            reactions: Vec::new(),
            pinned_at: None,
            pinned_by: None,
            link_preview: None,
            attachments: Vec::new(),
            version: 3,
            edited_at: None,
            deleted_at: None,
        };
        let reply = Envelope::Answers {
            id: 7,
            conversations: vec![stored.clone()],
            outcomes: vec![
                Outcome::New {
                    message: message.clone(),
                    conversation: 0,
                },
                Outcome::Repeated {
                    message: message.clone(),
                },
                Outcome::Refused {
                    refusal: Refusal::of(&ApiError::Forbidden(ErrorCode::NotGroupAdmin)).unwrap(),
                },
                Outcome::Failed {
                    cause: "away".to_owned(),
                },
                Outcome::New {
                    message: message.clone(),
                    conversation: 1,
                },
            ],
        };
        let Envelope::Answers {
            conversations,
            outcomes,
            ..
        } = bson::from_slice(&bson::to_vec(&reply).unwrap()).unwrap()
        else {
            panic!("not answers");
        };
        let mut answers = answers(conversations, outcomes).into_iter();
        match answers.next().unwrap().unwrap() {
            Sent::New(got, conversation) => {
                assert_eq!(got, message);
                assert_eq!(*conversation, stored);
            }
            Sent::Repeated(_) => panic!("not new"),
        }
        assert!(matches!(answers.next().unwrap().unwrap(), Sent::Repeated(got) if got == message));
        let refused = answers.next().unwrap().unwrap_err();
        assert_eq!(refused.code(), ErrorCode::NotGroupAdmin);
        assert_eq!(refused.status(), 403);
        let failed = answers.next().unwrap().unwrap_err();
        assert_eq!(failed.status(), 503);
        // An answer naming a conversation it does not carry is a failure, never a panic.
        assert_eq!(answers.next().unwrap().unwrap_err().status(), 500);
    }
}
