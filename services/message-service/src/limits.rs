//! What one user may do per unit of time on this instance: send messages (over HTTP and
//! WebSockets alike) and announce typing. In memory (GCRA, `governor`), so the limits hold
//! while Redis is away; with several instances a user's allowance is per instance they reach.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use chat_models::ratelimit::RateLimit;
use chat_models::{ApiError, Result};
use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota};
use uuid::Uuid;

/// How often idle users' counters are dropped.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The per-user limits.
#[derive(Debug)]
pub struct UserLimits {
    messages: DefaultKeyedRateLimiter<Uuid>,
    typing: DefaultKeyedRateLimiter<Uuid>,
}

impl UserLimits {
    /// `messages` and `typing` as `N/SECONDS`: up to N at once, refilled evenly over the window.
    pub fn new(messages: RateLimit, typing: RateLimit) -> anyhow::Result<Self> {
        Ok(Self {
            messages: DefaultKeyedRateLimiter::keyed(quota("MESSAGE_RATE_LIMIT", messages)?),
            typing: DefaultKeyedRateLimiter::keyed(quota("TYPING_RATE_LIMIT", typing)?),
        })
    }

    /// Counts a message of `user`; `429 rate_limited` past the allowance.
    pub fn message(&self, user: Uuid) -> Result<()> {
        check(&self.messages, user)
    }

    /// Counts a typing announcement of `user`; `429 rate_limited` past the allowance.
    pub fn typing(&self, user: Uuid) -> Result<()> {
        check(&self.typing, user)
    }

    /// Drops, every minute, the counters of users back at their full allowance.
    pub fn sweep(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(SWEEP_EVERY);
            loop {
                every.tick().await;
                self.messages.retain_recent();
                self.typing.retain_recent();
            }
        })
    }
}

fn quota(name: &str, limit: RateLimit) -> anyhow::Result<Quota> {
    let burst = u32::try_from(limit.max)
        .ok()
        .and_then(NonZeroU32::new)
        .ok_or_else(|| anyhow::anyhow!("{name} must allow between 1 and {} hits", u32::MAX))?;
    let period = limit.window / burst.get();
    Quota::with_period(period.max(Duration::from_nanos(1)))
        .map(|quota| quota.allow_burst(burst))
        .ok_or_else(|| anyhow::anyhow!("{name} has an empty window"))
}

fn check(limiter: &DefaultKeyedRateLimiter<Uuid>, user: Uuid) -> Result<()> {
    limiter.check_key(&user).map_err(|not_until| {
        let wait = not_until.wait_time_from(limiter.clock().now());
        ApiError::RateLimited {
            retry_after_secs: wait.as_secs() + 1,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_user_gets_the_allowance_of_their_own() {
        let limits = UserLimits::new("3/60".parse().unwrap(), "1/60".parse().unwrap()).unwrap();
        let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
        for _ in 0..3 {
            limits.message(ann).unwrap();
        }
        let refused = limits.message(ann).unwrap_err();
        assert_eq!(refused.code(), chat_models::ErrorCode::RateLimited);
        // A third of the window until the next one.
        assert!(matches!(refused.retry_after_secs(), Some(20 | 21)));
        limits.message(bob).unwrap();
        limits.typing(ann).unwrap();
        assert!(limits.typing(ann).is_err());
    }

    #[test]
    fn a_zero_allowance_is_refused_at_start_up() {
        assert!(UserLimits::new("0/60".parse().unwrap(), "1/1".parse().unwrap()).is_err());
    }
}
