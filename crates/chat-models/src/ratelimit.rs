//! Fixed-window rate limits kept in Redis, so every instance of a service shares the counts.

use std::str::FromStr;
use std::time::Duration;

use redis::aio::ConnectionManager;

use crate::error::{ApiError, Result};

/// At most `max` hits per `window`. Parsed from `"N/SECONDS"` (e.g. `"10/60"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Hits allowed in one window.
    pub max: u64,
    /// Window length.
    pub window: Duration,
}

impl FromStr for RateLimit {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let (max, secs) = s
            .split_once('/')
            .ok_or_else(|| format!("expected N/SECONDS, got {s:?}"))?;
        let max = max
            .trim()
            .parse()
            .map_err(|_| format!("bad count in {s:?}"))?;
        let secs: u64 = secs
            .trim()
            .parse()
            .map_err(|_| format!("bad seconds in {s:?}"))?;
        if secs == 0 {
            return Err(format!("window must be at least 1 s in {s:?}"));
        }
        Ok(Self {
            max,
            window: Duration::from_secs(secs),
        })
    }
}

/// Counts hits per `(bucket, key)` in Redis.
#[derive(Clone)]
pub struct RateLimiter {
    redis: ConnectionManager,
    prefix: String,
    script: redis::Script,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Increments the counter, starting its window on the first hit; returns `{count, ms left}`.
const HIT_SCRIPT: &str = r"
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
";

impl RateLimiter {
    /// A limiter whose keys start with `prefix`.
    pub fn new(redis: ConnectionManager, prefix: &str) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
            script: redis::Script::new(HIT_SCRIPT),
        }
    }

    fn key(&self, bucket: &str, key: &str) -> String {
        format!("{}rl:{bucket}:{key}", self.prefix)
    }

    /// Counts a hit; answers 429 (with the seconds until the window ends) once over the limit.
    pub async fn hit(&self, bucket: &str, key: &str, limit: RateLimit) -> Result<()> {
        let window_ms = u64::try_from(limit.window.as_millis()).unwrap_or(u64::MAX);
        let (count, ttl_ms): (u64, i64) = self
            .script
            .key(self.key(bucket, key))
            .arg(window_ms)
            .invoke_async(&mut self.redis.clone())
            .await?;
        if count > limit.max {
            return Err(limited(ttl_ms));
        }
        Ok(())
    }

    /// Answers 429 if the limit is already used up, without counting a hit.
    pub async fn check(&self, bucket: &str, key: &str, limit: RateLimit) -> Result<()> {
        let (count, ttl_ms): (Option<u64>, i64) = redis::pipe()
            .get(self.key(bucket, key))
            .pttl(self.key(bucket, key))
            .query_async(&mut self.redis.clone())
            .await?;
        if count.unwrap_or(0) >= limit.max {
            return Err(limited(ttl_ms));
        }
        Ok(())
    }

    /// Forgets a counter (e.g. failed logins after a success).
    pub async fn reset(&self, bucket: &str, key: &str) -> Result<()> {
        redis::cmd("DEL")
            .arg(self.key(bucket, key))
            .query_async::<()>(&mut self.redis.clone())
            .await?;
        Ok(())
    }
}

fn limited(ttl_ms: i64) -> ApiError {
    let secs = u64::try_from(ttl_ms.max(0))
        .unwrap_or(0)
        .div_ceil(1000)
        .max(1);
    ApiError::RateLimited {
        retry_after_secs: secs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_count_per_seconds() {
        assert_eq!(
            "10/60".parse::<RateLimit>().unwrap(),
            RateLimit {
                max: 10,
                window: Duration::from_secs(60)
            }
        );
        assert!("10".parse::<RateLimit>().is_err());
        assert!("10/0".parse::<RateLimit>().is_err());
        assert!("x/5".parse::<RateLimit>().is_err());
    }
}
