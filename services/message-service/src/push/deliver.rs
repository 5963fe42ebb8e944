//! Sending one encrypted message to one push endpoint (RFC 8030): VAPID-signed, with `TTL`,
//! `Urgency` and a per-conversation `Topic`; retried with backoff on 429 and 5xx (honouring
//! `Retry-After`), the subscription removed on 404 and 410 or when the endpoint may not be
//! called.

use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{StatusCode, Url};

use super::Push;
use crate::egress;

/// Attempts per message and endpoint.
pub const MAX_ATTEMPTS: u32 = 4;
/// The longest wait between attempts, whatever `Retry-After` says.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// One message for one endpoint.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Where to.
    pub endpoint: Url,
    /// The encrypted body.
    pub body: Vec<u8>,
    /// Replaces an undelivered message of the same topic (base64url, at most 32 characters).
    pub topic: String,
    /// `high` or `normal`.
    pub urgency: &'static str,
}

/// How a delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The push service took it.
    Delivered,
    /// The subscription is gone (404, 410): remove it.
    Gone,
    /// The endpoint may not be called (not https, not a public address): remove it.
    Refused,
    /// Given up: still failing after [`MAX_ATTEMPTS`], or refused in a way retries cannot fix.
    Failed,
}

impl Outcome {
    /// The `outcome` label of `push_deliveries_total`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Gone => "gone",
            Self::Refused => "refused",
            Self::Failed => "failed",
        }
    }
}

/// Whether `push` may call `endpoint`: `https` to a public address on port 443, or a pair of
/// the test allow-list.
pub fn may_call(push: &Push, endpoint: &Url) -> bool {
    if egress::is_allowed(endpoint, &push.allowed) {
        return true;
    }
    endpoint.scheme() == "https" && egress::check(endpoint, &push.allowed).is_ok()
}

/// Sends `delivery`, retrying as the push service asks.
pub async fn send(push: &Push, delivery: &Delivery) -> Outcome {
    if !may_call(push, &delivery.endpoint) {
        return Outcome::Refused;
    }
    for attempt in 0..MAX_ATTEMPTS {
        let backoff = push.retry_base * 2u32.pow(attempt);
        let wait = match attempt_once(push, delivery).await {
            Attempt::Done(outcome) => return outcome,
            Attempt::Retry(after) => after.unwrap_or(backoff).min(MAX_BACKOFF),
        };
        if attempt + 1 < MAX_ATTEMPTS {
            tokio::time::sleep(wait).await;
        }
    }
    Outcome::Failed
}

enum Attempt {
    Done(Outcome),
    /// Try again, after the push service's `Retry-After` if it gave one.
    Retry(Option<Duration>),
}

async fn attempt_once(push: &Push, delivery: &Delivery) -> Attempt {
    let authorization = match push
        .vapid
        .authorization(&delivery.endpoint, chrono::Utc::now())
    {
        Ok(header) => header,
        Err(error) => {
            tracing::warn!(error = %error, "cannot sign a VAPID token");
            return Attempt::Done(Outcome::Failed);
        }
    };
    let request = push
        .client
        .post(delivery.endpoint.clone())
        .header(AUTHORIZATION, authorization)
        .header(CONTENT_ENCODING, "aes128gcm")
        .header(CONTENT_TYPE, "application/octet-stream")
        .header("TTL", push.ttl.as_secs().to_string())
        .header("Urgency", delivery.urgency)
        .header("Topic", &delivery.topic)
        .body(delivery.body.clone());
    let response = match request.send().await {
        Ok(response) => response,
        Err(error) if egress::refused_while_resolving(&error) => {
            return Attempt::Done(Outcome::Refused)
        }
        Err(error) => {
            tracing::debug!(error = %error, "push request failed; will retry");
            return Attempt::Retry(None);
        }
    };
    let status = response.status();
    match status {
        status if status.is_success() => Attempt::Done(Outcome::Delivered),
        StatusCode::NOT_FOUND | StatusCode::GONE => Attempt::Done(Outcome::Gone),
        StatusCode::TOO_MANY_REQUESTS => {
            Attempt::Retry(retry_after(response.headers().get(RETRY_AFTER)))
        }
        status if status.is_server_error() => {
            Attempt::Retry(retry_after(response.headers().get(RETRY_AFTER)))
        }
        status => {
            tracing::warn!(%status, push_service = %delivery.endpoint.origin().ascii_serialization(),
                "push service refused a message");
            Attempt::Done(Outcome::Failed)
        }
    }
}

/// `Retry-After` in seconds (the HTTP-date form is rare from push services and ignored).
fn retry_after(value: Option<&HeaderValue>) -> Option<Duration> {
    value?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_is_read_and_anything_else_ignored() {
        let header = |text: &str| HeaderValue::from_str(text).unwrap();
        assert_eq!(
            retry_after(Some(&header(" 7 "))),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(Some(&header("Wed, 21 Oct 2026 07:28:00 GMT"))),
            None
        );
        assert_eq!(retry_after(Some(&header("-1"))), None);
        assert_eq!(retry_after(None), None);
    }
}
