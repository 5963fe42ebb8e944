//! Web push for people who are away. The `message-push` consumer group reads each
//! `message.created` once across all instances; for every member other than the sender who has
//! no live socket (presence), has not muted the conversation and is not in do-not-disturb, each
//! of their browsers' subscriptions gets the message ([`PushPayload`]) encrypted for it
//! ([`encrypt`]), signed for the push service ([`vapid`]) and sent ([`deliver`]) in the
//! background, a bounded number at a time.

pub mod deliver;
pub mod encrypt;
pub mod vapid;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use bson::oid::ObjectId;
use chat_models::api::push::PushPayload;
use chat_models::events::{DomainEvent, MessageEvent};
use chat_models::memory::Memory;
use chat_models::Result;
use reqwest::Url;
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::db::conversations;
use crate::db::push::{self as store, NotifySettingsDoc, SubscriptionDoc};
use crate::state::AppState;

use deliver::{Delivery, Outcome};
use encrypt::BrowserKeys;
use vapid::Vapid;

/// Characters of a message's text a notification shows.
pub const PREVIEW_CHARS: usize = 140;
/// Deliveries in flight at once per instance (more wait, holding the consumer back).
const IN_FLIGHT: usize = 64;
/// How long connecting to a push service may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one request to a push service may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Push settings, the client and the VAPID key: present only when a key is configured.
#[derive(Debug, Clone)]
pub struct Push {
    vapid: Vapid,
    client: reqwest::Client,
    /// `host:port` pairs called whatever their address or scheme (tests only).
    allowed: Arc<Vec<String>>,
    /// How long push services keep an undelivered message.
    ttl: Duration,
    /// The wait before the first retry (doubling after each).
    retry_base: Duration,
    permits: Arc<Semaphore>,
    /// The runtime deliveries run on: one thread at the lowest scheduling priority.
    pool: tokio::runtime::Handle,
    /// Users found to have no subscription, remembered for a while: most members of a
    /// conversation never subscribe, and a new message then costs no query for them. A
    /// subscription added on any instance is announced to every instance
    /// ([`crate::notices::Notice::PushSubscribed`]), which forgets the user at once.
    unsubscribed: Option<Memory<Uuid, ()>>,
}

/// How long a user found to have no subscription is remembered as such (an announcement of a
/// new one that this instance missed is covered after this).
const UNSUBSCRIBED_TTL: Duration = Duration::from_secs(30);
/// Most users remembered as having no subscription.
const UNSUBSCRIBED_MOST: u64 = 100_000;

impl Push {
    /// Push with this key, message lifetime and test allow-list.
    pub fn new(vapid: Vapid, ttl: Duration, allowed: Vec<String>) -> anyhow::Result<Self> {
        Ok(Self {
            vapid,
            client: crate::egress::client("chat-push/1.0", CONNECT_TIMEOUT, REQUEST_TIMEOUT)?,
            allowed: Arc::new(allowed),
            ttl,
            retry_base: Duration::from_secs(1),
            permits: Arc::new(Semaphore::new(IN_FLIGHT)),
            pool: delivery_thread()?,
            unsubscribed: Memory::new(UNSUBSCRIBED_TTL, UNSUBSCRIBED_MOST),
        })
    }

    /// `user` added a subscription (announced by any instance): no longer remembered as having
    /// none.
    pub fn subscribed(&self, user: Uuid) {
        if let Some(unsubscribed) = &self.unsubscribed {
            unsubscribed.forget(&user);
        }
    }

    /// The public key browsers subscribe with.
    pub fn public_key(&self) -> &str {
        self.vapid.public_key()
    }

    /// Whether an endpoint is one this server would call (checked again at every delivery, as
    /// a name may resolve differently then).
    pub fn may_call(&self, endpoint: &Url) -> bool {
        deliver::may_call(self, endpoint)
    }
}

/// Starts the thread deliveries run on (encryption and the requests to push services): a
/// runtime of its own at the lowest scheduling priority the system grants, so that when the
/// machine is busy, the sends and the sockets get the cores and pushes wait instead of the
/// sends being shed. The thread lives as long as the process.
fn delivery_thread() -> anyhow::Result<tokio::runtime::Handle> {
    let (started, handle) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("push-delivery".to_owned())
        .spawn(move || {
            use thread_priority::{set_current_thread_priority, ThreadPriority};
            if let Err(error) = set_current_thread_priority(ThreadPriority::Min) {
                tracing::warn!(error = ?error, "push deliveries run at normal priority");
            }
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => {
                    let _ = started.send(Ok(runtime.handle().clone()));
                    runtime.block_on(std::future::pending::<()>());
                }
                Err(error) => {
                    let _ = started.send(Err(error));
                }
            }
        })?;
    Ok(handle.recv()??)
}

/// The events [`handle`] acts on (the `message-push` group acknowledges the others unread).
pub const HANDLED: &[&str] = &["message.created"];

/// Handles one event of the `message-push` group: new messages are pushed to those away.
pub async fn handle(state: &AppState, push: &Push, event: DomainEvent) -> Result<()> {
    if let DomainEvent::MessageCreated(event) = event {
        notify_away(state, push, event).await?;
    }
    Ok(())
}

async fn notify_away(state: &AppState, push: &Push, event: MessageEvent) -> Result<()> {
    let message = &event.message;
    // After an outage, messages older than a push service would keep are not announced.
    let age = (chrono::Utc::now() - message.created_at)
        .to_std()
        .unwrap_or_default();
    if age > push.ttl {
        return Ok(());
    }
    let recipients: Vec<Uuid> = event
        .audience
        .iter()
        .copied()
        .filter(|user| *user != message.sender_uuid)
        .collect();
    // Most members have no subscription: remembered, or one indexed query for the others.
    let unsubscribed = push.unsubscribed.as_ref();
    let asked: Vec<Uuid> = recipients
        .into_iter()
        .filter(|user| unsubscribed.is_none_or(|known| known.get(user).is_none()))
        .collect();
    if asked.is_empty() {
        return Ok(());
    }
    let mark = unsubscribed.map(Memory::mark);
    let subscriptions = store::of_users(&state.store, &asked).await?;
    let with: HashSet<Uuid> = subscriptions
        .iter()
        .map(|subscription| subscription.user_uuid)
        .collect();
    if let (Some(unsubscribed), Some(mark)) = (unsubscribed, mark) {
        let without = asked.into_iter().filter(|user| !with.contains(user));
        unsubscribed.keep(mark, without.map(|user| (user, ())));
    }
    if subscriptions.is_empty() {
        return Ok(());
    }
    let conversation_id = ObjectId::parse_str(&message.conversation_id)
        .map_err(|error| anyhow::anyhow!("event with a malformed conversation id: {error}"))?;
    let subscribed: Vec<Uuid> = subscriptions
        .iter()
        .map(|subscription| subscription.user_uuid)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let settings: HashMap<Uuid, NotifySettingsDoc> = store::settings_of(&state.store, &subscribed)
        .await?
        .into_iter()
        .map(|settings| (settings.user_uuid, settings))
        .collect();
    let wanted: Vec<Uuid> = subscribed
        .into_iter()
        .filter(|user| settings.get(user).is_none_or(|s| s.wants(conversation_id)))
        .collect();
    let online = state.presence.online(&wanted).await?;
    let away: HashSet<Uuid> = wanted
        .into_iter()
        .zip(online)
        .filter_map(|(user, online)| (!online).then_some(user))
        .collect();
    if away.is_empty() {
        return Ok(());
    }
    // Deleted since: nothing to open.
    let Some(conversation) = conversations::find(&state.store, conversation_id).await? else {
        return Ok(());
    };
    let title = title(state, message.sender_uuid, &conversation).await;
    let urgency = if conversation.is_group {
        "normal"
    } else {
        "high"
    };
    for subscription in subscriptions
        .into_iter()
        .filter(|subscription| away.contains(&subscription.user_uuid))
    {
        let hide = settings
            .get(&subscription.user_uuid)
            .is_some_and(|s| s.hide_content);
        let payload = PushPayload {
            kind: "message".to_owned(),
            conversation_id: message.conversation_id.clone(),
            message_id: message.id.clone(),
            sender_uuid: message.sender_uuid,
            title: title.clone(),
            preview: (!hide)
                .then(|| preview(&message.text).or_else(|| files_preview(message)))
                .flatten(),
            url: format!("/chat?c={}", message.conversation_id),
        };
        // Waits for room when many deliveries are in flight, slowing the consumer down.
        let permit = push
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        let (state, push) = (state.clone(), push.clone());
        let topic = conversation_id.to_hex();
        tokio::spawn(async move {
            deliver_one(&state, &push, subscription, payload, topic, urgency).await;
            drop(permit);
        });
    }
    Ok(())
}

/// The notification's title: who wrote, and in which group.
async fn title(
    state: &AppState,
    sender: Uuid,
    conversation: &conversations::ConversationDoc,
) -> String {
    let name = match state.users.by_uuid(vec![sender]).await {
        Ok(mut users) => users.remove(&sender).map(|user| user.username),
        Err(error) => {
            tracing::debug!(error = %error, "no sender name for a push");
            None
        }
    };
    let group = conversation.group_name.as_deref();
    match (name, group) {
        (Some(name), Some(group)) => format!("{name} in {group}"),
        (Some(name), None) => name,
        (None, Some(group)) => format!("New message in {group}"),
        (None, None) => "New message".to_owned(),
    }
}

/// The start of a text, for a notification (none for an empty one).
/// A message without text: its files.
fn files_preview(message: &chat_models::api::message::MessageView) -> Option<String> {
    let first = message.attachments.first()?;
    Some(crate::domain::files_summary(
        &first.name,
        message.attachments.len(),
    ))
}

pub fn preview(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    Some(match crate::domain::head_if_longer(text, PREVIEW_CHARS) {
        Some(head) => format!("{}…", head.trim_end()),
        None => text.to_owned(),
    })
}

/// Encrypts and sends on the delivery thread; records the outcome (and removes a dead
/// subscription) here.
async fn deliver_one(
    state: &AppState,
    push: &Push,
    subscription: SubscriptionDoc,
    payload: PushPayload,
    topic: String,
    urgency: &'static str,
) {
    let id = subscription.id;
    let sending = {
        let push = push.clone();
        push.pool.clone().spawn(async move {
            match seal(&subscription, &payload) {
                Ok((endpoint, body)) => {
                    let delivery = Delivery {
                        endpoint,
                        body,
                        topic,
                        urgency,
                    };
                    deliver::send(&push, &delivery).await
                }
                Err(error) => {
                    tracing::info!(subscription = %subscription.id, error = %error,
                        "removing an unusable push subscription");
                    Outcome::Refused
                }
            }
        })
    };
    let outcome = sending.await.unwrap_or(Outcome::Failed);
    metrics::counter!("push_deliveries_total", "outcome" => outcome.label()).increment(1);
    if matches!(outcome, Outcome::Gone | Outcome::Refused) {
        if let Err(error) = store::remove(&state.store, id).await {
            tracing::warn!(error = %error, "cannot remove a dead push subscription");
        }
    }
}

/// The endpoint and the encrypted body of `payload` for `subscription`.
fn seal(subscription: &SubscriptionDoc, payload: &PushPayload) -> anyhow::Result<(Url, Vec<u8>)> {
    let endpoint = Url::parse(&subscription.endpoint)?;
    let keys = BrowserKeys::parse(&subscription.p256dh, &subscription.auth)?;
    let json = serde_json::to_vec(payload)?;
    Ok((endpoint, encrypt::encrypt(&keys, &json)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_is_the_trimmed_start_of_the_text() {
        assert_eq!(preview("  hello  ").as_deref(), Some("hello"));
        assert_eq!(preview("   "), None);
        let long = "é".repeat(PREVIEW_CHARS + 5);
        let shown = preview(&long).unwrap();
        assert_eq!(shown.chars().count(), PREVIEW_CHARS + 1);
        assert!(shown.ends_with('…'));
        assert_eq!(
            preview(&"a".repeat(PREVIEW_CHARS)).unwrap().len(),
            PREVIEW_CHARS
        );
    }

    #[test]
    fn the_largest_payload_fits_in_a_push_message() {
        let payload = PushPayload {
            kind: "message".to_owned(),
            conversation_id: "a".repeat(24),
            message_id: "b".repeat(24),
            sender_uuid: Uuid::nil(),
            // Usernames and group names are bounded far below this.
            title: format!("{} in {}", "u".repeat(64), "g".repeat(200)),
            preview: preview(&"\u{1F600}".repeat(PREVIEW_CHARS * 2)),
            url: format!("/chat?c={}", "a".repeat(24)),
        };
        assert!(serde_json::to_vec(&payload).unwrap().len() <= encrypt::MAX_PLAINTEXT);
    }
}
