//! Turns between instances at storing one conversation's sends.
//!
//! Two instances storing sends of one conversation at the same time conflict on its document:
//! one transaction aborts, pauses and runs again, and under load (a busy group whose members
//! are spread over the instances) most of a send's time goes to that. Once a conversation's
//! sends met another instance's (a conflict), they take *turns* for a while: a turn is a
//! short lease in Redis on the conversation; the instance holding it runs its transaction;
//! another instance wanting it waits, its queue growing into a bigger batch meanwhile, until
//! the release is announced on a pub/sub channel (only when someone waits). A release that others
//! wait for hands the turn over: for a moment only another instance may take it, so two busy
//! instances alternate instead of one taking it back each time. Most instances need not wait:
//! one that finds another holding the turn ([`Turns::ask`]) hands its sends to the holder
//! (`super::forward`), which keeps the turn while sends keep coming ([`Turns::keep`]).
//!
//! The lease is an optimisation, never what keeps `seq` right: the transaction still does that
//! (see `super`). A lease that expires (its holder crashed, a transaction ran long), a lost
//! announcement (a waiter looks again every [`RECHECK`]) or Redis being away (sends go on
//! without turns) costs conflicts and retries, not correctness.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bson::oid::ObjectId;
use redis::aio::ConnectionManager;
use tokio::sync::Notify;

use crate::notices::Notice;

/// How long a turn is held at most: longer than any transaction should take; a crashed
/// holder's turn is free again after it.
const LEASE: Duration = Duration::from_secs(2);
/// How often a holder keeping its turn from one transaction to the next renews its lease, and
/// so how long another instance waiting for the turn waits at most while sends keep coming.
const RENEW_EVERY: Duration = Duration::from_millis(100);
/// How long a handed-over turn is kept for another instance before its last holder may take
/// it back.
const HANDOVER: Duration = Duration::from_millis(50);
/// How often a waiter looks again without an announcement.
pub const RECHECK: Duration = Duration::from_millis(25);
/// How long a conversation's sends keep taking turns after they last met another instance's.
const CONTENDED_FOR: Duration = Duration::from_secs(10);
/// Most conversations taking turns at once (the least recently contended are dropped first).
const CONTENDED_MOST: u64 = 10_000;
/// How long a send waits for a turn before its transaction runs without one.
const MOST_WAIT: Duration = Duration::from_secs(3);

/// Takes the turn (`{1, ''}`) if nobody holds it, this instance does (a writer of its own that
/// ended early left it), or another holder handed it over; else
/// answers `{0, holder}` and, when ARGV[3] is `wait`, counts this instance among those waiting
/// until the lease's length from now. KEYS: turn, waiters (a sorted set: instance → until when
/// it waits). ARGV: our token, lease (ms), `wait` or `ask`.
const TAKE: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local holder = redis.call('GET', KEYS[1])
if not holder or holder == ARGV[1]
  or (string.sub(holder, 1, 6) == 'given:' and holder ~= 'given:' .. ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  redis.call('ZREM', KEYS[2], ARGV[1])
  return {1, ''}
end
if ARGV[3] == 'wait' then
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return {0, holder}
";

/// Gives the turn back, if still ours (else `2`); when other instances wait, hands it over
/// (only another instance may take it for a moment) and announces it (`1`); else, when ARGV[5]
/// is `keep`, keeps it for another lease (`0`), or frees it (`0`). KEYS: turn, waiters. ARGV:
/// our token, hand-over time (ms), channel, notice, `keep` or `free`, lease (ms).
const GIVE: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 2
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) > 0 then
  redis.call('SET', KEYS[1], 'given:' .. ARGV[1], 'PX', ARGV[2])
  redis.call('PUBLISH', ARGV[3], ARGV[4])
  return 1
end
if ARGV[5] == 'keep' then
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
else
  redis.call('DEL', KEYS[1])
end
return 0
";

/// This instance's side of the turns.
pub struct Turns {
    redis: ConnectionManager,
    prefix: String,
    channel: String,
    /// Names this instance in the turns it holds.
    token: String,
    take: redis::Script,
    give: redis::Script,
    /// The conversations this instance waits for, woken by announcements.
    waiting: Mutex<HashMap<ObjectId, Arc<Notify>>>,
    /// The conversations whose sends take turns now (see [`Self::contended`]).
    contended: moka::sync::Cache<ObjectId, ()>,
}

impl std::fmt::Debug for Turns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Turns")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

/// What [`Turns::ask`] found.
#[derive(Debug)]
pub enum Ask {
    /// The turn is this instance's now (or Redis did not answer: store without one).
    Taken(Turn),
    /// Another instance holds it: its token.
    HeldBy(String),
    /// It is being handed over by this instance: wait for it.
    Wait,
}

/// A turn taken (or not: Redis did not answer, or the wait was too long).
#[derive(Debug)]
#[must_use = "a turn is given back once the transaction ran"]
pub struct Turn {
    conversation: ObjectId,
    held: bool,
    /// When it was taken or its lease last renewed.
    since: std::time::Instant,
}

impl Turn {
    fn new(conversation: ObjectId, held: bool) -> Self {
        Self {
            conversation,
            held,
            since: std::time::Instant::now(),
        }
    }

    /// Whether Redis has it as this instance's (else sends go on without a turn).
    pub fn is_held(&self) -> bool {
        self.held
    }
}

impl Turns {
    /// Turns under a Redis key prefix, released with a notice on the instances' channel.
    pub fn new(redis: ConnectionManager, prefix: &str) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
            channel: crate::notices::channel(prefix),
            token: uuid::Uuid::new_v4().simple().to_string(),
            take: redis::Script::new(TAKE),
            give: redis::Script::new(GIVE),
            waiting: Mutex::default(),
            contended: moka::sync::Cache::builder()
                .time_to_live(CONTENDED_FOR)
                .max_capacity(CONTENDED_MOST)
                .build(),
        }
    }

    /// Takes the turn of `conversation` if it is free, without waiting: else says which other
    /// instance holds it (to hand it the sends, `super::forward`), or that the turn is to be
    /// waited for ([`Self::take`]: this instance is handing it over).
    pub async fn ask(&self, conversation: ObjectId) -> Ask {
        match self.try_take(conversation, false).await {
            Ok(None) => Ask::Taken(Turn::new(conversation, true)),
            // (Never this instance's own token: TAKE takes the turn back from itself.)
            Ok(Some(holder)) if !holder.starts_with("given:") => Ask::HeldBy(holder),
            Ok(Some(_)) => Ask::Wait,
            Err(error) => {
                tracing::debug!(error = %error, "no turn from Redis; storing without one");
                Ask::Taken(Turn::new(conversation, false))
            }
        }
    }

    /// Waits for the turn of `conversation` (at most [`MOST_WAIT`]).
    pub async fn take(&self, conversation: ObjectId) -> Turn {
        let announced = self.listen(conversation);
        let deadline = tokio::time::Instant::now() + MOST_WAIT;
        let mut waited = false;
        let held = loop {
            match self.try_take(conversation, true).await {
                Ok(None) => break true,
                Ok(Some(_)) => {}
                Err(error) => {
                    tracing::debug!(error = %error, "no turn from Redis; storing without one");
                    break false;
                }
            }
            if !waited {
                waited = true;
                metrics::counter!("message_send_turn_waits_total", "service" => "message-service")
                    .increment(1);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                break false;
            }
            let pause = RECHECK.min(deadline - now);
            let _ = tokio::time::timeout(pause, announced.notified()).await;
        };
        self.lock().remove(&conversation);
        if waited {
            self.contended.insert(conversation, ());
        }
        Turn::new(conversation, held)
    }

    /// Whether this instance's sends of `conversation` take turns: for a while after they met
    /// another instance's (a conflict, a turn waited for or handed over). A conversation
    /// written from one instance at a time costs no round trip to Redis.
    pub fn contended(&self, conversation: ObjectId) -> bool {
        self.contended.contains_key(&conversation)
    }

    /// This instance's transaction on `conversation` conflicted with another instance's.
    pub fn conflicted(&self, conversation: ObjectId) {
        self.contended.insert(conversation, ());
    }

    /// Gives a turn back (handing it over if another instance waits).
    pub async fn give(&self, turn: Turn) {
        self.release(turn, false).await;
    }

    /// Keeps a turn for the next transaction. Every [`RENEW_EVERY`] its lease is renewed,
    /// unless another instance waits for it (then it is handed over) or it was lost (its lease
    /// ran out): `None` then.
    pub async fn keep(&self, turn: Turn) -> Option<Turn> {
        if !turn.held {
            return None;
        }
        if turn.since.elapsed() < RENEW_EVERY {
            return Some(turn);
        }
        self.release(turn, true)
            .await
            .map(|turn| Turn::new(turn.conversation, true))
    }

    async fn release(&self, turn: Turn, keep: bool) -> Option<Turn> {
        if !turn.held {
            return None;
        }
        let keys = self.keys(turn.conversation);
        let released: redis::RedisResult<i64> = self
            .give
            .key(keys.0)
            .key(keys.1)
            .arg(&self.token)
            .arg(millis(HANDOVER))
            .arg(&self.channel)
            .arg(Notice::TurnFree(turn.conversation).encode())
            .arg(if keep { "keep" } else { "free" })
            .arg(millis(LEASE))
            .invoke_async(&mut self.redis.clone())
            .await;
        match released {
            Ok(0) if keep => Some(turn),
            Ok(1) => {
                self.contended.insert(turn.conversation, ());
                None
            }
            Ok(_) => None,
            // It runs out on its own.
            Err(error) => {
                tracing::debug!(error = %error, "a turn was not given back");
                None
            }
        }
    }

    /// The name of this instance in the turns it holds (where sends for it are forwarded).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// An announcement arrived: the turn of `conversation` is free (or handed over).
    pub fn announced(&self, conversation: ObjectId) {
        if let Some(waiter) = self.lock().get(&conversation) {
            waiter.notify_one();
        }
    }

    /// Takes the turn (`None`) or names its holder, counting this instance among those
    /// waiting when it will `wait`.
    async fn try_take(
        &self,
        conversation: ObjectId,
        wait: bool,
    ) -> redis::RedisResult<Option<String>> {
        let keys = self.keys(conversation);
        let (taken, holder): (i64, String) = self
            .take
            .key(keys.0)
            .key(keys.1)
            .arg(&self.token)
            .arg(millis(LEASE))
            .arg(if wait { "wait" } else { "ask" })
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(if taken == 1 { None } else { Some(holder) })
    }

    /// Where announcements for `conversation` wake this instance's writer (one per
    /// conversation: its queue's).
    fn listen(&self, conversation: ObjectId) -> Arc<Notify> {
        self.lock().entry(conversation).or_default().clone()
    }

    fn keys(&self, conversation: ObjectId) -> (String, String) {
        let id = conversation.to_hex();
        (
            format!("{}send-turn:{id}", self.prefix),
            format!("{}send-turn-waiting:{id}", self.prefix),
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ObjectId, Arc<Notify>>> {
        // Single inserts and removals: a panic cannot leave the map half-changed.
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
