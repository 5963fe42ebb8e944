//! Presence across instances: each open socket is a member of the Redis sorted set
//! `<prefix>presence:<user>`, scored by when it expires unless refreshed (every heartbeat).
//! A user is online while the set has an unexpired member; sockets of a crashed instance
//! simply expire. The last-seen time is kept in MongoDB (`presence`).

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

/// Adds a socket after dropping expired ones; returns how many live sockets there were before.
const JOIN: &str = r"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local before = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return before
";

/// Removes a socket and expired ones; returns how many live sockets remain.
const LEAVE: &str = r"
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZCARD', KEYS[1])
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
            .ignore();
        pipe.query_async::<()>(&mut self.redis.clone()).await?;
        Ok(())
    }

    /// Removes a socket; if it was the user's last, records the last-seen time and returns it.
    pub async fn leave(&self, user: Uuid, socket: &str) -> Result<Option<BsonDateTime>> {
        let remaining: i64 = redis::Script::new(LEAVE)
            .key(self.key(user))
            .arg(now_ms())
            .arg(socket)
            .invoke_async(&mut self.redis.clone())
            .await?;
        if remaining > 0 {
            return Ok(None);
        }
        let seen = BsonDateTime::now();
        let user = user.hyphenated().to_string();
        self.last_seen
            .update_one(
                doc! { "userUuid": &user },
                doc! { "$set": { "lastSeen": seen } },
            )
            .upsert(true)
            .await?;
        Ok(Some(seen))
    }

    /// The presence of several users: one Redis pipeline and one MongoDB query.
    pub async fn of(&self, users: &[Uuid]) -> Result<Vec<Presence>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        let mut pipe = redis::pipe();
        for user in users {
            pipe.cmd("ZCOUNT").arg(self.key(*user)).arg(now).arg("+inf");
        }
        let live: Vec<i64> = pipe.query_async(&mut self.redis.clone()).await?;
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
            .map(|((user, id), live)| {
                let online = live > 0;
                Presence {
                    user_uuid: *user,
                    online,
                    last_seen: if online {
                        None
                    } else {
                        seen.get(&id).map(|at| at.to_chrono())
                    },
                }
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
