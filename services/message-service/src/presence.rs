//! Presence across instances: each open socket is a member of the Redis sorted set
//! `<prefix>presence:<user>`, scored by when it expires unless refreshed (every heartbeat).
//! A user is online while the set has an unexpired member; sockets of a crashed instance
//! simply expire, and `<prefix>presence:due` (users by when their last socket expires) lets
//! any instance find those users and announce them offline, exactly once. The last-seen time
//! is kept in MongoDB (`presence`).

use std::collections::HashMap;
use std::time::Duration;

use bson::{doc, DateTime as BsonDateTime};
use chat_models::api::ws::Presence;
use chat_models::Result;
use futures::TryStreamExt as _;
use mongodb::Collection;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Adds a socket after dropping expired ones (and dates the user's index entry); returns how
/// many live sockets there were before.
const JOIN: &str = r"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local before = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[5])
return before
";

/// Removes a socket and expired ones; returns how many live sockets remain (with none left,
/// the user leaves the index: this leave announces them).
const LEAVE: &str = r"
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local remaining = redis.call('ZCARD', KEYS[1])
if remaining == 0 then
  redis.call('ZREM', KEYS[2], ARGV[3])
end
return remaining
";

/// For a user due in the index: drops their expired sockets; if some are left, dates the
/// entry by the latest and returns -1; else removes the entry and returns its score (when the
/// last socket expired), so exactly one caller announces the user offline (-1 if another did).
const EXPIRE: &str = r"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local latest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if latest[2] then
  redis.call('ZADD', KEYS[2], latest[2], ARGV[2])
  return -1
end
local due = redis.call('ZSCORE', KEYS[2], ARGV[2])
if due and redis.call('ZREM', KEYS[2], ARGV[2]) == 1 then
  return tonumber(due)
end
return -1
";

/// The last time a user was seen, in MongoDB.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastSeenDoc {
    /// The user.
    pub user_uuid: String,
    /// When their last socket closed.
    pub last_seen: BsonDateTime,
}

/// Presence bookkeeping.
#[derive(Clone)]
pub struct PresenceStore {
    redis: ConnectionManager,
    prefix: String,
    ttl: Duration,
    last_seen: Collection<LastSeenDoc>,
}

impl std::fmt::Debug for PresenceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresenceStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn now_ms() -> i64 {
    BsonDateTime::now().timestamp_millis()
}

impl PresenceStore {
    /// Presence under `prefix`, sockets expiring `ttl` after their last refresh.
    pub fn new(
        redis: ConnectionManager,
        prefix: &str,
        ttl: Duration,
        last_seen: Collection<LastSeenDoc>,
    ) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
            ttl,
            last_seen,
        }
    }

    /// Creates the index of `presence` (idempotent).
    pub async fn ensure_indexes(&self) -> mongodb::error::Result<()> {
        let options = mongodb::options::IndexOptions::builder()
            .name("userUuid_unique".to_owned())
            .unique(true)
            .build();
        self.last_seen
            .create_index(
                mongodb::IndexModel::builder()
                    .keys(doc! { "userUuid": 1 })
                    .options(options)
                    .build(),
            )
            .await?;
        Ok(())
    }

    fn key(&self, user: Uuid) -> String {
        format!("{}presence:{user}", self.prefix)
    }

    fn due_key(&self) -> String {
        format!("{}presence:due", self.prefix)
    }

    /// How often to look for users whose sockets expired: twice per lifetime, 1-10 s.
    pub fn sweep_interval(&self) -> Duration {
        (self.ttl / 2).clamp(Duration::from_secs(1), Duration::from_secs(10))
    }

    fn ttl_ms(&self) -> i64 {
        i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX)
    }

    /// Records a socket; `true` if the user just came online.
    pub async fn join(&self, user: Uuid, socket: &str) -> Result<bool> {
        let now = now_ms();
        let before: i64 = redis::Script::new(JOIN)
            .key(self.key(user))
            .arg(now)
            .arg(now + self.ttl_ms())
            .arg(socket)
            .arg(self.ttl_ms() * 2)
            .arg(user.hyphenated().to_string())
            .key(self.due_key())
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(before == 0)
    }

    /// Keeps a socket alive.
    pub async fn refresh(&self, user: Uuid, socket: &str) -> Result<()> {
        let now = now_ms();
        let mut pipe = redis::pipe();
        pipe.cmd("ZADD")
            .arg(self.key(user))
            .arg(now + self.ttl_ms())
            .arg(socket)
            .ignore()
            .cmd("PEXPIRE")
            .arg(self.key(user))
            .arg(self.ttl_ms() * 2)
            .ignore()
            // No socket of the user expires later than this one now does.
            .cmd("ZADD")
            .arg(self.due_key())
            .arg(now + self.ttl_ms())
            .arg(user.hyphenated().to_string())
            .ignore();
        pipe.query_async::<()>(&mut self.redis.clone()).await?;
        Ok(())
    }

    /// Removes a socket; if it was the user's last, records the last-seen time and returns it.
    pub async fn leave(&self, user: Uuid, socket: &str) -> Result<Option<BsonDateTime>> {
        let remaining: i64 = redis::Script::new(LEAVE)
            .key(self.key(user))
            .key(self.due_key())
            .arg(now_ms())
            .arg(socket)
            .arg(user.hyphenated().to_string())
            .invoke_async(&mut self.redis.clone())
            .await?;
        if remaining > 0 {
            return Ok(None);
        }
        let seen = BsonDateTime::now();
        self.record_last_seen(user, seen).await?;
        Ok(Some(seen))
    }

    /// Users whose last socket expired (its instance died) since the last look, at most
    /// `limit`, each with when it was last heard from; each is returned to one caller only.
    pub async fn expired(&self, limit: usize) -> Result<Vec<(Uuid, BsonDateTime)>> {
        let now = now_ms();
        let due: Vec<String> = redis::cmd("ZRANGEBYSCORE")
            .arg(self.due_key())
            .arg("-inf")
            .arg(now)
            .arg("LIMIT")
            .arg(0)
            .arg(limit)
            .query_async(&mut self.redis.clone())
            .await?;
        let mut offline = Vec::new();
        for id in due {
            let Ok(user) = Uuid::parse_str(&id) else {
                continue;
            };
            let expired_at: i64 = redis::Script::new(EXPIRE)
                .key(self.key(user))
                .key(self.due_key())
                .arg(now)
                .arg(&id)
                .invoke_async(&mut self.redis.clone())
                .await?;
            if expired_at >= 0 {
                let seen = BsonDateTime::from_millis(expired_at - self.ttl_ms());
                self.record_last_seen(user, seen).await?;
                offline.push((user, seen));
            }
        }
        Ok(offline)
    }

    async fn record_last_seen(&self, user: Uuid, seen: BsonDateTime) -> Result<()> {
        let user = user.hyphenated().to_string();
        self.last_seen
            .update_one(
                doc! { "userUuid": &user },
                doc! { "$set": { "lastSeen": seen } },
            )
            .upsert(true)
            .await?;
        Ok(())
    }

    /// Whether each of `users` has a live socket on any instance: one Redis pipeline.
    pub async fn online(&self, users: &[Uuid]) -> Result<Vec<bool>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        let mut pipe = redis::pipe();
        for user in users {
            pipe.cmd("ZCOUNT").arg(self.key(*user)).arg(now).arg("+inf");
        }
        let live: Vec<i64> = pipe.query_async(&mut self.redis.clone()).await?;
        Ok(live.into_iter().map(|sockets| sockets > 0).collect())
    }

    /// The presence of several users: one Redis pipeline and one MongoDB query.
    pub async fn of(&self, users: &[Uuid]) -> Result<Vec<Presence>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let live = self.online(users).await?;
        let ids: Vec<String> = users.iter().map(|u| u.hyphenated().to_string()).collect();
        let seen: HashMap<String, BsonDateTime> = self
            .last_seen
            .find(doc! { "userUuid": { "$in": &ids } })
            .await?
            .try_collect::<Vec<_>>()
            .await?
            .into_iter()
            .map(|doc| (doc.user_uuid, doc.last_seen))
            .collect();
        Ok(users
            .iter()
            .zip(ids)
            .zip(live)
            .map(|((user, id), online)| Presence {
                user_uuid: *user,
                online,
                last_seen: if online {
                    None
                } else {
                    seen.get(&id).map(|at| at.to_chrono())
                },
            })
            .collect())
    }

    /// Forgets a deleted account's last-seen time.
    pub async fn forget(&self, user: Uuid) -> Result<()> {
        self.last_seen
            .delete_one(doc! { "userUuid": user.hyphenated().to_string() })
            .await?;
        Ok(())
    }
}
