//! From events to frames: every instance reads the whole event stream (durable events) and the
//! ephemeral channel (typing), and queues each frame for the sockets it holds of the users the
//! event names.

use std::sync::Arc;

use chat_models::api::ws::{Membership, ServerFrame};
use chat_models::events::{DomainEvent, EventEnvelope};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::hub::{Hub, Outbound};
use super::protocol::encode;
use crate::notices::Notice;

/// Who should see an event, and as what frame (`None`: not for sockets).
pub fn frame_for(event: DomainEvent) -> Option<(Vec<Uuid>, Outbound)> {
    use DomainEvent as E;
    let (audience, frame) = match event {
        E::MessageCreated(event) => {
            let key = (event.message.conversation_id.clone(), event.message.seq);
            let origin = (event.message.sender_uuid, event.message.nonce.clone());
            let text = encode(&ServerFrame::MessageCreated(event.message));
            return Some((event.audience, Outbound::message(key, origin, text)));
        }
        E::MessageUpdated(event) => (event.audience, ServerFrame::MessageUpdated(event.message)),
        E::MessageDeleted(event) => (event.audience, ServerFrame::MessageDeleted(event.message)),
        E::ReactionAdded(event) => (event.audience, ServerFrame::ReactionAdded(event.change)),
        E::ReactionRemoved(event) => (event.audience, ServerFrame::ReactionRemoved(event.change)),
        E::MessagePinned(event) => (event.audience, ServerFrame::MessagePinned(event.message)),
        E::MessageUnpinned(event) => (event.audience, ServerFrame::MessageUnpinned(event.message)),
        E::ConversationCreated(event) => (
            event.audience,
            ServerFrame::ConversationCreated(event.conversation),
        ),
        E::ConversationUpdated(event) => (
            event.audience,
            ServerFrame::ConversationUpdated(event.conversation),
        ),
        E::ConversationDeleted {
            audience,
            conversation_id,
        } => (
            audience,
            ServerFrame::ConversationDeleted { conversation_id },
        ),
        E::MembersAdded(event) => (
            event.audience,
            ServerFrame::MembersAdded(Membership {
                conversation: event.conversation,
                user_uuids: event.user_uuids,
                by: event.by,
            }),
        ),
        E::MemberRemoved(event) => (
            event.audience,
            ServerFrame::MemberRemoved(Membership {
                conversation: event.conversation,
                user_uuids: event.user_uuids,
                by: event.by,
            }),
        ),
        E::ReadUpdated(event) => (
            event.audience,
            ServerFrame::ReadUpdated {
                conversation_id: event.conversation_id,
                read: event.read,
            },
        ),
        E::PresenceUpdated { audience, presence } => {
            (audience, ServerFrame::PresenceUpdated(presence))
        }
        E::FriendRequestReceived(request) => (
            vec![request.sender_uuid, request.receiver_uuid],
            ServerFrame::FriendRequestReceived(request),
        ),
        E::FriendRequestAccepted(request) => (
            vec![request.sender_uuid, request.receiver_uuid],
            ServerFrame::FriendRequestAccepted(request),
        ),
        // The sender is not told of a refusal; the receiver's other devices are.
        E::FriendRequestRejected(request) => (
            vec![request.receiver_uuid],
            ServerFrame::FriendRequestRejected(request),
        ),
        E::FriendRequestCancelled(request) => (
            vec![request.sender_uuid, request.receiver_uuid],
            ServerFrame::FriendRequestCancelled(request),
        ),
        E::FriendshipRemoved {
            user_uuid,
            friend_uuid,
        } => (
            vec![user_uuid, friend_uuid],
            ServerFrame::FriendshipRemoved {
                user_uuid,
                friend_uuid,
            },
        ),
        E::UserBlocked {
            blocker_uuid,
            blocked_uuid,
        } => (
            vec![blocker_uuid],
            ServerFrame::UserBlocked {
                blocker_uuid,
                blocked_uuid,
            },
        ),
        E::UserDeleted { .. } | E::UserUpdated { .. } | E::SessionRevoked { .. } => return None,
    };
    Some((audience, Outbound::Frame(encode(&frame))))
}

/// Handles one event of the stream on this instance.
pub fn dispatch(hub: &Hub, envelope: EventEnvelope) {
    if let DomainEvent::SessionRevoked {
        user_uuid,
        session_ids,
    } = &envelope.event
    {
        let farewell = Outbound::Frame(encode(&ServerFrame::SessionRevoked {}));
        hub.revoke(*user_uuid, session_ids, &farewell);
        return;
    }
    if let Some((audience, frame)) = frame_for(envelope.event) {
        hub.deliver(&audience, &frame);
    }
}

/// An ephemeral event (typing), sent over Redis pub/sub: lost if nobody listens, never stored.
#[derive(Debug, Serialize, Deserialize)]
pub struct Ephemeral {
    /// Who should see it.
    pub audience: Vec<Uuid>,
    /// The frame, already encoded.
    pub frame: String,
}

/// The pub/sub channel of ephemeral events.
pub fn ephemeral_channel(prefix: &str) -> String {
    format!("{prefix}ephemeral")
}

/// Delivers ephemeral events from their channel and hands notices from other instances (see
/// [`crate::notices`]) to `on_notice`, until the task is dropped, subscribing again after
/// failures. `ready` is notified once subscribed.
pub async fn run_channels(
    client: redis::Client,
    prefix: String,
    hub: Arc<Hub>,
    on_notice: impl Fn(Notice) + Send + 'static,
    ready: Arc<tokio::sync::Notify>,
) {
    let ephemeral = ephemeral_channel(&prefix);
    let channels = [ephemeral.clone(), crate::notices::channel(&prefix)];
    crate::notices::listen(
        client,
        &channels,
        "ephemeral events",
        Some(&ready),
        |message| {
            let Ok(payload) = message.get_payload::<String>() else {
                return;
            };
            if message.get_channel_name() != ephemeral {
                if let Some(notice) = Notice::parse(&payload) {
                    on_notice(notice);
                }
            } else if let Ok(event) = serde_json::from_str::<Ephemeral>(&payload) {
                hub.deliver(&event.audience, &Outbound::Frame(event.frame.into()));
            }
        },
    )
    .await;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chat_models::events::FriendRequestEvent;

    use super::*;

    fn text(outbound: &Outbound) -> serde_json::Value {
        serde_json::from_str(outbound.text().as_str()).unwrap()
    }

    #[test]
    fn a_refused_request_is_not_shown_to_its_sender() {
        let (sender, receiver) = (Uuid::new_v4(), Uuid::new_v4());
        let event = FriendRequestEvent {
            request_id: 7,
            sender_uuid: sender,
            receiver_uuid: receiver,
        };
        let (audience, frame) = frame_for(DomainEvent::FriendRequestRejected(event)).unwrap();
        assert_eq!(audience, vec![receiver]);
        assert_eq!(text(&frame)["type"], "friend_request.rejected");
    }

    #[test]
    fn presence_frames_do_not_reveal_the_audience() {
        let friend = Uuid::new_v4();
        let (audience, frame) = frame_for(DomainEvent::PresenceUpdated {
            audience: vec![friend],
            presence: chat_models::api::ws::Presence {
                user_uuid: Uuid::new_v4(),
                online: true,
                last_seen: None,
            },
        })
        .unwrap();
        assert_eq!(audience, vec![friend]);
        let frame = text(&frame);
        assert_eq!(frame["type"], "presence.updated");
        assert!(frame["data"].get("audience").is_none());
        assert!(frame_for(DomainEvent::UserDeleted { user_uuid: friend }).is_none());
    }
}
