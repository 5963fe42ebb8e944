//! Notices between message-service instances: small messages on one Redis pub/sub channel
//! that every instance reads (the gateway's subscriber, next to the ephemeral frames). A
//! notice is lost when an instance is not listening (reconnecting), so each one has a
//! fallback of its own: a waiter for a send turn looks again shortly anyway, and a
//! remembered "no push subscription" is forgotten after a while anyway.

use bson::oid::ObjectId;
use uuid::Uuid;

/// A notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// The send turn of a conversation is free, or handed over (see
    /// `crate::db::messages::turns`).
    TurnFree(ObjectId),
    /// A user added a push subscription: instances that remember them as having none forget
    /// it (see `crate::push`).
    PushSubscribed(Uuid),
}

impl Notice {
    /// As sent on the channel.
    pub fn encode(&self) -> String {
        match self {
            Self::TurnFree(conversation) => format!("turn:{}", conversation.to_hex()),
            Self::PushSubscribed(user) => format!("push-subscribed:{user}"),
        }
    }

    /// A notice as sent on the channel; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let (kind, subject) = text.split_once(':')?;
        match kind {
            "turn" => ObjectId::parse_str(subject).ok().map(Self::TurnFree),
            "push-subscribed" => Uuid::parse_str(subject).ok().map(Self::PushSubscribed),
            _ => None,
        }
    }
}

/// The channel under a Redis key prefix.
pub fn channel(prefix: &str) -> String {
    format!("{prefix}notices")
}

/// Sends a notice to every instance (this one included); a failure is logged (the notice's
/// fallback covers it).
pub async fn send(redis: &redis::aio::ConnectionManager, prefix: &str, notice: Notice) {
    let sent: redis::RedisResult<()> = redis::cmd("PUBLISH")
        .arg(channel(prefix))
        .arg(notice.encode())
        .query_async(&mut redis.clone())
        .await;
    if let Err(error) = sent {
        tracing::warn!(error = %error, ?notice, "notice not sent");
    }
}

/// Reads `channels` for as long as the task runs, handing each message to `on_message`, and
/// subscribes again a second after the connection or the subscription fails (what was
/// published meanwhile is missed: each channel's readers have their fallback). `ready`, when
/// given, is notified after each subscription. `what` names the channels in the logs.
pub async fn listen(
    client: redis::Client,
    channels: &[String],
    what: &str,
    ready: Option<&tokio::sync::Notify>,
    mut on_message: impl FnMut(&redis::Msg),
) {
    use futures::StreamExt as _;
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(channels).await {
                Ok(()) => {
                    if let Some(ready) = ready {
                        ready.notify_waiters();
                        ready.notify_one();
                    }
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        on_message(&message);
                    }
                }
                Err(error) => tracing::warn!(error = %error, "subscribing to {what}"),
            },
            Err(error) => tracing::warn!(error = %error, "connecting for {what}"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn notices_read_back_as_sent_and_nothing_else_reads_as_one() {
        let notices = [
            Notice::TurnFree(ObjectId::new()),
            Notice::PushSubscribed(Uuid::new_v4()),
        ];
        for notice in notices {
            assert_eq!(Notice::parse(&notice.encode()), Some(notice));
        }
        for text in ["", "turn", "turn:xyz", "push-subscribed:1", "other:thing"] {
            assert_eq!(Notice::parse(text), None, "{text}");
        }
    }
}
